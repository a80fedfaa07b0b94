/* state.c - the state file and the rebalance rules (pure computation: the
 * command applies the result through the agents). */
#include "state.h"
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

const char *const hc_class_name[HC_NCLASSES] = { "guaranteed", "burstable", "besteffort" };

int hc_class_parse(const char *s)
{
	for (int i = 0; i < HC_NCLASSES; i++)
		if (!strcmp(s, hc_class_name[i]))
			return i;
	return -1;
}

static uint64_t u64(json_object *o, const char *k)
{
	json_object *x;
	return json_object_object_get_ex(o, k, &x) ? (uint64_t)json_object_get_int64(x) : 0;
}

static void put(json_object *o, const char *k, uint64_t v)
{
	json_object_object_add(o, k, json_object_new_int64((int64_t)v));
}

struct hc_vmstate *hc_state_find(struct hc_state *s, const char *key)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->vm[i].name, key) || !strcmp(s->vm[i].qmp, key))
			return &s->vm[i];
	return NULL;
}

struct hc_vmstate *hc_state_add(struct hc_state *s, const char *name, const char *qmp)
{
	struct hc_vmstate *v = realloc(s->vm, (s->n + 1) * sizeof(*v));
	if (!v)
		return NULL;
	s->vm = v;
	v = &s->vm[s->n++];
	memset(v, 0, sizeof(*v));
	snprintf(v->name, sizeof(v->name), "%s", name);
	snprintf(v->qmp, sizeof(v->qmp), "%s", qmp);
	v->cls = HC_BURSTABLE;
	return v;
}

int hc_state_load(struct hc_state *s, const char *path, char *why)
{
	memset(s, 0, sizeof(*s));
	s->lock_fd = -1;
	char lock[PATH_MAX + 8];
	snprintf(lock, sizeof(lock), "%s.lock", path);
	/* Create the directory on first use (/var/lib/hypertier). */
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", path);
	char *sl = strrchr(dir, '/');
	if (sl && sl != dir) {
		*sl = 0;
		mkdir(dir, 0755);
	}
	s->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (s->lock_fd < 0 || flock(s->lock_fd, LOCK_EX) < 0) {
		snprintf(why, HC_WHY, "state lock %s: %s", lock, strerror(errno));
		return -1;
	}
	if (access(path, F_OK) < 0 && errno == ENOENT)
		return 0;
	json_object *root = json_object_from_file(path), *vms, *x;
	if (!root || !json_object_is_type(root, json_type_object)) {
		snprintf(why, HC_WHY, "state file %s is not valid JSON; fix or remove it", path);
		json_object_put(root);
		return -1;
	}
	if (json_object_object_get_ex(root, "capacity", &x)) {
		s->capacity[HC_FAST] = u64(x, "fast");
		s->capacity[HC_SLOW] = u64(x, "slow");
		s->total = u64(x, "total");
	}
	if (json_object_object_get_ex(root, "vms", &vms) && json_object_is_type(vms, json_type_array))
		for (size_t i = 0; i < json_object_array_length(vms); i++) {
			json_object *e = json_object_array_get_idx(vms, i), *nm, *q, *cl, *tt;
			if (!json_object_object_get_ex(e, "name", &nm) || !json_object_object_get_ex(e, "qmp", &q))
				continue;
			struct hc_vmstate *v = hc_state_add(s, json_object_get_string(nm), json_object_get_string(q));
			if (!v) {
				json_object_put(root);
				snprintf(why, HC_WHY, "out of memory");
				return -1;
			}
			if (json_object_object_get_ex(e, "class", &cl) && hc_class_parse(json_object_get_string(cl)) >= 0)
				v->cls = hc_class_parse(json_object_get_string(cl));
			v->agent_pid = (long)u64(e, "agent_pid");
			v->agent_start = u64(e, "agent_start");
			for (int t = 0; t < HC_NTIERS; t++) {
				if (!json_object_object_get_ex(e, hc_tier_name[t], &tt))
					continue;
				struct hc_tierq *q2 = &v->t[t];
				q2->set = 1;
				q2->want = u64(tt, "want");
				q2->quota = u64(tt, "quota");
				q2->min = u64(tt, "min");
				q2->max = u64(tt, "max");
				q2->balloon = u64(tt, "balloon");
				q2->size = u64(tt, "size");
			}
		}
	json_object_put(root);
	return 0;
}

