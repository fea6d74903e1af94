#!/bin/sh
# The Python side of the test suite: builds the weir package's wheel, installs
# it into a virtual environment (never the system Python's site-packages) and
# runs tests/python with pytest against libweir and the weir binary of a build.
#
#   scripts/python-tests.sh [BUILD_DIR] [pytest args...]     (BUILD_DIR: build-ci)
#
# The environment lives in ~/.cache/weir/venv-<hash of python/requirements-test.txt>
# (WEIR_PYTHON_VENV overrides it): created and filled from PyPI once, then
# reused, so a second run installs nothing but the freshly built wheel.
set -eu
cd "$(dirname "$0")/.."
root=$(pwd)
build=${1:-build-ci}
[ $# -gt 0 ] && shift
case $build in /*) ;; *) build=$root/$build ;; esac

python=${WEIR_PYTHON:-/usr/bin/python3}
hash=$(sha256sum python/requirements-test.txt | cut -c1-12)
venv=${WEIR_PYTHON_VENV:-$HOME/.cache/weir/venv-$hash}
if [ ! -x "$venv/bin/pytest" ]; then
    echo "python-tests: creating $venv" >&2
    rm -rf "$venv"
    mkdir -p "$(dirname "$venv")"
    "$python" -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check -r python/requirements-test.txt
fi

ninja -C "$build" weir weir_shared >/dev/null
wheels=$build/python-wheel
rm -rf "$wheels"
"$venv/bin/pip" wheel -q --disable-pip-version-check --no-deps --no-build-isolation \
    -w "$wheels" ./python
"$venv/bin/pip" install -q --disable-pip-version-check --no-deps --force-reinstall "$wheels"/weir-*.whl

export WEIR_LIBRARY="$build/libweir.so.0"
export WEIR_BINARY="$build/weir"
# libweir of a sanitized build needs the ASan runtime first in the process.
if nm -D "$WEIR_LIBRARY" 2>/dev/null | grep -q __asan_init; then
    asan=$(gcc -print-file-name=libasan.so)
    export LD_PRELOAD="$asan"
    export ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0"
fi
cd "$build"
exec "$venv/bin/python" -m pytest -q -p no:cacheprovider "$root/tests/python" "$@"
