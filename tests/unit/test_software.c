/*
 * The software sample ring and the sampler thread over it: four producer
 * threads, every sample delivered intact exactly once, overflow counted as
 * lost (never blocking), and a sampler thread that sleeps between drains
 * with every signal blocked.
 */
#include "tap.h"
#include "source/sampler.h"
#include "source/software.h"
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>

#define PER_THREAD 200000
#define NPROD 4

/* addr encodes (producer, sequence); weight and store derive from them. */
static uint64_t enc(int p, uint64_t i) { return (uint64_t)(p + 1) << 40 | i << 6; }

struct check {
	uint64_t n, bad, dup, order;
	uint64_t next[NPROD];  /* per producer, the next sequence expected */
	uint64_t tid[NPROD];
};

static void consume(void *arg, const struct ht_sample *s, size_t n)
{
	struct check *c = arg;
	for (size_t k = 0; k < n; k++) {
		int p = (int)(s[k].addr >> 40) - 1;
		uint64_t i = (s[k].addr & ((1ull << 40) - 1)) >> 6;
		if (p < 0 || p >= NPROD || s[k].weight != (uint32_t)(i % 1000 + 1) || s[k].store != (i & 1) ||
		    !s[k].time_ns || !s[k].tid) {
			c->bad++;
			continue;
		}
		if (!c->tid[p])
			c->tid[p] = s[k].tid;
		if (c->tid[p] != s[k].tid)
			c->bad++;
		/* One producer's samples keep their order (FIFO ring); gaps = drops. */
		if (i < c->next[p])
			c->order++;
		c->next[p] = i + 1;
		c->n++;
	}
}

static _Atomic int go; /* volatile would be a data race */
static void *produce(void *arg)
{
	int p = (int)(intptr_t)arg;
	while (!atomic_load(&go))
		;
	for (uint64_t i = 0; i < PER_THREAD; i++)
		ht_software_push(enc(p, i), (uint32_t)(i % 1000 + 1), (int)(i & 1));
	return NULL;
}

/* A few samples, well inside the ring: none can be lost. */
static void *produce_few(void *arg)
{
	int p = (int)(intptr_t)arg;
	for (uint64_t i = 0; i < 100; i++)
		ht_software_push(enc(p, i), (uint32_t)(i % 1000 + 1), (int)(i & 1));
	return NULL;
}

static uint64_t now_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* SigBlk of the thread named ht-sampler, from /proc. */
static int sampler_blocks_all(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int found = 0;
	while (d && (e = readdir(d))) {
		char path[300], buf[4096];
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		int is = fgets(buf, sizeof(buf), f) && !strncmp(buf, "ht-sampler", 10);
		fclose(f);
		if (!is)
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/status", e->d_name);
		f = fopen(path, "r");
		while (f && fgets(buf, sizeof(buf), f))
			if (!strncmp(buf, "SigBlk:", 7)) {
				/* all but SIGKILL, SIGSTOP and glibc's two internal signals */
				found = strstr(buf, "fffffffe7ffbfeff") ? 1 : -1;
				if (found < 0)
					tap_diag("ht-sampler %s", buf);
			}
		if (f)
			fclose(f);
	}
	if (d)
		closedir(d);
	return found;
}

