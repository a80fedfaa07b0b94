#!/bin/sh
# Guest test: munmap while the engine exchanges; errors counted, range map right.
vm=${abs_top_srcdir:-$(dirname "$0")/../..}/tests/vm
exec "$vm/run-guest" --timeout 300 --smp 1 --append no_timer_check --bin "${abs_top_builddir:-.}/tests/vm/test_munmap" -- test_munmap
