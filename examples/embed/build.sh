#!/bin/sh
# Builds libweir_row.a (the engine's row interface, engine/row.h) in a
# size-optimised build of its own, then this example against it with a plain
# cc line, as a program outside the weir tree would:
#
#   examples/embed/build.sh            -> build-embed/libweir_row.a, build-embed/score_rows
#
# Environment: WEIR_EMBED_BUILD [build-embed] the build folder; CC [cc].
set -eu
cd "$(dirname "$0")/../.."
out=${WEIR_EMBED_BUILD:-build-embed}
cmake -S . -B "$out" -G Ninja -DCMAKE_BUILD_TYPE=MinSizeRel -DWEIR_TESTS=OFF >/dev/null
ninja -C "$out" weir_row >/dev/null
# shellcheck disable=SC2046
${CC:-cc} -O2 -Wall -Wextra -Werror -Iengine -Iscoring -Icommon examples/embed/score_rows.c \
    "$out/libweir_row.a" $(pkg-config --libs jansson openblas) -lm -o "$out/score_rows"
echo "$out/libweir_row.a $out/score_rows"
