#!/bin/sh
# weir's main job, end to end, on this machine:
#   installs what is missing (Debian packages, the Kafka jars), builds weir,
#   starts a local Apache Kafka broker, creates fresh topics, generates card
#   transactions (plus a few malformed records; from the middle on, amounts 50%
#   higher), runs `weir run` as a consumer group member, shows live progress
#   from its /metrics, then prints scored events, dead letters, the drift
#   alerts the shift raised, and the totals, and stops weir with SIGTERM.
#   A broker the demo started is stopped at the end (DEMO_KEEP_BROKER=1 keeps
#   it running for a next run); a broker that was already running is left so.
#   What stays: demo-out/ (weir's log, the last /metrics page) and the topics.
# Environment: DEMO_EVENTS [200000], DEMO_RATE [20000 events/s],
#              DEMO_HTTP_PORT [19464], DEMO_KEEP_BROKER [0], WEIR_KAFKA_PORT [29092].
set -eu
cd "$(dirname "$0")/.."
root=$(pwd)
events=${DEMO_EVENTS:-200000}
rate=${DEMO_RATE:-20000}
port=${DEMO_HTTP_PORT:-19464}
out="$root/demo-out"

say() { printf '\n\033[1m== %s ==\033[0m\n' "$*"; }

say "set-up and build"
scripts/setup.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C build weir >/dev/null
weir="$root/build/weir"
"$weir" version

say "local Apache Kafka broker"
started_broker=0
scripts/kafka.sh status >/dev/null 2>&1 || started_broker=1
scripts/kafka.sh start
bootstrap=$(scripts/kafka.sh bootstrap)
stop_command="scripts/kafka.sh stop"
[ -n "${WEIR_KAFKA_PORT:-}" ] && stop_command="WEIR_KAFKA_PORT=$WEIR_KAFKA_PORT $stop_command"

# What the demo leaves: a broker it started is stopped, unless asked to keep
# it; either way the user is told whether a broker is still running.
weir_pid=
finish() {
    if [ -n "$weir_pid" ]; then kill "$weir_pid" 2>/dev/null || true; fi
    if [ "$started_broker" = 1 ] && [ "${DEMO_KEEP_BROKER:-0}" != 1 ]; then
        say "stopping the Kafka broker the demo started (DEMO_KEEP_BROKER=1 keeps it)"
        scripts/kafka.sh stop || true
    else
        say "the Kafka broker at $bootstrap is still running (a JVM, heap up to ${WEIR_KAFKA_HEAP:-768m})"
        echo "  stop it with: $stop_command"
    fi
}
trap finish EXIT
trap 'exit 130' INT TERM

run=demo-$(date +%Y%m%d%H%M%S)
in=$run-transactions
scored=$run-scored
dlq=$run-dlq
alerts=$run-drift-alerts
say "topics $in (4 partitions), $scored, $dlq, $alerts"
scripts/kafka.sh topic "$in" 4
scripts/kafka.sh topic "$scored" 4
scripts/kafka.sh topic "$dlq" 1
scripts/kafka.sh topic "$alerts" 1

rm -rf "$out"
mkdir -p "$out"
say "weir run (log: demo-out/weir.log, metrics: http://127.0.0.1:$port/metrics)"
"$weir" run -c examples/weir.conf -X kafka.bootstrap.servers="$bootstrap" \
    -X kafka.group.id="$run" -X input.topics="$in" -X output.topic="$scored" \
    -X dlq.topic="$dlq" -X alerts.topic="$alerts" -X http.listen="127.0.0.1:$port" \
    >"$out/weir.log" 2>&1 &
weir_pid=$!

shift_at=$((events / 2))
say "weir gen: $events transactions at $rate/s (amount x1.5 from event $shift_at), and 3 malformed records"
"$weir" gen -b "$bootstrap" --out "topic:$in" --count "$events" --rate "$rate" --seed 42 \
    --shift "amount=1.5@$shift_at" -q &
gen_pid=$!
printf 'this is not avro' | kcat -P -b "$bootstrap" -t "$in" -k bad-not-avro
printf '\000\000\000\000\143\002\004' | kcat -P -b "$bootstrap" -t "$in" -k bad-schema-id
printf '\000\000\000\000\001\014tx-' | kcat -P -b "$bootstrap" -t "$in" -k bad-truncated
total=$((events + 3))

metric() { awk -v m="$1" '$1 == m { print $2 }' "$out/metrics"; }
sum_metric() { awk -v m="$1" 'index($1, m) == 1 { s += $2 } END { printf "%d", s }' "$out/metrics"; }

printf '\n  %7s %10s %10s %8s %8s %10s\n' seconds consumed scored dead lag events/s
start=$(date +%s)
last=0
while :; do
    sleep 1
    if ! curl -sf "http://127.0.0.1:$port/metrics" >"$out/metrics"; then
        kill -0 $weir_pid 2>/dev/null || { tail -20 "$out/weir.log"; exit 1; }
        continue
    fi
    consumed=$(metric weir_events_consumed_total)
    scored_n=$(metric weir_events_scored_total)
    dead=$(sum_metric 'weir_dead_letters_total{')
    lag=$(sum_metric 'weir_consumer_lag{')
    printf '  %7d %10d %10d %8d %8d %10d\n' $(($(date +%s) - start)) "$consumed" "$scored_n" \
        "$dead" "$lag" $((consumed - last))
    last=$consumed
    delivered=$(sum_metric 'weir_produced_total{')
    [ "$delivered" -ge "$total" ] && break
    [ $(($(date +%s) - start)) -gt 600 ] && { echo "demo: timed out"; exit 1; }
done
wait $gen_pid

say "a few scored events ($scored)"
"$weir" schema scored --input schemas/transaction.avsc >"$out/scored.avsc"
kcat -C -b "$bootstrap" -t "$scored" -c 5 -e -q -f '%R%s' | /usr/bin/python3 scripts/show_scored.py "$out/scored.avsc"

say "dead letters ($dlq): original record + weir.* headers"
kcat -C -b "$bootstrap" -t "$dlq" -e -q -f '  key=%k %h\n'

say "drift alerts ($alerts, key model/feature/test) and what weir logged"
kcat -C -b "$bootstrap" -t "$alerts" -e -q -f '  key=%k\n'
grep -E 'msg="drift (alert|recovered)"' "$out/weir.log" | sed 's/^ts=[^ ]* /  /' | cut -c1-190

say "totals"
grep -E '^weir_(events_consumed|events_scored|produced|delivery_errors|backpressure_pauses|drift_evaluations)|^weir_(dead_letters|drift_alerts)_total.* [1-9]' "$out/metrics" | sed 's/^/  /'
awk '/^weir_batch_duration_seconds_(sum|count)/ { v[$1] = $2 } END {
    if (v["weir_batch_duration_seconds_count"] > 0)
        printf "  mean batch time %.2f ms over %d batches\n",
            1000 * v["weir_batch_duration_seconds_sum"] / v["weir_batch_duration_seconds_count"],
            v["weir_batch_duration_seconds_count"] }' "$out/metrics"

say "SIGTERM: stop consuming, flush, commit, leave the group"
kill -TERM $weir_pid
code=0
wait $weir_pid || code=$?
weir_pid=
tail -n 3 "$out/weir.log"
echo "weir exited with $code"
exit $code
