/*
 * Guest test of placement at birth, hints and allocation sites, linked with
 * -lhypertier so the runtime is on (two nodes). The caller sets
 * HYPERTIER_CONF; every node is read back with move_pages(nodes=NULL).
 *   place NODE   big malloc'd blocks land on NODE (conf place=fast|slow);
 *                ht_malloc_tier blocks land on their tier
 *   quota        fast_first: blocks go fast until fast_quota is used, then slow
 *   hints        HOT promoted without any sample, PIN_FAST never demoted,
 *                PIN_SLOW never promoted
 *   sites NODE   hot buffers from one call site, cold from another; the
 *                second generation is born right although conf place puts
 *                everything on NODE; htstat names both sites
 *   sites NODE HTSTAT new   the same with C++ operator new / delete
 *                (libstdc++'s, which calls the preloaded malloc)
 */
#define _GNU_SOURCE
#include "tap.h"
#include "hypertier.h"
#include <numaif.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#define MB (1ul << 20)
#define PAGE 4096ul

/* Share of the block's pages on node (pages not present count against). */
static double on_node(const void *p, size_t len, int node)
{
	size_t n = len / PAGE, hit = 0;
	void **pages = malloc(n * sizeof(*pages));
	int *st = malloc(n * sizeof(*st));
	uintptr_t base = ((uintptr_t)p + PAGE - 1) & ~(PAGE - 1);
	n = (((uintptr_t)p + len) & ~(PAGE - 1)) > base ? ((((uintptr_t)p + len) & ~(PAGE - 1)) - base) / PAGE : 0;
	for (size_t i = 0; i < n; i++)
		pages[i] = (void *)(base + i * PAGE);
	if (n && move_pages(0, n, pages, NULL, st, 0) == 0)
		for (size_t i = 0; i < n; i++)
			hit += st[i] == node;
	free(pages);
	free(st);
	return n ? (double)hit / n : 0;
}

static void touch(void *p, size_t len, int v) { memset(p, v, len); }

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
	nanosleep(&ts, NULL);
}

/*
 * Wait until the runtime has run n more epochs: tests count epochs, not
 * seconds, so a slow (TCG, loaded) guest only takes longer. 0 if it did,
 * -1 if no epoch ran in 120 s (the engine is stuck, not slow).
 */
static int wait_epochs(unsigned n)
{
	struct ht_stats st = { .size = sizeof(st) };
	ht_stats(&st);
	uint64_t want = st.epochs + n, last = st.epochs;
	for (int idle = 0; idle < 1200; idle++) {
		sleep_ms(100);
		ht_stats(&st);
		if (st.epochs >= want)
			return 0;
		if (st.epochs != last)
			idle = 0, last = st.epochs;
	}
	return -1;
}

static int mode_place(int node)
{
	char *big = malloc(32 * MB);
	touch(big, 32 * MB, 1);
	double s = on_node(big, 32 * MB, node);
	ok(s > 0.95, "malloc(32 MiB) born on node %d (%.0f%% of its pages)", node, 100 * s);
	char *f = ht_malloc_tier(16 * MB, HT_TIER_FAST), *sl = ht_malloc_tier(16 * MB, HT_TIER_SLOW);
	touch(f, 16 * MB, 2);
	touch(sl, 16 * MB, 3);
	double a = on_node(f, 16 * MB, 0), b = on_node(sl, 16 * MB, 1);
	ok(a > 0.95, "ht_malloc_tier(FAST): %.0f%% on node 0", 100 * a);
	ok(b > 0.95, "ht_malloc_tier(SLOW): %.0f%% on node 1", 100 * b);
	ok(big[32 * MB - 1] == 1 && f[0] == 2 && sl[16 * MB - 1] == 3, "bytes intact");
	struct ht_stats st = { .size = sizeof(st) };
	ht_stats(&st);
	ok(st.extents_fast > 0 && st.extents_slow > 0, "stats count extents born on each tier (%lu fast, %lu slow)",
	   (unsigned long)st.extents_fast, (unsigned long)st.extents_slow);
	ht_free(f);
	ht_free(sl);
	free(big);
	return 0;
}

static int mode_quota(void)
{
	enum { N = 8 };
	char *b[N];
	double s[N], fast = 0;
	int first_slow = -1;
	for (int i = 0; i < N; i++) {
		b[i] = malloc(16 * MB);
		touch(b[i], 16 * MB, i);
		s[i] = on_node(b[i], 16 * MB, 0);
		tap_diag("block %d: %.0f%% on node 0", i, 100 * s[i]);
		if (s[i] < 0.1 && first_slow < 0)
			first_slow = i;
		if (first_slow < 0)
			fast += 16 * s[i];
	}
	ok(s[0] > 0.9, "first 16 MiB block born fast while the 64 MiB quota has room (%.0f%%)", 100 * s[0]);
	ok(first_slow > 0, "once the quota is used up, new blocks are born slow (block %d)", first_slow);
	ok(fast <= 64 + 16, "fast-born before that: %.0f MiB, within the 64 MiB quota plus one block", fast);
	/* later blocks may be born fast again once the engine has demoted cold memory to make room */
	for (int i = 0; i < N; i++)
		free(b[i]);
	return 0;
}

