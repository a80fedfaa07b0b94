/*
 * pol_oracle.c - the offline references. Each sees the future of the
 * trace (the memory accesses, i.e. LLC misses in llc mode, which do not
 * depend on placement) and bounds what it says it bounds:
 *
 * oracle-static: one placement for the whole trace, made before it starts
 *   (free): the pages with most memory accesses fast. No static placement
 *   - first touch included - gets more fast-tier hits, and none takes less
 *   modelled time (no migrations; time falls as fast hits rise). An exact
 *   bound for every policy that does not migrate.
 * oracle-epoch: at every epoch boundary (conf epoch of modelled time) the
 *   pages the next epoch touches most go fast, every move counted but not
 *   rate-limited. The next epoch's length in accesses depends on the
 *   placement, so it looks at the accesses that fill an epoch if all were
 *   fast (the most it can hold: machine_window). A bound on the hit ratio
 *   of policies that move at epoch boundaries; not on time (it pays for
 *   every move it makes).
 * oracle-cost: the best modelled time we know how to reach offline, not a
 *   proven optimum. Variants: the static placement, and the static
 *   placement followed by per-epoch pairwise moves (promote p, demote q)
 *   that pay for themselves over a lookahead of 1, 4 or 16 epochs ((count
 *   p - count q) * (slow - fast latency) > 2 * migration cost). Each is
 *   run and the fastest kept (results' note says which), so by
 *   construction it is never slower than oracle-static, hence first touch.
 */
#define _GNU_SOURCE /* qsort_r */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bench.h"

static const int horizons[] = { 0, 1, 4, 16 }; /* oracle-cost variants, epochs (0: static) */

struct oracle {
	struct machine *m;
	uint32_t *count;
	int whole;   /* static: decide once over the whole trace */
	int cost;    /* oracle-cost: static start, then moves that pay */
	int horizon; /* cost: epochs of lookahead for pairwise moves (0: stay static) */
	int done;
};

static void *oracle_new(struct machine *m, uint64_t *tick, int whole)
{
	struct oracle *o = calloc(1, sizeof(*o));
	if (!o)
		return NULL;
	o->m = m;
	o->whole = whole;
	o->count = calloc(m->w->npages, sizeof(*o->count));
	if (!o->count) {
		free(o);
		return NULL;
	}
	*tick = whole ? UINT64_MAX : m->epoch_ns;
	return o;
}
static void *oe_create(struct machine *m, uint64_t *tick) { return oracle_new(m, tick, 0); }
static void *os_create(struct machine *m, uint64_t *tick) { return oracle_new(m, tick, 1); }

/* Run every variant (recursively, as a policy of its own) and keep the fastest. */
static int best_horizon(struct machine *m)
{
	int best = 0;
	double best_ns = 0;
	for (size_t i = 0; i < sizeof(horizons) / sizeof(horizons[0]); i++) {
		struct bench_opts ro = *m->o;
		struct run_result r;
		ro.heat = 0;
		ro.oracle_horizon = horizons[i];
		if (bench_run(&ro, m->w, &pol_oracle_cost, &r))
			continue;
		double t = r.access_ns + r.migrate_ns;
		if (!i || t < best_ns) {
			best = horizons[i];
			best_ns = t;
		}
		run_result_free(&r);
	}
	return best;
}

static void *oc_create(struct machine *m, uint64_t *tick)
{
	int h = m->o->oracle_horizon < 0 ? best_horizon(m) : m->o->oracle_horizon;
	struct oracle *o = oracle_new(m, tick, 0);
	if (!o)
		return NULL;
	o->cost = 1;
	o->horizon = h;
	if (h)
		snprintf(m->note, sizeof(m->note), "static+moves, lookahead %d", h);
	else
		snprintf(m->note, sizeof(m->note), "static");
	return o;
}

/* Smallest count c such that pages with count > c fit in cap; returns c and
 * how many pages with count == c still fit (ties prefer pages already fast). */
static uint32_t cut(const uint32_t *count, size_t np, uint64_t cap, uint64_t *tie_room)
{
	uint32_t max = 0;
	for (size_t i = 0; i < np; i++)
		if (count[i] > max)
			max = count[i];
	uint64_t *h = calloc((size_t)max + 2, sizeof(*h)), above = 0;
	for (size_t i = 0; i < np; i++)
		h[count[i]]++;
	uint32_t c = max;
	for (;; c--) {
		if (above + h[c] > cap || c == 0)
			break;
		above += h[c];
	}
	*tie_room = c == 0 ? 0 : cap - above; /* untouched pages are never worth a slot */
	free(h);
	return c;
}

