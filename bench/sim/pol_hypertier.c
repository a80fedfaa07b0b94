/*
 * pol_hypertier.c - the project's own engine (plan/engine.h), unchanged,
 * against the simulated placement: the same classifier and exchange
 * planner the runtime uses, fed the sampled accesses, one
 * ht_engine_epoch() per conf epoch (500 ms) of modelled time. sample()
 * keeps the latest sample's time, so a check after each batch (an early
 * epoch when samples are dense) has the clock it needs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bench.h"
#include "plan/engine.h"
#include "hypertier.h"

struct hyper {
	struct machine *m;
	struct ht_actuator act;
	struct ht_engine *e;
	struct ht_range_info *top;
	size_t ntop;
	uint64_t last_ns; /* time of the latest sample ingested */
};

static void *hy_create(struct machine *m, uint64_t *tick)
{
	struct hyper *h = calloc(1, sizeof(*h));
	struct ht_conf c;
	struct ht_topo t;
	char err[256];
	if (!h)
		return NULL;
	h->m = m;
	ht_conf_defaults(&c);
	if (ht_conf_parse(&c, m->o->conf, err, sizeof(err))) {
		fprintf(stderr, "ht-bench: --conf: %s\n", err);
		free(h);
		return NULL;
	}
	c.migrate_rate = m->o->rate; /* every policy gets the same cap */
	c.sample_period = m->o->period; /* what one sample stands for (the move-worth gate reads it) */
	memset(&t, 0, sizeof(t));
	t.nr_nodes = 2;
	t.nodes[0] = (struct ht_node){ .id = 0, .nr_cpus = m->o->cpus, .total = m->fast_cap * 4096,
				       .free = m->fast_cap * 4096, .read_latency = (int)m->o->fast_ns };
	t.nodes[1] = (struct ht_node){ .id = 1, .nr_cpus = 0, .total = m->w->npages * 4096ULL,
				       .free = m->w->npages * 4096ULL, .read_latency = (int)m->o->slow_ns };
	t.distance[0][0] = t.distance[1][1] = 10;
	t.distance[0][1] = t.distance[1][0] = 20;
	t.fast = 0;
	t.slow = 1;
	t.tiered = 1;
	snprintf(t.how, sizeof(t.how), "simulated");
	ht_actuator_sim_init(&h->act, m->sim);
	h->e = ht_engine_create(&c, &t, &h->act);
	h->ntop = c.max_ranges;
	h->top = calloc(h->ntop, sizeof(*h->top));
	if (!h->e || !h->top) {
		fprintf(stderr, "ht-bench: ht_engine_create failed\n");
		ht_engine_destroy(h->e);
		free(h->top);
		free(h);
		return NULL;
	}
	for (size_t i = 0; i < m->w->nspans; i++)
		ht_engine_add_range(h->e, m->w->spans[i].start, m->w->spans[i].len, HT_ORIGIN_USER);
	*tick = c.epoch_min * 1000; /* the engine decides at each tick whether an epoch is due */
	return h;
}

static void hy_sample(void *p, const struct ht_sample *s, size_t n)
{
	struct hyper *h = p;
	ht_engine_ingest(h->e, s, n);
	if (n)
		h->last_ns = s[n - 1].time_ns;
	if (n && ht_engine_due(h->e, h->last_ns)) /* dense samples: an early epoch, as the live thread runs */
		ht_engine_epoch(h->e, h->last_ns);
}

static void hy_tick(void *p, uint64_t now, const uint32_t *f, size_t nf)
{
	struct hyper *h = p;
	if (now && ht_engine_due(h->e, now))
		ht_engine_epoch(h->e, now);
}

/* The classifier's view: each bucket shows the density of the hottest range over it. */
static void hy_heat(void *p, double *b, size_t nb)
{
	struct hyper *h = p;
	const struct workload *w = h->m->w;
	size_t n = ht_engine_top_ranges(h->e, h->top, h->ntop);
	for (size_t i = 0; i < nb; i++)
		b[i] = 0;
	for (size_t i = 0; i < n; i++) {
		long a = ht_sim_page_index(h->m->sim, h->top[i].start);
		long z = ht_sim_page_index(h->m->sim, h->top[i].start + h->top[i].len - 1);
		if (a < 0 || z < 0)
			continue;
		for (size_t k = (size_t)a * nb / w->npages; k <= (size_t)z * nb / w->npages && k < nb; k++)
			if (h->top[i].density * 4096 > b[k])
				b[k] = h->top[i].density * 4096; /* samples per page */
	}
}

static void hy_destroy(void *p)
{
	struct hyper *h = p;
	if (getenv("HT_BENCH_STATS")) { /* what the engine did, for finding causes (stderr) */
		struct ht_stats st = { .size = sizeof(st) };
		ht_engine_get_stats(h->e, &st);
		fprintf(stderr, "ht-bench: %s: epochs %llu, ranges %llu, hot set %llu MiB, budget %llu MiB, single %llu, page state %llu KiB, promoted %llu, demoted %llu\n",
			h->m->w->name, (unsigned long long)st.epochs, (unsigned long long)st.nr_ranges,
			(unsigned long long)(st.hot_set_bytes >> 20), (unsigned long long)(st.fast_budget >> 20),
			(unsigned long long)st.pages_single, (unsigned long long)(st.page_state_bytes >> 10),
			(unsigned long long)st.pages_promoted, (unsigned long long)st.pages_demoted);
	}
	ht_engine_destroy(h->e);
	free(h->top);
	free(h);
}

const struct policy_ops pol_hypertier = {
	.name = "hypertier", .create = hy_create, .sample = hy_sample, .tick = hy_tick,
	.heat = hy_heat, .destroy = hy_destroy,
};
