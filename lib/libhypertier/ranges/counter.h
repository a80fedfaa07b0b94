/*
 * counter.h - lock-free sample counting for the sampler thread.
 *
 * The control side publishes an immutable snapshot of the range bounds with
 * one atomic hit counter per range. Ingest finds the range by binary search
 * and adds 1 to the counter of the eighth it fell in (HT_BINS per range)
 * with a relaxed atomic: no lock, no allocation, no syscall.
 * Snapshots are replaced RCU-style: publish, flip the reader generation,
 * wait until the old generation's readers (bounded: one ingest batch) are
 * gone, then harvest the old counters and free.
 */
#ifndef HT_COUNTER_H
#define HT_COUNTER_H
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include "range.h"
#include "pages.h"

#define HT_RECENT 256 /* recent sample addresses kept for the hit-ratio estimate (a buffer size, not a policy) */

struct ht_snap {
	size_t n;
	uintptr_t *start, *end;
	uint64_t *recip;        /* 2^64 * HT_BINS / length: the eighth without a division */
	_Atomic uint64_t *bins; /* n * HT_BINS */
	uint8_t *track;         /* n: the range's pages may enter the page table (ranges/pages.h) */
};

struct ht_counter {
	_Atomic(struct ht_snap *) snap;
	_Atomic uint64_t gen;
	_Atomic uint64_t readers[2];
	_Atomic uint64_t samples, unmanaged;
	_Atomic uint64_t recent_pos;
	_Atomic uint64_t recent[HT_RECENT];
	struct ht_pages *pages; /* the page-grain layer fed with managed samples, or NULL */
};

/* Count n sample addresses (stride bytes apart, e.g. inside struct ht_sample). */
void ht_counter_ingest(struct ht_counter *c, const void *addrs, size_t stride, size_t n);
/* Move the hits of the live snapshot into v->r[i].hits and .bin_hits (v mirrors the snapshot). */
void ht_counter_harvest(struct ht_counter *c, struct ht_ranges *v);
/*
 * Build a snapshot of v and make it live; old hits are harvested into v by
 * address (into the eighths only where the bounds did not change). 0 or -ENOMEM.
 */
int ht_counter_publish(struct ht_counter *c, struct ht_ranges *v);
void ht_counter_fini(struct ht_counter *c);
/* Wait out every ingest call that started before (arg: the counter); what it read may be freed after. */
void ht_counter_sync(void *arg);
#endif
