/*
 * range.h - one classifier range and the growable sorted array of them.
 * The array is owned by the engine's control side (epoch thread, add/remove
 * calls, under the engine mutex); the sampler only sees the lock-free
 * counting snapshot built from it (ranges/counter.h).
 */
#ifndef HT_RANGE_H
#define HT_RANGE_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Sub-counters per range: they show a range whose inside is uneven (a resolution, not a policy). */
#define HT_BINS 8

struct ht_range {
	uintptr_t start, end;   /* page aligned, [start, end) */
	double count;           /* decayed sample count */
	double alt;             /* the same at the other memory (decay / decay_long; classifier.c picks) */
	uint64_t hits;          /* raw samples of the last epoch */
	double bins[HT_BINS];   /* decayed samples per eighth of [start, end), counted since the bounds last changed */
	double alt_bins[HT_BINS]; /* the same at alt's memory */
	uint32_t bin_hits[HT_BINS]; /* raw samples per eighth of the last epoch */
	uint64_t born;          /* epoch of creation (age tie-break) */
	uint64_t hot_bytes;     /* bytes from start inside the hot set (0: cold) */
	uint64_t fast_pages, slow_pages; /* placement at the last query */
	uint32_t holdback;      /* epochs left before it may split again */
	int8_t hint;            /* enum ht_hint */
	int8_t origin;          /* enum ht_origin */
	int8_t longmem;         /* count is at the long memory, alt at the short one */
	int16_t policy;         /* node of the last set_policy, -1 default, -2 never set */
};

struct ht_ranges {
	struct ht_range *r;
	size_t n, cap;
};

static inline double ht_range_density(const struct ht_range *r)
{
	return r->count / (double)(r->end - r->start);
}

/* Density at the short memory (decay), whichever the ranges rank by: what a page's sketch count, which forgets as fast, is set against. */
static inline double ht_range_recent_density(const struct ht_range *r)
{
	return (r->longmem ? r->alt : r->count) / (double)(r->end - r->start);
}

/* Bounds changed: the eighths no longer mean anything. */
static inline void ht_range_reset_bins(struct ht_range *r)
{
	memset(r->bins, 0, sizeof(r->bins));
	memset(r->alt_bins, 0, sizeof(r->alt_bins));
	memset(r->bin_hits, 0, sizeof(r->bin_hits));
}

/* Index of the range containing addr, or -1. */
long ht_ranges_find(const struct ht_ranges *v, uintptr_t addr);
/* Insert an empty range at position i. 0 or -ENOMEM. */
int ht_ranges_insert(struct ht_ranges *v, size_t i, const struct ht_range *r);
void ht_ranges_erase(struct ht_ranges *v, size_t i);
void ht_ranges_free(struct ht_ranges *v);
#endif
