/*
 * test_sim.c - the simulator's own correctness: the placement table keeps
 * its capacities, first touch and the latency model match a hand-computed
 * case, the per-epoch oracle bounds every policy, and samples arrive at
 * the configured period.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "bench.h"
#include "tap.h"

static void test_table(void)
{
	struct ht_sim_params p = { .fast_bytes = 4 * 4096, .slow_bytes = 8 * 4096, .page_size = 4096,
				   .fast_node = 0, .slow_node = 1, .migrate_ns = 1000 };
	struct ht_sim *s = ht_sim_create(&p);
	struct ht_actuator a;
	uintptr_t base = 0x200000;
	ok(s && ht_sim_add_span(s, base, 6 * 4096) == 0, "span of 6 pages registered");
	is_int(ht_sim_add_span(s, base + 4096, 4096), -EEXIST, "overlapping span refused");
	ht_actuator_sim_init(&a, s);
	void *pg[3] = { (void *)base, (void *)(base + 5 * 4096), (void *)0x1000 };
	int nodes[3];
	a.ops->query(a.priv, pg, 3, nodes);
	ok(nodes[0] == -ENOENT && nodes[2] == -EFAULT, "unplaced page -ENOENT, unmapped -EFAULT");
	for (long i = 0; i < 6; i++)
		ht_sim_touch(s, i);
	a.ops->query(a.priv, pg, 2, nodes);
	ok(nodes[0] == 0 && nodes[1] == 1, "first touch: first 4 pages fast, the rest slow");
	int st[1];
	a.ops->move(a.priv, &pg[1], 1, 0, st);
	is_int(st[0], -ENOMEM, "promotion into a full fast tier fails");
	a.ops->move(a.priv, &pg[0], 1, 1, st);
	is_int(st[0], 1, "demotion succeeds");
	a.ops->move(a.priv, &pg[1], 1, 0, st);
	is_int(st[0], 0, "then the promotion succeeds");
	struct ht_sim_counts c;
	ht_sim_get_counts(s, &c);
	ok(c.used[0] == 4 && c.used[1] == 2 && c.promoted == 1 && c.demoted == 1 && c.migrate_ns == 2000,
	   "counts: 4 fast, 2 slow, 1 promoted, 1 demoted, 2 pages of migration cost");
	uint64_t fr, tot;
	a.ops->node_mem(a.priv, 0, &fr, &tot);
	ok(fr == 0 && tot == 4 * 4096, "node_mem reports the fast tier full");
	ok(a.ops->set_policy(a.priv, base, 4096, 7) == -EINVAL, "policy for an unknown node refused");
	ht_sim_destroy(s);
}

static void test_first_touch_by_hand(void)
{
	struct bench_opts o;
	bench_opts_defaults(&o);
	o.fast_ratio = 0.25;
	o.epoch_accesses = 4;
	o.period = 1000;
	o.migrate_ns = 1000;
	uint32_t trace[] = { 0, 1, 2, 3, 4, 5, 6, 7, 7, 7, 0, 1, 7 };
	struct bench_span sp = { 0x400000, 8 * 4096 };
	uintptr_t addr[8];
	for (int i = 0; i < 8; i++)
		addr[i] = sp.start + i * 4096;
	struct workload w = { .name = "hand", .page = trace, .n = 13, .npages = 8, .spans = &sp,
			      .nspans = 1, .addr = addr };
	struct run_result r;
	ok(bench_run(&o, &w, &pol_first_touch, &r) == 0, "first-touch run");
	/* 2 fast pages (0, 1): hits are the two init touches and the later 0, 1 */
	is_int(r.hits, 4, "4 of 13 accesses hit the fast tier");
	ok(fabs(r.access_ns - (4 * 70 + 9 * 180)) < 1e-6, "modelled time 4*70 + 9*180 ns (%.0f)", r.access_ns);
	is_int(r.promoted + r.demoted, 0, "nothing migrated");
	is_int(r.nepochs, 4, "13 accesses in epochs of 4 make 4 epochs");
	ok(fabs(r.epoch_hit[0] - 0.5) < 1e-9 && fabs(r.epoch_hit[2] - 0.5) < 1e-9,
	   "per-epoch hit ratio (epoch 0: 2/4, epoch 2: 2/4)");
	run_result_free(&r);
	/* the per-epoch oracle: epochs {0,1,2,3} {4,5,6,7} {7,7,0,1} {7} with 2 fast slots: 2+2+3+1 */
	ok(bench_run(&o, &w, &pol_oracle_epoch, &r) == 0, "oracle run");
	is_int(r.hits, 8, "per-epoch oracle hits 2+2+3+1 of 13");
	run_result_free(&r);
}

static void test_oracle_bounds(void)
{
	struct bench_opts o;
	bench_opts_defaults(&o);
	o.footprint = 64 << 20;
	o.accesses = 4000000;
	o.epoch_accesses = 200000;
	o.period = 31;
	o.heat = 0;
	struct workload w;
	char why[256];
	if (!ok(workload_make(&w, "gups-hot", &o, why, sizeof(why)) == 0, "gups-hot generated")) {
		tap_diag("%s", why);
		return;
	}
	const struct policy_ops *pols[] = { &pol_first_touch, &pol_hemem, &pol_memtis, &pol_tpp,
					    &pol_hypertier, &pol_oracle_cost, &pol_oracle_static };
	struct run_result orc, ft = { 0 };
	ok(bench_run(&o, &w, &pol_oracle_epoch, &orc) == 0, "oracle-epoch run");
	double best = (double)orc.hits / orc.accesses;
	for (size_t i = 0; i < sizeof(pols) / sizeof(pols[0]); i++) {
		struct run_result r;
		if (!ok(bench_run(&o, &w, pols[i], &r) == 0, "%s run", pols[i]->name))
			continue;
		double h = (double)r.hits / r.accesses;
		ok(h <= best + 1e-12, "oracle-epoch %.4f >= %s %.4f", best, pols[i]->name, h);
		if (i == 0) {
			size_t want = w.n / o.period;
			ok(labs((long)r.samples - (long)want) < (long)want / 100, "samples %llu ~ accesses/period %zu",
			   (unsigned long long)r.samples, want);
			ft = r;
			continue;
		}
		if (pols[i] == &pol_hypertier)
			ok(h > (double)ft.hits / ft.accesses + 0.2, "hypertier %.4f beats first touch %.4f by > 0.2 on gups-hot",
			   h, (double)ft.hits / ft.accesses);
		run_result_free(&r);
	}
	run_result_free(&ft);
	run_result_free(&orc);
	workload_free(&w);
}

int main(void)
{
	test_table();
	test_first_touch_by_hand();
	test_oracle_bounds();
	return tap_done();
}
