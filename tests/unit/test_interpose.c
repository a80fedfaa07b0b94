/*
 * Run under LD_PRELOAD=libhypertier.so (interpose.sh): every allocation
 * function must resolve into the preloaded library, and behave like glibc's
 * on the edge cases programs rely on.
 */
#define _GNU_SOURCE
#include "tap.h"
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <unistd.h>

static const char *owner(const char *sym)
{
	Dl_info i;
	void *p = dlsym(RTLD_DEFAULT, sym);
	if (!p || !dladdr(p, &i) || !i.dli_fname)
		return "(none)";
	return i.dli_fname;
}

static void *churn(void *arg)
{
	uintptr_t sum = 0;
	for (int i = 0; i < 20000; i++) {
		size_t n = (size_t)((i * 7919) % 5000) + 1;
		unsigned char *p = malloc(n);
		if (!p)
			return (void *)1;
		memset(p, i & 0xff, n);
		sum += p[n - 1];
		p = realloc(p, n * 2);
		if (!p || p[n - 1] != (unsigned char)(i & 0xff))
			return (void *)1;
		free(p);
	}
	return (void *)(sum ? 0 : 1);
}

int main(void)
{
	static const char *const fam[] = { "malloc", "free", "calloc", "realloc", "posix_memalign", "aligned_alloc",
					   "memalign", "valloc", "pvalloc", "malloc_usable_size", "mallocx", "dallocx",
					   "sallocx", "nallocx", "rallocx", "mallctl" };
	for (size_t i = 0; i < sizeof(fam) / sizeof(*fam); i++)
		ok(strstr(owner(fam[i]), "libhypertier.so") != NULL, "%s resolves into libhypertier.so (%s)", fam[i], owner(fam[i]));
	ok(dlsym(RTLD_DEFAULT, "je_arena_init") == NULL && dlsym(RTLD_DEFAULT, "ht_conf_parse") == NULL &&
	   dlsym(RTLD_DEFAULT, "ht_engine_create") == NULL, "jemalloc and runtime internals stay hidden");
	ok(strstr(owner("ht_hint"), "libhypertier.so") && strstr(owner("ht_stats"), "libhypertier.so"), "public API is exported");

	/* size 0: a unique pointer that can be freed */
	void *z1 = malloc(0), *z2 = malloc(0);
	ok(z1 && z2 && z1 != z2, "malloc(0) gives distinct non-NULL pointers");
	free(z1);
	free(z2);
	free(NULL);
	ok(1, "free(NULL) is harmless");

	errno = 0;
	ok(malloc(SIZE_MAX) == NULL && errno == ENOMEM, "malloc(SIZE_MAX): NULL, ENOMEM");
	errno = 0;
	ok(malloc(SIZE_MAX / 2) == NULL && errno == ENOMEM, "malloc(SIZE_MAX/2): NULL, ENOMEM");
	errno = 0;
	ok(calloc(SIZE_MAX / 2, 3) == NULL && errno == ENOMEM, "calloc overflow: NULL, ENOMEM");
	unsigned char *c = calloc(1000, 1000);
	int zero = c != NULL;
	for (size_t i = 0; c && i < 1000000; i++)
		zero &= c[i] == 0;
	ok(zero, "calloc memory is zeroed");
	free(c);

	char *r = realloc(NULL, 100);
	ok(r != NULL, "realloc(NULL, n) allocates");
	memset(r, 'x', 100);
	errno = 0;
	ok(realloc(r, SIZE_MAX) == NULL && errno == ENOMEM && r[99] == 'x', "realloc to SIZE_MAX: NULL, ENOMEM, block intact");
	r = realloc(r, 1 << 20);
	ok(r && r[0] == 'x' && r[99] == 'x', "realloc grows and keeps the contents");
	ok(malloc_usable_size(r) >= (1 << 20), "malloc_usable_size >= requested");
	ok(realloc(r, 0) == NULL, "realloc(p, 0) frees and returns NULL, as glibc does");

	void *p = NULL;
	ok(posix_memalign(&p, 3, 64) == EINVAL, "posix_memalign: alignment 3 is EINVAL");
	ok(posix_memalign(&p, sizeof(void *) / 2, 64) == EINVAL, "posix_memalign: alignment below sizeof(void*) is EINVAL");
	ok(posix_memalign(&p, 64, SIZE_MAX - 4096) == ENOMEM, "posix_memalign: huge size is ENOMEM");
	ok(posix_memalign(&p, 4096, 100) == 0 && ((uintptr_t)p & 4095) == 0, "posix_memalign(4096) is aligned");
	free(p);
	errno = 0;
	ok(aligned_alloc(3, 64) == NULL && errno == EINVAL, "aligned_alloc: alignment 3 gives NULL, EINVAL");
	p = aligned_alloc(1 << 16, 1 << 16);
	ok(p && ((uintptr_t)p & 0xffff) == 0, "aligned_alloc(64 KiB) is aligned");
	free(p);
	p = memalign(256, 10);
	ok(p && ((uintptr_t)p & 255) == 0, "memalign(256) is aligned");
	free(p);
	long page = sysconf(_SC_PAGESIZE);
	p = valloc(10);
	ok(p && ((uintptr_t)p % page) == 0, "valloc is page aligned");
	free(p);
	p = pvalloc(page + 1);
	ok(p && ((uintptr_t)p % page) == 0 && malloc_usable_size(p) >= (size_t)(2 * page), "pvalloc rounds to whole pages");
	free(p);
	errno = 0;
	ok(pvalloc(SIZE_MAX) == NULL && errno == ENOMEM, "pvalloc(SIZE_MAX): NULL, ENOMEM");

	/* glibc functions that allocate internally must hand out our memory */
	char *d = strdup("interposed");
	ok(d && !strcmp(d, "interposed"), "strdup (glibc) works with our free");
	free(d);
	int *ra = reallocarray(NULL, 1000, sizeof(int));
	ok(ra != NULL, "reallocarray (glibc) allocates");
	ra = reallocarray(ra, 4000, sizeof(int));
	ok(ra != NULL, "reallocarray grows");
	free(ra);
	errno = 0;
	ok(reallocarray(NULL, SIZE_MAX / 2, 4) == NULL && errno == ENOMEM, "reallocarray overflow: ENOMEM");
	FILE *f = fopen("/proc/self/maps", "r");
	char *line = NULL;
	size_t cap = 0;
	ok(f && getline(&line, &cap, f) > 0, "getline (glibc malloc inside) works");
	free(line);
	if (f)
		fclose(f);

	pthread_t t[4];
	int bad = 0;
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, churn, NULL);
	for (int i = 0; i < 4; i++) {
		void *rv;
		pthread_join(t[i], &rv);
		bad += rv != NULL;
	}
	ok(bad == 0, "4 threads x 20000 malloc/realloc/free keep their bytes");
	return tap_done();
}
