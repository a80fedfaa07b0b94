/*
 * classifier.h - adaptive ranges (in the spirit of Demeter/DAMON): each
 * epoch decay the counts, split ranges that are significant and clearly
 * hotter than a neighbour or uneven inside, merge adjacent cold alike ranges, then rank by
 * density and walk hottest-first until the fast-tier budget is full.
 */
#ifndef HT_CLASSIFIER_H
#define HT_CLASSIFIER_H
#include "range.h"
#include "pages.h"
#include "../core/conf.h"

struct ht_classify_params {
	double decay;          /* fraction kept this epoch: conf->decay / 100 per unit of evidence (the engine sets it) */
	double decay_long;     /* the same at the longer memory (conf->decay_long); 0: one memory */
	double score;          /* memory choice: decayed log-likelihood of the long memory's predictions over the short's */
	int longmem;           /* the ranges' count is at the long memory (alt at the short) */
	double split_min;      /* count needed to split: split_tau * nr_cpus */
	double split_ratio;    /* density must exceed the lower neighbour's by this factor */
	double split_sigma;    /* an uneven inside must exceed this many standard deviations of noise */
	double merge_ratio;    /* densities this close (relative) are alike */
	uint64_t min_range;    /* bytes; a range splits only into halves at least this big */
	uint64_t page;         /* split points are page aligned */
	uint64_t align;        /* ... and cuts (hot prefixes too) fall on addresses aligned to this: the huge page under THP */
	size_t max_ranges;
	uint32_t holdback;     /* epochs a fresh child waits before splitting again */
	int shift;             /* conf decay_shift: a range whose epoch hits fall clearly short of its share shrinks at once */
};

void ht_classify_params(struct ht_classify_params *p, const struct ht_conf *c, int nr_cpus, size_t page);
/*
 * count = count * decay + hits, the same per eighth; holdback counts down.
 * With decay_long set (nonzero), alt keeps the other memory, both are scored
 * on this epoch's hits first, and count is the one that predicted better
 * lately (see classifier.c).
 */
void ht_classify_decay(struct ht_ranges *v, struct ht_classify_params *p);
/* What the counts the ranges rank by kept this epoch (either memory). */
static inline double ht_classify_kept(const struct ht_classify_params *p)
{
	return p->decay_long > 0 && p->longmem ? p->decay_long : p->decay;
}
/* Returns how many ranges were split (each split adds one range). */
size_t ht_classify_split(struct ht_ranges *v, const struct ht_classify_params *p, uint64_t epoch);
/* Returns how many merges were done. Hot ranges and fresh children never merge. */
size_t ht_classify_merge(struct ht_ranges *v, const struct ht_classify_params *p);
/*
 * order[] (v->n entries) = indices hottest first: PIN_FAST, HOT, then AUTO by
 * density (older first on ties), then COLD, then PIN_SLOW.
 */
void ht_classify_rank(const struct ht_ranges *v, size_t *order);
/*
 * Mark the hot set: walk order until budget bytes are used (the last range
 * partially: its first bytes). A range uses its resident bytes (fast_pages +
 * slow_pages of the last scan; its length before one). AUTO ranges without
 * samples, COLD and PIN_SLOW are never hot. Sets every hot_bytes; returns
 * the resident bytes of the hot set.
 */
uint64_t ht_classify_hotset(struct ht_ranges *v, const size_t *order, uint64_t budget, uint64_t page);
/*
 * The same with individually hot pages (ht_pages_epoch's list, densest
 * first): each competes with the ranges by density and takes a page of the
 * budget (cand[i].hot = 1) before any range less dense than it; a range
 * that then becomes hot as a whole takes its hot pages' bytes back. The
 * total (ranges and pages) never exceeds the budget. A partial range's
 * prefix ends on an align boundary (the huge page under THP: see
 * aligned_cut in classifier.c), so it may fall short of the room.
 */
uint64_t ht_classify_hotset_pages(struct ht_ranges *v, const size_t *order, uint64_t budget, uint64_t page,
				  uint64_t align, struct ht_pg_cand *cand, size_t ncand);
#endif
