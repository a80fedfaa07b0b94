/*
 * site.c - allocation sites: big allocations remember the call stack that
 * made them (libunwind local unwinding, hashed), the runtime thread measures
 * how hot their ranges became (the engine's density rank), and a site with
 * a hot or cold history gets its next allocations on that tier at birth.
 *
 * Recorded from libhypertier.so's malloc wrappers (front.h) when they are
 * there, else through jemalloc's allocation hooks. Both run outside
 * jemalloc's locks and never recurse: they unwind, look the site up in a
 * lock-free table and, for a learned site, mbind the new block.
 */
#define _GNU_SOURCE
#include "internal.h"
#include <dlfcn.h>
#include <malloc.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#define UNW_LOCAL_ONLY
#include <libunwind.h>

/*
 * jemalloc 5.3's experimental.hooks.install argument (internal/hook.h; it
 * is not in the public header). ht_site_install checks the version first.
 */
enum je_hook_alloc { JH_MALLOC = HT_AE_MALLOC, JH_POSIX_MEMALIGN, JH_ALIGNED_ALLOC, JH_CALLOC, JH_MEMALIGN,
		     JH_VALLOC, JH_MALLOCX, JH_REALLOC, JH_RALLOCX };
struct je_hooks {
	void (*alloc_hook)(void *extra, int type, void *result, uintptr_t result_raw, uintptr_t args[3]);
	void (*dalloc_hook)(void *extra, int type, void *address, uintptr_t args[3]);
	void (*expand_hook)(void *extra, int type, void *address, size_t old_usize, size_t new_usize,
			    uintptr_t result_raw, uintptr_t args[4]);
	void *extra;
};

#define FP 1000000.0 /* fixed point for heat in atomics */
#define LIVE_PROBES 64

static size_t req_size(int type, uintptr_t result_raw, const uintptr_t *args)
{
	switch (type) {
	case JH_MALLOC: case JH_VALLOC: case JH_MALLOCX: return args[0];
	case JH_CALLOC: return args[0] * args[1];
	case JH_POSIX_MEMALIGN: return result_raw == 0 ? args[2] : 0;
	case JH_ALIGNED_ALLOC: case JH_MEMALIGN: case JH_REALLOC: case JH_RALLOCX: return args[1];
	default: return 0;
	}
}

/* Same function, same depth, for calibration and for real use: keep it out of line. */
static __attribute__((noinline)) int capture(void **buf, int max)
{
	return unw_backtrace(buf, max);
}

static uint64_t hash_ips(const uintptr_t *ips, int n)
{
	uint64_t h = 1469598103934665603ull;
	for (int i = 0; i < n; i++)
		for (int b = 0; b < 8; b++) {
			h ^= (ips[i] >> (8 * b)) & 0xff;
			h *= 1099511628211ull;
		}
	return h ? h : 1;
}

static int site_get(struct ht_alloc *a, uint64_t h, const uintptr_t *ips, int nip)
{
	for (int i = 0; i < HT_SITES; i++) {
		int s = (int)((h + i) % HT_SITES);
		struct ht_site *st = &a->sites[s];
		uint64_t cur = atomic_load_explicit(&st->hash, memory_order_acquire);
		if (cur == h)
			return s;
		if (cur == 0) {
			uint64_t zero = 0;
			if (atomic_compare_exchange_strong(&st->hash, &zero, h)) {
				memcpy(st->ip, ips, nip * sizeof(*ips));
				st->nip = nip;
				st->heat = -1;
				atomic_store_explicit(&st->ready, 1, memory_order_release);
				return s;
			}
			if (zero == h)
				return s;
		}
	}
	return -1;
}

static size_t live_idx(uintptr_t addr) { return (size_t)(((addr >> 12) * 0x9E3779B97F4A7C15ull) >> 51) % HT_LIVE; }

static int live_insert(struct ht_alloc *a, uintptr_t addr, size_t size, int site)
{
	size_t i = live_idx(addr);
	for (int p = 0; p < LIVE_PROBES; p++, i = (i + 1) % HT_LIVE) {
		struct ht_live *l = &a->live_tab[i];
		uintptr_t cur = atomic_load(&l->addr);
		if (cur > 1)
			continue;
		if (!atomic_compare_exchange_strong(&l->addr, &cur, 2))
			continue;
		l->size = size;
		l->site = site;
		l->born_ns = ht_alloc_now_ns();
		atomic_store(&l->heat_fp, 0);
		atomic_store(&l->nobs, 0);
		atomic_store_explicit(&l->addr, addr, memory_order_release);
		return 1;
	}
	atomic_fetch_add(&a->sites_dropped, 1);
	return 0;
}

