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
	char slow[128];    /* why the last operation missed a deadline ("": none) */
};

struct hc_state {
	uint64_t capacity[HC_NTIERS]; /* host bytes per tier for all VMs (0: unlimited) */
	uint64_t total;               /* both tiers together (0: unlimited) */
	struct hc_vmstate *vm;
	size_t n;
	int lock_fd;
};

enum { HC_STATE_MAX_FILE = 4 << 20 };   /* never read more of the file */
#define HC_STATE_MAX_BYTES (1ULL << 50) /* any size or quota (1 PiB) */

/* Load (a missing file is an empty state) and hold an exclusive lock. A
 * field of the wrong type or out of range refuses the file, naming it. */
int hc_state_load(struct hc_state *s, const char *path, char *why);
/* The validation alone, on text of n bytes (path only names it in why). */
int hc_state_parse(struct hc_state *s, const char *text, size_t n, const char *path, char *why);
/* Give up the state lock, keeping what was loaded. */
void hc_state_unlock(struct hc_state *s);
/* Lock one VM (by its QMP path) against other hostctl commands on it: the
 * state lock is not held across guest I/O, so never wait for this one while
 * holding it. Returns an fd to close to unlock, -1 if still busy after
 * timeout_ms or on error. */
int hc_vm_lock(const char *state_path, const char *qmp, int timeout_ms);
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
