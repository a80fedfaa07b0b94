/*
 * preload.c - what makes libhypertier.so a malloc replacement and starts
 * the runtime. jemalloc's PIC archive is linked in whole with its entry
 * points renamed htje_* (Makefile.am); the malloc family below wraps them
 * and hypertier.map exports it, so LD_PRELOAD (or linking -lhypertier)
 * replaces glibc's allocator; everything else stays hidden.
 */
#define _GNU_SOURCE
#include "core/runtime.h"
#include "alloc/front.h"
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include <malloc.h>

#define HT_API __attribute__((visibility("default")))

/*
 * Options for the embedded jemalloc (MALLOC_CONF still applies on top):
 * no separate "huge" arena, so big allocations also go through the arenas
 * whose extent hooks place memory on a tier. (retain:false would place
 * each extent at its own size, but in the guest it made the runtime crash
 * in one run of three; kept at jemalloc's default until that is understood.)
 */
const char *malloc_conf = "oversize_threshold:0";

/* glibc has pvalloc, jemalloc does not: without ours, glibc's would hand out its own memory. */
HT_API void *pvalloc(size_t size)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t n = (size + page - 1) & ~(page - 1);
	if (n < size) {
		errno = ENOMEM;
		return NULL;
	}
	return memalign(page, n ? n : page);
}

/* jemalloc's entry points, renamed at build time (Makefile.am). */
void *htje_malloc(size_t size);
void *htje_calloc(size_t n, size_t size);
void *htje_realloc(void *ptr, size_t size);
int htje_posix_memalign(void **p, size_t align, size_t size);
void *htje_aligned_alloc(size_t align, size_t size);
void *htje_memalign(size_t align, size_t size);
void *htje_valloc(size_t size);
void *htje_mallocx(size_t size, int flags);
void *htje_rallocx(void *ptr, size_t size, int flags);
void htje_free(void *ptr);
void htje_dallocx(void *ptr, int flags);
void htje_sdallocx(void *ptr, size_t size, int flags);

/* Blocks above site_threshold go to the call-site recorder (alloc/front.h); the rest pass straight through. */
static struct ht_site_front front = { .min = SIZE_MAX };

/* An allocation: jemalloc's, then a look by the recorder if it is big. */
#define ALLOC(name, type, params, args, size)                 \
	HT_API void *name params                              \
	{                                                     \
		void *p = htje_##name args;                   \
		ht_front_note(&front, type, p, size);         \
		return p;                                     \
	}
/* A free: the recorder forgets the block first (its address may be reused at once). */
#define FREE(name, params, args)                              \
	HT_API void name params                               \
	{                                                     \
		ht_front_forget(&front, ptr);                 \
		htje_##name args;                             \
	}

ALLOC(malloc, HT_AE_MALLOC, (size_t size), (size), size)
ALLOC(aligned_alloc, HT_AE_ALIGNED_ALLOC, (size_t align, size_t size), (align, size), size)
ALLOC(memalign, HT_AE_MEMALIGN, (size_t align, size_t size), (align, size), size)
ALLOC(valloc, HT_AE_VALLOC, (size_t size), (size), size)
ALLOC(mallocx, HT_AE_MALLOCX, (size_t size, int flags), (size, flags), size)
FREE(free, (void *ptr), (ptr))
FREE(dallocx, (void *ptr, int flags), (ptr, flags))
FREE(sdallocx, (void *ptr, size_t size, int flags), (ptr, size, flags))

HT_API void *calloc(size_t n, size_t size)
{
	void *p = htje_calloc(n, size);
	ht_front_note(&front, HT_AE_CALLOC, p, p ? n * size : 0);
	return p;
}

/* Like glibc: a failed realloc sets ENOMEM (jemalloc 5.3 does not). */
HT_API void *realloc(void *ptr, size_t size)
{
	ht_front_forget(&front, ptr);
	void *q = htje_realloc(ptr, size);
	if (!q && size)
		errno = ENOMEM;
	ht_front_note(&front, HT_AE_REALLOC, q, size);
	return q;
}

HT_API int posix_memalign(void **p, size_t align, size_t size)
{
	int rc = htje_posix_memalign(p, align, size);
	if (rc == 0)
		ht_front_note(&front, HT_AE_POSIX_MEMALIGN, *p, size);
	return rc;
}

HT_API void *rallocx(void *ptr, size_t size, int flags)
{
	ht_front_forget(&front, ptr);
	void *q = htje_rallocx(ptr, size, flags);
	ht_front_note(&front, HT_AE_RALLOCX, q, size);
	return q;
}

__attribute__((constructor)) static void ht_preload_init(void)
{
	ht_site_set_front(&front);
	ht_runtime_init();
}

__attribute__((destructor)) static void ht_preload_fini(void)
{
	ht_runtime_fini();
}