static void calibrated(struct ht_alloc *a, int type);

/*
 * Record one block; 1 when it went into the live table. Inlined into both
 * entry paths, so that the unwind starts at the same depth as calibrated().
 */
static inline __attribute__((always_inline)) int record(struct ht_alloc *a, int type, void *result, size_t size)
{
	if (!result || size < a->conf->site_threshold || !atomic_load_explicit(&a->live, memory_order_relaxed))
		return 0;
	void *buf[HT_SITE_MAXDEPTH + 16];
	int skip = type >= 0 && type < 16 ? a->skip[type] : 0;
	int n = capture(buf, skip + (int)a->conf->site_depth);
	uintptr_t ips[HT_SITE_MAXDEPTH];
	int nip = 0;
	for (int i = skip; i < n && nip < HT_SITE_MAXDEPTH; i++)
		ips[nip++] = (uintptr_t)buf[i];
	uint64_t h = hash_ips(ips, nip);
	int s = site_get(a, h, ips, nip);
	if (s < 0) {
		atomic_fetch_add(&a->sites_dropped, 1);
		return 0;
	}
	struct ht_site *st = &a->sites[s];
	atomic_fetch_add(&st->allocs, 1);
	atomic_fetch_add(&st->live_bytes, size);
	int in = live_insert(a, (uintptr_t)result, size, s);
	int tier = atomic_load_explicit(&st->tier, memory_order_relaxed);
	if (tier < 0)
		return in;
	/* Learned site: bind the whole pages of the block to its tier, moving any reused ones. */
	size_t page = 4096;
	uintptr_t lo = ((uintptr_t)result + page - 1) & ~(page - 1);
	uintptr_t hi = ((uintptr_t)result + size) & ~(page - 1);
	if (hi <= lo)
		return in;
	/* reused memory still carries the dead object's counts: the site's history replaces them (before the move, so no plan undoes it) */
	ht_alloc_push(a, (void *)lo, hi - lo, 2, -1);
	/* a hot site's block goes fast only while the budget has room, as an extent's would; else the engine decides */
	if (tier == HT_TIER_FAST && !ht_alloc_claim_fast(a, hi - lo))
		return in;
	if (ht_alloc_bind((void *)lo, hi - lo, a->node[tier], 1) == 0)
		atomic_fetch_add(&st->placed, 1);
	return in;
}

static void on_alloc(void *extra, int type, void *result, uintptr_t result_raw, uintptr_t args[3])
{
	struct ht_alloc *a = extra;
	if (atomic_load_explicit(&a->calibrating, memory_order_relaxed))
		calibrated(a, type);
	else
		record(a, type, result, req_size(type, result_raw, args));
}

/* A block is freed: fold its heat into its site's history. 1 if it was tracked. */
static int forget(struct ht_alloc *a, void *address)
{
	size_t i = live_idx((uintptr_t)address);
	for (int p = 0; p < LIVE_PROBES; p++, i = (i + 1) % HT_LIVE) {
		struct ht_live *l = &a->live_tab[i];
		uintptr_t cur = atomic_load_explicit(&l->addr, memory_order_acquire);
		if (cur == 0)
			return 0;
		if (cur != (uintptr_t)address)
			continue;
		struct ht_site *st = &a->sites[l->site];
		if (atomic_load(&l->nobs)) {
			atomic_fetch_add(&st->hist_heat_fp, atomic_load(&l->heat_fp));
			atomic_fetch_add(&st->hist_n, 1);
		}
		atomic_fetch_sub(&st->live_bytes, l->size);
		atomic_store_explicit(&l->addr, 1, memory_order_release);
		return 1;
	}
	return 0;
}

static void on_dalloc(void *extra, int type, void *address, uintptr_t args[3])
{
	(void)type;
	(void)args;
	if (address)
		forget(extra, address);
}

static _Atomic(struct ht_site_front *) front_seam;

void ht_site_set_front(struct ht_site_front *f) { atomic_store(&front_seam, f); }

void ht_site_front_alloc(struct ht_site_front *f, int type, void *p, size_t size)
{
	struct ht_alloc *a = atomic_load_explicit(&f->a, memory_order_acquire);
	if (!a)
		return;
	if (atomic_load_explicit(&a->calibrating, memory_order_relaxed))
		calibrated(a, type);
	else if (record(a, type, p, size))
		atomic_fetch_add_explicit(&f->live[ht_front_slot(p)], 1, memory_order_relaxed);
}

