/*
 * test_sim.c - the simulator's own correctness: the placement table keeps
 * its capacities, first touch, the latency model and the modelled clock
 * (ticks, epochs) match hand-computed cases, the LLC model hits, misses
 * and evicts as LRU should, the oracles bound what they claim to (on the
 * LLC misses of synthetic workloads), and samples arrive at the period.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "bench.h"
#include "llc.h"
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

/* A policy that only records when it is ticked. */
static uint64_t tick_at[8];
static size_t tick_left[8], nticks;
static void *rec_create(struct machine *m, uint64_t *tick)
{
	*tick = m->epoch_ns;
	nticks = 0;
	return m;
}
static void rec_tick(void *p, uint64_t now, const uint32_t *f, size_t n)
{
	if (nticks < 8) {
		tick_at[nticks] = now;
		tick_left[nticks++] = n;
	}
}
static void rec_destroy(void *p) {}
static const struct policy_ops pol_rec = { .name = "rec", .create = rec_create, .tick = rec_tick, .destroy = rec_destroy };

/*
 * The hand-built trace: pages 0..7, then 7 7 0 1 7; two fast pages (0, 1)
 * under first touch. Latencies 100 / 200 us and a 1 ms epoch, so the clock
 * runs 100, 200, 400, ... 2200 us (all mode).
 */
static uint32_t trace[] = { 0, 1, 2, 3, 4, 5, 6, 7, 7, 7, 0, 1, 7 };
static uintptr_t addr[8];
static struct bench_span span = { 0x400000, 8 * 4096 };
static void hand(struct bench_opts *o, struct workload *w)
{
	bench_opts_defaults(o);
	o->fast_ratio = 0.25;
	o->fast_ns = 100000;
	o->slow_ns = 200000;
	o->hit_ns = 1000;
	o->period = 1000;
	o->migrate_ns = 1000;
	snprintf(o->conf, sizeof(o->conf), "epoch=1ms");
	for (int i = 0; i < 8; i++)
		addr[i] = span.start + i * 4096;
	*w = (struct workload){ .name = "hand", .page = trace, .n = 13, .npages = 8, .spans = &span,
				.nspans = 1, .addr = addr };
}

static void test_first_touch_by_hand(void)
{
	struct bench_opts o;
	struct workload w;
	struct run_result r;
	hand(&o, &w);
	ok(bench_run(&o, &w, &pol_first_touch, &r) == 0, "first-touch run");
	/* 2 fast pages (0, 1): hits are the two init touches and the later 0, 1 */
	is_int(r.hits, 4, "4 of 13 accesses hit the fast tier");
	ok(fabs(r.access_ns - (4 * 100000 + 9 * 200000)) < 1e-6, "modelled time 4*100 + 9*200 us (%.0f)", r.access_ns);
	is_int(r.promoted + r.demoted, 0, "nothing migrated");
	/* the clock passes 1 ms at entry 5 (1000 us) and 2 ms at entry 11: epochs of 6, 6, 1 entries */
	is_int(r.nepochs, 3, "2.2 ms of modelled time make 3 epochs of 1 ms");
	ok(fabs(r.epoch_hit[0] - 2.0 / 6) < 1e-9 && fabs(r.epoch_hit[1] - 2.0 / 6) < 1e-9 && r.epoch_hit[2] == 0,
	   "per-epoch hit ratio 2/6, 2/6, 0 (%.3f %.3f %.3f)", r.epoch_hit[0], r.epoch_hit[1], r.epoch_hit[2]);
	run_result_free(&r);
	/* the per-epoch oracle at time 0 looks at the 10 accesses that fill 1 ms if all were fast and
	 * places 7 (3 of them) and 0 (a tie, lowest index); 0 hits, then 1..5 miss: the clock passes 1 ms
	 * at entry 5, the rest (7 x3, 0 once, 6 and 1) keeps 7 and 0 (the tie goes to the page already
	 * fast): 1 + 5 hits */
	ok(bench_run(&o, &w, &pol_oracle_epoch, &r) == 0, "oracle run");
	is_int(r.hits, 6, "per-epoch oracle hits 1 + 5 of 13");
	run_result_free(&r);
}

