/*
 * fault.h - an actuator that wraps another and makes some of its moves
 * fail, for testing the engine's failure paths under a real program
 * (HYPERTIER_CONF fault_move=PCT). The failures are the kernel's own:
 * -ENOMEM for the whole call, or -EFAULT / -EBUSY / -ENOMEM for some of
 * its pages, which are then really not moved.
 */
#ifndef HT_ACTUATOR_FAULT_H
#define HT_ACTUATOR_FAULT_H
#include "actuator.h"

struct ht_fault_act {
	struct ht_actuator inner;
	unsigned pct;        /* percent of move calls that fail */
	uint64_t rng;        /* engine thread only */
	uint64_t calls_failed, pages_failed;
};

/* Wrap *a (already initialised) so that pct% of its move calls fail. */
void ht_actuator_fault_wrap(struct ht_actuator *a, struct ht_fault_act *f, unsigned pct, uint64_t seed);
#endif
