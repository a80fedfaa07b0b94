/* agent.c - the guest agent's answer to one host request (see proto.h). */
#include "agent.h"
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static json_object *nodes_json(struct hc_agent *a)
{
	json_object *arr = json_object_new_array();
	for (int n = 0; n < HC_BALLOON_NODES; n++) {
		uint64_t total, freeb;
		if (hc_node_mem(n, &total, &freeb) < 0)
			continue;
		json_object *e = json_object_new_object();
		json_object_object_add(e, "node", json_object_new_int(n));
		json_object_object_add(e, "total", json_object_new_int64(total));
		json_object_object_add(e, "free", json_object_new_int64(freeb));
		json_object_object_add(e, "balloon", json_object_new_int64(a->b.size[n]));
		json_object_array_add(arr, e);
	}
	return arr;
}

static json_object *error_reply(unsigned seq, const char *why)
{
	json_object *r = hc_msg_new(seq, "error");
	json_object_object_add(r, "why", json_object_new_string(why));
	return r;
}

json_object *hc_agent_handle(struct hc_agent *a, json_object *m)
{
	uint64_t v, seq64, bytes;
	json_object *o;
	char why[HC_WHY] = "";
	if (hc_msg_u64(m, "seq", &seq64) < 0)
		return error_reply(0, "request without seq");
	unsigned seq = (unsigned)seq64;
	if (hc_msg_u64(m, "v", &v) < 0 || v != HC_PROTO_VERSION)
		return error_reply(seq, "unsupported protocol version");
	if (!json_object_object_get_ex(m, "op", &o) || !json_object_is_type(o, json_type_string))
		return error_reply(seq, "request without op");
	const char *op = json_object_get_string(o);
	int node = -1;
	if (!strcmp(op, "commit")) {
		json_object *ok;
		hc_balloon_commit(&a->b, json_object_object_get_ex(m, "ok", &ok) && json_object_get_boolean(ok));
		return NULL;
	}
	hc_balloon_commit(&a->b, 0); /* any other request: an uncommitted chunk is void */
	json_object *r = hc_msg_new(seq, op);
	if (!strcmp(op, "hello")) {
		json_object_object_add(r, "agent", json_object_new_string("hypertier-balloond"));
		json_object_object_add(r, "pid", json_object_new_int64(getpid()));
		json_object_object_add(r, "start", json_object_new_int64(a->start));
		json_object_object_add(r, "sysctl", json_object_new_string(a->sysctl));
		json_object_object_add(r, "nodes", nodes_json(a));
	} else if (!strcmp(op, "status")) {
		json_object_object_add(r, "nodes", nodes_json(a));
	} else if (!strcmp(op, "demand") && a->demand) {
		struct hc_demand d;
		a->demand(&d, a->stats_dir);
		json_object *j = json_object_new_object();
		json_object_object_add(j, "procs", json_object_new_int64(d.procs));
		json_object_object_add(j, "hot_set", json_object_new_int64(d.hot_set));
		json_object_object_add(j, "fast_budget", json_object_new_int64(d.fast_budget));
		json_object_object_add(j, "fast_used", json_object_new_int64(d.fast_used));
		json_object_object_add(r, "demand", j);
		json_object_object_add(r, "nodes", nodes_json(a));
	} else if (!strcmp(op, "inflate") || !strcmp(op, "deflate")) {
		if (hc_msg_int(m, "node", &node) < 0 || hc_msg_u64(m, "bytes", &bytes) < 0) {
			json_object_put(r);
			return error_reply(seq, "inflate/deflate needs node and bytes");
		}
		json_object_object_add(r, "node", json_object_new_int(node));
		if (op[0] == 'd') {
			json_object_object_add(r, "bytes", json_object_new_int64(hc_balloon_deflate(&a->b, node, bytes)));
		} else {
			size_t n = 0;
			if (hc_balloon_inflate(&a->b, node, bytes, a->ranges, HC_PROTO_MAX_RANGES, &n, why) < 0) {
				json_object_put(r);
				return error_reply(seq, why);
			}
			uint64_t sum = 0;
			for (size_t i = 0; i < n; i++)
				sum += a->ranges[i].len;
			json_object_object_add(r, "bytes", json_object_new_int64(sum));
			json_object_object_add(r, "ranges", hc_ranges_json(a->ranges, n));
			if (!n)
				json_object_object_add(r, "why", json_object_new_string(why));
		}
	} else {
		json_object_put(r);
		snprintf(why, sizeof(why), "unknown op %.60s", op);
		return error_reply(seq, why);
	}
	return r;
}

