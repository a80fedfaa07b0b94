/*
 * pages.h - the page-grain layer under the ranges: which single pages are
 * hot inside ranges that are not, and which are cold inside ranges that are
 * (see pages.c for the design and its bounds).
 */
#ifndef HT_PAGES_H
#define HT_PAGES_H
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include "range.h"
#include "../core/conf.h"

#define HT_PG_ROWS 2   /* sketch rows (a resolution, not a policy) */
#define HT_PG_WAYS 4   /* candidate entries per bucket: one cache line */

/*
 * A table entry, one atomic word: (page number + 1) << HT_PG_CBITS | exact
 * decayed count since it entered, in fixed point (one sample = HT_PG_ONE, so
 * that decay keeps a page's one or two samples for many epochs instead of
 * flooring them to zero); key 0: free.
 */
#define HT_PG_CBITS 24
#define HT_PG_CMASK ((1ull << HT_PG_CBITS) - 1)
#define HT_PG_FRAC 8 /* fraction bits: a resolution, not a policy */
#define HT_PG_ONE (1u << HT_PG_FRAC)

/* A page promoted one by one, watched after the move (ht_pages_judge). */
struct ht_pg_watch {
	uintptr_t page;
	uint32_t last;      /* its fixed-point count at the last look */
	uint32_t live;      /* 0: free, or its entry left the table */
};

/* One allocation, replaced whole when the managed size calls for another. */
struct ht_pg_tab {
	size_t width, nb;               /* sketch cells per row; table buckets */
	size_t maxcand, maxcold, nwatch;
	_Atomic uint16_t *cell;         /* HT_PG_ROWS x width, saturating */
	_Atomic uint64_t *ent;          /* HT_PG_WAYS x nb */
	struct ht_pg_cand *cand;        /* the epoch's hot list: maxcand at most */
	uintptr_t *cold;                /* the scan's cold list: maxcold at most */
	struct ht_pg_watch *watch;      /* ring of recent single promotions: nwatch */
	size_t bytes;                   /* all of it, one allocation */
};

/* A page the epoch found individually hot (sorted densest first). */
struct ht_pg_cand {
	uintptr_t page;
	float density;      /* decayed samples per byte, as ht_range_density */
	uint32_t range : 31;/* index in the range array at this epoch */
	uint32_t hot : 1;   /* given a place in the hot set (ht_classify_hotset_pages) */
};

struct ht_pages {
	_Atomic(struct ht_pg_tab *) tab; /* NULL: the layer is off or has no room */
	uint32_t thresh;    /* sketch estimate that lets a page into the table (conf page_hot) */
	uint32_t hot;       /* fixed-point count from which a tracked page is hot: chosen each epoch (ht_pages_select) */
	double cold_expect; /* conf page_cold_expect */
	double sigma;       /* conf split_sigma: how clear the counts' spread beyond noise must be */
	double decay;       /* page_decay / 100 per unit of evidence (the engine sets it): the sketch's decay, and the fastest the table's may be */
	double memory;      /* conf page_memory: samples per table entry the table's counts remember */
	double tdecay;      /* the table's decay at the last epoch */
	uint64_t mass;      /* sketch row 0 total after the last decay (samples since: the epoch's) */
	uint64_t cap;       /* conf page_state */
	/* per range, at the last ht_pages_select (indexes of that epoch's range array) */
	double *rmu;        /* mean fixed-point count per resident page */
	double *rz;         /* credibility of a page's own count against its range's mean, 0..1 */
	size_t nr, cap_r;
	unsigned page_shift;
	struct ht_pg_cand *cand; /* = tab->cand, read by the control side only */
	size_t ncand;
	uintptr_t *cold;    /* fast pages found cold inside dense ranges by the last scan */
	size_t ncold;
	uint64_t single;    /* pages promoted one by one (planned), total */
	/* the out-of-sample check of single promotions (ht_pages_judge) */
	double gain;        /* 1 + conf page_gain / 100: what watched pages must draw, times their ranges' average */
	uint64_t probe;     /* conf page_probe */
	double wpost;       /* samples the watched pages drew after their move (decayed by page_decay) */
	double wexp;        /* samples their ranges' average page drew meanwhile (same decay) */
	int closed;         /* wpost is significantly below gain x wexp: single promotions only probe */
	size_t whead;       /* next slot of the watch ring */
	_Atomic uint64_t dropped; /* table bucket full: a page not tracked */
};

