#!/bin/sh
# Guest test: the engine finds and follows a GUPS hot set with real move_pages.
# One vCPU: with two, migrating pages of a process that runs on the other vCPU
# crawled under TCG (21 epochs took 182 s, against 22 s with one vCPU; likely
# the per-page cross-vCPU TLB flush, which TCG runs with every vCPU stopped). no_timer_check: a loaded host made the
# guest kernel panic in its IO-APIC timer check once.
vm=${abs_top_srcdir:-$(dirname "$0")/../..}/tests/vm
exec "$vm/run-guest" --timeout 400 --smp 1 --append no_timer_check --bin "${abs_top_builddir:-.}/tests/vm/test_hotset" -- test_hotset