int hc_state_save(struct hc_state *s, const char *path, char *why)
{
	json_object *root = json_object_new_object(), *cap = json_object_new_object(), *vms = json_object_new_array();
	put(cap, "fast", s->capacity[HC_FAST]);
	put(cap, "slow", s->capacity[HC_SLOW]);
	put(cap, "total", s->total);
	json_object_object_add(root, "version", json_object_new_int(1));
	json_object_object_add(root, "capacity", cap);
	for (size_t i = 0; i < s->n; i++) {
		struct hc_vmstate *v = &s->vm[i];
		json_object *e = json_object_new_object();
		json_object_object_add(e, "name", json_object_new_string(v->name));
		json_object_object_add(e, "qmp", json_object_new_string(v->qmp));
		json_object_object_add(e, "class", json_object_new_string(hc_class_name[v->cls]));
		put(e, "agent_pid", (uint64_t)v->agent_pid);
		put(e, "agent_start", v->agent_start);
		for (int t = 0; t < HC_NTIERS; t++) {
			if (!v->t[t].set)
				continue;
			json_object *q = json_object_new_object();
			put(q, "want", v->t[t].want);
			put(q, "quota", v->t[t].quota);
			put(q, "min", v->t[t].min);
			put(q, "max", v->t[t].max);
			put(q, "balloon", v->t[t].balloon);
			put(q, "size", v->t[t].size);
			json_object_object_add(e, hc_tier_name[t], q);
		}
		json_object_array_add(vms, e);
	}
	json_object_object_add(root, "vms", vms);
	char tmp[PATH_MAX + 8];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	int rc = json_object_to_file_ext(tmp, root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
	json_object_put(root);
	if (rc < 0 || rename(tmp, path) < 0) {
		snprintf(why, HC_WHY, "cannot write state file %s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

void hc_state_free(struct hc_state *s)
{
	free(s->vm);
	s->vm = NULL;
	s->n = 0;
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	s->lock_fd = -1;
}

static uint64_t floor_of(const struct hc_vmstate *v, int t)
{
	return v->cls == HC_BESTEFFORT ? 0 : v->t[t].min;
}

/* Take up to need bytes of tier t from VMs of class cls, in proportion to
 * what each has above its floor, in whole pages. Returns what was taken. */
static uint64_t reclaim(struct hc_state *s, int cls, int t, uint64_t need)
{
	uint64_t room = 0, taken = 0;
	for (size_t i = 0; i < s->n; i++)
		if (s->vm[i].cls == cls && s->vm[i].t[t].set && s->vm[i].t[t].quota > floor_of(&s->vm[i], t))
			room += s->vm[i].t[t].quota - floor_of(&s->vm[i], t);
	if (!room || !need)
		return 0;
	if (need > room)
		need = room;
	for (size_t i = 0; i < s->n && taken < need; i++) {
		struct hc_vmstate *v = &s->vm[i];
		uint64_t fl = floor_of(v, t);
		if (v->cls != cls || !v->t[t].set || v->t[t].quota <= fl)
			continue;
		uint64_t r = v->t[t].quota - fl;
		/* share rounded up to a page, so the last VMs need not pick up crumbs */
		unsigned __int128 sh = (unsigned __int128)need * r / room;
		uint64_t take = ((uint64_t)sh + HC_PAGE - 1) / HC_PAGE * HC_PAGE;
		if (take > r)
			take = r;
		if (take > need - taken)
			take = need - taken;
		v->t[t].quota -= take;
		taken += take;
	}
	return taken;
}

static uint64_t sum_tier(const struct hc_state *s, int t)
{
	uint64_t n = 0;
	for (size_t i = 0; i < s->n; i++)
		if (s->vm[i].t[t].set)
			n += s->vm[i].t[t].quota;
	return n;
}

uint64_t hc_rebalance(struct hc_state *s, char *why)
{
	static const int order[HC_NCLASSES] = { HC_BESTEFFORT, HC_BURSTABLE, HC_GUARANTEED };
	static const int tiers[HC_NTIERS] = { HC_SLOW, HC_FAST };
	for (size_t i = 0; i < s->n; i++)
		for (int t = 0; t < HC_NTIERS; t++) {
			struct hc_tierq *q = &s->vm[i].t[t];
			q->quota = q->max && q->want > q->max ? q->max : q->want;
		}
	uint64_t left = 0;
	why[0] = 0;
	for (int k = 0; k < HC_NTIERS; k++) {
		int t = tiers[k];
		uint64_t sum = sum_tier(s, t);
		if (!s->capacity[t] || sum <= s->capacity[t])
			continue;
		uint64_t over = sum - s->capacity[t];
		for (int c = 0; c < HC_NCLASSES && over; c++)
			over -= reclaim(s, order[c], t, over);
		if (over)
			snprintf(why, HC_WHY, "%s tier: the VMs' floors exceed capacity by %" PRIu64 " bytes", hc_tier_name[t], over);
		left += over;
	}
	if (s->total) {
		uint64_t sum = sum_tier(s, HC_FAST) + sum_tier(s, HC_SLOW);
		uint64_t over = sum > s->total ? sum - s->total : 0;
		for (int c = 0; c < HC_NCLASSES && over; c++)
			for (int k = 0; k < HC_NTIERS && over; k++)
				over -= reclaim(s, order[c], tiers[k], over);
		if (over)
			snprintf(why, HC_WHY, "both tiers: the VMs' floors exceed the total capacity by %" PRIu64 " bytes", over);
		left += over;
	}
	return left;
}
