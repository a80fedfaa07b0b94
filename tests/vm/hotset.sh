#!/bin/sh
# Guest test: the engine finds and follows a GUPS hot set with real move_pages.
# One vCPU: under TCG every migrated page of a process running on another
# vCPU costs a cross-CPU TLB flush that stops all vCPUs (measured: 21 epochs took
# 182 s with 2 vCPUs, 22 s with one). no_timer_check: a loaded host made the
# guest kernel panic in its IO-APIC timer check once.
vm=${abs_top_srcdir:-$(dirname "$0")/../..}/tests/vm
exec "$vm/run-guest" --timeout 400 --smp 1 --append no_timer_check --bin "${abs_top_builddir:-.}/tests/vm/test_hotset" -- test_hotset
