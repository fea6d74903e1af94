#!/bin/sh
# Installs the Debian 12 packages weir builds, tests and demos with.
# Idempotent: when every package is present it returns at once, without apt.
set -eu

# python3-avro computes the expected scores the broker tests compare against;
# prometheus provides promtool, which checks weir's /metrics page; chromium
# renders the HTML reports in the tests (headless).
PACKAGES="build-essential cmake ninja-build pkg-config git \
librdkafka-dev libavro-dev libopenblas-dev libuv1-dev libcriterion-dev \
libjansson-dev zlib1g-dev kcat maven openjdk-17-jdk-headless python3 python3-avro curl procps \
prometheus chromium"

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
        missing="$missing $p"
    fi
done

if [ -z "$missing" ]; then
    exit 0
fi

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