static int by_count_desc(const void *a, const void *b, void *arg)
{
	const uint32_t *c = arg, x = c[*(const uint32_t *)a], y = c[*(const uint32_t *)b];
	return x > y ? -1 : x < y;
}

/* Cost-aware step: promotions that pay for themselves, paired with the coldest fast pages. */
static void cost_step(struct oracle *o)
{
	struct machine *m = o->m;
	size_t np = m->w->npages, nprom = 0, nfast = 0;
	double gain = m->o->slow_ns - m->o->fast_ns, mig = (double)m->o->migrate_ns;
	uint32_t *prom = malloc(np * sizeof(*prom)), *fast = malloc(np * sizeof(*fast));
	for (size_t i = 0; i < np; i++) {
		int node = ht_sim_node(m->sim, (long)i);
		if (node == 1 && o->count[i] * gain > mig)
			prom[nprom++] = (uint32_t)i;
		else if (node == 0)
			fast[nfast++] = (uint32_t)i;
	}
	qsort_r(prom, nprom, sizeof(*prom), by_count_desc, o->count);
	qsort_r(fast, nfast, sizeof(*fast), by_count_desc, o->count); /* coldest at the end */
	struct ht_sim_counts c;
	ht_sim_get_counts(m->sim, &c);
	uint64_t room = c.cap[0] - c.used[0];
	size_t j = nfast;
	for (size_t i = 0; i < nprom; i++) {
		if (room) {
			room -= machine_move(m, prom[i], 1, NULL);
			continue;
		}
		if (!j || ((double)o->count[prom[i]] - o->count[fast[j - 1]]) * gain <= 2 * mig)
			break;
		if (machine_move(m, fast[--j], 0, NULL))
			machine_move(m, prom[i], 1, NULL);
	}
	free(prom);
	free(fast);
}

/* Put the pages with the highest counts fast (demoting the rest); unplaced pages are placed free. */
static void place_top(struct oracle *o)
{
	struct machine *m = o->m;
	size_t np = m->w->npages;
	uint64_t tie;
	uint32_t c = cut(o->count, np, m->fast_cap, &tie);
	/* want[i]: 1 fast, 0 slow. Ties: keep fast ones first. */
	uint8_t *want = calloc(np, 1);
	for (size_t i = 0; i < np; i++)
		if (o->count[i] > c)
			want[i] = 1;
	for (int pass = 0; pass < 2 && tie; pass++)
		for (size_t i = 0; i < np && tie; i++)
			if (o->count[i] == c && c > 0 && !want[i] &&
			    (pass || ht_sim_node(m->sim, (long)i) == 0)) {
				want[i] = 1;
				tie--;
			}
	/* demote first so promotions have room */
	for (size_t i = 0; i < np; i++)
		if (!want[i] && ht_sim_node(m->sim, (long)i) == 0)
			machine_move(m, (uint32_t)i, 0, NULL);
	for (size_t i = 0; i < np; i++) {
		int node = ht_sim_node(m->sim, (long)i);
		if (want[i] && node == 1)
			machine_move(m, (uint32_t)i, 1, NULL);
		else if (node < 0)
			ht_sim_place(m->sim, (long)i, want[i] ? 0 : 1);
	}
	free(want);
}

static void oracle_tick(void *p, uint64_t now, const uint32_t *f, size_t n)
{
	struct oracle *o = p;
	struct machine *m = o->m;
	if (o->done)
		return;
	if (o->whole || (o->cost && !now)) { /* static (and oracle-cost's start): the whole trace, once, free */
		f = m->w->page;
		n = m->w->n;
		o->done = o->whole || !o->horizon;
	} else {
		n = machine_window(m, (size_t)(f - m->w->page), (double)m->epoch_ns * (o->cost ? o->horizon : 1));
	}
	memset(o->count, 0, m->w->npages * sizeof(*o->count));
	for (size_t i = 0; i < n; i++)
		o->count[f[i]]++;
	if (o->cost && now)
		cost_step(o);
	else
		place_top(o);
}

static void oracle_destroy(void *p)
{
	struct oracle *o = p;
	free(o->count);
	free(o);
}

const struct policy_ops pol_oracle_epoch = {
	.name = "oracle-epoch", .create = oe_create, .tick = oracle_tick, .destroy = oracle_destroy,
};
const struct policy_ops pol_oracle_cost = {
	.name = "oracle-cost", .create = oc_create, .tick = oracle_tick, .destroy = oracle_destroy,
};
const struct policy_ops pol_oracle_static = {
	.name = "oracle-static", .create = os_create, .tick = oracle_tick, .destroy = oracle_destroy,
};
