/* test_hostctl_metrics.c - the guest agent's demand report (hc_demand_scan
 * over real stats files), label escaping, and `htstat --prometheus` through
 * the strict format check of promcheck.py, which must also refuse bad text. */
#include "demand.h"
#include "prom.h"
#include "core/statsfile.h"
#include "tap.h"
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MiB (1ULL << 20)
static char out[1 << 16];

static int sh(const char *cmd)
{
	FILE *p = popen(cmd, "r");
	size_t n = p ? fread(out, 1, sizeof(out) - 1, p) : 0;
	out[n] = 0;
	int rc = p ? pclose(p) : -1;
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : 128;
}

static struct ht_statsfile *publish(const char *dir, int pid, uint64_t hot, uint64_t budget, uint64_t used)
{
	char why[512];
	struct ht_statsfile *f = ht_statsfile_create(dir, pid, why, sizeof(why));
	struct ht_sf_data d;
	memset(&d, 0, sizeof(d));
	d.st.size = sizeof(d.st);
	d.st.hot_set_bytes = hot;
	d.st.fast_budget = budget;
	d.st.fast_used = used;
	d.st.pages_promoted = 1234;
	d.st.pages_demoted = 56;
	d.st.samples = 7890;
	d.st.samples_lost = 3;
	snprintf(d.source, sizeof(d.source), "software");
	if (!f)
		tap_bail(why);
	ht_statsfile_publish(f, &d);
	return f;
}

