/*
 * pol_tpp.c - TPP-like (ASPLOS'23 / upstream NUMA balancing tiering):
 * - demotion through "reclaim": LRU aging by periodic accessed-bit scans
 *   (an accessed bit per page stands in for the PTE A-bit); when fast free
 *   memory drops below wm_low, the oldest fast pages are demoted until
 *   wm_high is free;
 * - promotion on NUMA hint faults: every scan period the slow pages are
 *   armed; a page that faults in two consecutive scan windows (second
 *   touch, i.e. it would be on the active LRU) is promoted if there is
 *   room, under the promotion rate limit.
 * It sees every access (faults, A-bits), not samples.
 */
#include <stdlib.h>
#include <string.h>
#include "bench.h"

struct tpp {
	struct machine *m;
	uint8_t *abit, *age, *armed;
	uint32_t *fault_win; /* scan window of the page's last hint fault (+1) */
	uint32_t win;
	uint64_t tick, ticks_per_scan, nticks, budget;
};

static void *tpp_create(struct machine *m, uint64_t *tick)
{
	struct tpp *t = calloc(1, sizeof(*t));
	size_t np = m->w->npages;
	if (!t)
		return NULL;
	t->m = m;
	t->abit = calloc(np, 1);
	t->age = calloc(np, 1);
	t->armed = calloc(np, 1);
	t->fault_win = calloc(np, sizeof(*t->fault_win));
	t->tick = m->o->tpp_tick_us * 1000; /* modelled ns */
	if (!t->tick)
		t->tick = 1;
	t->ticks_per_scan = m->o->tpp_scan_us / (m->o->tpp_tick_us ? m->o->tpp_tick_us : 1);
	if (!t->ticks_per_scan)
		t->ticks_per_scan = 1;
	*tick = t->tick;
	return t;
}

static void tpp_access(void *p, uint32_t pg, int fast)
{
	struct tpp *t = p;
	t->abit[pg] = 1;
	if (fast || !t->armed[pg])
		return;
	t->armed[pg] = 0; /* hint fault */
	if (t->fault_win[pg] == t->win) { /* faulted in the previous window too */
		struct ht_sim_counts c;
		ht_sim_get_counts(t->m->sim, &c);
		if (c.used[0] < c.cap[0])
			machine_move(t->m, pg, 1, &t->budget);
	}
	t->fault_win[pg] = t->win + 1;
}

static void tpp_tick(void *p, uint64_t now, const uint32_t *f, size_t nf)
{
	struct tpp *t = p;
	struct machine *m = t->m;
	size_t np = m->w->npages;
	t->budget = machine_tick_budget(m, t->tick);
	/* aging: one A-bit scan */
	for (size_t i = 0; i < np; i++) {
		if (t->abit[i])
			t->age[i] = 0;
		else if (t->age[i] < 255)
			t->age[i]++;
		t->abit[i] = 0;
	}
	/* reclaim-driven demotion, oldest first */
	struct ht_sim_counts c;
	ht_sim_get_counts(m->sim, &c);
	uint64_t low = (uint64_t)(c.cap[0] * m->o->tpp_wm_low / 100), high = (uint64_t)(c.cap[0] * m->o->tpp_wm_high / 100);
	if (c.cap[0] - c.used[0] < low) {
		uint64_t want = high - (c.cap[0] - c.used[0]), hist[256] = { 0 };
		for (size_t i = 0; i < np; i++)
			if (ht_sim_node(m->sim, (long)i) == 0)
				hist[t->age[i]]++;
		int a = 255;
		for (uint64_t n = 0; a > 0 && n + hist[a] < want; a--)
			n += hist[a];
		/* ages above the cut all go; then as many at the cut as needed */
		for (int pass = 0; pass < 2 && want; pass++)
			for (size_t i = 0; i < np && want; i++)
				if ((pass ? t->age[i] == a : t->age[i] > a) &&
				    ht_sim_node(m->sim, (long)i) == 0 && machine_move(m, (uint32_t)i, 0, NULL))
					want--;
	}
	/* NUMA scan: arm the slow pages for hint faults */
	if (++t->nticks % t->ticks_per_scan == 0) {
		t->win++;
		for (size_t i = 0; i < np; i++)
			t->armed[i] = ht_sim_node(m->sim, (long)i) == 1;
	}
}

static void tpp_heat(void *p, double *b, size_t nb)
{
	struct tpp *t = p;
	for (size_t i = 0; i < nb; i++)
		b[i] = 0;
	for (size_t pg = 0; pg < t->m->w->npages; pg++)
		b[pg * nb / t->m->w->npages] += t->age[pg] == 0;
}

static void tpp_destroy(void *p)
{
	struct tpp *t = p;
	free(t->abit);
	free(t->age);
	free(t->armed);
	free(t->fault_win);
	free(t);
}

const struct policy_ops pol_tpp = {
	.name = "tpp", .create = tpp_create, .access = tpp_access, .tick = tpp_tick,
	.heat = tpp_heat, .destroy = tpp_destroy,
};
