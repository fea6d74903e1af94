#!/bin/sh
# Installs the Debian 12 packages weir builds, tests and demos with, and a
# Python venv (.venv/ at the root of the repository) with what the scripts of
# examples/ import (examples/requirements.txt: numpy, scikit-learn, avro).
# pip installs into that venv only, never into the system's Python.
# Idempotent: when every package is present and the venv matches the
# requirements it returns at once, without apt or pip.
# Environment: WEIR_VENV [.venv] where the venv goes.
set -eu
cd "$(dirname "$0")/.."

# python3-avro computes the expected scores the broker tests compare against;
# python3-venv makes the environment the Python package is tested in
# (scripts/python-tests.sh; its packages come from PyPI, once, into ~/.cache/weir);
# prometheus provides promtool, which checks weir's /metrics page; chromium
# renders the HTML reports in the tests (headless); SQLite and libpq are weir
# batch's database outputs, and postgresql the server its tests start on a port
# of their own (scripts/postgres.sh; never the system's cluster). openssl makes
# the certificates of the broker's TLS listener (scripts/kafka.sh); libcurl is
# the schema registry client's HTTP.
PACKAGES="build-essential cmake ninja-build pkg-config git \
librdkafka-dev libavro-dev libopenblas-dev libuv1-dev libcriterion-dev \
libjansson-dev zlib1g-dev libcurl4-openssl-dev kcat maven openjdk-17-jdk-headless python3 python3-avro python3-venv \
curl procps prometheus chromium libsqlite3-dev sqlite3 libpq-dev postgresql openssl"

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
        missing="$missing $p"
    fi
done

if [ -n "$missing" ]; then
    if [ "$(id -u)" -ne 0 ]; then
        SUDO=sudo
    else
        SUDO=
    fi
    echo "setup: installing$missing" >&2
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    # shellcheck disable=SC2086
    $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# The venv is current when it holds a copy of the requirements it was made
# from; otherwise it is made again from scratch (a half-made one included).
venv=${WEIR_VENV:-.venv}
requirements=examples/requirements.txt
if [ -x "$venv/bin/python" ] && cmp -s "$requirements" "$venv/weir-requirements.txt"; then
    exit 0
fi
echo "setup: making the Python venv $venv ($requirements)" >&2
rm -rf "$venv"
/usr/bin/python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check -r "$requirements"
cp "$requirements" "$venv/weir-requirements.txt"
