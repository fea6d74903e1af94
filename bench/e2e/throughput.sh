#!/bin/sh
# End-to-end throughput against the real local broker: `weir run` (Release
# build) versus the Python stack people usually write for the same job
# (bench/e2e/python_baseline.py: confluent-kafka + fastavro + numpy +
# scikit-learn), on the same topic, in one run.
#
#   bench/e2e/throughput.sh            # 1,000,000 events, 4 partitions
#   E2E_EVENTS=200000 bench/e2e/throughput.sh
#   E2E_CONSUMER="max.partition.fetch.bytes=8388608" bench/e2e/throughput.sh
#
# E2E_WEIR: a weir binary to measure instead of building build-release/weir.
# E2E_CONSUMER: space-separated librdkafka consumer properties given to both
# sides (weir: kafka.consumer.KEY; Python: the Consumer config). Unset, both
# run librdkafka's defaults plus weir's (which the baseline copies).
#
# What it does:
#   1. builds weir (cmake Release in build-release) and, once, a venv in
#      bench/e2e/.venv with confluent-kafka, fastavro, numpy and scikit-learn
#      from PyPI;
#   2. starts the local broker (scripts/kafka.sh) and creates fresh topics: the
#      input with E2E_PARTITIONS [4] partitions, an output and a DLQ per side;
#   3. writes E2E_EVENTS [1000000] events with `weir gen --seed 7` (Confluent
#      framing, key = card id);
#   4. starts `weir run` (examples/model.json, batch.max 512, commit.interval 1s,
#      one instance, its drift monitor on as always; no labels or alerts
#      topic) and measures from just before its start until its group's
#      committed offsets reach the high watermark of every input partition
#      (bench/e2e/progress.py polls them, and the output topic, every 100 ms);
#      at that moment it reads the process's CPU seconds (/proc/PID/stat
#      utime+stime: librdkafka's threads included) and peak RSS (VmHWM); then
#      SIGTERM, which must end it with exit 0;
#   5. the same for python_baseline.py (batches of 512, commit every second
#      after delivery) with another group on the same input;
#   6. prints both and the ratios, and deletes the topics (E2E_KEEP=1 keeps them).
#
# Times run from just before the process starts (start-up and joining the
# group included): "first" to the first output record, "delivered" to as many
# outputs (scored + dead letters) as input events, "committed" to the final
# commit. weir keeps its commit timer quiet for two heartbeats and a second
# after a rebalance (a librdkafka 2.0.2 guard, service/run.c), so on short runs
# "committed" is bounded below by about 7 s. The broker runs on the same
# machine and competes for its cores with whichever side is measured: the
# numbers are for this machine as it is (nproc and load are printed).
set -eu
cd "$(dirname "$0")/../.."
root=$(pwd)
events=${E2E_EVENTS:-1000000}
parts=${E2E_PARTITIONS:-4}
venv=$root/bench/e2e/.venv
py=$venv/bin/python

echo "== build (Release) and venv =="
if [ -n "${E2E_WEIR:-}" ]; then
    weir=$E2E_WEIR
else
    cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
    ninja -C build-release weir >/dev/null
    weir=$root/build-release/weir
fi
if ! "$py" -c "import confluent_kafka, fastavro, numpy, sklearn" 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --upgrade pip
    "$venv/bin/pip" install -q confluent-kafka fastavro numpy scikit-learn
fi
"$py" -c "import confluent_kafka as c, fastavro, numpy, sklearn; print('python', __import__('sys').version.split()[0], '| confluent-kafka', c.version()[0], '(librdkafka', c.libversion()[0] + ') | fastavro', fastavro.__version__, '| numpy', numpy.__version__, '| scikit-learn', sklearn.__version__)"
"$weir" version

echo "== broker and topics =="
scripts/kafka.sh start >/dev/null
bootstrap=$(scripts/kafka.sh bootstrap)
run=e2e-$$-$(date +%s)
in=$run-in
for t in "$in:$parts" "$run-weir-out:$parts" "$run-weir-dlq:1" "$run-py-out:$parts" "$run-py-dlq:1"; do
    scripts/kafka.sh topic "${t%:*}" "${t#*:}"
