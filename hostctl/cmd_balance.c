/* cmd_balance.c - `hostctl balance`: ask every VM with a fast grant for its
 * demand, decide one step (balance.c), record it, then apply it VM by VM,
 * shrinking before growing so what one VM gives back is free first. Also
 * `status --prometheus`, which needs the same look at every VM. */
#include "balance.h"
#include "cli.h"
#include "prom.h"
#include "size.h"
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The VMs of the state file (all, or the one key names), unlocked. */
static struct hc_vmstate *list_vms(const struct opts *o, const char *key, size_t *n, char *why)
{
	struct hc_state s;
	struct hc_vmstate *v = NULL;
	if (hc_state_load(&s, hc_cli_state(o), why) < 0) {
		hc_state_free(&s);
		return NULL;
	}
	struct hc_vmstate *one = key ? hc_state_find(&s, key) : NULL;
	*n = key ? !!one : s.n;
	if (key && !one)
		snprintf(why, HC_WHY, "no VM %s in the state file", key);
	else if ((v = malloc((*n + 1) * sizeof(*v))))
		memcpy(v, one ? one : s.vm, *n * sizeof(*v));
	hc_state_free(&s);
	return v;
}

/* Probe v under its VM lock: 0, or -1 with why. */
static int probe_locked(const struct opts *o, const struct hc_vmstate *v, struct hc_probe *p, char *why)
{
	int fd = hc_vm_lock(hc_cli_state(o), v->qmp, hc_cli_deadline(o));
	if (fd < 0) {
		memset(p, 0, sizeof(*p));
		snprintf(why, HC_WHY, "still busy: another hostctl works on this VM");
		return -1;
	}
	int r = hc_cli_probe(o, v, p, why);
	close(fd);
	return r;
}

int hc_status_prometheus(struct opts *o, const char *key)
{
	char why[HC_WHY];
	size_t n = 0;
	struct hc_vmstate *v = list_vms(o, key, &n, why);
	struct hc_prom_vm *pm = calloc(n + 1, sizeof(*pm));
	if (!v || !pm) {
		free(v), free(pm);
		fprintf(stderr, "hostctl: %s\n", v ? "out of memory" : why);
		return 1;
	}
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		struct hc_probe p;
		pm[i].name = v[i].name;
		if (probe_locked(o, &v[i], &p, why) < 0) {
			fprintf(stderr, "hostctl: %s: %s\n", v[i].name, why);
			rc = 1;
			continue;
		}
		pm[i].up = p.up;
		for (int t = 0; t < HC_NTIERS; t++) {
			pm[i].t[t].size = p.t[t].size;
			pm[i].t[t].quota = v[i].t[t].set ? v[i].t[t].quota : p.t[t].size;
			pm[i].t[t].backed = p.t[t].backed < 0 ? 0 : (uint64_t)p.t[t].backed;
			pm[i].t[t].has = HC_PM_SIZE | HC_PM_QUOTA | (p.t[t].backed >= 0 ? HC_PM_BACKED : 0);
			if (p.t[t].present) {
				pm[i].t[t].balloon = p.t[t].balloon;
				pm[i].t[t].free = p.t[t].free;
				pm[i].t[t].has |= HC_PM_BALLOON | HC_PM_FREE;
			}
		}
		if (p.has_demand) {
			pm[i].t[HC_FAST].demand = p.d.hot_set;
			pm[i].t[HC_FAST].has |= HC_PM_DEMAND;
		}
	}
	hc_prom_write(stdout, pm, n);
	free(pm);
	free(v);
	return rc;
}

struct bal_opts { struct hc_bparams p; double interval; long count; };

/* The fast bytes no VM holds: the tighter of the fast and total capacities. */
static uint64_t free_pool(const struct hc_state *s)
{
	uint64_t fast = 0, all = 0, pool = UINT64_MAX;
	for (size_t i = 0; i < s->n; i++)
		for (int t = 0; t < HC_NTIERS; t++)
			if (s->vm[i].t[t].set) {
				all += s->vm[i].t[t].quota;
				fast += t == HC_FAST ? s->vm[i].t[t].quota : 0;
			}
	if (s->capacity[HC_FAST])
		pool = s->capacity[HC_FAST] > fast ? s->capacity[HC_FAST] - fast : 0;
	if (s->total && (s->total > all ? s->total - all : 0) < pool)
		pool = s->total > all ? s->total - all : 0;
	return pool;
}

