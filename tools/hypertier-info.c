/*
 * hypertier-info - what this machine offers HyperTier, for a newcomer:
 * the tiers (nodes, CPUs, capacity, free, distances, which is fast/slow and
 * why), the PMU situation, and which sample source the runtime would use
 * (or exactly why none). Text by default, --json for scripts.
 * Honours HYPERTIER_CONF (fast_node, slow_node, sample) like the runtime.
 */
#include <getopt.h>
#include <json-c/json.h>
#include <numa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "core/conf.h"
#include "core/pmu.h"
#include "core/topo.h"
#include "source/source.h"

/* Everything the tool reports, gathered once. */
struct info {
	struct ht_conf conf;
	struct ht_topo topo;
	int topo_rc;
	char cpulist[HT_MAX_NODES][256];
	struct ht_pmu_info pmu;
	const char *source; /* selected ops name, NULL if none */
	char source_why[512];
};


static const char *vendor_name(enum ht_vendor v)
{
	return v == HT_VENDOR_INTEL ? "intel" : v == HT_VENDOR_AMD ? "amd" : "other";
}

/* "0-3,8" from a node's CPU mask; "" for a CPU-less node. */
static void node_cpulist(int node, char *buf, size_t len)
{
	struct bitmask *m = numa_allocate_cpumask();
	size_t o = 0;
	buf[0] = 0;
	if (numa_node_to_cpus(node, m) == 0) {
		int n = (int)m->size;
		for (int i = 0; i < n && o < len; i++) {
			if (!numa_bitmask_isbitset(m, i))
				continue;
			int j = i;
			while (j + 1 < n && numa_bitmask_isbitset(m, j + 1))
				j++;
			o += snprintf(buf + o, len - o, o ? ",%d" : "%d", i);
			if (j > i && o < len)
				o += snprintf(buf + o, len - o, "-%d", j);
			i = j;
		}
	}
	numa_free_cpumask(m);
}

static const char *tier_of(const struct ht_topo *t, int id)
{
	if (!t->tiered)
		return "none";
	return id == t->fast ? "fast" : id == t->slow ? "slow" : "other";
}

static void gather(struct info *in)
{
	in->topo_rc = ht_topo_discover(&in->topo, &in->conf);
	for (int i = 0; i < in->topo.nr_nodes; i++)
		node_cpulist(in->topo.nodes[i].id, in->cpulist[i], sizeof(in->cpulist[i]));
	ht_pmu_probe(&in->pmu);
	const struct ht_source_ops *o = ht_source_select(&in->conf, in->source_why, sizeof(in->source_why));
	in->source = o ? o->name : NULL;
}

static void gib(char *buf, size_t len, uint64_t b)
{
	snprintf(buf, len, "%.1f GiB", b / (double)(1ull << 30));
}

static void print_text(const struct info *in)
{
	const struct ht_topo *t = &in->topo;
	const struct ht_pmu_info *p = &in->pmu;
	int pmu = p->pebs_ok || p->ibs_ok;
	char a[32], b[32];

	printf("HyperTier %s: what this machine offers\n\n", PACKAGE_VERSION);
	/* The plain verdict first. */
	printf("Summary: %s; %s.\n",
	       t->tiered ? "two memory tiers" : t->nr_nodes < 2 ? "only one NUMA node: nothing to tier"
							 : "no usable fast/slow pair",
	       pmu ? "a PMU sampler is available" : "no PMU sampling (PEBS/IBS) for this process");

	printf("\nTiers\n");
	if (in->topo_rc < 0)
		printf("  %s\n", t->why);
	for (int i = 0; i < t->nr_nodes; i++) {
		const struct ht_node *n = &t->nodes[i];
		gib(a, sizeof(a), n->total);
		gib(b, sizeof(b), n->free);
		printf("  node %d: ", n->id);
		if (t->tiered)
			printf("%s tier, ", tier_of(t, n->id));
		printf("CPUs %s, %s total, %s free", n->nr_cpus ? in->cpulist[i] : "none (CPU-less)", a, b);
		if (n->read_latency)
			printf(", HMAT read latency %d ns", n->read_latency);
		printf("\n");
	}
	if (t->nr_nodes > 1) {
		printf("  distances:");
		for (int i = 0; i < t->nr_nodes; i++) {
			printf("%s", i ? " |" : " ");
			for (int j = 0; j < t->nr_nodes; j++)
				printf(" %d", t->distance[i][j]);
		}
		printf("\n");
	}
	if (t->tiered)
		printf("  fast tier: node %d; slow tier: node %d (chosen because: %s)\n", t->fast, t->slow, t->how);
	else if (in->topo_rc == 0)
		printf("  %s\n", t->why);

	printf("\nPMU\n");
	printf("  CPU: %s (%s)\n", *p->model_name ? p->model_name : "unknown", vendor_name(p->vendor));
	printf("  pmu_name: %s\n", *p->pmu_name ? p->pmu_name
			       : p->has_cpu_pmu ? "(not reported)"
						: "none: no CPU PMU (/sys/bus/event_source/devices/cpu absent)");
	printf("  virtual machine: %s%s%s%s\n", p->in_vm ? "yes" : "no", *p->hypervisor ? " (" : "",
	       p->hypervisor, *p->hypervisor ? ")" : "");
	printf("  perf_event_paranoid: %d\n", p->paranoid);
	printf("  PEBS: %s\n", p->pebs_ok ? "yes, openable for this process" : p->pebs_why);
	printf("  IBS: %s\n", p->ibs_ok ? "yes, openable for this process" : p->ibs_why);

	printf("\nSampling\n");
	printf("  sample=%s: ", ht_conf_enum_name("sample", in->conf.sample));
	if (in->source)
		printf("the runtime would use the %s source\n", in->source);
	else
		printf("no sample source: %s\n", in->source_why);
	if (!in->source)
		printf("  (programs can still report accesses with ht_sample_access(); sample=software)\n");
}

