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
	if (!s)
		return -1;
	for (int i = 0; i < HC_NCLASSES; i++)
		if (!strcmp(s, hc_class_name[i]))
			return i;
	return -1;
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

/* What a bad file is refused with: the field's name and what is wrong. */
struct vctx { const char *path; char *why; };

static int bad(struct vctx *c, const char *field, const char *what)
{
	snprintf(c->why, HC_WHY, "state file %s: %s %s; fix or remove it", c->path, field, what);
	return -1;
}

/* Optional byte count: a non-negative integer up to max. */
static int get_u64(struct vctx *c, json_object *o, const char *pre, const char *k, uint64_t max, uint64_t *v)
{
	json_object *x;
	char f[128];
	*v = 0;
	if (!json_object_object_get_ex(o, k, &x))
		return 0;
	snprintf(f, sizeof(f), "%s%s", pre, k);
	if (!json_object_is_type(x, json_type_int))
		return bad(c, f, "is not an integer");
	int64_t i = json_object_get_int64(x);
	if (i < 0 || (uint64_t)i > max)
		return bad(c, f, "is out of range");
	*v = (uint64_t)i;
	return 0;
}

/* Required (or optional, if def) string of at most max - 1 printable bytes. */
static int get_str(struct vctx *c, json_object *o, const char *pre, const char *k, const char *def, char *dst, size_t max)
{
	json_object *x;
	char f[128];
	snprintf(f, sizeof(f), "%s%s", pre, k);
	if (!json_object_object_get_ex(o, k, &x)) {
		if (!def)
			return bad(c, f, "is missing");
		snprintf(dst, max, "%s", def);
		return 0;
	}
	if (!json_object_is_type(x, json_type_string))
		return bad(c, f, "is not a string");
	const char *s = json_object_get_string(x);
	size_t len = (size_t)json_object_get_string_len(x);
	if (len >= max || strlen(s) != len)
		return bad(c, f, "is too long");
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return bad(c, f, "has a control character");
	snprintf(dst, max, "%s", s);
	return 0;
}

static int load_vm(struct vctx *c, struct hc_state *s, json_object *e, size_t i)
{
	char pre[64], name[64], qmp[PATH_MAX], cls[32], f[96];
	snprintf(pre, sizeof(pre), "vms[%zu]", i);
	if (!json_object_is_type(e, json_type_object))
		return bad(c, pre, "is not an object");
	strcat(pre, ".");
	uint64_t pid, start;
	if (get_str(c, e, pre, "name", NULL, name, sizeof(name)) < 0 || get_str(c, e, pre, "qmp", NULL, qmp, sizeof(qmp)) < 0 ||
	    get_str(c, e, pre, "class", "burstable", cls, sizeof(cls)) < 0 ||
	    get_u64(c, e, pre, "agent_pid", INT32_MAX, &pid) < 0 || get_u64(c, e, pre, "agent_start", INT64_MAX, &start) < 0)
		return -1;
	if (!name[0] || hc_state_find(s, name))
		return bad(c, strcat(pre, "name"), name[0] ? "is a duplicate" : "is empty");
	int k = hc_class_parse(cls);
	if (k < 0)
		return bad(c, strcat(pre, "class"), "is not guaranteed, burstable or besteffort");
	struct hc_vmstate *v = hc_state_add(s, name, qmp);
	if (!v)
		return bad(c, pre, "does not fit in memory");
	v->cls = k;
	v->agent_pid = (long)pid;
	v->agent_start = start;
	if (get_str(c, e, pre, "agent_slow", "", v->slow, sizeof(v->slow)) < 0)
		return -1;
	for (int t = 0; t < HC_NTIERS; t++) {
		json_object *tt;
		if (!json_object_object_get_ex(e, hc_tier_name[t], &tt))
			continue;
		snprintf(f, sizeof(f), "%s%s", pre, hc_tier_name[t]);
		if (!json_object_is_type(tt, json_type_object))
			return bad(c, f, "is not an object");
		strcat(f, ".");
		struct hc_tierq *q = &v->t[t];
		q->set = 1;
		if (get_u64(c, tt, f, "want", HC_STATE_MAX_BYTES, &q->want) < 0 ||
		    get_u64(c, tt, f, "quota", HC_STATE_MAX_BYTES, &q->quota) < 0 ||
		    get_u64(c, tt, f, "min", HC_STATE_MAX_BYTES, &q->min) < 0 ||
		    get_u64(c, tt, f, "max", HC_STATE_MAX_BYTES, &q->max) < 0 ||
		    get_u64(c, tt, f, "balloon", HC_STATE_MAX_BYTES, &q->balloon) < 0 ||
		    get_u64(c, tt, f, "size", HC_STATE_MAX_BYTES, &q->size) < 0)
			return -1;
	}
	return 0;
}

