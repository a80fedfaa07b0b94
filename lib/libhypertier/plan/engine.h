/*
 * engine.h - the classifier + exchange engine, the single entry point for
 * the runtime (core/runtime.c) and bench/.
 *
 * Samples go in through ht_engine_ingest (sampler thread, lock-free);
 * every epoch (ht_engine_epoch, or the engine's own thread started with
 * ht_engine_start) decays/splits/merges the ranges, recomputes the
 * fast-tier budget, plans the hot set and exchanges pages through the
 * actuator it was given (real move_pages, or bench's simulated placement).
 */
#ifndef HT_ENGINE_H
#define HT_ENGINE_H
#include <stddef.h>
#include <stdint.h>
#include "hypertier.h"
#include "../core/conf.h"
#include "../core/topo.h"
#include "../source/source.h"
#include "../actuator/actuator.h"

/* Where a managed range came from (a range keeps the first origin it got). */
enum ht_origin {
	HT_ORIGIN_MAPS = 0,   /* /proc/self/maps scan; removed again when a rescan no longer sees it */
	HT_ORIGIN_EXTENT = 1, /* allocator extent hook */
	HT_ORIGIN_USER = 2,   /* ht_register() */
};

/* One classifier range, for htstat, tests and bench (ht_engine_top_ranges). */
struct ht_range_info {
	uintptr_t start;
	size_t len;
	double density;     /* decayed samples per byte */
	double count;       /* decayed sample count */
	double fast_share;  /* share of its pages seen on the fast node at the last plan (0..1, -1 unknown) */
	int hint;           /* enum ht_hint in force */
	int origin;         /* enum ht_origin */
	uint64_t hot_bytes; /* bytes (from start) in the hot set of the last epoch; 0: not in it */
};

struct ht_engine;

/* NULL on bad arguments or out of memory. act is borrowed; t is copied. */
struct ht_engine *ht_engine_create(const struct ht_conf *c, const struct ht_topo *t, struct ht_actuator *act);
/* Stops the thread if running, frees everything. */
void ht_engine_destroy(struct ht_engine *e);

/* Count samples into their ranges. Has ht_sample_fn's signature. Lock-free; any thread. */
void ht_engine_ingest(void *engine, const struct ht_sample *s, size_t n);

/*
 * One synchronous round: (rescan if due and maps are managed), decay,
 * split, merge, budget, plan, exchange. now_ns: CLOCK_MONOTONIC (or the
 * bench's simulated clock). Returns pages moved this epoch (>= 0) or -errno
 * on a bad engine; page failures are counted, never returned.
 */
int ht_engine_epoch(struct ht_engine *e, uint64_t now_ns);

/*
 * 1 when an epoch is due at now_ns: conf->epoch since the last one, or
 * conf->epoch_samples samples since it and at least conf->epoch_min. For
 * callers that drive ht_engine_epoch themselves (bench's simulated clock).
 */
int ht_engine_due(struct ht_engine *e, uint64_t now_ns);

/*
 * Epoch thread: sleeps conf->epoch on a timer, woken early by ingest once
 * conf->epoch_samples samples arrived (no sooner than conf->epoch_min after
 * the last epoch); signals blocked. 0 or -errno.
 */
int ht_engine_start(struct ht_engine *e);
void ht_engine_stop(struct ht_engine *e);

/*
 * (Re)read /proc/self/maps: add the managed mappings (conf->manage), drop
 * HT_ORIGIN_MAPS ranges that are gone. Runtime only; bench never calls it.
 * Returns the number of managed mappings or -errno. Once called, the epoch
 * rescans every conf->rescan by itself.
 */
int ht_engine_scan_maps(struct ht_engine *e);

/*
 * Manage [start, start+len) (page aligned outward). 0, -EINVAL, -ENOMEM (cap).
 * HT_ORIGIN_EXTENT never blocks (allocator hooks run under jemalloc's locks):
 * when the engine is busy the change is queued and applied within an epoch.
 */
int ht_engine_add_range(struct ht_engine *e, uintptr_t start, size_t len, int origin);
/* Stop managing it; splits/trims ranges that overlap partly. Never blocks (queued if busy). 0 or -EINVAL. */
int ht_engine_remove_range(struct ht_engine *e, uintptr_t start, size_t len);
/*
 * The span is about to change hands (munmap, or memory reused by a new
 * object); its remove_range follows. Until the ranges have forgotten it,
 * moves planned on its old counts are dropped. Takes only a short internal
 * lock and never allocates: safe from allocator hooks.
 */
void ht_engine_announce(struct ht_engine *e, uintptr_t start, size_t len);
/* Apply enum ht_hint to a managed span. -EINVAL: bad hint, len 0, or not managed. */
int ht_engine_hint(struct ht_engine *e, uintptr_t start, size_t len, int hint);
/* Change the fast quota at run time (0: none); used from the next epoch on. */
void ht_engine_set_quota(struct ht_engine *e, uint64_t bytes);

/*
 * Fill the engine's fields of *st: fast_quota, fast_budget, fast_used,
 * slow_used, hot_set_bytes, nr_ranges, epochs, samples (ingested),
 * samples_unmanaged, pages_promoted/demoted, bytes_moved, fail_*,
 * fast_hit_samples, located_samples. Leaves the other fields alone.
 */
void ht_engine_get_stats(struct ht_engine *e, struct ht_stats *st);
/* Hottest ranges first (by density); returns how many were written. */
size_t ht_engine_top_ranges(struct ht_engine *e, struct ht_range_info *out, size_t max);
/* Called for every range-map add (unmap=0) and removal (unmap=1); for the trace writer. */
void ht_engine_on_map(struct ht_engine *e, void (*fn)(void *arg, uintptr_t start, size_t len, int unmap), void *arg);
#endif