void ht_site_front_free(struct ht_site_front *f, void *p)
{
	struct ht_alloc *a = atomic_load_explicit(&f->a, memory_order_acquire);
	if (a && forget(a, p))
		atomic_fetch_sub_explicit(&f->live[ht_front_slot(p)], 1, memory_order_relaxed);
}

/*
 * How many frames lie between the hook and the program for each entry
 * point: call each one from calibrate() and find calibrate's caller in the
 * hook's backtrace. Works whether jemalloc sits in a DSO or in the program.
 */
static void calibrated(struct ht_alloc *a, int type)
{
	void *buf[64];
	int n = capture(buf, 64);
	if (type < 0 || type >= 16 || atomic_load(&a->calibrating) != type + 1)
		return;
	for (int i = 1; i < n; i++)
		if ((uintptr_t)buf[i] == a->calib_want) {
			a->skip[type] = i - 1; /* buf[i-1] is inside calibrate(): the "caller" frame */
			return;
		}
}

static __attribute__((noinline)) void calibrate(struct ht_alloc *a, int type, size_t n)
{
	void *ref[2], *p = NULL, *q = malloc(64);
	if (unw_backtrace(ref, 2) < 2 || !q)
		goto out;
	a->calib_want = (uintptr_t)ref[1];
	atomic_store(&a->calibrating, type + 1);
	switch (type) {
	case JH_MALLOC: p = malloc(n); break;
	case JH_CALLOC: p = calloc(1, n); break;
	case JH_POSIX_MEMALIGN: if (posix_memalign(&p, 64, n)) p = NULL; break;
	case JH_ALIGNED_ALLOC: p = aligned_alloc(64, n); break;
	case JH_MEMALIGN: p = memalign(64, n); break;
	case JH_VALLOC: p = valloc(n); break;
	case JH_MALLOCX: p = mallocx(n, 0); break;
	case JH_REALLOC: p = realloc(q, n); q = NULL; break;
	case JH_RALLOCX: p = rallocx(q, n, 0); q = NULL; break;
	}
	atomic_store(&a->calibrating, 0);
out:
	free(p);
	free(q);
	__asm__ volatile("" ::: "memory"); /* no tail calls: calibrate keeps its frame */
}

int ht_site_install(struct ht_alloc *a, char *why, size_t whylen)
{
	const char *ver = NULL;
	size_t sz = sizeof(ver);
	if (mallctl("version", &ver, &sz, NULL, 0) || strncmp(ver, "5.3.", 4)) {
		snprintf(why, whylen, "allocation sites need jemalloc 5.3 hooks (have %s)", ver ? ver : "?");
		return -1;
	}
	struct ht_site_front *f = atomic_load(&front_seam);
	if (f) { /* libhypertier.so's own wrappers: every entry is seen while calibrating */
		a->site_front = f;
		atomic_store(&f->min, 0);
		atomic_store(&f->a, a);
		for (int t = JH_MALLOC; t <= JH_RALLOCX; t++)
			calibrate(a, t, 4096);
		atomic_store(&f->min, a->conf->site_threshold);
		return 0;
	}
	struct je_hooks hk = { on_alloc, on_dalloc, NULL, a };
	sz = sizeof(a->site_hook);
	if (mallctl("experimental.hooks.install", &a->site_hook, &sz, &hk, sizeof(hk))) {
		snprintf(why, whylen, "jemalloc experimental.hooks.install failed");
		a->site_hook = NULL;
		return -1;
	}
	for (int t = JH_MALLOC; t <= JH_RALLOCX; t++)
		calibrate(a, t, 4096);
	return 0;
}

void ht_site_remove(struct ht_alloc *a)
{
	if (a->site_front) { /* a stays mapped: a wrapper still inside it finds live == 0 */
		atomic_store(&a->site_front->min, SIZE_MAX);
		atomic_store(&a->site_front->a, NULL);
		a->site_front = NULL;
	}
	if (a->site_hook && !mallctl("experimental.hooks.remove", NULL, NULL, &a->site_hook, sizeof(a->site_hook)))
		a->site_hook = NULL;
}

