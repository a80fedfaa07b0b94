/* prom.h - `hostctl status --prometheus`: per-VM, per-tier gauges in the
 * Prometheus text exposition format (for node_exporter's textfile
 * collector). */
#ifndef HC_PROM_H
#define HC_PROM_H
#include <stdint.h>
#include <stdio.h>
#include "tier.h"

enum { HC_PM_QUOTA = 1, HC_PM_BALLOON = 2, HC_PM_BACKED = 4, HC_PM_FREE = 8, HC_PM_DEMAND = 16, HC_PM_SIZE = 32 };

struct hc_prom_vm {
	const char *name;
	int up;                    /* the agent answered */
	struct { uint64_t quota, balloon, backed, free, demand, size; unsigned has; } t[HC_NTIERS];
};

/* Label value escaped per the format (\\, \", \n) into b; returns b. */
const char *hc_prom_escape(const char *s, char *b, size_t n);
/* Every family once, # HELP and # TYPE first, then its samples. */
void hc_prom_write(FILE *f, const struct hc_prom_vm *v, size_t n);
#endif
