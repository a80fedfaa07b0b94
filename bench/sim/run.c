/*
 * run.c - replay one workload under one policy on the simulated machine.
 * Every access of the trace is counted (hit or miss, modelled latency);
 * only one in o->period becomes a sample, which is all the sampling
 * policies get to see.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bench.h"

#define HEAT_BUCKETS 128
#define SAMPLE_BATCH 256

int machine_move(struct machine *m, uint32_t page, int fast, uint64_t *budget)
{
	if (budget && !*budget)
		return 0;
	if (ht_sim_move(m->sim, page, fast ? 0 : 1) < 0)
		return 0;
	if (budget && *budget != UINT64_MAX)
		(*budget)--;
	return 1;
}

uint64_t machine_tick_budget(const struct machine *m, uint64_t tick_accesses)
{
	if (!m->o->rate)
		return UINT64_MAX;
	double sec = tick_accesses * m->ns_per_access * 1e-9;
	uint64_t b = (uint64_t)(m->o->rate * sec / 4096);
	return b ? b : 1;
}

static void true_heat(const struct workload *w, size_t from, size_t to, double *out)
{
	memset(out, 0, HEAT_BUCKETS * sizeof(*out));
	for (size_t i = from; i < to; i++)
		out[(uint64_t)w->page[i] * HEAT_BUCKETS / w->npages] += 1;
}

int bench_run(const struct bench_opts *o, const struct workload *w, const struct policy_ops *pol,
	      struct run_result *r)
{
	struct ht_sim_params sp = {
		.fast_bytes = (uint64_t)((w->touched ? w->touched : w->npages) * o->fast_ratio) * 4096,
		.slow_bytes = (uint64_t)w->npages * 4096,
		.page_size = 4096, .fast_node = 0, .slow_node = 1, .migrate_ns = o->migrate_ns,
	};
	struct ht_conf c;
	char err[256];
	ht_conf_defaults(&c);
	if (ht_conf_parse(&c, o->conf, err, sizeof(err))) {
		fprintf(stderr, "ht-bench: --conf: %s\n", err);
		return -EINVAL;
	}
	struct machine m = { .o = o, .w = w, .epoch_ns = c.epoch * 1000 };
	m.ns_per_access = (double)m.epoch_ns / o->epoch_accesses;
	m.sim = ht_sim_create(&sp);
	if (!m.sim)
		return -ENOMEM;
	for (size_t i = 0; i < w->nspans; i++)
		ht_sim_add_span(m.sim, w->spans[i].start, w->spans[i].len);
	m.fast_cap = sp.fast_bytes / 4096;

	memset(r, 0, sizeof(*r));
	snprintf(r->policy, sizeof(r->policy), "%s", pol->name);
	snprintf(r->workload, sizeof(r->workload), "%s", w->name);
	r->fast_ratio = o->fast_ratio;
	r->nepochs = (w->n + o->epoch_accesses - 1) / o->epoch_accesses;
	r->epoch_hit = calloc(r->nepochs, sizeof(double));
	if (o->heat) {
		r->heat_buckets = HEAT_BUCKETS;
		r->heat = calloc(r->nepochs * HEAT_BUCKETS, sizeof(double));
		r->true_heat = calloc(r->nepochs * HEAT_BUCKETS, sizeof(double));
	}

	uint64_t tick = o->epoch_accesses;
	void *p = pol->create(&m, &tick);
	if (!p || !r->epoch_hit) {
		ht_sim_destroy(m.sim);
		return -ENOMEM;
	}
	struct ht_sample batch[SAMPLE_BATCH];
	size_t nb = 0, ep_hits = 0, ep = 0;
	uint64_t countdown = o->period, rs = o->seed ^ 0x5bd1e995;
	double fast_ns = 0, slow_ns = 0;
	pol->tick(p, 0, w->page, w->n < tick ? w->n : tick);
	for (size_t i = 0; i < w->n; i++) {
		uint32_t pg = w->page[i];
		int fast = ht_sim_touch(m.sim, pg) == 0;
		if (fast) {
			r->hits++;
			ep_hits++;
			fast_ns += o->fast_ns;
		} else {
			slow_ns += o->slow_ns;
		}
		if (pol->access)
			pol->access(p, pg, fast);
		if (--countdown == 0) {
			/* PEBS-like: every period-th event, with a little jitter against aliasing */
			rs = rs * 6364136223846793005ULL + 1442695040888963407ULL;
			uint64_t j = o->period / 16;
			countdown = o->period - j + (rs >> 33) % (2 * j + 1);
			struct ht_sample *s = &batch[nb++];
			memset(s, 0, sizeof(*s));
			s->addr = w->addr[pg] + ((rs >> 20) & 4095 & ~7ULL);
			s->time_ns = (uint64_t)(i * m.ns_per_access);
			s->weight = 1; /* load latency is not modelled: every sample counts once */
			s->store = w->store ? w->store[i] : 0;
			s->tid = 1;
			r->samples++;
			if (nb == SAMPLE_BATCH) {
				if (pol->sample)
					pol->sample(p, batch, nb);
				nb = 0;
			}
		}
		if ((i + 1) % o->epoch_accesses == 0 || i + 1 == w->n) {
			size_t len = (i + 1) - ep * o->epoch_accesses;
			r->epoch_hit[ep] = (double)ep_hits / len;
			if (r->heat) {
				true_heat(w, ep * o->epoch_accesses, i + 1, r->true_heat + ep * HEAT_BUCKETS);
				if (pol->heat)
					pol->heat(p, r->heat + ep * HEAT_BUCKETS, HEAT_BUCKETS);
			}
			ep++;
			ep_hits = 0;
		}
		if ((i + 1) % tick == 0 && i + 1 < w->n) {
			if (nb && pol->sample)
				pol->sample(p, batch, nb);
			nb = 0;
			size_t left = w->n - (i + 1);
			pol->tick(p, (uint64_t)((i + 1) * m.ns_per_access), w->page + i + 1, left < tick ? left : tick);
		}
	}
	r->accesses = w->n;
	r->access_ns = fast_ns + slow_ns;
	struct ht_sim_counts cn;
	ht_sim_get_counts(m.sim, &cn);
	r->promoted = cn.promoted;
	r->demoted = cn.demoted;
	r->migrate_ns = (double)cn.migrate_ns;
	pol->destroy(p);
	ht_sim_destroy(m.sim);
	return 0;
}

void run_result_free(struct run_result *r)
{
	free(r->epoch_hit);
	free(r->heat);
	free(r->true_heat);
	memset(r, 0, sizeof(*r));
}
