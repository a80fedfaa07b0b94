#!/bin/sh
# overhead.sh - what HyperTier costs, into bench/results/overhead-*.csv:
#   ingest ns/sample and epoch us vs ranges (engine + simulated placement);
#   sampler thread CPU share at 10k and 100k samples/s;
#   LD_PRELOAD=libhypertier.so vs LD_PRELOAD=libjemalloc.so.2, same run,
#   alternating, on a malloc-heavy loop and on redis-benchmark throughput;
#   exchange throughput vs raw move_pages in the two-node test guest.
set -eu
: "${top_srcdir:?run through make bench}" "${top_builddir:?}"
B=$top_builddir/bench
R=$top_srcdir/bench/results
mkdir -p "$R"
skip() { case " ${BENCH_SKIP:-} " in *" $1 "*) return 0 ;; esac; return 1; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

echo "-- ingest and epoch cost"
"$B/ovh/ingest" | tee "$R/overhead-ingest.csv"

echo "-- sampler thread CPU share (software-reported samples, real sampler thread, engine on simulated placement)"
{
	"$B/ovh/sampler-cpu" 10000 5 | head -1
	for rate in 10000 100000; do "$B/ovh/sampler-cpu" $rate 5 | tail -1; done
} | tee "$R/overhead-sampler.csv"
echo "-- the same through the replay source (full speed; cost per sample, share projected at 10k / 100k per s)"
"$B/ovh/sampler-cpu" replay 1000000 | tee "$R/overhead-sampler-replay.csv"

