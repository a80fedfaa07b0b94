/* Guest side of the guest-agent protocol: input is the host's request
 * stream, read line by line as hypertier-balloond does and answered by
 * hc_agent_handle over a fake balloon (no page is pinned, no sysfs read).
 * Every reply must serialize to one JSON object line. */
#include "fuzz.h"
#include "agent.h"
#include <string.h>

/* The fake balloon: the contract of balloon.h, memory only. */
static uint64_t pending;
int hc_node_mem(int node, uint64_t *total, uint64_t *free)
{
	if (node < 0 || node > 1)
		return -1;
	*total = 1ull << 30;
	*free = 1ull << 29;
	return 0;
}
int hc_balloon_inflate(struct hc_balloon *b, int node, uint64_t bytes, struct hc_range *out, size_t max, size_t *n,
		       char *why)
{
	uint64_t tot, fr;
	*n = 0;
	if (node < 0 || node >= HC_BALLOON_NODES || hc_node_mem(node, &tot, &fr) < 0) {
		snprintf(why, HC_WHY, "node %d has no memory", node);
		return 0;
	}
	pending = 0;
	for (uint64_t left = bytes / HC_PAGE; left && *n < max && *n < 4; left--)
		out[(*n)++] = (struct hc_range){ (1ull << 32) + (uint64_t)*n * 2 * HC_PAGE, HC_PAGE };
	pending = *n * HC_PAGE;
	b->pending_node = node;
	return 0;
}
void hc_balloon_commit(struct hc_balloon *b, int ok)
{
	if (ok && pending && b->pending_node >= 0)
		b->size[b->pending_node] += pending;
	pending = 0;
	b->pending_node = -1;
}
uint64_t hc_balloon_deflate(struct hc_balloon *b, int node, uint64_t bytes)
{
	if (node < 0 || node >= HC_BALLOON_NODES)
		return 0;
	uint64_t d = bytes < b->size[node] ? bytes : b->size[node];
	b->size[node] -= d;
	return d;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct hc_range ranges[HC_PROTO_MAX_RANGES];
	struct hc_agent a = { .ranges = ranges, .timeout_ms = 1000, .sysctl = "ok" };
	char why[HC_WHY];
	int peer, fd = fuzz_peer(data, size, &peer);
	a.b.pending_node = -1;
	if (fd < 0 || hc_chan_init(&a.ch, fd, 64 << 10) < 0)
		return 0;
	for (;;) {
		json_object *m = NULL, *back;
		int r = hc_chan_read(&a.ch, a.timeout_ms, &m, why);
		if (r == 0 || a.ch.broken)
			break;
		if (r < 0)
			continue; /* a malformed line: the agent skips it */
		json_object *reply = hc_agent_handle(&a, m);
		json_object_put(m);
		if (!reply)
			continue;
		size_t n;
		const char *s = json_object_to_json_string_length(reply, JSON_C_TO_STRING_PLAIN, &n);
		FUZZ_ASSERT(s && !memchr(s, '\n', n) && (back = json_tokener_parse(s)) &&
			    json_object_is_type(back, json_type_object));
		json_object_put(back);
		json_object_put(reply);
	}
	hc_chan_close(&a.ch);
	close(peer);
	return 0;
}
