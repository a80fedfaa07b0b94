/*
 * software.c - the software source and its ring.
 *
 * A bounded multi-producer queue after D. Vyukov: each cell carries a
 * sequence number; a producer claims a position with one CAS on the enqueue
 * counter, fills the cell and publishes it by storing seq = pos + 1
 * (release). The single consumer takes cells whose seq says "full" and hands
 * them back with seq = pos + capacity. A full ring drops the sample and
 * counts it, so producers never wait on the sampler.
 */
#include "software.h"
#include "source.h"
#include "batch.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

struct sw_cell {
	uint64_t seq;
	uint64_t addr, time_ns;
	uint32_t tid, weight_store; /* weight << 1 | store */
};

static struct {
	struct sw_cell *cells;  /* allocated once, never freed: producers may hold it */
	uint64_t mask;
	int active;
	uint64_t enq __attribute__((aligned(64)));
	uint64_t lost __attribute__((aligned(64)));
	uint64_t deq __attribute__((aligned(64))); /* consumer only */
} sw;

static __thread uint32_t my_tid __attribute__((tls_model("initial-exec")));

void ht_software_push(uint64_t addr, uint32_t weight, int store)
{
	struct sw_cell *cells = __atomic_load_n(&sw.cells, __ATOMIC_ACQUIRE), *c;
	if (!cells || !__atomic_load_n(&sw.active, __ATOMIC_RELAXED))
		return;
	uint64_t pos = __atomic_load_n(&sw.enq, __ATOMIC_RELAXED);
	for (;;) {
		c = &cells[pos & sw.mask];
		uint64_t seq = __atomic_load_n(&c->seq, __ATOMIC_ACQUIRE);
		int64_t dif = (int64_t)(seq - pos);
		if (dif == 0) {
			if (__atomic_compare_exchange_n(&sw.enq, &pos, pos + 1, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
				break;
		} else if (dif < 0) {
			__atomic_fetch_add(&sw.lost, 1, __ATOMIC_RELAXED);
			return;
		} else {
			pos = __atomic_load_n(&sw.enq, __ATOMIC_RELAXED);
		}
	}
	struct timespec ts;
	/* The coarse clock reads memory only (vDSO): ~17 ns here against ~90 ns
	 * for CLOCK_MONOTONIC, whose rdtsc traps in this VM. Same timebase,
	 * tick resolution (1-4 ms): finer than any classifier epoch. */
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	if (!my_tid)
		my_tid = (uint32_t)syscall(SYS_gettid); /* once per thread */
	c->addr = addr;
	c->time_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	c->tid = my_tid;
	c->weight_store = (weight ? (weight > 0x7fffffff ? 0x7fffffff : weight) : 1) << 1 | (store != 0);
	__atomic_store_n(&c->seq, pos + 1, __ATOMIC_RELEASE);
}

static int sw_probe(const struct ht_conf *c, char *why, size_t whylen) { return 0; }

/* Capacity: ring_pages pages per CPU, as for the perf rings. Sized on the
 * first start only (the cells can never be freed while producers run). */
static int sw_start(struct ht_source *s, char *why, size_t whylen)
{
	if (__atomic_load_n(&sw.active, __ATOMIC_ACQUIRE)) {
		snprintf(why, whylen, "the software source is already running in this process");
		return -EBUSY;
	}
	if (!sw.cells) {
		long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		uint64_t want = (uint64_t)s->conf->ring_pages * (uint64_t)sysconf(_SC_PAGESIZE) /
				sizeof(struct sw_cell) * (uint64_t)(ncpu > 0 ? ncpu : 1), cap = 1024;
		while (cap < want)
			cap <<= 1;
		struct sw_cell *cells = malloc(cap * sizeof(*cells));
		if (!cells) {
			snprintf(why, whylen, "out of memory for a %llu-entry software ring", (unsigned long long)cap);
			return -ENOMEM;
		}
		for (uint64_t i = 0; i < cap; i++)
			cells[i].seq = i;
		sw.mask = cap - 1;
		sw.enq = sw.deq = 0;
		__atomic_store_n(&sw.cells, cells, __ATOMIC_RELEASE);
	}
	/* Discard what a previous consumer left (no producer runs while inactive). */
	for (struct sw_cell *c; (c = &sw.cells[sw.deq & sw.mask])->seq == sw.deq + 1; sw.deq++)
		__atomic_store_n(&c->seq, sw.deq + sw.mask + 1, __ATOMIC_RELEASE);
	__atomic_store_n(&sw.lost, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&sw.active, 1, __ATOMIC_RELEASE);
	s->stats.period = 1;
	return 0;
}

static void sw_stop(struct ht_source *s)
{
	__atomic_store_n(&sw.active, 0, __ATOMIC_RELEASE);
}

static long sw_drain(struct ht_source *s, ht_sample_fn fn, void *arg)
{
	struct ht_batch local, *b = &local;
	long n = 0;
	uint64_t pos = sw.deq;
	if (!sw.cells)
		return 0;
	ht_batch_begin(b, fn, arg);
	for (;;) {
		struct sw_cell *c = &sw.cells[pos & sw.mask];
		if (__atomic_load_n(&c->seq, __ATOMIC_ACQUIRE) != pos + 1)
			break;
		struct ht_sample *o = ht_batch_next(b);
		memset(o, 0, sizeof(*o));
		o->addr = c->addr;
		o->time_ns = c->time_ns;
		o->tid = c->tid;
		o->weight = c->weight_store >> 1;
		o->store = c->weight_store & 1;
		__atomic_store_n(&c->seq, pos + sw.mask + 1, __ATOMIC_RELEASE);
		pos++;
		n++;
	}
	sw.deq = pos;
	ht_batch_flush(b);
	s->stats.samples += (uint64_t)n;
	s->stats.lost += __atomic_exchange_n(&sw.lost, 0, __ATOMIC_RELAXED);
	return n;
}

const struct ht_source_ops ht_source_software = { .name = "software", .probe = sw_probe, .start = sw_start,
						  .stop = sw_stop, .drain = sw_drain };
