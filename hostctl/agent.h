/* agent.h - the guest agent's request handler; balloond.c runs the loop
 * around it, and the fuzzer drives it with a fake balloon. */
#ifndef HC_AGENT_H
#define HC_AGENT_H
#include "balloon.h"
#include "proto.h"
#include "demand.h"

struct hc_agent {
	struct hc_chan ch;
	struct hc_balloon b;
	struct hc_range *ranges;
	char sysctl[128];
	const char *stats_dir;  /* NULL: each process's own runtime directory */
	/* the demand report's reader (hc_demand_scan in the agent; NULL: not offered) */
	void (*demand)(struct hc_demand *d, const char *dir);
	long start;
	int timeout_ms;
	int verbose;
};

/* One host request; returns the reply (NULL: none is due). */
json_object *hc_agent_handle(struct hc_agent *a, json_object *m);
#endif
