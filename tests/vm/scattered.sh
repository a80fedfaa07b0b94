#!/bin/sh
# Guest test: single hot pages inside cold ranges reach node 0 through the page layer.
vm=${abs_top_srcdir:-$(dirname "$0")/../..}/tests/vm
exec "$vm/run-guest" --timeout 300 --smp 1 --append no_timer_check --bin "${abs_top_builddir:-.}/tests/vm/test_scattered" -- test_scattered
