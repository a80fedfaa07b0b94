#!/bin/sh
# run.sh FUZZDIR SECS JOBS HARNESS... - run each libFuzzer harness for SECS
# seconds, JOBS at a time, on a fresh corpus seeded from FUZZDIR/seeds/NAME
# and FUZZDIR/regress/NAME. Prints execs and coverage (cov/ft of libFuzzer's
# last status line) per harness; fails on any crash, leak, timeout or OOM,
# whose input is left as fuzz-out/NAME/crash-* (copy it to regress/NAME/).
set -u
dir=$1 secs=$2 jobs=$3
shift 3
out=fuzz-out
mkdir -p "$out"
for h in "$@"; do echo "$h"; done | xargs -P "$jobs" -I{} sh -c '
	h={} name=$(basename {} | sed s/^fuzz_//) out='"$out"' dir='"$dir"'
	rm -rf "$out/$name"
	mkdir -p "$out/$name/corpus"
	set -- "$out/$name/corpus" "$dir/seeds/$name"
	[ -d "$dir/regress/$name" ] && set -- "$@" "$dir/regress/$name"
	"$h" -max_total_time='"$secs"' -max_len=16384 -timeout=10 -rss_limit_mb=2048 -close_fd_mask=3 \
		-print_final_stats=1 -artifact_prefix="$out/$name/" "$@" >"$out/$name.log" 2>&1
	echo $? >"$out/$name.rc"'
rc=0
printf "%-12s %10s %7s %7s %s\n" harness execs cov ft result
for h in "$@"; do
	name=$(basename "$h" | sed s/^fuzz_//)
	log=$out/$name.log
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
	ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
	r=ok
	if [ "$(cat "$out/$name.rc" 2>/dev/null)" != 0 ]; then
		r="FAILED: $(ls "$out/$name" | grep -v corpus | tr '\n' ' ')"
		rc=1
	fi
	printf "%-12s %10s %7s %7s %s\n" "$name" "${execs:-?}" "${cov:-?}" "${ft:-?}" "$r"
done
if [ $rc != 0 ]; then
	for f in "$out"/*.rc; do
		[ "$(cat "$f")" = 0 ] || { echo "== ${f%.rc}.log"; grep -v '^#[0-9]' "${f%.rc}.log" | tail -40; }
	done
fi
exit $rc