void ht_pages_init(struct ht_pages *p, const struct ht_conf *c, size_t page);
void ht_pages_fini(struct ht_pages *p);

/* Lock-free, from the sampler (inside a reader section of the counter). */
static inline uint64_t ht_pg_hash(uint64_t pn, int row)
{
	static const uint64_t mul[HT_PG_ROWS] = { 0x9e3779b97f4a7c15ull, 0xc2b2ae3d27d4eb4full };
	return pn * mul[row];
}
void ht_pages_count(struct ht_pages *p, struct ht_pg_tab *t, uintptr_t addr, int track);

/*
 * Bytes the layer may use for managed bytes under the cap: min(cap, 0.2%
 * of managed), the sketch and the table together.
 */
uint64_t ht_pages_limit(const struct ht_pages *p, uint64_t managed);
/*
 * Epoch, under the engine lock with the counts harvested: size the state for
 * the managed bytes (a new one is swapped in; grace() waits out ingest) and
 * restart the epoch's lists.
 */
void ht_pages_epoch(struct ht_pages *p, const struct ht_ranges *v, void (*grace)(void *), void *arg);
/*
 * After the placement scan, with room = fast-tier bytes the wholly hot
 * ranges leave to single pages: per range, the mean count per page and how
 * far a page's own count is to be believed against it (pages.c); then the
 * hot threshold p->hot from a histogram of the counts so that the listed
 * pages just fill the room (and the list), and the list in p->cand (densest
 * first).
 */
void ht_pages_select(struct ht_pages *p, const struct ht_ranges *v, uint64_t room);
/*
 * The density a page of v->r[k] is believed to have: its range's, moved
 * towards its own count as far as the range's credibility allows (the
 * range's density when the layer knows nothing of the range).
 */
double ht_pages_density(const struct ht_pages *p, const struct ht_ranges *v, size_t k, uintptr_t addr);
/*
 * End of the epoch: every cell *= page_decay (floored); every table count
 * *= a decay that keeps page_memory samples per entry (never faster than page_decay).
 */
void ht_pages_decay(struct ht_pages *p);
/* Sketch estimate of the page holding addr (never below its true decayed count). */
uint32_t ht_pages_estimate(const struct ht_pages *p, uintptr_t addr);
/*
 * A page of r is significantly cold: r expects at least page_cold_expect
 * samples per page and the page's estimate is 0 (Poisson: P(0) =
 * e^-expect; 5% at 3).
 */
int ht_pages_cold(const struct ht_pages *p, const struct ht_range *r, uintptr_t addr);
/* The two halves of that: r expects page_cold_expect per page; the page's estimate is 0. */
int ht_pages_dense(const struct ht_pages *p, const struct ht_range *r);
int ht_pages_zero(const struct ht_pages *p, uintptr_t addr);
/* The page is a tracked hot page (count at least this epoch's threshold p->hot). */
int ht_pages_hot(const struct ht_pages *p, uintptr_t addr);
/* A single promotion the exchange kept: watch what it draws from now on. */
void ht_pages_watch(struct ht_pages *p, uintptr_t page);
/*
 * Epoch start, the counts harvested and each range's hits still the
 * epoch's: add what the watched pages drew since the last look, and what
 * their ranges' average page drew, to the evidence; close single
 * promotions down to page_probe per epoch while the watched pages drew
 * significantly less than gain x the average (reopen when not).
 */
void ht_pages_judge(struct ht_pages *p, const struct ht_ranges *v);
/* Scan: remember a fast page found cold (bounded; the list restarts each epoch). */
void ht_pages_cold_add(struct ht_pages *p, uintptr_t page);
uint64_t ht_pages_bytes(const struct ht_pages *p);
#endif
