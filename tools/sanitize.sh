#!/usr/bin/env bash
# The sanitizer stage of tools/check.sh: configure --enable-sanitizers=KIND
# in its own build dir and run the unit tests there (`make check-unit`; the
# guest tests take long and run in the normal build only). Any report fails
# the test that made it: ASan and UBSan halt on the first, LSan is on.
# Usage: tools/sanitize.sh [address|thread]   (default address; build dir
# $SAN_BUILD_DIR, default ./build-asan or ./build-tsan)
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
kind=${1:-address}
case $kind in
address) build=${SAN_BUILD_DIR:-$src/build-asan} ;;
thread) build=${SAN_BUILD_DIR:-$src/build-tsan} ;;
*) echo "usage: $0 [address|thread]" >&2; exit 2 ;;
esac
export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
start=$(date +%s)
mkdir -p "$build"
cd "$build"
[ -f Makefile ] || "$src/configure" -q --enable-sanitizers="$kind"
make -j"$(nproc)" -s
if ! make -j"$(nproc)" -s -C tests check-unit; then
	find tests -name test-suite.log -exec cat {} +
	echo "tools/sanitize.sh: unit tests failed under the $kind sanitizer (logs above; build dir $build)" >&2
	exit 1
fi
echo "tools/sanitize.sh: unit tests passed under the $kind sanitizer in $(( $(date +%s) - start )) s"