static int mode_hints(void)
{
	/*
	 * Tier arenas pin their blocks; ht_hint overrides per block. Spacers keep
	 * hinted blocks apart: the engine works in min_range (2 MiB) grains, so
	 * a hint may reach into the next 2 MiB, which must not be the control.
	 */
	char *hot = ht_malloc_tier(16 * MB, HT_TIER_SLOW), *sp1 = ht_malloc_tier(4 * MB, HT_TIER_SLOW);
	char *ctl = ht_malloc_tier(16 * MB, HT_TIER_SLOW), *sp2 = ht_malloc_tier(4 * MB, HT_TIER_SLOW);
	char *ps = ht_malloc_tier(16 * MB, HT_TIER_SLOW);
	/* automatic arenas: born fast while the budget has room; the pinned block on whole grains */
	char *pin = NULL, *cold = malloc(16 * MB);
	if (posix_memalign((void **)&pin, 2 * MB, 16 * MB))
		tap_bail("posix_memalign");
	touch(hot, 16 * MB, 1);
	touch(ctl, 16 * MB, 2);
	touch(pin, 16 * MB, 3);
	touch(cold, 16 * MB, 4);
	touch(ps, 16 * MB, 5);
	wait_epochs(5); /* the runtime registers the extents, the engine sets its policies */
	double a = on_node(hot, 16 * MB, 1), b = on_node(ctl, 16 * MB, 1), c0 = on_node(pin, 16 * MB, 0), d = on_node(cold, 16 * MB, 0);
	ok(a > 0.95 && b > 0.95, "ht_malloc_tier(SLOW) blocks on node 1 (%.0f%%, %.0f%%)", 100 * a, 100 * b);
	ok(c0 > 0.95 && d > 0.95, "malloc'd blocks born on node 0 while the budget has room (%.0f%%, %.0f%%)", 100 * c0, 100 * d);
	ok(ht_hint(hot, 16 * MB, HT_HOT) == 0, "HOT hint on a slow block");
	ok(ht_hint(ctl, 16 * MB, HT_AUTO) == 0, "AUTO hint hands the control block to the classifier");
	ok(ht_hint(pin, 16 * MB, HT_PIN_FAST) == 0, "PIN_FAST hint on a fast block");
	ok(ht_hint(ps, 16 * MB, HT_PIN_SLOW) == 0, "PIN_SLOW hint on a slow block");
	double h = 0;
	int ep = 0;
	for (; ep < 50 && (h = on_node(hot, 16 * MB, 0)) < 0.95 && !wait_epochs(1); ep++)
		;
	ok(h > 0.95, "HOT block promoted with no sample at all (%.0f%% fast after %d epochs)", 100 * h, ep);
	b = on_node(ctl, 16 * MB, 1);
	ok(b > 0.95, "control: the unsampled AUTO block stays slow (%.0f%%)", 100 * b);

	/* squeeze the quota: cold fast memory is demoted, the pinned block never */
	ht_set_fast_quota(24 * MB);
	double pmin = 1, c = 0;
	for (int i = 0; i < 30; i++) { /* 30 epochs */
		for (int k = 0; k < 4000; k++) /* PIN_SLOW ignores even heavy sampling */
			ht_sample_access(ps + (size_t)(k * 7919 % 4096) * PAGE, 100);
		if (wait_epochs(1) < 0)
			break;
		double p = on_node(pin, 16 * MB, 0);
		if (p < pmin)
			pmin = p;
		c = on_node(cold, 16 * MB, 1);
	}
	ok(c > 0.5, "quota squeezed to 24 MiB: the cold fast block was demoted (%.0f%% slow)", 100 * c);
	ok(pmin > 0.99, "PIN_FAST block never demoted (at least %.0f%% fast at every check)", 100 * pmin);
	ok(on_node(ps, 16 * MB, 1) > 0.99, "PIN_SLOW block never promoted despite its samples");
	ok(hot[0] == 1 && pin[16 * MB - 1] == 3 && cold[123] == 4 && ps[7] == 5, "bytes intact after the moves");
	struct ht_stats st = { .size = sizeof(st) };
	ht_stats(&st);
	ok(st.pages_promoted > 0 && st.pages_demoted > 0, "stats: %lu pages promoted, %lu demoted", (unsigned long)st.pages_promoted,
	   (unsigned long)st.pages_demoted);
	ht_free(hot);
	ht_free(sp1);
	ht_free(ctl);
	ht_free(sp2);
	ht_free(ps);
	free(pin);
	free(cold);
	return 0;
}

