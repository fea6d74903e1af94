#!/bin/sh
# The at-least-once promise under faults, at length: the long versions of the
# broker tests in tests/integration/test_delivery.c. Each scenario runs
# `weir run` (Release build) against a broker of its own (scripts/kafka.sh on
# FAULTS_KAFKA_PORT, default 29292, which this script kills, stops and
# restarts), then takes the exact account of the run (bench/faults/account.h)
# and prints one row:
#
#   lost         input records below the committed offset with no scored event
#                and no dead letter (must be 0)
#   unprocessed  records past the committed offset with no output (0 once done)
#   duplicates   outputs beyond the first for one input (at-least-once allows
#                them after a crash; clean stops should leave none)
#   at_end       whether the group's committed offsets reached the high watermarks
#
#   bench/faults/run.sh                  every scenario
#   bench/faults/run.sh cap soak         some of them
#   FAULTS_EVENTS=1000000 bench/faults/run.sh broker-kill
#
# Scenarios: cap (200,000 events, 6 partitions, max.in.flight 1000, producer
# linger 200 ms), oversize (a 1 MiB record that is not Avro among valid ones),
# malformed (119 malformed and 10 keyless records among the events),
# broker-kill (SIGKILL mid-stream, back 10 s later), broker-stop (a clean stop
# of 30 s), scale (1 -> 3 -> 1 instances under load), kill-rebalance (SIGKILL
# of an instance while a third joins, then restarted), output-deleted (the
# output topic deleted under a running weir while events arrive, recreated 10 s
# later; weir restarted as a supervisor would whenever it exits), soak (SIGTERM
# and restart every 5 s while events arrive).
# Environment: FAULTS_EVENTS [300000] events per scenario (soak: 3x),
# FAULTS_TIMEOUT [600] seconds a scenario may take to be done,
# FAULTS_KAFKA_PORT [29292], FAULTS_WEIR (a weir binary to test instead of
# build-release/weir), FAULTS_KEEP=1 keeps the work folder.
set -eu
cd "$(dirname "$0")/../.."
root=$(pwd)
events=${FAULTS_EVENTS:-300000}
export WEIR_KAFKA_PORT=${FAULTS_KAFKA_PORT:-29292}

scripts/setup.sh >/dev/null
cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DWEIR_TESTS=OFF >/dev/null
ninja -C build-release weir weir_account_tool >/dev/null
weir=${FAULTS_WEIR:-$root/build-release/weir}
account="$root/build-release/bench/weir_account"
scripts/kafka.sh start >/dev/null
bootstrap=$(scripts/kafka.sh bootstrap)
work=$(mktemp -d /tmp/weir-faults-XXXXXX)
pids=""
cleanup() {
    for p in $pids; do kill -9 "$p" 2>/dev/null || true; done
    [ "${FAULTS_KEEP:-0}" = 1 ] || rm -rf "$work"
}
trap cleanup EXIT INT TERM

topic() { scripts/kafka.sh topic "$@"; }

