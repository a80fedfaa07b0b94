#!/bin/sh
# respin.sh DIR POLICIES ARGS... - rerun some policies of a result set (after
# a change to them) and put their rows in place of the old ones in
# DIR/results.csv and DIR/timeline.csv. The simulator is seeded and
# deterministic, so the other policies' rows stand; first-touch is rerun
# too, and its rows must come out byte-identical (the check that the set's
# workloads and ARGS are the ones it was made with). A whole rerun takes
# hours on 2 cores; this takes the changed policy's share of it.
# Example: sh bench/respin.sh bench/results/synthetic hypertier \
#            --accesses=200000000 --ratios='1/8;1/5;1/3' --periods='101;1009;10007'
# RESPIN_WORKLOADS='trace:NAME=FILE;...' gives the workloads' specs where the
# set's names alone do not (traces); default: the names in results.csv.
set -eu
: "${top_builddir:=build}"
dir=$1 pols=$2; shift 2
csv=$dir/results.csv
[ -f "$csv" ] || { echo "respin: no $csv" >&2; exit 1; }
wl=${RESPIN_WORKLOADS:-$(tail -n +2 "$csv" | cut -d, -f1 | awk '!s[$0]++' | tr '\n' ';')}
nw=$(echo "$wl" | tr ';' '\n' | grep -c .)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# one process per workload, two at a time
n=0
for w in $(echo "$wl" | tr ';' ' '); do
	n=$((n + 1))
	"$top_builddir/bench/ht-bench" --workloads="$w" --policies="first-touch;$pols" --out="$tmp/w$n" --heat=0 "$@" >"$tmp/w$n.txt" 2>&1 &
	[ $((n % 2)) = 0 ] && wait
done
wait
new=$tmp/new.csv
for n in $(seq "$nw"); do
	[ -f "$tmp/w$n/results.csv" ] || { cat "$tmp/w$n.txt" >&2; echo "respin: workload $n of '$wl' failed" >&2; exit 1; }
	tail -n +2 "$tmp/w$n/results.csv"
done >"$new"
# first-touch must be unchanged
grep ',first-touch,' "$csv" | sort >"$tmp/a"
grep ',first-touch,' "$new" | sort >"$tmp/b"
cmp -s "$tmp/a" "$tmp/b" || { echo "respin: first-touch rows differ: ARGS are not the set's; nothing replaced" >&2; diff "$tmp/a" "$tmp/b" | head >&2; exit 1; }
# results.csv: each respun row in place of the old one (same workload, ratio, policy, period)
awk -F, -v p=";$pols;" 'NR == FNR { if (index(p, ";" $3 ";")) nw[$1 FS $2 FS $3 FS $13] = $0; next }
	FNR > 1 && index(p, ";" $3 ";") { k = $1 FS $2 FS $3 FS $13; if (k in nw) { print nw[k]; delete nw[k] }; next }
	{ print }
	END { for (k in nw) print nw[k] }' "$new" "$csv" >"$tmp/results.csv"
mv "$tmp/results.csv" "$csv"
# timeline.csv: the old epochs of the respun policies out, the new ones in
if [ -f "$dir/timeline.csv" ]; then
	{
		awk -F, -v p=";$pols;" 'FNR == 1 || index(p, ";" $3 ";") == 0' "$dir/timeline.csv"
		for n in $(seq "$nw"); do
			tail -n +2 "$tmp/w$n/timeline.csv" | awk -F, -v p=";$pols;" 'index(p, ";" $3 ";") > 0'
		done
	} >"$tmp/timeline.csv"
	mv "$tmp/timeline.csv" "$dir/timeline.csv"
fi
cat "$tmp"/*.txt | grep -v '^mode\|^workload' | awk -F' +' -v p=";$pols;" 'index(p, ";" $4 ";") > 0'
echo "respin: $pols rows replaced in $dir (first-touch reproduced)"
