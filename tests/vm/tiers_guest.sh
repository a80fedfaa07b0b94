#!/bin/sh
# Guest side of tiers.sh: print what the kernel says about memory tiers and,
# where it has DAMON, what DAMON's vaddr monitoring sees of damon_busy's hot
# and cold buffers (damon:damon_aggregated). The host side judges.
echo "kernel $(uname -r)"
for t in /sys/devices/virtual/memory_tiering/memory_tier*; do
	[ -f "$t/nodelist" ] && echo "tier ${t##*/} $(cat "$t/nodelist")"
done
D=/sys/kernel/mm/damon/admin/kdamonds
if [ ! -d $D ]; then
	echo "damon none"
	exit 0
fi
echo "damon sysfs"
echo 1 >$D/nr_kdamonds && echo 1 >$D/0/contexts/nr_contexts || exit 1
C=$D/0/contexts/0
echo "avail $(tr '\n' ' ' <$C/avail_operations)"
(cd $C && find . | sort | sed 's/^/ctx /')
E=/sys/kernel/tracing/events/damon/damon_aggregated
sed 's/^/fmt /' $E/format
damon_busy /tmp/bufs 60 &
busy=$!
i=0
while [ ! -f /tmp/bufs ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
sed 's/^/buf /' /tmp/bufs
echo vaddr >$C/operations &&
	echo 1 >$C/targets/nr_targets &&
	echo $busy >$C/targets/0/pid_target &&
	echo 1 >$E/enable &&
	echo on >$D/0/state || exit 1
echo "attrs sample_us=$(cat $C/monitoring_attrs/intervals/sample_us) aggr_us=$(cat $C/monitoring_attrs/intervals/aggr_us)"
# 25 aggregations (aggr_us each; the host skips the first 10), 30 s at most:
# a loaded host slows the guest. Each one lists its regions in address order.
aggs() {
	sed -n 's/.*damon_aggregated: //p' /sys/kernel/tracing/trace |
		awk '{ split($3, r, "-"); s = r[1] + 0; if (NR == 1 || s < p) n++; p = s } END { print n + 0 }'
}
i=0
while [ "$(aggs)" -lt 25 ] && [ $i -lt 60 ]; do sleep 0.5; i=$((i + 1)); done
echo off >$D/0/state
echo 0 >$E/enable
kill $busy
wait
sed -n 's/.*damon_aggregated: /agg /p' /sys/kernel/tracing/trace
