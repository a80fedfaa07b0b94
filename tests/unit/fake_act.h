/*
 * fake_act.h - a tiny in-test actuator over synthetic addresses: a node per
 * page, a fast-node capacity, and injected failures. The engine never
 * dereferences managed addresses, so none of this memory exists.
 */
#ifndef HT_FAKE_ACT_H
#define HT_FAKE_ACT_H
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "actuator/actuator.h"

#define FK_PAGE 4096

struct fake {
	uintptr_t base;
	size_t npages;
	signed char *node;        /* 0 fast, 1 slow, -1 not mapped */
	unsigned char *busy;      /* 1: move returns -EBUSY for this page */
	unsigned *tries;          /* move attempts per page */
	uint64_t fast_total, fast_free_extra; /* node 0 capacity; free beyond our pages */
	size_t enomem_over;       /* a move call with more pages fails with -ENOMEM (0: never) */
	uint64_t calls, enomem_calls, policies;
	long max_fast_seen;       /* highest fast page count after any move call */
	_Atomic int query_gate;   /* while set, a query waits: the engine stays busy planning */
	_Atomic int in_query;     /* queries now waiting at the gate */
	void (*on_move)(void *);  /* called before each move call (another thread's map change mid-run) */
	void *on_move_arg;
};

static long fk_idx(struct fake *f, void *p)
{
	uintptr_t a = (uintptr_t)p;
	if (a < f->base || a >= f->base + f->npages * FK_PAGE)
		return -1;
	return (long)((a - f->base) / FK_PAGE);
}

static long fk_fast(struct fake *f)
{
	long n = 0;
	for (size_t i = 0; i < f->npages; i++)
		n += f->node[i] == 0;
	return n;
}

static int fk_query(void *priv, void **pages, size_t n, int *nodes)
{
	struct fake *f = priv;
	if (f->query_gate) {
		f->in_query++;
		struct timespec ts = { 0, 1000000 };
		while (f->query_gate)
			nanosleep(&ts, NULL);
		f->in_query--;
	}
	for (size_t i = 0; i < n; i++) {
		long k = fk_idx(f, pages[i]);
		nodes[i] = k < 0 || f->node[k] < 0 ? -ENOENT : f->node[k];
	}
	return 0;
}

static int fk_move(void *priv, void **pages, size_t n, int node, int *status)
{
	struct fake *f = priv;
	f->calls++;
	if (f->on_move)
		f->on_move(f->on_move_arg);
	if (f->enomem_over && n > f->enomem_over) {
		f->enomem_calls++;
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		long k = fk_idx(f, pages[i]);
		if (k < 0 || f->node[k] < 0) {
			status[i] = -EFAULT;
			continue;
		}
		f->tries[k]++;
		if (f->busy[k]) {
			status[i] = -EBUSY;
			continue;
		}
		f->node[k] = (signed char)node;
		status[i] = node;
	}
	long fast = fk_fast(f);
	if (fast > f->max_fast_seen)
		f->max_fast_seen = fast;
	return 0;
}

static int fk_policy(void *priv, uintptr_t start, size_t len, int node)
{
	((struct fake *)priv)->policies++;
	return 0;
}

static int fk_mem(void *priv, int node, uint64_t *free_b, uint64_t *total_b)
{
	struct fake *f = priv;
	*total_b = node == 0 ? f->fast_total : 1ull << 40;
	uint64_t used = (uint64_t)fk_fast(f) * FK_PAGE;
	*free_b = node == 0 ? (f->fast_total > used ? f->fast_total - used : 0) : 1ull << 39;
	if (node == 0 && f->fast_free_extra != UINT64_MAX && *free_b > f->fast_free_extra)
		*free_b = f->fast_free_extra;
	return 0;
}

static const struct ht_actuator_ops fk_ops = { "fake", fk_query, fk_move, fk_policy, fk_mem };

/* All pages start on node (0 or 1). */
static void fake_init(struct fake *f, struct ht_actuator *a, uintptr_t base, size_t bytes, int node)
{
	memset(f, 0, sizeof(*f));
	f->base = base;
	f->npages = bytes / FK_PAGE;
	f->node = malloc(f->npages);
	f->busy = calloc(f->npages, 1);
	f->tries = calloc(f->npages, sizeof(unsigned));
	memset(f->node, node, f->npages);
	f->fast_total = 64ull << 30;
	f->fast_free_extra = UINT64_MAX;
	a->ops = &fk_ops;
	a->priv = f;
	a->page_size = FK_PAGE;
}

static void fake_fini(struct fake *f)
{
	free(f->node);
	free(f->busy);
	free(f->tries);
}

/* Pages of [s, e) on node 0. */
static long fk_fast_in(struct fake *f, uintptr_t s, uintptr_t e)
{
	long n = 0;
	for (uintptr_t a = s; a < e; a += FK_PAGE) {
		long k = fk_idx(f, (void *)a);
		n += k >= 0 && f->node[k] == 0;
	}
	return n;
}
#endif
