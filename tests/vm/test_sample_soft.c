/*
 * Guest test, run under LD_PRELOAD=libhypertier.so with
 * HYPERTIER_CONF=sample=software,ring_pages=1: a GUPS loop reports 1 in
 * 4093 of its accesses with ht_sample_access(), then four threads flood the
 * (deliberately small) software ring. Every reported sample must either
 * reach the classifier (ht_stats samples) or be counted lost; the software
 * source never throttles; the sampler thread's CPU time is reported.
 * The library is found with dlsym: the program does not link it.
 */
#include "tap.h"
#include "hypertier.h"
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

static int (*p_enabled)(void);
static void (*p_access)(const void *, uint32_t);
static void (*p_access2)(const void *, uint32_t, int);
static int (*p_stats)(struct ht_stats *);

#define TABLE (64ull << 20)
#define FLOOD 200000
static uint64_t *table;

static void *flood(void *arg)
{
	uintptr_t base = (uintptr_t)arg;
	for (uint64_t i = 0; i < FLOOD; i++)
		p_access2((const void *)(base + (i * 4096) % TABLE), 1, (int)(i & 1));
	return NULL;
}

static int stats(struct ht_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->size = sizeof(*st);
	return p_stats(st);
}

int main(void)
{
	struct ht_stats st;
	p_enabled = (int (*)(void))dlsym(RTLD_DEFAULT, "ht_enabled");
	p_access = (void (*)(const void *, uint32_t))dlsym(RTLD_DEFAULT, "ht_sample_access");
	p_access2 = (void (*)(const void *, uint32_t, int))dlsym(RTLD_DEFAULT, "ht_sample_access2");
	p_stats = (int (*)(struct ht_stats *))dlsym(RTLD_DEFAULT, "ht_stats");
	if (!p_enabled || !p_access || !p_access2 || !p_stats)
		tap_bail("libhypertier.so is not preloaded (ht_* symbols missing)");
	ok(p_enabled(), "runtime on in the two-node guest");

	/* GUPS: random read-modify-write, 1 in 4093 accesses reported. */
	size_t words = TABLE / sizeof(uint64_t);
	table = malloc(TABLE);
	for (size_t i = 0; i < words; i++)
		table[i] = i;
	uint64_t x = 0x9E3779B97F4A7C15ull, reported = 0, updates = 4ull << 20;
	for (uint64_t i = 0; i < updates; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		uint64_t *w = &table[x % words];
		*w ^= x;
		if (i % 4093 == 0) {
			p_access(w, 1);
			reported++;
		}
	}
	/* Until the sampler has drained them (it wakes each drain interval; 60 s = stuck). */
	for (int k = 0; k < 1200; k++) {
		stats(&st);
		if (st.samples + st.samples_lost >= reported)
			break;
		usleep(50000);
	}
	ok(st.samples >= reported - st.samples_lost && st.samples > 0,
	   "GUPS samples reached the classifier (%llu of %llu reported, %llu lost)", (unsigned long long)st.samples,
	   (unsigned long long)reported, (unsigned long long)st.samples_lost);

	/* Flood: 4 x 200000 reports as fast as possible into a 1024-entry ring. */
	pthread_t th[4];
	for (int i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, flood, table);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	reported += 4ull * FLOOD;
	/* Wait until the sampler has drained the rest (60 s = stuck, not slow). */
	for (int k = 0; k < 1200; k++) {
		stats(&st);
		if (st.samples + st.samples_lost >= reported)
			break;
		usleep(50000);
	}
	ok(st.samples_lost > 0, "a flooded ring counts lost samples (%llu)", (unsigned long long)st.samples_lost);
	is_int(st.samples + st.samples_lost, reported, "every reported sample reached the classifier or was counted lost");
	ok(st.throttle == 0 && st.unthrottle == 0, "software source: throttle/unthrottle counted and zero");
	ok(st.sampler_cpu_ns > 0, "sampler thread CPU time reported (%.1f ms)", st.sampler_cpu_ns / 1e6);
	ok(st.sample_period >= 1, "sample period reported (%llu)", (unsigned long long)st.sample_period);
	uint64_t sum = 0;
	for (size_t i = 0; i < words; i += 4096)
		sum += table[i];
	tap_diag("checksum %llx, samples %llu lost %llu cpu %.1f ms", (unsigned long long)sum,
		 (unsigned long long)st.samples, (unsigned long long)st.samples_lost, st.sampler_cpu_ns / 1e6);
	return tap_done();
}
