/*
 * actuator.h - what moves pages (the pipeline's last stage).
 * Real: move_pages/mbind through libnuma. Simulated: a placement table
 * used by bench/. The planner above it is identical for both.
 */
#ifndef HT_ACTUATOR_H
#define HT_ACTUATOR_H
#include <stddef.h>
#include <stdint.h>

struct ht_actuator_ops {
	const char *name;
	/* Where are these pages? nodes[i] = node or -errno (move_pages(nodes=NULL)). */
	int (*query)(void *priv, void **pages, size_t n, int *nodes);
	/* Move pages to node; status[i] = node or -errno per page. Returns 0 or -errno for the call. */
	int (*move)(void *priv, void **pages, size_t n, int node, int *status);
	/* Policy for pages touched later (mbind without MPOL_MF_MOVE). node < 0: default policy. */
	int (*set_policy)(void *priv, uintptr_t start, size_t len, int node);
	/* Free bytes on node above the kernel's own reserve (its zones' high watermarks), and total bytes. */
	int (*node_mem)(void *priv, int node, uint64_t *free_b, uint64_t *total_b);
};

struct ht_actuator {
	const struct ht_actuator_ops *ops;
	void *priv;
	size_t page_size;
};

/* The real one: libnuma. */
void ht_actuator_numa_init(struct ht_actuator *a);
#endif
