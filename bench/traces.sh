#!/bin/sh
# traces.sh - real programs under valgrind lackey, converted with every
# access kept (ht-trace-convert -n 1), then replayed by the simulator at
# fast-tier ratios 1/8, 1/5, 1/3. Lackey is ~100x slower (more on a busy
# machine), so each capture is bounded: BENCH_TRACE_SECS (default 120) of
# the program under lackey; what ran by then is the trace. Traces are kept
# in bench/results/traces/*.ht and reused (BENCH_RETRACE=1 captures again).
#   redis:  redis-server under redis-benchmark (SET/GET/LPUSH/LPOP, 128 B values)
#   python: a dict + sort + string workload in python3
#   sort:   sort(1) on a 20000-line file of random keys
set -eu
: "${top_srcdir:?run through make bench}" "${top_builddir:?}"
B=$top_builddir/bench
R=$top_srcdir/bench/results
T=$R/traces
CONV=$top_builddir/tools/ht-trace-convert
SECS=${BENCH_TRACE_SECS:-120}
mkdir -p "$T"
for tool in valgrind "$CONV"; do
	command -v "$tool" >/dev/null || { echo "traces: $tool not found (valgrind: apt-get install valgrind)"; exit 0; }
done
PY=/usr/bin/python3
[ -x $PY ] || PY=$(command -v python3)

# lackey OUT CMD...: run CMD under lackey for at most SECS, all accesses into OUT
lackey() {
	out=$1; shift
	{ timeout -s INT "$SECS" valgrind --tool=lackey --trace-mem=yes --log-fd=9 "$@" 9>&1 >/dev/null 2>/dev/null || true; } |
		"$CONV" -n 1 -o "$out" -
}
fresh() { [ "${BENCH_RETRACE:-0}" = 1 ] || [ ! -s "$1" ]; }

if fresh "$T/sort.ht"; then
	echo "capturing sort (<= $SECS s)"
	awk 'BEGIN { srand(1); for (i = 0; i < 20000; i++) printf "%08x%08x %s\n", int(rand() * 2^32), int(rand() * 2^32), substr("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 1, int(rand() * 40)) }' >"$T/sort-input.txt"
	lackey "$T/sort.ht" sort "$T/sort-input.txt"
	rm -f "$T/sort-input.txt"
fi
if fresh "$T/python.ht"; then
	echo "capturing python3 (<= $SECS s)"
	lackey "$T/python.ht" $PY -S -c '
d = {}
for i in range(200000):
    d["k%d" % i] = [i, str(i) * 3]
v = sorted(d.items(), key=lambda kv: kv[1][1])
s = sum(len(x[1][1]) for x in v[::7])
print(s)'
fi
if fresh "$T/redis.ht" && command -v redis-server >/dev/null && command -v redis-benchmark >/dev/null; then
	echo "capturing redis-server under redis-benchmark (<= $SECS s)"
	port=$((30000 + $$ % 10000))
	lackey "$T/redis.ht" redis-server --port $port --bind 127.0.0.1 --save '' --appendonly no &
	lp=$!
	i=0
	until redis-cli -p $port ping >/dev/null 2>&1; do
		i=$((i + 1)); [ $i -lt $((SECS * 2)) ] || break; sleep 0.5
	done
	redis-benchmark -p $port -n 3000 -c 4 -t set,get,lpush,lpop -d 128 -r 10000 -q >/dev/null 2>&1 || true
	redis-cli -p $port shutdown nosave >/dev/null 2>&1 || true
	wait $lp || true
fi

W=
for t in sort python redis; do
	[ -s "$T/$t.ht" ] && W="$W${W:+;}trace:$t=$T/$t.ht"
done
[ -n "$W" ] || { echo "traces: none captured"; exit 0; }
# Short traces: 200k accesses per simulated epoch, 1 sample in 23, i.e.
# about the same samples per epoch as the synthetic runs (1M / 101).
"$B/ht-bench" --workloads="$W" --ratios='1/8;1/5;1/3' --periods='101;1009;10007' --heat=0 \
	--out="$R/traces" | tee "$R/traces.txt"
