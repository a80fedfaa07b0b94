/* test_hostctl_state.c - state file round trip, size parsing and the
 * rebalance rules: best-effort first, slow before fast, never below a
 * guaranteed VM's minimum, proportional within a class. */
#include "size.h"
#include "state.h"
#include "tap.h"
#include <unistd.h>

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

/* Adds a VM. hc_state_add() reallocs s->vm, so no pointer returned before
 * survives the next add: callers look VMs up again with hc_state_find(). */
static void vm(struct hc_state *s, const char *name, int cls, uint64_t fast, uint64_t slow)
{
	struct hc_vmstate *v = hc_state_add(s, name, "/run/qmp.sock");
	if (!v)
		tap_bail("hc_state_add: out of memory");
	v->cls = cls;
	v->t[HC_FAST] = (struct hc_tierq){ .want = fast, .set = 1, .min = cls == HC_GUARANTEED ? fast : 0 };
	v->t[HC_SLOW] = (struct hc_tierq){ .want = slow, .set = 1, .min = cls == HC_GUARANTEED ? slow : 0 };
}

int main(void)
{
	char why[HC_WHY];
	uint64_t v;
	ok(hc_parse_size("1G", &v) == 0 && v == GiB, "size 1G");
	ok(hc_parse_size("512MiB", &v) == 0 && v == 512 * MiB, "size 512MiB");
	ok(hc_parse_size("4096", &v) == 0 && v == 4096, "size 4096");
	ok(hc_parse_size("1X", &v) < 0 && hc_parse_size("", &v) < 0 && hc_parse_size("-1G", &v) < 0 &&
	   hc_parse_size("99999999999T", &v) < 0, "bad sizes refused");

	/* Fits: quotas are the grants, capped by max. */
	struct hc_state s = { .lock_fd = -1 };
	s.capacity[HC_FAST] = 4 * GiB;
	s.capacity[HC_SLOW] = 16 * GiB;
	vm(&s, "g", HC_GUARANTEED, 2 * GiB, 4 * GiB);
	vm(&s, "b", HC_BURSTABLE, 1 * GiB, 4 * GiB);
	vm(&s, "e", HC_BESTEFFORT, 1 * GiB, 4 * GiB);
	struct hc_vmstate *g = hc_state_find(&s, "g"), *b = hc_state_find(&s, "b"), *e = hc_state_find(&s, "e");
	b->t[HC_FAST].max = 768 * MiB; /* a grant above max is capped */
	is_int(hc_rebalance(&s, why), 0, "everything fits");
	is_int(b->t[HC_FAST].quota, 768 * MiB, "burstable fast quota capped at its max");
	is_int(e->t[HC_FAST].quota, 1 * GiB, "best-effort keeps its grant when it fits");

	/* Fast tier short by 1 GiB: all of it comes from best-effort. */
	b->t[HC_FAST].max = 0;
	s.capacity[HC_FAST] = 3 * GiB;
	is_int(hc_rebalance(&s, why), 0, "fast tier over by 1 GiB: resolved");
	is_int(e->t[HC_FAST].quota, 0, "best-effort gives its whole fast quota first");
	is_int(b->t[HC_FAST].quota, 1 * GiB, "burstable untouched while best-effort had some");
	is_int(g->t[HC_FAST].quota, 2 * GiB, "guaranteed untouched");
	is_int(e->t[HC_SLOW].quota, 4 * GiB, "slow tier untouched by a fast shortage");

	/* Short by 1.5 GiB: best-effort to 0, then burstable gives 512 MiB. */
	s.capacity[HC_FAST] = 2560 * MiB;
	hc_rebalance(&s, why);
	ok(e->t[HC_FAST].quota == 0 && b->t[HC_FAST].quota == 512 * MiB && g->t[HC_FAST].quota == 2 * GiB,
	   "then burstable, guaranteed still whole");

	/* Short beyond the floors: guaranteed stops at its minimum. */
	s.capacity[HC_FAST] = 1 * GiB;
	uint64_t left = hc_rebalance(&s, why);
	is_int(g->t[HC_FAST].quota, 2 * GiB, "guaranteed never below its minimum");
	is_int(left, 1 * GiB, "what cannot fit is reported");
	ok(strstr(why, "fast tier") != NULL, "and named: %s", why);
	/* A guaranteed VM with a lower floor gives down to it, no further. */
	g->t[HC_FAST].min = 1536 * MiB;
	left = hc_rebalance(&s, why);
	ok(g->t[HC_FAST].quota == 1536 * MiB && left == 512 * MiB, "guaranteed reclaimed down to min=1.5G only");

	/* Proportional within a class. */
	struct hc_state p = { .lock_fd = -1 };
	p.capacity[HC_SLOW] = 3 * GiB;
	vm(&p, "e1", HC_BESTEFFORT, 0, 3 * GiB);
	vm(&p, "e2", HC_BESTEFFORT, 0, 1 * GiB);
	struct hc_vmstate *e1 = hc_state_find(&p, "e1"), *e2 = hc_state_find(&p, "e2");
	hc_rebalance(&p, why);
	ok(e1->t[HC_SLOW].quota == 2304 * MiB && e2->t[HC_SLOW].quota == 768 * MiB,
	   "best-effort VMs give in proportion to their quota (%llu, %llu MiB)",
	   (unsigned long long)(e1->t[HC_SLOW].quota >> 20), (unsigned long long)(e2->t[HC_SLOW].quota >> 20));

	/* Total capacity: slow tier before fast within a class. */
	struct hc_state t = { .lock_fd = -1 };
	t.total = 6 * GiB;
	vm(&t, "tg", HC_GUARANTEED, 2 * GiB, 2 * GiB);
	vm(&t, "te", HC_BESTEFFORT, 2 * GiB, 2 * GiB);
	struct hc_vmstate *tg = hc_state_find(&t, "tg"), *te = hc_state_find(&t, "te");
	hc_rebalance(&t, why);
	ok(te->t[HC_SLOW].quota == 0 && te->t[HC_FAST].quota == 2 * GiB, "total over by 2 GiB: best-effort slow tier reclaimed first");
	t.total = 5 * GiB;
	hc_rebalance(&t, why);
	ok(te->t[HC_SLOW].quota == 0 && te->t[HC_FAST].quota == 1 * GiB && tg->t[HC_FAST].quota == 2 * GiB &&
	   tg->t[HC_SLOW].quota == 2 * GiB, "then its fast tier; guaranteed untouched");
	t.total = 8 * GiB;
	hc_rebalance(&t, why);
	ok(te->t[HC_SLOW].quota == 2 * GiB && te->t[HC_FAST].quota == 2 * GiB, "capacity back: quotas return to the grants");

	/* Save and load. */
	char path[] = "/tmp/ht-hostctl-state-XXXXXX";
	int fd = mkstemp(path);
	close(fd);
	unlink(path);
	b->agent_pid = 77;
	b->agent_start = 1234;
	ok(hc_state_save(&s, path, why) == 0, "state saved (%s)", why);
	struct hc_state r;
	ok(hc_state_load(&r, path, why) == 0 && r.n == 3, "state loaded: 3 VMs");
	struct hc_vmstate *rb = hc_state_find(&r, "b");
	ok(rb && rb->cls == HC_BURSTABLE && rb->t[HC_FAST].want == 1 * GiB && rb->agent_pid == 77 &&
	   rb->agent_start == 1234 && r.capacity[HC_FAST] == 1 * GiB, "fields survive the round trip");
	ok(hc_state_find(&r, "/run/qmp.sock") != NULL && hc_state_find(&r, "nope") == NULL, "find by name or QMP path");
	hc_state_free(&r);
	FILE *f = fopen(path, "w");
	fputs("{\"vms\": [", f);
	fclose(f);
	ok(hc_state_load(&r, path, why) < 0 && strstr(why, "not valid JSON"), "corrupt state file refused (%s)", why);
	hc_state_free(&r);
	unlink(path);
	char lock[300];
	snprintf(lock, sizeof(lock), "%s.lock", path);
	unlink(lock);
	free(s.vm);
	free(p.vm);
	free(t.vm);
	return tap_done();
}
