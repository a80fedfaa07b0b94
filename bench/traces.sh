#!/bin/sh
# traces.sh - real programs traced with every data access kept, converted
# to HyperTier traces (ht-trace-convert), then replayed by the simulator at
# fast-tier ratios 1/8, 1/5, 1/3.
# Tracer: QEMU user mode (qemu-user) with the TCG plugin traces/qtrace.c,
# built here against the qemu-plugin.h of the installed QEMU's Debian
# source package (traces/qemu-plugin-header.sh fetches it once into
# build/bench/qemu-plugin/). It writes about 30 M accesses/s here (a C
# loop: 131 M in 4 s, converter included), ~450x lackey. Without it (no
# qemu-user, no header) valgrind lackey is the fallback: about 70 k
# accesses/s (one write(2) a line), so its captures touch only 2-22 MiB.
# The tracer used is printed and written to footprint.txt.
# Each capture is bounded by time, BENCH_TRACE_SECS (default 120) for the
# small programs, BENCH_BIG_TRACE_SECS (default 240) for the big ones
# (plus BENCH_TRACE_STARTUP_SECS, default 180 under lackey, 30 under QEMU,
# for redis start-up), and under QEMU by BENCH_TRACE_MAX accesses (default
# 250 M: a ~1.4 GB trace the simulator loads in ~6 GB); the plugin ends the
# program there. What ran by then is the trace. BENCH_TRACE_SKIP="redis-zipf
# ..." leaves traces out; BENCH_TRACE_CAPTURE_ONLY=1 stops before the replay.
# Traces are kept in bench/results/traces/*.ht (never committed) and reused
# (BENCH_RETRACE=1 captures again); results/traces/footprint.txt lists
# each trace's accesses, touched pages and file size (ht-trace-convert
# --stats). A program that is not installed is skipped with a line saying so.
# Small (a few MiB touched):
#   redis:  redis-server under redis-benchmark (SET/GET/LPUSH/LPOP, 128 B values)
#   python: a dict + sort + string workload in python3
#   sort:   sort(1) on a 20000-line file of random keys
# Big (loads sized for 100+ MiB, in bench/traces/):
#   redis-zipf:  redis-server, 1700 values of 64000 B (DEBUG POPULATE, 106
#                MiB), then pipelined 95% GET / 5% SET of Zipf(0.99) keys
#                (traces/kvzipf.py; redis-benchmark has no skew)
#   sqlite-ycsb: sqlite3 on an in-memory database, YCSB-like usertable of
#                1700 rows x 64000 B (64 KiB pages, 106 MiB), then YCSB
#                workload A with Zipf(0.99) keys (traces/ycsb.py)
#   xz:          xz -9 with a 128 MiB dictionary (128 MiB hash table) on 16
#                MiB of generated text, a quarter of it binary records
#                (traces/text.py 16 25: on text alone xz's hash touches
#                37 MiB in 250 M accesses, with them the whole table)
#   graph:       python3 BFS then Monte-Carlo PageRank over a 2 M-node,
#                32 M-edge power-law graph held in a 128 MiB array
#                (traces/graph.py; BENCH_GRAPH_SECS, default 6 under QEMU,
#                is its own clock: BFS a third of it, then PageRank, whose
#                random walks touch the array; 40 s was BFS only, 37 MiB)
# Not postgres/pgbench: a server of many processes; one address space a
# trace is what the simulator replays.
set -eu
: "${top_srcdir:?run through make bench}" "${top_builddir:?}"
B=$top_builddir/bench
R=$top_srcdir/bench/results
T=$R/traces
L=$top_srcdir/bench/traces
CONV=$top_builddir/tools/ht-trace-convert
SMALL=${BENCH_TRACE_SECS:-120}
BIG=${BENCH_BIG_TRACE_SECS:-240}
MAX=${BENCH_TRACE_MAX:-250000000}
mkdir -p "$T"
QT=$B/qtrace.so
# The plugin, rebuilt when its source or the header is newer.
qtrace() {
	command -v qemu-x86_64 >/dev/null || { echo "traces: qemu-x86_64 not found (apt-get install qemu-user)"; return 1; }
	sh "$L/qemu-plugin-header.sh" "$B/qemu-plugin" || return 1
	[ "$QT" -nt "$L/qtrace.c" ] && [ "$QT" -nt "$B/qemu-plugin/qemu-plugin.h" ] && return 0
	${CC:-cc} -O2 -Wall -shared -fPIC -I"$B/qemu-plugin" -o "$QT" "$L/qtrace.c" -lpthread ||
		{ echo "traces: building the QEMU plugin failed"; return 1; }
}
if qtrace; then
	TRACER=qemu
	STARTUP=${BENCH_TRACE_STARTUP_SECS:-30}
	echo "traces: tracer: QEMU user mode + qtrace plugin ($(qemu-x86_64 --version | head -1)), at most $MAX accesses a trace"
