#!/bin/sh
# What an event costs in weir against what it costs Kafka itself: on one local
# broker and one input topic filled once by `weir gen`, in COST_ROUNDS rounds
# with the order reversed every other round, it runs
#   passthrough          bench/cost/passthrough.c: raw librdkafka consume →
#                        produce with weir's client settings and offset rule
#   weir                 `weir run` at its defaults (drift monitoring on)
#   weir-drift-off       `weir run` with drift.enabled = false
#   python               bench/e2e/python_baseline.py (confluent-kafka,
#                        fastavro, numpy, scikit-learn; no drift monitoring)
#   weir-other           with COST_OTHER=/path/to/weir: that binary at its
#                        defaults, to compare two builds in the same rounds
# each in a fresh consumer group to its own output topic, and prints the
# medians of CPU µs per event (utime + stime of the process at its final
# commit, start-up included), events/s (first output to as many outputs as
# input events) and peak RSS (VmHWM), with the ratios to the passthrough.
#
# Then, unless COST_LATENCY=0, the added latency at fixed input rates — COST_RATE
# and half of weir's median rate above — for the passthrough and the weir
# variants: fresh topics whose records carry the broker's append time; `weir
# gen --rate R` writes R * COST_LATENCY_SECONDS events while the process runs,
# and the latency of a record is its output's append time minus its input's
# (bench/cost/cost.py). The Python baseline is left out there: it cannot keep
# up with 20k events/s.
#
#   bench/cost/run.sh                      # 200,000 events, 3 rounds
#   COST_EVENTS=1000000 COST_ROUNDS=5 bench/cost/run.sh
#   COST_SKIP=python bench/cost/run.sh     # leave variants out (space list)
#
# Environment: COST_EVENTS [200000], COST_ROUNDS [3], COST_PARTITIONS [4],
# COST_RATE [20000], COST_LATENCY_SECONDS [10], COST_LATENCY [1], COST_SKIP, COST_OTHER,
# COST_WEIR (a weir binary to measure; default: build-release/weir, built
# here, with build-release/bench/passthrough), WEIR_KAFKA_PORT (the broker of
# scripts/kafka.sh, started if it is not running). The broker runs on the same
# machine and competes for its cores: the figures are for this machine as it
# was (nproc and load are printed with the commit and date).
set -eu
cd "$(dirname "$0")/../.."
root=$(pwd)
events=${COST_EVENTS:-200000}
rounds=${COST_ROUNDS:-3}
parts=${COST_PARTITIONS:-4}
rate=${COST_RATE:-20000}
lat_seconds=${COST_LATENCY_SECONDS:-10}
skip=" ${COST_SKIP:-} "
venv=$root/bench/e2e/.venv
py=$venv/bin/python

echo "== build (Release) and venv =="
cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C build-release -j2 weir passthrough >/dev/null
weir=${COST_WEIR:-$root/build-release/weir}
passthrough=$root/build-release/bench/passthrough
if ! "$py" -c "import confluent_kafka, fastavro, numpy, sklearn" 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --upgrade pip
    "$venv/bin/pip" install -q confluent-kafka fastavro numpy scikit-learn
fi
echo "commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . || echo '+changes'), $(date -u '+%Y-%m-%d %H:%M UTC'), nproc $(nproc), load $(cut -d' ' -f1-3 /proc/loadavg)"
"$weir" version

echo "== broker and input =="
scripts/kafka.sh start >/dev/null
bootstrap=$(scripts/kafka.sh bootstrap)
run=cost-$$-$(date +%s)
in=$run-in
topics="$in"
work=$(mktemp -d -t weir-cost-XXXXXX)
pids=""
cleanup() {
    for pid in $pids; do kill -TERM "$pid" 2>/dev/null || true; done
    if [ "${COST_KEEP:-0}" != 1 ]; then
        # shellcheck disable=SC2086
        "$py" bench/e2e/progress.py delete --bootstrap "$bootstrap" $topics 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
"$py" bench/cost/cost.py create --bootstrap "$bootstrap" "$in:$parts"
"$weir" gen --out "topic:$in" --count "$events" --seed 7 -b "$bootstrap" -q
"$weir" schema scored --input schemas/transaction.avsc > "$work/scored.avsc"

# weir's configuration: $1 group, $2 output topic, $3 dlq, $4 input, $5 variant
weir_conf() {
    cat <<EOF
kafka.bootstrap.servers = $bootstrap
kafka.group.id = $1
input.topics = $4
input.schema = $root/schemas/transaction.avsc
output.topic = $2
dlq.topic = $3
model.path = $root/examples/model.json
batch.max = 512
commit.interval = 1s
http.listen =
log.level = warn
EOF
    if [ "$5" = weir-drift-off ]; then
        echo "drift.enabled = false"
    fi
}

# Starts variant $1 reading $2 into $3 (dlq $4) in group $5; sets $pid.
start() {
    case $1 in
    passthrough) "$passthrough" "$bootstrap" "$5" "$2" "$3" > "$work/$5.log" 2>&1 & ;;
    weir | weir-drift-off | weir-other)
        weir_conf "$5" "$3" "$4" "$2" "$1" > "$work/$5.conf"
        bin=$weir
        [ "$1" = weir-other ] && bin=$COST_OTHER
        "$bin" run -c "$work/$5.conf" > "$work/$5.log" 2>&1 &
        ;;
    python)
        env OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 "$py" bench/e2e/python_baseline.py \
            --bootstrap "$bootstrap" --group "$5" --input "$2" --output "$3" --dlq "$4" \
            --model examples/model.json --scored-schema "$work/scored.avsc" --batch 512 \
            > "$work/$5.log" 2>&1 &
        ;;
    esac
    pid=$!
    pids="$pids $pid"
}

