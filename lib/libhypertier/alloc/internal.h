/* internal.h - the allocator object shared by extent.c and site.c. */
#ifndef HT_ALLOC_INTERNAL_H
#define HT_ALLOC_INTERNAL_H
#include <jemalloc/jemalloc.h>
#include <stdatomic.h>
#include "alloc.h"
#include "front.h"

/* Sizes of the fixed tables (the hooks cannot allocate; these are capacities, not policy). */
#define HT_RING_SLOTS 4096  /* pending range-map events */
#define HT_SITES 1024       /* distinct call sites tracked */
#define HT_LIVE 8192        /* live big allocations tracked */
#define HT_SITE_MAXDEPTH 32

struct ht_map_ev {
	_Atomic uint64_t seq;
	uintptr_t start;
	size_t len;
	int unmap;
	int tier;                   /* tier arena's tier, -1 automatic */
};

struct ht_site {
	_Atomic uint64_t hash;      /* 0: free slot */
	_Atomic int ready;          /* ips written */
	int nip;
	uintptr_t ip[HT_SITE_MAXDEPTH];
	_Atomic uint64_t allocs, live_bytes, placed;
	_Atomic uint64_t hist_heat_fp, hist_n; /* heat of freed allocations (fixed point 1e6) */
	_Atomic int tier;           /* learned birth tier, -1 none */
	double heat;                /* learner's last score, -1 unknown */
	int nobs;
	char name[96];
};

struct ht_live {
	_Atomic uintptr_t addr;     /* 0 empty, 1 tombstone, 2 being written */
	size_t size;
	uint32_t site;
	uint64_t born_ns;
	_Atomic uint32_t heat_fp;   /* last measured heat, fixed point 1e6 */
	_Atomic uint32_t nobs;
};

/* One hooks table per placement; the first member lets a hook find its object. */
struct ht_hooks {
	extent_hooks_t h;
	struct ht_alloc *a;
	int tier;                   /* -1: automatic (budget), else HT_TIER_* */
};

struct ht_alloc {
	struct ht_hooks auto_hooks, tier_hooks[2];
	const struct ht_conf *conf;
	int node[2];                /* fast, slow */
	int arena[2];               /* tier arenas, -1 if none */
	_Atomic int live;           /* 0 after quiesce: no events, no sites */
	int efd;
	_Atomic int64_t room;
	_Atomic uint64_t fast_since_room;
	_Atomic uint64_t extents[2], extent_bytes[2];

	struct ht_map_ev ring[HT_RING_SLOTS];
	_Atomic uint64_t ring_head, ring_tail;
	_Atomic uint64_t ring_lost;
	void (*announce)(void *, uintptr_t, size_t); /* ht_alloc_set_announce */
	void *announce_arg;

	/* sites */
	void *site_hook;            /* jemalloc hook handle */
	struct ht_site_front *site_front; /* or libhypertier.so's wrappers */
	/* Frames between the hook and the caller of each entry point (calibrated at install). */
	int skip[16];
	_Atomic int calibrating;    /* entry type + 1 while calibrating */
	uintptr_t calib_want;       /* return address that marks the calibration caller */
	struct ht_site sites[HT_SITES];
	struct ht_live live_tab[HT_LIVE];
	_Atomic uint64_t sites_dropped;
	double tmp_sum[HT_SITES];
	int tmp_n[HT_SITES];
};

uint64_t ht_alloc_now_ns(void);
/* mbind [p, p+len) to node (MPOL_PREFERRED); move=1 also migrates present pages. */
int ht_alloc_bind(void *p, size_t len, int node, int move);
/* Charge size against the fast budget's room: 1 if it fit (then born fast), 0 if not. */
int ht_alloc_claim_fast(struct ht_alloc *a, size_t size);
/* Queue a range-map event (unmap: 0 add, 1 remove, 2 reborn); lock-free, hook-safe. */
void ht_alloc_push(struct ht_alloc *a, void *p, size_t len, int unmap, int tier);
/* site.c: install / remove the jemalloc allocation hook. */
int ht_site_install(struct ht_alloc *a, char *why, size_t whylen);
void ht_site_remove(struct ht_alloc *a);
#endif
