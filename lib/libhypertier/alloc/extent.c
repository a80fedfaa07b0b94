/*
 * extent.c - jemalloc extent hooks that place new memory on a tier at birth
 * (as HMSDK's hmalloc does: mmap + mbind), and the range-map event ring.
 *
 * The hooks run inside jemalloc, possibly under its locks: no malloc, no
 * lock, only system calls on the memory itself and a lock-free push.
 */
#define _GNU_SOURCE
#include "internal.h"
#include <dlfcn.h>
#include <errno.h>
#include <numaif.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

uint64_t ht_alloc_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

int ht_alloc_bind(void *p, size_t len, int node, int move)
{
	unsigned long mask[1024 / (8 * sizeof(unsigned long))] = { 0 };
	if (node < 0 || node >= 1024 || !len)
		return -1;
	mask[node / (8 * sizeof(unsigned long))] = 1ul << (node % (8 * sizeof(unsigned long)));
	return mbind(p, len, MPOL_PREFERRED, mask, 1024, move ? MPOL_MF_MOVE : 0);
}

/* ---- event ring: bounded MPSC (Vyukov), consumer is the runtime thread ---- */

void ht_alloc_set_announce(struct ht_alloc *a, void (*fn)(void *, uintptr_t, size_t), void *arg)
{
	a->announce_arg = arg;
	a->announce = fn;
}

void ht_alloc_push(struct ht_alloc *a, void *p, size_t len, int unmap, int tier)
{
	if (!atomic_load_explicit(&a->live, memory_order_acquire))
		return;
	uint64_t pos = atomic_load_explicit(&a->ring_head, memory_order_relaxed);
	for (;;) {
		struct ht_map_ev *e = &a->ring[pos % HT_RING_SLOTS];
		uint64_t seq = atomic_load_explicit(&e->seq, memory_order_acquire);
		int64_t dif = (int64_t)(seq - pos);
		if (dif == 0) {
			if (atomic_compare_exchange_weak_explicit(&a->ring_head, &pos, pos + 1,
								  memory_order_relaxed, memory_order_relaxed)) {
				e->start = (uintptr_t)p;
				e->len = len;
				e->unmap = unmap;
				e->tier = tier;
				/* the event reaches the engine later; a running plan must skip the span now
				 * (only once the event is sure to follow: the engine lists it until then) */
				if (unmap && a->announce)
					a->announce(a->announce_arg, (uintptr_t)p, len);
				atomic_store_explicit(&e->seq, pos + 1, memory_order_release);
				break;
			}
		} else if (dif < 0) {
			atomic_fetch_add(&a->ring_lost, 1); /* full: the runtime rescans the maps */
			break;
		} else {
			pos = atomic_load_explicit(&a->ring_head, memory_order_relaxed);
		}
	}
	uint64_t one = 1;
	ssize_t w = write(a->efd, &one, sizeof(one));
	(void)w;
}

size_t ht_alloc_drain(struct ht_alloc *a, ht_alloc_map_fn fn, void *arg, int *overflowed)
{
	uint64_t v;
	size_t n = 0;
	ssize_t r = read(a->efd, &v, sizeof(v));
	(void)r;
	for (;;) {
		uint64_t pos = atomic_load_explicit(&a->ring_tail, memory_order_relaxed);
		struct ht_map_ev *e = &a->ring[pos % HT_RING_SLOTS];
		if (atomic_load_explicit(&e->seq, memory_order_acquire) != pos + 1)
			break;
		uintptr_t start = e->start;
		size_t len = e->len;
		int unmap = e->unmap, tier = e->tier;
		atomic_store_explicit(&e->seq, pos + HT_RING_SLOTS, memory_order_release);
		atomic_store_explicit(&a->ring_tail, pos + 1, memory_order_relaxed);
		fn(arg, start, len, unmap, tier);
		n++;
	}
	if (overflowed)
		*overflowed = atomic_exchange(&a->ring_lost, 0) != 0;
	return n;
}

int ht_alloc_event_fd(struct ht_alloc *a) { return a->efd; }

/* ---- the hooks ------------------------------------------------------------ */

static struct ht_hooks *hooks_of(extent_hooks_t *h) { return (struct ht_hooks *)h; }

