#!/bin/bash
# exec_cost.sh - what the preload costs every program, into
# bench/results/overhead-exec.csv: CPU (user+sys, children included) of a
# shell loop of N execs of /bin/true and of a bash loop of N subshells and
# command substitutions (forks, no exec), each under: no preload, plain
# jemalloc (Debian's libjemalloc.so.2, the baseline), libhypertier.so with
# enable=0, and libhypertier.so with the default configuration (on a
# one-node host the runtime switches itself off). Modes alternate within a
# round; medians of ROUNDS (default 7). N defaults to 500.
set -eu
: "${top_srcdir:?run through make bench-exec}" "${top_builddir:?}"
R=$top_srcdir/bench/results
HT=$top_builddir/preload/.libs/libhypertier.so
JE=$(ls /usr/lib/*/libjemalloc.so.2 2>/dev/null | head -1)
N=${N:-500} ROUNDS=${ROUNDS:-7}
[ -f "$HT" ] && [ -n "$JE" ] || { echo "exec_cost: need $HT and libjemalloc.so.2" >&2; exit 1; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# CPU seconds of one loop under one mode: bash's `times` after the loop's child exits.
cpu() {
	local mode=$1 loop=$2 pre= conf=
	case $mode in
	je) pre=$JE ;;
	ht-off) pre=$HT conf=enable=0 ;;
	ht) pre=$HT ;;
	esac
	( if [ -n "$pre" ]; then export LD_PRELOAD=$pre; fi
	  if [ -n "$conf" ]; then export HYPERTIER_CONF=$conf; else unset HYPERTIER_CONF; fi
	  case $loop in
	  exec) sh -c 'i=0; while [ $i -lt '$N' ]; do /bin/true; i=$((i + 1)); done' ;;
	  subshell) bash -c 'for ((i = 0; i < '$N'; i++)); do (:); v=$(echo $i); done' ;;
	  esac
	  times >"$tmp/times" # a builtin, no fork: the children are the loop's
	  awk 'NR == 2 {gsub(/[ms]/, " "); print $1 * 60 + $2 + $3 * 60 + $4}' "$tmp/times" )
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
modes="none je ht-off ht"
for r in $(seq "$ROUNDS"); do
	for loop in exec subshell; do
		for m in $modes; do cpu $m $loop >>"$tmp/$m.$loop"; done
	done
done
{
	echo "mode,exec_loop_cpu_s,subshell_loop_cpu_s,exec_ratio_over_jemalloc,subshell_ratio_over_jemalloc"
	je_e=$(median <"$tmp/je.exec") je_s=$(median <"$tmp/je.subshell")
	for m in $modes; do
		e=$(median <"$tmp/$m.exec") s=$(median <"$tmp/$m.subshell")
		echo "$m,$e,$s,$(awk -v a=$e -v b=$je_e 'BEGIN {printf "%.3f", a / b}'),$(awk -v a=$s -v b=$je_s 'BEGIN {printf "%.3f", a / b}')"
	done
	echo "# $N execs of /bin/true from sh; $N bash subshells + command substitutions; user+sys of the loop and its children; medians of $ROUNDS alternating rounds"
	echo "# host: $(nproc) CPUs, NUMA nodes with memory: $(cat /sys/devices/system/node/has_memory 2>/dev/null || echo ?)"
} | tee "$R/overhead-exec.csv"
