/* counter.c - lock-free per-range hit counters with RCU-style snapshots. */
#include "counter.h"
#include "hypertier.h"
#include <errno.h>
#include <stdlib.h>
#include <time.h>

static long find(const struct ht_snap *s, uintptr_t a)
{
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (a < s->start[mid])
			hi = mid;
		else if (a >= s->end[mid])
			lo = mid + 1;
		else
			return (long)mid;
	}
	return -1;
}

void ht_counter_ingest(struct ht_counter *c, const void *addrs, size_t stride, size_t n)
{
	uint64_t g = atomic_load(&c->gen) & 1;
	atomic_fetch_add(&c->readers[g], 1);
	struct ht_snap *s = atomic_load(&c->snap);
	struct ht_pg_tab *pt = c->pages ? atomic_load_explicit(&c->pages->tab, memory_order_acquire) : NULL; /* sees a new table initialised */
	uint64_t miss = 0;
	uint64_t pos = atomic_fetch_add_explicit(&c->recent_pos, n, memory_order_relaxed);
	for (size_t i = 0; i < n; i++) {
		uintptr_t a = (uintptr_t)*(const uint64_t *)((const char *)addrs + i * stride);
		long k = s ? find(s, a) : -1;
		if (k < 0) {
			miss++;
			a = 0; /* no stale address in the recent ring */
		} else {
			uint64_t b = (uint64_t)(((unsigned __int128)(a - s->start[k]) * s->recip[k]) >> 64);
			atomic_fetch_add_explicit(&s->bins[(size_t)k * HT_BINS + (b < HT_BINS ? b : HT_BINS - 1)], 1,
						  memory_order_relaxed);
			if (pt)
				ht_pages_count(c->pages, pt, a, s->track[k]);
		}
		atomic_store_explicit(&c->recent[(pos + i) % HT_RECENT], a, memory_order_relaxed);
	}
	atomic_fetch_sub(&c->readers[g], 1);
	atomic_fetch_add_explicit(&c->samples, n, memory_order_relaxed);
	if (miss)
		atomic_fetch_add_explicit(&c->unmanaged, miss, memory_order_relaxed);
}

void ht_counter_harvest(struct ht_counter *c, struct ht_ranges *v)
{
	struct ht_snap *s = atomic_load(&c->snap);
	if (!s)
		return;
	for (size_t i = 0; i < s->n && i < v->n; i++)
		for (int b = 0; b < HT_BINS; b++) {
			uint64_t h = atomic_exchange_explicit(&s->bins[i * HT_BINS + b], 0, memory_order_relaxed);
			v->r[i].hits += h;
			v->r[i].bin_hits[b] += (uint32_t)h;
		}
}

static struct ht_snap *build(const struct ht_ranges *v)
{
	size_t n = v->n;
	struct ht_snap *s = malloc(sizeof(*s) + n * (3 * sizeof(uint64_t) + HT_BINS * sizeof(uint64_t) + 1) + 8);
	if (!s)
		return NULL;
	s->n = n;
	s->start = (uintptr_t *)(s + 1);
	s->end = s->start + n;
	s->recip = (uint64_t *)(s->end + n);
	s->bins = (_Atomic uint64_t *)(s->recip + n);
	s->track = (uint8_t *)(s->bins + n * HT_BINS);
	for (size_t i = 0; i < n; i++) {
		s->start[i] = v->r[i].start;
		s->end[i] = v->r[i].end;
		uint64_t len = v->r[i].end - v->r[i].start;
		/* hot as a whole, or a hint decides: its pages need no place of their own */
		s->track[i] = v->r[i].hint == HT_AUTO && v->r[i].hot_bytes < len;
		s->recip[i] = len > HT_BINS ? (uint64_t)(((unsigned __int128)HT_BINS << 64) / len) : 0;
		for (int b = 0; b < HT_BINS; b++)
			atomic_init(&s->bins[i * HT_BINS + b], 0);
	}
	return s;
}

/*
 * Wait out every reader that may still hold the old snapshot: each counter
 * must be seen at zero once after the publish (a reader counted later loads
 * the new one). Flipping first keeps new readers off the counter we wait on.
 */
void ht_counter_sync(void *arg)
{
	struct ht_counter *c = arg;
	struct timespec ts = { 0, 20000 };
	for (int k = 0; k < 2; k++) {
		uint64_t old = atomic_fetch_add(&c->gen, 1) & 1;
		while (atomic_load(&c->readers[old]))
			nanosleep(&ts, NULL);
	}
}

int ht_counter_publish(struct ht_counter *c, struct ht_ranges *v)
{
	struct ht_snap *s = build(v);
	int rc = s ? 0 : -ENOMEM; /* no memory: count nothing rather than into wrong ranges */
	struct ht_snap *old = atomic_exchange(&c->snap, s);
	ht_counter_sync(c);
	if (old) { /* samples that raced the swap: credit them by address */
		for (size_t i = 0; i < old->n; i++) {
			uint64_t h = 0, hb[HT_BINS];
			for (int b = 0; b < HT_BINS; b++)
				h += hb[b] = atomic_load(&old->bins[i * HT_BINS + b]);
			long k = h ? ht_ranges_find(v, old->start[i]) : -1;
			if (k < 0)
				continue;
			v->r[k].hits += h;
			if (v->r[k].start == old->start[i] && v->r[k].end == old->end[i])
				for (int b = 0; b < HT_BINS; b++)
					v->r[k].bin_hits[b] += (uint32_t)hb[b];
		}
		free(old);
	}
	return rc;
}

void ht_counter_fini(struct ht_counter *c)
{
	free(atomic_exchange(&c->snap, NULL));
}
