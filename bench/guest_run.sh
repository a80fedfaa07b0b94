#!/bin/sh
# guest_run.sh SECONDS [regions] - runs inside the 6.12 test guest
# (bench/guest.sh): every workload under every candidate, same guest, same
# node 0 (smaller than the footprint), every page starting on node 1.
# "regions": instead, sample=damon alone on the hot-set GUPS at 100, 1 000
# and 10 000 DAMON regions (kdamond and runtime CPU, time to 90%).
# Prints tagged lines for guest_report.py. busybox sh.
T=${1:-30}
MODE=${2:-all}
K=/sys/kernel/mm/damon/admin/kdamonds
P=LD_PRELOAD=/t/lib/libhypertier.so
damon_busy --tick 100000 & # TCG's soft TLB: see tests/vm/README.md

w() { echo "$2" >"$1" || echo "WARN cannot write $2 to $1"; }
vm() { awk '/^(pgmigrate_success|pgpromote_success|pgdemote_kswapd|pgdemote_direct) /{printf "%s=%s ", $1, $2} END {print ""}' /proc/vmstat; }
# CPU ticks (utime+stime) of kdamond, kswapd and the runtime's ht-* threads
cpu() {
	for s in /proc/[0-9]*/task/[0-9]*/stat; do read -r l <"$s" 2>/dev/null && echo "$l"; done |
		awk '{c=$2; gsub(/[()]/,"",c); t=$14+$15; if (c ~ /^kdamond/) k+=t; else if (c ~ /^kswapd/) s+=t; else if (c ~ /^ht-/) h+=t}
		     END {print k+0, s+0, h+0}'
}
# node N's physical range from its memory blocks
range() {
	bs=$((0x$(cat /sys/devices/system/memory/block_size_bytes)))
	ids=$(ls -d /sys/devices/system/node/node$1/memory[0-9]* | sed 's/.*memory//' | sort -n)
	lo=$(echo "$ids" | head -n 1); hi=$(echo "$ids" | tail -n 1)
	echo "$((lo * bs)) $(((hi + 1) * bs))"
}
# one paddr kdamond: node $2's range, scheme action $3 to node $4, nr_accesses $5-$6, age >= $7
damos_kd() {
	d=$K/$1/contexts
	w $d/nr_contexts 1; w $d/0/operations paddr
	w $d/0/targets/nr_targets 1; w $d/0/targets/0/regions/nr_regions 1
	set -- "$@" $(range $2)
	w $d/0/targets/0/regions/0/start $8; w $d/0/targets/0/regions/0/end $9
	s=$d/0/schemes
	w $s/nr_schemes 1; w $s/0/action $3; w $s/0/target_nid $4
	w $s/0/access_pattern/sz/min 4096; w $s/0/access_pattern/sz/max 1099511627776
	w $s/0/access_pattern/nr_accesses/min $5; w $s/0/access_pattern/nr_accesses/max $6
	w $s/0/access_pattern/age/min $7; w $s/0/access_pattern/age/max 4294967295
	w $s/0/quotas/ms 0; w $s/0/quotas/bytes 209715200; w $s/0/quotas/reset_interval_ms 1000
	w $s/0/watermarks/metric none
}
setup() {
	case $1 in
	kernel-tiering)
		w /proc/sys/kernel/numa_balancing 2; w /sys/kernel/mm/numa/demotion_enabled 1 ;;
	damos)
		# the kernel docs' tiering pair: cold (no access for 1 s) node 0 -> 1,
		# hot (>= 1 of 20 checks) node 1 -> 0, each at most 200 MiB/s
		w $K/nr_kdamonds 2
		damos_kd 0 0 migrate_cold 1 0 0 10
		damos_kd 1 1 migrate_hot 0 1 20 0
		w $K/0/state on; w $K/1/state on ;;
	esac
}
teardown() {
	w /proc/sys/kernel/numa_balancing 0; w /sys/kernel/mm/numa/demotion_enabled 0
	if [ "$(cat $K/nr_kdamonds)" != 0 ]; then
		for d in $K/[0-9]*; do [ "$(cat $d/state)" = on ] && w $d/state off; done
		sleep 1; w $K/nr_kdamonds 0
	fi
}
if [ "$MODE" = regions ]; then
	for nr in 100 1000 10000; do
		echo "RUN regions-$nr hypertier-damon $T"
		echo "VM0 $(vm)"; echo "CPU0 $(cpu)"
		(sleep $((T - 1)); echo "CPU1 $(cpu)") & snap=$!
		env $P HYPERTIER_CONF=sample=damon,damon_regions_min=$nr,damon_regions_max=$nr,stats_log=/tmp/sl \
			gups-hotset -u -s 384 -h 10 -a 90 -n 1 -t $T -i 1
		wait $snap
		echo "VM1 $(vm)"
		[ -f /tmp/sl ] && echo "HT $(tail -n 1 /tmp/sl | sed -n 's/.*"pages_promoted":\([0-9]*\),"pages_demoted":\([0-9]*\),.*/\1 \2/p')"
		[ -f /tmp/sl ] && echo "LOST $(tail -n 1 /tmp/sl | sed -n 's/.*"samples":\([0-9]*\),"samples_lost":\([0-9]*\),.*/\1 \2/p')"
		rm -f /tmp/sl
		echo "END"
	done
	exit 0
fi
for wl in hotset zipf moving; do
	case $wl in
	hotset) a="-s 384 -h 10 -a 90"; t=$T ;;
	zipf) a="-s 384 -h 10 -z 0.99"; t=$T ;;
	moving) a="-s 384 -h 10 -a 90 -m"; t=$((T * 4 / 3)) ;;
	esac
	for c in first-touch kernel-tiering damos hypertier-damon hypertier-software; do
		echo "RUN $wl $c $t"
		sync; echo 3 >/proc/sys/vm/drop_caches
		setup $c
		echo "VM0 $(vm)"; echo "CPU0 $(cpu)"
		(sleep $((t - 1)); echo "CPU1 $(cpu)") & snap=$!
		case $c in
		hypertier-damon) env $P HYPERTIER_CONF=sample=damon,stats_log=/tmp/sl gups-hotset -u $a -n 1 -t $t -i 1 ;;
		hypertier-software) env $P HYPERTIER_CONF=sample=software,stats_log=/tmp/sl gups-hotset $a -n 1 -t $t -i 1 ;;
		*) gups-hotset -u $a -n 1 -t $t -i 1 ;;
		esac
		wait $snap
		echo "VM1 $(vm)"
		[ -f /tmp/sl ] && echo "HT $(tail -n 1 /tmp/sl | sed -n 's/.*"pages_promoted":\([0-9]*\),"pages_demoted":\([0-9]*\),.*/\1 \2/p')"
		rm -f /tmp/sl
		teardown
		echo "END"
	done
done
