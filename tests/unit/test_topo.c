/* Tier discovery on this machine, checked against what the kernel says in sysfs. */
#include "tap.h"
#include "testutil.h"
#include "core/topo.h"
#include <dirent.h>


int main(void)
{
	struct ht_topo t;
	struct ht_conf c;
	char err[256];
	ht_conf_defaults(&c);
	ok(ht_topo_discover(&t, &c) == 0, "discover succeeds");
	int want = sysfs_nodes_with_memory();
	is_int(t.nr_nodes, want, "nodes with memory match sysfs has_memory");
	ok(t.nodes[0].total > 0 && t.nodes[0].free <= t.nodes[0].total, "capacity and free memory known");
	if (want == 1) {
		ok(!t.tiered && strstr(t.why, "only one NUMA node"), "one node: not tiered, says why: %s", t.why);
		is_int(t.fast, -1, "no fast tier chosen");
	} else {
		ok(t.tiered, "two or more nodes: tiered (%s)", t.how);
		ok(t.fast != t.slow, "fast %d != slow %d", t.fast, t.slow);
	}
	ok(ht_topo_node_exists(0), "node 0 exists");
	ok(!ht_topo_node_exists(63), "node 63 does not");
	ht_conf_parse(&c, "slow_node=7", err, sizeof(err));
	ok(ht_conf_check_nodes(&c, ht_topo_node_exists, err, sizeof(err)) < 0 && strstr(err, "slow_node=7: no such NUMA node"),
	   "a node that does not exist is refused: %s", err);
	return tap_done();
}
