#!/bin/sh
# ht-trace-convert on a real lackey trace of a small program (unit/lackey_target):
# the samples must be exactly every N-th data access of the log, in order,
# with the right kind; the target's own array stores and loads all present at
# N=1; bad input refused with a clear line.
set -u
B=${abs_top_builddir:-$(cd "$(dirname "$0")/../.." && pwd)}
CONV=$B/tools/ht-trace-convert
TARGET=$B/tests/unit/lackey_target
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ht-convert.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
n=0
t() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi; }

if ! command -v valgrind >/dev/null 2>&1; then
	echo "1..0 # SKIP valgrind is not installed (apt-get install valgrind)"
	exit 0
fi

valgrind --tool=lackey --trace-mem=yes --log-file="$tmp/lk.log" "$TARGET" >"$tmp/out" 2>"$tmp/vg.err"
t $? "lackey_target runs under valgrind lackey"
array=$(sed -n 's/^array=0x\([0-9a-f]*\) .*/\1/p' "$tmp/out")
t "$([ -n "$array" ] && echo 0 || echo 1)" "target printed its array address ($array)"

# The expected samples, computed from the log independently of the converter.
expect() { # $1 = N
	awk -v N="$1" '/^ [LSM] / {
		split($2, f, ","); a = tolower(f[1]); sub(/^0+/, "", a); if (a == "") a = "0";
		i++; if (i % N == 0) print "S", i - 1, "0x" a, 1, 1, ($1 == "L" ? "load" : "store") }' "$tmp/lk.log"
}
accesses=$(grep -c '^ [LSM] ' "$tmp/lk.log")

"$CONV" -n 1 -o "$tmp/all.tr" "$tmp/lk.log" 2>"$tmp/conv.err"
t $? "convert with -n 1: $(cat "$tmp/conv.err")"
"$CONV" --dump "$tmp/all.tr" >"$tmp/all.txt"
t $? "dump reads it back (complete trace)"
expect 1 >"$tmp/all.exp"
cmp -s "$tmp/all.txt" "$tmp/all.exp"
t $? "-n 1: every one of the $accesses accesses, in order, kinds right"

# The target's own array: 8192 stores then 8192 loads of 8-byte words.
count() { # kind
	awk -v base="$array" -v kind="$1" '
	function hex(s,   i, v, c) { v = 0; s = tolower(s); sub(/^0x/, "", s)
		for (i = 1; i <= length(s); i++) { c = index("0123456789abcdef", substr(s, i, 1)) - 1; v = v * 16 + c }
		return v }
	BEGIN { lo = hex(base); hi = lo + 8 * 8192 }
	$6 == kind { a = hex($3); if (a >= lo && a < hi) k++ } END { print k + 0 }' "$tmp/all.txt"
}
st=$(count store)
ld=$(count load)
t "$([ "$st" = 8192 ] && echo 0 || echo 1)" "all 8192 array stores sampled at N=1 (got $st)"
t "$([ "$ld" = 8192 ] && echo 0 || echo 1)" "all 8192 array loads sampled at N=1 (got $ld)"

"$CONV" -n 7 -o "$tmp/7.tr" "$tmp/lk.log" 2>/dev/null && "$CONV" --dump "$tmp/7.tr" >"$tmp/7.txt"
expect 7 >"$tmp/7.exp"
cmp -s "$tmp/7.txt" "$tmp/7.exp"
t $? "-n 7: exactly every 7th access ($(wc -l <"$tmp/7.txt") samples)"

"$CONV" -o "$tmp/d.tr" - <"$tmp/lk.log" 2>/dev/null && "$CONV" --dump "$tmp/d.tr" >"$tmp/d.txt"
got=$(wc -l <"$tmp/d.txt")
t "$([ "$got" = $((accesses / 4093)) ] && echo 0 || echo 1)" "default 1 in 4093 from stdin: $got samples of $accesses"
sz_all=$(wc -c <"$tmp/all.tr")
t "$([ "$sz_all" -lt $((accesses * 8)) ] && echo 0 || echo 1)" "compact: $sz_all bytes for $accesses samples"

# --stats: the access count and the distinct 4 KiB pages, against the log
pages=$(awk '{ a = $3; sub(/^0x/, "", a); p = substr(a, 1, length(a) - 3); if (p == "") p = "0"; print p }' "$tmp/all.exp" | sort -u | wc -l)
st=$("$CONV" --stats "$tmp/all.tr")
t "$(echo "$st" | grep -q "^accesses $accesses .* pages $pages " && echo 0 || echo 1)" "--stats: $st (log: $accesses accesses, $pages pages)"

"$CONV" -o "$tmp/x.tr" "$tmp/nonexistent.log" 2>"$tmp/e1"
rc=$?
t "$([ $rc = 1 ] && grep -q "cannot read $tmp/nonexistent.log" "$tmp/e1" && [ "$(wc -l <"$tmp/e1")" = 1 ] && echo 0 || echo 1)" "missing input: exit 1, one line: $(cat "$tmp/e1")"
printf ' L 1000,8\n S zz,8\n' >"$tmp/bad.log"
"$CONV" -n 1 -o "$tmp/x.tr" "$tmp/bad.log" 2>"$tmp/e2"
rc=$?
t "$([ $rc = 1 ] && grep -q "bad.log:2: bad access line" "$tmp/e2" && echo 0 || echo 1)" "malformed line named with its number: $(head -1 "$tmp/e2")"
"$CONV" -n 0 -o "$tmp/x.tr" "$tmp/lk.log" 2>"$tmp/e3"
rc=$?
t "$([ $rc = 2 ] && grep -q "sampling interval" "$tmp/e3" && echo 0 || echo 1)" "-n 0 refused: $(cat "$tmp/e3")"
echo "1..$n"