int hc_state_parse(struct hc_state *s, const char *text, size_t n, const char *path, char *why)
{
	struct vctx c = { path, why };
	json_object *root = NULL, *vms, *x;
	uint64_t ver;
	struct json_tokener *tok = json_tokener_new_ex(8);
	if (tok && strlen(text) == n && hc_json_cost(text, n) <= 16 * (size_t)HC_STATE_MAX_FILE)
		root = json_tokener_parse_ex(tok, text, (int)n);
	if (tok && root && (json_tokener_get_error(tok) != json_tokener_success || json_tokener_get_parse_end(tok) < n)) {
		/* trailing bytes: only whitespace may follow the object */
		size_t e = json_tokener_get_parse_end(tok);
		while (e < n && strchr(" \t\r\n", text[e]))
			e++;
		if (json_tokener_get_error(tok) != json_tokener_success || e < n) {
			json_object_put(root);
			root = NULL;
		}
	}
	json_tokener_free(tok);
	int rc = -1;
	if (!root || !json_object_is_type(root, json_type_object)) {
		snprintf(why, HC_WHY, "state file %s is not valid JSON; fix or remove it", path);
		goto out;
	}
	if (get_u64(&c, root, "", "version", 1, &ver) < 0)
		goto out;
	if (json_object_object_get_ex(root, "capacity", &x)) {
		if (!json_object_is_type(x, json_type_object)) {
			bad(&c, "capacity", "is not an object");
			goto out;
		}
		if (get_u64(&c, x, "capacity.", "fast", HC_STATE_MAX_BYTES, &s->capacity[HC_FAST]) < 0 ||
		    get_u64(&c, x, "capacity.", "slow", HC_STATE_MAX_BYTES, &s->capacity[HC_SLOW]) < 0 ||
		    get_u64(&c, x, "capacity.", "total", HC_STATE_MAX_BYTES, &s->total) < 0)
			goto out;
	}
	if (json_object_object_get_ex(root, "vms", &vms)) {
		if (!json_object_is_type(vms, json_type_array)) {
			bad(&c, "vms", "is not an array");
			goto out;
		}
		for (size_t i = 0; i < json_object_array_length(vms); i++)
			if (load_vm(&c, s, json_object_array_get_idx(vms, i), i) < 0)
				goto out;
	}
	rc = 0;
out:
	json_object_put(root);
	return rc;
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
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0) {
		snprintf(why, HC_WHY, "state file %s: %s", path, strerror(errno));
		return -1;
	}
	/* Never read past the cap, whatever the file claims to be. */
	char *buf = malloc(HC_STATE_MAX_FILE + 1);
	size_t n = 0;
	ssize_t r = 1;
	while (buf && n <= HC_STATE_MAX_FILE && (r = read(fd, buf + n, HC_STATE_MAX_FILE + 1 - n)) > 0)
		n += r;
	close(fd);
	int rc = -1;
	if (!buf)
		snprintf(why, HC_WHY, "out of memory");
	else if (r < 0)
		snprintf(why, HC_WHY, "state file %s: %s", path, strerror(errno));
	else if (n > HC_STATE_MAX_FILE)
		snprintf(why, HC_WHY, "state file %s is larger than %d bytes; fix or remove it", path, HC_STATE_MAX_FILE);
	else {
		buf[n] = 0;
		rc = hc_state_parse(s, buf, n, path, why);
	}
	free(buf);
	return rc;
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
		if (v->slow[0])
			json_object_object_add(e, "agent_slow", json_object_new_string(v->slow));
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
	/* Atomic: a temporary file, fsync, rename; a crash leaves old or new. */
	char tmp[PATH_MAX + 8];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	size_t n;
	const char *txt = json_object_to_json_string_length(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644), rc = fd < 0 ? -1 : 0;
	for (size_t off = 0; rc == 0 && off < n;) {
		ssize_t w = write(fd, txt + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			rc = -1;
		else
			off += w;
	}
	if (rc == 0 && (write(fd, "\n", 1) != 1 || fsync(fd) < 0))
		rc = -1;
	if (fd >= 0 && close(fd) < 0)
		rc = -1;
	json_object_put(root);
	if (rc < 0 || rename(tmp, path) < 0) {
		snprintf(why, HC_WHY, "cannot write state file %s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	/* The rename is durable once the directory is synced. */
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", path);
	char *sl = strrchr(dir, '/');
	if (!sl)
		snprintf(dir, sizeof(dir), ".");
	else
		sl[sl == dir] = 0;
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}

void hc_state_unlock(struct hc_state *s)
{
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	s->lock_fd = -1;
}

/* One byte of the lock file per VM name (a hash: a collision only
 * serialises two VMs). OFD locks are independent of the flock above. */
int hc_vm_lock(const char *state_path, const char *name, int timeout_ms)
{
	char lock[PATH_MAX + 8];
	snprintf(lock, sizeof(lock), "%s.lock", state_path);
	int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	uint32_t h = 2166136261u;
	for (const char *p = name; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 1 + (h & 0x3fffffff), .l_len = 1 };
	/* Polled, not F_OFD_SETLKW: the wait has a deadline like all others. */
	for (int waited = 0;; waited += 20) {
		if (fcntl(fd, F_OFD_SETLK, &fl) == 0)
			return fd;
		if ((errno != EAGAIN && errno != EACCES && errno != EINTR) || waited >= timeout_ms) {
			close(fd);
			return -1;
		}
		usleep(20000);
	}
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
