/* numa.c - the real actuator: move_pages, mbind and node sizes through libnuma. */
#include "actuator.h"
#include "../core/zoneinfo.h"
#include <errno.h>
#include <numa.h>
#include <numaif.h>
#include <stdlib.h>
#include <unistd.h>

static int numa_query(void *priv, void **pages, size_t n, int *nodes)
{
	if (numa_move_pages(0, (unsigned long)n, pages, NULL, nodes, 0) < 0)
		return -errno;
	return 0;
}

static int numa_move(void *priv, void **pages, size_t n, int node, int *status)
{
	int *nodes = malloc(n * sizeof(int)); /* move_pages wants one target per page */
	if (!nodes)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		nodes[i] = node;
	long rc = numa_move_pages(0, (unsigned long)n, pages, nodes, status, MPOL_MF_MOVE);
	int err = rc < 0 ? -errno : 0;
	free(nodes);
	return err;
}

static int numa_policy(void *priv, uintptr_t start, size_t len, int node)
{
	struct bitmask *bm = NULL;
	long rc;
	if (node < 0) {
		rc = mbind((void *)start, len, MPOL_DEFAULT, NULL, 0, 0);
	} else {
		bm = numa_allocate_nodemask();
		if (!bm)
			return -ENOMEM;
		numa_bitmask_setbit(bm, (unsigned)node);
		rc = mbind((void *)start, len, MPOL_PREFERRED, bm->maskp, bm->size + 1, 0);
	}
	int err = rc < 0 ? -errno : 0;
	if (bm)
		numa_bitmask_free(bm);
	return err;
}

static int numa_mem(void *priv, int node, uint64_t *free_b, uint64_t *total_b)
{
	long long fr = 0;
	long long tot = numa_node_size64(node, &fr);
	if (tot < 0)
		return -EINVAL;
	uint64_t f = (fr > 0 ? (uint64_t)fr : 0) + ht_zone_pcp_bytes(node); /* MemFree misses the per-CPU lists */
	uint64_t high = ht_zone_high_bytes(node); /* what the kernel keeps for itself */
	*free_b = f > high ? f - high : 0;
	*total_b = (uint64_t)tot;
	return 0;
}

static const struct ht_actuator_ops numa_ops = {
	.name = "numa",
	.query = numa_query,
	.move = numa_move,
	.set_policy = numa_policy,
	.node_mem = numa_mem,
};

void ht_actuator_numa_init(struct ht_actuator *a)
{
	a->ops = &numa_ops;
	a->priv = NULL;
	a->page_size = (size_t)sysconf(_SC_PAGESIZE);
}