int main(void)
{
	struct ht_conf c;
	struct check ck;
	struct ht_source_stats st;
	char why[256] = "";
	pthread_t th[NPROD];

	ht_software_push(0x1000, 1, 0); /* before any source: ignored, harmless */

	ht_conf_defaults(&c);
	ht_conf_parse(&c, "sample=software,ring_pages=4,drain_interval=2ms", why, sizeof(why));
	memset(&ck, 0, sizeof(ck));
	struct ht_sampler *s = ht_sampler_create(&c, &ht_source_software, consume, &ck, why, sizeof(why));
	if (!s)
		tap_bail(why);
	char why2[256] = "";
	struct ht_sampler *s2 = ht_sampler_create(&c, &ht_source_software, consume, &ck, why2, sizeof(why2));
	ok(s2 == NULL && strstr(why2, "already running"), "a second software consumer is refused: %s", why2);

	/* Undrained: the ring fills, the rest is counted lost, producers never block. */
	go = 1;
	for (int p = 0; p < NPROD; p++)
		pthread_create(&th[p], NULL, produce, (void *)(intptr_t)p);
	for (int p = 0; p < NPROD; p++)
		pthread_join(th[p], NULL);
	ht_sampler_drain_once(s);
	ht_sampler_get_stats(s, &st, NULL);
	ok(ck.n > 0 && ck.n < (uint64_t)NPROD * PER_THREAD, "a small ring keeps only part (%llu)", (unsigned long long)ck.n);
	is_int(ck.n + st.lost, (uint64_t)NPROD * PER_THREAD, "delivered + lost = pushed");
	is_int(st.samples, ck.n, "stats count delivered samples");
	ok(ck.bad == 0 && ck.order == 0, "delivered samples intact and in per-thread order");

	/* Drained by the thread while producing: nothing lost with a big enough ring? Not
	 * guaranteed on 2 shared cores, so check only conservation and integrity. */
	memset(&ck, 0, sizeof(ck));
	uint64_t lost0 = st.lost;
	ok(ht_sampler_start(s) == 0, "sampler thread starts");
	go = 0;
	for (int p = 0; p < NPROD; p++)
		pthread_create(&th[p], NULL, produce, (void *)(intptr_t)p);
	go = 1;
	for (int p = 0; p < NPROD; p++)
		pthread_join(th[p], NULL);
	usleep(20000);
	is_int(sampler_blocks_all(), 1, "the sampler thread blocks every signal");
	ht_sampler_stop(s);
	ht_sampler_get_stats(s, &st, NULL);
	is_int(ck.n + (st.lost - lost0), (uint64_t)NPROD * PER_THREAD, "threaded drain: delivered + lost = pushed");
	ok(ck.bad == 0 && ck.order == 0, "threaded drain: intact, per-thread order");
	/* Thread ids: each producer in turn pushes a few samples (a racing
	 * producer could fill the ring and leave the others all lost above). */
	memset(&ck, 0, sizeof(ck));
	for (int p = 0; p < NPROD; p++) {
		pthread_create(&th[p], NULL, produce_few, (void *)(intptr_t)p);
		pthread_join(th[p], NULL);
		ht_sampler_drain_once(s);
	}
	int tids_ok = ck.n == NPROD * 100 && ck.bad == 0;
	for (int p = 0; p < NPROD; p++) {
		tids_ok &= ck.tid[p] != 0;
		for (int q = 0; q < p; q++)
			tids_ok &= ck.tid[p] != ck.tid[q];
	}
	ok(tids_ok, "producers' samples carry their own thread ids (%llu %llu %llu %llu, %llu samples)", (unsigned long long)ck.tid[0],
	   (unsigned long long)ck.tid[1], (unsigned long long)ck.tid[2], (unsigned long long)ck.tid[3], (unsigned long long)ck.n);

	/* Idle: the thread sleeps between drains (no busy polling): it wakes at
	 * most wall / drain_interval + 2 times, however loaded the machine is
	 * (the CPU share itself is bench/ovh/sampler-cpu's number). */
	ht_sampler_get_stats(s, &st, NULL);
	uint64_t wakes0 = st.wakes;
	ok(ht_sampler_start(s) == 0, "restarted");
	uint64_t w0 = now_ns(CLOCK_MONOTONIC);
	usleep(500000);
	ht_sampler_stop(s);
	uint64_t wall = now_ns(CLOCK_MONOTONIC) - w0;
	ht_sampler_get_stats(s, &st, NULL);
	uint64_t wakes = st.wakes - wakes0, bound = wall / (c.drain_interval * 1000) + 2;
	ok(wakes >= 1 && wakes <= bound, "idle sampler woke %llu times in %.0f ms at drain_interval 2 ms (at most %llu: it sleeps)",
	   (unsigned long long)wakes, wall / 1e6, (unsigned long long)bound);
	ht_sampler_destroy(s);

	/* After destroy, pushes are ignored, and a new consumer can start. */
	ht_software_push(0x2000, 1, 0);
	memset(&ck, 0, sizeof(ck));
	s = ht_sampler_create(&c, &ht_source_software, consume, &ck, why, sizeof(why));
	ok(s != NULL, "a new software source after destroy");
	ht_software_push(enc(0, 0), 1, 0);
	ht_sampler_drain_once(s);
	ok(ck.n == 1 && ck.bad == 0, "only the sample pushed while running arrives");
	ht_sampler_destroy(s);
	return tap_done();
}
