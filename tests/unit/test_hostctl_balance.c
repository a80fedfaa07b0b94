/* test_hostctl_balance.c - the rules of one `hostctl balance` step
 * (hostctl/balance.c), on VM lists built by hand. */
#include "balance.h"
#include "tap.h"
#include <string.h>

#define MiB (1ULL << 20)
static const struct hc_bparams P = { UINT64_MAX, 0, 32 * MiB, 128 * MiB, MiB };

static struct hc_bvm vm(const char *n, uint64_t floor, uint64_t ceil, uint64_t quota, uint64_t hot)
{
	struct hc_bvm v = { .name = n, .known = 1, .floor = floor * MiB, .ceil = ceil * MiB, .quota = quota * MiB, .hot = hot * MiB };
	return v;
}

static void show(const struct hc_bvm *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		tap_diag("  %s: %llu MiB -> %llu MiB: %s", v[i].name, (unsigned long long)(v[i].quota / MiB),
			 (unsigned long long)(v[i].next / MiB), v[i].why);
}

int main(void)
{
	struct hc_bparams p = P;
	/* gives to the VM over its quota, takes from the one with slack */
	p.pool = 0;
	struct hc_bvm a[3] = { vm("vm1", 64, 1024, 512, 200), vm("vm2", 64, 1024, 512, 610), vm("vm3", 64, 1024, 512, 500) };
	hc_balance(a, 3, &p);
	show(a, 3);
	is_int(a[0].next / MiB, 512 - 128, "slack VM gives back one step");
	is_int(a[1].next / MiB, 512 + 98, "VM over its quota gets its gap (610 - 512, under the step)");
	ok(strstr(a[1].why, "+98.00 MiB fast, hot set 610.00 MiB > quota 512.00 MiB") != NULL, "reason names the hot set and quota");
	ok(strstr(a[0].why, "-128.00 MiB fast, hot set 200.00 MiB fits in quota 512.00 MiB") != NULL, "donor's reason");
	is_int(a[2].next / MiB, 512, "hysteresis: 12 MiB short moves nothing");
	ok(strstr(a[2].why, "hysteresis") != NULL, "held VM says why");
	/* what moved up came from what moved down, pool empty */
	ok(a[0].next + a[1].next + a[2].next <= a[0].quota + a[1].quota + a[2].quota, "no fast memory made out of nothing");

	/* step limit upward, and the pool bounds the gain */
	p = P;
	p.pool = 100 * MiB;
	struct hc_bvm b[2] = { vm("big", 0, 0, 256, 1024), vm("fit", 0, 0, 256, 256) };
	hc_balance(b, 2, &p);
	show(b, 2);
	is_int(b[0].next / MiB, 356, "gain bounded by the free pool (100 MiB of a 128 MiB step)");
	ok(strstr(b[0].why, "no more free") != NULL, "partial gain says so");
	p.pool = UINT64_MAX;
	hc_balance(b, 2, &p);
	is_int(b[0].next / MiB, 256 + 128, "gain bounded by the step");

	/* floors and ceilings */
	struct hc_bvm c[2] = { vm("low", 300, 800, 400, 10), vm("high", 0, 450, 400, 2000) };
	p.step = 1024 * MiB;
	hc_balance(c, 2, &p);
	show(c, 2);
	is_int(c[0].next / MiB, 300, "never below the floor");
	is_int(c[1].next / MiB, 450, "never above the ceiling");
	struct hc_bvm d[1] = { vm("under", 300, 800, 200, 0) };
	p = P;
	p.pool = 0;
	hc_balance(d, 1, &p);
	is_int(d[0].next / MiB, 300, "a VM below its floor is brought up to it, step and pool aside");

	/* guaranteed kept; unreported kept */
	struct hc_bvm g[3] = { vm("gold", 512, 0, 512, 0), vm("need", 0, 0, 256, 900), vm("mute", 0, 0, 512, 0) };
	g[0].guaranteed = 1;
	g[2].known = 0;
	p = P;
	p.pool = 0;
	hc_balance(g, 3, &p);
	show(g, 3);
	is_int(g[0].next / MiB, 512, "guaranteed VM keeps its grant though its hot set is empty");
	is_int(g[2].next / MiB, 512, "VM without a demand report keeps its quota");
	is_int(g[1].next / MiB, 256, "nothing to give: the needy VM waits");

	/* a lying guest: huge hot set; bounded by its ceiling and the others' needs */
	struct hc_bvm l[3] = { vm("liar", 0, 700, 400, 1ULL << 30), vm("v2", 256, 0, 400, 380), vm("v3", 128, 0, 400, 0) };
	p = P;
	p.pool = 0;
	p.step = 1024 * MiB;
	for (int s = 0; s < 10; s++) {
		hc_balance(l, 3, &p);
		for (int i = 0; i < 3; i++)
			l[i].quota = l[i].next;
		ok(l[1].quota >= l[1].floor && l[2].quota >= l[2].floor, "liar, step %d: floors held", s);
	}
	show(l, 3);
	is_int(l[0].quota / MiB, 672, "liar ends with what v3 gave down to its floor (400 + 272), not its claim");
	is_int(l[1].quota / MiB, 400, "v2 keeps what its own hot set needs");
	is_int(l[2].quota / MiB, 128, "v3 gives down to its floor, no lower");
	p.pool = 1ULL << 40;
	p.hysteresis = 0;
	hc_balance(l, 3, &p);
	is_int(l[0].next / MiB, 700, "with plenty free the liar still stops at its ceiling (--fast-max)");
	ok(strstr(l[0].why, "capped at ceiling") != NULL, "the cap is named in the reason");

	/* converges, no flapping: steps repeated on steady demand reach a fixed point */
	struct hc_bvm f[3] = { vm("a", 64, 0, 512, 100), vm("b", 64, 0, 512, 700), vm("c", 64, 0, 512, 520) };
	p = P;
	p.pool = 0;
	size_t moved = 0;
	for (int s = 0; s < 20; s++) {
		moved = hc_balance(f, 3, &p);
		for (int i = 0; i < 3; i++)
			f[i].quota = f[i].next;
	}
	show(f, 3);
	is_int(moved, 0, "steady demand: a fixed point, nothing moves any more");
	ok(f[1].quota >= 700 * MiB - p.hysteresis && f[1].quota <= 700 * MiB && f[0].quota <= 100 * MiB + p.hysteresis,
	   "fast tier ends where the hot sets are (within the hysteresis)");
	ok(f[0].quota + f[1].quota + f[2].quota <= 3 * 512 * MiB, "with an empty pool no VM gained more than others gave");
	return tap_done();
}
