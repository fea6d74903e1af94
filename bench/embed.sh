#!/bin/sh
# The embedding example (examples/embed/): the size of libweir_row.a and of
# the stripped example program, its per-row cost (one row per call, as a
# device scores one event at a time, and a whole frame in one call), and its
# scores against `weir batch` over the same `weir gen` events.
#
#   bench/embed.sh                    # 20,000 events, 200,000 single-row calls
#   EMBED_EVENTS=100000 bench/embed.sh
set -eu
cd "$(dirname "$0")/.."
events=${EMBED_EVENTS:-20000}
calls=${EMBED_CALLS:-200000}
set -- $(examples/embed/build.sh)
lib=$1 prog=$2
cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C build-release weir >/dev/null
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -z "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] || commit="$commit+changes"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
build-release/weir gen --out "file:$tmp/events.avro" --count "$events" --seed 11 -q
build-release/weir batch --model examples/model.json --in "$tmp/events.avro" \
    --out "$tmp/scored.avro" --codec null -q
# The events as CSV (python3-avro, from scripts/setup.sh), and weir batch's scores.
/usr/bin/python3 - "$tmp" <<'PY'
import sys, avro.datafile, avro.io
d = sys.argv[1]
def rows(path):
    with open(path, "rb") as f:
        yield from avro.datafile.DataFileReader(f, avro.io.DatumReader())
with open(d + "/events.csv", "w") as out:
    names = None
    for r in rows(d + "/events.avro"):
        if names is None:
            names = [k for k, v in r.items() if not isinstance(v, (dict, list))]
            out.write(",".join(names) + "\n")
        out.write(",".join("" if r[k] is None else str(r[k]).lower() if isinstance(r[k], bool)
                           else repr(r[k]) if isinstance(r[k], float) else str(r[k])
                           for k in names) + "\n")
with open(d + "/batch.txt", "w") as out:
    for r in rows(d + "/scored.avro"):
        out.write("%r\n" % r["score"])
PY
"$prog" examples/model.json < "$tmp/events.csv" | tail -n +2 | cut -d, -f1 > "$tmp/embed.txt"
worst=$(paste -d' ' "$tmp/batch.txt" "$tmp/embed.txt" |
    awk '{d = $1 - $2; if (d < 0) d = -d; if (d > m) m = d} END {printf "%.3g", m}')
cp "$prog" "$tmp/stripped" && strip "$tmp/stripped"
echo "commit $commit, $(date -u +%F), load average $(cut -d' ' -f1 /proc/loadavg)"
echo "libweir_row.a: $(wc -c < "$lib") bytes; score_rows stripped: $(wc -c < "$tmp/stripped") bytes" \
    "(dynamic: $(ldd "$prog" | awk '{print $1}' | grep -E 'jansson|openblas' | tr '\n' ' '))"
echo "per row: $(OPENBLAS_NUM_THREADS=1 "$prog" examples/model.json --time "$calls" < "$tmp/events.csv")"
echo "scores against weir batch over $events events: largest difference $worst"
