/*
 * test_scattered.c - guest test: hot pages scattered finer than any range
 * (one 4 KiB page in every 64, so each 2 MiB range is 1/64 hot, all alike)
 * reach node 0 one by one through the page layer, with real move_pages,
 * inside a quota that leaves no room for whole ranges; then they move to
 * other pages and the engine follows, demoting the pages gone cold.
 *
 * Ranges cannot see these pages: every range has the same density, so by
 * ranges alone the quota would hold 1/64 of them. Epochs are driven here
 * (200 ms apart) so that placement is checked after every one.
 */
#include "engine_guest.h"

#define MIB (1ul << 20)
#define FOOT (256 * MIB)
#define PAGE 4096ul
#define STRIDE 64                       /* one hot page per 64 */
#define NHOT (FOOT / PAGE / STRIDE)     /* 1024 pages, 4 MiB */
#define QUOTA (5 * MIB)     /* the hot pages and 1 MiB: old and new hot pages cannot both stay */
#define MAX_EPOCHS 120

static struct tier_engine T;
static struct gups G;

/* Hot pages (first at page first, then one per STRIDE) on node. */
static size_t hot_on(size_t first, int node)
{
	void *pages[NHOT];
	int st[NHOT];
	size_t n = 0;
	for (size_t i = 0; i < NHOT; i++)
		pages[i] = (char *)G.base + ((first + i * STRIDE) % (FOOT / PAGE)) * PAGE;
	if (numa_move_pages(0, NHOT, pages, NULL, st, 0) < 0)
		return 0;
	for (size_t i = 0; i < NHOT; i++)
		n += st[i] == node;
	return n;
}

struct phase { int conv; long over; size_t max_fast; };

/* Epochs until >= 90% of the hot pages from page first are on node 0 (and of old, if >= 0, <= 50%: the quota holds 1/4 more than the hot pages). */
static struct phase run_phase(size_t first, long old, uint64_t *t_next)
{
	struct phase ph = { -1, 0, 0 };
	for (int i = 1; i <= MAX_EPOCHS; i++) {
		*t_next += T.conf.epoch * 1000;
		uint64_t now = mono_ns();
		if (*t_next > now)
			sleep_ms((unsigned)((*t_next - now) / 1000000));
		ht_engine_epoch(T.e, mono_ns());
		size_t fast = gups_pages_on(G.base, FOOT, 0), on0 = hot_on(first, 0);
		size_t old0 = old >= 0 ? hot_on((size_t)old, 0) : 0;
		if (fast > ph.max_fast)
			ph.max_fast = fast;
		ph.over += fast * PAGE > QUOTA;
		int done = on0 * 10 >= NHOT * 9 && old0 * 2 <= NHOT;
		if (i % 10 == 0 || (ph.conv < 0 && done))
			tap_diag("epoch %3d: hot pages %5.1f%% on node 0, old %5.1f%%, fast use %5.2f MiB", i, 100.0 * on0 / NHOT,
				 100.0 * old0 / NHOT, fast * PAGE / (double)MIB);
		if (ph.conv < 0 && done)
			ph.conv = i;
		if (ph.conv > 0 && i >= ph.conv + 5) {
			if (!done) /* it must stay */
				ph.conv = -i;
			break;
		}
	}
	return ph;
}

static void diag_stats(const char *what, struct ht_stats *st)
{
	ht_engine_get_stats(T.e, st);
	tap_diag("%s: %llu samples, %llu ranges, %llu promoted, %llu demoted, page state %llu B, fails enoent %llu ebusy %llu other %llu",
		 what, (unsigned long long)st->samples, (unsigned long long)st->nr_ranges,
		 (unsigned long long)st->pages_promoted, (unsigned long long)st->pages_demoted,
		 (unsigned long long)st->page_state_bytes, (unsigned long long)st->fail_enoent,
		 (unsigned long long)st->fail_ebusy, (unsigned long long)st->fail_other);
}

int main(void)
{
	tier_engine_init(&T, "epoch=200ms,fast_quota=5M");
	G.bytes = FOOT;
	G.words = FOOT / 8;
	G.hot_words = NHOT * 512;
	G.hot_stride = STRIDE;
	G.hot_share = 90;
	G.period = 17; /* dense enough for single pages: about 10 samples per hot page per epoch */
	G.base = gups_map(FOOT, 1);
	if (!G.base)
		tap_bail("mmap/mbind of 256 MiB on node 1 failed");
	is_int(gups_pages_on(G.base, FOOT, 1), FOOT / PAGE, "all 256 MiB start on the slow node");
	is_int(ht_engine_add_range(T.e, (uintptr_t)G.base, FOOT, HT_ORIGIN_USER), 0, "footprint registered");
	struct sink sk = { .e = T.e };
	G.sample = sink_sample;
	G.arg = &sk;
	atomic_store(&G.hot_word, 0);
	pthread_t th;
	pthread_create(&th, NULL, gups_worker, &G);
	uint64_t t_next = mono_ns();

	struct phase a = run_phase(0, -1, &t_next);
	ok(a.conv > 0, ">= 90%% of the scattered hot pages on node 0 after %d epochs, and still 5 epochs later", a.conv);
	is_int(a.over, 0, "fast use never above the 5 MiB quota (max %.2f MiB)", a.max_fast * PAGE / (double)MIB);
	struct ht_stats st = { .size = sizeof(st) };
	diag_stats("phase 1", &st);
	ok(st.page_state_bytes > 0 && st.page_state_bytes * 500 <= FOOT,
	   "page state %llu B, within 0.2%% of the 256 MiB managed", (unsigned long long)st.page_state_bytes);
	/* pages moved: each hot page once, and what the ranges tried first, not churn */
	ok(st.pages_promoted <= 4 * QUOTA / PAGE, "%llu pages promoted: at most 4x the quota's pages",
	   (unsigned long long)st.pages_promoted);
	uint64_t prom1 = st.pages_promoted, dem1 = st.pages_demoted;

	/* the hot pages move half a stride on: the old ones go cold */
	atomic_store(&G.hot_word, STRIDE / 2 * 512);
	struct phase b = run_phase(STRIDE / 2, 0, &t_next);
	ok(b.conv > 0, "moved: new hot pages >= 90%% on node 0 and old <= 50%% after %d epochs", b.conv);
	is_int(b.over, 0, "quota held while exchanging (max %.2f MiB)", b.max_fast * PAGE / (double)MIB);
	diag_stats("phase 2", &st);
	ok(st.pages_demoted - dem1 >= NHOT * 3 / 4 && st.pages_promoted - prom1 >= NHOT * 3 / 4,
	   "phase 2 exchanged pages: %llu promoted, %llu demoted", (unsigned long long)(st.pages_promoted - prom1),
	   (unsigned long long)(st.pages_demoted - dem1));
	atomic_store(&G.stop, 1);
	pthread_join(th, NULL);
	ht_engine_destroy(T.e);
	return tap_done();
}
