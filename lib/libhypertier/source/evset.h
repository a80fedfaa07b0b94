/*
 * evset.h - a set of sampling events opened on every CPU for this process,
 * one mmap ring per CPU (the other events of that CPU write into it through
 * PERF_EVENT_IOC_SET_OUTPUT). Shared by the PEBS and IBS sources.
 *
 * pid = 0 with inherit=1 follows every thread created after the open (pid
 * without inherit sees one thread only; the Memtis pitfall), so the runtime
 * opens the set before the program starts threads.
 */
#ifndef HT_EVSET_H
#define HT_EVSET_H
#include <linux/perf_event.h>
#include <sys/types.h>
#include "perf_ring.h"

struct ht_evset {
	int ncpu, nev;
	int *fd;              /* [cpu * nev + e], -1 where the CPU is offline */
	uint64_t *id;         /* kernel event ids, same index (children report the parent's) */
	struct ht_ring *ring; /* [cpu]; base NULL where offline */
	size_t maplen;
	int cur_cpu;          /* CPU being read, for ht_evset_which() */
	int skipped;          /* CPUs that refused the events (hybrid parts) */
	int precise[8];       /* precise_ip the kernel accepted, per event */
};

/*
 * Open nev events (attrs: type/config/period/sample_type set by the caller;
 * precise_ip is tried from the given value down to 0; PERF_SAMPLE_IDENTIFIER
 * is added so samples name their event). Returns 0 or -errno with why.
 */
int ht_evset_open(struct ht_evset *es, const struct perf_event_attr *attrs, int nev, pid_t pid,
		  uint64_t ring_pages, char *why, size_t whylen);
/* Read every CPU's ring; see ht_ring_read. */
long ht_evset_read(struct ht_evset *es, ht_ring_fn fn, void *arg, struct ht_source_stats *st);
/* Index of the event a sample read by ht_evset_read came from, or -1. */
int ht_evset_which(const struct ht_evset *es, uint64_t id);
/* PERF_EVENT_IOC_PERIOD on event e on every CPU. The kernel applies it to the
 * opened events and threads created later; running inherited children keep
 * the period they started with. Returns 0 or -errno. */
int ht_evset_period(struct ht_evset *es, int e, uint64_t period);
/* Records copied out because they wrapped the ring end (all CPUs). */
uint64_t ht_evset_wrapped(const struct ht_evset *es);
void ht_evset_close(struct ht_evset *es);
#endif
