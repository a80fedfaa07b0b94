/*
 * run.c - replay one workload under one policy on the simulated machine.
 * Every entry of the workload reaches memory (after llc_filter: the LLC
 * misses) and is counted (fast-tier hit or not, modelled latency); only
 * one in o->period becomes a sample, which is all the sampling policies
 * get to see. The clock is modelled time - hit_ns per LLC hit, the tier's
 * latency per memory access, the migrations' cost - so a 500 ms epoch or a
 * 10 ms HeMem pass means what it means on a real machine.
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

uint64_t machine_tick_budget(const struct machine *m, uint64_t tick_ns)
{
	if (!m->o->rate)
		return UINT64_MAX;
	uint64_t b = (uint64_t)(m->o->rate * (tick_ns * 1e-9) / 4096);
	return b ? b : 1;
}

size_t machine_window(const struct machine *m, size_t from, double ns)
{
	const struct workload *w = m->w;
	size_t i = from;
	for (double t = 0; i < w->n && t < ns; i++)
		t += m->o->fast_ns + (w->hits ? w->hits[i] * m->o->hit_ns : 0);
	return i - from;
}

/* The per-epoch series grow as modelled time goes (their length is not known up front). */
static int grow_epochs(struct run_result *r, size_t *cap)
{
	if (r->nepochs < *cap)
		return 0;
	size_t nc = *cap ? *cap * 2 : 64;
	double *e = realloc(r->epoch_hit, nc * sizeof(*e));
	if (!e)
		return -1;
	r->epoch_hit = e;
	if (r->heat_buckets) {
		double *h = realloc(r->heat, nc * HEAT_BUCKETS * sizeof(*h));
		if (h)
			r->heat = h;
		double *t = realloc(r->true_heat, nc * HEAT_BUCKETS * sizeof(*t));
		if (t)
			r->true_heat = t;
		if (!h || !t)
			return -1;
	}
	*cap = nc;
	return 0;
}

static void true_heat(const struct workload *w, size_t from, size_t to, double *out)
{
	memset(out, 0, HEAT_BUCKETS * sizeof(*out));
	for (size_t i = from; i < to; i++)
		out[(uint64_t)w->page[i] * HEAT_BUCKETS / w->npages] += 1;
}

/* Close the epoch of entries [from, to): its hit ratio and heat. */
static int close_epoch(struct run_result *r, size_t *cap, const struct workload *w, const struct policy_ops *pol,
		       void *p, size_t from, size_t to, size_t hits)
{
	if (grow_epochs(r, cap))
		return -1;
	size_t e = r->nepochs++;
	r->epoch_hit[e] = to > from ? (double)hits / (to - from) : 0;
	if (r->heat_buckets) {
		true_heat(w, from, to, r->true_heat + e * HEAT_BUCKETS);
		memset(r->heat + e * HEAT_BUCKETS, 0, HEAT_BUCKETS * sizeof(double));
		if (pol->heat)
			pol->heat(p, r->heat + e * HEAT_BUCKETS, HEAT_BUCKETS);
	}
	return 0;
}

static uint64_t migrated_ns(const struct machine *m)
{
	struct ht_sim_counts c;
	ht_sim_get_counts(m->sim, &c);
	return c.migrate_ns;
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
	if (!m.epoch_ns)
		m.epoch_ns = 500000000;
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
	r->period = o->period;
	r->heat_buckets = o->heat ? HEAT_BUCKETS : 0;
	size_t ecap = 0;

	uint64_t tick = m.epoch_ns;
	void *p = pol->create(&m, &tick);
	if (!p || grow_epochs(r, &ecap)) {
		if (p)
			pol->destroy(p);
		ht_sim_destroy(m.sim);
		run_result_free(r);
		return -ENOMEM;
	}
	if (!tick)
		tick = 1;
	struct ht_sample batch[SAMPLE_BATCH];
	size_t nb = 0, ep_hits = 0, ep_from = 0;
	uint64_t countdown = o->period, rs = o->seed ^ 0x5bd1e995, llc_hits = 0;
	double acc_ns = 0, mig_ns = 0, next_tick = (double)tick, next_ep = (double)m.epoch_ns;
	int rc = 0;
	pol->tick(p, 0, w->page, w->n);
	mig_ns = (double)migrated_ns(&m);
	for (size_t i = 0; i < w->n; i++) {
		uint32_t pg = w->page[i];
		if (w->hits) {
			llc_hits += w->hits[i];
			acc_ns += w->hits[i] * o->hit_ns;
		}
		int fast = ht_sim_touch(m.sim, pg) == 0;
		if (fast) {
			r->hits++;
			ep_hits++;
			acc_ns += o->fast_ns;
		} else {
			acc_ns += o->slow_ns;
		}
		if (pol->access) {
			pol->access(p, pg, fast);
			mig_ns = (double)migrated_ns(&m);
		}
		double now = acc_ns + mig_ns;
		if (--countdown == 0) {
			/* PEBS-like: every period-th event, with a little jitter against aliasing */
			rs = rs * 6364136223846793005ULL + 1442695040888963407ULL;
			uint64_t j = o->period / 16;
			countdown = o->period - j + (rs >> 33) % (2 * j + 1);
			struct ht_sample *s = &batch[nb++];
			memset(s, 0, sizeof(*s));
			s->addr = w->addr[pg] + (w->off ? w->off[i] & ~7U : ((rs >> 20) & 4095 & ~7ULL));
			s->time_ns = (uint64_t)now;
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
		if (now >= next_ep) {
			rc |= close_epoch(r, &ecap, w, pol, p, ep_from, i + 1, ep_hits);
			ep_from = i + 1;
			ep_hits = 0;
			while (next_ep <= now)
				next_ep += m.epoch_ns;
		}
		if (now >= next_tick && i + 1 < w->n) {
			if (nb && pol->sample)
				pol->sample(p, batch, nb);
			nb = 0;
			pol->tick(p, (uint64_t)now, w->page + i + 1, w->n - (i + 1));
			mig_ns = (double)migrated_ns(&m);
			while (next_tick <= now)
				next_tick += tick; /* one tick even when a migration burst spans several */
		}
	}
	if (ep_from < w->n || !r->nepochs)
		rc |= close_epoch(r, &ecap, w, pol, p, ep_from, w->n, ep_hits);
	if (w->hits) {
		llc_hits += w->tail_hits;
		acc_ns += w->tail_hits * o->hit_ns;
	}
	r->misses = w->n;
	r->accesses = w->n + llc_hits;
	r->access_ns = acc_ns;
	struct ht_sim_counts cn;
	ht_sim_get_counts(m.sim, &cn);
	r->promoted = cn.promoted;
	r->demoted = cn.demoted;
	r->migrate_ns = (double)cn.migrate_ns;
	snprintf(r->note, sizeof(r->note), "%s", m.note);
	pol->destroy(p);
	ht_sim_destroy(m.sim);
	if (rc) {
		run_result_free(r);
		return -ENOMEM;
	}
	return 0;
}

void run_result_free(struct run_result *r)
{
	free(r->epoch_hit);
	free(r->heat);
	free(r->true_heat);
	memset(r, 0, sizeof(*r));
}
