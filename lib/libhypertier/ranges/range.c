/* range.c - the sorted range array. */
#include "range.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

long ht_ranges_find(const struct ht_ranges *v, uintptr_t addr)
{
	size_t lo = 0, hi = v->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (addr < v->r[mid].start)
			hi = mid;
		else if (addr >= v->r[mid].end)
			lo = mid + 1;
		else
			return (long)mid;
	}
	return -1;
}

int ht_ranges_insert(struct ht_ranges *v, size_t i, const struct ht_range *r)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 64;
		struct ht_range *nr = realloc(v->r, cap * sizeof(*nr));
		if (!nr)
			return -ENOMEM;
		v->r = nr;
		v->cap = cap;
	}
	memmove(&v->r[i + 1], &v->r[i], (v->n - i) * sizeof(*r));
	v->r[i] = *r;
	v->n++;
	return 0;
}

void ht_ranges_erase(struct ht_ranges *v, size_t i)
{
	memmove(&v->r[i], &v->r[i + 1], (v->n - i - 1) * sizeof(v->r[0]));
	v->n--;
}

void ht_ranges_free(struct ht_ranges *v)
{
	free(v->r);
	memset(v, 0, sizeof(*v));
}
