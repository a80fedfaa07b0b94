/* agent.h - the guest agent's request handler; balloond.c runs the loop
 * around it, and the fuzzer drives it with a fake balloon. */
#ifndef HC_AGENT_H
#define HC_AGENT_H
#include "balloon.h"
#include "proto.h"

struct hc_agent {
	struct hc_chan ch;
	struct hc_balloon b;
	struct hc_range *ranges;
	char sysctl[128];
	long start;
	int timeout_ms;
	int verbose;
};

/* One host request; returns the reply (NULL: none is due). */
json_object *hc_agent_handle(struct hc_agent *a, json_object *m);
#endif