void *_Znwm(size_t n);  /* operator new(size_t), libstdc++ */
void _ZdlPv(void *p);   /* operator delete(void *) */
static int use_new;     /* buffers from C++ operator new instead of malloc */

__attribute__((noinline)) char *make_hot(size_t n) { char *p = use_new ? _Znwm(n) : malloc(n); __asm__ volatile("" ::: "memory"); return p; }
__attribute__((noinline)) char *make_cold(size_t n) { char *p = use_new ? _Znwm(n) : malloc(n); __asm__ volatile("" ::: "memory"); return p; }
static void release(void *p) { use_new ? _ZdlPv(p) : free(p); }

/*
 * One generation of buffers: each buffer's call stack is the same in every
 * generation. at_birth (optional): each buffer's share on the node its site
 * should give it (hot: 0, cold: 1), read right after it is first touched.
 */
static __attribute__((noinline)) void generation(char **hot, char **cold, int n, int nc, size_t sz, double *at_birth,
						      double *each)
{
	for (int i = 0; i < n; i++) {
		hot[i] = make_hot(sz);
		touch(hot[i], sz, 1);
		if (at_birth)
			at_birth[0] += (each[i] = on_node(hot[i], sz, 0)) / n;
	}
	for (int i = 0; i < nc; i++) {
		cold[i] = make_cold(sz);
		touch(cold[i], sz, 2);
		if (at_birth)
			at_birth[1] += (each[n + i] = on_node(cold[i], sz, 1)) / nc;
	}
}

/* The tier htstat reports for the site whose name holds name: 0 fast, 1 slow, -1 none or not listed. */
static int site_tier(const char *htstat, const char *name)
{
	char cmd[256], out[32768], key[80];
	snprintf(cmd, sizeof(cmd), "%s --json %d", htstat, (int)getpid());
	FILE *f = popen(cmd, "r");
	size_t n = f ? fread(out, 1, sizeof(out) - 1, f) : 0;
	out[n] = 0;
	if (f)
		pclose(f);
	snprintf(key, sizeof(key), "%s", name); /* anywhere in the name: with C++ new the first frame is operator new */
	char *at = strstr(out, key), *t = NULL;
	if (!at)
		return -1;
	for (char *p = strstr(out, "\"tier\":"); p && p < at; p = strstr(p + 1, "\"tier\":"))
		t = p; /* the last tier before the name belongs to the same site */
	return t ? atoi(t + 7) : -1;
}

