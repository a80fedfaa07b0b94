/*
 * lazy.c - libnuma, libpfm4 and libunwind, loaded with dlopen when the
 * runtime turns on, not by the loader into every preloaded process (they
 * cost an exec about 17 ms: libpfm4's tables alone are ~40k relocations).
 *
 * The functions the core calls are defined here under their own names
 * (hidden, like the rest of the core), so callers keep the libraries'
 * headers and calls; each forwards to the library once it is loaded.
 * mbind is a plain system call and needs no library.
 */
#define _GNU_SOURCE
#include "lazy.h"
#include <dlfcn.h>
#include <numa.h>
#include <numaif.h>
#include <perfmon/pfmlib.h>
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#define LIBNUMA(X) X(numa_available) X(numa_max_node) X(numa_node_size64) X(numa_distance) \
	X(numa_allocate_cpumask) X(numa_allocate_nodemask) X(numa_bitmask_clearall) \
	X(numa_bitmask_setbit) X(numa_bitmask_weight) X(numa_bitmask_free) X(numa_node_to_cpus) \
	X(numa_move_pages)
#define LIBPFM(X) X(pfm_initialize) X(pfm_strerror) X(pfm_get_pmu_info) X(pfm_get_os_event_encoding)
#define LIBUNWIND(X) X(unw_backtrace)

static struct {
#define PTR(f) __typeof__(&f) f;
	LIBNUMA(PTR) LIBPFM(PTR) LIBUNWIND(PTR)
} fn;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int loaded;
static char why[320];

/* Debian's runtime packages libnuma1, libpfm4, libunwind8. */
static void *open_lib(const char *soname)
{
	void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
	if (!h)
		snprintf(why, sizeof(why), "cannot load %s: %s", soname, dlerror());
	return h;
}

#define GET(f) if (!(fn.f = (__typeof__(fn.f))dlsym(h, #f))) goto missing;

static void load(void)
{
	const char *name = "";
	void *h;
	if (!(h = open_lib("libnuma.so.1")))
		return;
	name = "libnuma.so.1";
	LIBNUMA(GET)
	if (!(h = open_lib("libpfm.so.4")))
		return;
	name = "libpfm.so.4";
	LIBPFM(GET)
	if (!(h = open_lib("libunwind.so.8")))
		return;
	name = "libunwind.so.8";
	LIBUNWIND(GET)
	loaded = 1;
	return;
missing:
	snprintf(why, sizeof(why), "%s lacks a function the runtime needs: %s", name, dlerror());
}

static int ready(void)
{
	pthread_once(&once, load);
	return loaded;
}

int ht_lazy_load(char *err, size_t errlen)
{
	if (ready())
		return 0;
	snprintf(err, errlen, "%s", why);
	return -1;
}

/* ---- the forwarders: each fails as its library would without support ---- */

int numa_available(void) { return ready() ? fn.numa_available() : -1; }
int numa_max_node(void) { return ready() ? fn.numa_max_node() : 0; }
long long numa_node_size64(int node, long long *freep) { return ready() ? fn.numa_node_size64(node, freep) : -1; }
int numa_distance(int a, int b) { return ready() ? fn.numa_distance(a, b) : 0; }
struct bitmask *numa_allocate_cpumask(void) { return ready() ? fn.numa_allocate_cpumask() : NULL; }
struct bitmask *numa_allocate_nodemask(void) { return ready() ? fn.numa_allocate_nodemask() : NULL; }
struct bitmask *numa_bitmask_clearall(struct bitmask *b) { return ready() ? fn.numa_bitmask_clearall(b) : b; }
struct bitmask *numa_bitmask_setbit(struct bitmask *b, unsigned int n) { return ready() ? fn.numa_bitmask_setbit(b, n) : b; }
unsigned int numa_bitmask_weight(const struct bitmask *b) { return ready() ? fn.numa_bitmask_weight(b) : 0; }
void numa_bitmask_free(struct bitmask *b)
{
	if (ready())
		fn.numa_bitmask_free(b);
}
int numa_node_to_cpus(int node, struct bitmask *mask) { return ready() ? fn.numa_node_to_cpus(node, mask) : -1; }
int numa_move_pages(int pid, unsigned long count, void **pages, const int *nodes, int *status, int flags)
{
	return ready() ? fn.numa_move_pages(pid, count, pages, nodes, status, flags) : -1;
}

long mbind(void *start, unsigned long len, int mode, const unsigned long *nmask, unsigned long maxnode, unsigned flags)
{
	return syscall(SYS_mbind, start, len, mode, nmask, maxnode, flags);
}

pfm_err_t pfm_initialize(void) { return ready() ? fn.pfm_initialize() : PFM_ERR_NOTSUPP; }
const char *pfm_strerror(int code) { return ready() ? fn.pfm_strerror(code) : why; }
pfm_err_t pfm_get_pmu_info(pfm_pmu_t pmu, pfm_pmu_info_t *out) { return ready() ? fn.pfm_get_pmu_info(pmu, out) : PFM_ERR_NOINIT; }
pfm_err_t pfm_get_os_event_encoding(const char *str, int dfl_plm, pfm_os_t os, void *args)
{
	return ready() ? fn.pfm_get_os_event_encoding(str, dfl_plm, os, args) : PFM_ERR_NOINIT;
}

int unw_backtrace(void **buf, int n) { return ready() ? fn.unw_backtrace(buf, n) : 0; }
