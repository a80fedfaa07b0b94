/*
 * runtime.h - the one process-wide runtime object that wires the pipeline:
 * source (sampler thread) -> ranges (classifier) -> plan (exchange) -> actuator.
 * It is the only global in the library; every stage takes its context as an
 * argument so tests and bench/ can build their own.
 */
#ifndef HT_RUNTIME_H
#define HT_RUNTIME_H
#include "conf.h"
#include "topo.h"

struct ht_runtime;
/* Start from HYPERTIER_CONF (constructor). Never fails the host program. */
void ht_runtime_init(void);
void ht_runtime_fini(void);
/* Before exec: stop the runtime if it is on and this is its process (not a vfork child). */
void ht_runtime_before_exec(void);
/* The live runtime, or NULL when off (one node, bad config, enable=0). */
struct ht_runtime *ht_rt(void);

/* For the public API (core/api.c): borrow the live runtime (starting it on
 * first use), NULL when off; shutdown waits until it is put back. */
struct ht_runtime *ht_rt_get(void);
void ht_rt_put(struct ht_runtime *r);
struct ht_engine *ht_rt_engine(struct ht_runtime *r);
struct ht_alloc *ht_rt_alloc(struct ht_runtime *r);
const struct ht_conf *ht_rt_conf(struct ht_runtime *r);
/* Engine + sampler + allocator numbers (r NULL: the "off" answer). */
struct ht_stats;
void ht_rt_fill_stats(struct ht_runtime *r, struct ht_stats *st);
#endif
