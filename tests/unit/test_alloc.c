/*
 * The allocator module on this host, with the real jemalloc linked into the
 * test (so it is the process malloc, as under LD_PRELOAD): extent hooks and
 * their map events, budget-driven tier choice, tier arenas, mbind really
 * applied (get_mempolicy), allocation sites recorded from two call sites,
 * named, learned from a heat function, and bound at birth afterwards.
 * One NUMA node here: both tiers are node 0; the guest tests check nodes.
 */
#define _GNU_SOURCE
#include "tap.h"
#include <sys/mman.h>
#include "alloc/alloc.h"
#include <jemalloc/jemalloc.h>
#include <math.h>
#include <numaif.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

/* as preload.c: big allocations stay in the hooked arenas */
const char *malloc_conf = "oversize_threshold:0";

#define MB (1ul << 20)

struct evlog { int n; uintptr_t start[4096]; size_t len[4096]; int unmap[4096], tier[4096]; };

static void on_ev(void *arg, uintptr_t s, size_t l, int unmap, int tier)
{
	struct evlog *e = arg;
	if (e->n < 4096) {
		e->start[e->n] = s;
		e->len[e->n] = l;
		e->unmap[e->n] = unmap;
		e->tier[e->n] = tier;
		e->n++;
	}
}

/* Is [p, p+n) inside one event of that kind? */
static int covered(struct evlog *e, void *p, size_t n, int unmap)
{
	for (int i = 0; i < e->n; i++)
		if (e->unmap[i] == unmap && (uintptr_t)p >= e->start[i] && (uintptr_t)p + n <= e->start[i] + e->len[i])
			return 1;
	return 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static int policy_of(void *p)
{
	int mode = -1;
	unsigned long mask[16] = { 0 };
	if (get_mempolicy(&mode, mask, 1024, p, MPOL_F_ADDR))
		return -1;
	return mode;
}

static void *blocks_a[6]; /* hot, per the test heat function */

static double fake_heat(void *arg, uintptr_t start, size_t len)
{
	for (int i = 0; i < 6; i++)
		if (start == (uintptr_t)blocks_a[i])
			return 0.9;
	return 0.05;
}

__attribute__((noinline)) void *site_a(size_t n) { void *p = malloc(n); __asm__ volatile("" ::: "memory"); return p; }
__attribute__((noinline)) void *site_b(size_t n) { void *p = malloc(n); __asm__ volatile("" ::: "memory"); return p; }

static struct ht_site_info *find_site(struct ht_site_info *s, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strstr(s[i].name, name))
			return &s[i];
	return NULL;
}

