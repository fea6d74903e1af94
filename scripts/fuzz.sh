#!/bin/sh
# Coverage-guided fuzzing of weir's harnesses (tests/fuzz/fuzz_<name>.c) with
# clang's libFuzzer, AddressSanitizer and UndefinedBehaviorSanitizer:
#
#   scripts/fuzz.sh [SECONDS] [NAME...]
#
# builds every harness (or the NAMEs given) in build-fuzz/ (the whole of weir
# instrumented, warnings not fatal: the gcc build checks those), runs each for
# SECONDS (default 60), one after the other, and prints per harness the
# executions, executions per second, and crashes. Each starts from its seed
# corpus tests/fuzz/corpus/<name>/ plus what earlier runs found, kept in
# build-fuzz/fuzz/corpus/<name>/; a crash, leak, timeout or out-of-memory input
# is written to build-fuzz/fuzz/artifacts/<name>/ (replay one with
# `build-fuzz/tests/fuzz/fuzz_<name> FILE`; once fixed, add it to the seed
# corpus). A tests/fuzz/fuzz_<name>.dict, if present, is passed as -dict.
#
# Environment: WEIR_FUZZ_BUILD [build-fuzz] build folder; WEIR_FUZZ_JOBS [2]
# ninja jobs; WEIR_FUZZ_ARGS extra libFuzzer options (e.g. -max_len=8192).
# Exit status: 0 when no harness crashed, 1 otherwise, 2 on a usage error.
set -eu
cd "$(dirname "$0")/.."
root=$(pwd)

seconds=60
if [ $# -gt 0 ]; then
    case $1 in
    '' | *[!0-9]*) ;;
    *)
        seconds=$1
        shift
        ;;
    esac
fi
if [ "$seconds" -lt 1 ]; then
    echo "usage: scripts/fuzz.sh [SECONDS] [NAME...]" >&2
    exit 2
fi

if [ $# -gt 0 ]; then
    names="$*"
else
    names=$(for f in tests/fuzz/fuzz_*.c; do basename "$f" .c | sed 's/^fuzz_//'; done)
fi
for name in $names; do
    if [ ! -f "tests/fuzz/fuzz_$name.c" ] || [ ! -f "tests/fuzz/fuzz_$name.cmake" ]; then
        echo "fuzz: no harness $name (tests/fuzz/fuzz_$name.c and .cmake)" >&2
        exit 2
    fi
done

build=${WEIR_FUZZ_BUILD:-build-fuzz}
flags="-g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined \
-fno-sanitize-recover=undefined -Wno-unknown-warning-option"
scripts/setup.sh
# clang (libFuzzer) is needed here only, not by the build or the test suite
if ! command -v clang >/dev/null 2>&1; then
    echo "== installing clang =="
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q clang >/dev/null
fi
echo "== build ($build, clang, libFuzzer + ASan + UBSan) =="
CC=clang cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=None -DWEIR_FUZZ=ON \
    -DWEIR_SANITIZE=OFF -DWEIR_WERROR=OFF -DCMAKE_C_FLAGS="$flags" >/dev/null
targets=$(for name in $names; do printf 'fuzz_%s ' "$name"; done)
# shellcheck disable=SC2086
ninja -C "$build" -j "${WEIR_FUZZ_JOBS:-2}" $targets

export ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1:strict_string_checks=1"
export LSAN_OPTIONS="suppressions=$root/tests/fuzz/lsan.supp:print_suppressions=0:use_unaligned=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

status=0
summary=""
for name in $names; do
    work="$build/fuzz/corpus/$name"
    artifacts="$build/fuzz/artifacts/$name"
    log="$build/fuzz/$name.log"
    mkdir -p "$work" "$artifacts"
    ls "$artifacts" >"$build/fuzz/$name.before"
    dict=""
    if [ -f "tests/fuzz/fuzz_$name.dict" ]; then
        dict="-dict=tests/fuzz/fuzz_$name.dict"
    fi
    echo "== fuzz_$name for ${seconds}s (log: $log) =="
    rc=0
    # shellcheck disable=SC2086
    "$build/tests/fuzz/fuzz_$name" -max_total_time="$seconds" -timeout=25 -rss_limit_mb=2560 \
        -print_final_stats=1 -artifact_prefix="$artifacts/" $dict ${WEIR_FUZZ_ARGS:-} \
        "$work" "tests/fuzz/corpus/$name" >"$log" 2>&1 || rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    found=$(ls "$artifacts" | comm -13 "$build/fuzz/$name.before" -)
    crashes=$(printf '%s' "$found" | grep -c . || true)
    if [ "$rc" -ne 0 ] || [ "$crashes" -gt 0 ]; then
        status=1
        grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error|fuzz_)' "$log" | head -n 5 >&2 || true
        printf '%s\n' "$found" | sed "/^\$/d; s|^|  input: $artifacts/|" >&2
    fi
    summary="$summary$(printf '  %-16s %12s executions %8s exec/s %3s crashes (exit %s)' \
        "fuzz_$name" "${execs:-?}" "${rate:-?}" "$crashes" "$rc")
"
done
echo "== summary (${seconds}s each) =="
printf '%s' "$summary"
exit $status
