#!/bin/sh
# Every key of core/conf_keys.h is documented in hypertier(7) with its
# default, and the man page lists no key that does not exist.
#   manpage.sh --sync   rewrites the part of man/hypertier.7 between the
#                       BEGIN KEYS / END KEYS comments from conf_keys.h
src=${abs_top_srcdir:-$(dirname "$0")/../..}
exec env PYTHONPATH="$src/tests" python3 - "$src/lib/libhypertier/core/conf_keys.h" "$src/man/hypertier.7" "$@" <<'PY'
import re, sys
keys_h, man, args = sys.argv[1], sys.argv[2], sys.argv[3:]
types = {"BOOL": "bool", "U64": "integer", "NODE": "node", "SIZE": "size", "DUR": "duration",
         "PCT": "percent", "ENUM": "word", "STR": "string"}
keys, groups = [], []
for line in open(keys_h):
    g = re.match(r"/\* (\w[\w ]*) \*/\s*$", line)
    if g:
        groups.append((g.group(1), len(keys)))
    m = re.match(r'X\(\s*(\w+),\s*(\w+),\s*"([^"]*)",\s*([^,]+),\s*([^,]+),\s*"((?:[^"\\]|\\.)*)"\)', line)
    if m:
        keys.append(m.groups())

def esc(s):
    return s.replace("\\", "\\e").replace("-", "\\-")

if args == ["--sync"]:
    out = []
    bounds = [g[1] for g in groups] + [len(keys)]
    for i, (title, start) in enumerate(groups):
        out.append(".SS %s" % title.capitalize())
        for name, t, d, lo, hi, doc in keys[start:bounds[i + 1]]:
            out.append(".TP\n.BI %s= %s" % (name, types[t]))
            out.append("(default %s) %s." % ("\\fB%s\\fR" % esc(d) if d else "empty", esc(doc)))
    text = open(man).read()
    a, b = text.index(".\\\" BEGIN KEYS\n"), text.index(".\\\" END KEYS")
    text = text[:a] + ".\\\" BEGIN KEYS\n" + "\n".join(out) + "\n" + text[b:]
    open(man, "w").write(text)
    sys.exit(0)

text = open(man).read()
from tap import ok, plan
ok(len(keys) > 20, "conf_keys.h parsed: %d keys" % len(keys))
for name, t, d, lo, hi, doc in keys:
    m = re.search(r"^\.BI %s= .*\n(.*)$" % re.escape(name), text, re.M)
    want = "(default \\fB%s\\fR)" % esc(d) if d else "(default empty)"
    ok(m and m.group(1).startswith(want), "hypertier(7) documents %s with %s" % (name, want))
names = {k[0] for k in keys}
stale = [k for k in re.findall(r"^\.BI (\w+)= ", text, re.M) if k not in names]
ok(not stale, "hypertier(7) lists no unknown key %s" % (stale or ""))
plan()
PY
