/* hostctl - per-tier memory quotas for QEMU VMs through a user-space,
 * per-NUMA-node balloon (see hostctl(8)). A thin command: it attaches to the
 * VM's QMP socket and to the guest agent's port, does its work and exits;
 * what must persist lives in a small JSON state file. */
#include "cli.h"
#include "link.h"
#include "size.h"
#include "state.h"
#include "vm.h"
#include <getopt.h>
#include <signal.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct opts {
	const char *state;
	int timeout_ms;
	int deadline_ms;     /* whole operation on one VM */
	uint64_t min_rate;   /* inflate bytes/s, after timeout_ms of grace */
	uint64_t chunk;
	const char *agent;
	int fast_node, slow_node;
	int json, dry_run;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: hostctl [--state FILE] [--timeout MS] [--deadline MS] [--min-rate SIZE] COMMAND ...\n"
		"  grant VM [--fast SIZE] [--slow SIZE] [--class guaranteed|burstable|besteffort]\n"
		"           [--fast-min S] [--fast-max S] [--slow-min S] [--slow-max S] [--name NAME]\n"
		"           [--agent SOCKET] [--chunk SIZE] [--fast-node N] [--slow-node N]\n"
		"  status VM [--json]  |  status --prometheus [VM]\n"
		"  rebalance [--fast-capacity S] [--slow-capacity S] [--total-capacity S] [--dry-run]\n"
		"  balance [--step S] [--hysteresis S] [--headroom S] [--interval SEC [--count N]] [--dry-run]\n"
		"  forget VM\n"
		"VM is a QMP socket path, libvirt:DOMAIN[@URI] (default URI " HC_LIBVIRT_DEFAULT_URI "%s)\n"
		"or a name from the state file. See hostctl(8).\n", hc_qmp_open_libvirt ? "" : "; not in this build");
}

static int die(const char *fmt, const char *a, const char *b)
{
	fprintf(stderr, "hostctl: ");
	fprintf(stderr, fmt, a, b);
	fputc('\n', stderr);
	return 1;
}

static const char *sz(uint64_t v, char *b) { return hc_fmt_size(v, b, 32); }

/* Connect to VM and agent. */
static int attach(const struct opts *o, const char *qmp, struct hc_vm *vm, struct hc_link *l, char *why)
{
	struct hc_attach_opts ao = { o->timeout_ms, o->fast_node, o->slow_node, o->agent };
	if (hc_vm_attach(vm, qmp, &ao, why) < 0)
		return -1;
	if (hc_link_open(l, vm->agent_path, o->timeout_ms, why) < 0) {
		char w[HC_WHY];
		snprintf(w, sizeof(w), "%s (is hypertier-balloond running in the guest?)", why);
		memcpy(why, w, HC_WHY);
		return -1;
	}
	l->min_rate = o->min_rate;
	return 0;
}

/* If a deadline ended the operation: say so in why and mark v for status. */
static const char *too_slow(const struct opts *o, struct hc_vmstate *v, char *why)
{
	int f = hc_deadline_fired();
	if (f == HC_DL_NONE)
		return why;
	char w[HC_WHY], r[32];
	if (f == HC_DL_OP)
		snprintf(w, sizeof(w), "agent too slow: %s (--deadline %d ms); what was ballooned is kept", why, o->deadline_ms);
	else
		snprintf(w, sizeof(w), "agent too slow: %s (--min-rate %s/s after %d ms); what was ballooned is kept", why,
			 hc_fmt_size(o->min_rate, r, sizeof(r)), o->timeout_ms);
	memcpy(why, w, HC_WHY);
	snprintf(v->slow, sizeof(v->slow), "%s", f == HC_DL_OP ? "missed the whole-operation deadline" : "below the minimum progress rate");
	return why;
}

static int vmem_resize(const struct opts *o, struct hc_vmstate *v, struct hc_vm *vm, int t, uint64_t bytes)
{
	char why[HC_WHY], a[32], b[32];
	uint64_t was = vm->vmem[t].size;
	int r = hc_vm_vmem_resize(vm, t, bytes, 3 * o->timeout_ms, why);
	if (r)
		fprintf(stderr, "hostctl: %s: %s: %s\n", v->name, hc_tier_name[t], why);
	printf("%s: %s (node %d): virtio-mem %s plugged %s -> %s\n", v->name, hc_tier_name[t], vm->tier[t].node,
	       vm->vmem[t].id, sz(was, a), sz(vm->vmem[t].size, b));
	return r;
}

/* Bring the balloons of v to size - quota (and a virtio-mem device, where
 * the node has one, to quota - size). 0 done, 1 partial, -1 error. */
