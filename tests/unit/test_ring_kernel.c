/*
 * Live kernel rings without a PMU: software page-fault events, one per CPU
 * for this process with inherit=1, opened BEFORE two threads exist, read
 * through the same reader as PEBS. Checks: every thread's faults arrive,
 * an undrained ring reports PERF_RECORD_LOST, records wrap the ring end;
 * then the PEBS source itself (events= given as software events) with two
 * events sharing a ring (SET_OUTPUT) told apart by id, and the sampler
 * thread over it.
 */
#define _GNU_SOURCE
#include "tap.h"
#include "source/evset.h"
#include "source/sampler.h"
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static long psz;

struct toucher {
	size_t pages;
	unsigned char *mem;
	uint32_t tid;
};

static void *touch(void *arg)
{
	struct toucher *t = arg;
	__atomic_store_n(&t->tid, (uint32_t)syscall(SYS_gettid), __ATOMIC_RELEASE);
	if (!t->mem) {
		t->mem = mmap(NULL, t->pages * psz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		madvise(t->mem, t->pages * psz, MADV_NOHUGEPAGE); /* one fault per 4 KiB page */
	}
	for (size_t i = 0; i < t->pages; i++)
		t->mem[i * psz] = 1;
	return NULL;
}

static void run_two(struct toucher *t, size_t pages)
{
	pthread_t th[2];
	for (int i = 0; i < 2; i++) {
		memset(&t[i], 0, sizeof(t[i]));
		t[i].pages = pages;
		pthread_create(&th[i], NULL, touch, &t[i]);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
}

static void unmap_two(struct toucher *t)
{
	for (int i = 0; i < 2; i++)
		munmap(t[i].mem, t[i].pages * psz);
}

/* Which distinct pages of each thread's region were reported by that thread. */
struct seen {
	struct toucher *t;
	unsigned char *bits[2];
	uint64_t hits[2], wrong_tid, stores[2], loads[2];
};

static void seen_init(struct seen *s, struct toucher *t)
{
	memset(s, 0, sizeof(*s));
	s->t = t;
	for (int i = 0; i < 2; i++)
		s->bits[i] = calloc(t[i].pages, 1);
}

static void seen_add(struct seen *s, uint64_t addr, uint32_t tid, int store)
{
	for (int i = 0; i < 2; i++) {
		uintptr_t b = (uintptr_t)s->t[i].mem;
		if (addr >= b && addr < b + s->t[i].pages * psz) {
			if (tid != __atomic_load_n(&s->t[i].tid, __ATOMIC_ACQUIRE)) {
				s->wrong_tid++;
				return;
			}
			size_t pg = (addr - b) / psz;
			if (store) {
				s->stores[i]++;
			} else {
				s->loads[i]++;
				if (!s->bits[i][pg]++)
					s->hits[i]++;
			}
		}
	}
}

static void seen_free(struct seen *s)
{
	free(s->bits[0]);
	free(s->bits[1]);
}

static int on_rec(void *arg, const struct ht_ring_rec *r)
{
	seen_add(arg, r->addr, r->tid, 0);
	return 1;
}

static void on_samples(void *arg, const struct ht_sample *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		seen_add(arg, s[i].addr, s[i].tid, s[i].store);
}

static void raw_rings(void)
{
	struct ht_evset es;
	struct ht_source_stats st;
	struct toucher t[2];
	struct seen sn;
	char why[256] = "";
	struct perf_event_attr a = { .size = sizeof(a), .type = PERF_TYPE_SOFTWARE, .config = PERF_COUNT_SW_PAGE_FAULTS,
				     .sample_period = 1, .sample_type = PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_ADDR,
				     .inherit = 1, .exclude_kernel = 1 };
	int r = ht_evset_open(&es, &a, 1, 0, 64, why, sizeof(why));
	if (!ok(r == 0, "page-fault events open on every CPU, pid self, inherit (%s)", why))
		return;

	/* Round 1: 2 x 2048 pages fits in the rings; drain afterwards. */
	run_two(t, 2048);
	memset(&st, 0, sizeof(st));
	seen_init(&sn, t);
	ht_evset_read(&es, on_rec, &sn, &st);
	is_int(sn.hits[0], 2048, "thread 1 (created after the open): every faulted page seen");
	is_int(sn.hits[1], 2048, "thread 2: every faulted page seen");
	is_int(sn.wrong_tid, 0, "samples carry the right thread id");
	is_int(st.lost, 0, "nothing lost when the ring has room");
	seen_free(&sn);
	unmap_two(t);

	/* Round 2: 2 x 16384 pages (~1.3 MB of records) into 256 KiB rings, undrained. */
	run_two(t, 16384);
	seen_init(&sn, t);
	uint64_t wrapped0 = ht_evset_wrapped(&es);
	long n = ht_evset_read(&es, on_rec, &sn, &st);
	uint64_t delivered2 = sn.hits[0] + sn.hits[1];
	ok(delivered2 > 0 && delivered2 < 2 * 16384, "full rings kept part of round 2 (%llu)", (unsigned long long)delivered2);
	ok(ht_evset_wrapped(&es) > wrapped0, "records wrapped the ring end and were reassembled (%llu)",
	   (unsigned long long)(ht_evset_wrapped(&es) - wrapped0));
	ok(n > 0 && sn.wrong_tid == 0 && st.bad_records == 0, "no malformed records, right tids");
	seen_free(&sn);
	unmap_two(t);

	/* The kernel writes PERF_RECORD_LOST into a ring once it has room again,
	 * ahead of the next record: fault a few pages on every CPU. */
	cpu_set_t all, one;
	sched_getaffinity(0, sizeof(all), &all);
	unsigned char *few = mmap(NULL, 64 * psz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int k = 0;
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		if (!CPU_ISSET(cpu, &all) || k >= 64)
			continue;
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		sched_setaffinity(0, sizeof(one), &one);
		for (int j = 0; j < 4 && k < 64; j++)
			few[(k++) * psz] = 1;
	}
	sched_setaffinity(0, sizeof(all), &all);
	ht_evset_read(&es, on_rec, &sn, &st);
	ok(st.lost > 0, "undrained rings: PERF_RECORD_LOST reported (%llu lost)", (unsigned long long)st.lost);
	ok(delivered2 + st.lost >= 2 * 16384, "delivered + lost account for every fault of round 2 (%llu + %llu)",
	   (unsigned long long)delivered2, (unsigned long long)st.lost);
	munmap(few, 64 * psz);

	/* Round 3: after the overflow all faults arrive again. */
	run_two(t, 1024);
	seen_init(&sn, t);
	uint64_t lost0 = st.lost;
	ht_evset_read(&es, on_rec, &sn, &st);
	ok(sn.hits[0] == 1024 && sn.hits[1] == 1024 && st.lost == lost0, "after the overflow all faults arrive again");
	seen_free(&sn);
	unmap_two(t);
	ht_evset_close(&es);
}

static void pebs_source(void)
{
	struct ht_conf c;
	struct ht_source src;
	struct toucher t[2];
	struct seen sn;
	char why[256] = "";

	ht_conf_defaults(&c);
	if (ht_conf_parse(&c, "events=perf::PAGE-FAULTS@1;perf::PERF_COUNT_SW_PAGE_FAULTS_MIN@1/store", why, sizeof(why)))
		tap_bail(why);
	memset(&src, 0, sizeof(src));
	src.ops = &ht_source_pebs;
	src.conf = &c;
	int r = ht_source_pebs.start(&src, why, sizeof(why));
	if (!ok(r == 0, "PEBS source opens the listed (software) events (%s)", why))
		return;
	run_two(t, 1024);
	seen_init(&sn, t);
	long n = ht_source_pebs.drain(&src, on_samples, &sn);
	ok(sn.hits[0] == 1024 && sn.hits[1] == 1024, "PEBS drain: all pages of both threads as loads (%llu, %llu)",
	   (unsigned long long)sn.hits[0], (unsigned long long)sn.hits[1]);
	ok(sn.stores[0] == 1024 && sn.stores[1] == 1024, "second event (same ring, SET_OUTPUT) arrives as stores");
	ok(n >= 4 * 1024 && src.stats.samples == (uint64_t)n, "drain count matches the stats (%ld)", n);
	is_int(ht_source_pebs.set_period(&src, 3), 0, "PERF_EVENT_IOC_PERIOD accepted");
	is_int(src.stats.period, 3, "stats show the new period");
	seen_free(&sn);
	unmap_two(t);

	/* The effect of PERF_EVENT_IOC_PERIOD on inherited software events is
	 * not asserted: on this kernel (6.18) the new period reached new
	 * threads in some runs and not in others. PEBS/IBS were not available. */
	ht_source_pebs.stop(&src);
	ok(src.priv == NULL, "stop releases the source");
}

/* Events the kernel refuses everywhere: a clear error, nothing left open. */
static void refused(void)
{
	struct ht_evset es;
	struct ht_conf c;
	struct ht_source src;
	char why[256] = "";
	struct perf_event_attr a = { .size = sizeof(a), .type = PERF_TYPE_HARDWARE, .config = PERF_COUNT_HW_CPU_CYCLES,
				     .sample_period = 100003, .sample_type = PERF_SAMPLE_ADDR, .inherit = 1 };
	if (access("/sys/bus/event_source/devices/cpu", F_OK) == 0) {
		tap_skip("this machine has a CPU PMU: hardware cycles would open");
		tap_skip("this machine has a CPU PMU: hardware cycles would open");
		return;
	}
	int r = ht_evset_open(&es, &a, 1, 0, 8, why, sizeof(why));
	ok(r < 0 && strstr(why, "perf_event_open(event 0, cpu 0)") && es.fd == NULL,
	   "no PMU: hardware event refused with the reason, set left empty: %s", why);
	ht_conf_defaults(&c);
	if (ht_conf_parse(&c, "events=cycles", why, sizeof(why)))
		tap_bail(why);
	memset(&src, 0, sizeof(src));
	src.ops = &ht_source_pebs;
	src.conf = &c;
	r = ht_source_pebs.start(&src, why, sizeof(why));
	ok(r < 0 && src.priv == NULL && strstr(why, "perf_event_open"), "PEBS source with a refused event: %s", why);
}

static void sampler_thread(void)
{
	struct ht_conf c;
	struct toucher t[2];
	struct seen sn;
	struct ht_source_stats st;
	uint64_t cpu = 0;
	char why[256] = "";

	ht_conf_defaults(&c);
	if (ht_conf_parse(&c, "events=perf::PAGE-FAULTS@1,drain_interval=5ms", why, sizeof(why)))
		tap_bail(why);
	memset(&sn, 0, sizeof(sn));
	memset(t, 0, sizeof(t));
	t[0].pages = t[1].pages = 4096;
	for (int i = 0; i < 2; i++) { /* mapped here: the sampler thread reads t[] */
		t[i].mem = mmap(NULL, 4096 * psz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		madvise(t[i].mem, 4096 * psz, MADV_NOHUGEPAGE);
	}
	sn.t = t;
	sn.bits[0] = calloc(4096, 1);
	sn.bits[1] = calloc(4096, 1);
	struct ht_sampler *s = ht_sampler_create(&c, &ht_source_pebs, on_samples, &sn, why, sizeof(why));
	if (!ok(s != NULL, "sampler over the PEBS source (%s)", why))
		return;
	/* The sampler thread is created after the events: still sampled, harmless. */
	ok(ht_sampler_start(s) == 0, "sampler thread started");
	pthread_t th[2];
	for (int i = 0; i < 2; i++)
		pthread_create(&th[i], NULL, touch, &t[i]);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	usleep(50000);
	ht_sampler_stop(s);
	ht_sampler_get_stats(s, &st, &cpu);
	ok(sn.hits[0] + sn.hits[1] + st.lost >= 8192 && sn.hits[0] > 0 && sn.hits[1] > 0,
	   "sampler thread delivered both threads' faults (%llu + %llu, lost %llu)", (unsigned long long)sn.hits[0],
	   (unsigned long long)sn.hits[1], (unsigned long long)st.lost);
	ok(st.samples >= sn.hits[0] + sn.hits[1], "stats count the samples (%llu)", (unsigned long long)st.samples);
	ok(cpu > 0, "sampler CPU time measured (%llu ns)", (unsigned long long)cpu);
	ht_sampler_destroy(s);
	seen_free(&sn);
	unmap_two(t);
}

int main(void)
{
	psz = sysconf(_SC_PAGESIZE);
	raw_rings();
	pebs_source();
	refused();
	sampler_thread();
	return tap_done();
}
