/*
 * gups.h - a GUPS-style workload with a known hot set, shared by
 * examples/gups-hotset.c (public API) and the guest tests that drive the
 * engine directly. Random 8-byte read-modify-write updates: hot_share of
 * them land in a contiguous hot span (hot_pct of the footprint), the rest
 * anywhere. Every period-th update reports its address through sample(),
 * like a PEBS load sample would (1 in 4093 by default).
 */
#ifndef HT_GUPS_H
#define HT_GUPS_H
#include <numa.h>
#include <numaif.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct gups {
	uint64_t *base;
	size_t bytes, words;
	_Atomic size_t hot_word;   /* first word of the hot span (movable) */
	size_t hot_words;
	size_t hot_stride;         /* if set: the hot span is hot_words/512 single pages, one per hot_stride pages from hot_word */
	unsigned hot_share;        /* percent of updates into the hot span */
	unsigned period;           /* one sample per period updates */
	void (*sample)(void *arg, const void *addr);
	uint32_t *zipf;            /* if set: page of rank r at zipf CDF, 2^32 scale (npages entries) */
	size_t npages;
	void *arg;
	atomic_int stop;
	_Atomic uint64_t updates;
};

/* Map bytes (4 KiB pages, no THP) with every page first touched on node (-1: anywhere). */
static inline uint64_t *gups_map(size_t bytes, int node)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	madvise(p, bytes, MADV_NOHUGEPAGE);
	if (node >= 0) {
		unsigned long mask = 1ul << node;
		if (mbind(p, bytes, MPOL_BIND, &mask, sizeof(mask) * 8, 0) < 0) {
			munmap(p, bytes);
			return NULL;
		}
	}
	uint64_t *w = p;
	for (size_t i = 0; i < bytes / 8; i++)
		w[i] = i;
	if (node >= 0)
		mbind(p, bytes, MPOL_DEFAULT, NULL, 0, 0); /* later moves are free to go anywhere */
	return w;
}

/* Pages of [p, p+bytes) on node (move_pages query). */
static inline size_t gups_pages_on(const void *p, size_t bytes, int node)
{
	size_t psz = (size_t)sysconf(_SC_PAGESIZE), n = bytes / psz, hit = 0;
	enum { CH = 4096 };
	void *pages[CH];
	int st[CH];
	for (size_t i = 0; i < n; i += CH) {
		size_t k = n - i < CH ? n - i : CH;
		for (size_t j = 0; j < k; j++)
			pages[j] = (char *)p + (i + j) * psz;
		if (numa_move_pages(0, k, pages, NULL, st, 0) < 0)
			return 0;
		for (size_t j = 0; j < k; j++)
			hit += st[j] == node;
	}
	return hit;
}

/* Zipf(theta) CDF over n pages, scaled to 2^32 (NULL on failure). */
static inline uint32_t *gups_zipf(size_t n, double theta)
{
	uint32_t *c = malloc(n * sizeof(*c));
	double sum = 0, acc = 0;
	if (!c)
		return NULL;
	for (size_t i = 0; i < n; i++)
		sum += 1.0 / __builtin_pow((double)(i + 1), theta);
	for (size_t i = 0; i < n; i++) {
		acc += 1.0 / __builtin_pow((double)(i + 1), theta) / sum;
		c[i] = acc >= 1.0 ? UINT32_MAX : (uint32_t)(acc * 4294967296.0);
	}
	c[n - 1] = UINT32_MAX;
	return c;
}

static inline void *gups_worker(void *arg)
{
	struct gups *g = arg;
	uint64_t x = 0x9E3779B97F4A7C15ull ^ (uint64_t)(uintptr_t)&x;
	unsigned left = g->period;
	while (!atomic_load_explicit(&g->stop, memory_order_relaxed)) {
		size_t hot = atomic_load_explicit(&g->hot_word, memory_order_relaxed);
		for (int i = 0; i < 4096; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			size_t w;
			if (g->zipf) { /* rank by binary search of the CDF; rank 0 is the hot span's first page */
				uint32_t u = (uint32_t)(x >> 32);
				size_t lo = 0, hi = g->npages - 1;
				while (lo < hi) {
					size_t mid = (lo + hi) / 2;
					if (g->zipf[mid] < u)
						lo = mid + 1;
					else
						hi = mid;
				}
				w = ((hot / 512 + lo) % g->npages) * 512 + (x & 511);
			} else if ((x >> 32) % 100 >= g->hot_share)
				w = x % g->words;
			else if (g->hot_stride) /* scattered: a whole page of every hot_stride, finer than any range */
				w = (hot + (x % (g->hot_words / 512)) * g->hot_stride * 512 + (x >> 20 & 511)) % g->words;
			else
				w = hot + x % g->hot_words;
			g->base[w] ^= x;
			if (!--left) {
				left = g->period;
				if (g->sample)
					g->sample(g->arg, &g->base[w]);
			}
		}
		atomic_fetch_add_explicit(&g->updates, 4096, memory_order_relaxed);
	}
	return NULL;
}
#endif
