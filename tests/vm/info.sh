#!/bin/sh
# hypertier-info inside the two-tier guest: node 1 must be reported as a
# CPU-less slow tier, node 0 as the fast tier, no PMU; a second boot with
# ACPI HMAT checks the latency-based choice; HYPERTIER_CONF overrides it.
vm=${abs_top_srcdir:-$(dirname "$0")/../..}/tests/vm
info=${abs_top_builddir:-.}/tools/hypertier-info
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
for mode in plain hmat; do
	flag=; [ $mode = hmat ] && flag=--hmat
	"$vm/run-guest" --timeout 240 $flag --bin "$info" -- \
		'hypertier-info --json >/tmp/j && hypertier-info >/tmp/t &&
		 HYPERTIER_CONF=fast_node=1,slow_node=0 hypertier-info --json >/tmp/o &&
		 cat /tmp/j && echo @@ && cat /tmp/t && echo @@ && cat /tmp/o' >"$tmp/$mode" || {
		cat "$tmp/$mode"
		echo "Bail out! the $mode guest run failed"
		exit 1
	}
done
exec env PYTHONPATH="$vm/.." python3 - "$tmp" <<'PY'
import json, sys
from tap import ok, plan
def load(mode):
    js, text, over = open(sys.argv[1] + "/" + mode).read().split("@@\n")
    return json.loads(js), text, json.loads(over)

d, text, over = load("plain")
for l in text.splitlines():
    print("# " + l)
ok(d["tiered"] and d["nr_nodes"] == 2, "guest: two nodes, tiered")
ok(d["fast_node"] == 0 and d["slow_node"] == 1, "guest: fast node 0, slow node 1")
n0 = [x for x in d["nodes"] if x["id"] == 0][0]
n1 = [x for x in d["nodes"] if x["id"] == 1][0]
ok(n0["tier"] == "fast" and n0["cpus"] == "0-1", "guest: node 0 is the fast tier with CPUs 0-1")
ok(n1["tier"] == "slow" and n1["nr_cpus"] == 0 and n1["cpus"] == "", "guest: node 1 is a CPU-less slow tier")
ok(d["slow_reason"] == "node 1 has no CPUs", "guest: slow tier chosen because: %s" % d["slow_reason"])
ok(900 << 20 < n1["total_bytes"] <= 1 << 30 and 0 < n1["free_bytes"] <= n1["total_bytes"],
   "guest: node 1 holds ~1 GiB (%d bytes), free known" % n1["total_bytes"])
ok(d["distances"] == [[10, 20], [20, 10]], "guest: distances %s" % d["distances"])
ok(d["pmu"]["in_vm"], "guest: knows it is in a VM (%s)" % d["pmu"]["hypervisor"])
if not d["pmu"]["has_cpu_pmu"]:  # TCG: no virtual PMU
    ok(d["source"]["selected"] is None and "no PMU" in (d["source"]["why"] or "") and "no DAMON" in d["source"]["why"],
       "guest without a PMU: no sample source, why: %s" % d["source"]["why"])
else:  # KVM with a virtual PMU
    ok(d["source"]["selected"] or d["source"]["why"], "guest with a virtual PMU: a source or the reason")
ok("node 1: slow tier, CPUs none (CPU-less)" in text, "text: node 1: slow tier, CPUs none (CPU-less)")
ok("fast tier: node 0; slow tier: node 1" in text, "text: fast tier node 0, slow tier node 1")
ok(over["fast_node"] == 1 and over["slow_node"] == 0 and over["slow_reason"] == "configured",
   "HYPERTIER_CONF=fast_node=1,slow_node=0 overrides the guess")

h, _, _ = load("hmat")
h1 = [x for x in h["nodes"] if x["id"] == 1][0]
ok(h1["read_latency_ns"] > [x for x in h["nodes"] if x["id"] == 0][0]["read_latency_ns"] > 0,
   "HMAT guest: node 1 read latency %d ns above node 0" % h1["read_latency_ns"])
ok(h["slow_node"] == 1 and "HMAT" in (h["slow_reason"] or ""), "HMAT guest: slow tier chosen by %s" % h["slow_reason"])
plan()
PY
