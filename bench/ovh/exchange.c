/*
 * exchange.c - exchange throughput on a real two-node machine (the test
 * guest): the engine's pairwise exchange (ht_engine_epoch with the libnuma
 * actuator) against raw move_pages() of the same pages, as pages per
 * second and their ratio.
 *
 * Setup: buffer A (MiB, default 32) on the slow node, buffer B (same size)
 * on the fast node; the fast quota is B's size, so promoting A means
 * demoting B. Samples name A only. Raw: move_pages(A -> fast) and
 * move_pages(B -> slow) in batches of conf batch. Prints one CSV line.
 */
#include <errno.h>
#include <numa.h>
#include <numaif.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "clock.h"
#include "core/topo.h"
#include "plan/engine.h"

static void place(char *p, size_t len, int node)
{
	size_t n = len / 4096;
	void **pg = malloc(n * sizeof(*pg));
	int *nd = malloc(n * sizeof(int)), *st = malloc(n * sizeof(int));
	for (size_t i = 0; i < n; i++)
		pg[i] = p + i * 4096, nd[i] = node;
	numa_move_pages(0, n, pg, nd, st, MPOL_MF_MOVE);
	free(pg), free(nd), free(st);
}

static size_t count_on(char *p, size_t len, int node)
{
	size_t n = len / 4096, c = 0;
	void **pg = malloc(n * sizeof(*pg));
	int *st = malloc(n * sizeof(int));
	for (size_t i = 0; i < n; i++)
		pg[i] = p + i * 4096;
	numa_move_pages(0, n, pg, NULL, st, 0);
	for (size_t i = 0; i < n; i++)
		c += st[i] == node;
	free(pg), free(st);
	return c;
}

/* Raw: the same exchange as the engine does, with plain move_pages in batches. */
static long raw_fail[64];

static double raw_exchange(char *a, char *b, size_t len, int fast, int slow, size_t batch)
{
	size_t n = len / 4096, per = batch / 4096;
	void **pg = malloc(per * sizeof(*pg));
	int *nd = malloc(per * sizeof(int)), *st = malloc(per * sizeof(int));
	uint64_t t0 = wall_ns();
	for (size_t off = 0; off < n; off += per) {
		size_t k = n - off < per ? n - off : per;
		for (int dir = 0; dir < 2; dir++) { /* demote a batch of B, promote a batch of A */
			for (size_t i = 0; i < k; i++)
				pg[i] = (dir ? a : b) + (off + i) * 4096, nd[i] = dir ? fast : slow;
			numa_move_pages(0, k, pg, nd, st, MPOL_MF_MOVE);
			for (size_t i = 0; i < k; i++)
				if (st[i] < 0 && -st[i] < 64)
					raw_fail[-st[i]]++;
		}
	}
	double s = (wall_ns() - t0) / 1e9;
	free(pg), free(nd), free(st);
	return 2.0 * n / s;
}

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 0) : 32, len = mib << 20;
	struct ht_conf c;
	struct ht_topo t;
	char err[256];
	ht_conf_defaults(&c);
	if (ht_conf_parse(&c, "migrate_rate=0,epoch_cap=0,set_policy=0", err, sizeof(err)) ||
	    ht_topo_discover(&t, &c) || !t.tiered) {
		printf("# exchange: needs two tiers (%s)\n", t.why);
		return 77;
	}
	char *a = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *b = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(a, 1, len), memset(b, 2, len);
	place(a, len, t.slow), place(b, len, t.fast);
	/* twice, the second one counts: the first pays for one-time kernel set-up */
	double raw = raw_exchange(a, b, len, t.fast, t.slow, c.batch);
	place(a, len, t.slow), place(b, len, t.fast);
	memset(raw_fail, 0, sizeof(raw_fail));
	raw = raw_exchange(a, b, len, t.fast, t.slow, c.batch);
	size_t ra = count_on(a, len, t.fast), rb = count_on(b, len, t.slow);
	int raw_ok = ra == len / 4096 && rb == len / 4096;
	for (int i = 1; i < 64; i++)
		if (raw_fail[i])
			printf("# raw move_pages: %ld pages failed with errno %d\n", raw_fail[i], i);
	if (!raw_ok)
		printf("# raw: %zu of A on fast, %zu of B on slow (of %zu)\n", ra, rb, len / 4096);
	/* back to the start */
	place(a, len, t.slow), place(b, len, t.fast);

	struct ht_actuator act;
	ht_actuator_numa_init(&act);
	struct ht_engine *e = ht_engine_create(&c, &t, &act);
	if (!e) {
		printf("# exchange: ht_engine_create failed\n");
		return 1;
	}
	ht_engine_add_range(e, (uintptr_t)a, len, HT_ORIGIN_USER);
	ht_engine_add_range(e, (uintptr_t)b, len, HT_ORIGIN_USER);
	ht_engine_set_quota(e, len);
	struct ht_sample s[256];
	memset(s, 0, sizeof(s));
	uint64_t now = wall_ns(), busy = 0;
	long moved = 0;
	for (int ep = 0; ep < 50 && count_on(a, len, t.fast) < len / 4096; ep++) {
		for (int k = 0; k < 40; k++) { /* samples on A only */
			for (int i = 0; i < 256; i++)
				s[i].addr = (uint64_t)(uintptr_t)(a + ((size_t)(k * 256 + i) * 4096 * 7) % len),
				s[i].weight = 1, s[i].time_ns = now;
			ht_engine_ingest(e, s, 256);
		}
		now += c.epoch * 1000;
		uint64_t t0 = wall_ns();
		long m = ht_engine_epoch(e, now);
		busy += wall_ns() - t0;
		if (m > 0)
			moved += m;
	}
	size_t a_fast = count_on(a, len, t.fast), b_fast = count_on(b, len, t.fast);
	double eng = busy ? moved / (busy / 1e9) : 0;
	printf("mib,raw_pages_per_s,raw_ok,engine_pages_per_s,engine_pages_moved,a_pages_fast,b_pages_fast,pages_each,ratio\n");
	printf("%zu,%.0f,%d,%.0f,%ld,%zu,%zu,%zu,%.3f\n", mib, raw, raw_ok, eng, moved, a_fast, b_fast, len / 4096,
	       raw > 0 ? eng / raw : 0);
	ht_engine_destroy(e);
	return 0;
}
