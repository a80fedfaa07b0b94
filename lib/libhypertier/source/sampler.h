/*
 * sampler.h - the sampler thread: drains one source every drain_interval
 * (it sleeps in between, never polls busily), hands batches to the
 * callback (the classifier), writes the trace when record= is set, and runs
 * the CPU-budget controller on its own thread CPU time.
 */
#ifndef HT_SAMPLER_H
#define HT_SAMPLER_H
#include "source.h"

struct ht_sampler;
struct ht_trace_writer;

/*
 * Start the source right away (PEBS/IBS events must exist before the
 * program creates threads, so call this early), but no thread yet.
 * NULL + why on failure.
 */
struct ht_sampler *ht_sampler_create(const struct ht_conf *c, const struct ht_source_ops *ops,
				     ht_sample_fn fn, void *arg, char *why, size_t whylen);
/* Spawn the thread (all signals blocked in it). 0 or -errno. */
int ht_sampler_start(struct ht_sampler *s);
/* Wake and join the thread (after one last drain). */
void ht_sampler_stop(struct ht_sampler *s);
/* Stop if running, stop the source, close the trace, free. */
void ht_sampler_destroy(struct ht_sampler *s);
/* Drain everything pending on the caller's thread (tests, bench; not while
 * the sampler thread runs); samples delivered. */
long ht_sampler_drain_once(struct ht_sampler *s);
/* Stats as of the last drain; cpu_ns: the sampler thread's CPU time. */
void ht_sampler_get_stats(struct ht_sampler *s, struct ht_source_stats *st, uint64_t *cpu_ns);
/* The trace writer (record=), or NULL. Map events go in with ht_trace_write_map. */
struct ht_trace_writer *ht_sampler_trace(struct ht_sampler *s);
/*
 * With record=: write one range-map event (now) into the trace; has the
 * signature of ht_engine_on_map's callback, arg = the sampler. A no-op
 * without record=. Stop whatever calls it before ht_sampler_destroy.
 */
void ht_sampler_record_map(void *sampler, uintptr_t start, size_t len, int unmap);
/* The source's name ("pebs", "software", ...). */
const char *ht_sampler_source_name(const struct ht_sampler *s);
/* Map events carried by the source (replay); call before ht_sampler_start. */
void ht_sampler_on_map(struct ht_sampler *s, ht_map_fn fn, void *arg);
#endif
