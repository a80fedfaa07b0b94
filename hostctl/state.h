/* state.h - hostctl's small state file (JSON): the VMs it manages, their
 * QoS class and per-tier grants, and the host's tier capacities. */
#ifndef HC_STATE_H
#define HC_STATE_H
#include <limits.h>
#include <stdint.h>
#include "chan.h"
#include "tier.h"

enum hc_class { HC_GUARANTEED, HC_BURSTABLE, HC_BESTEFFORT, HC_NCLASSES };
extern const char *const hc_class_name[HC_NCLASSES];

struct hc_tierq {
	uint64_t want;     /* granted by the operator (hostctl grant) */
	uint64_t quota;    /* in force after rebalance (<= want) */
	uint64_t min, max; /* floor for reclaim; ceiling for grants (0: none) */
	uint64_t balloon;  /* last balloon size the agent confirmed */
	uint64_t size;     /* tier backend size */
	int set;           /* a grant exists for this tier */
};

struct hc_vmstate {
	char name[64];
	char qmp[PATH_MAX];
	int cls;
	struct hc_tierq t[HC_NTIERS];
	long agent_pid;    /* identity of the agent that holds the balloon */
	uint64_t agent_start;
};

struct hc_state {
	uint64_t capacity[HC_NTIERS]; /* host bytes per tier for all VMs (0: unlimited) */
	uint64_t total;               /* both tiers together (0: unlimited) */
	struct hc_vmstate *vm;
	size_t n;
	int lock_fd;
};

/* Load (a missing file is an empty state) and hold an exclusive lock. */
int hc_state_load(struct hc_state *s, const char *path, char *why);
int hc_state_save(struct hc_state *s, const char *path, char *why);
void hc_state_free(struct hc_state *s);
/* By name, or by QMP path. */
struct hc_vmstate *hc_state_find(struct hc_state *s, const char *key);
struct hc_vmstate *hc_state_add(struct hc_state *s, const char *name, const char *qmp);
int hc_class_parse(const char *s);

/* Recompute every quota from the grants: start at min(want, max); while a
 * tier (or the total) is over capacity, reclaim from best-effort VMs, then
 * burstable, then guaranteed, slow tier before fast, never below a VM's
 * floor (min; best-effort VMs have none). Returns the bytes that still do
 * not fit (0: all fit), writing where in why. */
uint64_t hc_rebalance(struct hc_state *s, char *why);
#endif
