/*
 * test_integrity.c - guest test: writer threads keep checksummed pages
 * while the engine exchanges them between node 0 and node 1 under their
 * feet (its own epoch thread, real move_pages). Hints alternate which half
 * is hot, so every switch demotes one half and promotes the other. At the
 * end every byte must hold the last version its writer wrote: zero corrupt
 * bytes over at least 100k exchanged pages.
 *
 * "test_integrity thp": the same on transparent huge pages (MADV_HUGEPAGE;
 * Debian's default is THP "always"), where moving one 4 KiB page may move
 * or split a 2 MiB one: the quota must hold all the same.
 *
 * "test_integrity cut": the fast quota is cut by 90% while the writers run
 * and exchanges are in flight, under the default rate limits. From the
 * second epoch after the cut (the one running may have planned with the
 * old quota) node 0 holds at most the new quota at every epoch; no byte
 * is lost; stopping the engine and the writers returns (no deadlock).
 */
#include "engine_guest.h"

#define MIB (1ul << 20)
#define SIZE (128 * MIB)
#define PAGE 4096ul
#define NPAGES (SIZE / PAGE)
#define WORDS (PAGE / 8)
#define WRITERS 2
#define GOAL 100000
#define LIMIT_S 200
#define CUT_FROM (64 * MIB)
#define CUT_TO (CUT_FROM / 10 / PAGE * PAGE)

static uint64_t *mem;
static uint32_t ver[NPAGES];     /* last version written; page p belongs to writer p % WRITERS */
static atomic_int stop;
static _Atomic uint64_t writes;

/* Like gups_map, but 2 MiB aligned and MADV_HUGEPAGE before the first touch. */
static uint64_t *map_thp(size_t bytes, int node)
{
	size_t huge = 2 * MIB;
	char *raw = mmap(NULL, bytes + huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (raw == MAP_FAILED)
		return NULL;
	char *p = (char *)(((uintptr_t)raw + huge - 1) & ~(huge - 1));
	madvise(p, bytes, MADV_HUGEPAGE);
	unsigned long mask = 1ul << node;
	if (mbind(p, bytes, MPOL_BIND, &mask, sizeof(mask) * 8, 0) < 0)
		return NULL;
	memset(p, 0, bytes);
	mbind(p, bytes, MPOL_DEFAULT, NULL, 0, 0);
	return (uint64_t *)p;
}

/* AnonHugePages of this process, in MiB. */
static long thp_mib(void)
{
	FILE *f = fopen("/proc/self/smaps_rollup", "r");
	char line[256];
	long kb = -1;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "AnonHugePages: %ld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb < 0 ? -1 : kb / 1024;
}

static inline uint64_t word(uint64_t page, uint64_t v, uint64_t k)
{
	uint64_t x = (page << 40 ^ v << 12 ^ k) * 0x9E3779B97F4A7C15ull;
	return x ^ (x >> 31);
}

static void *writer(void *arg)
{
	uint64_t id = (uintptr_t)arg, x = 0x2545F4914F6CDD1Dull * (id + 1);
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		uint64_t p = (x % (NPAGES / WRITERS)) * WRITERS + id;
		uint32_t v = ++ver[p];
		uint64_t *w = mem + p * WORDS;
		for (uint64_t k = 0; k < WORDS; k++)
			w[k] = word(p, v, k);
		atomic_fetch_add_explicit(&writes, 1, memory_order_relaxed);
	}
	return NULL;
}

static char *half[2];

/* Make one half hot and the other cold: the engine swaps them. */
static void flip(struct ht_engine *e, int hot)
{
	ht_engine_hint(e, (uintptr_t)half[hot], SIZE / 2, HT_HOT);
	ht_engine_hint(e, (uintptr_t)half[!hot], SIZE / 2, HT_COLD);
}

static uint64_t moved(struct ht_engine *e)
{
	struct ht_stats st = { .size = sizeof(st) };
	ht_engine_get_stats(e, &st);
	return st.pages_promoted + st.pages_demoted;
}