# setup NAME PARTITIONS [EXTRA WEIR.CONF LINES [INPUT TOPIC CONFIGS...]]: topics, weir.conf
setup() {
    name=$1 partitions=$2 extra=${3:-}
    shift $(($# >= 3 ? 3 : $#))
    run=faults-$name-$(date +%s)
    in=$run-in out=$run-scored dlq=$run-dlq group=$run-group
    topic "$in" "$partitions" "$@"
    topic "$out" "$partitions"
    topic "$dlq" 1
    dir="$work/$name"
    mkdir -p "$dir"
    cat >"$dir/weir.conf" <<CONF
kafka.bootstrap.servers = $bootstrap
kafka.group.id = $group
input.topics = $in
input.schema = $root/schemas/transaction.avsc
output.topic = $out
dlq.topic = $dlq
model.path = $root/examples/model.json
http.listen =
commit.interval = 1s
$extra
CONF
}

# start N: weir run with its own /metrics port; prints the pid
start() {
    port=$((19500 + $1))
    "$weir" run -c "$dir/weir.conf" -X http.listen="127.0.0.1:$port" >>"$dir/weir-$1.log" 2>&1 &
    pids="$pids $!"
    echo $!
}

metric() { curl -sf "http://127.0.0.1:$((19500 + $1))/metrics" 2>/dev/null | awk -v m="$2" '$1 == m { print $2 }'; }

wait_metric() { # N METRIC AT_LEAST (for FAULTS_TIMEOUT seconds at most)
    give_up=$(($(date +%s) + ${FAULTS_TIMEOUT:-600}))
    until [ "$(metric "$1" "$2" | cut -d. -f1)" -ge "$3" ] 2>/dev/null ||
        [ "$(date +%s)" -ge "$give_up" ]; do sleep 0.2; done
}

stop() { kill -TERM "$1" 2>/dev/null && wait "$1" || true; }

gen() { # COUNT [RATE] [SEED]
    "$weir" gen -b "$bootstrap" --out "topic:$in" --count "$1" ${2:+--rate "$2"} --seed "${3:-7}" -q
}

# waits until every input partition is committed to its high watermark, for
# FAULTS_TIMEOUT seconds at most (a run that stalls is reported as it stands)
wait_done() {
    give_up=$(($(date +%s) + ${FAULTS_TIMEOUT:-600}))
    until "$account" "$bootstrap" "$group" "$in" "$out" "$dlq" >"$dir/account" 2>/dev/null; do
        if [ "$(date +%s)" -ge "$give_up" ]; then
            echo "  ($name: not done after ${FAULTS_TIMEOUT:-600} s)" >&2
            return 0
        fi
        sleep 2
    done
}

row() { # SCENARIO: one line from the account of the current run
    "$account" "$bootstrap" "$group" "$in" "$out" "$dlq" >"$dir/account" || true
    awk -v s="$1" '{
        for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        printf "%-16s %9s %9s %6s %6s %11s %10s %6s\n", s, v["input"], v["scored"], v["dead"],
               v["lost"], v["unprocessed"], v["duplicates"], v["committed_at_end"]
    }' "$dir/account"
}

scenario_cap() {
    setup cap 6 "max.in.flight = 1000
kafka.producer.linger.ms = 200"
    gen 200000
    w=$(start 1)
    wait_done
    stop "$w"
    row cap
}

scenario_oversize() {
    setup oversize 2 "" max.message.bytes=4000000
    gen $((events / 2)) "" 8
    head -c 1048576 /dev/urandom | base64 -w0 | head -c 1048576 >"$work/big"
    kcat -P -b "$bootstrap" -t "$in" -k big-garbage -X message.max.bytes=4000000 "$work/big" 2>/dev/null ||
        echo "  (the broker refused the 1 MiB input record: raise the input topic's max.message.bytes)" >&2
    gen $((events / 2)) "" 9
    w=$(start 1)
    wait_done
    stop "$w"
    row oversize
}

scenario_malformed() {
    setup malformed 3
    gen "$events" "" 10 &
    g=$!
    i=0
    while [ $i -lt 119 ]; do
        printf 'not avro %d' $i | kcat -P -b "$bootstrap" -t "$in" -k "bad-$i"
        i=$((i + 1))
    done
    i=0
    while [ $i -lt 10 ]; do
        printf 'keyless %d' $i | kcat -P -b "$bootstrap" -t "$in"
        i=$((i + 1))
    done
    wait $g
    w=$(start 1)
    wait_done
    stop "$w"
    row malformed
}

scenario_broker_kill() {
    setup broker-kill 4
    gen "$events" "" 11
    w=$(start 1)
    wait_metric 1 weir_events_scored_total $((events / 5))
    scripts/kafka.sh kill >/dev/null
    sleep 10
    scripts/kafka.sh start >/dev/null
    wait_done
    stop "$w"
    row broker-kill
}

scenario_broker_stop() {
    setup broker-stop 4
    gen "$events" "" 12
    w=$(start 1)
    wait_metric 1 weir_events_scored_total $((events / 5))
    scripts/kafka.sh stop >/dev/null
    sleep 30
    scripts/kafka.sh start >/dev/null
    wait_done
    stop "$w"
    row broker-stop
}

scenario_scale() {
    setup scale 6
    a=$(start 1)
    gen "$events" 20000 13 &
    g=$!
    wait_metric 1 weir_events_scored_total $((events / 5))
    b=$(start 2)
    c=$(start 3)
    wait_metric 1 weir_events_scored_total $((events / 2))
    stop "$b"
    stop "$c"
    wait $g
    wait_done
    stop "$a"
    row scale-1-3-1
}

scenario_kill_rebalance() {
    setup kill-rebalance 6
    a=$(start 1)
    b=$(start 2)
    gen "$events" 20000 14 &
    g=$!
    wait_metric 2 weir_events_scored_total 5000
    c=$(start 3)
    sleep 1
    kill -9 "$b"
    b=$(start 2)
    wait $g
    wait_done
    stop "$a"
    stop "$b"
    stop "$c"
    row kill-rebalance
}

scenario_output_deleted() {
    setup output-deleted 2
    w=$(start 1)
    wait_metric 1 weir_assigned_partitions 2
    # the output topic disappears under a running weir; events keep coming
    scripts/kafka.sh delete "$out"
    gen "$events" 20000 15 &
    g=$!
    deadline=$(($(date +%s) + 10))
    restarts=0
    while [ "$(date +%s)" -lt "$deadline" ]; do
        if ! kill -0 "$w" 2>/dev/null; then w=$(start 1); restarts=$((restarts + 1)); fi
        sleep 0.5
    done
    topic "$out" 2
    wait $g
    give_up=$(($(date +%s) + ${FAULTS_TIMEOUT:-600}))
    until "$account" "$bootstrap" "$group" "$in" "$out" "$dlq" >/dev/null 2>&1 ||
        [ "$(date +%s)" -ge "$give_up" ]; do
        # as a supervisor would: start it again when it exits
        if ! kill -0 "$w" 2>/dev/null; then w=$(start 1); restarts=$((restarts + 1)); fi
        sleep 2
    done
    stop "$w"
    echo "  (output-deleted: $restarts restarts)" >&2
    row output-deleted
}

scenario_soak() {
    setup soak 4
    gen $((3 * events)) 30000 17 &
    g=$!
    w=$(start 1)
    restarts=0
    while kill -0 "$g" 2>/dev/null; do
        sleep 5
        stop "$w"
        w=$(start 1)
        restarts=$((restarts + 1))
    done
    wait_done
    stop "$w"
    echo "  (soak: $restarts restarts)" >&2
    row soak
}

all="cap oversize malformed broker-kill broker-stop scale kill-rebalance output-deleted soak"
[ $# -gt 0 ] && all="$*"
echo "$("$weir" version | head -1), commit $(git rev-parse --short HEAD), $(date -u +%Y-%m-%d), $events events per scenario"
printf "%-16s %9s %9s %6s %6s %11s %10s %6s\n" scenario input scored dead lost unprocessed duplicates at_end
for s in $all; do
    "scenario_$(echo "$s" | tr - _)"
done
