#!/usr/bin/env bash
# The README's demo command: install what is missing, build, boot the
# two-tier test guest (node 0: CPUs + fast memory, node 1: CPU-less slow
# memory) and show HyperTier placing a GUPS hot set in it:
#   1. hypertier-info here and in the guest;
#   2. examples/gups-hotset, unmodified (-u: it calls no HyperTier API),
#      under LD_PRELOAD=libhypertier.so in the Debian 13 (6.12) guest, where
#      the kernel's DAMON reports the accesses (sample=damon; no PMU in the
#      guest), every page starting on the slow node, twice: HyperTier off
#      (enable=0), then on with a fast quota;
#   3. throughput per phase, share of the hot set on node 0 over time,
#      pages exchanged, whether the fast quota held, and plots;
#   4. the simulator's modelled speed-up for the same shape of workload.
# DEMO_SECS (default 40) seconds per phase; DEMO_OUT (default build/demo).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$src/build}
. "$src/tools/deps.sh"
ht_ensure_packages "$src"
ht_build "$src" "$build"
make -s -C "$build/bench" ht-bench >/dev/null
make -s -C "$build/tests" vm/damon_busy >/dev/null
export abs_top_builddir=$build abs_top_srcdir=$src
secs=${DEMO_SECS:-40}
out=${DEMO_OUT:-$build/demo}
mkdir -p "$out"
mib=128 quota=32M

echo "== hypertier-info on this machine"
"$build/tools/hypertier-info"
echo
echo "== Booting the two-tier guest (QEMU, Debian 13's 6.12 kernel with DAMON; the first run downloads it) ..."
echo "   gups-hotset: ${mib} MiB, 10% of it gets 90% of the updates; unmodified: it reports nothing,"
echo "   the kernel's DAMON finds the hot set; every page starts on node 1 (slow); ${secs} s per phase"
conf_on="sample=damon,fast_quota=$quota,stats_log=/tmp/on.jsonl,stats_interval=1s"
# one vCPU and a ticker: TCG's soft TLB would hide accesses from DAMON (tests/vm/README.md)
"$src/tests/vm/run-guest" --kernel 6.12 --smp 1 --hmat --timeout $((2 * secs + 240)) \
	--bin "$build/tools/hypertier-info" --bin "$build/examples/gups-hotset" --bin "$build/tests/vm/damon_busy" \
	--lib "$build/preload/libhypertier.la" -- "
damon_busy --tick 100000 &
hypertier-info | sed -n '1,6p'
hypertier-info | grep 'sample=auto'
echo '@@phase off'
HYPERTIER_CONF=enable=0 LD_PRELOAD=/t/lib/libhypertier.so gups-hotset -u -s $mib -t $secs -n 1
echo '@@phase on'
HYPERTIER_CONF=$conf_on LD_PRELOAD=/t/lib/libhypertier.so gups-hotset -u -s $mib -t $secs -n 1 -i 5
echo '@@stats'
sed 's/,\"top_sites\".*/}/' /tmp/on.jsonl
" 2>"$out/guest.err" | tee "$out/guest.txt" | grep -v '^{' | grep -v '^@@'
python3 "$src/bench/demo_report.py" "$out/guest.txt" "$out" $((mib * 1024 * 1024 / 10)) || true

if command -v gnuplot >/dev/null && [ -s "$out/demo-timeline.csv" ]; then
	gnuplot <<G
set terminal pngcairo size 1000,420 noenhanced
set datafile separator ","
set output "$out/demo-hot-share.png"
set title "HyperTier on: hot memory on node 0 (engine's placement scan) and sampled accesses served by node 0"
set xlabel "seconds"; set ylabel "%"; set yrange [0:105]; set grid; set key bottom right
plot "$out/demo-timeline.csv" using 1:(\$4*100) skip 1 with linespoints lw 2 title "densest hot-set-sized memory on node 0", \
     "" using 1:(\$7 < 0 ? NaN : \$7*100) skip 1 with lines lw 1 title "sampled accesses on node 0"
set output "$out/demo-fast-use.png"
set title "fast-tier use against the quota"
set ylabel "MiB"; set yrange [0:*]
plot "$out/demo-timeline.csv" using 1:2 skip 1 with lines lw 2 title "fast tier used", \
     "" using 1:3 skip 1 with lines dt 2 title "budget (quota - watermark)"
G
	echo "  plots: $out/demo-hot-share.png $out/demo-fast-use.png"
fi

echo
echo "== What the speed-up would be: the simulator (bench/), same shape of workload"
echo "   (hot 10% / 90%, fast tier = 1/4 of the footprint, DRAM/Optane 70/180 ns)"
"$build/bench/ht-bench" --policies='first-touch;hypertier;oracle-cost' --workloads=gups-hot --fast-ratio=0.25 \
	--footprint=${mib}M --accesses=30000000 --hot-offset=0.3 | sed 's/^/  /'
cat <<'T'

Note: the test guest has NO latency difference between its two nodes (both
are ordinary host RAM under QEMU), so any throughput difference between the
two phases is noise (TCG on a shared host) or HyperTier's own cost, never
faster memory. What is real in the guest is
the placement: which pages sit on node 0, read back with move_pages, pages
exchanged, the quota held. The speed-up is the simulator's, modelled with
published DRAM/Optane latencies (bench/, "Measured results" in README.md).
T
