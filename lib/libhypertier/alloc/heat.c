/*
 * heat.c - how hot a block of memory ended up, for allocation-site
 * learning: the share of its bytes that the classifier put in the hot set,
 * the memory it wants on the fast tier. A share of the engine's own
 * decision, not a rank among ranges: a rank depends on how finely the hot
 * and cold memory happen to be split, and hovered around the thresholds.
 * Floored, because decayed leftovers of counts a range inherited from a hot
 * parent (or a generous budget) must not make idle memory look hot.
 */
#include "alloc.h"
#include <stdlib.h>

struct span { uintptr_t start, end; double hot; };

struct ht_heatmap {
	size_t n, cap;
	struct span s[];
};

struct ht_heatmap *ht_heatmap_create(size_t cap)
{
	struct ht_heatmap *h = malloc(sizeof(*h) + cap * sizeof(struct span));
	if (h) {
		h->n = 0;
		h->cap = cap;
	}
	return h;
}

void ht_heatmap_destroy(struct ht_heatmap *h) { free(h); }

static int by_start(const void *a, const void *b)
{
	const struct span *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

/* Ranges in any order: value = share of the range in the hot set, 0 below floor * hottest density. */
void ht_heatmap_build(struct ht_heatmap *h, const struct ht_range_info *r, size_t n, double floor)
{
	if (n > h->cap)
		n = h->cap;
	double top = 0;
	for (size_t i = 0; i < n; i++)
		if (r[i].density > top)
			top = r[i].density;
	for (size_t i = 0; i < n; i++) {
		double share = r[i].len ? (double)r[i].hot_bytes / (double)r[i].len : 0;
		h->s[i] = (struct span){ r[i].start, r[i].start + r[i].len,
					 top > 0 && r[i].density > floor * top ? (share < 1 ? share : 1) : 0 };
	}
	h->n = n;
	qsort(h->s, n, sizeof(*h->s), by_start);
}

double ht_heatmap_heat(void *arg, uintptr_t start, size_t len)
{
	struct ht_heatmap *h = arg;
	uintptr_t end = start + len;
	size_t lo = 0, hi = h->n;
	while (lo < hi) { /* first span ending after start */
		size_t mid = (lo + hi) / 2;
		if (h->s[mid].end <= start)
			lo = mid + 1;
		else
			hi = mid;
	}
	double sum = 0;
	for (size_t i = lo; i < h->n && h->s[i].start < end; i++) {
		uintptr_t a = h->s[i].start > start ? h->s[i].start : start;
		uintptr_t b = h->s[i].end < end ? h->s[i].end : end;
		if (b > a)
			sum += h->s[i].hot * (double)(b - a);
	}
	return len ? sum / (double)len : 0;
}
