/*
 * gups-hotset - GUPS with a known hot set, for watching HyperTier place it.
 *
 *   HYPERTIER_CONF=sample=software,fast_quota=96M LD_PRELOAD=libhypertier.so gups-hotset
 *   gups-hotset                       (plain program: no library, same work)
 *
 * hot% of a footprint gets share% of the random updates; every period-th
 * update is reported with ht_sample_access(), as a PEBS sample would be.
 * Uses only the public API, through weak symbols: without the library the
 * calls are skipped. At the end it prints where the hot pages are.
 *
 * Options: -s MiB footprint (512), -h hot percent (10), -a share percent (90),
 *          -p sample period (4093), -t seconds (20), -m move the hot set halfway,
 *          -n node to start on (-1: first touch; 1: the slow node),
 *          -i s: every s seconds print the share of the hot set on node 0,
 *          -z theta: Zipf-skewed pages instead (rank 0 at the hot set's start;
 *             the hot set is then the top hot% of ranks),
 *          -x cmd: at the end exec /bin/sh -c cmd in the same process,
 *          -u unmodified: no API call at all (no reports, no ht_register), as
 *             a program nobody changed; sample=damon then finds the hot set.
 */
#include "gups.h"
#include "hypertier.h"
#include <time.h>

#pragma weak ht_sample_access
#pragma weak ht_register
#pragma weak ht_stats

static void report(void *arg, const void *addr)
{
	ht_sample_access(addr, 1);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double where(const struct gups *g, const char *what, size_t word)
{
	size_t bytes = g->hot_words * 8, psz = (size_t)sysconf(_SC_PAGESIZE);
	const char *start = (const char *)(((uintptr_t)&g->base[word] + psz - 1) & ~(psz - 1));
	bytes = bytes / psz * psz;
	size_t on0 = gups_pages_on(start, bytes, 0), all = bytes / psz;
	if (what)
		printf("%s hot set: %zu of %zu pages on node 0 (%.1f%%)\n", what, on0, all, 100.0 * on0 / all);
	return 100.0 * on0 / all;
}

int main(int argc, char **argv)
{
	size_t mib = 512;
	unsigned hot_pct = 10, share = 90, period = 4093, secs = 20;
	int move = 0, node = -1, plain = 0, o;
	double every = 0, theta = 0;
	const char *then = NULL;
	while ((o = getopt(argc, argv, "s:h:a:p:t:mn:ui:z:x:")) != -1) {
		switch (o) {
		case 's': mib = strtoul(optarg, NULL, 0); break;
		case 'h': hot_pct = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'a': share = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'p': period = (unsigned)strtoul(optarg, NULL, 0); break;
		case 't': secs = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'm': move = 1; break;
		case 'n': node = atoi(optarg); break;
		case 'u': plain = 1; break;
		case 'i': every = atof(optarg); break;
		case 'z': theta = atof(optarg); break;
		case 'x': then = optarg; break;
		default:
			fprintf(stderr, "usage: %s [-s MiB] [-h hot%%] [-a share%%] [-p period] [-t s] [-m] [-n node] [-u] [-i s] [-z theta] [-x cmd]\n", argv[0]);
			return 2;
		}
	}
	if (!mib || !hot_pct || hot_pct > 50 || share > 100 || !period) {
		fprintf(stderr, "%s: bad option value\n", argv[0]);
		return 2;
	}
	if (node >= 0 && (numa_available() < 0 || node > numa_max_node())) {
		fprintf(stderr, "%s: no NUMA node %d here\n", argv[0], node);
		return 2;
	}
	struct gups g = { 0 };
	g.bytes = mib << 20;
	g.words = g.bytes / 8;
	g.hot_words = g.words / 100 * hot_pct;
	g.hot_share = share;
	g.period = period;
	g.base = gups_map(g.bytes, node);
	if (!g.base) {
		perror("mmap");
		return 1;
	}
	size_t hot0 = g.words / 10 * 3 & ~(size_t)511, hot1 = g.words / 10 * 6 & ~(size_t)511;
	atomic_store(&g.hot_word, hot0);
	g.npages = g.words / 512;
	if (theta > 0 && !(g.zipf = gups_zipf(g.npages, theta))) {
		perror("zipf");
		return 1;
	}
	if (ht_sample_access && !plain)
		g.sample = report;
	if (ht_register && !plain)
		ht_register(g.base, g.bytes); /* a raw mmap: tell the runtime */
	pthread_t th;
	pthread_create(&th, NULL, gups_worker, &g);
	double t0 = now_s();
	int moved = 0;
	double next = every;
	uint64_t last_up = 0;
	while (now_s() - t0 < secs) {
		usleep(100000);
		if (every > 0 && now_s() - t0 >= next && numa_available() >= 0) {
			uint64_t up = atomic_load(&g.updates);
			printf("at %.1f s: hot set %.1f%% on node 0, %.2f M updates/s\n", now_s() - t0,
			       where(&g, NULL, atomic_load(&g.hot_word)), (up - last_up) / every / 1e6);
			fflush(stdout);
			last_up = up;
			next += every;
		}
		if (move && !moved && now_s() - t0 >= secs / 2.0) {
			if (numa_available() >= 0)
				where(&g, "first", hot0);
			atomic_store(&g.hot_word, hot1);
			moved = 1;
		}
	}
	atomic_store(&g.stop, 1);
	pthread_join(th, NULL);
	double dt = now_s() - t0;
	printf("%.1f M updates/s over %.1f s, %zu MiB, hot %u%% gets %u%%\n", atomic_load(&g.updates) / dt / 1e6, dt, mib, hot_pct, share);
	if (numa_available() >= 0 && numa_max_node() > 0) {
		where(&g, moved ? "second" : "the", moved ? hot1 : hot0);
		if (moved)
			where(&g, "first", hot0);
	}
	struct ht_stats st = { .size = sizeof(st) };
	if (ht_stats && !plain && ht_stats(&st) == 0 && st.enabled)
		printf("hypertier: %llu epochs, %llu promoted, %llu demoted, fast %llu of budget %llu MiB, hit ratio %.2f\n",
		       (unsigned long long)st.epochs, (unsigned long long)st.pages_promoted, (unsigned long long)st.pages_demoted,
		       (unsigned long long)(st.fast_used >> 20), (unsigned long long)(st.fast_budget >> 20),
		       st.located_samples ? (double)st.fast_hit_samples / st.located_samples : 0.0);
	munmap(g.base, g.bytes);
	if (then) {
		fflush(stdout);
		execl("/bin/sh", "sh", "-c", then, (char *)NULL);
		perror("exec /bin/sh");
		return 1;
	}
	return 0;
}
