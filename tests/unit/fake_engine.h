/*
 * fake_engine.h - an engine on the fake actuator (fake_act.h), for the
 * engine-level tests: the conf from a string (a bad one bails out), a
 * two-node topology (fast 0, slow 1), and epoch times 500 ms apart.
 */
#ifndef HT_FAKE_ENGINE_H
#define HT_FAKE_ENGINE_H
#include "fake_act.h"
#include "plan/engine.h"
#include "tap.h"

static struct ht_topo topo(void)
{
	struct ht_topo t;
	memset(&t, 0, sizeof(t));
	t.fast = 0;
	t.slow = 1;
	t.tiered = 1;
	return t;
}

static struct ht_conf cfg(const char *s)
{
	struct ht_conf c;
	char err[256];
	ht_conf_defaults(&c);
	if (ht_conf_parse(&c, s, err, sizeof(err)))
		tap_bail(err);
	return c;
}

/* A fake actuator over [base, base+span), all slow, and an engine on it with conf (the engine copies conf and topology). */
static struct ht_engine *fake_engine(struct fake *f, struct ht_actuator *a, uintptr_t base, uint64_t span,
				     const char *conf)
{
	fake_init(f, a, base, span, 1);
	struct ht_conf c = cfg(conf);
	struct ht_topo t = topo();
	return ht_engine_create(&c, &t, a);
}

static uint64_t epoch_ns(int i) { return (uint64_t)(i + 1) * 500000000ull; }
#endif
