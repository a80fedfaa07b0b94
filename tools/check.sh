#!/usr/bin/env bash
# The README's test command: build out of tree and run the whole suite.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$src/build}
cd "$src"
autoreconf -fi >/dev/null 2>&1 || autoreconf -fi
mkdir -p "$build"
cd "$build"
[ -f Makefile ] || "$src/configure" -q
make -j"$(nproc)" -s
make -j"$(nproc)" check
