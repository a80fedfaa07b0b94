/* pebs.h - the PEBS seam between ring records and the classifier's batches. */
#ifndef HT_PEBS_H
#define HT_PEBS_H
#include "batch.h"
#include "perf_ring.h"

/* Put r into b as a sample (store: the event counts stores). 1 if taken; 0
 * if dropped: no data address, or a kernel one (never classified). */
int ht_pebs_take(struct ht_batch *b, const struct ht_ring_rec *r, int store);
#endif