static int apply(const struct opts *o, struct hc_vmstate *v)
{
	struct hc_vm vm;
	struct hc_link l = { .ch.fd = -1 };
	char why[HC_WHY], a[32], b[32], c[32], d[32];
	int rc = 0;
	hc_deadline_set(hc_now_ms() + o->deadline_ms);
	if (attach(o, v->qmp, &vm, &l, why) < 0) {
		fprintf(stderr, "hostctl: %s: %s\n", v->name, too_slow(o, v, why));
		hc_link_close(&l);
		hc_vm_detach(&vm);
		hc_deadline_set(0);
		return -1;
	}
	if (v->agent_pid && (l.pid != v->agent_pid || l.start != v->agent_start))
		printf("%s: agent restarted (pid %ld -> %ld): its balloons were released; re-applying the quotas\n",
		       v->name, v->agent_pid, l.pid);
	v->agent_pid = l.pid;
	v->agent_start = l.start;
	for (int t = 0; t < HC_NTIERS && rc >= 0; t++) {
		struct hc_tierq *q = &v->t[t];
		struct hc_tier *tr = &vm.tier[t];
		q->size = tr->size;
		if (!q->set)
			continue;
		/* With a virtio-mem device on the node, the part of the quota above
		 * the boot memory is plugged (block-size grain) and the balloon only
		 * ever works below it: one of the two is always zero. */
		struct hc_vmem *vmem = &vm.vmem[t];
		uint64_t cap = tr->size + (vmem->present ? vmem->max : 0), vtarget = 0;
		if (q->quota > cap) {
			fprintf(stderr, "hostctl: %s: %s quota %s exceeds the tier's size %s\n", v->name,
				hc_tier_name[t], sz(q->quota, a), sz(cap, b));
			rc = -1;
			break;
		}
		if (vmem->present && q->quota > tr->size)
			vtarget = (q->quota - tr->size) / vmem->block * vmem->block;
		if (vmem->present && vtarget < vmem->size && (rc = vmem_resize(o, v, &vm, t, vtarget)) < 0)
			break;
		uint64_t target = q->quota < tr->size ? tr->size - q->quota : 0, cur = l.node[tr->node].balloon;
		int64_t before = hc_file_backed(tr->fd);
		if (target > cur) {
			struct hc_inflate_stats st;
			int r = hc_link_inflate(&l, tr, target - cur, o->chunk, &st, why);
			cur += st.bytes;
			printf("%s: %s (node %d): balloon +%s in %" PRIu64 " rounds, %" PRIu64 " ranges, punched in %.3f s\n",
			       v->name, hc_tier_name[t], tr->node, sz(st.bytes, a), st.rounds, st.ranges, st.punch_s);
			if (r) {
				fprintf(stderr, "hostctl: %s: %s: %s\n", v->name, hc_tier_name[t], too_slow(o, v, why));
				rc = r < 0 ? -1 : 1;
			}
		} else if (target < cur) {
			uint64_t got = 0;
			if (hc_link_deflate(&l, tr->node, cur - target, &got, why) < 0) {
				fprintf(stderr, "hostctl: %s: %s: %s\n", v->name, hc_tier_name[t], too_slow(o, v, why));
				rc = -1;
			}
			cur -= got;
			printf("%s: %s (node %d): balloon -%s\n", v->name, hc_tier_name[t], tr->node, sz(got, a));
			if (rc == 0 && cur != target) {
				fprintf(stderr, "hostctl: %s: %s: agent released only %s\n", v->name, hc_tier_name[t], sz(got, a));
				rc = 1;
			}
		}
		if (vmem->present && vtarget > vmem->size && rc >= 0) {
			int r = vmem_resize(o, v, &vm, t, vtarget);
			rc = r < 0 ? -1 : (r || rc);
		}
		q->balloon = cur;
		printf("%s: %s quota %s, balloon %s, host backing %s -> %s\n", v->name, hc_tier_name[t],
		       sz(q->quota, a), sz(cur, b), sz(before < 0 ? 0 : before, c), sz(hc_file_backed(tr->fd), d));
	}
	if (rc == 0)
		v->slow[0] = 0; /* done within every deadline */
	hc_link_close(&l);
	hc_vm_detach(&vm);
	hc_deadline_set(0);
	return rc;
}

