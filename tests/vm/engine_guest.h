/*
 * engine_guest.h - what the engine guest tests share: the real engine on
 * the numa actuator, built from a HYPERTIER_CONF-style string, and a sample
 * sink that batches GUPS samples into ht_engine_ingest.
 */
#ifndef HT_ENGINE_GUEST_H
#define HT_ENGINE_GUEST_H
#include <time.h>
#include "gups.h"
#include "plan/engine.h"
#include "tap.h"

struct tier_engine {
	struct ht_conf conf;
	struct ht_topo topo;
	struct ht_actuator act;
	struct ht_engine *e;
};

/* Bail out unless the guest really has a fast node 0 and a slow node 1. */
static void tier_engine_init(struct tier_engine *t, const char *conf)
{
	char err[256];
	if (numa_available() < 0 || numa_max_node() < 1)
		tap_bail("needs the two-node guest (tests/vm/run-guest)");
	ht_conf_defaults(&t->conf);
	if (ht_conf_parse(&t->conf, conf, err, sizeof(err)))
		tap_bail(err);
	if (ht_topo_discover(&t->topo, &t->conf) < 0 || !t->topo.tiered || t->topo.fast != 0 || t->topo.slow != 1)
		tap_bail("tier discovery did not find fast node 0 and slow node 1");
	ht_actuator_numa_init(&t->act);
	t->e = ht_engine_create(&t->conf, &t->topo, &t->act);
	if (!t->e)
		tap_bail("ht_engine_create failed");
}

static inline uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };
	nanosleep(&ts, NULL);
}

/* GUPS sample sink: one producer thread, batches of 64 into the engine. */
struct sink {
	struct ht_engine *e;
	struct ht_sample buf[64];
	size_t n;
};

static inline void sink_sample(void *arg, const void *addr)
{
	struct sink *s = arg;
	s->buf[s->n].addr = (uint64_t)(uintptr_t)addr;
	s->buf[s->n].weight = 1;
	s->buf[s->n].time_ns = 0;
	if (++s->n == 64) {
		ht_engine_ingest(s->e, s->buf, s->n);
		s->n = 0;
	}
}
#endif