/* The clock with LLC hits: 10 hits before entry 2, 5 after the last entry, 1 us each. */
static void test_clock(void)
{
	struct bench_opts o;
	struct workload w;
	struct run_result r;
	uint32_t hits[13] = { 0, 0, 10 };
	hand(&o, &w);
	w.hits = hits;
	w.tail_hits = 5;
	ok(bench_run(&o, &w, &pol_first_touch, &r) == 0, "first-touch run with LLC hits");
	ok(fabs(r.access_ns - (4 * 100000 + 9 * 200000 + 15 * 1000)) < 1e-6,
	   "modelled time 4*100 + 9*200 + 15*1 us (%.0f)", r.access_ns);
	is_int(r.accesses, 28, "13 memory accesses + 15 LLC hits");
	is_int(r.misses, 13, "13 reach memory");
	run_result_free(&r);
	/* the clock: 100, 200, 410, 610, 810, 1010 (entry 5), ..., 2010 (entry 11), 2210 us */
	ok(bench_run(&o, &w, &pol_rec, &r) == 0, "recording policy run");
	is_int(nticks, 3, "ticked at 0 and as the clock passes 1 and 2 ms");
	ok(tick_at[0] == 0 && tick_left[0] == 13, "first tick before any access, whole trace ahead");
	ok(tick_at[1] == 1010000 && tick_left[1] == 7, "second after entry 5, at 1010 us (%llu, %zu left)",
	   (unsigned long long)tick_at[1], tick_left[1]);
	ok(tick_at[2] == 2010000 && tick_left[2] == 1, "third after entry 11, at 2010 us (%llu, %zu left)",
	   (unsigned long long)tick_at[2], tick_left[2]);
	run_result_free(&r);
}

static void test_llc(void)
{
	struct llc *c = llc_create(64 * 1024, 4, 64); /* 1024 lines, 256 sets */
	uint64_t miss = 0;
	for (int pass = 0; pass < 3; pass++)
		for (uint64_t a = 0; a < 32 * 1024; a += 64)
			miss += !llc_access(c, a) * (pass ? 1000 : 1);
	is_int(miss, 512, "a working set of half the LLC misses only on its first pass");
	miss = 0;
	for (int pass = 0; pass < 3; pass++)
		for (uint64_t a = 0; a < 128 * 1024; a += 64)
			miss += !llc_access(c, 1 << 30 | a);
	is_int(miss, 3 * 2048, "a stream of twice the LLC misses on every access");
	llc_destroy(c);
	c = llc_create(64 * 1024, 4, 64);
	uint64_t set = 256 * 64; /* addresses set apart map to one set */
	for (uint64_t k = 0; k < 4; k++)
		llc_access(c, k * set);
	llc_access(c, 0);               /* 0 most recent: LRU is now line 1 */
	llc_access(c, 4 * set);         /* a fifth line evicts line 1 */
	ok(llc_access(c, 0) && llc_access(c, 2 * set) && llc_access(c, 3 * set) && llc_access(c, 4 * set),
	   "lines 0, 2, 3, 4 of the set still hit");
	ok(!llc_access(c, 1 * set), "line 1 (least recently used) was evicted");
	ok(!llc_create(1000, 4, 48), "a line that is not a power of 2 is refused");
	llc_destroy(c);
}

static double total(const struct run_result *r) { return r->access_ns + r->migrate_ns; }
static double hitr(const struct run_result *r) { return (double)r->hits / r->misses; }

/*
 * Bound properties of the oracles (pol_oracle.c) on synthetic workloads,
 * llc mode. Scaled down to stay fast: a quarter of the default footprint
 * and an eighth of the LLC (so the hot set still does not fit in it), and
 * a 100 ms epoch so the ~3 s of modelled time hold enough epochs.
 */
