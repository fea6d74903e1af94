#!/bin/sh
# A real single-node Apache Kafka broker (KRaft, combined broker+controller) on
# loopback, for weir's tests, demo and benchmarks. The jars come from Maven
# Central (scripts/kafka/pom.xml) and are cached; nothing is downloaded when the
# cache is warm.
#
#   scripts/kafka.sh start            start (or reuse) the broker; returns when it answers metadata
#   scripts/kafka.sh stop             stop it and keep its data
#   scripts/kafka.sh kill             SIGKILL it (a crash, for fault tests); data kept
#   scripts/kafka.sh status           "running <bootstrap>" (exit 0) or "stopped" (exit 1)
#   scripts/kafka.sh bootstrap        print the bootstrap address
#   scripts/kafka.sh topic NAME [P] [KEY=VALUE...]
#                                     create topic NAME with P partitions (default 3) and
#                                     topic configs (max.message.bytes=...), if absent
#   scripts/kafka.sh delete NAME      delete topic NAME
#   scripts/kafka.sh logs             print the path of the broker log
#   scripts/kafka.sh reset            stop and delete all data
#   scripts/kafka.sh jars             only resolve the jars
#   scripts/kafka.sh secure [plain|scram]
#                                     print weir.conf lines for the SASL_SSL listener
#
# Besides the plaintext listener, the broker has a SASL_SSL listener on
# PORT+2: TLS with a certificate from a local CA made with openssl at set-up,
# and user "weir" for SASL PLAIN and for SCRAM-SHA-256 (created with Kafka's
# own kafka-configs tool); its password and the CA are kept in STATE/tls.
# librdkafka before 2.6.1 cannot do SCRAM with Kafka 4 brokers (a nonce bug).
#
# Environment: WEIR_KAFKA_PORT [29092] (the controller uses PORT+1, SASL_SSL PORT+2),
# WEIR_KAFKA_STATE [/tmp/weir-kafka-PORT] (data, config and server.log),
# WEIR_CACHE [~/.cache/weir] (the jars), WEIR_KAFKA_HEAP [768m].
set -eu

here=$(cd "$(dirname "$0")" && pwd)
port=${WEIR_KAFKA_PORT:-29092}
cport=$((port + 1))
sport=$((port + 2))
state=${WEIR_KAFKA_STATE:-/tmp/weir-kafka-$port}
cache=${WEIR_CACHE:-${HOME:-/root}/.cache/weir}
heap=${WEIR_KAFKA_HEAP:-768m}
kafka_version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/kafka/pom.xml")
libs="$cache/kafka-$kafka_version/libs"
bootstrap="127.0.0.1:$port"
log="$state/server.log"
pidfile="$state/kafka.pid"
tls="$state/tls"
scram_user=weir

die() { echo "kafka.sh: $*" >&2; exit 1; }

jars() {
    if [ -f "$libs/.complete" ] && [ "$(cat "$libs/.complete")" = "$(cksum < "$here/kafka/pom.xml")" ]; then
        return 0
    fi
    command -v mvn >/dev/null || die "mvn not found (run scripts/setup.sh)"
    echo "kafka.sh: resolving Apache Kafka $kafka_version jars with Maven into $libs" >&2
    rm -rf "$libs"
    mkdir -p "$libs"
    mvn -q -B -f "$here/kafka/pom.xml" dependency:copy-dependencies \
        -DoutputDirectory="$libs" -DincludeScope=runtime >&2 ||
        die "maven could not resolve the Kafka jars"
    cksum < "$here/kafka/pom.xml" > "$libs/.complete"
}

java_run() {
    # shellcheck disable=SC2086
    java -Xms128m -Xmx"$heap" -XX:+UseG1GC -Djava.awt.headless=true \
        -Dlog4j2.configurationFile="$state/log4j2.properties" \
        -cp "$libs/*" "$@"
}

running() {
    [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

answers_metadata() {
    kcat -b "$bootstrap" -L -m 2 -X topic.metadata.refresh.interval.ms=-1 >/dev/null 2>&1
}

# A CA, a broker certificate for 127.0.0.1/localhost signed by it (in a
# PKCS12 keystore) and the SCRAM password: made once per state folder.
make_tls() {
    [ -f "$tls/.complete" ] && return 0
    command -v openssl >/dev/null || die "openssl not found (run scripts/setup.sh)"
    rm -rf "$tls"
    mkdir -p "$tls"
    chmod 700 "$tls"
    (
        cd "$tls"
        openssl rand -hex 16 > scram.password
        openssl rand -hex 16 > keystore.password
        openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=weir test CA" \
            -keyout ca.key -out ca.pem
        openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
            -keyout broker.key -out broker.csr
        printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > broker.ext
        openssl x509 -req -in broker.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
            -days 3650 -extfile broker.ext -out broker.pem
        openssl pkcs12 -export -in broker.pem -inkey broker.key -name broker \
            -passout "file:keystore.password" -out broker.p12
    ) >"$state/tls.log" 2>&1 || { cat "$state/tls.log" >&2; die "making the TLS certificates failed"; }
    touch "$tls/.complete"
}

# The SCRAM user, through the plaintext listener (once per state folder).
make_user() {
    [ -f "$tls/.user" ] && return 0
    pw=$(cat "$tls/scram.password")
    java_run org.apache.kafka.tools.ConfigCommand --bootstrap-server "$bootstrap" --alter \
        --add-config "SCRAM-SHA-256=[iterations=8192,password=$pw]" \
        --entity-type users --entity-name "$scram_user" >"$state/user.log" 2>&1 ||
        { sed "s/$pw/[redacted]/g" "$state/user.log" >&2; die "creating the SCRAM user failed"; }
    touch "$tls/.user"
}

secure() {
    [ -f "$tls/.complete" ] || die "no TLS set-up yet (scripts/kafka.sh start)"
    case "${1:-plain}" in
    plain) mechanism=PLAIN ;;
    scram) mechanism=SCRAM-SHA-256 ;;
    *) die "usage: kafka.sh secure [plain|scram]" ;;
    esac
    cat <<CONF