done
work=$(mktemp -d /tmp/weir-e2e-XXXXXX)
cleanup() {
    if [ "${E2E_KEEP:-0}" != 1 ]; then
        "$py" bench/e2e/progress.py delete --bootstrap "$bootstrap" "$in" "$run-weir-out" \
            "$run-weir-dlq" "$run-py-out" "$run-py-dlq" || true
    fi
}
trap cleanup EXIT

echo "== weir gen: $events events into $in ($parts partitions) =="
"$weir" gen --out "topic:$in" --count "$events" --seed 7 -b "$bootstrap" -q
"$weir" schema scored --input schemas/transaction.avsc > "$work/scored.avsc"

# Runs one side: $1 name, then the command; prints its result line.
measure() {
    name=$1
    group=$2
    shift 2
    start=$(date +%s.%N)
    "$@" > "$work/$name.log" 2>&1 &
    pid=$!
    if ! "$py" bench/e2e/progress.py wait --bootstrap "$bootstrap" --group "$group" --input "$in" \
        --output "$run-$name-out" --dlq "$run-$name-dlq" --pid "$pid" --start "$start" \
        > "$work/$name.result"; then
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" || true
        tail -20 "$work/$name.log" >&2
        exit 1
    fi
    kill -TERM "$pid"
    code=0
    wait "$pid" || code=$?
    [ "$code" -eq 0 ] || { tail -20 "$work/$name.log" >&2; echo "$name exited $code" >&2; exit 1; }
    echo "$name: $(cat "$work/$name.result")"
}

cat > "$work/weir.conf" <<EOF
kafka.bootstrap.servers = $bootstrap
kafka.group.id = $run-weir
input.topics = $in
input.schema = $root/schemas/transaction.avsc
output.topic = $run-weir-out
dlq.topic = $run-weir-dlq
model.path = $root/examples/model.json
batch.max = 512
commit.interval = 1s
http.listen =
log.level = warn
EOF
py_consumer=""
for kv in ${E2E_CONSUMER:-}; do
    echo "kafka.consumer.${kv%%=*} = ${kv#*=}" >> "$work/weir.conf"
    py_consumer="$py_consumer --consumer $kv"
done

echo "== measuring (nproc $(nproc), load $(cut -d' ' -f1-3 /proc/loadavg)${E2E_CONSUMER:+, consumer: $E2E_CONSUMER}) =="
measure weir "$run-weir" "$weir" run -c "$work/weir.conf"
measure py "$run-py" env OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 "$py" bench/e2e/python_baseline.py \
    --bootstrap "$bootstrap" --group "$run-py" --input "$in" --output "$run-py-out" \
    --dlq "$run-py-dlq" --model examples/model.json --scored-schema "$work/scored.avsc" --batch 512 \
    $py_consumer
grep -h "verified" "$work/py.log" || true

echo "== result =="
awk -v w="$(cat "$work/weir.result")" -v p="$(cat "$work/py.result")" 'BEGIN {
    split(w, a, " "); for (i in a) { split(a[i], kv, "="); W[kv[1]] = kv[2] }
    split(p, a, " "); for (i in a) { split(a[i], kv, "="); P[kv[1]] = kv[2] }
    printf "%-16s %8s %8s %9s %9s %11s %11s %7s %9s %9s\n", "", "events", "first s",
           "deliv. s", "commit s", "ev/s deliv", "ev/s commit", "CPU s", "CPU us/ev", "peak RSS"
    row("weir run", W); row("python baseline", P)
    printf "weir / python: %.1fx events/s to delivered, %.1fx to committed; %.1fx less CPU per event; %.1fx less peak RSS\n",
           P["delivered"] / W["delivered"], P["committed"] / W["committed"], P["cpu"] / W["cpu"],
           P["rss_mb"] / W["rss_mb"]
    if (W["outputs"] != W["events"] || P["outputs"] != P["events"] || W["dead"] || P["dead"])
        printf "WARNING: outputs weir %d, python %d; dead letters weir %d, python %d\n",
               W["outputs"], P["outputs"], W["dead"], P["dead"]
}
function row(name, R) {
    printf "%-16s %8d %8.2f %9.2f %9.2f %11.0f %11.0f %7.2f %9.2f %6.0f MB\n", name, R["events"],
           R["first"], R["delivered"], R["committed"], R["events"] / R["delivered"],
           R["events"] / R["committed"], R["cpu"], R["cpu"] * 1e6 / R["events"], R["rss_mb"]
}'
rm -rf "$work"
