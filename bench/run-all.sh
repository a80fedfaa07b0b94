#!/bin/sh
# run-all.sh - everything `make bench` runs, from scratch, into bench/results/:
#   1. the policy simulator on the synthetic workloads (fast ratios 1/8, 1/5, 1/3)
#   2. the recorded traces of real programs (traces.sh; cached in results/traces/)
#   3. the overhead benchmarks (overhead.sh)
#   4. the plots (plots.sh)
# Environment: top_srcdir, top_builddir (set by the Makefile); BENCH_QUICK=1
# runs shorter traces (for a smoke run); BENCH_SKIP="traces guest preload"
# leaves parts out.
set -eu
: "${top_srcdir:?run through make bench}" "${top_builddir:?}"
B=$top_builddir/bench
R=$top_srcdir/bench/results
mkdir -p "$R"
ACC=40000000
[ "${BENCH_QUICK:-0}" = 1 ] && ACC=10000000
skip() { case " ${BENCH_SKIP:-} " in *" $1 "*) return 0 ;; esac; return 1; }

echo "== policy simulator: synthetic workloads (DRAM/Optane 70/180 ns) =="
"$B/ht-bench" --accesses=$ACC --ratios='1/8;1/5;1/3' --out="$R/synthetic" | tee "$R/synthetic.txt"
echo "== the same, emulated CXL (70/120 ns), fast 1/5 =="
"$B/ht-bench" --accesses=$ACC --slow-ns=120 --heat=0 --out="$R/synthetic-cxl" | tee "$R/synthetic-cxl.txt"

if ! skip traces; then
	echo "== traces of real programs =="
	sh "$top_srcdir/bench/traces.sh"
fi
echo "== overhead =="
sh "$top_srcdir/bench/overhead.sh"
echo "== summary tables =="
{
	echo "## Synthetic workloads, DRAM/Optane 70/180 ns"; echo
	sh "$top_srcdir/bench/summary.sh" "$R/synthetic/results.csv"
	echo "## Synthetic workloads, emulated CXL 70/120 ns"; echo
	sh "$top_srcdir/bench/summary.sh" "$R/synthetic-cxl/results.csv"
	if [ -f "$R/traces/results.csv" ]; then
		echo "## Traces of real programs (valgrind lackey), DRAM/Optane"; echo
		sh "$top_srcdir/bench/summary.sh" "$R/traces/results.csv"
	fi
} >"$R/summary.md"
echo "== plots =="
sh "$top_srcdir/bench/plots.sh"
echo "results in $R"
