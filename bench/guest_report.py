#!/usr/bin/env python3
"""guest_report.py LOG PREFIX - bench/guest.sh's guest log to PREFIX.csv (one
row per workload and candidate), PREFIX-timeline.csv, PREFIX.md (table) and
PREFIX.png (hot-set share on node 0 over time, gnuplot)."""
import csv, re, subprocess, sys

log, prefix = sys.argv[1], sys.argv[2]
runs, cur = [], None
for l in open(log, errors="replace"):
    l = l.rstrip("\n")
    f = l.split()
    if l.startswith("RUN "):
        cur = {"workload": f[1], "candidate": f[2], "secs": int(f[3]), "t": [], "share": [], "vm0": {}, "vm1": {},
               "cpu0": None, "cpu1": None, "ht": None, "lost": None, "mups": None, "moved_at": None}
        runs.append(cur)
    elif cur is None:
        continue
    elif m := re.match(r"at ([\d.]+) s: hot set ([\d.]+)% on node 0", l):
        cur["t"].append(float(m.group(1)))
        cur["share"].append(float(m.group(2)))
    elif l.startswith("first hot set:") and cur["moved_at"] is None and cur["workload"] == "moving":
        cur["moved_at"] = cur["t"][-1] if cur["t"] else cur["secs"] / 2
    elif m := re.match(r"([\d.]+) M updates/s over", l):
        cur["mups"] = float(m.group(1))
    elif l.startswith(("VM0 ", "VM1 ")):
        cur["vm" + l[2]] = dict(kv.split("=") for kv in f[1:])
    elif l.startswith(("CPU0 ", "CPU1 ")):
        cur["cpu" + l[3]] = [int(x) for x in f[1:4]]
    elif l.startswith("LOST ") and len(f) == 3:
        cur["lost"] = (int(f[1]), int(f[2]))
    elif l.startswith("HT ") and len(f) == 3:
        cur["ht"] = (int(f[1]), int(f[2]))

def d(r, k):
    return int(r["vm1"].get(k, 0)) - int(r["vm0"].get(k, 0))

rows = []
for r in runs:
    t0 = r["moved_at"] if r["workload"] == "moving" and r["moved_at"] is not None else 0
    reach = next((t - t0 for t, s in zip(r["t"], r["share"]) if t > t0 and s >= 90), None)
    c0, c1 = r["cpu0"] or [0, 0, 0], r["cpu1"] or [0, 0, 0]
    rows.append({
        "workload": r["workload"], "candidate": r["candidate"],
        "final_hot_on_node0_pct": r["share"][-1] if r["share"] else "",
        "mean_hot_on_node0_pct": round(sum(r["share"]) / len(r["share"]), 1) if r["share"] else "",
        "time_to_90pct_s": round(reach, 1) if reach is not None else "never",
        "pgmigrate_success": d(r, "pgmigrate_success"), "pgpromote_success": d(r, "pgpromote_success"),
        "pgdemote": d(r, "pgdemote_kswapd") + d(r, "pgdemote_direct"),
        "ht_promoted": r["ht"][0] if r["ht"] else "", "ht_demoted": r["ht"][1] if r["ht"] else "",
        "kdamond_cpu_s": (c1[0] - c0[0]) / 100, "kswapd_cpu_s": (c1[1] - c0[1]) / 100, "runtime_cpu_s": c1[2] / 100,
        "M_updates_per_s": r["mups"],
        "samples_lost": "%d of %d" % (r["lost"][1], r["lost"][0]) if r["lost"] else ""})
cols = list(rows[0].keys()) if rows else []
with open(prefix + ".csv", "w", newline="") as fh:
    w = csv.DictWriter(fh, cols)
    w.writeheader()
    w.writerows(rows)
with open(prefix + "-timeline.csv", "w", newline="") as fh:
    w = csv.writer(fh)
    w.writerow(["workload", "candidate", "t_s", "hot_on_node0_pct"])
    for r in runs:
        for t, s in zip(r["t"], r["share"]):
            w.writerow([r["workload"], r["candidate"], t, s])
with open(prefix + ".md", "w") as fh:
    fh.write("| workload | candidate | hot set on node 0 at end % | mean % | time to 90 % (s) | pages migrated (vmstat) | promoted / demoted (vmstat) | ours promoted / demoted | kdamond CPU s | kswapd CPU s | runtime CPU s | M updates/s |\n")
    fh.write("|---|---|---|---|---|---|---|---|---|---|---|---|\n")
    for x in rows:
        fh.write("| %s | %s | %s | %s | %s | %s | %s / %s | %s / %s | %.2f | %.2f | %.2f | %s |\n" % (
            x["workload"], x["candidate"], x["final_hot_on_node0_pct"], x["mean_hot_on_node0_pct"], x["time_to_90pct_s"],
            x["pgmigrate_success"], x["pgpromote_success"], x["pgdemote"], x["ht_promoted"] if x["ht_promoted"] != "" else "-", x["ht_demoted"] if x["ht_demoted"] != "" else "-",
            x["kdamond_cpu_s"], x["kswapd_cpu_s"], x["runtime_cpu_s"], x["M_updates_per_s"]))
print(open(prefix + ".md").read())
# plot: one panel per workload
wls = []
for r in runs:
    if r["workload"] not in wls:
        wls.append(r["workload"])
cands = []
for r in runs:
    if r["candidate"] not in cands:
        cands.append(r["candidate"])
gp = ['set terminal png size 1500,450',
      'set output "%s.png"' % prefix, 'set datafile separator ","', "set multiplot layout 1,%d" % len(wls),
      "set yrange [0:105]", 'set xlabel "seconds"', 'set ylabel "hot set on node 0 (%)"', "set key bottom right"]
for wl in wls:
    plots = []
    for c in cands:
        plots.append("'%s-timeline.csv' using (strcol(1) eq \"%s\" && strcol(2) eq \"%s\" ? $3 : 1/0):4 with linespoints title '%s'" % (prefix, wl, c, c))
    gp.append('set title "%s"' % wl)
    gp.append("plot " + ", ".join(plots))
gp.append("unset multiplot")
try:
    subprocess.run(["gnuplot"], input="\n".join(gp), text=True, check=True)
except (OSError, subprocess.CalledProcessError) as e:
    print("no plot: %s" % e, file=sys.stderr)
