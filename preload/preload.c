/*
 * preload.c - what makes libhypertier.so a malloc replacement and starts
 * the runtime. jemalloc's PIC archive is linked in whole and hypertier.map
 * exports its malloc family, so LD_PRELOAD (or linking -lhypertier)
 * replaces glibc's allocator; everything else stays hidden.
 */
#define _GNU_SOURCE
#include "core/runtime.h"
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

/* jemalloc's realloc, renamed at build time (Makefile.am). */
void *ht_je_realloc(void *ptr, size_t size);

/* Like glibc: a failed realloc sets ENOMEM (jemalloc 5.3 does not). */
HT_API void *realloc(void *ptr, size_t size)
{
	void *q = ht_je_realloc(ptr, size);
	if (!q && size)
		errno = ENOMEM;
	return q;
}

__attribute__((constructor)) static void ht_preload_init(void)
{
	ht_runtime_init();
}

__attribute__((destructor)) static void ht_preload_fini(void)
{
	ht_runtime_fini();
}
