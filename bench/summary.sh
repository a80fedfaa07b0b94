#!/bin/sh
# summary.sh CSV... - compact markdown from ht-bench results.csv files (one
# mode each; several files of one mode are read as one, e.g. a main set
# and its period sweep). Tables:
#   1. per workload x fast ratio, one column per policy: "hit % / modelled
#      speed-up over first touch", at the lowest sample period;
#   2. MiB migrated, same layout;
#   3. ours / oracle-cost at every sample period: speed-up ratio and hit
#      ratio ratio, and the best baseline's speed-up ratio (the targets:
#      ours >= best baseline, ours >= 0.95 of oracle-cost on both).
# Rows reused across periods by ht-bench (policies that take no samples)
# are the same runs; a workload x ratio only shows at the periods it ran.
set -eu
[ $# -ge 1 ] || { echo "usage: summary.sh CSV..." >&2; exit 2; }
awk -F, '
FNR == 1 { next }
{
	key = $1 SUBSEP $2
	if (!(key in ri)) { ri[key] = ++nr; rw[nr] = $1; rr[nr] = $2 }
	if (!($3 in pi)) { pi[$3] = ++np; pn[np] = $3 }
	per = $13 == "" ? 101 : $13 + 0
	if (!(per in di)) { di[per] = ++nd; dn[nd] = per }
	mode = $12 == "" ? "old" : $12 # a CSV from before the mode column
	hit[key, $3, per] = $6; sp[key, $3, per] = ($8 == "-" ? "" : $8); mib[key, $3, per] = $11
	note[key, $3, per] = $15
}
END {
	# periods ascending
	for (i = 1; i <= nd; i++) for (j = i + 1; j <= nd; j++) if (dn[j] < dn[i]) { t = dn[i]; dn[i] = dn[j]; dn[j] = t }
	p0 = dn[1]
	what = mode == "llc" ? "LLC misses (llc mode: 32 MiB / 16-way LLC model unless told; only misses reach memory, are sampled and scored)" \
			     : mode == "all" ? "all accesses (all mode: no cache model, every access reaches memory)" \
			     : "accesses (a result from before the LLC model and the modelled clock: every access counted, 500 ns of clock per access; rerun for current numbers)"
	printf "Mode %s. Hit %%: share of the %s served by the fast tier. Speed-up: modelled time of first touch / the policy'"'"'s (LLC hits, tier latencies and migrations; the clock runs on it). Sample period 1/%d.\n", mode, what, p0
	if (mode == "old") printf "Oracles as defined then (oracle-cost was not a bound).\n\n"; else printf "oracle-static: exact bound for any static placement (first touch included). oracle-epoch: hit-ratio bound for policies that move at epoch boundaries (pays for its moves, so not a time bound). oracle-cost: best modelled time known offline (fastest of static and static + moves that pay over 1/4/16-epoch lookaheads; never slower than oracle-static), not a proven optimum.\n\n"
	printf "| workload | fast |"; for (j = 1; j <= np; j++) printf " %s |", pn[j]; print ""
	printf "|---|---|"; for (j = 1; j <= np; j++) printf "---|"; print ""
	for (i = 1; i <= nr; i++) {
		k = rw[i] SUBSEP rr[i]
		if (!((k, pn[1], p0) in hit)) continue
		printf "| %s | %.3f |", rw[i], rr[i]
		for (j = 1; j <= np; j++) {
			c = (k, pn[j], p0) in hit ? sprintf("%.1f / %s", hit[k, pn[j], p0] * 100, sp[k, pn[j], p0] == "" ? "-" : sprintf("%.2fx", sp[k, pn[j], p0])) : "-"
			printf " %s |", c
		}
		print ""
	}
	printf "\nMiB migrated (period 1/%d):\n\n| workload | fast |", p0; for (j = 1; j <= np; j++) printf " %s |", pn[j]; print ""
	printf "|---|---|"; for (j = 1; j <= np; j++) printf "---|"; print ""
	for (i = 1; i <= nr; i++) {
		k = rw[i] SUBSEP rr[i]
		if (!((k, pn[1], p0) in hit)) continue
		printf "| %s | %.3f |", rw[i], rr[i]
		for (j = 1; j <= np; j++) printf " %s |", (k, pn[j], p0) in mib ? sprintf("%.0f", mib[k, pn[j], p0]) : "-"
		print ""
	}
	if (!("hypertier" in pi) || !("oracle-cost" in pi)) exit
	printf "\nHyperTier / oracle-cost (mode %s) at each sample period: speed-up ratio / hit-ratio ratio; in brackets the best baseline'"'"'s speed-up ratio (hemem, memtis, tpp). Targets: speed-up ratio >= 0.95 and >= the best baseline'"'"'s, hit-ratio ratio >= 0.95.\n\n", mode
	printf "| workload | fast |"; for (d = 1; d <= nd; d++) printf " 1/%d |", dn[d]; print ""
	printf "|---|---|"; for (d = 1; d <= nd; d++) printf "---|"; print ""
	for (i = 1; i <= nr; i++) {
		k = rw[i] SUBSEP rr[i]
		printf "| %s | %.3f |", rw[i], rr[i]
		for (d = 1; d <= nd; d++) {
			q = dn[d]
			if (!((k, "hypertier", q) in sp) || !((k, "oracle-cost", q) in sp) || sp[k, "oracle-cost", q] == "") { printf " - |"; continue }
			oc = sp[k, "oracle-cost", q]; bb = 0
			split("hemem memtis tpp", base, " ")
			for (b = 1; b <= 3; b++) if ((k, base[b], q) in sp && sp[k, base[b], q] + 0 > bb) bb = sp[k, base[b], q] + 0
			oh = hit[k, "oracle-cost", q]
			printf " %.3f / %s (%.3f) |", sp[k, "hypertier", q] / oc, (oh > 0 ? sprintf("%.3f", hit[k, "hypertier", q] / oh) : "-"), bb / oc
		}
		print ""
	}
	print ""
}' "$@"
