#!/bin/sh
# A real PostgreSQL server of its own (Debian's postgresql package, never the
# system's cluster) on loopback, for the tests and benchmarks of
# `weir batch --out postgresql://…`. Idempotent: start reuses a running
# server and initialises the data folder only once.
#
#   scripts/postgres.sh start      start (or reuse) the server; returns when it accepts connections
#   scripts/postgres.sh stop       stop it and keep its data
#   scripts/postgres.sh status     "running <url>" (exit 0) or "stopped" (exit 1)
#   scripts/postgres.sh url        print the connection URL (postgresql://weir@127.0.0.1:PORT/weir)
#   scripts/postgres.sh logs       print the path of the server log
#   scripts/postgres.sh reset      stop it and delete its data
#
# Environment: WEIR_PG_PORT [25432]; WEIR_PG_STATE [~/.cache/weir/postgres-PORT;
# build/postgres-PORT when run as root, since the server then runs as the
# postgres user, who cannot enter root's home]. Authentication is "trust" on
# loopback only: a server for tests, not for data.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
port=${WEIR_PG_PORT:-25432}
if [ "$(id -u)" -eq 0 ]; then
    state=${WEIR_PG_STATE:-$root/build/postgres-$port}
else
    state=${WEIR_PG_STATE:-${WEIR_CACHE:-${HOME:-/tmp}/.cache/weir}/postgres-$port}
fi
data=$state/data
log=$state/server.log
url="postgresql://weir@127.0.0.1:$port/weir"

die() { echo "postgres.sh: $*" >&2; exit 1; }

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$bindir" ] && [ -x "$bindir/pg_ctl" ] || die "PostgreSQL is not installed (scripts/setup.sh installs it)"

# The server refuses to run as root: as root, it runs as the postgres user.
as_server() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

running() { as_server "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; }

start() {
    mkdir -p "$state"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$state"
    # One start at a time: two tests may ask for the server together.
    exec 9>"$state/.lock"
    flock 9
    if running; then
        echo "running $url"
        return 0
    fi
    if [ ! -f "$data/PG_VERSION" ]; then
        rm -rf "$data"
        as_server "$bindir/initdb" -D "$data" -U weir --auth=trust -E UTF8 --locale=C.UTF-8 \
            >"$state/initdb.log" 2>&1 || die "initdb failed: see $state/initdb.log"
    fi
    as_server "$bindir/pg_ctl" -D "$data" -l "$log" -w -t 60 \
        -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$state" \
        start >/dev/null 9>&- || die "the server did not start: see $log"
    if ! as_server "$bindir/psql" -h 127.0.0.1 -p "$port" -U weir -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = 'weir'" | grep -q 1; then
        as_server "$bindir/createdb" -h 127.0.0.1 -p "$port" -U weir weir
    fi
    echo "running $url"
}

stop() {
    if [ -f "$data/PG_VERSION" ] && running; then
        as_server "$bindir/pg_ctl" -D "$data" -m fast -w stop >/dev/null
    fi
}

case ${1:-} in
start) start ;;
stop) stop ;;
status)
    if [ -f "$data/PG_VERSION" ] && running; then echo "running $url"; else echo stopped; exit 1; fi
    ;;
url) echo "$url" ;;
logs) echo "$log" ;;
reset)
    stop
    rm -rf "$state"
    ;;
*)
    sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
