#!/bin/sh
# Guest test: the engine finds and follows a GUPS hot set with real move_pages.
# One vCPU: under TCG every migrated page of a process running on another
# vCPU costs a cross-CPU TLB flush that stops all vCPUs (seconds per 1000 pages).
vm=${abs_top_srcdir:-$(dirname "$0")/../..}/tests/vm
exec "$vm/run-guest" --timeout 400 --smp 1 --bin "${abs_top_builddir:-.}/tests/vm/test_hotset" -- test_hotset
