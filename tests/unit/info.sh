#!/bin/sh
# hypertier-info on this host, checked against what sysfs says: the node
# count (has_memory) and whether a CPU PMU exists. Text and --json.
info=${abs_top_builddir:-.}/tools/hypertier-info
[ -x "$info" ] || { echo "Bail out! $info not built"; exit 1; }
exec python3 - "$info" <<'PY'
import json, os, subprocess, sys

info = sys.argv[1]
n = 0
def ok(cond, msg):
    global n
    n += 1
    print(("ok %d - %s" if cond else "not ok %d - %s") % (n, msg))
    return cond

def nodes_with_memory():
    s = open("/sys/devices/system/node/has_memory").read().strip()
    c = 0
    for part in s.split(","):
        a, _, b = part.partition("-")
        c += int(b or a) - int(a) + 1
    return c

def run(args, env=None):
    e = dict(os.environ)
    e.pop("HYPERTIER_CONF", None)
    e.update(env or {})
    return subprocess.run([info] + args, capture_output=True, text=True, env=e)

nodes = nodes_with_memory()
has_pmu = os.path.exists("/sys/bus/event_source/devices/cpu")
print("# sysfs: %d node(s) with memory, CPU PMU %s" % (nodes, "present" if has_pmu else "absent"))

t = run([])
ok(t.returncode == 0 and t.stderr == "", "text output, exit 0, nothing on stderr")
text = t.stdout
j = run(["--json"])
try:
    d = json.loads(j.stdout)
    ok(j.returncode == 0, "--json parses")
except ValueError as err:
    ok(False, "--json parses (%s)" % err)
    print("1..%d" % n)
    sys.exit(1)

ok(d["nr_nodes"] == nodes and len(d["nodes"]) == nodes, "json: %d node(s), as sysfs says" % nodes)
for nd in d["nodes"]:
    cpus = open("/sys/devices/system/node/node%d/cpulist" % nd["id"]).read().strip()
    ok(nd["cpus"] == cpus, "json: node %d CPUs '%s' match sysfs '%s'" % (nd["id"], nd["cpus"], cpus))
    ok(0 < nd["free_bytes"] <= nd["total_bytes"], "json: node %d capacity and free memory" % nd["id"])
if nodes == 1:
    ok(not d["tiered"] and d["fast_node"] == -1 and d["slow_node"] == -1, "json: one node is not tiered")
    ok("only one NUMA node" in (d["why"] or ""), "json: why says only one NUMA node: %s" % d["why"])
    ok("only one NUMA node: nothing to tier" in text, "text says plainly: only one NUMA node: nothing to tier")
elif d["tiered"]:
    ok(d["fast_node"] != d["slow_node"] and d["slow_reason"], "json: tiered, fast != slow, because %s" % d["slow_reason"])
    ok("slow tier: node %d" % d["slow_node"] in text, "text names the slow tier")
else:
    # Several nodes that look alike (CPUs everywhere, same distance, no HMAT).
    ok(d["why"] and d["fast_node"] == -1, "json: not tiered, why: %s" % d["why"])
    ok(d["why"] in text, "text gives the same reason")

p = d["pmu"]
ok(p["has_cpu_pmu"] == has_pmu, "json: has_cpu_pmu matches sysfs")
para = int(open("/proc/sys/kernel/perf_event_paranoid").read())
ok(p["perf_event_paranoid"] == para, "json: perf_event_paranoid %d" % para)
ok("perf_event_paranoid: %d" % para in text, "text shows perf_event_paranoid")
vm = " hypervisor " in " " + open("/proc/cpuinfo").read().replace("\n", " ") + " "
ok(p["in_vm"] == vm, "json: in_vm=%s matches the cpuinfo hypervisor flag" % vm)
if not has_pmu:
    ok(not p["pebs_ok"] and not p["ibs_ok"], "json: no PEBS, no IBS without a PMU")
    ok("no PMU" in (p["pebs_why"] or "") and "no PMU" in (p["ibs_why"] or ""), "json: PEBS/IBS why say no PMU")
    ok("no PMU sampling" in text and "PEBS: no PMU" in text, "text says plainly: no PMU")
    s = d["source"]
    ok(s["requested"] == "auto" and s["selected"] is None and s["why"], "json: auto selects no source, why: %s" % s["why"])
    ok("no sample source: " in text, "text says why there is no sample source")
    # DAMON, the next in line: its reason follows from this machine's state
    kd = "/sys/kernel/mm/damon/admin/kdamonds"
    if not os.path.exists(kd + "/nr_kdamonds"):
        want = "no DAMON"
    elif not os.access(kd + "/nr_kdamonds", os.W_OK):
        want = "CAP_SYS_ADMIN"
    elif int(open(kd + "/nr_kdamonds").read()) > 0 and all(
            open("%s/%d/state" % (kd, i)).read().strip() == "on" for i in range(int(open(kd + "/nr_kdamonds").read()))):
        want = "every kdamond slot is taken"
    else:
        want = "DAMON"
    ok(want in (s["why"] or "") and "\n" not in s["why"], "json: the DAMON reason in the same line (%s): %s" % (want, s["why"]))
else:
    ok(p["pebs_ok"] or p["ibs_ok"] or (p["pebs_why"] and p["ibs_why"]), "json: PEBS/IBS either open or say why")

# HYPERTIER_CONF is honoured: sample=software is always possible; bad input refused.
sw = json.loads(run(["--json"], {"HYPERTIER_CONF": "sample=software"}).stdout)
ok(sw["source"]["selected"] == "software", "sample=software selects the software source")
bad = run([], {"HYPERTIER_CONF": "slow_node=42"})
ok(bad.returncode == 2 and bad.stdout == "" and bad.stderr.count("\n") == 1 and "slow_node=42" in bad.stderr,
   "bad HYPERTIER_CONF: one stderr line, exit 2: %s" % bad.stderr.strip())
bad = run(["--bogus"])
ok(bad.returncode == 2, "unknown option refused")
print("1..%d" % n)
PY
