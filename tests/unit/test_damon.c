/*
 * The DAMON source's parts that need no DAMON: the tracepoint's format as
 * 6.12 prints it, the region -> samples rule, and the kdamond slot rules on
 * a fake sysfs tree (never someone else's kdamond; a SIGKILLed owner's slot
 * and an exec'd image's own slot are taken back; every slot taken says so).
 * The real kernel path runs in the 6.12 guest (vm/damon.sh).
 */
#define _GNU_SOURCE
#include "tap.h"
#include "source/damon.h"
#include "source/damon_kdamond.h"
#include "source/source.h"
#include "core/conf.h"
#include <errno.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char root[64];

static void put(const char *rel, const char *val)
{
	char p[256], dir[256];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	snprintf(dir, sizeof(dir), "%s", p);
	for (char *s = dir + strlen(root) + 1; (s = strchr(s, '/')); s++) {
		*s = 0;
		mkdir(dir, 0700);
		*s = '/';
	}
	FILE *f = fopen(p, "w");
	if (!f)
		tap_bail(p);
	fprintf(f, "%s\n", val);
	fclose(f);
}

static void get(const char *rel, char *buf, size_t len)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	FILE *f = fopen(p, "r");
	buf[0] = 0;
	if (f) {
		if (!fgets(buf, (int)len, f))
			buf[0] = 0;
		fclose(f);
	}
	buf[strcspn(buf, "\n")] = 0;
}

/* One kdamond slot as the kernel shows it. */
static void slot(int i, const char *state, int nctx, const char *ops, int target)
{
	char rel[128], v[32];
	snprintf(rel, sizeof(rel), "kdamonds/%d/state", i);
	put(rel, state);
	snprintf(rel, sizeof(rel), "kdamonds/%d/pid", i);
	put(rel, "4242"); /* the kernel shows -1 until on; a file cannot change itself */
	snprintf(rel, sizeof(rel), "kdamonds/%d/contexts/nr_contexts", i);
	snprintf(v, sizeof(v), "%d", nctx);
	put(rel, v);
	/* what writing nr_contexts and nr_targets would create in the kernel's tree */
	static const char *const files[] = { "operations", "monitoring_attrs/intervals/sample_us",
		"monitoring_attrs/intervals/aggr_us", "monitoring_attrs/intervals/update_us",
		"monitoring_attrs/nr_regions/min", "monitoring_attrs/nr_regions/max", "schemes/nr_schemes",
		"targets/nr_targets", "targets/0/pid_target" };
	for (size_t f = 0; f < sizeof(files) / sizeof(*files); f++) {
		snprintf(rel, sizeof(rel), "kdamonds/%d/contexts/0/%s", i, files[f]);
		put(rel, "0");
	}
	if (nctx) {
		snprintf(rel, sizeof(rel), "kdamonds/%d/contexts/0/operations", i);
		put(rel, ops);
		snprintf(rel, sizeof(rel), "kdamonds/%d/contexts/0/targets/nr_targets", i);
		put(rel, target ? "1" : "0");
		snprintf(rel, sizeof(rel), "kdamonds/%d/contexts/0/targets/0/pid_target", i);
		snprintf(v, sizeof(v), "%d", target);
		put(rel, v);
	}
}

static const struct ht_damon_attrs attrs = { 5000, 100000, 1000000, 10, 1000, 4 };

