/* damon.h - the DAMON source's pure parts, for tests: the tracepoint's
 * field layout and the region -> samples rule (see damon.c). */
#ifndef HT_DAMON_H
#define HT_DAMON_H
#include <stdint.h>
#include "batch.h"

/* Offsets and sizes (4 or 8) of damon_aggregated's fields in the raw record. */
struct ht_damon_fields {
	int start, end, nr_accesses, size_start, size_end, size_acc;
};

/* Parse the tracepoint's format file text. 0, or -1 if a field is missing. */
int ht_damon_fields_parse(const char *format, struct ht_damon_fields *f);

/*
 * One reported region: acc * (end - start) / grain samples, evenly spaced,
 * the fraction dithered with *rng (nonzero). Appends them to b; returns how many.
 */
uint64_t ht_damon_region(struct ht_batch *b, uint64_t start, uint64_t end, uint64_t acc, uint64_t grain,
			 uint64_t *rng, uint64_t now_ns);
#endif
