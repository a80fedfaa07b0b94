/*
 * sim.c - simulated placement (see sim.h). Pages are indexed across the
 * registered spans; each holds a tier byte (unplaced, fast, slow) and a
 * policy byte set by set_policy for pages touched later.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "sim.h"

enum { T_NONE = 0, T_FAST = 1, T_SLOW = 2 };

struct sim_span {
	uintptr_t start;
	size_t len;
	long base; /* index of its first page */
};

struct ht_sim {
	struct ht_sim_params p;
	struct sim_span *spans;
	size_t nspans;
	long npages;
	uint8_t *tier, *policy;
	struct ht_sim_counts c;
};

struct ht_sim *ht_sim_create(const struct ht_sim_params *p)
{
	struct ht_sim *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->p = *p;
	if (!s->p.page_size)
		s->p.page_size = 4096;
	s->c.cap[0] = p->fast_bytes / s->p.page_size;
	s->c.cap[1] = p->slow_bytes / s->p.page_size;
	return s;
}

void ht_sim_destroy(struct ht_sim *s)
{
	if (!s)
		return;
	free(s->spans);
	free(s->tier);
	free(s->policy);
	free(s);
}

int ht_sim_add_span(struct ht_sim *s, uintptr_t start, size_t len)
{
	size_t ps = s->p.page_size, i;
	if (!len || start % ps || len % ps)
		return -EINVAL;
	for (i = 0; i < s->nspans; i++)
		if (start < s->spans[i].start + s->spans[i].len && s->spans[i].start < start + len)
			return -EEXIST;
	long n = (long)(len / ps);
	struct sim_span *sp = realloc(s->spans, (s->nspans + 1) * sizeof(*sp));
	if (!sp)
		return -ENOMEM;
	s->spans = sp;
	uint8_t *t = realloc(s->tier, s->npages + n), *po = realloc(s->policy, s->npages + n);
	if (t)
		s->tier = t;
	if (po)
		s->policy = po;
	if (!t || !po)
		return -ENOMEM;
	memset(s->tier + s->npages, T_NONE, n);
	memset(s->policy + s->npages, T_NONE, n);
	/* keep spans sorted by address for the binary search */
	for (i = s->nspans; i > 0 && s->spans[i - 1].start > start; i--)
		s->spans[i] = s->spans[i - 1];
	s->spans[i] = (struct sim_span){ start, len, s->npages };
	s->nspans++;
	s->npages += n;
	return 0;
}

long ht_sim_page_index(const struct ht_sim *s, uintptr_t addr)
{
	size_t lo = 0, hi = s->nspans;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct sim_span *sp = &s->spans[mid];
		if (addr < sp->start)
			hi = mid;
		else if (addr >= sp->start + sp->len)
			lo = mid + 1;
		else
			return sp->base + (long)((addr - sp->start) / s->p.page_size);
	}
	return -1;
}

uintptr_t ht_sim_page_addr(const struct ht_sim *s, long idx)
{
	for (size_t i = 0; i < s->nspans; i++) {
		const struct sim_span *sp = &s->spans[i];
		if (idx >= sp->base && idx < sp->base + (long)(sp->len / s->p.page_size))
			return sp->start + (uintptr_t)(idx - sp->base) * s->p.page_size;
	}
	return 0;
}

size_t ht_sim_nr_pages(const struct ht_sim *s) { return (size_t)s->npages; }

static int tier_of(const struct ht_sim *s, int node)
{
	if (node == s->p.fast_node)
		return T_FAST;
	if (node == s->p.slow_node)
		return T_SLOW;
	return T_NONE;
}

static int node_of(const struct ht_sim *s, int tier)
{
	return tier == T_FAST ? s->p.fast_node : s->p.slow_node;
}

int ht_sim_is_fast(const struct ht_sim *s, int node) { return node == s->p.fast_node; }

int ht_sim_node(const struct ht_sim *s, long idx)
{
	if (idx < 0 || idx >= s->npages)
		return -EFAULT;
	return s->tier[idx] == T_NONE ? -ENOENT : node_of(s, s->tier[idx]);
}

static int room(const struct ht_sim *s, int t) { return s->c.used[t - 1] < s->c.cap[t - 1]; }