static void test_oracle_bounds(const char *name)
{
	struct bench_opts o;
	bench_opts_defaults(&o);
	o.footprint = 256 << 20;
	o.llc_size = 4 << 20;
	snprintf(o.conf, sizeof(o.conf), "epoch=100ms");
	o.accesses = 30000000;
	o.move_every = 7500000;
	o.period = 31;
	o.heat = 0;
	struct workload w;
	char why[256];
	if (!ok(workload_make(&w, name, &o, why, sizeof(why)) == 0 && llc_filter(&w, &o, why, sizeof(why)) == 0,
		"%s generated and filtered through the LLC", name)) {
		tap_diag("%s", why);
		return;
	}
	ok(w.n < w.accesses && w.n > w.accesses / 3, "%s: %zu of %llu accesses miss a 4 MiB LLC", name, w.n,
	   (unsigned long long)w.accesses);
	const struct policy_ops *pols[] = { &pol_first_touch, &pol_hemem, &pol_memtis, &pol_tpp, &pol_hypertier,
					    &pol_oracle_epoch, &pol_oracle_cost, &pol_oracle_static };
	enum { FT, HM, MT, TPP, HY, OE, OC, OS, N };
	struct run_result r[N];
	for (int i = 0; i < N; i++)
		if (!ok(bench_run(&o, &w, pols[i], &r[i]) == 0, "%s: %s run", name, pols[i]->name))
			memset(&r[i], 0, sizeof(r[i]));
	tap_diag("%s: %.1f ms modelled under first touch", name, total(&r[FT]) / 1e6);
	ok(total(&r[OC]) <= total(&r[FT]) && total(&r[OC]) <= total(&r[OS]),
	   "%s: oracle-cost time %.1f <= first touch %.1f and oracle-static %.1f ms", name, total(&r[OC]) / 1e6,
	   total(&r[FT]) / 1e6, total(&r[OS]) / 1e6);
	ok(hitr(&r[OS]) >= hitr(&r[FT]) && total(&r[OS]) <= total(&r[FT]),
	   "%s: oracle-static hit %.4f >= first touch %.4f, time no longer", name, hitr(&r[OS]), hitr(&r[FT]));
	if (!strcmp(name, "gups-hot")) {
		size_t want = w.n / o.period;
		ok(labs((long)r[FT].samples - (long)want) < (long)want / 100, "samples %llu ~ LLC misses/period %zu",
		   (unsigned long long)r[FT].samples, want);
		for (int i = 0; i < OE; i++)
			ok(hitr(&r[OE]) >= hitr(&r[i]), "oracle-epoch %.4f >= %s %.4f", hitr(&r[OE]), pols[i]->name,
			   hitr(&r[i]));
		ok(hitr(&r[HY]) > hitr(&r[FT]) + 0.2, "hypertier %.4f beats first touch %.4f by > 0.2 on gups-hot",
		   hitr(&r[HY]), hitr(&r[FT]));
	}
	if (!strcmp(name, "zipf")) {
		/* --trace-loops: the miss stream three times, first touch's time three times less the cold start */
		size_t n = w.n;
		uint32_t p7 = w.page[n / 7];
		struct run_result l;
		ok(workload_loop(&w, 3, why, sizeof(why)) == 0 && w.n == 3 * n && w.page[2 * n + n / 7] == p7,
		   "3 loops: %zu entries, each loop the same", w.n);
		if (ok(bench_run(&o, &w, &pol_first_touch, &l) == 0, "first touch over 3 loops")) {
			double x = total(&l) / total(&r[FT]);
			ok(x > 2.9 && x < 3.01, "3 loops take %.3f x the time of one", x);
			run_result_free(&l);
		}
	}
	for (int i = 0; i < N; i++)
		run_result_free(&r[i]);
	workload_free(&w);
}

int main(void)
{
	test_table();
	test_llc();
	test_first_touch_by_hand();
	test_clock();
	test_oracle_bounds("gups-hot");
	test_oracle_bounds("zipf");
	test_oracle_bounds("moving-hot");
	return tap_done();
}