static int parse_sz(const char *s, uint64_t *v)
{
	if (hc_parse_size(s, v) < 0) {
		fprintf(stderr, "hostctl: bad size '%s' (use e.g. 512M, 1G)\n", s);
		return -1;
	}
	return 0;
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

/* realpath of a QMP socket path; a libvirt: spec is kept as it is. */
static char *vm_path(const char *key, char *abs)
{
	return strncmp(key, HC_LIBVIRT_PREFIX, strlen(HC_LIBVIRT_PREFIX)) ? realpath(key, abs) : NULL;
}

/* By name, or by QMP socket path however it is spelled. */
static struct hc_vmstate *find_vm(struct hc_state *s, const char *key)
{
	char abs[PATH_MAX];
	struct hc_vmstate *v = hc_state_find(s, key);
	if (!v && vm_path(key, abs))
		v = hc_state_find(s, abs);
	return v;
}

/* Lock the VM that key names (by its QMP path), then load the state. The
 * state lock is never held while waiting for a VM, nor across guest I/O.
 * Returns the VM lock's fd (close it to unlock), -1 with why. */
static int lock_vm(const struct opts *o, const char *key, struct hc_state *s, char *why)
{
	if (hc_state_load(s, o->state, why) < 0)
		return -1;
	char qmp[PATH_MAX];
	struct hc_vmstate *v = find_vm(s, key);
	if (v)
		snprintf(qmp, sizeof(qmp), "%s", v->qmp);
	else if (!vm_path(key, qmp))
		snprintf(qmp, sizeof(qmp), "%s", key);
	hc_state_free(s);
	int fd = hc_vm_lock(o->state, qmp, o->deadline_ms);
	if (fd < 0) {
		snprintf(why, HC_WHY, "%s: still busy after %d ms: another hostctl works on this VM", key, o->deadline_ms);
		return -1;
	}
	if (hc_state_load(s, o->state, why) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Re-take the state lock and merge what apply did to w into the file as it
 * is now (other commands may have changed other VMs meanwhile). */
static int merge(const struct opts *o, const struct hc_vmstate *w, struct hc_state *s, char *why)
{
	if (hc_state_load(s, o->state, why) < 0)
		return -1;
	struct hc_vmstate *m = hc_state_find(s, w->name);
	if (!m || strcmp(m->qmp, w->qmp)) {
		fprintf(stderr, "hostctl: %s was forgotten meanwhile; its balloon sizes are not recorded\n", w->name);
		return 0;
	}
	for (int t = 0; t < HC_NTIERS; t++) {
		m->t[t].balloon = w->t[t].balloon;
		m->t[t].size = w->t[t].size;
	}
	m->agent_pid = w->agent_pid;
	m->agent_start = w->agent_start;
	memcpy(m->slow, w->slow, sizeof(m->slow));
	return hc_state_save(s, o->state, why);
}

static int decide(struct opts *o, struct hc_state *s, const char *key, const char *name, int cls, const uint64_t *want,
		  const uint64_t *mn, const uint64_t *mx, const int *has_want, const int *has_min, const int *has_max,
		  struct hc_vmstate **out);
static void note_oversubscribed(struct hc_state *s);

static int cmd_grant(struct opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "fast", 1, 0, 'f' }, { "slow", 1, 0, 's' }, { "class", 1, 0, 'c' },
		{ "fast-min", 1, 0, 1 }, { "fast-max", 1, 0, 2 }, { "slow-min", 1, 0, 3 }, { "slow-max", 1, 0, 4 },
		{ "name", 1, 0, 'n' }, { "agent", 1, 0, 'a' }, { "chunk", 1, 0, 'k' },
		{ "fast-node", 1, 0, 5 }, { "slow-node", 1, 0, 6 }, { 0, 0, 0, 0 }
	};
	uint64_t want[HC_NTIERS], mn[HC_NTIERS], mx[HC_NTIERS];
	int has_want[HC_NTIERS] = { 0 }, has_min[HC_NTIERS] = { 0 }, has_max[HC_NTIERS] = { 0 }, cls = -1, c;
	const char *name = NULL;
	optind = 0;
	while ((c = getopt_long(argc, argv, "f:s:c:n:a:k:", lo, NULL)) != -1) {
		int t = (c == 's' || c == 3 || c == 4) ? HC_SLOW : HC_FAST;
		switch (c) {
		case 'f': case 's': if (parse_sz(optarg, &want[t]) < 0) return 2; has_want[t] = 1; break;
		case 1: case 3: if (parse_sz(optarg, &mn[t]) < 0) return 2; has_min[t] = 1; break;
		case 2: case 4: if (parse_sz(optarg, &mx[t]) < 0) return 2; has_max[t] = 1; break;
		case 'c': if ((cls = hc_class_parse(optarg)) < 0) return die("unknown class '%s' (guaranteed|burstable|besteffort)%s", optarg, ""), 2; break;
		case 'n': name = optarg; break;
		case 'a': o->agent = optarg; break;
		case 'k': if (parse_sz(optarg, &o->chunk) < 0 || o->chunk < HC_PAGE) return 2; break;
		case 5: o->fast_node = atoi(optarg); break;
		case 6: o->slow_node = atoi(optarg); break;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	const char *key = argv[optind];
	struct hc_state st8, *s = &st8;
	char why[HC_WHY];
	int vfd = lock_vm(o, key, s, why), rc = 2;
	if (vfd < 0) {
		hc_state_free(s);
		return die("%s%s", why, "");
	}
	struct hc_vmstate *v = NULL;
	rc = decide(o, s, key, name, cls, want, mn, mx, has_want, has_min, has_max, &v);
	if (rc) {
		hc_state_free(s);
		close(vfd);
		return rc;
	}
	/* Persist the decision, release the lock, talk to the guest, merge. */
	struct hc_vmstate w = *v;
	if (hc_state_save(s, o->state, why) < 0) {
		hc_state_free(s);
		close(vfd);
		return die("%s%s", why, "");
	}
	hc_state_free(s);
	rc = apply(o, &w);
	if (merge(o, &w, s, why) < 0) {
		hc_state_free(s);
		close(vfd);
		return die("%s%s", why, "");
	}
	close(vfd);
	note_oversubscribed(s);
	hc_state_free(s);
	return rc < 0 ? 1 : rc;
}

/* key names a VM not in the state file: a QMP socket (default name: its
 * file name less .sock) or libvirt:DOMAIN[@URI] (the domain's name). */
static int vm_spec(const char *key, char *nm, size_t n)
{
	char uri[1024];
	if (hc_libvirt_spec(key, nm, n, uri, sizeof(uri)) == 1)
		return 1;
	struct stat st;
	if (stat(key, &st) < 0 || !S_ISSOCK(st.st_mode))
		return 0;
	snprintf(nm, n, "%s", base_name(key));
	char *dot = strrchr(nm, '.');
	if (dot && !strcmp(dot, ".sock"))
		*dot = 0;
	return 1;
}

static const char *vm_spec_hint(const char *key)
{
	return strncmp(key, HC_LIBVIRT_PREFIX, strlen(HC_LIBVIRT_PREFIX)) ? "" : " (libvirt:DOMAIN or libvirt:DOMAIN@URI)";
}

/* The operator's part of a grant, under the state lock: 0 or an exit code. */
static int decide(struct opts *o, struct hc_state *s, const char *key, const char *name, int cls, const uint64_t *want,
		  const uint64_t *mn, const uint64_t *mx, const int *has_want, const int *has_min, const int *has_max,
		  struct hc_vmstate **out)
{
	struct hc_vmstate *v = find_vm(s, key);
	if (!v) {
		char nm[64];
		if (!vm_spec(key, nm, sizeof(nm)))
			return die("%s is neither a VM in the state file nor a QMP socket%s", key, vm_spec_hint(key));
		if (name)
			snprintf(nm, sizeof(nm), "%s", name);
		if (hc_state_find(s, nm))
			return die("a VM named %s already exists; pick another with --name%s", nm, "");
		char abs[PATH_MAX];
		if (!vm_path(key, abs))
			snprintf(abs, sizeof(abs), "%s", key);
		if (!(v = hc_state_add(s, nm, abs)))
			return die("out of memory%s%s", "", "");
	}
	if (cls >= 0)
		v->cls = cls;
	for (int t = 0; t < HC_NTIERS; t++) {
		struct hc_tierq *q = &v->t[t];
		if (has_max[t])
			q->max = mx[t];
		if (has_min[t])
			q->min = mn[t];
		if (has_want[t]) {
			q->want = want[t];
			q->set = 1;
			if (v->cls == HC_GUARANTEED && !has_min[t])
				q->min = want[t]; /* guaranteed: the grant is the floor */
		}
		if (!q->set)
			continue;
		char a[32], b[32];
		if (q->max && q->want > q->max)
			return die("%s quota above its maximum %s", hc_tier_name[t], sz(q->max, a)), 2;
		if (q->min > q->want)
			return die("%s minimum above the quota %s", hc_tier_name[t], sz(q->want, b)), 2;
		q->quota = q->want;
	}
	*out = v;
	return 0;
}

/* Tell the operator when the host tier is now oversubscribed. */
static void note_oversubscribed(struct hc_state *s)
{
	char why[HC_WHY];
	struct hc_state copy = *s;
	copy.vm = malloc(s->n * sizeof(*copy.vm));
	if (copy.vm) {
		memcpy(copy.vm, s->vm, s->n * sizeof(*copy.vm));
		hc_rebalance(&copy, why);
		for (size_t i = 0; i < s->n; i++)
			for (int t = 0; t < HC_NTIERS; t++)
				if (copy.vm[i].t[t].quota != s->vm[i].t[t].quota) {
					fprintf(stderr, "hostctl: note: host capacity is oversubscribed; `hostctl rebalance` would lower %s's %s quota\n",
						s->vm[i].name, hc_tier_name[t]);
					i = s->n;
					break;
				}
		free(copy.vm);
	}
}

/* The guest's demand next to the fast quota (text), or "demand" (JSON). */
static void status_demand(const struct hc_vmstate *v, struct hc_link *l, json_object *root, int json)
{
	struct hc_demand d;
	char why[HC_WHY], a[32], b[32], c[32], q[32];
	int ok = l && hc_link_demand(l, &d, why) == 0;
	if (!l)
		snprintf(why, sizeof(why), "agent unreachable");
	if (json) {
		json_object *j = json_object_new_object();
		if (ok) {
			json_object_object_add(j, "procs", json_object_new_int64(d.procs));
			json_object_object_add(j, "hot_set", json_object_new_int64(d.hot_set));
			json_object_object_add(j, "fast_budget", json_object_new_int64(d.fast_budget));
			json_object_object_add(j, "fast_used", json_object_new_int64(d.fast_used));
		} else {
			json_object_object_add(j, "error", json_object_new_string(why));
		}
		json_object_object_add(root, "demand", j);
	} else if (ok) {
		printf("fast  demand: hot set %s in %" PRIu64 " processes (budget %s, used %s) against quota %s\n", sz(d.hot_set, a),
		       d.procs, sz(d.fast_budget, b), sz(d.fast_used, c), v->t[HC_FAST].set ? sz(v->t[HC_FAST].quota, q) : "none");
	} else {
		printf("fast  demand: unknown (%s)\n", why);
	}
}

static int cmd_status(struct opts *o, int argc, char **argv)
{
	static const struct option lo[] = { { "json", 0, 0, 'j' }, { "agent", 1, 0, 'a' }, { "prometheus", 0, 0, 'P' }, { 0, 0, 0, 0 } };
	int c, prom = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, "ja:", lo, NULL)) != -1) {
		if (c == 'P')
			prom = 1;
		else if (c == 'j')
			o->json = 1;
		else if (c == 'a')
			o->agent = argv[optind - 1];
		else
			return usage(stderr), 2;
	}
	if (prom && optind >= argc - 1)
		return hc_status_prometheus(o, optind == argc - 1 ? argv[optind] : NULL);
	if (optind != argc - 1)
		return usage(stderr), 2;
	const char *key = argv[optind];
	struct hc_state st8;
	char why[HC_WHY], health[HC_WHY + 64];
	int vfd = lock_vm(o, key, &st8, why);
	if (vfd < 0) {
		hc_state_free(&st8);
		return die("%s%s", why, "");
	}
	struct hc_vmstate *v = find_vm(&st8, key), tmp;
	if (v) {
		tmp = *v;
		v = &tmp;
	}
	hc_state_free(&st8); /* a copy is all status needs */
	char nm[64];
	if (!v && !vm_spec(key, nm, sizeof(nm)))
		return die("%s is neither a VM in the state file nor a QMP socket%s", key, vm_spec_hint(key));
	if (!v) {
		memset(&tmp, 0, sizeof(tmp));
		snprintf(tmp.name, sizeof(tmp.name), "%s", nm);
		snprintf(tmp.qmp, sizeof(tmp.qmp), "%s", key);
		tmp.cls = HC_BURSTABLE;
		v = &tmp;
	}
	struct hc_vm vm;
	struct hc_link l = { .ch.fd = -1 };
	struct hc_attach_opts ao = { o->timeout_ms, o->fast_node, o->slow_node, o->agent };
	hc_deadline_set(hc_now_ms() + o->deadline_ms);
	if (hc_vm_attach(&vm, v->qmp, &ao, why) < 0) {
		hc_vm_detach(&vm);
		close(vfd);
		return die("%s: %s", v->name, too_slow(o, v, why));
	}
	int agent_ok = hc_link_open(&l, vm.agent_path, o->timeout_ms, why) == 0;
	if (!agent_ok && hc_deadline_fired())
		snprintf(health, sizeof(health), "too slow: %s", too_slow(o, v, why) + strlen("agent too slow: "));
	else if (!agent_ok)
		snprintf(health, sizeof(health), "unreachable: %s", why);
	else if (v->slow[0])
		snprintf(health, sizeof(health), "too slow: the last operation was stopped (%s); `hostctl grant %s` retries",
			 v->slow, v->name);
	else if (v->agent_pid && (l.pid != v->agent_pid || l.start != v->agent_start))
		snprintf(health, sizeof(health), "restarted (pid %ld -> %ld): balloons released, quotas not enforced; run `hostctl grant %s`",
			 v->agent_pid, l.pid, v->name);
	else if (strcmp(l.sysctl, "ok"))
		snprintf(health, sizeof(health), "degraded: sysctl %s", l.sysctl);
	else
		snprintf(health, sizeof(health), "ok");
	json_object *root = json_object_new_object(), *tiers = json_object_new_object();
	json_object_object_add(root, "name", json_object_new_string(v->name));
	json_object_object_add(root, "qmp", json_object_new_string(v->qmp));
	json_object_object_add(root, "class", json_object_new_string(hc_class_name[v->cls]));
	json_object *ag = json_object_new_object();
	json_object_object_add(ag, "health", json_object_new_string(health));
	json_object_object_add(ag, "pid", json_object_new_int64(agent_ok ? l.pid : 0));
	json_object_object_add(ag, "sysctl", json_object_new_string(agent_ok ? l.sysctl : ""));
	json_object_object_add(root, "agent", ag);
	if (!o->json)
		printf("VM %s (%s), class %s, agent %s\n%-5s %4s %11s %11s %11s %11s %11s %11s  %s\n", v->name, v->qmp,
		       hc_class_name[v->cls], health, "tier", "node", "size", "quota", "balloon", "guest-free",
		       "guest-total", "host-backed", "backend");
	for (int t = 0; t < HC_NTIERS; t++) {
		struct hc_tier *tr = &vm.tier[t];
		const struct hc_node_info *ni = agent_ok ? &l.node[tr->node] : NULL;
		uint64_t quota = v->t[t].set ? v->t[t].quota : tr->size;
		int64_t backed = hc_file_backed(tr->fd);
		json_object *e = json_object_new_object();
		json_object_object_add(e, "node", json_object_new_int(tr->node));
		json_object_object_add(e, "memdev", json_object_new_string(tr->memdev));
		json_object_object_add(e, "path", json_object_new_string(tr->path));
		json_object_object_add(e, "size", json_object_new_int64(tr->size));
		json_object_object_add(e, "quota", json_object_new_int64(quota));
		json_object_object_add(e, "granted", json_object_new_boolean(v->t[t].set));
		json_object_object_add(e, "min", json_object_new_int64(v->t[t].min));
		json_object_object_add(e, "max", json_object_new_int64(v->t[t].max));
		json_object_object_add(e, "host_backed", json_object_new_int64(backed));
		if (vm.vmem[t].present) {
			json_object *vj = json_object_new_object();
			json_object_object_add(vj, "id", json_object_new_string(vm.vmem[t].id));
			json_object_object_add(vj, "size", json_object_new_int64(vm.vmem[t].size));
			json_object_object_add(vj, "requested", json_object_new_int64(vm.vmem[t].requested));
			json_object_object_add(vj, "max", json_object_new_int64(vm.vmem[t].max));
			json_object_object_add(vj, "block", json_object_new_int64(vm.vmem[t].block));
			json_object_object_add(e, "virtio_mem", vj);
		}
		if (ni && ni->present) {
			json_object_object_add(e, "balloon", json_object_new_int64(ni->balloon));
			json_object_object_add(e, "guest_free", json_object_new_int64(ni->free));
			json_object_object_add(e, "guest_total", json_object_new_int64(ni->total));
		}
		json_object_object_add(tiers, hc_tier_name[t], e);
		if (!o->json) {
			char a[32], b[32], c2[32], d[32], f[32], g[32];
			printf("%-5s %4d %11s %11s %11s %11s %11s %11s  %s (%s)\n", hc_tier_name[t], tr->node, sz(tr->size, a),
			       sz(quota, b), ni && ni->present ? sz(ni->balloon, c2) : "?", ni && ni->present ? sz(ni->free, d) : "?",
			       ni && ni->present ? sz(ni->total, f) : "?", sz(backed < 0 ? 0 : backed, g), tr->memdev, tr->path);
			if (vm.vmem[t].present)
				printf("%-5s %4d virtio-mem %s: plugged %s of %s (requested %s)\n", hc_tier_name[t], tr->node,
				       vm.vmem[t].id, sz(vm.vmem[t].size, a), sz(vm.vmem[t].max, b), sz(vm.vmem[t].requested, c2));
		}
	}
	json_object_object_add(root, "tiers", tiers);
	status_demand(v, agent_ok ? &l : NULL, root, o->json);
	if (o->json)
		printf("%s\n", json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(root);
	hc_link_close(&l);
	hc_vm_detach(&vm);
	hc_deadline_set(0);
	close(vfd);
	return agent_ok ? 0 : 1;
}

static int cmd_rebalance(struct opts *o, struct hc_state *s, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "fast-capacity", 1, 0, 'f' }, { "slow-capacity", 1, 0, 's' }, { "total-capacity", 1, 0, 't' },
		{ "dry-run", 0, 0, 'n' }, { 0, 0, 0, 0 }
	};
	int c;
	optind = 0;
	while ((c = getopt_long(argc, argv, "f:s:t:n", lo, NULL)) != -1) {
		switch (c) {
		case 'f': if (parse_sz(optarg, &s->capacity[HC_FAST]) < 0) return 2; break;
		case 's': if (parse_sz(optarg, &s->capacity[HC_SLOW]) < 0) return 2; break;
		case 't': if (parse_sz(optarg, &s->total) < 0) return 2; break;
		case 'n': o->dry_run = 1; break;
		default: return usage(stderr), 2;
		}
	}
	if (optind != argc)
		return usage(stderr), 2;
	uint64_t *old = calloc(s->n * HC_NTIERS + 1, sizeof(*old));
	struct hc_vmstate *w = malloc((s->n + 1) * sizeof(*w));
	if (!old || !w)
		return free(old), free(w), die("out of memory%s%s", "", "");
	for (size_t i = 0; i < s->n; i++)
		for (int t = 0; t < HC_NTIERS; t++)
			old[i * HC_NTIERS + t] = s->vm[i].t[t].quota;
	char why[HC_WHY];
	uint64_t left = hc_rebalance(s, why);
	if (left)
		fprintf(stderr, "hostctl: warning: %s\n", why);
	int rc = 0;
	size_t n = s->n;
	memcpy(w, s->vm, n * sizeof(*w));
	/* Record the new quotas, then apply them VM by VM without the lock: a
	 * slow VM costs its own deadline, not the others' time. */
	if (!o->dry_run && hc_state_save(s, o->state, why) < 0)
		rc = die("%s%s", why, "");
	hc_state_free(s);
	/* Shrink before growing, so that what one VM gives back is free first. */
	for (int pass = 0; pass < 2 && !rc; pass++)
		for (size_t i = 0; i < n; i++) {
			int shrinks = 0, changes = 0;
			for (int t = 0; t < HC_NTIERS; t++) {
				uint64_t was = old[i * HC_NTIERS + t], now = w[i].t[t].quota;
				changes |= was != now;
				shrinks |= now < was;
			}
			if (!changes || (pass == 0) != shrinks)
				continue;
			for (int t = 0; t < HC_NTIERS; t++) {
				char a[32], b[32];
				if (old[i * HC_NTIERS + t] != w[i].t[t].quota)
					printf("%s: %s quota %s -> %s (%s)\n", w[i].name, hc_tier_name[t], sz(old[i * HC_NTIERS + t], a),
					       sz(w[i].t[t].quota, b), hc_class_name[w[i].cls]);
			}
			if (o->dry_run)
				continue;
			fflush(stdout);
			int vfd = hc_vm_lock(o->state, w[i].qmp, o->deadline_ms);
			if (vfd < 0) {
				fprintf(stderr, "hostctl: %s: still busy after %d ms: another hostctl works on this VM\n", w[i].name, o->deadline_ms);
				rc = 1;
				continue;
			}
			struct hc_state m;
			if (apply(o, &w[i]))
				rc = 1;
			if (merge(o, &w[i], &m, why) < 0)
				rc = die("%s%s", why, "");
			hc_state_free(&m);
			close(vfd);
		}
	free(old);
	free(w);
	return rc;
}