int main(void)
{
	struct ht_conf c;
	char why[256] = "";
	ht_conf_defaults(&c);
	c.place = HT_PLACE_NONE;
	struct ht_alloc *a = ht_alloc_create(&c, 0, 0, why, sizeof(why));
	if (!ok(a != NULL, "allocator object created (jemalloc is this process's malloc) %s", why))
		tap_bail(why);
	ok(ht_alloc_attach(a, why, sizeof(why)) == 0, "hooks attached to every arena, site hook installed %s", why);
	int fa = ht_alloc_tier_arena(a, HT_TIER_FAST), sa = ht_alloc_tier_arena(a, HT_TIER_SLOW);
	ok(fa >= 0 && sa >= 0 && fa != sa, "one arena per tier (%d, %d)", fa, sa);
	is_int(ht_alloc_tier_arena(a, 7), -1, "no arena for a tier that does not exist");

	/*
	 * Allocation sites, two generations from the same call stacks. place=none
	 * here: extents carry no policy, so only a learned site can bind memory.
	 */
	c.place = HT_PLACE_NONE;
	void *A[3][3], *B[3][3];
	struct ht_site_info si[16], *SA = NULL, *SB = NULL;
	size_t ns;
	for (int gen = 0; gen < 3; gen++) {
		/* generation 1 with the fast budget's room to spare, generation 2 with none */
		ht_alloc_set_room(a, gen == 2 ? 0 : 1ll << 40);
		for (int i = 0; i < 3; i++) {
			A[gen][i] = site_a(2 * MB);
			memset(A[gen][i], 4, 2 * MB);
			B[gen][i] = site_b(3 * MB);
			memset(B[gen][i], 5, 3 * MB);
		}
		if (gen < 2)
			memcpy(blocks_a + 3 * gen, A[gen], sizeof(A[gen]));
		if (gen)
			continue;
		void *small = malloc(c.site_threshold - 1);
		ht_alloc_resolve_sites(a);
		ns = ht_alloc_top_sites(a, si, 16);
		SA = find_site(si, ns, "site_a");
		SB = find_site(si, ns, "site_b");
		ok(SA && SB, "both call sites recorded and named by symbol (%zu sites: %s, %s)", ns, ns > 0 ? si[0].name : "",
		   ns > 1 ? si[1].name : "");
		ok(SA && SA->allocs == 3 && SA->live_bytes == 6 * MB, "site_a: 3 allocations, 6 MiB live");
		ok(SB && SB->allocs == 3 && SB->live_bytes == 9 * MB, "site_b: 3 allocations, 9 MiB live");
		ok(SA && SB && SA->tier == -1 && SB->tier == -1 && SA->heat < 0, "nothing learned before any heat was measured");
		ok(ns >= 2 && si[0].live_bytes >= si[1].live_bytes, "top sites sorted by live bytes");
		ok(ns == 2, "a block below site_threshold records no site");
		free(small);
		is_int(policy_of((char *)B[0][0] + 8 * 4096), MPOL_DEFAULT, "control: first generation has no policy");
		/* no samples: heat means nothing, nothing is learned */
		ht_alloc_learn(a, fake_heat, NULL, now_ns(), 0, 0);
		ns = ht_alloc_top_sites(a, si, 16);
		SA = find_site(si, ns, "site_a");
		ok(SA && SA->tier == -1, "without samples no site is learned");
		ht_alloc_learn(a, fake_heat, NULL, now_ns(), 0, 1);
		ns = ht_alloc_top_sites(a, si, 16);
		SA = find_site(si, ns, "site_a");
		SB = find_site(si, ns, "site_b");
		ok(SA && SA->tier == HT_TIER_FAST && SA->heat > 0.8, "site_a learned hot -> born fast (heat %.2f)", SA ? SA->heat : -1);
		ok(SB && SB->tier == HT_TIER_SLOW && SB->heat < 0.1, "site_b learned cold -> born slow (heat %.2f)", SB ? SB->heat : -1);
	}
	ok(policy_of((char *)B[1][0] + 8 * 4096) == MPOL_PREFERRED && policy_of((char *)A[1][2] + 8 * 4096) == MPOL_PREFERRED,
	   "second generation from both sites is bound at birth (MPOL_PREFERRED)");
	ns = ht_alloc_top_sites(a, si, 16);
	SA = find_site(si, ns, "site_a");
	SB = find_site(si, ns, "site_b");
	ok(SA && SB && SA->placed == 3 && SB->placed == 6, "each site counts its birth placements (hot %llu, cold %llu)",
	   SA ? (unsigned long long)SA->placed : 0, SB ? (unsigned long long)SB->placed : 0);
	ok(policy_of((char *)A[2][0] + 8 * 4096) == MPOL_DEFAULT && policy_of((char *)B[2][0] + 8 * 4096) == MPOL_PREFERRED,
	   "no room in the fast budget: the hot site's block is not bound fast, the cold site's is bound slow");
	for (int i = 0; i < 3; i++) { /* never observed: their frees add no history */
		free(A[2][i]);
		free(B[2][i]);
	}
	ok(((char *)B[1][2])[3 * MB - 1] == 5, "bytes intact after binding");
	struct evlog *rb = calloc(1, sizeof(*rb));
	ht_alloc_drain(a, on_ev, rb, NULL);
	int reborn = 0;
	for (int i = 0; i < rb->n; i++)
		for (int k = 0; k < 3; k++)
			reborn += rb->unmap[i] == 2 && rb->start[i] >= (uintptr_t)B[1][k] && rb->start[i] < (uintptr_t)B[1][k] + 4096;
	ok(reborn == 3, "each bound birth tells the range map to forget the old counts there (%d reborn events)", reborn);
	free(rb);

	/* frees fold the measured heat into the site's history */
	for (int i = 0; i < 3; i++)
		free(A[0][i]);
	ns = ht_alloc_top_sites(a, si, 16);
	SA = find_site(si, ns, "site_a");
	ok(SA && SA->live_bytes == 6 * MB, "site_a: only the second generation is live after the first is freed");
	ht_alloc_learn(a, fake_heat, NULL, now_ns(), 0, 1);
	ns = ht_alloc_top_sites(a, si, 16);
	SA = find_site(si, ns, "site_a");
	ok(SA && SA->tier == HT_TIER_FAST && SA->nobs == 6, "history kept after free (3 freed + 3 live observations, still hot: %d)",
	   SA ? SA->nobs : -1);
	c.place = HT_PLACE_FAST_FIRST;


	struct ht_stats st0, st1;
	struct evlog *ev = calloc(1, sizeof(*ev));
	ht_alloc_get_stats(a, &st0);

	/* no room on the fast tier: a new extent is born slow */
	ht_alloc_set_room(a, 0);
	char *s1 = malloc(64 * MB);
	memset(s1, 1, 64 * MB);
	ht_alloc_get_stats(a, &st1);
	ok(st1.extents_slow > st0.extents_slow && st1.extents_fast == st0.extents_fast,
	   "fast budget exhausted: the new extent is born on the slow tier (%lu slow)", (unsigned long)(st1.extents_slow - st0.extents_slow));
	/* room again: fast */
	ht_alloc_set_room(a, 1ll << 40);
	char *f1 = malloc(64 * MB);
	memset(f1, 2, 64 * MB);
	ht_alloc_get_stats(a, &st0);
	ok(st0.extents_fast > st1.extents_fast, "budget has room: the new extent is born on the fast tier");
	ok(ht_alloc_fast_since_room(a) >= 64 * MB, "fast placement is charged against the room (%lu MiB)",
	   (unsigned long)(ht_alloc_fast_since_room(a) / MB));
	is_int(policy_of(f1 + 4096), MPOL_PREFERRED, "extent memory really carries an MPOL_PREFERRED policy (mbind)");

	int lost = -1;
	size_t n = ht_alloc_drain(a, on_ev, ev, &lost);
	ok(n > 0 && lost == 0, "range-map events delivered (%zu), none lost", n);
	ok(covered(ev, s1, 64 * MB, 0) && covered(ev, f1, 64 * MB, 0), "both 64 MiB blocks lie inside extents reported to the range map");
	ok(s1[64 * MB - 1] == 1 && f1[0] == 2, "bytes intact");

	/* tier arena: mallocx with the arena, no tcache; purging gives the pages back, jemalloc keeps the addresses (retain) */
	ht_alloc_get_stats(a, &st1);
	char *t = mallocx(8 * MB, MALLOCX_ARENA(sa) | MALLOCX_TCACHE_NONE);
	memset(t, 3, 8 * MB);
	ht_alloc_get_stats(a, &st0);
	ok(t && st0.extents_slow > st1.extents_slow, "tier arena SLOW: extent born slow");
	ev->n = 0;
	ht_alloc_drain(a, on_ev, ev, NULL);
	int tagged = 0;
	for (int i = 0; i < ev->n; i++)
		tagged += !ev->unmap[i] && ev->tier[i] == HT_TIER_SLOW && (uintptr_t)t >= ev->start[i] && (uintptr_t)t < ev->start[i] + ev->len[i];
	ok(covered(ev, t, 8 * MB, 0) && tagged, "tier-arena extent reported to the range map, tagged with its tier (to be pinned)");
	uintptr_t taddr = (uintptr_t)t;
	free(t);
	char name[64];
	snprintf(name, sizeof(name), "arena.%d.purge", sa);
	mallctl(name, NULL, NULL, NULL, 0);
	ev->n = 0;
	ht_alloc_drain(a, on_ev, ev, NULL);
	int removed = 0;
	for (int i = 0; i < ev->n; i++)
		removed += ev->unmap[i] && ev->start[i] <= taddr && ev->start[i] + ev->len[i] > taddr;
	unsigned char vec[8 * MB / 4096];
	size_t resident = 0;
	int mapped = mincore((void *)(taddr & ~(uintptr_t)4095), 8 * MB, vec) == 0; /* large blocks start at a random cache line */
	for (size_t i = 0; mapped && i < sizeof(vec); i++)
		resident += vec[i] & 1;
	ok(mapped && !removed && resident == 0,
	   "freed and purged: pages released (%zu resident), addresses kept mapped and managed (retain: jemalloc must not see them unmapped)",
	   resident);

	/* heat from classifier ranges: overlap-weighted share in the hot set, decayed leftovers floored */
	struct ht_range_info ri[7] = { /* as the engine lists them: pinned first, then by density */
		{ .start = 0x400000, .len = 0x100000, .density = 0, .hint = HT_PIN_FAST, .hot_bytes = 0x100000 },
		{ .start = 0x100000, .len = 0x100000, .density = 1.0, .hot_bytes = 0x100000 },    /* hottest */
		{ .start = 0x300000, .len = 0x100000, .density = 0.5, .hot_bytes = 0x100000 },
		{ .start = 0x500000, .len = 0x100000, .density = 0.4, .hot_bytes = 0x40000 },     /* the budget ends inside */
		{ .start = 0x600000, .len = 0x100000, .density = 0.3 },                                     /* past the budget */
		{ .start = 0x200000, .len = 0x100000, .density = 1e-9, .hot_bytes = 0x100000 },   /* a decayed leftover */
		{ .start = 0x700000, .len = 0x100000, .density = 0 },
	};
	struct ht_heatmap *hm = ht_heatmap_create(16);
	ht_heatmap_build(hm, ri, 7, 0.01);
	ok(ht_heatmap_heat(hm, 0x100000, 0x100000) == 1.0, "heat: a block inside the hottest range is 1");
	ok(ht_heatmap_heat(hm, 0x300000, 0x100000) == 1.0, "heat: a cooler range still wholly in the hot set is 1 (no rank among ranges)");
	ok(fabs(ht_heatmap_heat(hm, 0x500000, 0x100000) - 0.25) < 1e-9, "heat: a range the budget cut counts its hot quarter");
	ok(ht_heatmap_heat(hm, 0x600000, 0x100000) == 0, "heat: sampled but outside the hot set is 0");
	ok(ht_heatmap_heat(hm, 0x200000, 0x100000) == 0, "heat: a decayed leftover below the floor counts as idle");
	ok(ht_heatmap_heat(hm, 0x400000, 0x100000) == 0, "heat: a pinned range without samples teaches nothing");
	ok(fabs(ht_heatmap_heat(hm, 0x180000, 0x100000) - 0.5) < 1e-9, "heat: half in the hottest, half idle is 0.5");
	ok(fabs(ht_heatmap_heat(hm, 0x100000, 0x300000) - 2.0 / 3) < 1e-9, "heat: hottest, leftover, hot: 2/3");
	ok(ht_heatmap_heat(hm, 0x900000, 0x1000) == 0, "heat: unmanaged memory is 0");
	ht_heatmap_destroy(hm);

	/* quiesced (fork child, shutdown): no more events, no more sites */
	ht_alloc_quiesce(a);
	ht_alloc_drain(a, on_ev, ev, NULL);
	ev->n = 0;
	void *q = malloc(128 * MB);
	memset(q, 7, 128 * MB);
	void *q2 = site_a(2 * MB);
	ht_alloc_drain(a, on_ev, ev, NULL);
	is_int(ev->n, 0, "quiesced: no range-map events");
	ns = ht_alloc_top_sites(a, si, 16);
	SA = find_site(si, ns, "site_a");
	ok(SA && SA->allocs == 9, "quiesced: no site recording");
	ok(((char *)q)[128 * MB - 1] == 7, "quiesced: the allocator still works");
	free(q);
	free(q2);
	for (int i = 0; i < 3; i++) {
		free(A[1][i]);
		free(B[0][i]);
		free(B[1][i]);
	}
	free(s1);
	free(f1);
	ht_alloc_detach(a);
	free(ev);
	return tap_done();
}
