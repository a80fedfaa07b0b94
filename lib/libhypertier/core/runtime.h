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
/* The live runtime, or NULL when off (one node, bad config, enable=0). */
struct ht_runtime *ht_rt(void);
#endif
