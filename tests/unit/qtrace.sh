#!/bin/sh
# The QEMU tracer (bench/traces/qtrace.c) on unit/lackey_target: its 8192
# array stores and 8192 loads (16 pages) must all be in the converted trace
# with the right kind, the max= cap must hold, and ht-trace-convert -q must
# refuse a file that is not the plugin's or ends mid-record. Needs qemu-user
# and the plugin header that `make bench` fetches (bench/qemu-plugin/, or
# HT_QEMU_PLUGIN_INCLUDE); skipped, saying which, without them.
set -u
B=${abs_top_builddir:-$(cd "$(dirname "$0")/../.." && pwd)}
S=${abs_top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
CONV=$B/tools/ht-trace-convert
TARGET=$B/tests/unit/lackey_target
INC=${HT_QEMU_PLUGIN_INCLUDE:-$B/bench/qemu-plugin}
command -v qemu-x86_64 >/dev/null 2>&1 || { echo "1..0 # SKIP qemu-user is not installed"; exit 0; }
[ -s "$INC/qemu-plugin.h" ] || {
	echo "1..0 # SKIP no qemu-plugin.h in $INC (make bench fetches it: bench/traces/qemu-plugin-header.sh)"
	exit 0
}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ht-qtrace.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
n=0
t() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi; }

${CC:-cc} -O2 -Wall -shared -fPIC -I"$INC" -o "$tmp/qtrace.so" "$S/bench/traces/qtrace.c" -lpthread 2>"$tmp/cc.err"
t $? "plugin builds $(cat "$tmp/cc.err")"
qemu-x86_64 -plugin "$tmp/qtrace.so,out=$tmp/all.raw" "$TARGET" >"$tmp/out" 2>"$tmp/q.err"
t $? "lackey_target runs under qemu with the plugin: $(tail -1 "$tmp/q.err")"
array=$(sed -n 's/^array=0x\([0-9a-f]*\) .*/\1/p' "$tmp/out")
"$CONV" -q -n 1 -o "$tmp/all.tr" "$tmp/all.raw" 2>"$tmp/c.err"
t $? "convert -q: $(cat "$tmp/c.err")"
"$CONV" --dump "$tmp/all.tr" >"$tmp/all.txt"
count() { # kind -> "accesses pages" inside the array
	awk -v base="$array" -v kind="$1" '
	function hex(s,   i, v) { v = 0; s = tolower(s); sub(/^0x/, "", s)
		for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
		return v }
	BEGIN { lo = hex(base); hi = lo + 8 * 8192 }
	# page keys by %.0f: awk prints big numbers with %.6g
	$6 == kind { a = hex($3); if (a >= lo && a < hi) { k++; pg = sprintf("%.0f", int(a / 4096)); if (!(pg in p)) { p[pg]; np++ } } }
	END { print k + 0, np + 0 }' "$tmp/all.txt"
}
st=$(count store)
ld=$(count load)
# malloc's block may start mid-page: 16 or 17 pages
t "$(echo "$st" | grep -Eq '^8192 1[67]$' && echo 0 || echo 1)" "all 8192 array stores, on the array's pages (got accesses/pages: $st)"
t "$(echo "$ld" | grep -Eq '^8192 1[67]$' && echo 0 || echo 1)" "all 8192 array loads (got $ld)"
total=$("$CONV" --stats "$tmp/all.tr" | awk '{ print $2 }')
t "$(grep -q "qtrace: $total accesses" "$tmp/q.err" && echo 0 || echo 1)" "the plugin's count ($(tail -1 "$tmp/q.err")) is the trace's ($total)"

qemu-x86_64 -plugin "$tmp/qtrace.so,out=$tmp/max.raw,max=5000" "$TARGET" >/dev/null 2>"$tmp/m.err"
t $? "max=5000 ends the program with status 0"
"$CONV" -q -n 1 -o "$tmp/max.tr" "$tmp/max.raw" 2>/dev/null
got=$("$CONV" --stats "$tmp/max.tr" | awk '{ print $2 }')
t "$([ "$got" = 5000 ] && echo 0 || echo 1)" "max=5000: exactly 5000 accesses (got $got)"

head -c 1003 "$tmp/all.raw" >"$tmp/cut.raw" # header + 123.375 records
"$CONV" -q -o "$tmp/x.tr" "$tmp/cut.raw" 2>"$tmp/e1"
rc=$?
t "$([ $rc = 1 ] && grep -q 'truncated record' "$tmp/e1" && echo 0 || echo 1)" "a cut record refused: $(head -1 "$tmp/e1")"
printf ' L 1000,8\n' >"$tmp/lk.log"
"$CONV" -q -o "$tmp/x.tr" "$tmp/lk.log" 2>"$tmp/e2"
rc=$?
t "$([ $rc = 1 ] && grep -q 'not a qtrace' "$tmp/e2" && echo 0 || echo 1)" "a lackey log refused by -q: $(head -1 "$tmp/e2")"
echo "1..$n"
