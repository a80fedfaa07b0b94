/* topo.c - find the fast and slow tiers with libnuma and sysfs (HMAT). */
#include "topo.h"
#include "thp.h"
#include <numa.h>
#include <stdio.h>
#include <string.h>

#define ONE_NODE "only one NUMA node with memory (node %d): nothing to tier, the runtime stays a no-op"

static int hmat_read_latency(int node)
{
	char path[128];
	int v = 0;
	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/access0/initiators/read_latency", node);
	FILE *f = fopen(path, "re");
	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v;
}

static int idx_of(const struct ht_topo *t, int id)
{
	for (int i = 0; i < t->nr_nodes; i++)
		if (t->nodes[i].id == id)
			return i;
	return -1;
}

const struct ht_node *ht_topo_node(const struct ht_topo *t, int id)
{
	int i = idx_of(t, id);
	return i < 0 ? NULL : &t->nodes[i];
}

int ht_topo_node_exists(int id)
{
	long long fr;
	if (numa_available() < 0 || id < 0 || id > numa_max_node())
		return 0;
	return numa_node_size64(id, &fr) > 0;
}

void ht_topo_refresh(struct ht_topo *t)
{
	for (int i = 0; i < t->nr_nodes; i++) {
		long long fr = 0;
		long long tot = numa_node_size64(t->nodes[i].id, &fr);
		t->nodes[i].total = tot > 0 ? (uint64_t)tot : 0;
		t->nodes[i].free = fr > 0 ? (uint64_t)fr : 0;
	}
}

/* The "slower" score of candidate b against a: HMAT first, then no CPUs, then distance. */
static int pick_slow(struct ht_topo *t, int fi)
{
	int best = -1;
	for (int i = 0; i < t->nr_nodes; i++) {
		if (i == fi)
			continue;
		if (best < 0) {
			best = i;
			continue;
		}
		const struct ht_node *a = &t->nodes[best], *b = &t->nodes[i];
		if (a->read_latency && b->read_latency && a->read_latency != b->read_latency) {
			if (b->read_latency > a->read_latency)
				best = i;
		} else if ((a->nr_cpus == 0) != (b->nr_cpus == 0)) {
			if (b->nr_cpus == 0)
				best = i;
		} else if (t->distance[fi][i] > t->distance[fi][best]) {
			best = i;
		}
	}
	return best;
}

/* /sys/devices/system/node/has_memory is a node list such as "0" or "0-1,4". */
int ht_topo_single_node(struct ht_topo *t)
{
	char buf[256];
	int node, end = 0;
	FILE *f = fopen("/sys/devices/system/node/has_memory", "re");
	if (!f)
		return 0;
	if (!fgets(buf, sizeof(buf), f) || sscanf(buf, "%d%n", &node, &end) != 1)
		end = 0;
	fclose(f);
	if (!end || (buf[end] != '\n' && buf[end] != '\0'))
		return 0; /* a list or a range: more than one */
	memset(t, 0, sizeof(*t));
	t->fast = t->slow = -1;
	snprintf(t->why, sizeof(t->why), ONE_NODE, node);
	return 1;
}

int ht_topo_discover(struct ht_topo *t, const struct ht_conf *c)
{
	memset(t, 0, sizeof(*t));
	t->fast = t->slow = -1;
	t->thp = ht_thp_unit(NULL);
	if (numa_available() < 0) {
		snprintf(t->why, sizeof(t->why), "libnuma reports no NUMA support in this kernel: nothing to tier");
		return -1;
	}
	int max = numa_max_node();
	struct bitmask *cpus = numa_allocate_cpumask();
	for (int n = 0; n <= max && t->nr_nodes < HT_MAX_NODES; n++) {
		long long fr = 0;
		long long tot = numa_node_size64(n, &fr);
		if (tot <= 0)
			continue;
		struct ht_node *nd = &t->nodes[t->nr_nodes++];
		nd->id = n;
		nd->total = (uint64_t)tot;
		nd->free = fr > 0 ? (uint64_t)fr : 0;
		numa_bitmask_clearall(cpus);
		if (numa_node_to_cpus(n, cpus) == 0)
			nd->nr_cpus = (int)numa_bitmask_weight(cpus);
		nd->read_latency = hmat_read_latency(n);
	}
	numa_free_cpumask(cpus);
	for (int i = 0; i < t->nr_nodes; i++)
		for (int j = 0; j < t->nr_nodes; j++)
			t->distance[i][j] = numa_distance(t->nodes[i].id, t->nodes[j].id);

	if (t->nr_nodes < 2) {
		snprintf(t->why, sizeof(t->why), ONE_NODE, t->nr_nodes ? t->nodes[0].id : 0);
		return 0;
	}

	int fi = -1;
	if (c && c->fast_node >= 0) {
		fi = idx_of(t, (int)c->fast_node);
	} else {
		/* Fast: a node with CPUs; among those the lowest HMAT latency, then lowest id. */
		for (int i = 0; i < t->nr_nodes; i++) {
			const struct ht_node *nd = &t->nodes[i];
			if (!nd->nr_cpus)
				continue;
			if (fi < 0 || (nd->read_latency && t->nodes[fi].read_latency &&
				       nd->read_latency < t->nodes[fi].read_latency))
				fi = i;
		}
		if (fi < 0)
			fi = 0;
	}
	if (fi < 0) {
		snprintf(t->why, sizeof(t->why), "fast_node=%d has no memory", (int)c->fast_node);
		return 0;
	}
	int si;
	if (c && c->slow_node >= 0) {
		si = idx_of(t, (int)c->slow_node);
		snprintf(t->how, sizeof(t->how), "configured");
	} else {
		si = pick_slow(t, fi);
		const struct ht_node *f = &t->nodes[fi], *s = &t->nodes[si];
		if (s->read_latency && f->read_latency && s->read_latency > f->read_latency)
			snprintf(t->how, sizeof(t->how), "HMAT read latency %d ns vs %d ns", s->read_latency, f->read_latency);
		else if (!s->nr_cpus)
			snprintf(t->how, sizeof(t->how), "node %d has no CPUs", s->id);
		else if (t->distance[fi][si] > t->distance[fi][fi])
			snprintf(t->how, sizeof(t->how), "distance %d vs %d", t->distance[fi][si], t->distance[fi][fi]);
		else {
			snprintf(t->why, sizeof(t->why),
				 "nodes %d and %d look alike (CPUs, distance, no HMAT): set slow_node= to choose",
				 f->id, s->id);
			return 0;
		}
	}
	if (si < 0 || si == fi) {
		snprintf(t->why, sizeof(t->why), "slow_node has no memory");
		return 0;
	}
	t->fast = t->nodes[fi].id;
	t->slow = t->nodes[si].id;
	t->tiered = 1;
	return 0;
}