kafka.bootstrap.servers = 127.0.0.1:$sport
kafka.security.protocol = SASL_SSL
kafka.sasl.mechanism = $mechanism
kafka.sasl.username = $scram_user
kafka.sasl.password = $(cat "$tls/scram.password")
kafka.ssl.ca.location = $tls/ca.pem
CONF
}

write_config() {
    mkdir -p "$state/data"
    make_tls
    cat > "$state/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport,SASL_SSL://127.0.0.1:$sport
advertised.listeners=PLAINTEXT://127.0.0.1:$port,SASL_SSL://127.0.0.1:$sport
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL
sasl.enabled.mechanisms=SCRAM-SHA-256,PLAIN
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$scram_user="$(cat "$tls/scram.password")";
ssl.keystore.type=PKCS12
ssl.keystore.location=$tls/broker.p12
ssl.keystore.password=$(cat "$tls/keystore.password")
ssl.client.auth=none
inter.broker.listener.name=PLAINTEXT
log.dirs=$state/data
num.partitions=3
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=8
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
log.retention.hours=24
log.segment.bytes=67108864
PROPS
    cat > "$state/log4j2.properties" <<PROPS
status = warn
appender.file.type = File
appender.file.name = file
appender.file.fileName = $log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.file.ref = file
logger.kafka.name = kafka
logger.kafka.level = warn
logger.apache.name = org.apache.kafka
logger.apache.level = warn
logger.started.name = kafka.server.KafkaRaftServer
logger.started.level = info
PROPS
}

start() {
    jars
    if running && answers_metadata; then
        make_user
        echo "running $bootstrap"
        return 0
    fi
    command -v java >/dev/null || die "java not found (run scripts/setup.sh)"
    command -v kcat >/dev/null || die "kcat not found (run scripts/setup.sh)"
    if answers_metadata; then
        die "something else already listens on $bootstrap; set WEIR_KAFKA_PORT"
    fi
    write_config
    if [ ! -f "$state/data/meta.properties" ]; then
        java_run kafka.tools.StorageTool format \
            -t "$(java_run kafka.tools.StorageTool random-uuid)" \
            -c "$state/server.properties" >"$state/format.log" 2>&1 ||
            { cat "$state/format.log" >&2; die "formatting the KRaft storage failed"; }
    fi
    # The broker must outlive this script and the shell that started it.
    nohup sh -c "exec java -Xms128m -Xmx$heap -XX:+UseG1GC -Djava.awt.headless=true \
        -Dlog4j2.configurationFile='$state/log4j2.properties' -cp '$libs/*' \
        kafka.Kafka '$state/server.properties'" >"$state/stdout.log" 2>&1 &
    echo $! > "$pidfile"
    deadline=$(($(date +%s) + ${WEIR_KAFKA_START_TIMEOUT:-90}))
    while ! answers_metadata; do
        if ! running; then
            tail -n 30 "$state/stdout.log" "$log" >&2 2>/dev/null || true
            die "the broker exited during start-up; see $log"
        fi
        [ "$(date +%s)" -lt "$deadline" ] || die "the broker did not answer metadata on $bootstrap in time; see $log"
        sleep 0.3
    done
    make_user
    echo "running $bootstrap"
}

stop() {
    if running; then
        pid=$(cat "$pidfile")
        kill "$pid"
        deadline=$(($(date +%s) + 60))
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

crash() {
    if running; then
        pid=$(cat "$pidfile")
        kill -9 "$pid"
        while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
    fi
    rm -f "$pidfile"
    echo "killed"
}

topic() {
    [ $# -ge 1 ] || die "usage: kafka.sh topic NAME [PARTITIONS] [KEY=VALUE...]"
    running || die "the broker is not running (scripts/kafka.sh start)"
    name=$1 partitions=${2:-3}
    shift $(($# >= 2 ? 2 : 1))
    configs=""
    for kv in "$@"; do configs="$configs --config $kv"; done
    # shellcheck disable=SC2086
    java_run org.apache.kafka.tools.TopicCommand --bootstrap-server "$bootstrap" \
        --create --if-not-exists --topic "$name" --partitions "$partitions" \
        --replication-factor 1 $configs >/dev/null
}

delete() {
    [ $# -eq 1 ] || die "usage: kafka.sh delete NAME"
    running || die "the broker is not running (scripts/kafka.sh start)"
    java_run org.apache.kafka.tools.TopicCommand --bootstrap-server "$bootstrap" \
        --delete --topic "$1" >/dev/null
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
start) start ;;
stop) stop ;;
kill) crash ;;
status) if running && answers_metadata; then echo "running $bootstrap"; else echo "stopped"; exit 1; fi ;;
bootstrap) echo "$bootstrap" ;;
topic) topic "$@" ;;
delete) delete "$@" ;;
logs) echo "$log" ;;
reset) stop >/dev/null; rm -rf "$state"; echo "reset" ;;
jars) jars ;;
secure) secure "$@" ;;
-h | --help | help) sed -n '2,31s/^# \{0,1\}//p' "$0" ;;
*) sed -n '2,31s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
esac
