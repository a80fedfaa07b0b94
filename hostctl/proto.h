/* proto.h - the host <-> guest-agent protocol, version 1.
 *
 * One JSON object per line, at most HC_PROTO_MAX_LINE bytes. Every host
 * request carries "v":1, a "seq" and an "op"; the agent answers with the
 * same v, seq and op (or op "error" with "why"). Requests:
 *   hello                      -> agent, pid, start, sysctl, nodes[]
 *   status                     -> nodes[]: {node, total, free, balloon}
 *   inflate {node, bytes}      -> {node, bytes, ranges:[[gpa,len],...], why?}
 *                                 (at most HC_PROTO_MAX_RANGES ranges; the
 *                                 chunk stays pinned in the guest)
 *   commit  {node, ok}         -> no reply: the host punched (ok=true) or
 *                                 refused (ok=false) the last inflate
 *   deflate {node, bytes}      -> {node, bytes}
 *   demand                     -> nodes[] as status, and demand: {procs,
 *                                 hot_set, fast_budget, fast_used} summed
 *                                 over the guest's HyperTier processes
 *                                 (an older agent answers error: no report)
 * An inflated chunk that is not committed is released by the agent. */
#ifndef HC_PROTO_H
#define HC_PROTO_H
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>
#include "chan.h"

#define HC_PROTO_VERSION 1
#define HC_PORT_NAME "org.hypertier.0"
enum {
	HC_PROTO_MAX_LINE = 1 << 20,   /* bytes per message */
	HC_PROTO_MAX_RANGES = 16384,   /* ranges per inflate reply */
	HC_PAGE = 4096,                /* balloon granule (guest base page) */
};

struct hc_range { uint64_t start, len; };

json_object *hc_msg_new(unsigned seq, const char *op);
/* Check v, seq and op of a reply; an "error" reply is reported as why. */
int hc_msg_check(json_object *m, unsigned seq, const char *op, char *why);
/* Non-negative integer member; -1 when missing or of the wrong type. */
int hc_msg_u64(json_object *m, const char *key, uint64_t *v);
int hc_msg_int(json_object *m, const char *key, int *v);
/* Decode "ranges": array of [start, len] pairs, at most max. */
int hc_msg_ranges(json_object *m, struct hc_range *out, size_t max, size_t *n, char *why);
json_object *hc_ranges_json(const struct hc_range *r, size_t n);
#endif