void ht_alloc_learn(struct ht_alloc *a, ht_heat_fn heat, void *arg, uint64_t now_ns, uint64_t min_age_ns, int sampling)
{
	memset(a->tmp_sum, 0, sizeof(a->tmp_sum));
	memset(a->tmp_n, 0, sizeof(a->tmp_n));
	for (size_t i = 0; i < HT_LIVE; i++) {
		struct ht_live *l = &a->live_tab[i];
		uintptr_t addr = atomic_load_explicit(&l->addr, memory_order_acquire);
		if (addr <= 2 || now_ns - l->born_ns < min_age_ns)
			continue;
		if (sampling && heat) {
			double h = heat(arg, addr, l->size);
			atomic_store(&l->heat_fp, (uint32_t)(h < 0 ? 0 : h > 1 ? FP : h * FP));
			atomic_fetch_add(&l->nobs, 1);
		}
		if (atomic_load(&l->nobs)) {
			a->tmp_sum[l->site] += atomic_load(&l->heat_fp) / FP;
			a->tmp_n[l->site]++;
		}
	}
	for (int s = 0; s < HT_SITES; s++) {
		struct ht_site *st = &a->sites[s];
		if (!atomic_load(&st->ready))
			continue;
		uint64_t n = atomic_load(&st->hist_n) + a->tmp_n[s];
		if (!n)
			continue;
		double score = (atomic_load(&st->hist_heat_fp) / FP + a->tmp_sum[s]) / n;
		st->heat = score;
		st->nobs = (int)n;
		int tier = score * 100 >= a->conf->site_hot ? HT_TIER_FAST
			 : score * 100 <= a->conf->site_cold ? HT_TIER_SLOW : -1;
		atomic_store(&st->tier, tier);
	}
}

static void frame_name(uintptr_t ip, char *out, size_t len)
{
	Dl_info di;
	if (dladdr((void *)ip, &di) && di.dli_sname)
		snprintf(out, len, "%s+0x%lx", di.dli_sname, (unsigned long)(ip - (uintptr_t)di.dli_saddr));
	else if (dladdr((void *)ip, &di) && di.dli_fname)
		snprintf(out, len, "%s+0x%lx", strrchr(di.dli_fname, '/') ? strrchr(di.dli_fname, '/') + 1 : di.dli_fname,
			 (unsigned long)(ip - (uintptr_t)di.dli_fbase));
	else
		snprintf(out, len, "0x%lx", (unsigned long)ip);
}

void ht_alloc_resolve_sites(struct ht_alloc *a)
{
	for (int s = 0; s < HT_SITES; s++) {
		struct ht_site *st = &a->sites[s];
		if (!atomic_load_explicit(&st->ready, memory_order_acquire) || st->name[0])
			continue;
		if (!st->nip) {
			snprintf(st->name, sizeof(st->name), "?");
			continue;
		}
		/* the allocating frame and up to two callers: the first is often a wrapper (xmalloc, zmalloc) */
		char buf[sizeof(st->name)] = "";
		size_t used = 0;
		for (int k = 0; k < st->nip && k < 3 && used < sizeof(buf); k++) {
			char one[sizeof(buf)];
			frame_name(st->ip[k], one, sizeof(one));
			used += (size_t)snprintf(buf + used, sizeof(buf) - used, "%s%s", k ? " < " : "", one);
		}
		memcpy(st->name, buf, sizeof(buf));
	}
}

size_t ht_alloc_top_sites(struct ht_alloc *a, struct ht_site_info *out, size_t max)
{
	size_t n = 0;
	for (int s = 0; s < HT_SITES; s++) {
		struct ht_site *st = &a->sites[s];
		if (!atomic_load_explicit(&st->ready, memory_order_acquire))
			continue;
		struct ht_site_info in = {
			.hash = atomic_load(&st->hash), .allocs = atomic_load(&st->allocs),
			.live_bytes = atomic_load(&st->live_bytes), .placed = atomic_load(&st->placed), .heat = st->heat,
			.tier = atomic_load(&st->tier), .nobs = st->nobs,
		};
		snprintf(in.name, sizeof(in.name), "%s", st->name);
		/* insertion into a small sorted array: by live bytes, then allocations */
		size_t pos = n;
		while (pos > 0 && (out[pos - 1].live_bytes < in.live_bytes ||
				   (out[pos - 1].live_bytes == in.live_bytes && out[pos - 1].allocs < in.allocs)))
			pos--;
		if (pos >= max)
			continue;
		size_t last = n < max ? n : max - 1;
		memmove(&out[pos + 1], &out[pos], (last - pos) * sizeof(*out));
		out[pos] = in;
		if (n < max)
			n++;
	}
	return n;
}
