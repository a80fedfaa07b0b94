#!/usr/bin/env python3
"""demo_report.py GUEST_OUTPUT OUT_DIR HOT_BYTES - summarise the demo's two guest runs.

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
    hot_bytes = int(sys.argv[3]) if len(sys.argv) > 3 else 0
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
    print("  hot on n0: of the densest %.1f MiB (the hot set's size) as the engine ranks it, the share its"
          % (hot_bytes / 2**20) if hot_bytes else "  hot on n0: of the engine's hot ranges, the share its")
    print("  placement scan found on node 0; sampled on n0: share of this second's samples on node 0")
    print("  %5s %12s %12s %12s %9s %9s %14s" % ("t(s)", "fast MiB", "budget MiB", "hot on n0", "promoted",
                                                "demoted", "sampled on n0"))
    rows, prev, maxfast = [], None, 0
    for s in stats:
        # the densest hot_bytes of memory, as the engine ranks it, and how much
        # of it its last placement scan found on node 0
        ranges = sorted((r for r in s.get("top_ranges", []) if r.get("fast_share", -1) >= 0),
                        key=lambda r: -r["density"])
        want, got, on0 = hot_bytes or sum(r["len"] for r in ranges if r.get("hot")), 0, 0.0
        for r in ranges:
            take = min(r["len"], want - got)
            if take <= 0:
                break
            got += take
            on0 += take * r["fast_share"]
        share = on0 / got if got else 0.0
        dh = s["fast_hit_samples"] - (prev["fast_hit_samples"] if prev else 0)
        dl = s["located_samples"] - (prev["located_samples"] if prev else 0)
        hit = dh / dl if dl else -1.0  # no sample located this second
        t = (s["time_ns"] - t0) / 1e9
        maxfast = max(maxfast, s["fast_used"])
        rows.append((t, s["fast_used"] / 2**20, s["fast_budget"] / 2**20, share, s["pages_promoted"],
                     s["pages_demoted"], hit))
        prev = s
    step = max(1, (len(rows) + 19) // 20)  # about 20 lines; every line is in the CSV
    for i, r in enumerate(rows):
        if i % step == 0 or i == len(rows) - 1:
            print("  %5.1f %12.1f %12.1f %11.1f%% %9d %9d %14s" % (r[0], r[1], r[2], 100 * r[3], r[4], r[5],
                                                                     "%.1f%%" % (100 * r[6]) if r[6] >= 0 else "-"))
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
