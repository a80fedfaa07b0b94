/*
 * test_hotset.c - guest test: the engine finds a GUPS hot set and moves it
 * to node 0 with real move_pages, within the fast-tier quota; then the hot
 * set moves and the engine follows (new promoted, old demoted).
 *
 * 512 MiB start on the slow node; 10% of it gets 90% of the updates; one
 * software sample per 4093 updates. Epochs are driven here (200 ms apart)
 * so that placement can be checked with move_pages after every one.
 */
#include "engine_guest.h"

#define MIB (1ul << 20)
#define FOOT (512 * MIB)
#define QUOTA (60 * MIB)
#define PAGE 4096ul
#define MAX_EPOCHS 150

static struct tier_engine T;
static struct gups G;

struct phase { int conv, epochs; long over; size_t max_fast; double hit; };

/* Epochs until the span at hot_word is >= 90% on node 0 (and old, if given, <= 25%). */
static struct phase run_phase(size_t hot_word, const char *old_span, uint64_t *t_next)
{
	struct phase ph = { -1, 0, 0, 0, 0 };
	struct ht_stats s0 = { .size = sizeof(s0) }, s1 = { .size = sizeof(s1) };
	const char *hot = (const char *)&G.base[hot_word];
	size_t hot_pages = G.hot_words * 8 / PAGE, hot_bytes = hot_pages * PAGE;
	for (int i = 1; i <= MAX_EPOCHS; i++) {
		*t_next += T.conf.epoch * 1000;
		uint64_t now = mono_ns();
		if (*t_next > now)
			sleep_ms((unsigned)((*t_next - now) / 1000000));
		ht_engine_epoch(T.e, mono_ns());
		size_t fast = gups_pages_on(G.base, FOOT, 0);
		if (fast > ph.max_fast)
			ph.max_fast = fast;
		if (fast * PAGE > QUOTA)
			ph.over++;
		size_t on0 = gups_pages_on(hot, hot_bytes, 0);
		size_t old0 = old_span ? gups_pages_on(old_span, hot_bytes, 0) : 0;
		ph.epochs = i;
		if (i % 10 == 0 || (ph.conv < 0 && on0 * 10 >= hot_pages * 9))
			tap_diag("epoch %3d: hot %5.1f%% on node 0%s%5.1f%%, fast use %6.1f MiB", i, 100.0 * on0 / hot_pages,
				 old_span ? ", old hot " : "", old_span ? 100.0 * old0 / hot_pages : 0.0, fast * PAGE / (double)MIB);
		if (ph.conv < 0 && on0 * 10 >= hot_pages * 9 && old0 * 4 <= hot_pages) {
			ph.conv = i;
			ht_engine_get_stats(T.e, &s0);
		}
		if (ph.conv > 0 && i >= ph.conv + 5)
			break; /* a few more epochs: it must stay */
	}
	ht_engine_get_stats(T.e, &s1); /* hit ratio of the samples since convergence */
	if (s1.located_samples > s0.located_samples)
		ph.hit = (double)(s1.fast_hit_samples - s0.fast_hit_samples) / (double)(s1.located_samples - s0.located_samples);
	return ph;
}

int main(void)
{
	tier_engine_init(&T, "epoch=200ms,fast_quota=60M");
	G.bytes = FOOT;
	G.words = FOOT / 8;
	G.hot_words = G.words / 10;
	G.hot_share = 90;
	G.period = 4093;
	G.base = gups_map(FOOT, 1);
	if (!G.base)
		tap_bail("mmap/mbind of 512 MiB on node 1 failed");
	is_int(gups_pages_on(G.base, FOOT, 1), FOOT / PAGE, "all 512 MiB start on the slow node");
	size_t hot0 = G.words / 10 * 3 & ~(size_t)511, hot1 = G.words / 10 * 6 & ~(size_t)511;
	atomic_store(&G.hot_word, hot0);
	is_int(ht_engine_add_range(T.e, (uintptr_t)G.base, FOOT, HT_ORIGIN_USER), 0, "footprint registered");
	struct sink sk = { .e = T.e };
	G.sample = sink_sample;
	G.arg = &sk;
	pthread_t th;
	pthread_create(&th, NULL, gups_worker, &G);
	uint64_t t_next = mono_ns(), t0 = t_next;

	struct phase a = run_phase(hot0, NULL, &t_next);
	double dt = (mono_ns() - t0) / 1e9;
	ok(a.conv > 0, ">= 90%% of the hot pages on node 0 after %d epochs (bound %d)", a.conv, MAX_EPOCHS);
	is_int(a.over, 0, "fast use never above the 60 MiB quota (checked every epoch; max %.1f MiB)", a.max_fast * PAGE / (double)MIB);
	struct ht_stats st = { .size = sizeof(st) };
	ht_engine_get_stats(T.e, &st);
	tap_diag("phase 1: %d epochs in %.1f s, %.2f M updates/s, %llu samples (%llu unmanaged), %llu ranges", a.epochs, dt,
		 atomic_load(&G.updates) / dt / 1e6, (unsigned long long)st.samples, (unsigned long long)st.samples_unmanaged,
		 (unsigned long long)st.nr_ranges);
	tap_diag("phase 1: %llu promoted, %llu demoted, fails enoent %llu ebusy %llu enomem %llu other %llu, hit ratio %.2f",
		 (unsigned long long)st.pages_promoted, (unsigned long long)st.pages_demoted, (unsigned long long)st.fail_enoent,
		 (unsigned long long)st.fail_ebusy, (unsigned long long)st.fail_enomem, (unsigned long long)st.fail_other,
		 st.located_samples ? (double)st.fast_hit_samples / st.located_samples : 0.0);
	ok(st.fast_used <= QUOTA && st.fast_budget == QUOTA, "engine's own view: fast use %.1f MiB, budget %.1f MiB",
	   st.fast_used / (double)MIB, st.fast_budget / (double)MIB);
	uint64_t prom1 = st.pages_promoted, dem1 = st.pages_demoted;

	/* halfway: the hot set moves */
	atomic_store(&G.hot_word, hot1);
	t0 = mono_ns();
	struct phase b = run_phase(hot1, (const char *)&G.base[hot0], &t_next);
	dt = (mono_ns() - t0) / 1e9;
	ok(b.conv > 0, "moved hot set: new >= 90%% on node 0 and old <= 25%% after %d epochs", b.conv);
	is_int(b.over, 0, "quota held while exchanging (max %.1f MiB)", b.max_fast * PAGE / (double)MIB);
	ht_engine_get_stats(T.e, &st);
	ok(st.pages_demoted - dem1 >= G.hot_words * 8 / PAGE * 3 / 4 && st.pages_promoted > prom1,
	   "phase 2 exchanged pairs: %llu promoted, %llu demoted in %.1f s", (unsigned long long)(st.pages_promoted - prom1),
	   (unsigned long long)(st.pages_demoted - dem1), dt);
	ok(b.hit >= 0.8, "hit-ratio estimate once converged: %.2f (phase 1: %.2f; 90%% of updates go to the hot set)", b.hit, a.hit);
	atomic_store(&G.stop, 1);
	pthread_join(th, NULL);
	ht_engine_destroy(T.e);
	return tap_done();
}
