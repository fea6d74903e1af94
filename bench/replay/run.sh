#!/bin/sh
# Replay throughput against a raw librdkafka read of the same range, on the
# same broker, one run each, as a ratio.
#
#   bench/replay/run.sh                   # 1,000,000 events, 4 partitions
#   REPLAY_EVENTS=200000 bench/replay/run.sh
#
# What it does:
#   1. builds weir and replay_raw_read (cmake Release in build-release);
#   2. starts the local broker (scripts/kafka.sh, WEIR_KAFKA_PORT as usual) and
#      writes REPLAY_EVENTS [1000000] events with `weir gen --seed 7` to a fresh
#      topic of REPLAY_PARTITIONS [4] partitions;
#   3. times replay_raw_read (bench/replay/raw_read.c): every partition assigned
#      from its low to its high watermark, records counted, nothing decoded;
#   4. times `weir replay --in topic:T` over the same range with the example
#      model (decode, transforms, model, encode, drift monitor, the merge by
#      event time), writing its report (REPLAY_REPORT=0 leaves it out);
#   5. prints both rates and replay / raw, with the commit measured and the
#      date (as README.md cites them), and deletes the topic (REPLAY_KEEP=1
#      keeps it).
#
# Both times run from just before the process starts to its exit (connection
# and metadata included). The broker shares the machine's cores with whichever
# side is measured.
set -eu
cd "$(dirname "$0")/../.."
root=$(pwd)
events=${REPLAY_EVENTS:-1000000}
parts=${REPLAY_PARTITIONS:-4}

echo "== build (Release) =="
cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DWEIR_TESTS=OFF >/dev/null
ninja -C build-release -j2 weir replay_raw_read >/dev/null
weir=$root/build-release/weir
raw=$root/build-release/bench/replay_raw_read

echo "== broker and $events events on $parts partitions =="
bootstrap=$(scripts/kafka.sh start | sed -n 's/^running //p')
topic=bench-replay-$$-$(date +%s)
scripts/kafka.sh topic "$topic" "$parts" >/dev/null
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$weir" gen -b "$bootstrap" --out "topic:$topic" --count "$events" --seed 7 -q
cat >"$dir/weir.conf" <<CONF
kafka.bootstrap.servers = $bootstrap
input.topics = $topic
input.schema = $root/schemas/transaction.avsc
model.path = $root/examples/model.json
CONF

now() { date +%s.%N; }
# CPU seconds (user + system) of the children of the calling subshell, from the
# second line of `times` ("0m1.250s 0m0.100s"); `times` writes to a file, as
# in a pipeline it would run in a child of its own.
children_cpu() {
    times >"$dir/times"
    sed -n 2p "$dir/times" | awk '{ for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); s += a[1] * 60 + a[2] } print s }'
}

echo "== raw librdkafka read =="
t0=$(now)
set -- $("$raw" "$bootstrap" "$topic"; children_cpu)
t1=$(now)
raw_records=$1
raw_cpu=$4
raw_s=$(awk "BEGIN { print $t1 - $t0 }")

echo "== weir replay =="
report=""
if [ "${REPLAY_REPORT:-1}" = 1 ]; then
    report="--report $dir/report.json"
fi
t0=$(now)
# shellcheck disable=SC2086
replay_cpu=$("$weir" replay -c "$dir/weir.conf" --in "topic:$topic" -q $report 2>"$dir/replay.log"
    children_cpu)
t1=$(now)
replay_s=$(awk "BEGIN { print $t1 - $t0 }")
replay_events=$(sed -n 's/^weir replay: \([0-9]*\) events.*/\1/p' "$dir/replay.log")

raw_rate=$(awk "BEGIN { print $raw_records / $raw_s }")
replay_rate=$(awk "BEGIN { print $replay_events / $replay_s }")
if [ -z "$replay_events" ]; then
    echo "weir replay failed:" >&2
    cat "$dir/replay.log" >&2
    exit 1
fi
printf '\n%-22s %10s %10s %12s %12s\n' "" records seconds "records/s" "CPU-seconds"
printf '%-22s %10d %10.2f %12.0f %12.2f\n' "raw librdkafka read" "$raw_records" "$raw_s" "$raw_rate" "$raw_cpu"
printf '%-22s %10d %10.2f %12.0f %12.2f\n' "weir replay" "$replay_events" "$replay_s" "$replay_rate" "$replay_cpu"
printf '\nreplay / raw read: %.2f   (nproc %s, load %s)\n' \
    "$(awk "BEGIN { print $replay_rate / $raw_rate }")" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
dirty=""
git diff --quiet HEAD -- . 2>/dev/null || dirty=" (with uncommitted changes)"
printf '(`bench/replay/run.sh`, commit %s%s, %s)\n' \
    "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" "$dirty" "$(date -u +%Y-%m-%d)"
if [ "${REPLAY_KEEP:-0}" != 1 ]; then
    scripts/kafka.sh delete "$topic" || true
fi
