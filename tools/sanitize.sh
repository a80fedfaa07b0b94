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
[ -x "$src/configure" ] || (cd "$src" && autoreconf -fi)
start=$(date +%s)
mkdir -p "$build"
cd "$build"
[ -f Makefile ] || "$src/configure" -q --enable-sanitizers="$kind"
# The stage can fail: each of these must stop a program built like the tests.
cc=$(sed -n 's/^CC = //p' Makefile)
cflags=$(sed -n 's/^CFLAGS = //p' Makefile)
canary() { # $1: the body of main, $2: the report it must produce
	printf '#include <limits.h>\n#include <pthread.h>\n#include <stdlib.h>\nstatic int x;\n%s\n%s\n' \
		'static void *f(void *a) { x++; return a; }' "int main(int argc, char **argv) { $1 }" >canary.c
	$cc $cflags -pthread canary.c -o canary && ! ./canary 2>canary.err && grep -q "$2" canary.err || {
		echo "tools/sanitize.sh: the $kind build does not catch: $2" >&2
		exit 1
	}
}
if [ "$kind" = address ]; then
	canary 'static void *volatile p; p = malloc(64); p = 0; return 0;' 'detected memory leaks'
	canary 'volatile char *p = malloc(8); free((void *)p); return p[argc - 1];' 'heap-use-after-free'
	canary 'volatile int i = INT_MAX; return i + argc < 0;' 'signed integer overflow'
else
	canary 'pthread_t t; pthread_create(&t, 0, f, 0); x++; pthread_join(t, 0); return 0;' 'data race'
fi
rm -f canary canary.c canary.err
# What the unit tests use; not the benchmarks or the guest programs.
for d in lib/libhypertier preload tools hostctl; do make -j"$(nproc)" -s -C $d; done
if ! make -j"$(nproc)" -s -C tests check-unit || ! make -j"$(nproc)" -s -C bench check; then
	find tests bench -name test-suite.log -exec cat {} +
	echo "tools/sanitize.sh: unit tests failed under the $kind sanitizer (logs above; build dir $build)" >&2
	exit 1
fi
echo "tools/sanitize.sh: unit tests passed under the $kind sanitizer in $(( $(date +%s) - start )) s"