static void test_format(void)
{
	/* include/trace/events/damon.h as 6.12's tracefs prints it */
	static const char fmt[] =
		"name: damon_aggregated\nID: 1481\nformat:\n"
		"\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
		"\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n"
		"\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n"
		"\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n"
		"\tfield:unsigned long target_id;\toffset:8;\tsize:8;\tsigned:0;\n"
		"\tfield:unsigned int nr_regions;\toffset:16;\tsize:4;\tsigned:0;\n"
		"\tfield:unsigned long start;\toffset:24;\tsize:8;\tsigned:0;\n"
		"\tfield:unsigned long end;\toffset:32;\tsize:8;\tsigned:0;\n"
		"\tfield:unsigned int nr_accesses;\toffset:40;\tsize:4;\tsigned:0;\n"
		"\tfield:unsigned int age;\toffset:44;\tsize:4;\tsigned:0;\n\n"
		"print fmt: \"target_id=%lu nr_regions=%u %lu-%lu: %u %u\", ...\n";
	struct ht_damon_fields f;
	ok(ht_damon_fields_parse(fmt, &f) == 0 && f.start == 24 && f.size_start == 8 && f.end == 32 &&
	   f.nr_accesses == 40 && f.size_acc == 4, "format: start@24/8, end@32/8, nr_accesses@40/4");
	ok(ht_damon_fields_parse("name: damon_aggregated\nformat:\n\tfield:unsigned long start;\toffset:24;\tsize:8;\n", &f) < 0,
	   "a format without end/nr_accesses is refused");
}

static uint64_t count;
static uint64_t lo, hi, mine;
static void sink(void *arg, const struct ht_sample *s, size_t n)
{
	(void)arg;
	for (size_t i = 0; i < n; i++) {
		count++;
		mine += s[i].addr >= lo && s[i].addr < hi;
	}
}

static void test_region(void)
{
	struct ht_batch b;
	uint64_t rng = 12345;
	lo = 0x7f0000000000ull;
	hi = lo + (64ull << 20);
	ht_batch_begin(&b, sink, NULL);
	uint64_t k = ht_damon_region(&b, lo, hi, 10, 2 << 20, &rng, 1);
	ht_batch_flush(&b);
	ok(k == 320 && count == 320 && mine == 320, "64 MiB at 10 accesses, grain 2 MiB: 320 samples, all inside (%llu)",
	   (unsigned long long)count);
	count = mine = 0;
	hi = lo + (64 << 10);
	for (int t = 0; t < 32000; t++) {
		ht_batch_begin(&b, sink, NULL);
		ht_damon_region(&b, lo, hi, 1, 2 << 20, &rng, 1);
		ht_batch_flush(&b);
	}
	ok(count > 850 && count < 1150 && mine == count, "64 KiB at 1 access: dithered to 1/32 on average (%llu in 32000)",
	   (unsigned long long)count);
	count = 0;
	ht_batch_begin(&b, sink, NULL);
	ok(ht_damon_region(&b, lo, lo + 4096, 1u << 31, 4096, &rng, 1) == 64 && ht_damon_region(&b, hi, lo, 5, 4096, &rng, 1) == 0,
	   "a bogus count is capped (one sample per 64 bytes), an empty region gives none");
	ht_batch_flush(&b);
}

