#!/bin/sh
# Throughput of `weir batch` (one process, one core: decode, transforms, the
# model, encode, the output file) over a `weir gen` file scored with
# examples/model.json, with each output codec of BATCH_CODECS [null deflate:1
# deflate:6 deflate:9]. Prints per codec the best of BATCH_RUNS runs [3] in
# events/s (wall clock) and in events per CPU-second of weir (steadier on a
# busy machine), and the output's size in bytes per event, with the commit,
# the date and the load average, as the README quotes them. The default codec
# ("deflate", WEIR_CONTAINER_DEFLATE_LEVEL in schemas/schemas.h) was chosen
# from this table.
#
#   bench/batch.sh                       # 200,000 events, 3 runs per codec
#   BATCH_EVENTS=1000000 bench/batch.sh
#   BATCH_CODECS="deflate deflate:3" bench/batch.sh
#
# BATCH_WEIR: a weir binary to measure instead of building build-release/weir.
set -eu
cd "$(dirname "$0")/.."
events=${BATCH_EVENTS:-200000}
runs=${BATCH_RUNS:-3}

if [ -n "${BATCH_WEIR:-}" ]; then
    weir=$BATCH_WEIR
else
    cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
    ninja -C build-release weir >/dev/null
    weir=build-release/weir
fi
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -z "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] || commit="$commit+changes"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$weir" gen --out "file:$tmp/events.avro" --count "$events" --seed 7 -q

echo "weir batch: $events events, examples/model.json, commit $commit, $(date -u +%F), $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"
for codec in ${BATCH_CODECS:-null deflate:1 deflate:6 deflate:9}; do
    best=0
    best_cpu=0
    i=0
    while [ $i -lt "$runs" ]; do
        # weir's summary line ends "in 2.01s (9965 events/s)"; `times` then
        # gives the CPU seconds of weir (the subshell's child), which other
        # work on the machine changes far less than the wall clock
        out=$( (
            "$weir" batch --model examples/model.json --in "$tmp/events.avro" \
                --out "$tmp/scored.avro" --codec "$codec" -q 2>&1
            times
        ))
        rate=$(echo "$out" | sed -n 's/.*(\([0-9]*\) events\/s)$/\1/p')
        [ -n "$rate" ] || { echo "bench/batch.sh: no rate in weir batch's summary: $out" >&2; exit 1; }
        per_cpu=$(echo "$out" | tail -n 1 | awk -v n="$events" '{
            split($1, u, /[ms]/); split($2, s, /[ms]/); cpu = u[1] * 60 + u[2] + s[1] * 60 + s[2]
            printf "%d", (cpu > 0 ? n / cpu : 0) }')
        [ "$rate" -gt "$best" ] && best=$rate
        [ "$per_cpu" -gt "$best_cpu" ] && best_cpu=$per_cpu
        i=$((i + 1))
    done
    size=$(stat -c %s "$tmp/scored.avro")
    printf '  --codec %-10s %8d events/s, %8d events per CPU-second (best of %d), %6.1f bytes per event\n' \
        "$codec" "$best" "$best_cpu" "$runs" "$(echo "$size $events" | awk '{ print $1 / $2 }')"
done
