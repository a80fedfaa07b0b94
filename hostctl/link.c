/* link.c - host side of the agent protocol. Every reply is read with a
 * deadline and a line bound, checked for version, sequence and op, and an
 * inflate reply is validated in full before a single page is punched. */
#include "link.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/random.h>

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int left_ms(long long end)
{
	long long l = end - hc_now_ms();
	return l > 0 ? (int)l : 0;
}

/* Send req (consumed), read the reply to it. Only hello may skip lines:
 * replies the agent wrote for an earlier, vanished host connection can sit
 * in the port; the random first seq tells them apart. */
static json_object *call(struct hc_link *l, json_object *req, const char *op, char *why)
{
	unsigned seq = l->seq;
	/* One deadline for the whole call: stale lines do not extend it. */
	long long end = hc_now_ms() + l->timeout_ms;
	int w = hc_chan_write(&l->ch, req, l->timeout_ms, why);
	json_object_put(req);
	if (w < 0)
		return NULL;
	json_object *r = NULL;
	int rr, stale = 0;
	uint64_t got;
	while ((rr = hc_chan_read(&l->ch, left_ms(end), &r, why)) == 1 && !strcmp(op, "hello") &&
	       hc_msg_u64(r, "seq", &got) == 0 && got != seq && ++stale <= 64)
		json_object_put(r);
	if (rr < 0 && stale && hc_deadline_fired() == HC_DL_NONE && !left_ms(end))
		snprintf(why, HC_WHY, "no reply within %d ms (%d stale replies skipped)", l->timeout_ms, stale);
	if (rr <= 0) {
		char w2[HC_WHY];
		snprintf(w2, sizeof(w2), "agent %s: %s", op, rr == 0 ? "closed the port" : why);
		memcpy(why, w2, HC_WHY);
		return NULL;
	}
	if (hc_msg_check(r, seq, op, why) < 0) {
		json_object_put(r);
		return NULL;
	}
	return r;
}

static json_object *req(struct hc_link *l, const char *op)
{
	return hc_msg_new(++l->seq, op);
}

static int read_nodes(struct hc_link *l, json_object *r, char *why)
{
	json_object *a;
	if (!json_object_object_get_ex(r, "nodes", &a) || !json_object_is_type(a, json_type_array) ||
	    json_object_array_length(a) > HC_MAX_NODES) {
		snprintf(why, HC_WHY, "agent reply without a valid nodes array");
		return -1;
	}
	memset(l->node, 0, sizeof(l->node));
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		json_object *e = json_object_array_get_idx(a, i);
		int n;
		struct hc_node_info ni = { .present = 1 };
		if (!json_object_is_type(e, json_type_object) || hc_msg_int(e, "node", &n) < 0 || n >= HC_MAX_NODES ||
		    hc_msg_u64(e, "total", &ni.total) < 0 || hc_msg_u64(e, "free", &ni.free) < 0 ||
		    hc_msg_u64(e, "balloon", &ni.balloon) < 0) {
			snprintf(why, HC_WHY, "agent reported a malformed node entry");
			return -1;
		}
		l->node[n] = ni;
	}
	return 0;
}

int hc_link_open_fd(struct hc_link *l, int fd, int timeout_ms, char *why)
{
	memset(l, 0, sizeof(*l));
	l->timeout_ms = timeout_ms;
	if (getrandom(&l->seq, sizeof(l->seq), 0) != sizeof(l->seq))
		l->seq = (unsigned)getpid() * 2654435761u;
	l->seq &= 0x3fffffff; /* room to count up, stays a positive JSON int */
	l->ranges = malloc(HC_PROTO_MAX_RANGES * sizeof(*l->ranges));
	l->ext = malloc((HC_PROTO_MAX_RANGES + 256) * sizeof(*l->ext));
	if (!l->ranges || !l->ext || hc_chan_init(&l->ch, fd, HC_PROTO_MAX_LINE) < 0) {
		snprintf(why, HC_WHY, "out of memory");
		close(fd);
		return -1;
	}
	json_object *r = call(l, req(l, "hello"), "hello", why), *x;
	if (!r)
		return -1;
	uint64_t pid = 0;
	hc_msg_u64(r, "pid", &pid);
	hc_msg_u64(r, "start", &l->start);
	l->pid = (long)pid;
	hc_clean(l->sysctl, sizeof(l->sysctl), json_object_object_get_ex(r, "sysctl", &x) &&
		 json_object_is_type(x, json_type_string) ? json_object_get_string(x) : "unknown");
	int rc = read_nodes(l, r, why);
	json_object_put(r);
	return rc;
}

int hc_link_open(struct hc_link *l, const char *path, int timeout_ms, char *why)
{
	char w[HC_WHY];
	int fd = hc_unix_connect_ms(path, timeout_ms, w);
	if (fd < 0) {
		memset(l, 0, sizeof(*l));
		l->ch.fd = -1;
		snprintf(why, HC_WHY, "agent port: %s", w);
		return -1;
	}
	return hc_link_open_fd(l, fd, timeout_ms, why);
}

int hc_link_status(struct hc_link *l, char *why)
{
	json_object *r = call(l, req(l, "status"), "status", why);
	if (!r)
		return -1;
	int rc = read_nodes(l, r, why);
	json_object_put(r);
	return rc;
}