static void test_slots(void)
{
	char why[512], v[64];
	struct ht_kdamond k;
	snprintf(root, sizeof(root), "/tmp/ht-damon-XXXXXX");
	if (!mkdtemp(root))
		tap_bail("mkdtemp");

	ok(ht_kdamond_probe(root, why, sizeof(why)) < 0 && strstr(why, "no DAMON"), "no sysfs tree: %s", why);

	/* the host's situation: one kdamond, running paddr for someone else */
	put("kdamonds/nr_kdamonds", "1");
	slot(0, "on", 1, "paddr", 0);
	int r = ht_kdamond_start(&k, root, &attrs, getpid(), why, sizeof(why));
	get("kdamonds/0/contexts/0/operations", v, sizeof(v));
	ok(r == -EBUSY && strstr(why, "every kdamond slot is taken (1 kdamond: 0: on, paddr)") && !strcmp(v, "paddr"),
	   "a running kdamond of another owner is never taken: %s", why);
	/* an operator's configured, stopped vaddr monitor of a live process */
	slot(0, "off", 1, "vaddr", getppid());
	r = ht_kdamond_start(&k, root, &attrs, getpid(), why, sizeof(why));
	ok(r == -EBUSY && strstr(why, "configured (vaddr) by another owner"), "a stopped monitor of a live process is left alone: %s", why);

	/* no kdamonds at all: damon_slots are created, the first is ours */
	put("kdamonds/nr_kdamonds", "0");
	r = ht_kdamond_start(&k, root, &attrs, getpid(), why, sizeof(why));
	get("kdamonds/nr_kdamonds", v, sizeof(v));
	ok(r != 0 && !strcmp(v, "4"), "none exist: nr_kdamonds set to damon_slots (4) (%s)", why);

	/* slots as the kernel recreates them: 0 foreign, 1 free */
	slot(0, "on", 1, "paddr", 0);
	slot(1, "off", 0, "", 0);
	slot(2, "off", 0, "", 0);
	slot(3, "off", 0, "", 0);
	r = ht_kdamond_start(&k, root, &attrs, getpid(), why, sizeof(why));
	char pt[32], st[32], us[32];
	get("kdamonds/1/contexts/0/targets/0/pid_target", pt, sizeof(pt));
	get("kdamonds/1/state", st, sizeof(st));
	get("kdamonds/1/contexts/0/monitoring_attrs/intervals/aggr_us", us, sizeof(us));
	get("kdamonds/1/contexts/0/operations", v, sizeof(v));
	ok(r == 0 && k.idx == 1 && atoi(pt) == getpid() && !strcmp(st, "on") && !strcmp(us, "100000") && !strcmp(v, "vaddr"),
	   "a free slot is configured: vaddr on our pid, aggr_us 100000, on (slot %d, pid_target %s, %s, aggr_us %s, %s)", k.idx, pt, st, us, v);
	get("kdamonds/0/contexts/0/operations", v, sizeof(v));
	ok(!strcmp(v, "paddr"), "the foreign kdamond 0 untouched");
	ok(access(k.claim, F_OK) == 0, "claim recorded in %s", k.claim);

	/* a second process takes another slot, not ours */
	pid_t c = fork();
	if (c == 0) {
		struct ht_kdamond k2;
		char w[512];
		int rr = ht_kdamond_start(&k2, root, &attrs, getpid(), w, sizeof(w));
		_exit(rr == 0 && k2.idx == 2 ? 0 : 1); /* exits without stop: like SIGKILL */
	}
	int status;
	waitpid(c, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "a second process gets slot 2, not ours");
	/* its slot is stale now (owner gone); an exec'd image of ours takes back its own first */
	struct ht_kdamond again;
	r = ht_kdamond_start(&again, root, &attrs, getpid(), why, sizeof(why));
	ok(r == 0 && again.idx == 1, "same pid and starttime (exec): our own slot 1 is taken back (%d)", again.idx);
	c = fork();
	if (c == 0) {
		struct ht_kdamond k3;
		char w[512];
		slot(3, "on", 1, "paddr", 0); /* only 2 (stale) is left */
		int rr = ht_kdamond_start(&k3, root, &attrs, getpid(), w, sizeof(w));
		char p2[32];
		get("kdamonds/2/contexts/0/targets/0/pid_target", p2, sizeof(p2));
		int good = rr == 0 && k3.idx == 2 && atoi(p2) == getpid();
		ht_kdamond_stop(&k3);
		_exit(good ? 0 : 1);
	}
	waitpid(c, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "a SIGKILLed owner's slot is reclaimed by the next start");

	ht_kdamond_stop(&again);
	get("kdamonds/1/state", st, sizeof(st));
	get("kdamonds/1/contexts/nr_contexts", v, sizeof(v));
	ok(!strcmp(st, "off") && !strcmp(v, "0") && access(again.claim, F_OK) != 0,
	   "stop: off, configuration cleared, claim removed");
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	if (system(cmd))
		tap_diag("cleanup failed");
}

int main(void)
{
	test_format();
	test_region();
	if (geteuid() == 0)
		test_slots();
	else
		tap_skip("the kdamond slot rules write root's runtime directory (claims): run as root");
	return tap_done();
}
