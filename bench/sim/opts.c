/* opts.c - the simulator's options as one table: name, kind, field, default, doc. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bench.h"

enum { O_DBL, O_U64, O_SIZE, O_INT, O_STR };
struct opt { const char *name; int kind; size_t off, len; const char *def, *doc; };
#define F(f) offsetof(struct bench_opts, f)
#define S(f) sizeof(((struct bench_opts *)0)->f)
static const struct opt opts[] = {
	{ "fast-ns", O_DBL, F(fast_ns), 0, "70", "fast-tier access latency, ns (DRAM)" },
	{ "slow-ns", O_DBL, F(slow_ns), 0, "180", "slow-tier access latency, ns (Optane 180; CXL: 120)" },
	{ "migrate-ns", O_U64, F(migrate_ns), 0, "2000", "modelled cost of migrating one 4 KiB page, ns" },
	{ "fast-ratio", O_DBL, F(fast_ratio), 0, "0.2", "fast capacity as a share of the footprint (1/5)" },
	{ "ratios", O_STR, F(ratios), S(ratios), "", "';'-separated fast ratios to sweep (overrides fast-ratio)" },
	{ "mode", O_STR, F(mode), S(mode), "llc", "llc: only LLC misses reach memory, are sampled and scored; all: every access does (no cache)" },
	{ "llc-size", O_SIZE, F(llc_size), 0, "32M", "LLC capacity (llc mode)" },
	{ "llc-ways", O_U64, F(llc_ways), 0, "16", "LLC associativity" },
	{ "llc-line", O_SIZE, F(llc_line), 0, "64", "LLC line, bytes (a power of 2)" },
	{ "hit-ns", O_DBL, F(hit_ns), 0, "1", "modelled cost of an LLC hit, ns" },
	{ "period", O_U64, F(period), 0, "101", "one memory access (LLC miss in llc mode) in period becomes a sample" },
	{ "periods", O_STR, F(periods), S(periods), "", "';'-separated periods to sweep (overrides period), e.g. 101;1009;10007" },
	{ "accesses", O_U64, F(accesses), 0, "200000000", "synthetic trace length in accesses before the LLC (after the init pass)" },
	{ "trace-loops", O_U64, F(trace_loops), 0, "1", "replay a recorded trace this many times over, as a steady program that runs longer (llc mode: the miss stream repeats, so each loop after the first starts with the LLC as the trace left it)" },
	{ "footprint", O_SIZE, F(footprint), 0, "1G", "synthetic footprint" },
	{ "hot-frac", O_DBL, F(hot_frac), 0, "0.1", "GUPS hot set: share of pages" },
	{ "hot-share", O_DBL, F(hot_share), 0, "0.9", "GUPS hot set: share of accesses" },
	{ "hot-offset", O_DBL, F(hot_offset), 0, "0.5", "where the hot set (zipf head) starts, share of footprint" },
	{ "zipf-s", O_DBL, F(zipf_s), 0, "0.99", "Zipf exponent" },
	{ "move-every", O_U64, F(move_every), 0, "50000000", "moving hot set: accesses (before the LLC) between moves (about 6 s of modelled time: 12 epochs)" },
	{ "rate", O_SIZE, F(rate), 0, "256M", "migration cap for every policy, bytes per simulated second (0: none)" },
	{ "seed", O_U64, F(seed), 0, "42", "random seed" },
	{ "cpus", O_INT, F(cpus), 0, "4", "CPUs of the simulated fast node (the engine sizes its split threshold by the topology's CPUs)" },
	{ "hemem-page", O_SIZE, F(hemem_page), 0, "2M", "HeMem placement unit" },
	{ "hemem-hot", O_U64, F(hemem_hot), 0, "4", "HeMem: hot at this many sampled accesses" },
	{ "hemem-cool", O_U64, F(hemem_cool), 0, "18", "HeMem: a count reaching this advances the cooling clock" },
	{ "hemem-tick-us", O_U64, F(hemem_tick_us), 0, "10000", "HeMem policy pass period, us" },
	{ "memtis-cool", O_U64, F(memtis_cool), 0, "200000", "Memtis: samples between halvings (paper 2M at ~10x our rate)" },
	{ "memtis-tick-us", O_U64, F(memtis_tick_us), 0, "500000", "Memtis: migration pass period, us of modelled time" },
	{ "memtis-slack", O_DBL, F(memtis_slack), 0, "3", "Memtis: percent of fast kept out of the hot threshold" },
	{ "tpp-tick-us", O_U64, F(tpp_tick_us), 0, "100000", "TPP: A-bit aging / demotion check period, us" },
	{ "tpp-scan-us", O_U64, F(tpp_scan_us), 0, "1000000", "TPP: NUMA hint-fault scan period, us" },
	{ "tpp-wm-low", O_DBL, F(tpp_wm_low), 0, "2", "TPP: demote when fast free falls below this percent" },
	{ "tpp-wm-high", O_DBL, F(tpp_wm_high), 0, "4", "TPP: ... until this percent is free" },
	{ "conf", O_STR, F(conf), S(conf), "", "HYPERTIER_CONF for the engine (its own defaults otherwise)" },
	{ "policies", O_STR, F(policies), S(policies), "first-touch;hemem;memtis;tpp;hypertier;oracle-epoch;oracle-cost;oracle-static", "';'-separated" },
	{ "workloads", O_STR, F(workloads), S(workloads), "gups-hot;zipf;zipf-scrambled;moving-hot;uniform", "';'-separated; trace:NAME=FILE for a recorded trace" },
	{ "out", O_STR, F(out), S(out), "", "directory for CSV / markdown / plot data (none: table only)" },
	{ "heat", O_INT, F(heat), 0, "1", "write heatmap data (with out)" },
};
#define NOPTS (sizeof(opts) / sizeof(opts[0]))

static int set(struct bench_opts *o, const struct opt *p, const char *v)
{
	char *end = NULL;
	void *f = (char *)o + p->off;
	switch (p->kind) {
	case O_DBL: *(double *)f = strtod(v, &end); break;
	case O_U64: *(uint64_t *)f = strtoull(v, &end, 0); break;
	case O_INT: *(int *)f = (int)strtol(v, &end, 0); break;
	case O_SIZE: return ht_parse_size(v, (uint64_t *)f);
	case O_STR:
		if (strlen(v) >= p->len)
			return -1;
		strcpy(f, v);
		return 0;
	}
	return *v && end && !*end ? 0 : -1;
}

void bench_opts_defaults(struct bench_opts *o)
{
	memset(o, 0, sizeof(*o));
	for (size_t i = 0; i < NOPTS; i++)
		set(o, &opts[i], opts[i].def);
	o->oracle_horizon = -1;
}

void bench_opts_usage(FILE *f)
{
	fprintf(f, "usage: ht-bench [--key=value ...]\n");
	for (size_t i = 0; i < NOPTS; i++)
		fprintf(f, "  --%-15s %s (default %s)\n", opts[i].name, opts[i].doc, *opts[i].def ? opts[i].def : "none");
}

int bench_opts_parse(struct bench_opts *o, int argc, char **argv)
{
	int i;
	for (i = 1; i < argc && !strncmp(argv[i], "--", 2); i++) {
		const char *a = argv[i] + 2, *eq = strchr(a, '=');
		if (!strcmp(a, "help")) {
			bench_opts_usage(stdout);
			exit(0);
		}
		size_t k, n = eq ? (size_t)(eq - a) : strlen(a);
		for (k = 0; k < NOPTS; k++)
			if (strlen(opts[k].name) == n && !strncmp(opts[k].name, a, n))
				break;
		if (k == NOPTS || !eq || set(o, &opts[k], eq + 1)) {
			fprintf(stderr, "ht-bench: bad option '%s' (--help lists them)\n", argv[i]);
			return -1;
		}
	}
	if (o->period < 1 || o->fast_ratio <= 0 || o->fast_ratio > 1 ||
	    (strcmp(o->mode, "llc") && strcmp(o->mode, "all"))) {
		fprintf(stderr, "ht-bench: period must be >= 1, fast-ratio in (0,1], mode llc or all\n");
		return -1;
	}
	return i;
}
