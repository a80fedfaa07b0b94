/* link.h - the host end of the guest-agent protocol (see proto.h). */
#ifndef HC_LINK_H
#define HC_LINK_H
#include "proto.h"
#include "tier.h"
#include "demand.h"

enum { HC_MAX_NODES = 64 };

struct hc_node_info { uint64_t total, free, balloon; int present; };

struct hc_link {
	struct hc_chan ch;
	unsigned seq;
	int timeout_ms;
	uint64_t min_rate;        /* inflate bytes/s after timeout_ms of grace (0: none) */
	long pid;                 /* agent identity: pid and start time */
	uint64_t start;
	char sysctl[128];         /* "ok" or what the agent could not set */
	struct hc_node_info node[HC_MAX_NODES];
	struct hc_range *ranges;  /* HC_PROTO_MAX_RANGES, allocated once */
	struct hc_extent *ext;
};

struct hc_inflate_stats { uint64_t bytes, ranges, extents, rounds; double punch_s; };

/* Connect and say hello (fills identity and node info). */
int hc_link_open(struct hc_link *l, const char *path, int timeout_ms, char *why);
/* Take over an already connected fd (tests). */
int hc_link_open_fd(struct hc_link *l, int fd, int timeout_ms, char *why);
int hc_link_status(struct hc_link *l, char *why);
/* Grow tier t's balloon by up to bytes in chunks. 0: all done; 1: the agent
 * gave less (why says why); -1: a reply was refused or the link failed:
 * nothing of that reply was punched. */
int hc_link_inflate(struct hc_link *l, struct hc_tier *t, uint64_t bytes, uint64_t chunk,
		    struct hc_inflate_stats *st, char *why);
int hc_link_deflate(struct hc_link *l, int node, uint64_t bytes, uint64_t *released, char *why);
void hc_link_close(struct hc_link *l);
/* Ask for the guest's demand (refreshes node info too). A reply with a
 * field missing, of the wrong type or beyond HC_STATE_MAX_BYTES is refused
 * whole: -1 with why, d untouched. */
int hc_link_demand(struct hc_link *l, struct hc_demand *d, char *why);
#endif
