/*
 * api.c - the public API of include/hypertier.h. Arguments are validated
 * the same way whether the runtime is on or off; when off, calls succeed as
 * no-ops and allocation falls back to malloc.
 */
#define _GNU_SOURCE
#include "hypertier.h"
#include "runtime.h"
#include "thp.h"
#include "log.h"
#include "../alloc/alloc.h"
#include "../plan/engine.h"
#include "../source/software.h"
#include <errno.h>
#include <jemalloc/jemalloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define HT_API __attribute__((visibility("default")))

HT_API unsigned ht_version(void) { return HT_VERSION; }

HT_API int ht_enabled(void)
{
	struct ht_runtime *r = ht_rt_get();
	ht_rt_put(r);
	return r != NULL;
}

static int fail(int err)
{
	errno = err;
	return -1;
}

/* Page-aligned span of [addr, addr+len), 0 if every page of it is mapped. */
static int mapped_span(const void *addr, size_t len, uintptr_t *lo, size_t *n)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t a = (uintptr_t)addr;
	if (!addr || !len || a + len < a)
		return -1;
	*lo = a & ~(page - 1);
	uintptr_t hi = (a + len + page - 1) & ~(page - 1);
	*n = hi - *lo;
	/* msync fails with ENOMEM when part of the span is not mapped; MS_ASYNC does no I/O */
	return msync((void *)*lo, *n, MS_ASYNC) == 0 ? 0 : -1;
}

HT_API int ht_hint(void *addr, size_t len, int hint)
{
	uintptr_t lo;
	size_t n;
	if (hint < HT_AUTO || hint > HT_PIN_SLOW || mapped_span(addr, len, &lo, &n) < 0)
		return fail(EINVAL);
	struct ht_runtime *r = ht_rt_get();
	int rc = 0;
	if (r) {
		struct ht_engine *e = ht_rt_engine(r);
		rc = ht_engine_hint(e, lo, n, hint);
		/* mapped but not managed yet (a fresh extent still queued, a file mapping): manage it now */
		if (rc == -EINVAL && (rc = ht_engine_add_range(e, lo, n, HT_ORIGIN_USER)) == 0)
			rc = ht_engine_hint(e, lo, n, hint);
	}
	ht_rt_put(r);
	return rc < 0 ? fail(-rc) : 0;
}

HT_API void *ht_malloc_tier(size_t size, int tier)
{
	if (tier != HT_TIER_FAST && tier != HT_TIER_SLOW) {
		errno = EINVAL;
		return NULL;
	}
	struct ht_runtime *r = ht_rt_get();
	int arena = r ? ht_alloc_tier_arena(ht_rt_alloc(r), tier) : -1;
	ht_rt_put(r);
	if (arena < 0)
		return malloc(size);
	/* mallocx(0) is undefined; malloc(0) gives a unique pointer, so do the same */
	return mallocx(size ? size : 1, MALLOCX_ARENA(arena) | MALLOCX_TCACHE_NONE);
}

HT_API void ht_free(void *ptr) { free(ptr); }

HT_API int ht_set_fast_quota(uint64_t bytes)
{
	char why[256];
	if (bytes && ht_quota_check(bytes, ht_thp_unit(NULL), why, sizeof(why)) < 0) {
		ht_warn("ht_set_fast_quota: %s", why);
		errno = EINVAL;
		return -1;
	}
	struct ht_runtime *r = ht_rt_get();
	if (r)
		ht_engine_set_quota(ht_rt_engine(r), bytes);
	ht_rt_put(r);
	return 0;
}

HT_API void ht_sample_access2(const void *addr, uint32_t weight, int kind)
{
	if (ht_rt())
		ht_software_push((uint64_t)(uintptr_t)addr, weight ? weight : 1, kind == HT_STORE);
}

HT_API void ht_sample_access(const void *addr, uint32_t weight) { ht_sample_access2(addr, weight, HT_LOAD); }

HT_API int ht_register(void *addr, size_t len)
{
	uintptr_t lo;
	size_t n;
	if (mapped_span(addr, len, &lo, &n) < 0)
		return fail(EINVAL);
	struct ht_runtime *r = ht_rt_get();
	int rc = r ? ht_engine_add_range(ht_rt_engine(r), lo, n, HT_ORIGIN_USER) : 0;
	ht_rt_put(r);
	return rc < 0 ? fail(-rc) : 0;
}

HT_API int ht_unregister(void *addr, size_t len)
{
	uintptr_t a = (uintptr_t)addr;
	if (!addr || !len || a + len < a)
		return fail(EINVAL);
	struct ht_runtime *r = ht_rt_get();
	int rc = r ? ht_engine_remove_range(ht_rt_engine(r), a, len) : 0;
	ht_rt_put(r);
	return rc < 0 ? fail(-rc) : 0;
}

HT_API int ht_stats(struct ht_stats *st)
{
	if (!st || st->size < offsetof(struct ht_stats, fast_quota))
		return fail(EINVAL);
	uint32_t size = st->size < sizeof(*st) ? st->size : (uint32_t)sizeof(*st);
	struct ht_stats full;
	struct ht_runtime *r = ht_rt_get();
	ht_rt_fill_stats(r, &full);
	ht_rt_put(r);
	full.size = st->size;
	memcpy(st, &full, size);
	return 0;
}
