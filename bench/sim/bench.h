/*
 * bench.h - the policy simulator's shared types: options, workload,
 * simulated machine and the small interface every placement policy
 * (HyperTier's own engine and the re-implemented baselines) sits behind.
 */
#ifndef HT_BENCH_H
#define HT_BENCH_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "actuator/sim.h"
#include "core/conf.h"
#include "source/source.h"

/* Every knob of the simulator is a runtime option (opts.c lists them with --help). */
struct bench_opts {
	double fast_ns, slow_ns;       /* access latency per tier */
	uint64_t migrate_ns;           /* cost of migrating one 4 KiB page */
	double fast_ratio;             /* fast capacity / footprint */
	uint64_t period;               /* 1 in period memory accesses (LLC misses) becomes a sample */
	char periods[128];             /* ';'-separated periods to sweep (overrides period) */
	char mode[8];                  /* "llc": only LLC misses reach memory; "all": every access does */
	uint64_t llc_size, llc_ways, llc_line; /* the LLC model (llc.h) */
	double hit_ns;                 /* cost of an LLC hit */
	uint64_t accesses;             /* synthetic trace length (accesses, before the LLC) */
	uint64_t trace_loops;          /* a recorded trace is replayed this many times over */
	uint64_t footprint;            /* synthetic footprint in bytes */
	double hot_frac, hot_share;    /* GUPS hot set: 10% of pages get 90% */
	double hot_offset;             /* where the hot set starts (fraction of footprint) */
	double zipf_s;
	uint64_t move_every;           /* moving hot set: accesses between moves */
	uint64_t rate;                 /* migration rate cap for every policy, bytes/s (0: none) */
	uint64_t seed;
	int cpus;                      /* CPUs the engine's split threshold sees */
	/* baselines (reference-systems.md) */
	uint64_t hemem_page, hemem_hot, hemem_cool, hemem_tick_us;
	uint64_t memtis_cool;          /* samples between halvings */
	uint64_t memtis_tick_us;       /* migration pass period */
	double memtis_slack;           /* percent of fast kept out of the hot threshold */
	uint64_t tpp_tick_us, tpp_scan_us;
	double tpp_wm_low, tpp_wm_high; /* percent of fast kept free by demotion */
	char conf[1024];               /* HYPERTIER_CONF for the engine */
	char policies[256], workloads[1024], out[512], ratios[128];
	int heat;                      /* write heatmap data */
	/* internal, not an option: oracle-cost's variant (-1: try them all, keep the fastest) */
	int oracle_horizon;
};

void bench_opts_defaults(struct bench_opts *o);
/* Parse --key=value arguments; returns index of first non-option or -1 (message printed). */
int bench_opts_parse(struct bench_opts *o, int argc, char **argv);
void bench_opts_usage(FILE *f);

/*
 * A trace of page accesses over spans of a virtual address space. Once
 * llc_filter() has run, its entries are the LLC misses only (the LLC does
 * not depend on placement, so every policy replays the same miss stream)
 * and hits[] says how many LLC hits came before each; unfiltered (hits
 * NULL, --mode=all) every access reaches memory.
 */
struct bench_span { uintptr_t start; size_t len; };
struct workload {
	char name[64];
	uint32_t *page;         /* page index per entry */
	uint16_t *off;          /* byte offset in the page per entry, may be NULL (random) */
	uint8_t *store;         /* 1 per store access, may be NULL */
	uint32_t *hits;         /* LLC hits just before each entry, or NULL */
	uint64_t tail_hits;     /* LLC hits after the last entry */
	uint64_t accesses;      /* accesses before the LLC (n when unfiltered; 0 read as n) */
	size_t n;
	size_t npages;
	size_t touched;         /* pages ever accessed: capacities are shares of this */
	struct bench_span *spans; /* sorted; page indices run through them in order */
	size_t nspans;
	uintptr_t *addr;        /* page index -> address */
};

int workload_make(struct workload *w, const char *name, const struct bench_opts *o, char *why, size_t whylen);
/* Load a trace written by source/trace.h (all accesses, e.g. ht-trace-convert --every 1). */
int workload_load_trace(struct workload *w, const char *path, const char *name, char *why, size_t whylen);
/* Replay w's entries loops times over (after llc_filter: the miss stream repeats). */
int workload_loop(struct workload *w, uint64_t loops, char *why, size_t whylen);
void workload_free(struct workload *w);

/*
 * The simulated machine one run uses: sim placement + latency model +
 * clock. The clock is modelled time: hit_ns per LLC hit, the tier's
 * latency per memory access, plus the migrations' cost so far.
 */
struct machine {
	struct ht_sim *sim;
	const struct bench_opts *o;
	const struct workload *w;
	uint64_t epoch_ns;        /* the engine's epoch (conf), also the timeline's step */
	uint64_t fast_cap;        /* pages */
	char note[32];            /* what a policy says for the tables (oracle-cost's variant) */
};

/*
 * A placement policy. tick() runs once before the first access and then
 * whenever the modelled clock passes the next multiple of tick_ns, with
 * the rest of the trace (the entries after now): only the oracles may
 * look at it (machine_window() says how many fill a span of time).
 */
struct policy_ops {
	const char *name;
	void *(*create)(struct machine *m, uint64_t *tick_ns);
	void (*sample)(void *p, const struct ht_sample *s, size_t n);  /* may be NULL */
	void (*access)(void *p, uint32_t page, int fast);              /* every memory access; may be NULL */
	void (*tick)(void *p, uint64_t now_ns, const uint32_t *future, size_t nfuture);
	/* optional: per-address-bucket hotness as the policy sees it (heatmap) */
	void (*heat)(void *p, double *bucket, size_t nbuckets);
	void (*destroy)(void *p);
};

extern const struct policy_ops pol_first_touch, pol_hemem, pol_memtis, pol_tpp,
	pol_oracle_epoch, pol_oracle_cost, pol_oracle_static, pol_hypertier;
const struct policy_ops *policy_find(const char *name);

/* Migration helper for baselines: moves page, honouring a page budget. 1 moved, 0 not. */
int machine_move(struct machine *m, uint32_t page, int fast, uint64_t *budget);
/* Pages a policy may move per tick of tick_ns under o->rate (UINT64_MAX: none). */
uint64_t machine_tick_budget(const struct machine *m, uint64_t tick_ns);
/* How many entries from index from fill ns of modelled time if every
 * memory access were served by the fast tier (the most an epoch can hold). */
size_t machine_window(const struct machine *m, size_t from, double ns);

struct run_result {
	char policy[32], workload[64];
	char note[32];            /* e.g. which oracle-cost variant won */
	double fast_ratio;
	uint64_t period;
	uint64_t accesses;        /* all accesses, LLC hits included */
	uint64_t misses;          /* accesses that reached memory (= accesses in all mode) */
	uint64_t hits, samples;   /* hits: fast-tier hits among the misses */
	double access_ns, migrate_ns; /* access_ns: LLC hits + memory latencies */
	uint64_t promoted, demoted;
	double *epoch_hit;        /* per epoch */
	size_t nepochs;
	double *heat;             /* nepochs x heat_buckets, or NULL */
	double *true_heat;
	size_t heat_buckets;
};

int bench_run(const struct bench_opts *o, const struct workload *w, const struct policy_ops *pol,
	      struct run_result *r);
void run_result_free(struct run_result *r);
#endif
