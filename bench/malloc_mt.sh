#!/bin/sh
# malloc_mt.sh - the preload's CPU cost on a multi-threaded allocation
# benchmark (ovh/malloc_mt: 8 threads, the malloc family, cross-thread
# frees), into bench/results/overhead-malloc-mt.csv: user, sys and madvise
# calls under no preload, plain jemalloc (Debian's libjemalloc.so.2, the
# baseline) and libhypertier.so (default configuration). Modes alternate
# within a round; medians of ROUNDS (default 7); OPS per thread (default 1 M).
set -eu
: "${top_srcdir:?run through make bench-malloc}" "${top_builddir:?}"
R=$top_srcdir/bench/results
HT=$top_builddir/preload/.libs/libhypertier.so
JE=$(ls /usr/lib/*/libjemalloc.so.2 2>/dev/null | head -1)
MT=$top_builddir/bench/ovh/malloc_mt
ROUNDS=${ROUNDS:-7} OPS=${OPS:-1000000}
[ -f "$HT" ] && [ -n "$JE" ] && [ -x "$MT" ] || { echo "malloc_mt: need $HT, $MT and libjemalloc.so.2" >&2; exit 1; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for r in $(seq "$ROUNDS"); do
	env -u LD_PRELOAD "$MT" 8 "$OPS" >>"$tmp/none"
	LD_PRELOAD=$JE "$MT" 8 "$OPS" >>"$tmp/je"
	env -u HYPERTIER_CONF LD_PRELOAD=$HT "$MT" 8 "$OPS" >>"$tmp/ht"
done
col() { awk -v c=$1 '{print c == 0 ? $1 + $2 : $c}' "$tmp/$2" | median; }
{
	echo "mode,user_s,sys_s,cpu_s,madvise_calls,cpu_ratio_over_jemalloc,madvise_ratio_over_jemalloc"
	jc=$(col 0 je) jm=$(col 4 je)
	for m in none je ht; do
		c=$(col 0 $m) md=$(col 4 $m)
		echo "$m,$(col 1 $m),$(col 2 $m),$c,$md,$(awk -v a=$c -v b=$jc 'BEGIN {printf "%.3f", a / b}'),$(awk -v a=$md -v b=$jm 'BEGIN {printf "%.3f", b ? a / b : 0}')"
	done
	echo "# 8 threads x $OPS operations; medians of $ROUNDS alternating rounds; madvise counted in the program (glibc's malloc: not counted)"
	echo "# host: $(nproc) CPUs, NUMA nodes with memory: $(cat /sys/devices/system/node/has_memory 2>/dev/null || echo ?)"
} | tee "$R/overhead-malloc-mt.csv"