static void *map_aligned(void *want, size_t size, size_t align)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	int prot = PROT_READ | PROT_WRITE, fl = MAP_PRIVATE | MAP_ANONYMOUS;
	if (want) {
		void *p = mmap(want, size, prot, fl | MAP_FIXED_NOREPLACE, -1, 0);
		if (p == MAP_FAILED)
			return NULL;
		if (p != want) { /* kernels before 4.17 ignore the flag */
			munmap(p, size);
			return NULL;
		}
		return p;
	}
	if (align < page)
		align = page;
	size_t over = size + align - page;
	if (over < size)
		return NULL;
	char *p = mmap(NULL, over, prot, fl, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	uintptr_t s = ((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1);
	if (s > (uintptr_t)p)
		munmap(p, s - (uintptr_t)p);
	if ((char *)p + over > (char *)s + size)
		munmap((char *)s + size, (uintptr_t)p + over - (s + size));
	return (void *)s;
}

int ht_alloc_claim_fast(struct ht_alloc *a, size_t size)
{
	if (atomic_fetch_sub(&a->room, (int64_t)size) - (int64_t)size < 0)
		return 0;
	atomic_fetch_add(&a->fast_since_room, size);
	return 1;
}

/* Fast while the budget has room (fast_first), else slow; conf->place can force either. */
static int pick_tier(struct ht_alloc *a, int fixed, size_t size)
{
	if (fixed >= 0)
		return fixed;
	switch (a->conf->place) {
	case HT_PLACE_FAST: return HT_TIER_FAST;
	case HT_PLACE_SLOW: return HT_TIER_SLOW;
	case HT_PLACE_NONE: return -1;
	default: break;
	}
	return ht_alloc_claim_fast(a, size) ? HT_TIER_FAST : HT_TIER_SLOW;
}

static void *ext_alloc(extent_hooks_t *h, void *new_addr, size_t size, size_t align,
		       bool *zero, bool *commit, unsigned arena_ind)
{
	struct ht_hooks *hk = hooks_of(h);
	struct ht_alloc *a = hk->a;
	void *p = map_aligned(new_addr, size, align);
	if (!p)
		return NULL;
	int tier = pick_tier(a, hk->tier, size);
	if (tier >= 0) {
		ht_alloc_bind(p, size, a->node[tier], 0);
		atomic_fetch_add(&a->extents[tier], 1);
		atomic_fetch_add(&a->extent_bytes[tier], size);
	}
	*zero = true;
	*commit = true;
	ht_alloc_push(a, p, size, 0, hk->tier);
	return p;
}

static bool ext_dalloc(extent_hooks_t *h, void *addr, size_t size, bool committed, unsigned arena_ind)
{
	if (munmap(addr, size))
		return true; /* keep it: jemalloc retains the extent */
	ht_alloc_push(hooks_of(h)->a, addr, size, 1, hooks_of(h)->tier);
	return false;
}

static void ext_destroy(extent_hooks_t *h, void *addr, size_t size, bool committed, unsigned arena_ind)
{
	if (!munmap(addr, size))
		ht_alloc_push(hooks_of(h)->a, addr, size, 1, hooks_of(h)->tier);
}

/* Memory is always committed; refusing decommit makes jemalloc purge instead. */
static bool ext_commit(extent_hooks_t *h, void *addr, size_t size, size_t off, size_t len, unsigned ind)
{
	return false;
}

static bool ext_decommit(extent_hooks_t *h, void *addr, size_t size, size_t off, size_t len, unsigned ind)
{
	return true;
}

/* A purge keeps the mapping and its policy: the range stays managed, its pages go. */
static bool ext_purge_lazy(extent_hooks_t *h, void *addr, size_t size, size_t off, size_t len, unsigned ind)
{
	return madvise((char *)addr + off, len, MADV_FREE) != 0;
}

static bool ext_purge_forced(extent_hooks_t *h, void *addr, size_t size, size_t off, size_t len, unsigned ind)
{
	return madvise((char *)addr + off, len, MADV_DONTNEED) != 0;
}

/* All our extents are plain anonymous mmaps: splitting and merging are free. */
static bool ext_split(extent_hooks_t *h, void *addr, size_t size, size_t a, size_t b, bool committed, unsigned ind)
{
	return false;
}

static bool ext_merge(extent_hooks_t *h, void *a, size_t sa, void *b, size_t sb, bool committed, unsigned ind)
{
	return false;
}

/*
 * With opt.retain (jemalloc's default) dalloc must opt out, as jemalloc's
 * own hook does: jemalloc then purges the extent and keeps its addresses.
 * It relies on that: with retain it never checks that two neighbouring
 * extents belong to the same arena before coalescing them, because a new
 * mapping always starts with a "head" extent and old ones are never
 * unmapped. Unmapping part of a mapping lets another arena map the hole
 * and end right below a non-head extent of the first; jemalloc then merged
 * the two and corrupted both arenas' heaps (crashes in extent coalescing).
 */
static void hooks_init(struct ht_hooks *hk, struct ht_alloc *a, int tier, int retain)
{
	hk->h = (extent_hooks_t){
		.alloc = ext_alloc, .dalloc = retain ? NULL : ext_dalloc, .destroy = ext_destroy,
		.commit = ext_commit, .decommit = ext_decommit,
		.purge_lazy = ext_purge_lazy, .purge_forced = ext_purge_forced,
		.split = ext_split, .merge = ext_merge,
	};
	hk->a = a;
	hk->tier = tier;
}

/* ---- life ------------------------------------------------------------------ */

/* True when the malloc this process calls is the jemalloc linked into us. */
static int jemalloc_is_malloc(void)
{
	Dl_info m, self;
	void *sym = dlsym(RTLD_DEFAULT, "malloc");
	if (!sym || !dladdr(sym, &m) || !dladdr((void *)ht_alloc_create, &self))
		return 0;
	return m.dli_fbase == self.dli_fbase;
}

struct ht_alloc *ht_alloc_create(const struct ht_conf *c, int fast, int slow, char *why, size_t whylen)
{
	if (!jemalloc_is_malloc()) {
		snprintf(why, whylen, "the process allocator is not libhypertier's jemalloc (preload or link libhypertier.so)");
		return NULL;
	}
	struct ht_alloc *a = mmap(NULL, sizeof(*a), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a == MAP_FAILED) {
		snprintf(why, whylen, "allocator state: %s", strerror(errno));
		return NULL;
	}
	a->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (a->efd < 0) {
		snprintf(why, whylen, "eventfd: %s", strerror(errno));
		munmap(a, sizeof(*a));
		return NULL;
	}
	a->conf = c;
	a->node[HT_TIER_FAST] = fast;
	a->node[HT_TIER_SLOW] = slow;
	a->arena[0] = a->arena[1] = -1;
	for (uint64_t i = 0; i < HT_RING_SLOTS; i++)
		atomic_init(&a->ring[i].seq, i);
	for (int i = 0; i < HT_SITES; i++)
		atomic_init(&a->sites[i].tier, -1);
	bool retain = true;
	size_t sz = sizeof(retain);
	if (mallctl("opt.retain", &retain, &sz, NULL, 0))
		retain = true;
	hooks_init(&a->auto_hooks, a, -1, retain);
	hooks_init(&a->tier_hooks[HT_TIER_FAST], a, HT_TIER_FAST, retain);
	hooks_init(&a->tier_hooks[HT_TIER_SLOW], a, HT_TIER_SLOW, retain);
	atomic_store(&a->live, 1);
	return a;
}

int ht_alloc_attach(struct ht_alloc *a, char *why, size_t whylen)
{
	unsigned n = 0;
	size_t sz = sizeof(n);
	if (mallctl("opt.narenas", &n, &sz, NULL, 0)) {
		snprintf(why, whylen, "mallctl opt.narenas failed");
		return -1;
	}
	extent_hooks_t *hp = &a->auto_hooks.h;
	for (unsigned i = 0; i < n; i++) {
		char name[64];
		snprintf(name, sizeof(name), "arena.%u.extent_hooks", i);
		if (mallctl(name, NULL, NULL, &hp, sizeof(hp))) {
			snprintf(why, whylen, "mallctl %s failed", name);
			return -1;
		}
	}
	for (int t = 0; t < 2; t++) {
		unsigned ind;
		sz = sizeof(ind);
		hp = &a->tier_hooks[t].h;
		if (mallctl("arenas.create", &ind, &sz, &hp, sizeof(hp))) {
			snprintf(why, whylen, "mallctl arenas.create failed");
			return -1;
		}
		a->arena[t] = (int)ind;
	}
	if (a->conf->site_threshold > 0 && ht_site_install(a, why, whylen) < 0)
		return -1;
	return 0;
}

void ht_alloc_quiesce(struct ht_alloc *a)
{
	atomic_store(&a->live, 0);
}

void ht_alloc_detach(struct ht_alloc *a)
{
	ht_alloc_quiesce(a);
	ht_site_remove(a);
}

void ht_alloc_set_room(struct ht_alloc *a, int64_t bytes)
{
	atomic_store(&a->fast_since_room, 0);
	atomic_store(&a->room, bytes);
}

uint64_t ht_alloc_fast_since_room(struct ht_alloc *a) { return atomic_load(&a->fast_since_room); }

uint64_t ht_alloc_fast_born(struct ht_alloc *a) { return atomic_load(&a->extent_bytes[HT_TIER_FAST]); }

int ht_alloc_tier_arena(struct ht_alloc *a, int tier)
{
	return (a && (tier == HT_TIER_FAST || tier == HT_TIER_SLOW)) ? a->arena[tier] : -1;
}

void ht_alloc_get_stats(struct ht_alloc *a, struct ht_stats *st)
{
	st->extents_fast = atomic_load(&a->extents[HT_TIER_FAST]);
	st->extents_slow = atomic_load(&a->extents[HT_TIER_SLOW]);
}
