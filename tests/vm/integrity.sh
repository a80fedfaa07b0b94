#!/bin/sh
# Guest test: zero corrupt bytes while >= 100k pages are exchanged under writers.
# One vCPU: see hotset.sh (migration under TCG crawls with two);
# writers are still preempted mid-page by the exchange.
vm=${abs_top_srcdir:-$(dirname "$0")/../..}/tests/vm
exec "$vm/run-guest" --timeout 400 --smp 1 --append no_timer_check --bin "${abs_top_builddir:-.}/tests/vm/test_integrity" -- test_integrity