static json_object *jstr_or_null(const char *s)
{
	return s && *s ? json_object_new_string(s) : NULL;
}

static void print_json(const struct info *in)
{
	const struct ht_topo *t = &in->topo;
	const struct ht_pmu_info *p = &in->pmu;
	json_object *root = json_object_new_object(), *nodes = json_object_new_array();
	json_object *dist = json_object_new_array(), *pmu = json_object_new_object();
	json_object *src = json_object_new_object();

	json_object_object_add(root, "version", json_object_new_string(PACKAGE_VERSION));
	json_object_object_add(root, "tiered", json_object_new_boolean(t->tiered));
	json_object_object_add(root, "nr_nodes", json_object_new_int(t->nr_nodes));
	json_object_object_add(root, "why", jstr_or_null(t->tiered ? NULL : t->why));
	json_object_object_add(root, "fast_node", json_object_new_int(t->fast));
	json_object_object_add(root, "slow_node", json_object_new_int(t->slow));
	json_object_object_add(root, "slow_reason", jstr_or_null(t->tiered ? t->how : NULL));
	for (int i = 0; i < t->nr_nodes; i++) {
		const struct ht_node *n = &t->nodes[i];
		json_object *o = json_object_new_object(), *row = json_object_new_array();
		json_object_object_add(o, "id", json_object_new_int(n->id));
		json_object_object_add(o, "tier", json_object_new_string(tier_of(t, n->id)));
		json_object_object_add(o, "nr_cpus", json_object_new_int(n->nr_cpus));
		json_object_object_add(o, "cpus", json_object_new_string(in->cpulist[i]));
		json_object_object_add(o, "total_bytes", json_object_new_int64((int64_t)n->total));
		json_object_object_add(o, "free_bytes", json_object_new_int64((int64_t)n->free));
		json_object_object_add(o, "read_latency_ns", json_object_new_int(n->read_latency));
		json_object_array_add(nodes, o);
		for (int j = 0; j < t->nr_nodes; j++)
			json_object_array_add(row, json_object_new_int(t->distance[i][j]));
		json_object_array_add(dist, row);
	}
	json_object_object_add(root, "nodes", nodes);
	json_object_object_add(root, "distances", dist);

	json_object_object_add(pmu, "vendor", json_object_new_string(vendor_name(p->vendor)));
	json_object_object_add(pmu, "model_name", json_object_new_string(p->model_name));
	json_object_object_add(pmu, "pmu_name", jstr_or_null(p->pmu_name));
	json_object_object_add(pmu, "has_cpu_pmu", json_object_new_boolean(p->has_cpu_pmu));
	json_object_object_add(pmu, "has_ibs_op", json_object_new_boolean(p->has_ibs_op));
	json_object_object_add(pmu, "in_vm", json_object_new_boolean(p->in_vm));
	json_object_object_add(pmu, "hypervisor", jstr_or_null(p->hypervisor));
	json_object_object_add(pmu, "perf_event_paranoid", json_object_new_int(p->paranoid));
	json_object_object_add(pmu, "pebs_ok", json_object_new_boolean(p->pebs_ok));
	json_object_object_add(pmu, "pebs_why", jstr_or_null(p->pebs_ok ? NULL : p->pebs_why));
	json_object_object_add(pmu, "ibs_ok", json_object_new_boolean(p->ibs_ok));
	json_object_object_add(pmu, "ibs_why", jstr_or_null(p->ibs_ok ? NULL : p->ibs_why));
	json_object_object_add(root, "pmu", pmu);

	json_object_object_add(src, "requested", json_object_new_string(ht_conf_enum_name("sample", in->conf.sample)));
	json_object_object_add(src, "selected", jstr_or_null(in->source));
	json_object_object_add(src, "why", jstr_or_null(in->source ? NULL : in->source_why));
	json_object_object_add(root, "source", src);

	printf("%s\n", json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(root);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: hypertier-info [--json]\n"
		   "Show the memory tiers, the PMU situation and the sample source HyperTier would use.\n"
		   "HYPERTIER_CONF (fast_node, slow_node, sample) is honoured as by the runtime.\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	int json = 0, c;
	char err[512];
	static struct info info; /* 38 KB: not on the stack, and no heap block to leak on the early exits */
	struct info *in = &info;

	while ((c = getopt_long(argc, argv, "jhV", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("hypertier-info %s\n", PACKAGE_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "hypertier-info: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	ht_conf_defaults(&in->conf);
	if (ht_conf_parse(&in->conf, getenv("HYPERTIER_CONF"), err, sizeof(err)) < 0 ||
	    ht_conf_check_nodes(&in->conf, ht_topo_node_exists, err, sizeof(err)) < 0) {
		fprintf(stderr, "hypertier-info: HYPERTIER_CONF: %s\n", err);
		return 2;
	}
	gather(in);
	if (json)
		print_json(in);
	else
		print_text(in);
	return 0;
}