/* One step. Returns 0, or 1 if a VM could not be asked or changed. */
static int step(struct opts *o, const struct bal_opts *b)
{
	char why[HC_WHY];
	size_t n = 0;
	int rc = 0, unreported = 0;
	struct hc_vmstate *v = list_vms(o, NULL, &n, why);
	struct hc_probe *p = calloc(n + 1, sizeof(*p));
	struct hc_bvm *bv = calloc(n + 1, sizeof(*bv));
	if (!v || !p || !bv) {
		fprintf(stderr, "hostctl: %s\n", v ? "out of memory" : why);
		free(v), free(p), free(bv);
		return 1;
	}
	for (size_t i = 0; i < n; i++)
		if (v[i].t[HC_FAST].set && probe_locked(o, &v[i], &p[i], why) < 0)
			snprintf(p[i].why, sizeof(p[i].why), "%s", why);
	/* Decide on the state as it is now, under its lock. */
	struct hc_state s;
	if (hc_state_load(&s, hc_cli_state(o), why) < 0) {
		fprintf(stderr, "hostctl: %s\n", why);
		hc_state_free(&s);
		free(v), free(p), free(bv);
		return 1;
	}
	size_t m = 0, *idx = calloc(s.n + 1, sizeof(*idx));
	for (size_t i = 0; i < s.n && idx; i++) {
		struct hc_vmstate *x = &s.vm[i];
		struct hc_tierq *q = &x->t[HC_FAST];
		size_t j = 0;
		while (j < n && strcmp(v[j].name, x->name))
			j++;
		if (!q->set)
			continue;
		int known = j < n && p[j].has_demand;
		uint64_t size = j < n && p[j].t[HC_FAST].size ? p[j].t[HC_FAST].size : q->size;
		bv[m] = (struct hc_bvm){ .name = x->name, .guaranteed = x->cls == HC_GUARANTEED, .known = known,
					 .floor = x->cls == HC_BESTEFFORT ? 0 : q->min, .quota = q->quota,
					 .ceil = q->max && (!size || q->max < size) ? q->max : size,
					 .hot = known ? p[j].d.hot_set : 0 };
		if (!known && j < n) {
			fprintf(stderr, "hostctl: %s: no demand report: %s\n", x->name, p[j].why[0] ? p[j].why : "not asked");
			unreported = 1;
		}
		idx[m++] = i;
	}
	struct hc_bparams bp = b->p;
	bp.pool = free_pool(&s);
	hc_balance(bv, m, &bp);
	uint64_t *old = calloc(m + 1, sizeof(*old));
	struct hc_vmstate *w = calloc(m + 1, sizeof(*w));
	for (size_t k = 0; k < m && old && w; k++) {
		struct hc_tierq *q = &s.vm[idx[k]].t[HC_FAST];
		printf("%s: %s\n", bv[k].name, bv[k].why);
		old[k] = q->quota;
		q->quota = q->want = bv[k].next; /* the step is the VM's new fast grant */
		w[k] = s.vm[idx[k]];
	}
	fflush(stdout);
	if (!old || !w)
		rc = 1;
	else if (!hc_cli_dry_run(o) && hc_state_save(&s, hc_cli_state(o), why) < 0) {
		fprintf(stderr, "hostctl: %s\n", why);
		rc = 1;
	}
	hc_state_free(&s);
	for (int pass = 0; pass < 2 && !rc && !hc_cli_dry_run(o); pass++)
		for (size_t k = 0; k < m; k++) {
			uint64_t now = w[k].t[HC_FAST].quota;
			if (now == old[k] || (pass == 0) != (now < old[k]))
				continue;
			int fd = hc_vm_lock(hc_cli_state(o), w[k].qmp, hc_cli_deadline(o));
			if (fd < 0) {
				fprintf(stderr, "hostctl: %s: still busy: another hostctl works on this VM\n", w[k].name);
				rc = 1;
				continue;
			}
			if (hc_cli_apply(o, &w[k]))
				rc = 1;
			if (hc_cli_merge(o, &w[k], why) < 0) {
				fprintf(stderr, "hostctl: %s\n", why);
				rc = 1;
			}
			close(fd);
		}
	free(old), free(w), free(idx), free(v), free(p), free(bv);
	return rc | unreported; /* a VM that did not report is an error, though the others moved */
}

int cmd_balance(struct opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "step", 1, 0, 's' }, { "hysteresis", 1, 0, 'y' }, { "headroom", 1, 0, 'r' },
		{ "interval", 1, 0, 'i' }, { "count", 1, 0, 'c' }, { "dry-run", 0, 0, 'n' }, { 0, 0, 0, 0 }
	};
	/* Defaults (hostctl(8)): 128 MiB a step, 32 MiB of hysteresis, 1 MiB grain. */
	struct bal_opts b = { { UINT64_MAX, 0, 32 << 20, 128 << 20, 1 << 20 }, 0, 0 };
	int c;
	char *end;
	optind = 0;
	while ((c = getopt_long(argc, argv, "n", lo, NULL)) != -1) {
		switch (c) {
		case 's': if (hc_cli_parse_size(optarg, &b.p.step) < 0) return 2; break;
		case 'y': if (hc_cli_parse_size(optarg, &b.p.hysteresis) < 0) return 2; break;
		case 'r': if (hc_cli_parse_size(optarg, &b.p.headroom) < 0) return 2; break;
		case 'i': b.interval = strtod(optarg, &end); if (*end || b.interval <= 0) goto bad; break;
		case 'c': b.count = strtol(optarg, &end, 10); if (*end || b.count <= 0) goto bad; break;
		case 'n': hc_cli_set_dry_run(o); break;
		default: return 2;
		}
	}
	if (optind != argc || (b.count && !b.interval)) {
bad:
		fprintf(stderr, "hostctl: balance [--step S] [--hysteresis S] [--headroom S] [--interval SEC [--count N]] [--dry-run]\n");
		return 2;
	}
	if (!b.p.step) {
		fprintf(stderr, "hostctl: --step must be above 0\n");
		return 2;
	}
	int rc = 0;
	for (long i = 0; !b.interval ? i < 1 : (!b.count || i < b.count); i++) {
		if (i) {
			struct timespec ts = { (time_t)b.interval, (long)((b.interval - (time_t)b.interval) * 1e9) };
			nanosleep(&ts, NULL);
		}
		rc |= step(o, &b);
	}
	return rc;
}
