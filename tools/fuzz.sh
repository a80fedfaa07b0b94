#!/usr/bin/env bash
# fuzz.sh - the fuzz stage of tools/check.sh: an instrumented build in
# $FUZZ_BUILD_DIR (default ./build-fuzz, configure --enable-fuzz CC=clang),
# then every harness of tests/fuzz for FUZZ_SECS s (default 60), FUZZ_JOBS
# (default 2) at a time. Fails on any crash, leak or hang found.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${FUZZ_BUILD_DIR:-$src/build-fuzz}
mkdir -p "$build"
cd "$build"
[ -f Makefile ] || "$src/configure" -q --enable-fuzz CC=clang CFLAGS="-g -O1"
make -j"$(nproc)" -s fuzz
make -s fuzz-run FUZZ_SECS="${FUZZ_SECS:-60}" FUZZ_JOBS="${FUZZ_JOBS:-2}"
