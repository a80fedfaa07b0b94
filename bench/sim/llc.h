/*
 * llc.h - a set-associative, LRU last-level cache model. Only what misses
 * it reaches either memory tier, and PEBS load-latency samples are mostly
 * such misses, so the simulator scores and samples LLC misses only
 * (--mode=llc). Indexed by virtual line address: the cache does not
 * depend on placement, so each workload is filtered once and every policy
 * replays the same miss stream.
 */
#ifndef HT_BENCH_LLC_H
#define HT_BENCH_LLC_H
#include <stdint.h>
#include "bench.h"

struct llc;

/* size bytes, ways per set, line bytes; NULL when they do not make a cache. */
struct llc *llc_create(uint64_t size, unsigned ways, unsigned line);
void llc_destroy(struct llc *c);
/* One access: 1 hit, 0 miss (the line is filled, evicting its set's LRU line). */
int llc_access(struct llc *c, uint64_t addr);
/* Replace w's entries by its LLC misses, with hits[] and tail_hits (in place). 0 or -1. */
int llc_filter(struct workload *w, const struct bench_opts *o, char *why, size_t whylen);
#endif
