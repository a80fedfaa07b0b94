/*
 * source.h - where access samples come from (the pipeline's first stage).
 * Like DAMON's operations sets: one small ops table per source (PEBS, IBS,
 * DAMON, software-reported, trace replay). The classifier only ever sees
 * struct ht_sample, never which source produced it.
 */
#ifndef HT_SOURCE_H
#define HT_SOURCE_H
#include <stddef.h>
#include <stdint.h>
#include "../core/conf.h"

struct ht_sample {
	uint64_t addr;    /* virtual data address */
	uint64_t time_ns; /* CLOCK_MONOTONIC-based (perf clock for PMU sources) */
	uint32_t tid;
	uint32_t weight;  /* latency in cycles where the hardware gives it, else 1 */
	uint8_t store;    /* 1: store, 0: load */
	uint8_t pad[7];
};

/* A batch of samples; return value ignored. Called on the sampler thread. */
typedef void (*ht_sample_fn)(void *arg, const struct ht_sample *s, size_t n);

struct ht_source_stats {
	uint64_t samples, lost, throttle, unthrottle, bad_records;
	uint64_t period, period_changes;
	uint64_t wakes;       /* sampler loop iterations: a sleeping thread wakes about wall / drain_interval times */
};

struct ht_source;

struct ht_source_ops {
	const char *name;
	/* Can it run here, for this process? 0, or -1 with one line in why. */
	int (*probe)(const struct ht_conf *c, char *why, size_t whylen);
	/* Allocate priv and start collecting. 0 or -errno (why filled). */
	int (*start)(struct ht_source *s, char *why, size_t whylen);
	void (*stop)(struct ht_source *s);
	/* Deliver what is pending; returns samples delivered (>= 0). */
	long (*drain)(struct ht_source *s, ht_sample_fn fn, void *arg);
	/* Optional: change the load sample period (CPU-budget controller). */
	int (*set_period)(struct ht_source *s, uint64_t period);
};

/* Range-map events a source may carry (trace replay). */
typedef void (*ht_map_fn)(void *arg, uint64_t time_ns, uint64_t start, uint64_t len, int unmap);

struct ht_source {
	const struct ht_source_ops *ops;
	const struct ht_conf *conf;
	void *priv;
	struct ht_source_stats stats;
	int more;            /* set by drain: work left, drain again before sleeping */
	ht_map_fn on_map;    /* optional, set before start */
	void *on_map_arg;
};

extern const struct ht_source_ops ht_source_pebs, ht_source_ibs, ht_source_damon, ht_source_software, ht_source_replay;

/*
 * Pick the source that conf->sample names (auto: PEBS, then IBS, then DAMON).
 * Returns the ops, or NULL with the exact reason in why (for hypertier-info
 * and the log: "no PMU: ...").
 */
const struct ht_source_ops *ht_source_select(const struct ht_conf *c, char *why, size_t whylen);
#endif
