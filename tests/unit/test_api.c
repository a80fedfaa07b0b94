/*
 * The public API, linked with -lhypertier. Argument checks must hold
 * whether the runtime is on (tiered machine, the guest) or off (this host):
 * bad hints are EINVAL, the stats ABI honours the caller's size, and hints
 * racing with frees and unmaps from other threads are safe.
 */
#define _GNU_SOURCE
#include "tap.h"
#include "testutil.h"
#include "hypertier.h"
#include <errno.h>
#include <execinfo.h>
#include <signal.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <unistd.h>

#define MB (1ul << 20)

static int nodes_with_memory(void)
{
	int n = sysfs_nodes_with_memory();
	return n < 0 ? 1 : n;
}

static int einval(int rc) { return rc == -1 && errno == EINVAL; }

static _Atomic int stop;
static _Atomic long hints_ok, hints_einval, hints_other;
static void *_Atomic slot[8];

/* Allocates, hints and frees blocks; the hinter threads hint whatever is in the slots. */
static void *churner(void *arg)
{
	unsigned seed = 1;
	while (!atomic_load(&stop)) {
		int i = rand_r(&seed) % 4; /* slots 0..3: malloc'd blocks, 4..7: raw maps */
		void *p = malloc(2 * MB);
		memset(p, i, 2 * MB);
		void *old = atomic_exchange(&slot[i], p);
		free(old);
		/* a raw mapping that goes away under the hinters */
		void *m = mmap(NULL, 4 * MB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		atomic_store(&slot[i + 4], m);
		munmap(m, 4 * MB); /* stays in its slot: hinters then hit an unmapped range */
	}
	return NULL;
}

static void *hinter(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg;
	while (!atomic_load(&stop)) {
		void *p = atomic_load(&slot[rand_r(&seed) % 8]);
		if (!p)
			continue;
		int rc = ht_hint(p, 2 * MB, rand_r(&seed) % 5);
		if (rc == 0)
			atomic_fetch_add(&hints_ok, 1);
		else if (errno == EINVAL)
			atomic_fetch_add(&hints_einval, 1);
		else
			atomic_fetch_add(&hints_other, 1);
	}
	return NULL;
}

/* A static constructor of the program runs before main: the API and malloc work there. */
static int early_enabled = -1;
static char *early_block;
__attribute__((constructor)) static void early(void)
{
	early_block = malloc(3 * MB);
	if (early_block)
		memset(early_block, 7, 3 * MB);
	early_enabled = ht_enabled();
	if (early_block && ht_hint(early_block, 3 * MB, HT_HOT) != 0)
		early_enabled = -2;
}

/* A crash says where it happened (the guest has no debugger). */
static void on_fault(int sig)
{
	static const char msg[] = "Bail out! fatal signal; backtrace:\n";
	void *bt[32];
	ssize_t w = write(1, msg, sizeof(msg) - 1);
	(void)w;
	backtrace_symbols_fd(bt, backtrace(bt, 32), 1);
	_exit(1);
}

int main(void)
{
	signal(SIGSEGV, on_fault);
	signal(SIGBUS, on_fault);
	is_int(ht_version(), HT_VERSION, "ht_version() matches the header (0x%06x)", HT_VERSION);
	int tiered = nodes_with_memory() >= 2;
	int en = ht_enabled();
	if (getenv("HYPERTIER_CONF") && strstr(getenv("HYPERTIER_CONF"), "enable=0"))
		tiered = 0;
	is_int(en, tiered, "ht_enabled() is %d on a machine with %d node(s) with memory", tiered, nodes_with_memory());

	ok(early_enabled == en && early_block && early_block[3 * MB - 1] == 7,
	   "a static constructor could allocate, hint and ask ht_enabled() (%d) before main", early_enabled);
	free(early_block);

	char *p = malloc(4 * MB);
	memset(p, 1, 4 * MB);
	ok(einval(ht_hint(NULL, 4096, HT_HOT)), "hint on NULL: EINVAL");
	ok(einval(ht_hint(p, 0, HT_HOT)), "hint with len 0: EINVAL");
	ok(einval(ht_hint(p, 4096, 5)) && einval(ht_hint(p, 4096, -1)), "hint with an unknown flag: EINVAL");
	ok(einval(ht_hint((void *)-4096l, 8192, HT_HOT)), "hint whose range wraps around: EINVAL");
	long page = sysconf(_SC_PAGESIZE);
	char *m = mmap(NULL, 3 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(m + page, page);
	ok(einval(ht_hint(m + page, page, HT_COLD)), "hint on an unmapped page: EINVAL");
	ok(einval(ht_hint(m, 3 * page, HT_COLD)), "hint on a range with an unmapped hole: EINVAL");
	ok(ht_hint(m, page, HT_COLD) == 0, "hint on a mapped page: 0");
	munmap(m, 3 * page);
	for (int h = HT_AUTO; h <= HT_PIN_SLOW; h++)
		ok(ht_hint(p, 4 * MB, h) == 0, "hint %d on a malloc'd 4 MiB block: 0", h);
	ok(einval(ht_register(NULL, 10)) && einval(ht_register(p, 0)), "register: bad arguments are EINVAL");
	ok(ht_register(p, 4 * MB) == 0 && ht_unregister(p, 4 * MB) == 0, "register + unregister a mapped block");
	ok(ht_set_fast_quota(256 * MB) == 0 && ht_set_fast_quota(0) == 0, "fast quota can be changed");
	ht_sample_access(p, 1);
	ht_sample_access2(p + 64, 0, HT_STORE);
	ok(1, "software samples accepted");

	errno = 0;
	ok(ht_malloc_tier(64, 7) == NULL && errno == EINVAL, "ht_malloc_tier with a bad tier: NULL, EINVAL");
	char *f = ht_malloc_tier(3 * MB, HT_TIER_FAST), *s = ht_malloc_tier(3 * MB, HT_TIER_SLOW);
	ok(f && s, "ht_malloc_tier gives memory on both tiers");
	memset(f, 0xaa, 3 * MB);
	memset(s, 0x55, 3 * MB);
	ok((unsigned char)f[3 * MB - 1] == 0xaa && s[0] == 0x55, "tier memory holds its bytes");
	void *z = ht_malloc_tier(0, HT_TIER_SLOW);
	ok(z != NULL, "ht_malloc_tier(0) gives a unique pointer, like malloc(0)");
	ht_free(z);
	ht_free(f);
	free(s); /* plain free works too */
	ht_free(NULL);

	struct ht_stats st;
	ok(einval(ht_stats(NULL)), "ht_stats(NULL): EINVAL");
	memset(&st, 0, sizeof(st));
	ok(einval(ht_stats(&st)), "ht_stats with size 0: EINVAL");
	st.size = sizeof(st);
	ok(ht_stats(&st) == 0 && st.size == sizeof(st), "ht_stats fills a current struct");
	is_int(st.enabled, en, "stats say enabled=%d", en);
	if (en)
		ok(st.fast_node >= 0 && st.slow_node >= 0 && st.fast_node != st.slow_node, "stats name two tiers (%d, %d)",
		   st.fast_node, st.slow_node);
	else
		ok(st.fast_node == -1 && st.slow_node == -1, "runtime off: no tiers in the stats");
	/* an older, shorter struct: the library must not write past its size */
	unsigned char old[sizeof(struct ht_stats)];
	memset(old, 0xee, sizeof(old));
	((struct ht_stats *)old)->size = 16;
	ok(ht_stats((struct ht_stats *)old) == 0, "ht_stats with an old 16-byte struct: 0");
	int untouched = 1;
	for (size_t i = 16; i < sizeof(old); i++)
		untouched &= old[i] == 0xee;
	ok(untouched && ((struct ht_stats *)old)->size == 16, "nothing written past the caller's size");

	/* concurrent hints, frees and unmaps */
	pthread_t c1, h1, h2;
	pthread_create(&c1, NULL, churner, NULL);
	pthread_create(&h1, NULL, hinter, (void *)1);
	pthread_create(&h2, NULL, hinter, (void *)2);
	usleep(1500 * 1000);
	atomic_store(&stop, 1);
	pthread_join(c1, NULL);
	pthread_join(h1, NULL);
	pthread_join(h2, NULL);
	ok(hints_ok + hints_einval > 0 && hints_other == 0,
	   "concurrent hints with frees/unmaps: %ld ok, %ld EINVAL, %ld other errors", (long)hints_ok, (long)hints_einval,
	   (long)hints_other);
	for (int i = 0; i < 4; i++)
		free(atomic_load(&slot[i]));
	free(p);
	return tap_done();
}
