/* batch.h - collect samples and hand them to the callback in batches. */
#ifndef HT_BATCH_H
#define HT_BATCH_H
#include "source.h"

#define HT_BATCH 256 /* samples per callback: amortises the call, fits in L1 */

struct ht_batch {
	ht_sample_fn fn;
	void *arg;
	size_t n;
	struct ht_sample s[HT_BATCH];
};

static inline void ht_batch_begin(struct ht_batch *b, ht_sample_fn fn, void *arg)
{
	b->fn = fn;
	b->arg = arg;
	b->n = 0;
}

static inline void ht_batch_flush(struct ht_batch *b)
{
	if (b->n)
		b->fn(b->arg, b->s, b->n);
	b->n = 0;
}

static inline struct ht_sample *ht_batch_next(struct ht_batch *b)
{
	if (b->n == HT_BATCH)
		ht_batch_flush(b);
	return &b->s[b->n++];
}
#endif