HT=$top_builddir/preload/.libs/libhypertier.so
JE=$(ls /usr/lib/*/libjemalloc.so.2 2>/dev/null | head -1)
if ! skip preload && [ -f "$HT" ] && [ -n "$JE" ] && ! LD_PRELOAD=$HT true 2>&1 | grep -q .; then
	echo "-- LD_PRELOAD: libhypertier.so vs plain jemalloc (alternating; medians of 9 malloc-loop and 5 redis rounds)"
	: >"$R/.mb-je"; : >"$R/.mb-ht"
	for i in 1 2 3 4 5 6 7 8 9; do
		LD_PRELOAD=$JE "$B/ovh/mallocbench" 20000000 >>"$R/.mb-je"
		LD_PRELOAD=$HT "$B/ovh/mallocbench" 20000000 >>"$R/.mb-ht"
	done
	mje=$(median <"$R/.mb-je"); mht=$(median <"$R/.mb-ht")
	: >"$R/.rd-je"; : >"$R/.rd-ht"
	if command -v redis-server >/dev/null && command -v redis-benchmark >/dev/null; then
		port=$((20000 + $$ % 10000))
		for i in 1 2 3 4 5; do
			for lib in je ht; do
				[ $lib = je ] && pre=$JE || pre=$HT
				LD_PRELOAD=$pre redis-server --port $port --save '' --appendonly no --daemonize no \
					--bind 127.0.0.1 >/dev/null 2>&1 &
				pid=$!
				for w in 1 2 3 4 5 6 7 8 9 10; do redis-cli -p $port ping >/dev/null 2>&1 && break; sleep 0.3; done
				redis-benchmark -p $port -n 100000 -c 20 -t set,get -d 256 -r 100000 --csv 2>/dev/null |
					awk -F'"' '/"(SET|GET)"/ {s += $4; n++} END {print s / n}' >>"$R/.rd-$lib"
				kill $pid; wait $pid 2>/dev/null || true
			done
		done
	fi
	rje=$(median <"$R/.rd-je" 2>/dev/null || echo 0); rht=$(median <"$R/.rd-ht" 2>/dev/null || echo 0)
	{
		echo "benchmark,jemalloc,libhypertier,ratio_hypertier_over_jemalloc"
		echo "mallocbench_ops_per_s,$mje,$mht,$(awk -v a=$mht -v b=$mje 'BEGIN {printf "%.3f", a / b}')"
		[ -s "$R/.rd-je" ] && echo "redis_benchmark_req_per_s,$rje,$rht,$(awk -v a=$rht -v b=$rje 'BEGIN {printf "%.3f", a / b}')"
	} | tee "$R/overhead-preload.csv"
	rm -f "$R/.mb-je" "$R/.mb-ht" "$R/.rd-je" "$R/.rd-ht"
	echo "# note: this host has one NUMA node, so the runtime switches itself off under the preload;" \
		"the ratio is the interposition + allocator cost" | tee -a "$R/overhead-preload.csv"
else
	echo "-- LD_PRELOAD comparison skipped: $HT missing or does not load (LD_PRELOAD=$HT true printed errors)"
fi

RG=$top_srcdir/tests/vm/run-guest
if ! skip guest && ! skip preload && [ -x "$RG" ] && [ -f "$HT" ] && [ -n "$JE" ]; then
	echo "-- LD_PRELOAD with the runtime ON: libhypertier.so vs plain jemalloc in the two-node test guest (TCG; alternating, 5 rounds, medians)"
	if abs_top_builddir=$top_builddir abs_top_srcdir=$top_srcdir "$RG" --timeout 500 --smp 1 \
		--lib "$top_builddir/preload/libhypertier.la" --lib "$JE" --bin "$B/ovh/mallocbench" -- '
		for i in 1 2 3 4 5; do
			for mode in small big; do
				[ $mode = small ] && n=1000000 || n=20000
				echo "je $mode $(LD_PRELOAD=/t/lib/libjemalloc.so.2 mallocbench $n $mode)"
				echo "ht $mode $(LD_PRELOAD=/t/lib/libhypertier.so HYPERTIER_CONF=sample=software,fast_quota=256M mallocbench $n $mode)"
			done
		done
		LD_PRELOAD=/t/lib/libhypertier.so HYPERTIER_CONF=sample=software,fast_quota=256M,log=info mallocbench 1000 big 2>&1 |
			grep -i -m1 "hypertier" | sed "s/^/runtime: /"
		' >"$R/.pg" 2>"$R/.pg.err"; then
		{
			echo "benchmark,jemalloc,libhypertier_runtime_on,ratio_hypertier_over_jemalloc"
			for mode in small big; do
				a=$(awk -v m=$mode '$1 == "je" && $2 == m {print $3}' "$R/.pg" | median)
				b=$(awk -v m=$mode '$1 == "ht" && $2 == m {print $3}' "$R/.pg" | median)
				echo "mallocbench_${mode}_ops_per_s,$a,$b,$(awk -v a=$b -v b=$a 'BEGIN {printf "%.3f", a / b}')"
			done
			sed -n "s/^runtime: /# runtime log: /p" "$R/.pg"
			echo "# small: 16 B-64 KiB blocks; big: 1-4 MiB blocks, each recorded as a call site (unwind + lookup)." \
				"Runtime on: two nodes, software source, fast_quota=256M. TCG guest: ratios only, not absolute speed"
		} | tee "$R/overhead-preload-guest.csv"
	else
		echo "preload in guest failed:"; tail -5 "$R/.pg.err"
	fi
	rm -f "$R/.pg" "$R/.pg.err"
fi
if ! skip guest && [ -x "$RG" ]; then
	echo "-- exchange throughput in the two-node test guest vs raw move_pages"
	if abs_top_builddir=$top_builddir abs_top_srcdir=$top_srcdir "$RG" --timeout 500 --mem-fast 512M --mem-slow 512M \
		--bin "$B/ovh/exchange" -- 'exchange 32' >"$R/.xg" 2>"$R/.xg.err"; then
		grep -v '^#' "$R/.xg" | tee "$R/overhead-exchange.csv"
	else
		echo "exchange in guest failed:"; tail -5 "$R/.xg.err"
	fi
	rm -f "$R/.xg" "$R/.xg.err"
fi
