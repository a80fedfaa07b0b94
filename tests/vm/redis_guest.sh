#!/bin/sh
# Runs inside the guest (see redis.sh). One TAP stream on stdout.
n=0
t() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi; }
# check "description" 'shell condition': the condition is evaluated as a whole
check() { d=$1; shift; if eval "$*"; then t 0 "$d"; else t 1 "$d"; fi; }
CONF=fast_quota=32M,sample=software,epoch=500ms,site_threshold=256K
SO=/t/lib/libhypertier.so
ifconfig lo 127.0.0.1 up 2>/dev/null || ip link set lo up

# start PORT DIR [preload]: a server in the foreground of a subshell, ready when PING answers
start() {
	mkdir -p "$2"
	if [ -n "$3" ]; then
		LD_PRELOAD=$SO HYPERTIER_CONF=$CONF redis-server --port "$1" --bind 127.0.0.1 --save "" --appendonly no \
			--dir "$2" --enable-debug-command yes >"$2/out" 2>"$2/err" &
	else
		redis-server --port "$1" --bind 127.0.0.1 --save "" --appendonly no \
			--dir "$2" --enable-debug-command yes >"$2/out" 2>"$2/err" &
	fi
	pid=$!
	i=0
	while [ $i -lt 300 ]; do
		[ "$(redis-cli -p "$1" ping 2>/dev/null)" = PONG ] && return 0
		kill -0 $pid 2>/dev/null || break
		sleep 0.1
		i=$((i + 1))
	done
	echo "Bail out! redis-server on port $1 did not answer: $(cat "$2/out" "$2/err" | tail -5)"
	kill $pid 2>/dev/null
	exit 1
}
c() { redis-cli -p "$P" "$@"; }
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
stop() { c shutdown nosave >/dev/null 2>&1; wait "$1"; }

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