int ht_sim_place(struct ht_sim *s, long idx, int node)
{
	int t = tier_of(s, node);
	if (idx < 0 || idx >= s->npages || t == T_NONE)
		return -EINVAL;
	if (s->tier[idx] == t)
		return node;
	if (!room(s, t))
		return -ENOMEM;
	if (s->tier[idx] != T_NONE)
		s->c.used[s->tier[idx] - 1]--;
	s->tier[idx] = (uint8_t)t;
	s->c.used[t - 1]++;
	return node;
}

int ht_sim_touch(struct ht_sim *s, long idx)
{
	if (s->tier[idx] != T_NONE)
		return node_of(s, s->tier[idx]);
	int want = s->policy[idx] ? s->policy[idx] : T_FAST;
	int t = room(s, want) ? want : (want == T_FAST ? T_SLOW : T_FAST);
	s->tier[idx] = (uint8_t)t;
	s->c.used[t - 1]++;
	return node_of(s, t);
}

int ht_sim_move(struct ht_sim *s, long idx, int node)
{
	int t = tier_of(s, node);
	if (idx < 0 || idx >= s->npages || t == T_NONE) {
		s->c.failed++;
		return idx < 0 || idx >= s->npages ? -EFAULT : -EINVAL;
	}
	if (s->tier[idx] == T_NONE) {
		s->c.failed++;
		return -ENOENT;
	}
	if (s->tier[idx] == t)
		return node;
	if (!room(s, t)) {
		s->c.failed++;
		return -ENOMEM;
	}
	s->c.used[s->tier[idx] - 1]--;
	s->c.used[t - 1]++;
	s->tier[idx] = (uint8_t)t;
	if (t == T_FAST)
		s->c.promoted++;
	else
		s->c.demoted++;
	s->c.migrate_ns += s->p.migrate_ns;
	return node;
}

void ht_sim_get_counts(const struct ht_sim *s, struct ht_sim_counts *c) { *c = s->c; }

/* ---- struct ht_actuator_ops over the table ---- */

static int sim_query(void *priv, void **pages, size_t n, int *nodes)
{
	struct ht_sim *s = priv;
	for (size_t i = 0; i < n; i++) {
		long idx = ht_sim_page_index(s, (uintptr_t)pages[i]);
		nodes[i] = idx < 0 ? -EFAULT : ht_sim_node(s, idx);
	}
	return 0;
}

static int sim_move(void *priv, void **pages, size_t n, int node, int *status)
{
	struct ht_sim *s = priv;
	if (tier_of(s, node) == T_NONE)
		return -EINVAL;
	s->c.move_calls++;
	for (size_t i = 0; i < n; i++)
		status[i] = ht_sim_move(s, ht_sim_page_index(s, (uintptr_t)pages[i]), node);
	return 0;
}

static int sim_set_policy(void *priv, uintptr_t start, size_t len, int node)
{
	struct ht_sim *s = priv;
	int t = node < 0 ? T_NONE : tier_of(s, node);
	if (node >= 0 && t == T_NONE)
		return -EINVAL;
	for (uintptr_t a = start - start % s->p.page_size; a < start + len; a += s->p.page_size) {
		long idx = ht_sim_page_index(s, a);
		if (idx < 0)
			return -EFAULT;
		s->policy[idx] = (uint8_t)t;
	}
	return 0;
}

static int sim_node_mem(void *priv, int node, uint64_t *free_b, uint64_t *total_b)
{
	struct ht_sim *s = priv;
	int t = tier_of(s, node);
	if (t == T_NONE)
		return -EINVAL;
	*total_b = s->c.cap[t - 1] * s->p.page_size;
	*free_b = (s->c.cap[t - 1] - s->c.used[t - 1]) * s->p.page_size;
	return 0;
}

static const struct ht_actuator_ops sim_ops = {
	.name = "sim",
	.query = sim_query,
	.move = sim_move,
	.set_policy = sim_set_policy,
	.node_mem = sim_node_mem,
};

void ht_actuator_sim_init(struct ht_actuator *a, struct ht_sim *sim)
{
	a->ops = &sim_ops;
	a->priv = sim;
	a->page_size = sim->p.page_size;
}
