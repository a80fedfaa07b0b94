/* rangemap.c - add/remove managed spans over the range array. */
#include "rangemap.h"
#include <errno.h>
#include <string.h>

/* First index whose end > addr. */
static size_t lower(const struct ht_ranges *v, uintptr_t addr)
{
	size_t lo = 0, hi = v->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (v->r[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct ht_range fresh(uintptr_t s, uintptr_t e, int origin, uint64_t epoch)
{
	struct ht_range r;
	memset(&r, 0, sizeof(r));
	r.start = s;
	r.end = e;
	r.born = epoch;
	r.origin = (int8_t)origin;
	r.policy = -2;
	return r;
}

long ht_rangemap_add(struct ht_ranges *v, uintptr_t start, uintptr_t end, int origin,
		     uint64_t epoch, size_t max_ranges, ht_span_fn fn, void *arg)
{
	long added = 0;
	uintptr_t pos = start;
	size_t i = lower(v, pos);
	while (pos < end) {
		uintptr_t gap_end = end;
		if (i < v->n && v->r[i].start <= pos) { /* covered: skip this range */
			pos = v->r[i].end;
			i++;
			continue;
		}
		if (i < v->n && v->r[i].start < gap_end)
			gap_end = v->r[i].start;
		if (v->n >= max_ranges)
			return added ? added : -ENOMEM;
		struct ht_range r = fresh(pos, gap_end, origin, epoch);
		if (ht_ranges_insert(v, i, &r) < 0)
			return added ? added : -ENOMEM;
		if (fn)
			fn(arg, pos, gap_end - pos, 0);
		added += (long)(gap_end - pos);
		pos = gap_end;
		i++;
	}
	return added;
}

long ht_rangemap_remove(struct ht_ranges *v, uintptr_t start, uintptr_t end, ht_span_fn fn, void *arg)
{
	long removed = 0;
	size_t i = lower(v, start);
	while (i < v->n && v->r[i].start < end) {
		struct ht_range *r = &v->r[i];
		uintptr_t s = r->start > start ? r->start : start;
		uintptr_t e = r->end < end ? r->end : end;
		double per_byte = ht_range_density(r), alt_byte = r->alt / (double)(r->end - r->start);
		removed += (long)(e - s);
		if (fn)
			fn(arg, s, e - s, 1);
		if (s == r->start && e == r->end) {
			ht_ranges_erase(v, i);
			continue;
		}
		if (s > r->start && e < r->end) { /* hole in the middle: split in two */
			struct ht_range tail = *r;
			tail.start = e;
			tail.count = per_byte * (double)(tail.end - e);
			tail.alt = alt_byte * (double)(tail.end - e);
			tail.hot_bytes = r->hot_bytes > e - r->start ? r->hot_bytes - (e - r->start) : 0;
			r->end = s;
			r->count = per_byte * (double)(s - r->start);
			r->alt = alt_byte * (double)(s - r->start);
			if (r->hot_bytes > s - r->start)
				r->hot_bytes = s - r->start;
			r->fast_pages = r->slow_pages = tail.fast_pages = tail.slow_pages = 0;
			ht_range_reset_bins(r);
			ht_range_reset_bins(&tail);
			if (ht_ranges_insert(v, i + 1, &tail) < 0) { /* no memory: drop the tail too */
				removed += (long)(tail.end - tail.start);
				if (fn)
					fn(arg, tail.start, tail.end - tail.start, 1);
			}
			break;
		}
		if (s == r->start) { /* trim the front */
			r->hot_bytes = r->hot_bytes > e - r->start ? r->hot_bytes - (e - r->start) : 0;
			r->start = e;
		} else { /* trim the back */
			r->end = s;
			if (r->hot_bytes > s - r->start)
				r->hot_bytes = s - r->start;
		}
		r->count = per_byte * (double)(r->end - r->start);
		r->alt = alt_byte * (double)(r->end - r->start);
		r->fast_pages = r->slow_pages = 0;
		ht_range_reset_bins(r);
		i++;
	}
	return removed;
}

int ht_rangemap_cut(struct ht_ranges *v, uintptr_t addr)
{
	long i = ht_ranges_find(v, addr);
	if (i < 0 || v->r[i].start == addr)
		return 0;
	struct ht_range *r = &v->r[i];
	double per_byte = ht_range_density(r), alt_byte = r->alt / (double)(r->end - r->start);
	struct ht_range right = *r;
	right.start = addr;
	right.count = per_byte * (double)(r->end - addr);
	right.alt = alt_byte * (double)(r->end - addr);
	right.hits = 0;
	right.fast_pages = right.slow_pages = 0;
	ht_range_reset_bins(&right);
	right.hot_bytes = r->hot_bytes > addr - r->start ? r->hot_bytes - (addr - r->start) : 0;
	if (ht_ranges_insert(v, (size_t)i + 1, &right) < 0)
		return -ENOMEM;
	r = &v->r[i];
	r->end = addr;
	r->count -= right.count;
	r->alt -= right.alt;
	r->fast_pages = r->slow_pages = 0;
	ht_range_reset_bins(r);
	if (r->hot_bytes > addr - r->start)
		r->hot_bytes = addr - r->start;
	return 0;
}
