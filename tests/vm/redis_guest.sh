#!/bin/sh
# Runs inside the guest (see redis.sh). One TAP stream on stdout.
CONF=fast_quota=32M,sample=software,epoch=500ms,site_threshold=256K
. /t/redis_lib.sh
# A fixed data set, built by the server itself: 150k small keys, 48 values of 1 MiB, lists and hashes.
load() {
	c debug populate 150000 key 120 >/dev/null
	i=0
	while [ $i -lt 48 ]; do
		c setrange big:$i 1048575 x >/dev/null
		c rpush list:$i a b c $i >/dev/null
		c hset hash:$i f $i g big:$i >/dev/null
		i=$((i + 1))
	done
}

P=7001
start $P /tmp/plain
t $? "plain redis-server starts"
load
ref=$(c debug digest)
stop $pid

P=7002
start $P /tmp/ht 1
t $? "redis-server starts with LD_PRELOAD=libhypertier.so, runtime on ($CONF)"
hpid=$pid
load
dig=$(c debug digest)
check "DEBUG DIGEST equals the plain server's ($dig)" '[ ${#ref} = 40 ] && [ "$dig" = "$ref" ]'
# pages of the server on each node (numa_maps: N0=pages N1=pages)
n0=$(sed -n 's/.* N0=\([0-9]*\).*/\1/p' /proc/$hpid/numa_maps | awk '{s += $1} END {print s + 0}')
n1=$(sed -n 's/.* N1=\([0-9]*\).*/\1/p' /proc/$hpid/numa_maps | awk '{s += $1} END {print s + 0}')
echo "# redis pages: node 0 $((n0 * 4 / 1024)) MiB, node 1 $((n1 * 4 / 1024)) MiB"
check "the data spilled past the fast quota onto node 1 ($((n1 * 4 / 1024)) MiB)" '[ "$n1" -gt $((32 * 256)) ]'
sleep 1
htstat --json $hpid >/tmp/hs 2>&1
check "htstat reads the live server: runtime on" 'grep -q "\"enabled\":1" /tmp/hs'
check "the server's big allocations are recorded as call sites (top_sites listed)" 'grep -q "\"top_sites\":\[{" /tmp/hs'
htstat $hpid 2>&1 | sed -n '/top sites/,$p' | head -4 | sed 's/^/# /'
used=$(sed -n 's/.*"fast_used":\([0-9]*\).*/\1/p' /tmp/hs)
check "managed fast-tier use within the 32 MiB quota ($((${used:-0} >> 20)) MiB)" '[ -n "$used" ] && [ "$used" -le $((32 << 20)) ]'
LD_PRELOAD=$SO HYPERTIER_CONF=$CONF redis-benchmark -p $P --dbnum 1 -q -n 3000 -r 1000 -d 256 -t set,get,lpush,lrange_100,hset >/tmp/bench 2>&1
rc=$?
check "redis-benchmark (preloaded, runtime on) completes against it" '[ $rc = 0 ] && grep -q "LRANGE_100" /tmp/bench'
tr '\r' '\n' </tmp/bench | grep "requests per second" | sed 's/^/# /'
c -n 1 flushdb >/dev/null
check "digest unchanged by the benchmark's database" '[ "$(c debug digest)" = "$ref" ]'
before=$(c lastsave)
c bgsave >/dev/null
i=0
while [ $i -lt 300 ] && [ "$(c lastsave)" = "$before" ]; do sleep 0.1; i=$((i + 1)); done
check "BGSAVE: the forked child wrote dump.rdb" '[ "$(c lastsave)" != "$before" ] && [ -s /tmp/ht/dump.rdb ]'
c debug reload >/dev/null
check "DEBUG RELOAD (free everything, load again) keeps the digest" '[ "$(c debug digest)" = "$ref" ]'
check "values read back" '[ "$(c strlen big:47)" = 1048576 ] && [ "$(c hget hash:7 g)" = big:7 ]'
stop $hpid
t $? "the preloaded server shuts down cleanly"
grep -i hypertier /tmp/ht/out /tmp/ht/err | head -5 | sed 's/^/# /'
check "nothing from the runtime in its output" '! grep -qi hypertier /tmp/ht/out /tmp/ht/err'
# the fork child's dump loads into a plain server with the same digest
P=7003
mkdir -p /tmp/re
cp /tmp/ht/dump.rdb /tmp/re/
start $P /tmp/re
t $? "a plain server starts from the preloaded server's dump.rdb"
check "and holds the same data" '[ "$(c debug digest)" = "$ref" ]'
stop $pid
left=$(ls /run/hypertier /tmp/hypertier-0 2>/dev/null | grep -c "\.stats$")
check "no stats file left behind ($left)" '[ "$left" = 0 ]'
echo "1..$n"