int main(int argc, char **argv)
{
	int thp = argc > 1 && !strcmp(argv[1], "thp"), cut = argc > 1 && !strcmp(argv[1], "cut");
	struct tier_engine T;
	/* cut: the default rate limits, which a cut must not wait for */
	tier_engine_init(&T, cut ? "epoch=200ms,fast_quota=64M" : "epoch=100ms,fast_quota=64M,migrate_rate=0,epoch_cap=0,batch=16M");
	mem = thp ? map_thp(SIZE, 1) : gups_map(SIZE, 1);
	if (!mem)
		tap_bail("mmap/mbind of 128 MiB on node 1 failed");
	if (thp)
		ok(thp_mib() >= 64, "transparent huge pages in use: %ld MiB AnonHugePages", thp_mib());
	for (uint64_t p = 0; p < NPAGES; p++)
		for (uint64_t k = 0; k < WORDS; k++)
			mem[p * WORDS + k] = word(p, 0, k);
	is_int(gups_pages_on(mem, SIZE, 1), NPAGES, "128 MiB of checksummed pages start on node 1");
	ht_engine_add_range(T.e, (uintptr_t)mem, SIZE, HT_ORIGIN_USER);
	pthread_t th[WRITERS];
	for (uintptr_t i = 0; i < WRITERS; i++)
		pthread_create(&th[i], NULL, writer, (void *)i);
	ok(ht_engine_start(T.e) == 0, "engine thread started");

	uint64_t t0 = mono_ns(), w0 = atomic_load(&writes);
	int flips = 0;
	half[0] = (char *)mem;
	half[1] = (char *)mem + SIZE / 2;
	while (moved(T.e) < (cut ? GOAL / 5 : GOAL) && (mono_ns() - t0) / 1000000000ull < LIMIT_S) {
		int hot = flips & 1;
		flip(T.e, hot);
		flips++;
		/* until this half is in (or time runs out): then switch */
		for (int i = 0; i < 300 && gups_pages_on(half[hot], SIZE / 2, 0) < NPAGES / 2; i++)
			sleep_ms(100);
		tap_diag("switch %d after %.1f s: %llu pages exchanged, %llu page writes", flips, (mono_ns() - t0) / 1e9,
			 (unsigned long long)moved(T.e), (unsigned long long)(atomic_load(&writes) - w0));
	}
	if (cut) {
		alarm(300); /* a deadlock fails the test instead of hanging it */
		flip(T.e, flips++ & 1); /* an exchange in flight at the cut */
		sleep_ms(50);
		struct ht_stats s0 = { .size = sizeof(s0) };
		ht_engine_get_stats(T.e, &s0);
		ht_engine_set_quota(T.e, CUT_TO);
		uint64_t last = s0.epochs, worst = 0, worst_at = 0;
		for (int seen = 0; seen < 10;) {
			sleep_ms(5);
			struct ht_stats s1 = { .size = sizeof(s1) };
			ht_engine_get_stats(T.e, &s1);
			if (s1.epochs == last || s1.epochs < s0.epochs + 2)
				continue;
			last = s1.epochs;
			uint64_t fast = gups_pages_on(mem, SIZE, 0) * PAGE;
			if (fast > worst)
				worst = fast, worst_at = s1.epochs - s0.epochs;
			if (++seen % 3 == 0)
				flip(T.e, flips++ & 1); /* keep pages moving under the new quota */
		}
		ok(worst <= CUT_TO, "quota cut 64 -> %.1f MiB under writers and exchanges: at most %.1f MiB on node 0 "
		   "(epoch %llu after the cut) at each of 10 epochs from the second on", CUT_TO / (double)MIB,
		   worst / (double)MIB, (unsigned long long)worst_at);
	}
	ht_engine_stop(T.e);
	atomic_store(&stop, 1);
	for (int i = 0; i < WRITERS; i++)
		pthread_join(th[i], NULL);
	double dt = (mono_ns() - t0) / 1e9;

	struct ht_stats st = { .size = sizeof(st) };
	ht_engine_get_stats(T.e, &st);
	uint64_t ex = st.pages_promoted + st.pages_demoted;
	ok(ex >= (cut ? GOAL / 5 : GOAL), "%llu pages exchanged (%llu promoted, %llu demoted) in %.1f s, %d switches",
	   (unsigned long long)ex, (unsigned long long)st.pages_promoted, (unsigned long long)st.pages_demoted, dt, flips);
	ok(atomic_load(&writes) - w0 > 1000, "writers kept writing meanwhile (%llu page writes)",
	   (unsigned long long)(atomic_load(&writes) - w0));
	uint64_t bad = 0, bad_pages = 0;
	for (uint64_t p = 0; p < NPAGES; p++) {
		uint64_t b0 = bad;
		for (uint64_t k = 0; k < WORDS; k++) {
			uint64_t got = mem[p * WORDS + k], want = word(p, ver[p], k);
			for (int by = 0; by < 8; by++)
				bad += ((got >> (8 * by)) & 0xff) != ((want >> (8 * by)) & 0xff);
		}
		bad_pages += bad != b0;
	}
	is_int(bad, 0, "zero corrupt bytes over %llu MiB (%llu bad pages)", (unsigned long long)(SIZE / MIB),
	       (unsigned long long)bad_pages);
	tap_diag("failures: enoent %llu ebusy %llu enomem %llu other %llu", (unsigned long long)st.fail_enoent,
		 (unsigned long long)st.fail_ebusy, (unsigned long long)st.fail_enomem, (unsigned long long)st.fail_other);
	if (thp)
		tap_diag("AnonHugePages at the end: %ld MiB", thp_mib());
	size_t fast = gups_pages_on(mem, SIZE, 0);
	ok(fast * PAGE <= (cut ? CUT_TO : 64 * MIB), "quota held: %.1f MiB on node 0", fast * PAGE / (double)MIB);
	alarm(0);
	ht_engine_destroy(T.e);
	return tap_done();
}
