#!/usr/bin/env python3
"""demo_report.py GUEST_OUTPUT OUT_DIR - summarise the demo's two guest runs.

Reads what tools/demo.sh captured from the guest (gups-hotset output of the
"off" and "on" phases, then the runtime's stats_log JSON lines of the "on"
phase) and prints: throughput per phase, the share of the hot set on node 0
over time, pages exchanged, and whether the fast quota held. Writes
demo-timeline.csv (and the gnuplot input) into OUT_DIR.
"""
import json
import re
import sys


def main():
    text = open(sys.argv[1]).read().splitlines()
    out = sys.argv[2]
    phase, res, stats = None, {}, []
    for line in text:
        m = re.match(r"@@phase (\w+)", line)
        if m:
            phase = m.group(1)
            res[phase] = {}
            continue
        if line.startswith("{"):
            try:
                stats.append(json.loads(line))
            except ValueError:
                pass
            continue
        if phase is None:
            continue
        m = re.search(r"([\d.]+) M updates/s", line)
        if m:
            res[phase]["mups"] = float(m.group(1))
        m = re.search(r"hot set: (\d+) of (\d+) pages on node 0", line)
        if m:
            res[phase]["hot_on0"] = (int(m.group(1)), int(m.group(2)))
        if line.startswith("hypertier:"):
            res[phase]["summary"] = line
    print("\n== Throughput per phase (GUPS updates, guest; both phases start with every page on node 1)")
    for p in ("off", "on"):
        r = res.get(p, {})
        hot = r.get("hot_on0")
        print("  HyperTier %-3s: %6s M updates/s, hot set on node 0 at the end: %s" % (
            p, "%.2f" % r["mups"] if "mups" in r else "?",
            "%d of %d pages (%.1f%%)" % (hot[0], hot[1], 100.0 * hot[0] / hot[1]) if hot else "?"))
    if not stats:
        print("  no stats from the 'on' phase (the runtime did not start?)")
        return 1
    t0 = stats[0]["time_ns"]
    quota = stats[-1]["fast_quota"]
    print("\n== HyperTier on: over time (from the runtime's stats_log, 1 s apart)")
    print("  %5s %12s %12s %10s %9s %9s %15s" % ("t(s)", "fast MiB", "budget MiB", "hot share", "promoted",
                                                "demoted", "sampled on n0"))
    rows, prev, maxfast = [], None, 0
    for s in stats:
        hot = [r for r in s.get("top_ranges", []) if r.get("hot") and r.get("fast_share", -1) >= 0]
        tot = sum(r["len"] for r in hot)
        share = sum(r["len"] * r["fast_share"] for r in hot) / tot if tot else 0.0
        dh = s["fast_hit_samples"] - (prev["fast_hit_samples"] if prev else 0)
        dl = s["located_samples"] - (prev["located_samples"] if prev else 0)
        hit = dh / dl if dl else 0.0
        t = (s["time_ns"] - t0) / 1e9
        maxfast = max(maxfast, s["fast_used"])
        rows.append((t, s["fast_used"] / 2**20, s["fast_budget"] / 2**20, share, s["pages_promoted"],
                     s["pages_demoted"], hit))
        print("  %5.1f %12.1f %12.1f %9.1f%% %9d %9d %14.1f%%" % (t, rows[-1][1], rows[-1][2], 100 * share,
                                                               s["pages_promoted"], s["pages_demoted"], 100 * hit))
        prev = s
    last = stats[-1]
    print("\n  pages exchanged: %d promoted, %d demoted (%.1f MiB moved)" % (
        last["pages_promoted"], last["pages_demoted"], last["bytes_moved"] / 2**20))
    if quota:
        ok = maxfast <= quota
        print("  fast quota %d MiB: %s (largest fast-tier use seen %.1f MiB)" % (
            quota >> 20, "respected" if ok else "EXCEEDED", maxfast / 2**20))
    with open(out + "/demo-timeline.csv", "w") as f:
        f.write("t_s,fast_mib,budget_mib,hot_share,promoted,demoted,sampled_hit\n")
        for r in rows:
            f.write("%.2f,%.2f,%.2f,%.4f,%d,%d,%.4f\n" % r)
    return 0


if __name__ == "__main__":
    sys.exit(main())
