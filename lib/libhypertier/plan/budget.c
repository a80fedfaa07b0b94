/* budget.c - the fast-tier budget, recomputed every epoch. */
#include "budget.h"

uint64_t ht_budget(const struct ht_budget_in *in)
{
	uint64_t wm = (uint64_t)((double)in->node_total * in->watermark / 100.0);
	uint64_t b = in->node_total > wm ? in->node_total - wm : 0;
	if (in->quota && in->quota < b)
		b = in->quota;
	uint64_t avail = in->fast_used + in->node_free;
	avail = avail > wm ? avail - wm : 0;
	return avail < b ? avail : b;
}
