/*
 * heat.c - how hot a block of memory ended up, for allocation-site
 * learning: the overlap-weighted density rank of the classifier ranges
 * covering it. Weighted, because a block often shares a coarse range with
 * its neighbours; floored, because decayed leftovers of counts a range
 * inherited from a hot parent must not rank above truly idle ranges.
 */
#include "alloc.h"
#include <stdlib.h>

struct span { uintptr_t start, end; double rank; };

struct ht_heatmap {
	size_t n, cap;
	struct span s[]; /* cap spans, then cap doubles of scratch */
};

struct ht_heatmap *ht_heatmap_create(size_t cap)
{
	struct ht_heatmap *h = malloc(sizeof(*h) + cap * (sizeof(struct span) + sizeof(double)));
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

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Ranges in any order (pinned ranges may come first): rank = share of ranges strictly cooler. */
void ht_heatmap_build(struct ht_heatmap *h, const struct ht_range_info *r, size_t n, double floor)
{
	if (n > h->cap)
		n = h->cap;
	double *d = (double *)(h->s + h->cap);
	double top = 0;
	for (size_t i = 0; i < n; i++) {
		d[i] = r[i].density;
		if (d[i] > top)
			top = d[i];
	}
	qsort(d, n, sizeof(*d), by_value);
	for (size_t i = 0; i < n; i++) {
		size_t lo = 0, hi = n; /* ranges with a lower density */
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			if (d[mid] < r[i].density)
				lo = mid + 1;
			else
				hi = mid;
		}
		double rank = n > 1 ? (double)lo / (double)(n - 1) : 1;
		h->s[i] = (struct span){ r[i].start, r[i].start + r[i].len,
					 top > 0 && r[i].density > floor * top ? rank : 0 };
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
			sum += h->s[i].rank * (double)(b - a);
	}
	return len ? sum / (double)len : 0;
}
