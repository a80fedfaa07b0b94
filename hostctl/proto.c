/* proto.c - building and checking protocol messages (host and agent). */
#include "proto.h"
#include <stdio.h>
#include <string.h>

json_object *hc_msg_new(unsigned seq, const char *op)
{
	json_object *m = json_object_new_object();
	json_object_object_add(m, "v", json_object_new_int(HC_PROTO_VERSION));
	json_object_object_add(m, "seq", json_object_new_int64(seq));
	json_object_object_add(m, "op", json_object_new_string(op));
	return m;
}

int hc_msg_u64(json_object *m, const char *key, uint64_t *v)
{
	json_object *x;
	if (!json_object_object_get_ex(m, key, &x) || !json_object_is_type(x, json_type_int))
		return -1;
	int64_t i = json_object_get_int64(x);
	if (i < 0)
		return -1;
	*v = (uint64_t)i;
	return 0;
}

int hc_msg_int(json_object *m, const char *key, int *v)
{
	uint64_t u;
	if (hc_msg_u64(m, key, &u) < 0 || u > 1 << 20)
		return -1;
	*v = (int)u;
	return 0;
}

int hc_msg_check(json_object *m, unsigned seq, const char *op, char *why)
{
	json_object *o;
	uint64_t v, s;
	if (hc_msg_u64(m, "v", &v) < 0 || v != HC_PROTO_VERSION) {
		snprintf(why, HC_WHY, "protocol version missing or not %d", HC_PROTO_VERSION);
		return -1;
	}
	if (hc_msg_u64(m, "seq", &s) < 0 || s != seq) {
		snprintf(why, HC_WHY, "reply has the wrong sequence number (want %u)", seq);
		return -1;
	}
	if (!json_object_object_get_ex(m, "op", &o) || !json_object_is_type(o, json_type_string)) {
		snprintf(why, HC_WHY, "reply without op");
		return -1;
	}
	const char *got = json_object_get_string(o);
	if (!strcmp(got, "error")) {
		json_object *w = NULL;
		json_object_object_get_ex(m, "why", &w);
		char s[201];
		snprintf(why, HC_WHY, "agent: %s", hc_clean(s, sizeof(s), w && json_object_is_type(w, json_type_string) ? json_object_get_string(w) : "error"));
		return -1;
	}
	if (strcmp(got, op)) {
		char s[41];
		snprintf(why, HC_WHY, "reply op \"%s\" to a %s request", hc_clean(s, sizeof(s), got), op);
		return -1;
	}
	return 0;
}

int hc_msg_ranges(json_object *m, struct hc_range *out, size_t max, size_t *n, char *why)
{
	json_object *a;
	if (!json_object_object_get_ex(m, "ranges", &a) || !json_object_is_type(a, json_type_array)) {
		snprintf(why, HC_WHY, "reply without a ranges array");
		return -1;
	}
	size_t cnt = json_object_array_length(a);
	if (cnt > max) {
		snprintf(why, HC_WHY, "%zu ranges in one reply (at most %zu)", cnt, max);
		return -1;
	}
	for (size_t i = 0; i < cnt; i++) {
		json_object *p = json_object_array_get_idx(a, i), *s, *l;
		if (!json_object_is_type(p, json_type_array) || json_object_array_length(p) != 2 ||
		    !json_object_is_type(s = json_object_array_get_idx(p, 0), json_type_int) ||
		    !json_object_is_type(l = json_object_array_get_idx(p, 1), json_type_int) ||
		    json_object_get_int64(s) < 0 || json_object_get_int64(l) <= 0) {
			snprintf(why, HC_WHY, "range %zu is not a [start, len] pair of positive integers", i);
			return -1;
		}
		out[i].start = json_object_get_int64(s);
		out[i].len = json_object_get_int64(l);
	}
	*n = cnt;
	return 0;
}

json_object *hc_ranges_json(const struct hc_range *r, size_t n)
{
	json_object *a = json_object_new_array_ext(n);
	for (size_t i = 0; i < n; i++) {
		json_object *p = json_object_new_array_ext(2);
		json_object_array_add(p, json_object_new_int64(r[i].start));
		json_object_array_add(p, json_object_new_int64(r[i].len));
		json_object_array_add(a, p);
	}
	return a;
}
