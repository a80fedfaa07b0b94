/* budget.h - how many bytes of the fast tier this process may use now. */
#ifndef HT_BUDGET_H
#define HT_BUDGET_H
#include <stdint.h>

struct ht_budget_in {
	uint64_t quota;        /* configured or set at run time; 0: none */
	double watermark;      /* percent of capacity kept free */
	uint64_t node_total;   /* fast node capacity (what a balloon left of it) */
	uint64_t node_free;    /* fast node free memory now */
	uint64_t fast_used;    /* our managed bytes on the fast node now */
};

/*
 * min(quota, capacity - watermark, fast_used + free - watermark): the last
 * term follows a host balloon inflating on the fast node (free shrinks), and
 * other processes' use of it.
 */
uint64_t ht_budget(const struct ht_budget_in *in);
#endif
