/*
 * pol_memtis.c - Memtis-like (SOSP'23), from the paper's description:
 * per-page sampled counts in a log2 histogram; the hot threshold is the
 * lowest bin whose cumulative size (from the hottest bin down) still fits
 * the fast tier minus a slack (3%); counts halve every memtis_cool samples;
 * migration every memtis_tick_us (500 ms) of modelled time. (4 KiB pages: the huge-page split logic is not
 * modelled.)
 */
#include <stdlib.h>
#include <string.h>
#include "bench.h"

#define BINS 33

struct memtis {
	struct machine *m;
	uint32_t *count;
	uint64_t hist[BINS];
	uint64_t since_cool, tick;
};

static int bin(uint32_t c) { return c ? 32 - __builtin_clz(c) : 0; }

static void *mt_create(struct machine *m, uint64_t *tick)
{
	struct memtis *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->m = m;
	t->count = calloc(m->w->npages, sizeof(*t->count));
	t->hist[0] = m->w->npages;
	t->tick = *tick = m->o->memtis_tick_us * 1000;
	return t;
}

static void cool(struct memtis *t)
{
	memset(t->hist, 0, sizeof(t->hist));
	for (size_t i = 0; i < t->m->w->npages; i++)
		t->hist[bin(t->count[i] >>= 1)]++;
}

static void mt_sample(void *p, const struct ht_sample *s, size_t n)
{
	struct memtis *t = p;
	for (size_t i = 0; i < n; i++) {
		long pg = ht_sim_page_index(t->m->sim, s[i].addr);
		if (pg < 0)
			continue;
		uint32_t c = t->count[pg];
		if (c == UINT32_MAX)
			continue;
		t->hist[bin(c)]--;
		t->hist[bin(c + 1)]++;
		t->count[pg] = c + 1;
		if (++t->since_cool >= t->m->o->memtis_cool) {
			cool(t);
			t->since_cool = 0;
		}
	}
}

static void mt_tick(void *p, uint64_t now, const uint32_t *f, size_t nf)
{
	struct memtis *t = p;
	struct machine *m = t->m;
	uint64_t fit = (uint64_t)(m->fast_cap * (1 - m->o->memtis_slack / 100)), cum = 0;
	int thr = BINS; /* nothing hot until a bin fits */
	for (int b = BINS - 1; b >= 1; b--) {
		if (cum + t->hist[b] > fit)
			break;
		cum += t->hist[b];
		thr = b;
	}
	uint64_t budget = machine_tick_budget(m, t->tick);
	size_t np = m->w->npages, cold = 0;
	for (size_t pg = 0; pg < np && budget; pg++) {
		if (bin(t->count[pg]) < thr || ht_sim_node(m->sim, (long)pg) != 1)
			continue;
		struct ht_sim_counts c;
		ht_sim_get_counts(m->sim, &c);
		/* make room by demoting a page below the threshold */
		while (c.used[0] >= c.cap[0] && cold < np && budget) {
			if (bin(t->count[cold]) < thr && ht_sim_node(m->sim, (long)cold) == 0 &&
			    machine_move(m, (uint32_t)cold, 0, &budget))
				c.used[0]--;
			cold++;
		}
		if (c.used[0] >= c.cap[0])
			break;
		machine_move(m, (uint32_t)pg, 1, &budget);
	}
}

static void mt_heat(void *p, double *b, size_t nb)
{
	struct memtis *t = p;
	for (size_t i = 0; i < nb; i++)
		b[i] = 0;
	for (size_t pg = 0; pg < t->m->w->npages; pg++)
		b[pg * nb / t->m->w->npages] += t->count[pg];
}

static void mt_destroy(void *p)
{
	struct memtis *t = p;
	free(t->count);
	free(t);
}

const struct policy_ops pol_memtis = {
	.name = "memtis", .create = mt_create, .sample = mt_sample, .tick = mt_tick,
	.heat = mt_heat, .destroy = mt_destroy,
};