static void commit(struct hc_link *l, int node, int ok)
{
	char w[HC_WHY];
	json_object *m = hc_msg_new(l->seq, "commit");
	json_object_object_add(m, "node", json_object_new_int(node));
	json_object_object_add(m, "ok", json_object_new_boolean(ok));
	hc_chan_write(&l->ch, m, l->timeout_ms, w); /* best effort: the agent releases uncommitted chunks */
	json_object_put(m);
}

int hc_link_inflate(struct hc_link *l, struct hc_tier *t, uint64_t bytes, uint64_t chunk,
		    struct hc_inflate_stats *st, char *why)
{
	memset(st, 0, sizeof(*st));
	if (chunk > (uint64_t)HC_PROTO_MAX_RANGES * HC_PAGE)
		chunk = (uint64_t)HC_PROTO_MAX_RANGES * HC_PAGE;
	bytes -= bytes % HC_PAGE;
	json_object *r = NULL, *x;
	long long t_start = hc_now_ms();
	while (st->bytes < bytes) {
		uint64_t ask = bytes - st->bytes < chunk ? bytes - st->bytes : chunk;
		/* Minimum rate: after one reply time of grace, this round must end
		 * by the time the bytes so far plus its ask would take at min_rate. */
		if (l->min_rate)
			hc_deadline_rate(t_start + l->timeout_ms + (long long)((st->bytes + ask) * 1000 / l->min_rate));
		json_object *m = req(l, "inflate");
		json_object_object_add(m, "node", json_object_new_int(t->node));
		json_object_object_add(m, "bytes", json_object_new_int64(ask));
		r = call(l, m, "inflate", why);
		if (!r) {
			hc_deadline_rate(0);
			return -1;
		}
		size_t n = 0, ne = 0;
		int node;
		if (hc_msg_int(r, "node", &node) < 0 || node != t->node) {
			snprintf(why, HC_WHY, "refused agent reply: inflate reply for another node");
			goto refuse;
		}
		if (hc_msg_ranges(r, l->ranges, HC_PROTO_MAX_RANGES, &n, why) < 0)
			goto refuse;
		if (n == 0) {
			char s[181];
			snprintf(why, HC_WHY, "agent inflated no more on node %d: %s", t->node,
				 hc_clean(s, sizeof(s), json_object_object_get_ex(r, "why", &x) && json_object_is_type(x, json_type_string) ?
					  json_object_get_string(x) : "no reason given"));
			json_object_put(r);
			hc_deadline_rate(0);
			return 1;
		}
		char w[HC_WHY];
		if (hc_tier_check(t, l->ranges, n, ask, l->ext, HC_PROTO_MAX_RANGES + 256, &ne, w) < 0) {
			snprintf(why, HC_WHY, "refused agent reply: %s", w);
			goto refuse;
		}
		json_object_put(r);
		double t0 = now_s();
		if (hc_tier_punch(t, l->ext, ne, why) < 0) {
			commit(l, t->node, 0);
			hc_deadline_rate(0);
			return -1;
		}
		st->punch_s += now_s() - t0;
		commit(l, t->node, 1);
		for (size_t i = 0; i < n; i++)
			st->bytes += l->ranges[i].len;
		st->ranges += n;
		st->extents += ne;
		st->rounds++;
	}
	hc_deadline_rate(0);
	return 0;
refuse:
	hc_deadline_rate(0);
	json_object_put(r);
	commit(l, t->node, 0);
	return -1;
}

int hc_link_deflate(struct hc_link *l, int node, uint64_t bytes, uint64_t *released, char *why)
{
	json_object *m = req(l, "deflate");
	json_object_object_add(m, "node", json_object_new_int(node));
	json_object_object_add(m, "bytes", json_object_new_int64(bytes));
	json_object *r = call(l, m, "deflate", why);
	if (!r)
		return -1;
	int n;
	uint64_t b;
	int rc = 0;
	if (hc_msg_int(r, "node", &n) < 0 || n != node || hc_msg_u64(r, "bytes", &b) < 0 || b > bytes) {
		snprintf(why, HC_WHY, "malformed deflate reply");
		rc = -1;
	} else {
		*released = b;
	}
	json_object_put(r);
	return rc;
}

void hc_link_close(struct hc_link *l)
{
	hc_chan_close(&l->ch);
	free(l->ranges);
	free(l->ext);
	l->ranges = NULL;
	l->ext = NULL;
}

int hc_link_demand(struct hc_link *l, struct hc_demand *d, char *why)
{
	json_object *r = call(l, req(l, "demand"), "demand", why), *j;
	if (!r)
		return -1;
	struct hc_demand t;
	int rc = -1;
	if (!json_object_object_get_ex(r, "demand", &j) || !json_object_is_type(j, json_type_object) ||
	    hc_msg_u64(j, "procs", &t.procs) < 0 || hc_msg_u64(j, "hot_set", &t.hot_set) < 0 ||
	    hc_msg_u64(j, "fast_budget", &t.fast_budget) < 0 || hc_msg_u64(j, "fast_used", &t.fast_used) < 0)
		snprintf(why, HC_WHY, "refused agent reply: demand without procs, hot_set, fast_budget and fast_used as integers >= 0");
	else if (t.procs > HC_DEMAND_MAX_PROCS || t.hot_set > (1ULL << 50) || t.fast_budget > (1ULL << 50) || t.fast_used > (1ULL << 50))
		snprintf(why, HC_WHY, "refused agent reply: demand out of range (over %d processes or 1 PiB)", HC_DEMAND_MAX_PROCS);
	else if ((rc = read_nodes(l, r, why)) == 0)
		*d = t;
	json_object_put(r);
	return rc;
}
