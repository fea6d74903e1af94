#!/bin/sh
# The whole test suite, as CI runs it (.ci/run calls exactly this):
#   1. installs the Debian packages and the Kafka jars if missing,
#   2. starts the local Kafka broker (scripts/kafka.sh), and a second one for the
#      tests that kill and restart theirs,
#   3. builds with ASan+UBSan and warnings as errors, and a Release build,
#   4. runs every Criterion test through ctest: unit tests, the Python package's
#      tests (scripts/python-tests.sh: a virtual environment cached in
#      ~/.cache/weir), then the tests against the real broker, and prints each
#      suite's summary line.
# Environment: WEIR_TEST_JOBS [2] ctest parallelism; WEIR_KAFKA_PORT as in kafka.sh;
# WEIR_FAULT_KAFKA_PORT [29192] the second broker, the one the delivery tests
# kill and restart (stopped at the end).
set -eu
cd "$(dirname "$0")/.."
root=$(pwd)
started=$(date +%s)

scripts/setup.sh
scripts/kafka.sh start
# The delivery tests kill, stop and restart a broker of their own: a fresh one
# each run (a broker with hundreds of old topics takes a minute to restart).
export WEIR_FAULT_KAFKA_PORT=${WEIR_FAULT_KAFKA_PORT:-29192}
WEIR_KAFKA_PORT=$WEIR_FAULT_KAFKA_PORT scripts/kafka.sh reset >/dev/null
WEIR_KAFKA_PORT=$WEIR_FAULT_KAFKA_PORT scripts/kafka.sh start

echo "== build (ASan+UBSan) =="
cmake -S . -B build-ci -G Ninja -DCMAKE_BUILD_TYPE=Debug -DWEIR_SANITIZE=ON >/dev/null
ninja -C build-ci
echo "== build (Release) =="
cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C build-release weir

# Leak checks stay on, also in the weir processes the broker tests start;
# tests/lsan.supp is where a third-party leak would be suppressed (none is).
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:strict_string_checks=1"
export LSAN_OPTIONS="suppressions=$root/tests/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

# Each Criterion suite's summary line, named after its ctest test.
synthesis() {
    awk '/Testing: /{name=$3} /Synthesis/{sub(/^.*Synthesis: /, ""); printf "  %-34s %s\n", name, $0}' \
        Testing/Temporary/LastTest.log
}

status=0
cd build-ci
echo "== unit tests =="
ctest -L unit -j "${WEIR_TEST_JOBS:-2}" --output-on-failure || status=1
synthesis
echo "== python tests (the weir package, through this build's libweir) =="
"$root"/scripts/python-tests.sh "$root/build-ci" || status=1
echo "== broker tests (Apache Kafka at $("$root"/scripts/kafka.sh bootstrap)) =="
ctest -L integration -j "${WEIR_TEST_JOBS:-2}" --output-on-failure || status=1
synthesis
WEIR_KAFKA_PORT=$WEIR_FAULT_KAFKA_PORT "$root"/scripts/kafka.sh stop >/dev/null
# the PostgreSQL server the database tests of weir batch started (port 25442)
WEIR_PG_PORT=25442 WEIR_PG_STATE="$root/build-ci/postgres-25442" "$root"/scripts/postgres.sh stop
# the registry the broker suite started (scripts/registry.sh), if any
"$root"/scripts/registry.sh stop >/dev/null
echo "== done in $(( $(date +%s) - started ))s: $([ $status -eq 0 ] && echo PASS || echo FAIL) =="
exit $status
