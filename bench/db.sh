#!/bin/sh
# `weir batch` into each database against the Avro file path: the example
# model over DB_EVENTS `weir gen` events [200000], one run each, into an Avro
# container file (deflate, the default), a SQLite file (sqlite:) and the local
# PostgreSQL server of scripts/postgres.sh (port WEIR_PG_PORT [25432]), each
# into a fresh table. Prints events/s of each and the ratios to the file path,
# with the commit, the date and the load average, as the README quotes them.
set -eu
cd "$(dirname "$0")/.."
events=${DB_EVENTS:-200000}
cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C build-release weir >/dev/null
weir=build-release/weir
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -z "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] || commit="$commit+changes"
scripts/postgres.sh start >/dev/null
url=$(scripts/postgres.sh url)
psql -q "$url" -c "DROP TABLE IF EXISTS bench_predictions, bench_predictions_dead_letters" 2>/dev/null

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$weir" gen --out "file:$tmp/events.avro" --count "$events" --seed 7 -q
rate() { # target -> events/s (wall clock)
    t0=$(date +%s.%N)
    "$weir" batch --model examples/model.json --in "$tmp/events.avro" --out "$1" -q 2>/dev/null
    t1=$(date +%s.%N)
    echo "$events $t0 $t1" | awk '{printf "%.0f", $1 / ($3 - $2)}'
}
avro=$(rate "$tmp/scored.avro")
sqlite=$(rate "sqlite:$tmp/predictions.db")
pg=$(rate "$url#bench_predictions")
psql -q "$url" -c "DROP TABLE IF EXISTS bench_predictions, bench_predictions_dead_letters" 2>/dev/null
echo "commit $commit, $(date -u +%F), $events events, load average $(cut -d' ' -f1 /proc/loadavg)"
echo "avro file:  $avro events/s"
echo "sqlite:     $sqlite events/s ($(echo "$sqlite $avro" | awk '{printf "%.2f", $1 / $2}')x the file path)"
echo "postgresql: $pg events/s ($(echo "$pg $avro" | awk '{printf "%.2f", $1 / $2}')x the file path)"