# Waits until group $2 has committed all of $3; $1 variant, $4 out, $5 dlq.
wait_done() {
    if ! "$py" bench/e2e/progress.py wait --bootstrap "$bootstrap" --group "$2" --input "$3" \
        --output "$4" --dlq "$5" --pid "$pid" --start "$t0" > "$work/$2.result"; then
        tail -20 "$work/$2.log" >&2
        exit 1
    fi
}

stop() {
    kill -TERM "$pid"
    code=0
    wait "$pid" || code=$?
    [ "$code" -eq 0 ] || { tail -20 "$work/$1.log" >&2; echo "$1 exited $code" >&2; exit 1; }
}

variants=""
for v in passthrough weir weir-drift-off python ${COST_OTHER:+weir-other}; do
    case "$skip" in *" $v "*) ;; *) variants="$variants $v" ;; esac
done
reversed=$(echo $variants | tr ' ' '\n' | tac | tr '\n' ' ')

echo "== $events events, $parts partitions, $rounds rounds:$variants =="
: > "$work/results"
r=1
while [ "$r" -le "$rounds" ]; do
    order=$variants
    [ $((r % 2)) -eq 0 ] && order=$reversed
    for v in $order; do
        g=$run-$v-$r
        topics="$topics $g-out $g-dlq"
        "$py" bench/cost/cost.py create --bootstrap "$bootstrap" "$g-out:$parts" "$g-dlq:1"
        t0=$(date +%s.%N)
        start "$v" "$in" "$g-out" "$g-dlq" "$g"
        wait_done "$v" "$g" "$in" "$g-out" "$g-dlq"
        stop "$g"
        echo "$v $r $(cat "$work/$g.result")" | tee -a "$work/results"
    done
    r=$((r + 1))
done

echo "== result =="
"$py" bench/cost/cost.py summary "$work/results"

if [ "${COST_LATENCY:-1}" != 0 ]; then
    rates=$rate
    case " $variants " in
    *" weir "*) rates="$rates $("$py" bench/cost/cost.py half-rate "$work/results" weir)" ;;
    esac
    for r in $rates; do
        echo "== added latency at $r events/s for ${lat_seconds}s (ms, input append → output append) =="
        for v in $variants; do
            [ "$v" = python ] && continue
            g=$run-lat-$r-$v
            topics="$topics $g-in $g-out $g-dlq"
            "$py" bench/cost/cost.py create --bootstrap "$bootstrap" --log-append-time \
                "$g-in:$parts" "$g-out:$parts" "$g-dlq:1"
            # 1,000 events to be done with first, so joining the group is not measured
            "$weir" gen --out "topic:$g-in" --count 1000 --seed 1 -b "$bootstrap" -q
            t0=$(date +%s.%N)
            start "$v" "$g-in" "$g-out" "$g-dlq" "$g"
            wait_done "$v" "$g" "$g-in" "$g-out" "$g-dlq"
            since=$(date +%s%3N)
            "$weir" gen --out "topic:$g-in" --count $((r * lat_seconds)) --rate "$r" --seed 2 \
                -b "$bootstrap" -q
            wait_done "$v" "$g" "$g-in" "$g-out" "$g-dlq"
            stop "$g"
            printf '%-20s %s\n' "$v" "$("$py" bench/cost/cost.py latency --bootstrap "$bootstrap" \
                --input "$g-in" --output "$g-out" --since "$since")"
        done
    done
fi