int main(void)
{
	const char *src = getenv("abs_top_srcdir"), *bld = getenv("abs_top_builddir");
	char dir[] = "/tmp/ht-metrics-XXXXXX", cmd[1024], file[128];
	if (!mkdtemp(dir))
		tap_bail("mkdtemp");
	src = src ? src : "../..";
	bld = bld ? bld : "..";

	/* demand: two live processes, one file of a process that never published */
	pid_t kid = fork();
	if (kid == 0) {
		pause();
		_exit(0);
	}
	struct ht_statsfile *me = publish(dir, getpid(), 300 * MiB, 256 * MiB, 200 * MiB);
	struct ht_statsfile *k = publish(dir, kid, 100 * MiB, 64 * MiB, 60 * MiB);
	char why[512];
	struct ht_statsfile *mute = ht_statsfile_create(dir, getppid(), why, sizeof(why));
	struct hc_demand d;
	hc_demand_scan(&d, dir);
	is_int(d.procs, 2, "demand: two processes that published stats counted");
	is_int(d.hot_set, 400 * MiB, "demand: hot sets summed");
	is_int(d.fast_budget, 320 * MiB, "demand: fast budgets summed");
	is_int(d.fast_used, 260 * MiB, "demand: fast use summed");
	kill(kid, SIGKILL);
	waitpid(kid, NULL, 0);
	hc_demand_scan(&d, dir);
	is_int(d.procs, 1, "demand: a process that is gone no longer counts");
	is_int(d.hot_set, 300 * MiB, "demand: only the live process's hot set");

	/* label escaping */
	char e[64];
	is_str(hc_prom_escape("a\"b\\c\nd", e, sizeof(e)), "a\\\"b\\\\c\\nd", "label value: quote, backslash, newline escaped");

	/* hc_prom_write with a hostile name, through the strict check */
	snprintf(file, sizeof(file), "%s/vm.prom", dir);
	FILE *f = fopen(file, "w");
	struct hc_prom_vm v[2] = { { .name = "vm\"1\\\nx", .up = 1 }, { .name = "vm2", .up = 0 } };
	v[0].t[0].quota = 512 * MiB;
	v[0].t[0].demand = 610 * MiB;
	v[0].t[0].has = HC_PM_QUOTA | HC_PM_DEMAND;
	v[1].t[1].backed = 7;
	v[1].t[1].has = HC_PM_BACKED;
	hc_prom_write(f, v, 2);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "python3 %s/tests/unit/promcheck.py --dump %s 2>&1", src, file);
	int rc = sh(cmd);
	ok(rc == 0, "hc_prom_write output passes the strict check (exit %d)", rc);
	if (rc)
		tap_diag("%s", out);
	ok(strstr(out, "hypertier_vm_tier_demand_bytes\t{\"tier\": \"fast\", \"vm\": \"vm\\\"1\\\\\\nx\"}\t639631360"),
	   "the hostile VM name parses back as it was, with its demand");
	ok(strstr(out, "hypertier_vm_tier_host_backed_bytes\t{\"tier\": \"slow\", \"vm\": \"vm2\"}\t7") &&
	   strstr(out, "hypertier_vm_agent_up\t{\"vm\": \"vm2\"}\t0"), "per-tier and per-VM samples present");

	/* htstat --prometheus */
	snprintf(cmd, sizeof(cmd), "%s/tools/htstat --prometheus -d %s %d > %s/p.prom 2>&1; echo $? > %s/rc; "
		 "python3 %s/tests/unit/promcheck.py --dump %s/p.prom 2>&1", bld, dir, getpid(), dir, dir, src, dir);
	rc = sh(cmd);
	ok(rc == 0, "htstat --prometheus passes the strict check (exit %d)", rc);
	if (rc)
		tap_diag("%s", out);
	const char *want[] = { "hypertier_process_fast_used_bytes\t{\"pid\": \"%d\"}\t209715200",
			       "hypertier_process_fast_budget_bytes\t{\"pid\": \"%d\"}\t268435456",
			       "hypertier_process_hot_set_bytes\t{\"pid\": \"%d\"}\t314572800",
			       "hypertier_process_promotions_total\t{\"pid\": \"%d\"}\t1234",
			       "hypertier_process_demotions_total\t{\"pid\": \"%d\"}\t56",
			       "hypertier_process_samples_total\t{\"pid\": \"%d\"}\t7890",
			       "hypertier_process_samples_lost_total\t{\"pid\": \"%d\"}\t3" };
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		char w[160];
		snprintf(w, sizeof(w), want[i], getpid());
		ok(strstr(out, w) != NULL, "htstat --prometheus: %.*s", (int)strcspn(w, "\t"), w);
	}
	snprintf(cmd, sizeof(cmd), "%s/tools/htstat --prometheus -i 1 %d 2>&1", bld, getpid());
	ok(sh(cmd) == 2, "htstat --prometheus with -i refused: one snapshot per exposition");

	/* the check itself refuses what the format forbids */
	static const char *const bad[] = {
		"# HELP m x\n# TYPE m gauge\nm{vm=\"a\"b\"} 1\n",                  /* unescaped quote */
		"# HELP m x\n# TYPE m gauge\nm{vm=\"a\\q\"} 1\n",                 /* unknown escape */
		"m 1\n",                                                          /* no HELP/TYPE */
		"# HELP m x\n# TYPE m gauge\nm 1\n# HELP n y\n# TYPE n gauge\nn 1\nm 2\n", /* split family */
		"# HELP m x\n# TYPE m gauge\nm 1\nm 2\n",                         /* series twice */
		"# HELP m x\n# TYPE m gauge\nm one\n",                            /* bad value */
		"# HELP 1m x\n# TYPE 1m gauge\n1m 1\n",                           /* bad name */
		"# HELP m x\n# TYPE m counter\nm 1\n",                            /* counter not _total */
		"# HELP m x\n# TYPE m gauge\nm{__x=\"a\"} 1\n",                   /* reserved label */
		"# HELP m x\n# TYPE m gauge\nm 1",                                /* no final newline */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(file, sizeof(file), "%s/bad.prom", dir);
		f = fopen(file, "w");
		fputs(bad[i], f);
		fclose(f);
		snprintf(cmd, sizeof(cmd), "python3 %s/tests/unit/promcheck.py %s 2>&1", src, file);
		rc = sh(cmd);
		ok(rc == 1 && strstr(out, "promcheck: "), "promcheck refuses bad text %zu: %s", i, out);
	}
	ht_statsfile_close(me, 1);
	ht_statsfile_close(k, 1);
	if (mute)
		ht_statsfile_close(mute, 1);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		tap_diag("cleanup failed");
	return tap_done();
}
