/*
 * pol_hemem.c - HeMem-like (SOSP'21), from the paper's description:
 * placement unit of 2 MiB pages; a page is hot at >= 4 sampled reads or
 * writes; counts are halved lazily on a global clock that advances when
 * any page reaches the cooling threshold; a policy pass every 10 ms
 * promotes hot slow pages, demoting cold fast pages to make room.
 */
#include <stdlib.h>
#include "bench.h"

struct hemem {
	struct machine *m;
	size_t unit, nunits; /* 4 KiB pages per placement unit */
	uint32_t *count, *clock;
	uint32_t gclock;
	uint64_t tick;
};

static void *hm_create(struct machine *m, uint64_t *tick)
{
	struct hemem *h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->m = m;
	h->unit = m->o->hemem_page / 4096 ? m->o->hemem_page / 4096 : 1;
	h->nunits = (m->w->npages + h->unit - 1) / h->unit;
	h->count = calloc(h->nunits, sizeof(*h->count));
	h->clock = calloc(h->nunits, sizeof(*h->clock));
	h->tick = m->o->hemem_tick_us * 1000; /* modelled ns */
	*tick = h->tick ? h->tick : 1;
	h->tick = *tick;
	return h;
}

static uint32_t cooled(struct hemem *h, size_t u)
{
	uint32_t d = h->gclock - h->clock[u];
	h->count[u] = d >= 32 ? 0 : h->count[u] >> d;
	h->clock[u] = h->gclock;
	return h->count[u];
}

static void hm_sample(void *p, const struct ht_sample *s, size_t n)
{
	struct hemem *h = p;
	for (size_t i = 0; i < n; i++) {
		long pg = ht_sim_page_index(h->m->sim, s[i].addr);
		if (pg < 0)
			continue;
		size_t u = (size_t)pg / h->unit;
		if (cooled(h, u) + 1 >= h->m->o->hemem_cool)
			h->gclock++;
		h->count[u]++;
	}
}

/* Move every placed page of unit u to the fast (1) or slow (0) tier. */
static uint64_t move_unit(struct hemem *h, size_t u, int fast, uint64_t *budget)
{
	uint64_t moved = 0;
	size_t end = (u + 1) * h->unit < h->m->w->npages ? (u + 1) * h->unit : h->m->w->npages;
	for (size_t pg = u * h->unit; pg < end; pg++)
		if (ht_sim_node(h->m->sim, (long)pg) == (fast ? 1 : 0))
			moved += machine_move(h->m, (uint32_t)pg, fast, budget);
	return moved;
}

static size_t slow_pages(struct hemem *h, size_t u)
{
	size_t n = 0, end = (u + 1) * h->unit < h->m->w->npages ? (u + 1) * h->unit : h->m->w->npages;
	for (size_t pg = u * h->unit; pg < end; pg++)
		n += ht_sim_node(h->m->sim, (long)pg) == 1;
	return n;
}

static void hm_tick(void *p, uint64_t now, const uint32_t *f, size_t nf)
{
	struct hemem *h = p;
	struct machine *m = h->m;
	uint64_t budget = machine_tick_budget(m, h->tick);
	size_t cold = 0; /* cursor over fast units that may be demoted */
	for (size_t u = 0; u < h->nunits && budget; u++) {
		if (cooled(h, u) < m->o->hemem_hot)
			continue;
		size_t need = slow_pages(h, u);
		if (!need)
			continue;
		struct ht_sim_counts c;
		ht_sim_get_counts(m->sim, &c);
		while (c.cap[0] - c.used[0] < need && cold < h->nunits) {
			if (cooled(h, cold) < m->o->hemem_hot)
				move_unit(h, cold, 0, &budget);
			cold++;
			ht_sim_get_counts(m->sim, &c);
		}
		if (c.cap[0] - c.used[0] < need)
			break; /* no cold fast memory left: the hot set is larger than the fast tier */
		move_unit(h, u, 1, &budget);
	}
}

static void hm_heat(void *p, double *b, size_t nb)
{
	struct hemem *h = p;
	for (size_t i = 0; i < nb; i++)
		b[i] = 0;
	for (size_t u = 0; u < h->nunits; u++)
		b[u * nb / h->nunits] += cooled(h, u);
}

static void hm_destroy(void *p)
{
	struct hemem *h = p;
	free(h->count);
	free(h->clock);
	free(h);
}

const struct policy_ops pol_hemem = {
	.name = "hemem", .create = hm_create, .sample = hm_sample, .tick = hm_tick,
	.heat = hm_heat, .destroy = hm_destroy,
};
