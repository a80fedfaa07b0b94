/* demand.h - what the guest says its HyperTier processes need of the fast
 * tier (the "demand" request of proto.h), summed over the processes. */
#ifndef HC_DEMAND_H
#define HC_DEMAND_H
#include <stdint.h>

enum { HC_DEMAND_MAX_PROCS = 1 << 16 }; /* processes the agent reads, and the host accepts */

struct hc_demand {
	uint64_t procs;       /* HyperTier processes with a readable stats file */
	uint64_t hot_set;     /* sum of hot_set_bytes */
	uint64_t fast_budget; /* sum of fast_budget */
	uint64_t fast_used;   /* sum of fast_used */
};

/* Guest side: read every process's stats file, in dir (NULL: the owner's
 * runtime directory, as htstat finds it). */
void hc_demand_scan(struct hc_demand *d, const char *dir);
#endif
