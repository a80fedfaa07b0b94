#!/bin/sh
# The malloc family under LD_PRELOAD=libhypertier.so (test_interpose asserts
# that every symbol resolves into the library and behaves like glibc's).
so=${abs_top_builddir:-..}/preload/.libs/libhypertier.so
[ -f "$so" ] || { echo "Bail out! $so not built"; exit 1; }
exec env -u HYPERTIER_CONF LD_PRELOAD="$so" ./unit/test_interpose
