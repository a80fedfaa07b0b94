#!/bin/sh
# plots.sh - PNGs from bench/results/*: hit ratio per policy per workload,
# fast-tier hit ratio over time, and damo-style heatmaps (address x time,
# colour = access frequency) of the true accesses next to what HyperTier's
# classifier saw. Needs gnuplot (Debian gnuplot-nox).
set -eu
: "${top_srcdir:?run through make bench}"
R=$top_srcdir/bench/results
command -v gnuplot >/dev/null || { echo "plots: gnuplot not found (apt-get install gnuplot-nox)"; exit 0; }
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT

# hit ratio per policy per workload (one chart per result set and fast ratio)
for set in synthetic traces; do
	csv=$R/$set/results.csv
	[ -f "$csv" ] || continue
	for ratio in $(awk -F, 'NR > 1 {print $2}' "$csv" | sort -u); do
		# the first sample period in the file (a --periods sweep has more)
		p0=$(awk -F, 'NR == 2 {print $13}' "$csv")
		awk -F, -v r="$ratio" -v p0="$p0" 'NR > 1 && $2 == r && $13 == p0 {
			if (!($3 in pi)) { pi[$3] = ++np; pn[np] = $3 }
			if (!($1 in wi)) { wi[$1] = ++nw; wn[nw] = $1 }
			v[$1, $3] = $6 * 100 }
		END { printf "workload"; for (j = 1; j <= np; j++) printf " %s", pn[j]; print "";
			for (i = 1; i <= nw; i++) { printf "%s", wn[i]; for (j = 1; j <= np; j++) printf " %s", v[wn[i], pn[j]]; print "" } }' \
			"$csv" >"$T/h.dat"
		np=$(head -1 "$T/h.dat" | wc -w)
		gnuplot <<G
set terminal pngcairo size 1100,480 noenhanced
set output "$R/$set-hit-$ratio.png"
set title "fast-tier hit ratio per policy ($set, fast tier = $ratio of footprint)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set yrange [0:100]
set ylabel "% of memory accesses (LLC misses in llc mode) served by the fast tier"
set key outside right
set grid ytics
plot for [c=2:$np] "$T/h.dat" using c:xtic(1) title columnheader
G
	done
done

# hit ratio over time (synthetic, fast 1/5)
csv=$R/synthetic/timeline.csv
if [ -f "$csv" ]; then
	for w in $(awk -F, 'NR > 1 {print $1}' "$csv" | sort -u); do
		awk -F, -v w="$w" 'NR > 1 && $1 == w && $2 == "0.2000" {print $3, $4, $5 * 100 > "'"$T"'/t-" $3 ".dat"}' "$csv"
		pl=""
		for f in "$T"/t-*.dat; do
			p=$(basename "$f" .dat); p=${p#t-}
			pl="$pl${pl:+, }\"$f\" using 2:3 with lines lw 2 title \"$p\""
		done
		gnuplot <<G
set terminal pngcairo size 1000,420 noenhanced
set output "$R/timeline-$w.png"
set title "$w: fast-tier hit ratio per epoch (fast tier = 1/5)"
set xlabel "epoch (500 ms of modelled time)"
set ylabel "% hits"
set yrange [0:100]
set key outside right
set grid
plot $pl
G
		rm -f "$T"/t-*.dat
	done
fi

# damo-style heatmaps: true accesses | HyperTier's ranges
for f in "$R"/synthetic/heat-*-hypertier-0.2.dat; do
	[ -f "$f" ] || continue
	w=$(basename "$f" | sed 's/^heat-//; s/-hypertier-0.2.dat$//')
	gnuplot <<G
set terminal pngcairo size 1200,450 noenhanced
set output "$R/heatmap-$w.png"
set multiplot layout 1,2 title "$w: access hotness over address space and time (fast tier = 1/5)"
set xlabel "epoch (500 ms of modelled time)"
set ylabel "address (1/128 of the span per row)"
set autoscale fix
set palette defined (0 "black", 1 "dark-red", 2 "orange", 3 "yellow")
set cbtics format "%g"
set title "true accesses per epoch"
plot "$f" using 1:2:3 with image notitle
set title "HyperTier classifier: samples per page of the covering range"
plot "$f" using 1:2:4 with image notitle
unset multiplot
G
done
ls "$R"/*.png 2>/dev/null | sed 's/^/plot: /'
