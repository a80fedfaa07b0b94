/* fault.c - make a share of the wrapped actuator's moves fail (see fault.h). */
#include "fault.h"
#include <errno.h>
#include <stdlib.h>

static uint64_t next(struct ht_fault_act *f)
{
	f->rng ^= f->rng << 13;
	f->rng ^= f->rng >> 7;
	f->rng ^= f->rng << 17;
	return f->rng;
}

static int f_query(void *priv, void **pages, size_t n, int *nodes)
{
	struct ht_fault_act *f = priv;
	return f->inner.ops->query(f->inner.priv, pages, n, nodes);
}

static int f_move(void *priv, void **pages, size_t n, int node, int *status)
{
	struct ht_fault_act *f = priv;
	if (next(f) % 100 >= f->pct)
		return f->inner.ops->move(f->inner.priv, pages, n, node, status);
	f->calls_failed++;
	if (next(f) % 2 || n < 2)
		return -ENOMEM; /* the whole call, as when the kernel cannot allocate */
	/* Some pages fail and stay where they are; the others really move. */
	void **keep = malloc(n * sizeof(*keep));
	int *st = malloc(n * sizeof(*st));
	size_t *at = malloc(n * sizeof(*at));
	if (!keep || !st || !at) {
		free(keep), free(st), free(at);
		return -ENOMEM;
	}
	static const int errs[] = { -EFAULT, -EBUSY, -ENOMEM };
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (next(f) % 4 == 0) {
			status[i] = errs[next(f) % 3];
			f->pages_failed++;
		} else {
			at[k] = i;
			keep[k++] = pages[i];
		}
	}
	int rc = k ? f->inner.ops->move(f->inner.priv, keep, k, node, st) : 0;
	for (size_t j = 0; j < k; j++)
		status[at[j]] = rc < 0 ? rc : st[j];
	free(keep), free(st), free(at);
	return 0;
}

static int f_policy(void *priv, uintptr_t start, size_t len, int node)
{
	struct ht_fault_act *f = priv;
	return f->inner.ops->set_policy(f->inner.priv, start, len, node);
}

static int f_mem(void *priv, int node, uint64_t *free_b, uint64_t *total_b)
{
	struct ht_fault_act *f = priv;
	return f->inner.ops->node_mem(f->inner.priv, node, free_b, total_b);
}

static const struct ht_actuator_ops fault_ops = {
	.name = "fault",
	.query = f_query,
	.move = f_move,
	.set_policy = f_policy,
	.node_mem = f_mem,
};

void ht_actuator_fault_wrap(struct ht_actuator *a, struct ht_fault_act *f, unsigned pct, uint64_t seed)
{
	f->inner = *a;
	f->pct = pct;
	f->rng = seed | 1;
	f->calls_failed = f->pages_failed = 0;
	a->ops = &fault_ops;
	a->priv = f;
}
