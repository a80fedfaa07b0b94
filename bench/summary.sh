#!/bin/sh
# summary.sh CSV [RATIO...] - compact markdown from an ht-bench results.csv:
# one row per workload, one column per policy, "hit % / speed-up over first
# touch (modelled time)". Used for results/summary.md and the README.
set -eu
csv=$1; shift
ratios=${*:-$(awk -F, 'NR > 1 {print $2}' "$csv" | sort -u)}
for r in $ratios; do
	awk -F, -v r="$r" 'NR > 1 && $2 + 0 == r + 0 {
		if (!($3 in pi)) { pi[$3] = ++np; pn[np] = $3 }
		if (!($1 in wi)) { wi[$1] = ++nw; wn[nw] = $1 }
		c[$1, $3] = sprintf("%.1f / %s", $6 * 100, $8 == "-" ? "-" : sprintf("%.2fx", $8))
		m[$1, $3] = $11 }
	END {
		printf "fast tier = %.3f of the footprint; cell: fast-tier hit %% / modelled speed-up over first touch\n\n", r
		printf "| workload |"; for (j = 1; j <= np; j++) printf " %s |", pn[j]; print ""
		printf "|---|"; for (j = 1; j <= np; j++) printf "---|"; print ""
		for (i = 1; i <= nw; i++) { printf "| %s |", wn[i]; for (j = 1; j <= np; j++) printf " %s |", c[wn[i], pn[j]]; print "" }
		print ""
		printf "MiB migrated:\n\n| workload |"; for (j = 1; j <= np; j++) printf " %s |", pn[j]; print ""
		printf "|---|"; for (j = 1; j <= np; j++) printf "---|"; print ""
		for (i = 1; i <= nw; i++) { printf "| %s |", wn[i]; for (j = 1; j <= np; j++) printf " %.0f |", m[wn[i], pn[j]]; print "" }
		print ""
	}' "$csv"
done