else
	TRACER=lackey
	STARTUP=${BENCH_TRACE_STARTUP_SECS:-180}
	command -v valgrind >/dev/null || { echo "traces: neither the QEMU plugin nor valgrind (apt-get install qemu-user valgrind)"; exit 0; }
	echo "traces: tracer: valgrind lackey (the QEMU plugin could not be built; ~70 k accesses/s, small footprints)"
fi
command -v "$CONV" >/dev/null || { echo "traces: $CONV not found"; exit 0; }
PY=/usr/bin/python3
[ -x $PY ] || PY=$(command -v python3)

# kept OUT: OUT.part becomes OUT unless (nearly) empty: a program that failed.
kept() {
	[ "$(wc -c <"$1.part")" -gt 1024 ] && mv "$1.part" "$1" && return 0
	echo "traces: $1: no accesses (see ${1%.ht}.log)"
	rm -f "$1.part"
}
# trace OUT CMD...: run CMD under the tracer for at most $SECS s, all
# accesses into OUT (written as OUT.part, renamed when complete: an
# interrupted capture is not taken for a trace). The tracer's stderr (with
# the program's) and the converter's summary go to OUT's .log. -k: a
# program that ignores SIGINT is killed (and its capture dropped).
trace() {
	out=$1 log=${1%.ht}.log; shift
	: >"$log"
	if [ $TRACER = qemu ]; then
		# by path: qemu does not search PATH
		p=$(command -v "$1"); shift
		{ GLIBC_TUNABLES=$TUN timeout -k 30 -s INT "$SECS" qemu-x86_64 -plugin "$QT,out=/dev/fd/9,max=$MAX" "$p" "$@" \
			9>&1 >/dev/null 2>>"$log" || true; } | "$CONV" -q -n 1 -o "$out.part" - 2>>"$log" && kept "$out"
	else
		{ GLIBC_TUNABLES=$TUN timeout -k 30 -s INT "$SECS" valgrind --tool=lackey --trace-mem=yes --log-fd=9 "$@" \
			9>&1 >/dev/null 2>/dev/null || true; } | "$CONV" -n 1 -o "$out.part" - 2>>"$log" && kept "$out"
	fi
}
# Large memset/memcpy as 32-byte vector stores, not rep stosb/movsb: both
# tracers replay those a byte at a time (64 M accesses for a 64 MiB memset,
# 21x the vector loop's), which no capture bound could afford.
TUN=glibc.cpu.x86_rep_stosb_threshold=0x7fffffffffffffff:glibc.cpu.x86_rep_movsb_threshold=0x7fffffffffffffff
# A trace from the other tracer (its .log says which) is captured again.
fresh() { [ "${BENCH_RETRACE:-0}" = 1 ] || [ ! -s "$1" ] || ! grep -qx "tracer $TRACER" "${1%.ht}.log" 2>/dev/null; }
have() {
	for p in "$@"; do
		command -v "$p" >/dev/null || { echo "traces: skipping $t: $p not installed"; return 1; }
	done
}
# Servers started here are stopped on any exit (and every capture ends by
# its timeout anyway).
PIDS= PORTS=
cleanup() {
	for p in $PORTS $((30000 + $$ % 10000)) $((40000 + $$ % 10000)); do redis-cli -p "$p" shutdown nosave >/dev/null 2>&1 || true; done
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	rm -f "$T"/*.part "$T"/*.tmp
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
# server NAME PORT CMD...: CMD under the tracer in the background (pid in lp),
# then waits until it answers PING (redis protocol) on PORT
server() {
	n=$1 port=$2; shift 2
	PORTS="$PORTS $port"
	trace "$T/$n.ht" "$@" &
	lp=$!
	PIDS="$PIDS $lp"
	i=0
	until redis-cli -p "$port" ping >/dev/null 2>&1; do
		i=$((i + 1)); [ $i -lt $((SECS * 2)) ] && kill -0 $lp 2>/dev/null || break; sleep 0.5
	done
}
stop() { redis-cli -p "$1" shutdown nosave >/dev/null 2>&1 || true; wait "$lp" || true; }

# One function a trace; capture() sets its bound in SECS.
cap_sort() {
	awk 'BEGIN { srand(1); for (i = 0; i < 20000; i++) printf "%08x%08x %s\n", int(rand() * 2^32), int(rand() * 2^32), substr("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 1, int(rand() * 40)) }' >"$T/sort-input.txt"
	trace "$T/sort.ht" sort "$T/sort-input.txt"
	rm -f "$T/sort-input.txt"
}
cap_python() {
	trace "$T/python.ht" $PY -S -c '
d = {}
for i in range(200000):
    d["k%d" % i] = [i, str(i) * 3]
v = sorted(d.items(), key=lambda kv: kv[1][1])
s = sum(len(x[1][1]) for x in v[::7])
print(s)'
}
cap_redis() {
	port=$((30000 + $$ % 10000))
	server redis $port redis-server --port $port --bind 127.0.0.1 --save '' --appendonly no
	timeout "$SECS" redis-benchmark -p $port -n 3000 -c 4 -t set,get,lpush,lpop -d 128 -r 10000 -q >/dev/null 2>&1 || true
	stop $port
}
cap_redis_zipf() {
	port=$((40000 + $$ % 10000))
	server redis-zipf $port redis-server --port $port --bind 127.0.0.1 --save '' --appendonly no \
		--enable-debug-command yes
	$PY "$L/kvzipf.py" $port 1700 64000 "$SECS" || true
	stop $port
}
cap_sqlite_ycsb() {
	$PY "$L/ycsb.py" 1700 64000 500000 >"$T/ycsb.sql.tmp"
	trace "$T/sqlite-ycsb.ht" sqlite3 <"$T/ycsb.sql.tmp"
	rm -f "$T/ycsb.sql.tmp"
}
cap_xz() {
	$PY "$L/text.py" 16 25 >"$T/xz-input.tmp"
	trace "$T/xz.ht" xz --lzma2=preset=9,dict=128MiB -T1 -c "$T/xz-input.tmp"
	rm -f "$T/xz-input.tmp"
}
cap_graph() {
	gs=$SECS
	[ $TRACER = lackey ] || gs=${BENCH_GRAPH_SECS:-6}
	trace "$T/graph.ht" $PY -S "$L/graph.py" $((1 << 21)) 16 "$gs"
}

# capture NAME:PROGRAM,...: NAME's trace unless cached or a program is missing
capture() {
	t=${1%%:*} progs=${1#*:}
	case " ${BENCH_TRACE_SKIP:-} " in *" $t "*) echo "traces: skipping $t (BENCH_TRACE_SKIP)"; return 0 ;; esac
	fresh "$T/$t.ht" || return 0
	# shellcheck disable=SC2086
	have $(echo "$progs" | tr , ' ') || return 0
	case $t in
	sort | python) SECS=$SMALL ;;
	redis) SECS=$((SMALL + STARTUP)) ;;
	redis-zipf) SECS=$((BIG + STARTUP)) ;;
	*) SECS=$BIG ;;
	esac
	echo "capturing $t (<= $SECS s)"
	start=$(date +%s)
	cap_$(echo "$t" | tr - _)
	printf 'tracer %s\ncapture_secs %s\n' $TRACER $(($(date +%s) - start)) >>"$T/$t.log"
}
list1() { for t in redis-zipf:redis-server,redis-cli sqlite-ycsb:sqlite3 redis:redis-server,redis-benchmark,redis-cli sort:sort; do capture $t; done; }
list2() { for t in xz:xz graph:python3 python:python3; do capture $t; done; }
# Under lackey two at a time (lackey's output takes a core), lists of about
# equal time; under QEMU one at a time (tracer and converter take two).
if [ $TRACER = lackey ]; then
	list1 &
	PIDS="$PIDS $!"
	list2
	wait
else
	list1
	list2
fi
for t in sort python redis redis-zipf sqlite-ycsb xz graph; do
	[ -s "$T/$t.ht" ] && echo "$t $("$CONV" --stats "$T/$t.ht") $(sed -n 's/^tracer /tracer /p' "$T/$t.log" 2>/dev/null)"
done | tee "$T/footprint.txt"
[ "${BENCH_TRACE_CAPTURE_ONLY:-0}" = 1 ] && exit 0
W=
for t in sort python redis redis-zipf sqlite-ycsb xz graph; do
	[ -s "$T/$t.ht" ] && W="$W${W:+;}trace:$t=$T/$t.ht"
done
[ -n "$W" ] || { echo "traces: none captured"; exit 0; }
# The same LLC model, modelled clock and sample periods as the synthetic set.
"$B/ht-bench" --workloads="$W" --ratios='1/8;1/5;1/3' --periods='101;1009;10007' --heat=0 \
	--out="$R/traces" | tee "$R/traces.txt"
