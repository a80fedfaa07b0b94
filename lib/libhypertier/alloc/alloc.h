/*
 * alloc.h - placement at birth: jemalloc extent hooks and tier arenas.
 *
 * The hooks run inside jemalloc (its locks may be held): they only mmap,
 * mbind, madvise and push events into a bounded lock-free ring. The runtime
 * thread drains the ring into the engine's range map (origin EXTENT).
 * Everything here lives in one mmap'd object so that no hook ever needs
 * malloc.
 */
#ifndef HT_ALLOC_H
#define HT_ALLOC_H
#include <stddef.h>
#include <stdint.h>
#include "hypertier.h"
#include "../core/conf.h"
#include "../plan/engine.h"

struct ht_alloc;

/*
 * Range-map event for the runtime thread (unmap=1: extent gone; unmap=2:
 * reborn, a new object in reused memory whose old counts must go). tier >= 0:
 * the extent belongs to that tier's arena, whose memory is bound (pinned)
 * to the tier; -1: an automatic arena's, placed by budget.
 */
typedef void (*ht_alloc_map_fn)(void *arg, uintptr_t start, size_t len, int unmap, int tier);

/*
 * Create (mmap'd, no malloc). fast/slow: node ids. Returns NULL with why
 * on failure (jemalloc not the process allocator, out of memory).
 */
struct ht_alloc *ht_alloc_create(const struct ht_conf *c, int fast, int slow, char *why, size_t whylen);
/*
 * Take over: hooks on every automatic arena, one arena per tier, and the
 * allocation-site hook when conf->site_threshold > 0. 0 or -1 with why.
 */
int ht_alloc_attach(struct ht_alloc *a, char *why, size_t whylen);
/*
 * Stop feeding the runtime (fork child, shutdown): extents still get memory
 * (and tier arenas keep their node), but no events, no site recording.
 * Safe to call from an atfork child handler.
 */
void ht_alloc_quiesce(struct ht_alloc *a);
/* Remove the site hook; the arenas keep their hooks (their extents outlive us). */
void ht_alloc_detach(struct ht_alloc *a);

/* Fast-tier room left for new extents (budget - use), refreshed by the runtime. */
void ht_alloc_set_room(struct ht_alloc *a, int64_t bytes);
/* Bytes of extents born on the fast tier so far (monotonic). */
uint64_t ht_alloc_fast_born(struct ht_alloc *a);
/* Bytes placed on the fast tier at birth since the last set_room. */
uint64_t ht_alloc_fast_since_room(struct ht_alloc *a);

/*
 * fn(arg, start, len) runs in the hooks, before an unmap or reborn event is
 * queued: the engine hears synchronously that the span changes hands. It
 * must not allocate nor wait on locks held while allocating. Set before
 * ht_alloc_attach.
 */
void ht_alloc_set_announce(struct ht_alloc *a, void (*fn)(void *arg, uintptr_t start, size_t len), void *arg);

/* eventfd that becomes readable when events are pending (poll it). */
int ht_alloc_event_fd(struct ht_alloc *a);
/* Deliver pending events in order; returns how many. overflowed: set to 1 when events were lost. */
size_t ht_alloc_drain(struct ht_alloc *a, ht_alloc_map_fn fn, void *arg, int *overflowed);

/* Arena index of a tier arena (enum ht_tier), for mallocx(MALLOCX_ARENA()). -1 if none. */
int ht_alloc_tier_arena(struct ht_alloc *a, int tier);
/* Which tier an extent-hook placement would pick now (for tests and stats). */
void ht_alloc_get_stats(struct ht_alloc *a, struct ht_stats *st);

/* ---- allocation sites (site.c) ---------------------------------------- */

struct ht_site_info {
	uint64_t hash;
	uint64_t allocs, live_bytes;
	uint64_t placed;      /* allocations bound to its learned tier at birth */
	double heat;          /* share of its blocks' bytes in the hot set, -1 if not seen yet */
	int tier;             /* learned birth tier: HT_TIER_FAST/SLOW, -1 none */
	int nobs;             /* observations behind heat */
	char name[96];        /* symbolised call site ("" until resolved) */
};

/* Heat of a live block in [0,1]; the runtime passes ht_heatmap_heat. */
typedef double (*ht_heat_fn)(void *arg, uintptr_t start, size_t len);

/*
 * One learning round (runtime thread): measure the heat of every live big
 * allocation that is at least min_age_ns old, fold it into its site, and
 * decide each site's birth tier. sampling: 1 when samples arrived since the
 * last round (no samples: heat means nothing, nothing is learned).
 */
void ht_alloc_learn(struct ht_alloc *a, ht_heat_fn heat, void *arg, uint64_t now_ns, uint64_t min_age_ns, int sampling);
/*
 * Heat of blocks from the classifier's ranges (heat.c): the share of the
 * block in the hot set. Build from ht_engine_top_ranges each round, then
 * ht_heatmap_heat is the ht_heat_fn. floor: fraction of the hottest density
 * below which a range counts as idle.
 */
struct ht_heatmap;
struct ht_heatmap *ht_heatmap_create(size_t cap);
void ht_heatmap_destroy(struct ht_heatmap *h);
void ht_heatmap_build(struct ht_heatmap *h, const struct ht_range_info *r, size_t n, double floor);
double ht_heatmap_heat(void *h, uintptr_t start, size_t len);
/* Resolve call-site names (dladdr; runtime thread only). */
void ht_alloc_resolve_sites(struct ht_alloc *a);
/* Busiest sites first; returns how many were written. */
size_t ht_alloc_top_sites(struct ht_alloc *a, struct ht_site_info *out, size_t max);
#endif
