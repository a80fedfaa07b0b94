/* topo.h - tier discovery with libnuma: which node is fast, which is slow. */
#ifndef HT_TOPO_H
#define HT_TOPO_H
#include <stdint.h>
#include "conf.h"

#define HT_MAX_NODES 64

struct ht_node {
	int id;
	int nr_cpus;
	uint64_t total, free; /* bytes */
	int read_latency;     /* HMAT ns, 0 if unknown */
};

struct ht_topo {
	int nr_nodes;                 /* nodes with memory */
	struct ht_node nodes[HT_MAX_NODES];
	int distance[HT_MAX_NODES][HT_MAX_NODES]; /* by index into nodes[] */
	int fast, slow;               /* node ids, -1 if none */
	int tiered;                   /* 1 when fast and slow both exist */
	char why[256];                /* when !tiered: the plain reason */
	char how[128];                /* how slow was chosen: "no CPUs", "distance", "HMAT", "configured" */
	uint64_t thp;                 /* huge page bytes when THP may back anonymous memory, else 0 (core/thp.h) */
};

/* Discover. conf may be NULL (defaults). Returns 0, or -1 with why set (libnuma unavailable). */
int ht_topo_discover(struct ht_topo *t, const struct ht_conf *c);
/* Refresh free/total of every node. */
void ht_topo_refresh(struct ht_topo *t);
const struct ht_node *ht_topo_node(const struct ht_topo *t, int id);
/*
 * Without libnuma: 1 (why set as discover would) when sysfs lists one node
 * with memory, so the runtime stays off before loading its libraries; 0
 * when there are more or sysfs cannot tell.
 */
int ht_topo_single_node(struct ht_topo *t);
/* 1 if id is a node with memory (for ht_conf_check_nodes). */
int ht_topo_node_exists(int id);
#endif