/* Run with site_depth=2: a site is make_hot/make_cold plus its caller, generation(). */
static int mode_sites(int place_node, const char *htstat)
{
	enum { N = 6 };
	const size_t sz = 8 * MB;
	char *hot[N], *cold[N];
	generation(hot, cold, N, N, sz, NULL, NULL);
	/* the program reports its accesses: only the hot buffers are used */
	unsigned seed = 1;
	int round, learned = 0;
	for (round = 0; round < 600 && !learned; round++) {
		for (int k = 0; k < 4000; k++) {
			char *p = hot[rand_r(&seed) % N] + (size_t)(rand_r(&seed) % (sz / 64)) * 64;
			(*(volatile char *)p)++;
			ht_sample_access(p, 100);
		}
		sleep_ms(50);
		/* the classifier refines its ranges at its own pace: use them until both sites are learned */
		if (round >= 40 && round % 10 == 0)
			learned = site_tier(htstat, "make_hot+") == 0 && site_tier(htstat, "make_cold+") == 1;
	}
	if (!ok(learned, "both sites learned after %d rounds of accesses (hot: fast, cold: slow)%s", round,
		use_new ? ", buffers from C++ operator new" : "")) {
		char cmd[256], line[512];
		snprintf(cmd, sizeof(cmd), "%s %d", htstat, (int)getpid());
		FILE *f = popen(cmd, "r");
		while (f && fgets(line, sizeof(line), f))
			tap_diag("%s", strtok(line, "\n"));
		if (f)
			pclose(f);
	}
	struct ht_stats st = { .size = sizeof(st) };
	ht_stats(&st);
	tap_diag("first generation: %lu samples, %lu outside managed ranges, %lu ranges, %lu epochs", (unsigned long)st.samples,
		 (unsigned long)st.samples_unmanaged, (unsigned long)st.nr_ranges, (unsigned long)st.epochs);
	/*
	 * A cold object born on a hot object's memory: the site moves it slow,
	 * and the engine must not bring it back on the dead object's counts.
	 */
	char *reuse[N];
	double lo = 1;
	int same = 0;
	for (int i = 0; i < N; i++)
		release(hot[i]);
	generation(NULL, reuse, 0, N, sz, NULL, NULL);
	for (int i = 0; i < N; i++) /* jemalloc offsets large blocks by up to a page: compare by overlap */
		for (int j = 0; j < N; j++)
			same += reuse[i] < hot[j] + sz / 2 && hot[j] < reuse[i] + sz / 2;
	for (int ep = 0; ep < 6; ep++) {
		double s = 0;
		for (int i = 0; i < N; i++)
			s += on_node(reuse[i], sz, 1) / N;
		lo = s < lo ? s : lo;
		if (ep < 5)
			wait_epochs(1);
	}
	if (!ok(same > 0 && lo > 0.9, "cold blocks on %d of %d dead hot blocks' memory: on node 1 at birth and for 5 epochs (at least %.0f%%)",
		same, N, 100 * lo))
		for (int i = 0; i < N; i++)
			tap_diag("cold block %d at %p: %.0f%% on node 1 now", i, (void *)reuse[i], 100 * on_node(reuse[i], sz, 1));
	for (int i = 0; i < N; i++) {
		release(reuse[i]);
		release(cold[i]);
	}
	wait_epochs(3);
	double born[2] = { 0, 0 }, each[2 * N];
	char *old[2 * N];
	memcpy(old, hot, sizeof(hot));
	memcpy(old + N, cold, sizeof(cold));
	generation(hot, cold, N, N, sz, born, each);
	double h = born[0], c = born[1];
	tap_diag("second generation at birth: hot buffers %.0f%% on node 0, cold buffers %.0f%% on node 1 (place puts new memory on node %d)",
		 100 * h, 100 * c, place_node);
	/*
	 * Without learning these shares would be about 0 (place= puts everything
	 * on the other node). The engine leaves unsampled extents' policy alone,
	 * so short of a full node every page lands where its site says.
	 */
	/* 90%: pages a reused block still holds can be busy and refuse to move; without learning the share is ~0 */
	if (place_node == 1)
		ok(h > 0.9, "hot call site: second generation born fast although place=slow (%.0f%%)", 100 * h);
	else
		ok(c > 0.9, "cold call site: second generation born slow although place=fast (%.0f%%)", 100 * c);
	if (!ok(h > 0.9 && c > 0.9, "both sites placed right at birth"))
		for (int i = 0; i < 2 * N; i++) { /* which blocks failed, and whose memory they reused */
			char *p = i < N ? hot[i] : cold[i - N];
			int j = 0;
			while (j < 2 * N && old[j] != p)
				j++;
			tap_diag("%s[%d] at %p: %.0f%% on its node; %s", i < N ? "hot" : "cold", i % N, (void *)p,
				 100 * each[i], j == 2 * N ? "new address" : j < N ? "was a hot block" : "was a cold block");
		}

	/* htstat reads this live process and names both sites */
	char cmd[256], out[32768];
	snprintf(cmd, sizeof(cmd), "%s --json %d", htstat, (int)getpid());
	FILE *f = popen(cmd, "r");
	size_t n = f ? fread(out, 1, sizeof(out) - 1, f) : 0;
	out[n] = 0;
	int rc = f ? pclose(f) : -1;
	ok(rc == 0 && strstr(out, "\"enabled\":1") && strstr(out, "\"fast_node\":0,\"slow_node\":1"),
	   "htstat --json reads the live process");
	ok(strstr(out, "make_hot+") && strstr(out, "make_cold+"), "htstat lists both call sites by name");
	snprintf(cmd, sizeof(cmd), "%s %d", htstat, (int)getpid());
	f = popen(cmd, "r");
	n = f ? fread(out, 1, sizeof(out) - 1, f) : 0;
	out[n] = 0;
	rc = f ? pclose(f) : -1;
	ok(rc == 0 && strstr(out, "fast tier") && strstr(out, "top sites"), "htstat text report");
	for (char *l = strtok(out, "\n"); l; l = strtok(NULL, "\n"))
		tap_diag("%s", l);
	for (int i = 0; i < N; i++) {
		release(hot[i]);
		release(cold[i]);
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *m = argc > 1 ? argv[1] : "";
	if (!ok(ht_enabled(), "runtime on (HYPERTIER_CONF=%s)", getenv("HYPERTIER_CONF") ? getenv("HYPERTIER_CONF") : ""))
		return tap_done();
	if (!strcmp(m, "place") && argc > 2)
		mode_place(atoi(argv[2]));
	else if (!strcmp(m, "quota"))
		mode_quota();
	else if (!strcmp(m, "hints"))
		mode_hints();
	else if (!strcmp(m, "sites") && argc > 3) {
		use_new = argc > 4 && !strcmp(argv[4], "new");
		mode_sites(atoi(argv[2]), argv[3]);
	} else
		tap_bail("usage: test_vm_alloc place NODE | quota | hints | sites NODE HTSTAT [new]");
	return tap_done();
}
