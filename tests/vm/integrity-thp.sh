#!/bin/sh
# Guest test: integrity.sh on transparent huge pages (test_integrity thp).
vm=${abs_top_srcdir:-$(dirname "$0")/../..}/tests/vm
exec "$vm/run-guest" --timeout 400 --smp 1 --append no_timer_check --bin "${abs_top_builddir:-.}/tests/vm/test_integrity" -- 'test_integrity thp'
