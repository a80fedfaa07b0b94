/*
 * ingest.c - cost of the engine's hot path and of one epoch, against the
 * simulated placement: ns per ingested sample and us per ht_engine_epoch()
 * with 64, 512 and 2048 ranges (separate 2 MiB ranges, so the count holds).
 * Output: one CSV line per range count.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "actuator/sim.h"
#include "clock.h"
#include "plan/engine.h"

#define BASE 0x200000000000ULL
#define SPAN (2u << 20)
#define NS (1u << 20)

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void run(int nranges, const char *confstr)
{
	struct ht_conf c;
	char err[256];
	ht_conf_defaults(&c);
	if (ht_conf_parse(&c, confstr, err, sizeof(err))) {
		fprintf(stderr, "ingest: %s\n", err);
		exit(2);
	}
	if (c.max_ranges < nranges)
		c.max_ranges = nranges;
	uint64_t pages = (uint64_t)nranges * (SPAN / 4096);
	struct ht_sim_params sp = { .fast_bytes = pages / 5 * 4096, .slow_bytes = pages * 4096, .page_size = 4096,
				    .fast_node = 0, .slow_node = 1, .migrate_ns = 0 };
	struct ht_sim *sim = ht_sim_create(&sp);
	struct ht_actuator act;
	ht_actuator_sim_init(&act, sim);
	struct ht_topo t;
	memset(&t, 0, sizeof(t));
	t.nr_nodes = 2;
	t.nodes[0] = (struct ht_node){ .id = 0, .nr_cpus = 1, .total = sp.fast_bytes, .free = sp.fast_bytes };
	t.nodes[1] = (struct ht_node){ .id = 1, .total = sp.slow_bytes, .free = sp.slow_bytes };
	t.fast = 0, t.slow = 1, t.tiered = 1;
	struct ht_engine *e = ht_engine_create(&c, &t, &act);
	if (!e) {
		fprintf(stderr, "ingest: ht_engine_create failed\n");
		exit(1);
	}
	for (int i = 0; i < nranges; i++) {
		uintptr_t a = BASE + (uintptr_t)i * 2 * SPAN; /* a gap between ranges: none merge */
		ht_sim_add_span(sim, a, SPAN);
		ht_engine_add_range(e, a, SPAN, HT_ORIGIN_USER);
	}
	for (size_t p = 0; p < ht_sim_nr_pages(sim); p++)
		ht_sim_touch(sim, (long)p);
	/* 90% of samples on 10% of the ranges */
	struct ht_sample *s = calloc(NS, sizeof(*s));
	uint64_t r = 88172645463325252ULL;
	int hot = nranges / 10 ? nranges / 10 : 1;
	for (size_t i = 0; i < NS; i++) {
		int k = rnd(&r) % 10 ? (int)(rnd(&r) % hot) : (int)(rnd(&r) % nranges);
		s[i].addr = BASE + (uint64_t)k * 2 * SPAN + rnd(&r) % SPAN;
		s[i].weight = 1;
		s[i].time_ns = i;
	}
	double ns[5], us[20];
	uint64_t now = 0;
	for (int rep = 0; rep < 5; rep++) {
		uint64_t t0 = wall_ns();
		for (size_t i = 0; i < NS; i += 256)
			ht_engine_ingest(e, s + i, 256);
		ns[rep] = (double)(wall_ns() - t0) / NS;
	}
	long moved = 0;
	for (int ep = 0; ep < 20; ep++) {
		ht_engine_ingest(e, s + (size_t)ep * 20000, 20000);
		now += c.epoch * 1000;
		uint64_t t0 = wall_ns();
		long m = ht_engine_epoch(e, now);
		us[ep] = (wall_ns() - t0) / 1e3;
		if (m > 0)
			moved += m;
	}
	qsort(ns, 5, sizeof(double), cmp_double);
	qsort(us, 20, sizeof(double), cmp_double);
	struct ht_stats st = { .size = sizeof(st) };
	ht_engine_get_stats(e, &st);
	printf("%d,%llu,%.1f,%.1f,%.1f,%ld\n", nranges, (unsigned long long)st.nr_ranges, ns[2], us[10], us[19], moved);
	fflush(stdout);
	ht_engine_destroy(e);
	ht_sim_destroy(sim);
	free(s);
}

int main(int argc, char **argv)
{
	const char *conf = argc > 1 ? argv[1] : "";
	printf("ranges_asked,ranges_seen,ingest_ns_per_sample,epoch_us_median,epoch_us_max,pages_moved\n");
	int sizes[] = { 64, 512, 2048 };
	for (int i = 0; i < 3; i++)
		run(sizes[i], conf);
	return 0;
}
