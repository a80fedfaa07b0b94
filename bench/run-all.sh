#!/bin/sh
# run-all.sh - everything `make bench` runs, from scratch, into bench/results/:
#   1. the policy simulator on the synthetic workloads (fast ratios 1/8, 1/5, 1/3;
#      llc mode is the main set, all mode a second one for comparison)
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
# 200M accesses: 15-30 s of modelled time per synthetic workload (LLC
# misses cost their tier's latency, hits 1 ns), i.e. 30-60 engine epochs.
ACC=200000000
[ "${BENCH_QUICK:-0}" = 1 ] && ACC=40000000
skip() { case " ${BENCH_SKIP:-} " in *" $1 "*) return 0 ;; esac; return 1; }
PERIODS='101;1009;10007'

# sim OUT ARGS...: ht-bench over the synthetic workloads, two processes at
# a time (the workloads split in two), merged into OUT/*.csv.
sim() {
	out=$1; shift
	rm -rf "$out"; mkdir -p "$out"
	"$B/ht-bench" --workloads="gups-hot;zipf-scrambled;uniform" --out="$out/a" "$@" >"$out/a.txt" &
	pa=$!
	"$B/ht-bench" --workloads="zipf;moving-hot" --out="$out/b" "$@" >"$out/b.txt" || { wait $pa; return 1; }
	wait $pa
	for f in results.csv timeline.csv; do
		{ cat "$out/a/$f"; tail -n +2 "$out/b/$f"; } >"$out/$f"
	done
	cat "$out/a/results.md" "$out/b/results.md" >"$out/results.md"
	mv "$out"/a/heat-*.dat "$out"/b/heat-*.dat "$out/" 2>/dev/null || true
	cat "$out/a.txt" "$out/b.txt"
	rm -rf "$out/a" "$out/b" "$out/a.txt" "$out/b.txt"
}

t0=$(date +%s)
echo "== policy simulator: synthetic workloads, llc mode (DRAM/Optane 70/180 ns), sample periods $PERIODS =="
sim "$R/synthetic" --accesses=$ACC --ratios='1/8;1/5;1/3' --periods="$PERIODS" | tee "$R/synthetic.txt"
echo "== the same, emulated CXL (70/120 ns), fast 1/5 =="
sim "$R/synthetic-cxl" --accesses=$ACC --slow-ns=120 --heat=0 | tee "$R/synthetic-cxl.txt"
echo "== the same, all mode (every access reaches memory, no LLC), fast 1/5: for comparison =="
sim "$R/synthetic-all" --mode=all --accesses=$ACC --periods="$PERIODS" --heat=0 | tee "$R/synthetic-all.txt"
echo "simulator: $(( $(date +%s) - t0 )) s"

if ! skip traces; then
	echo "== traces of real programs =="
	sh "$top_srcdir/bench/traces.sh"
fi
echo "== overhead =="
sh "$top_srcdir/bench/overhead.sh"
echo "== summary tables =="
{
	echo "## Synthetic workloads, DRAM/Optane 70/180 ns, llc mode (main set)"; echo
	sh "$top_srcdir/bench/summary.sh" "$R/synthetic/results.csv"
	echo "## Synthetic workloads, emulated CXL 70/120 ns, llc mode"; echo
	sh "$top_srcdir/bench/summary.sh" "$R/synthetic-cxl/results.csv"
	echo "## Synthetic workloads, DRAM/Optane 70/180 ns, all mode (every access reaches memory; for comparison)"; echo
	sh "$top_srcdir/bench/summary.sh" "$R/synthetic-all/results.csv"
	if [ -f "$R/traces/results.csv" ]; then
		echo "## Traces of real programs (valgrind lackey), DRAM/Optane"; echo
		sh "$top_srcdir/bench/summary.sh" "$R/traces/results.csv"
	fi
} >"$R/summary.md"
echo "== plots =="
sh "$top_srcdir/bench/plots.sh"
echo "results in $R"
