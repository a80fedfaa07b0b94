#!/bin/sh
# guest.sh - `make bench-guest`: HyperTier against the kernel's own tiering,
# side by side in one 6.12 test guest (TCG, one vCPU, ACPI HMAT: node 1 in a
# lower memory tier). Node 0 has 320 MiB, less than the 384 MiB footprint,
# so the kernel's schemes face the same limit as our budget (no fast_quota:
# free memory above the watermark). Candidates: first-touch (nothing runs),
# NUMA-balancing tiering mode, DAMOS migrate_hot/migrate_cold, HyperTier
# with sample=damon (unmodified program) and with software-reported samples.
# Workloads: hot-set GUPS, Zipf GUPS, a hot set that moves halfway.
# Writes bench/results/guest-tiering.{log,csv,md} and guest-tiering.png.
# The guest has no latency difference between its nodes: throughput shows
# cost, not speed-up. GB_SECS (default 30) is the run length.
# GB_MODE=regions: sample=damon's cost at 100, 1 000 and 10 000 DAMON
# regions instead (bench/results/guest-damon-regions.*).
set -eu
: "${top_srcdir:?run through make bench-guest}" "${top_builddir:?}"
R=$top_srcdir/bench/results
b=$(cd "$top_builddir" && pwd)
mkdir -p "$R"
T=${GB_SECS:-30}
mode=${GB_MODE:-all}
out=guest-tiering
[ "$mode" = regions ] && out=guest-damon-regions
abs_top_builddir=$b "$top_srcdir/tests/vm/run-guest" --kernel 6.12 --smp 1 --hmat --mem-fast 320M --mem-slow 1024M \
	--timeout $((T * 25 + 600)) --lib "$b/preload/libhypertier.la" --bin "$b/examples/gups-hotset" \
	--bin "$b/tests/vm/damon_busy" --file "$top_srcdir/bench/guest_run.sh" -- "sh /t/guest_run.sh $T $mode" >"$R/$out.log"
python3 "$top_srcdir/bench/guest_report.py" "$R/$out.log" "$R/$out"