static int cmd_forget(struct opts *o, struct hc_state *s, int argc, char **argv)
{
	char why[HC_WHY];
	if (argc != 2)
		return usage(stderr), 2;
	struct hc_vmstate *v = find_vm(s, argv[1]);
	if (!v)
		return die("no VM %s in the state file%s", argv[1], "");
	*v = s->vm[--s->n];
	if (hc_state_save(s, o->state, why) < 0)
		return die("%s%s", why, "");
	return 0;
}

/* What cmd_balance.c borrows (cli.h). */
const char *hc_cli_state(const struct opts *o) { return o->state; }
int hc_cli_deadline(const struct opts *o) { return o->deadline_ms; }
int hc_cli_dry_run(const struct opts *o) { return o->dry_run; }
void hc_cli_set_dry_run(struct opts *o) { o->dry_run = 1; }
int hc_cli_parse_size(const char *s, uint64_t *v) { return parse_sz(s, v); }
int hc_cli_apply(const struct opts *o, struct hc_vmstate *v) { return apply(o, v); }

int hc_cli_merge(const struct opts *o, const struct hc_vmstate *w, char *why)
{
	struct hc_state m;
	int r = merge(o, w, &m, why);
	hc_state_free(&m);
	return r;
}

int hc_cli_probe(const struct opts *o, const struct hc_vmstate *v, struct hc_probe *p, char *why)
{
	struct hc_vm vm;
	struct hc_link l = { .ch.fd = -1 };
	struct hc_attach_opts ao = { o->timeout_ms, o->fast_node, o->slow_node, NULL };
	memset(p, 0, sizeof(*p));
	hc_deadline_set(hc_now_ms() + o->deadline_ms);
	int rc = hc_vm_attach(&vm, v->qmp, &ao, why);
	if (rc == 0 && hc_link_open(&l, vm.agent_path, o->timeout_ms, p->why) == 0) {
		p->up = 1;
		p->has_demand = hc_link_demand(&l, &p->d, p->why) == 0;
	}
	for (int t = 0; t < HC_NTIERS && rc == 0; t++) {
		const struct hc_node_info *ni = &l.node[vm.tier[t].node];
		p->t[t].node = vm.tier[t].node;
		p->t[t].size = vm.tier[t].size;
		p->t[t].backed = hc_file_backed(vm.tier[t].fd);
		if (p->up && ni->present) {
			p->t[t].present = 1;
			p->t[t].balloon = ni->balloon;
			p->t[t].free = ni->free;
			p->t[t].total = ni->total;
		}
	}
	hc_link_close(&l);
	hc_vm_detach(&vm);
	hc_deadline_set(0);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "state", 1, 0, 'S' }, { "timeout", 1, 0, 'T' }, { "deadline", 1, 0, 'D' }, { "min-rate", 1, 0, 'R' },
		{ "help", 0, 0, 'h' }, { 0, 0, 0, 0 }
	};
	/* 4 MiB/s: about 5x below the slowest inflate measured in a TCG guest
	 * (128-192 MiB in 2-7 s); 300 s: 1.2 GiB at that rate. */
	struct opts o = { .state = getenv("HOSTCTL_STATE"), .timeout_ms = 10000, .deadline_ms = 300000,
			  .min_rate = 4 << 20, .chunk = 32 << 20, .fast_node = -1, .slow_node = -1 };
	signal(SIGPIPE, SIG_IGN); /* a vanished agent or QEMU is an error, not a kill */
	if (!o.state)
		o.state = "/var/lib/hypertier/hostctl.json";
	int c;
	while ((c = getopt_long(argc, argv, "+S:T:h", lo, NULL)) != -1) {
		switch (c) {
		case 'S': o.state = optarg; break;
		case 'T': o.timeout_ms = atoi(optarg); if (o.timeout_ms <= 0) return die("bad timeout '%s'%s", optarg, ""), 2; break;
		case 'D': o.deadline_ms = atoi(optarg); if (o.deadline_ms <= 0) return die("bad deadline '%s'%s", optarg, ""), 2; break;
		case 'R': if (parse_sz(optarg, &o.min_rate) < 0) return 2; break; /* 0: no minimum */
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[optind];
	int sub_argc = argc - optind;
	char **sub_argv = argv + optind;
	if (!strcmp(cmd, "grant"))
		return cmd_grant(&o, sub_argc, sub_argv);
	if (!strcmp(cmd, "status"))
		return cmd_status(&o, sub_argc, sub_argv);
	if (!strcmp(cmd, "balance"))
		return cmd_balance(&o, sub_argc, sub_argv);
	if (strcmp(cmd, "rebalance") && strcmp(cmd, "forget")) {
		usage(stderr);
		return 2;
	}
	struct hc_state s;
	char why[HC_WHY];
	if (hc_state_load(&s, o.state, why) < 0) {
		hc_state_free(&s);
		return die("%s%s", why, "");
	}
	if (!strcmp(cmd, "rebalance"))
		return cmd_rebalance(&o, &s, sub_argc, sub_argv); /* frees s */
	int rc = cmd_forget(&o, &s, sub_argc, sub_argv);
	hc_state_free(&s);
	return rc;
}
