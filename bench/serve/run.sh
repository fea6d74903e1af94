#!/usr/bin/env bash
# bench/serve/run.sh — POST /score latency and throughput at a fixed request
# rate: `weir serve` against a Python scorer of the same model (FastAPI on
# uvicorn with uvloop and httptools, one worker; bench/serve/python_scorer.py),
# both on loopback, driven by the same open-loop load generator
# (bench/score_load.c: one request per connection, latency counted from when
# each request was due). One run each; numbers are printed, never asserted.
#
#   bench/serve/run.sh [RATE...]        default rates: 1000 4000 (requests/s)
#
# Environment: SECONDS_PER_RUN (30), EVENTS (2000 distinct request bodies),
# WEIR_PORT (39480), PY_PORT (39481).
#
# It builds weir and score_load in Release (build-release/), and once a venv
# (build-release/serve-venv: fastapi, uvicorn[standard], numpy, scikit-learn,
# avro; never the system site-packages). The request bodies are `weir gen`
# events as JSON objects (fields by name). It prints the commit and the date
# first: a figure quoted in README.md cites both.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$root/build-release
rates=("$@")
[ ${#rates[@]} -gt 0 ] || rates=(1000 4000)
secs=${SECONDS_PER_RUN:-30}
events=${EVENTS:-2000}
weir_port=${WEIR_PORT:-39480}
py_port=${PY_PORT:-39481}
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "== commit $(git -C "$root" rev-parse --short HEAD)$(git -C "$root" diff --quiet HEAD -- . || echo ' (with local changes)'), $(date -u +%F), load average $(cut -d' ' -f1-3 /proc/loadavg) =="
echo "== build (Release) and venv =="
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DWEIR_TESTS=OFF >/dev/null
ninja -C "$build" -j2 weir score_load >/dev/null
venv=$build/serve-venv
if ! "$venv/bin/python" -c 'import avro, fastapi, numpy, sklearn, uvicorn' 2>/dev/null; then
  [ -x "$venv/bin/python" ] || /usr/bin/python3 -m venv "$venv"
  "$venv/bin/pip" install -q fastapi 'uvicorn[standard]' numpy scikit-learn avro
fi
model=$root/examples/model.json
load=$build/bench/score_load

echo "== $events request bodies =="
"$build/weir" gen --out "file:$work/events.avro" --count "$events" --seed 11 -q
"$venv/bin/python" - "$work/events.avro" "$work/events.jsonl" <<'PY'
import json, sys
import avro.datafile, avro.io
with open(sys.argv[1], "rb") as f, open(sys.argv[2], "w") as out:
    for rec in avro.datafile.DataFileReader(f, avro.io.DatumReader()):
        out.write(json.dumps(rec) + "\n")
PY

cat >"$work/serve.conf" <<CONF
model.path = $model
input.schema = $root/schemas/transaction.avsc
score.listen = 127.0.0.1:$weir_port
log.level = warn
CONF

wait_up() { # port
  for _ in $(seq 1 200); do
    if curl -s -o /dev/null -X POST -H 'Content-Type: application/json' \
        --data-binary @<(head -n1 "$work/events.jsonl") "127.0.0.1:$1/score"; then return 0; fi
    sleep 0.1
  done
  echo "nothing answers on port $1" >&2; return 1
}

"$build/weir" serve -c "$work/serve.conf" 2>"$work/weir.log" & pids+=($!)
weir_pid=$!
(cd "$root/bench/serve" && WEIR_BUNDLE=$model exec "$venv/bin/uvicorn" python_scorer:app \
   --host 127.0.0.1 --port "$py_port" --workers 1 --loop uvloop --http httptools \
   --log-level warning --no-access-log) 2>"$work/py.log" & pids+=($!)
py_pid=$!
wait_up "$weir_port"
wait_up "$py_port"

echo "== the same answer from both =="
head -n 3 "$work/events.jsonl" | while read -r line; do
  w=$(curl -s -X POST -H 'Content-Type: application/json' --data-binary "$line" "127.0.0.1:$weir_port/score")
  p=$(curl -s -X POST -H 'Content-Type: application/json' --data-binary "$line" "127.0.0.1:$py_port/score")
  "$venv/bin/python" -c 'import json,sys; a=json.loads(sys.argv[1]); b=json.loads(sys.argv[2]); print("  %s weir %.9f python %.9f" % (a["event_id"], a["score"], b["score"])); assert abs(a["score"]-b["score"]) < 1e-6' "$w" "$p"
done

cpu() { # pid -> utime+stime in clock ticks
  awk '{print $14 + $15}' "/proc/$1/stat"
}

run() { # name port pid rate
  "$load" --port "$2" --rate "$4" --seconds 2 --body "$work/events.jsonl" >/dev/null || true # warm-up
  local c0 c1 out
  c0=$(cpu "$3")
  out=$("$load" --port "$2" --rate "$4" --seconds "$secs" --body "$work/events.jsonl" || true)
  c1=$(cpu "$3")
  local ticks; ticks=$(getconf CLK_TCK)
  echo "$out" | sed "s/^/  $1 @ $4\/s: /"
  echo "  $1 @ $4/s: server CPU $(awk -v a="$c0" -v b="$c1" -v t="$ticks" -v s="$secs" 'BEGIN{printf "%.0f%%", (b-a)/t/s*100}') of one core"
}

echo "== ${secs}s at each rate, one request per connection =="
for rate in "${rates[@]}"; do
  run weir "$weir_port" "$weir_pid" "$rate"
  run python "$py_port" "$py_pid" "$rate"
done
echo "== peak RSS =="
echo "  weir   $(awk '/VmHWM/{print $2" kB"}' /proc/$weir_pid/status)"
echo "  python $(awk '/VmHWM/{print $2" kB"}' /proc/$py_pid/status)"
