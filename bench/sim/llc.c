/*
 * llc.c - the LLC model (llc.h). Each set keeps its ways most recently
 * used first, so a hit shifts the lines before it down one and a miss
 * drops the last: LRU without timestamps, and hot lines are found early.
 * A way holds the line number divided by the set count (+1, 32 bits: two
 * lines of one set alias only 2^32 sets x lines apart), so a 16-way set is
 * one 64-byte host cache line, and the filter prefetches the set of the
 * access a few ahead: the replay is bound by host memory latency.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "llc.h"

struct llc {
	uint32_t *tag; /* nsets x ways (line / nsets) + 1 (0: empty), MRU first */
	uint64_t nsets;
	unsigned ways, shift;
};

struct llc *llc_create(uint64_t size, unsigned ways, unsigned line)
{
	if (!ways || !line || (line & (line - 1)) || size < (uint64_t)ways * line)
		return NULL;
	struct llc *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->ways = ways;
	c->shift = (unsigned)__builtin_ctz(line);
	c->nsets = size / line / ways;
	size_t bytes = (c->nsets * ways * sizeof(*c->tag) + 63) & ~(size_t)63;
	c->tag = aligned_alloc(64, bytes);
	if (c->tag)
		memset(c->tag, 0, bytes);
	if (!c->tag) {
		free(c);
		return NULL;
	}
	return c;
}

void llc_destroy(struct llc *c)
{
	if (c)
		free(c->tag);
	free(c);
}

static inline uint32_t *set_of(const struct llc *c, uint64_t addr)
{
	return c->tag + ((addr >> c->shift) % c->nsets) * c->ways;
}

int llc_access(struct llc *c, uint64_t addr)
{
	uint64_t ln = addr >> c->shift;
	uint32_t t = (uint32_t)(ln / c->nsets) + 1, *s = set_of(c, addr);
	unsigned k;
	for (k = 0; k < c->ways && s[k] != t; k++)
		if (!s[k])
			break;
	int hit = k < c->ways && s[k] == t;
	if (k == c->ways)
		k--; /* miss in a full set: the LRU line goes */
	memmove(s + 1, s, k * sizeof(*s));
	s[0] = t;
	return hit;
}

int llc_filter(struct workload *w, const struct bench_opts *o, char *why, size_t whylen)
{
	struct llc *c = llc_create(o->llc_size, (unsigned)o->llc_ways, (unsigned)o->llc_line);
	if (!c) {
		snprintf(why, whylen, "LLC %llu B / %llu ways / %llu B lines: not a cache (line a power of 2, size >= ways x line)",
			 (unsigned long long)o->llc_size, (unsigned long long)o->llc_ways, (unsigned long long)o->llc_line);
		return -1;
	}
	free(w->hits);
	w->hits = malloc(w->n * sizeof(*w->hits));
	if (!w->hits) {
		llc_destroy(c);
		snprintf(why, whylen, "out of memory for the LLC filter");
		return -1;
	}
	uint64_t run = 0;
	size_t k = 0;
	uint64_t rs = o->seed ^ 0x2545f4914f6cdd1dULL;
	for (size_t i = 0; i < w->n; i++) {
		uint64_t off = w->off ? w->off[i] : 0;
		if (!w->off) { /* no recorded offset: a random line of the page */
			rs = rs * 6364136223846793005ULL + 1442695040888963407ULL;
			off = (rs >> 40) & 4095;
		}
		if (i + 8 < w->n)
			__builtin_prefetch(set_of(c, w->addr[w->page[i + 8]] + (w->off ? w->off[i + 8] : 0)), 1);
		if (llc_access(c, w->addr[w->page[i]] + off)) {
			run++;
			continue;
		}
		w->page[k] = w->page[i];
		if (w->off)
			w->off[k] = w->off[i];
		if (w->store)
			w->store[k] = w->store[i];
		w->hits[k++] = run > UINT32_MAX ? UINT32_MAX : (uint32_t)run;
		run = 0;
	}
	llc_destroy(c);
	w->accesses = w->n;
	w->tail_hits = run;
	w->n = k;
	/* give back what the hits took */
	uint32_t *p = realloc(w->page, (k ? k : 1) * sizeof(*p));
	uint32_t *h = realloc(w->hits, (k ? k : 1) * sizeof(*h));
	if (p)
		w->page = p;
	if (h)
		w->hits = h;
	if (w->off) {
		uint16_t *f = realloc(w->off, (k ? k : 1) * sizeof(*f));
		if (f)
			w->off = f;
	}
	return 0;
}
