/*
 * trace_load.c - a recorded trace (source/trace.h) as a bench workload.
 * Each sample record is taken as one access of the full stream (convert
 * lackey output with every access kept); the bench does its own sampling.
 * Spans cover the touched pages (2 MiB aligned, merged across gaps under
 * 2 MiB); capacities are shares of the pages really touched. The
 * in-page offset of each access is kept for the LLC model (llc.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bench.h"
#include "source/trace.h"

#define GAP_PAGES 512

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

int workload_load_trace(struct workload *w, const char *path, const char *name, char *why, size_t whylen)
{
	memset(w, 0, sizeof(*w));
	snprintf(w->name, sizeof(w->name), "%s", name);
	struct ht_trace_reader *r = ht_trace_reader_open(path, why, whylen);
	if (!r)
		return -1;
	size_t cap = 1 << 20, n = 0;
	uint64_t *pn = malloc(cap * sizeof(*pn));
	uint8_t *st = malloc(cap);
	uint16_t *of = malloc(cap * sizeof(*of));
	struct ht_trace_rec rec;
	int rc = 0;
	while (pn && st && of && (rc = ht_trace_read_next(r, &rec)) == 1) {
		if (rec.kind != HT_TRACE_SAMPLE)
			continue;
		if (n == cap) {
			cap *= 2;
			uint64_t *p2 = realloc(pn, cap * sizeof(*pn));
			uint8_t *s2 = realloc(st, cap);
			uint16_t *o2 = realloc(of, cap * sizeof(*of));
			if (p2)
				pn = p2;
			if (s2)
				st = s2;
			if (o2)
				of = o2;
			if (!p2 || !s2 || !o2)
				break;
		}
		of[n] = (uint16_t)(rec.s.addr & 4095);
		pn[n] = rec.s.addr >> 12;
		st[n++] = rec.s.store;
	}
	if (!pn || !st || !of) {
		snprintf(why, whylen, "%s: out of memory", path);
		rc = -1;
	}
	if (rc < 0)
		snprintf(why, whylen, "%s: %s", path, ht_trace_reader_error(r));
	ht_trace_reader_close(r);
	if (rc < 0 || !n) {
		if (!rc)
			snprintf(why, whylen, "%s: no samples", path);
		free(pn);
		free(st);
		free(of);
		return -1;
	}
	/* distinct pages, sorted */
	uint64_t *u = malloc(n * sizeof(*u));
	memcpy(u, pn, n * sizeof(*u));
	qsort(u, n, sizeof(*u), cmp_u64);
	size_t nu = 0;
	for (size_t i = 0; i < n; i++)
		if (!nu || u[nu - 1] != u[i])
			u[nu++] = u[i];
	/* spans over them */
	w->spans = malloc(nu * sizeof(*w->spans));
	for (size_t i = 0; i < nu; i++) {
		if (w->nspans && u[i] - (w->spans[w->nspans - 1].start + w->spans[w->nspans - 1].len) / 4096 < GAP_PAGES)
			w->spans[w->nspans - 1].len = (u[i] + 1) * 4096 - w->spans[w->nspans - 1].start;
		else /* 2 MiB aligned, like the mappings the runtime would see */
			w->spans[w->nspans++] = (struct bench_span){ (u[i] * 4096) & ~(uint64_t)0x1fffff,
								     (u[i] * 4096 & 0x1fffff) + 4096 };
	}
	for (size_t i = 0; i < w->nspans; i++)
		w->spans[i].len = (w->spans[i].len + 0x1fffff) & ~(size_t)0x1fffff;
	size_t np = 0;
	for (size_t i = 0; i < w->nspans; i++)
		np += w->spans[i].len / 4096;
	w->npages = np;
	w->touched = nu;
	w->addr = malloc(np * sizeof(*w->addr));
	for (size_t i = 0, k = 0; i < w->nspans; i++)
		for (size_t j = 0; j < w->spans[i].len / 4096; j++)
			w->addr[k++] = w->spans[i].start + j * 4096;
	/* accesses as page indices: index of span + offset (spans sorted) */
	uint64_t *base = malloc(w->nspans * sizeof(*base));
	for (size_t i = 0, b = 0; i < w->nspans; b += w->spans[i].len / 4096, i++)
		base[i] = b;
	w->page = malloc(n * sizeof(*w->page));
	for (size_t i = 0; i < n; i++) {
		size_t lo = 0, hi = w->nspans - 1;
		while (lo < hi) {
			size_t mid = (lo + hi + 1) / 2;
			if (w->spans[mid].start / 4096 <= pn[i])
				lo = mid;
			else
				hi = mid - 1;
		}
		w->page[i] = (uint32_t)(base[lo] + pn[i] - w->spans[lo].start / 4096);
	}
	w->n = n;
	w->store = st;
	w->off = of;
	free(base);
	free(u);
	free(pn);
	return 0;
}

int workload_loop(struct workload *w, uint64_t loops, char *why, size_t whylen)
{
	size_t n = w->n;
	if (loops <= 1 || !n)
		return 0;
	if (n > SIZE_MAX / loops / sizeof(uint32_t)) {
		snprintf(why, whylen, "%s: %llu loops of %zu entries do not fit", w->name, (unsigned long long)loops, n);
		return -1;
	}
	size_t m = n * loops;
	uint32_t *pg = realloc(w->page, m * sizeof(*pg));
	if (pg)
		w->page = pg;
	uint16_t *of = w->off && pg ? realloc(w->off, m * sizeof(*of)) : NULL;
	if (of)
		w->off = of;
	uint8_t *st = w->store && pg ? realloc(w->store, m) : NULL;
	if (st)
		w->store = st;
	uint32_t *h = w->hits && pg ? realloc(w->hits, m * sizeof(*h)) : NULL;
	if (h)
		w->hits = h;
	if (!pg || (w->off && !of) || (w->store && !st) || (w->hits && !h)) {
		snprintf(why, whylen, "%s: out of memory for %llu loops", w->name, (unsigned long long)loops);
		return -1;
	}
	for (uint64_t l = 1; l < loops; l++) {
		memcpy(w->page + l * n, w->page, n * sizeof(*w->page));
		if (w->off)
			memcpy(w->off + l * n, w->off, n * sizeof(*w->off));
		if (w->store)
			memcpy(w->store + l * n, w->store, n);
		if (w->hits)
			memcpy(w->hits + l * n, w->hits, n * sizeof(*w->hits));
	}
	/* the LLC hits after the last miss of a loop come before the next loop's first */
	if (w->hits)
		for (uint64_t l = 1; l < loops; l++) {
			uint64_t v = (uint64_t)w->hits[l * n] + w->tail_hits;
			w->hits[l * n] = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
		}
	w->accesses = (w->accesses ? w->accesses : n) * loops;
	w->n = m;
	return 0;
}
