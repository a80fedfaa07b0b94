/*
 * malloc_mt.c - a multi-threaded allocation benchmark for the preload's
 * CPU cost: THREADS threads (default 8), each OPS operations (default 2 M)
 * over its own 4096 slots with the whole malloc family (malloc, calloc,
 * realloc, posix_memalign, aligned_alloc, free; 16 B .. 64 KiB, some
 * 256 KiB .. 1 MiB). One block in 8 is freed by the next thread (a
 * mailbox per thread), not the one that made it. Prints
 * "user_s sys_s wall_s madvise_calls" of the whole process (getrusage).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "clock.h"

/*
 * The allocator's madvise calls: jemalloc calls libc's madvise through its
 * PLT, which finds this one (the program is linked -rdynamic). glibc's own
 * malloc uses an internal copy, so "no preload" counts 0.
 */
static atomic_long nmadvise;
int madvise(void *addr, size_t len, int advice)
{
	atomic_fetch_add_explicit(&nmadvise, 1, memory_order_relaxed);
	return (int)syscall(SYS_madvise, addr, len, advice);
}

enum { SLOTS = 4096, BOX = 1024 };

struct box {
	pthread_mutex_t lock;
	void *p[BOX];
	int n;
};

static struct box *boxes;
static int nthreads;
static long ops;

/* Hand p to thread `to` to free; a full mailbox is freed here instead. */
static void give(int to, void *p)
{
	struct box *b = &boxes[to];
	pthread_mutex_lock(&b->lock);
	if (b->n < BOX) {
		b->p[b->n++] = p;
		p = NULL;
	}
	pthread_mutex_unlock(&b->lock);
	free(p);
}

static void drain(int self)
{
	struct box *b = &boxes[self];
	void *p[BOX];
	pthread_mutex_lock(&b->lock);
	int n = b->n;
	memcpy(p, b->p, n * sizeof(*p));
	b->n = 0;
	pthread_mutex_unlock(&b->lock);
	for (int i = 0; i < n; i++)
		free(p[i]);
}

static void *worker(void *arg)
{
	int self = (int)(intptr_t)arg, next = (self + 1) % nthreads;
	void **slot = calloc(SLOTS, sizeof(*slot));
	uint64_t r = 0x9e3779b97f4a7c15ULL * (uint64_t)(self + 1);
	for (long i = 0; i < ops; i++) {
		r ^= r << 13, r ^= r >> 7, r ^= r << 17;
		size_t k = r % SLOTS, pick = (r >> 16) % 100;
		size_t sz = pick < 90 ? 16 + (r >> 32) % 512 : pick < 99 ? 16 + (r >> 32) % 65536
									  : (256u << 10) + (r >> 32) % (768u << 10);
		void *p = slot[k];
		if (p && (r >> 40) % 8 == 0) {
			give(next, p);
			p = NULL;
		}
		switch ((r >> 44) % 6) {
		case 0: free(p); p = malloc(sz); break;
		case 1: free(p); p = calloc(1, sz); break;
		case 2: p = realloc(p, sz); break;
		case 3: free(p); if (posix_memalign(&p, 64, sz)) p = NULL; break;
		case 4: free(p); p = aligned_alloc(4096, (sz + 4095) & ~(size_t)4095); break;
		default: free(p); p = NULL; break;
		}
		if (p)
			((char *)p)[0] = (char)i;
		slot[k] = p;
		if (i % 256 == 0)
			drain(self);
	}
	for (size_t k = 0; k < SLOTS; k++)
		free(slot[k]);
	free(slot);
	return NULL;
}

int main(int argc, char **argv)
{
	nthreads = argc > 1 ? atoi(argv[1]) : 8;
	ops = argc > 2 ? atol(argv[2]) : 2000000;
	if (nthreads < 1 || ops < 1)
		return 2;
	boxes = calloc(nthreads, sizeof(*boxes));
	pthread_t *t = calloc(nthreads, sizeof(*t));
	for (int i = 0; i < nthreads; i++)
		pthread_mutex_init(&boxes[i].lock, NULL);
	uint64_t t0 = wall_ns();
	for (int i = 0; i < nthreads; i++)
		pthread_create(&t[i], NULL, worker, (void *)(intptr_t)i);
	for (int i = 0; i < nthreads; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < nthreads; i++)
		drain(i);
	double wall = (wall_ns() - t0) / 1e9;
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("%.3f %.3f %.3f %ld\n", ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6,
	       ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6, wall, atomic_load(&nmadvise));
	return 0;
}
