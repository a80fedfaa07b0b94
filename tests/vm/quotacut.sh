#!/bin/sh
# Guest test: the fast quota cut by 90% while writers run and pages are being
# exchanged (test_integrity cut): held from the second epoch after the cut,
# no byte lost, no deadlock. One vCPU, as integrity.sh.
vm=${abs_top_srcdir:-$(dirname "$0")/../..}/tests/vm
exec "$vm/run-guest" --timeout 400 --smp 1 --append no_timer_check --bin "${abs_top_builddir:-.}/tests/vm/test_integrity" -- 'test_integrity cut'
