/*
 * pol_oracle.c - the offline bounds. oracle-epoch: before each epoch, put
 * the pages that epoch will touch most on the fast tier (migrations are
 * counted, no rate limit). oracle-static: one placement for the whole
 * trace, made before it starts (free).
 */
#include <stdlib.h>
#include <string.h>
#include "bench.h"

struct oracle {
	struct machine *m;
	uint32_t *count;
	int whole; /* static: decide once over the whole trace */
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
	*tick = whole ? m->w->n + 1 : m->o->epoch_accesses;
	return o;
}
static void *oe_create(struct machine *m, uint64_t *tick) { return oracle_new(m, tick, 0); }
static void *os_create(struct machine *m, uint64_t *tick) { return oracle_new(m, tick, 1); }

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

static void oracle_tick(void *p, uint64_t now, const uint32_t *f, size_t n)
{
	struct oracle *o = p;
	struct machine *m = o->m;
	size_t np = m->w->npages;
	if (o->done)
		return;
	if (o->whole) {
		f = m->w->page;
		n = m->w->n;
		o->done = 1;
	}
	memset(o->count, 0, np * sizeof(*o->count));
	for (size_t i = 0; i < n; i++)
		o->count[f[i]]++;
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
	/* demote first so promotions have room; place unplaced pages for free */
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

static void oracle_destroy(void *p)
{
	struct oracle *o = p;
	free(o->count);
	free(o);
}

const struct policy_ops pol_oracle_epoch = {
	.name = "oracle-epoch", .create = oe_create, .tick = oracle_tick, .destroy = oracle_destroy,
};
const struct policy_ops pol_oracle_static = {
	.name = "oracle-static", .create = os_create, .tick = oracle_tick, .destroy = oracle_destroy,
};
