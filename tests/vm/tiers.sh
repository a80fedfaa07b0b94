#!/bin/sh
# Memory tiers and DAMON in the guest kernels (tiers_guest.sh, damon_busy.c).
# Debian 13's 6.12 with ACPI HMAT puts CPU-less node 1 in a lower memory tier
# than node 0 and offers DAMON: vaddr monitoring of damon_busy shows its hot
# buffer accessed and its cold one not (damon:damon_aggregated). --smp 1:
# see README.md for why DAMON needs it under TCG. Debian 12's 6.1 keeps both
# nodes in one tier, HMAT or not.
vm=${abs_top_srcdir:-$(dirname "$0")/../..}/tests/vm
busy=${abs_top_builddir:-.}/tests/vm/damon_busy
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
for k in 6.12 6.1; do
	"$vm/run-guest" --kernel $k --hmat --smp 1 --timeout 240 --bin "$busy" \
		--file "$vm/tiers_guest.sh" -- 'sh /t/tiers_guest.sh' >"$tmp/$k" || {
		cat "$tmp/$k"
		echo "Bail out! the $k guest run failed"
		exit 1
	}
done
exec env PYTHONPATH="$vm/.." python3 - "$tmp" <<'PY'
import sys
from tap import ok, plan
def load(k):
    d = {"tier": {}, "avail": [], "buf": {}, "agg": [], "lines": []}
    for line in open(sys.argv[1] + "/" + k).read().splitlines():
        key, _, rest = line.partition(" ")
        d["lines"].append(line)
        if key == "tier":  # tier memory_tierN NODELIST
            name, _, nodes = rest.partition(" ")
            d["tier"][int(name[len("memory_tier"):])] = nodes
        elif key == "buf":  # buf hot|cold START END (hex)
            name, s, e = rest.split()
            d["buf"][name] = (int(s, 16), int(e, 16))
        elif key == "agg":  # agg target_id=0 nr_regions=N START-END: NR_ACCESSES AGE
            f = rest.split()
            s, e = f[2].rstrip(":").split("-")
            d["agg"].append((int(s), int(e), int(f[3])))
        elif key in ("kernel", "damon", "avail"):
            d[key] = rest.split()
    return d
def nodes(lst):  # "0-1,3" -> {0, 1, 3}
    out = set()
    for part in filter(None, lst.split(",")):
        a, _, b = part.partition("-")
        out.update(range(int(a), int(b or a) + 1))
    return out
def tier_of(d, node):
    return [t for t, l in d["tier"].items() if node in nodes(l)]

d = load("6.12")
for l in d["lines"]:
    if l.split(" ")[0] in ("tier", "avail", "ctx", "fmt", "buf", "attrs"):
        print("# 6.12: " + l)
ok(d.get("kernel", ["?"])[0].startswith("6.12."), "--kernel 6.12 boots %s" % d.get("kernel"))
t0, t1 = tier_of(d, 0), tier_of(d, 1)
ok(len(t0) == 1 and len(t1) == 1 and t0 != t1 and t1[0] > t0[0],
   "6.12 with HMAT: node 1 in a lower tier (memory_tier%s) than node 0 (memory_tier%s)" % (t1, t0))
ok(d.get("damon") == ["sysfs"], "6.12: /sys/kernel/mm/damon/admin/kdamonds exists")
ok("vaddr" in d["avail"] and "paddr" in d["avail"], "6.12: avail_operations %s has vaddr and paddr" % d["avail"])

# damon_aggregated lines come region by region in address order, one
# aggregation (aggr_us, 100 ms) after the other: a lower start begins the next.
snaps, prev = [], None
for s, e, a in d["agg"]:
    if prev is None or s < prev:
        snaps.append([])
    snaps[-1].append((s, e, a))
    prev = s
late = snaps[10:]  # after the first second: regions split, first-touch bits cleared
ok(len(late) >= 10, "6.12: %d aggregations traced (%d after the first second)" % (len(snaps), len(late)))
hot, cold = d["buf"].get("hot", (0, 0)), d["buf"].get("cold", (0, 0))
def overlap(r, b):
    return max(0, min(r[1], b[1]) - max(r[0], b[0]))
# The hot buffer's accesses: the region holding most of it, per aggregation.
hot_acc = [max(snap, key=lambda r: overlap(r, hot))[2] for snap in late if snap]
# The cold buffer's: every region with part of it and none of the hot one.
cold_acc = [r[2] for snap in late for r in snap if overlap(r, cold) and not overlap(r, hot)]
print("# hot nr_accesses per aggregation: %s" % hot_acc)
print("# cold nr_accesses (%d regions): max %s" % (len(cold_acc), max(cold_acc, default=None)))
if late:  # for a failure: the last aggregation's regions over either buffer, offsets from the hot one in MiB
    print("# last aggregation: %s" % ["%+d..%+d MiB: %d" % ((r[0] - hot[0]) >> 20, (r[1] - hot[0]) >> 20, r[2])
                                      for r in late[-1] if overlap(r, hot) or overlap(r, cold)])
attrs = dict(kv.split("=") for l in d["lines"] if l.startswith("attrs ") for kv in l.split()[1:])
samples = int(attrs.get("aggr_us", 0)) // max(1, int(attrs.get("sample_us", 1)))
ok(hot_acc and max(hot_acc) > 0,
   "6.12 DAMON vaddr: hot buffer accessed (nr_accesses up to %s of %d samples)" % (max(hot_acc, default=None), samples))
ok(cold_acc and max(cold_acc) == 0, "6.12 DAMON vaddr: cold buffer not accessed (%d region samples, all 0)" % len(cold_acc))

d = load("6.1")
for l in d["lines"]:
    if l.startswith("tier"):
        print("# 6.1: " + l)
ok(d.get("kernel", ["?"])[0].startswith("6.1."), "--kernel 6.1 boots %s" % d.get("kernel"))
ok(tier_of(d, 0) and tier_of(d, 0) == tier_of(d, 1),
   "6.1 with HMAT: nodes 0 and 1 in one tier (memory_tier%s)" % tier_of(d, 0))
ok(d.get("damon") == ["none"], "6.1: no DAMON")
plan()
PY
