#!/bin/sh
# Sourced by the redis guest scripts (redis_guest.sh, redis_fault_guest.sh):
# TAP helpers and a redis-server started plain or under the preload
# (LD_PRELOAD=$SO, HYPERTIER_CONF=$CONF as set by the caller).
n=0
t() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi; }
# check "description" 'shell condition': the condition is evaluated as a whole
check() { d=$1; shift; if eval "$*"; then t 0 "$d"; else t 1 "$d"; fi; }
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
stop() { c shutdown nosave >/dev/null 2>&1; wait "$1"; }
