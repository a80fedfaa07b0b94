/*
 * PEBS event encodings through libpfm4 under LIBPFM_FORCE_PMU=icx and spr:
 * the raw codes the papers use (0x1cd load latency with ldlat in config1,
 * 0x82d0 all stores, 0x20d1 L3 miss), the event list syntax, the VM
 * fallback and a clear error for a misspelt name; every defaults row, the
 * pre-Haswell ones (load latency named LATENCY_ABOVE_THRESHOLD) and a PMU
 * without defaults. libpfm4 reads the forced
 * PMU once per process, so each PMU is checked in a forked child.
 */
#include "tap.h"
#include "core/conf.h"
#include "source/pfm_events.h"
#include <sys/wait.h>
#include <unistd.h>

static void conf(struct ht_conf *c, const char *s)
{
	char err[256];
	ht_conf_defaults(c);
	if (ht_conf_parse(c, s, err, sizeof(err)) < 0)
		tap_bail(err);
}

static void check_pmu(const char *pmu)
{
	struct ht_conf c;
	struct ht_pfm_event ev[HT_PFM_MAX_EVENTS];
	char why[256] = "";
	int fb = -1, n;

	is_str(ht_pfm_core_pmu(), pmu, "%s: libpfm4 core PMU is the forced one", pmu);

	conf(&c, "");
	n = ht_pfm_events(&c, 0, ev, HT_PFM_MAX_EVENTS, &fb, why, sizeof(why));
	is_int(n, 2, "%s: defaults are two events (%s)", pmu, why);
	ok(n == 2 && ev[0].attr.type == PERF_TYPE_RAW && ev[0].attr.config == 0x1cd && ev[0].attr.config1 == 64,
	   "%s: load latency = raw 0x1cd, ldlat 64 in config1 (got %#llx/%#llx)", pmu,
	   (unsigned long long)ev[0].attr.config, (unsigned long long)ev[0].attr.config1);
	ok(n == 2 && ev[0].attr.sample_period == 4093 && !ev[0].store && ev[0].load_latency,
	   "%s: load event at period 4093", pmu);
	ok(n == 2 && ev[1].attr.config == 0x82d0 && ev[1].attr.config1 == 0 && ev[1].store &&
	   ev[1].attr.sample_period == 65535, "%s: stores = raw 0x82d0 at period 65535", pmu);
	is_int(fb, 0, "%s: no fallback on bare metal", pmu);

	conf(&c, "ldlat=128,sample_period=997,store_period=100003");
	n = ht_pfm_events(&c, 0, ev, HT_PFM_MAX_EVENTS, &fb, why, sizeof(why));
	ok(n == 2 && ev[0].attr.config1 == 128 && ev[0].attr.sample_period == 997 && ev[1].attr.sample_period == 100003,
	   "%s: ldlat and periods follow the settings", pmu);

	conf(&c, "");
	n = ht_pfm_events(&c, 1, ev, HT_PFM_MAX_EVENTS, &fb, why, sizeof(why));
	ok(n == 2 && fb == 1 && ev[0].attr.config == 0x20d1 && ev[0].attr.config1 == 0 && !ev[0].load_latency &&
	   ev[1].attr.config == 0x82d0, "%s: in a VM the L3-miss event (0x20d1) replaces load latency", pmu);

	conf(&c, "events=MEM_LOAD_RETIRED.L3_MISS@19997;MEM_TRANS_RETIRED.LOAD_LATENCY:ldlat=48;MEM_LOAD_RETIRED.L3_HIT/store");
	n = ht_pfm_events(&c, 1, ev, HT_PFM_MAX_EVENTS, &fb, why, sizeof(why));
	ok(n == 3 && fb == 0, "%s: a three-event list is taken as given, even in a VM (%s)", pmu, why);
	ok(n == 3 && ev[0].attr.sample_period == 19997 && ev[0].attr.config == 0x20d1, "%s: @19997 sets the period", pmu);
	ok(n == 3 && ev[1].attr.config1 == 48 && ev[1].attr.sample_period == 4093, "%s: explicit ldlat=48 kept", pmu);
	ok(n == 3 && ev[2].store && ev[2].attr.sample_period == 65535, "%s: /store marks a store event", pmu);

	conf(&c, "events=MEM_TRANS_RETIRE.LOAD_LATENCY");
	n = ht_pfm_events(&c, 0, ev, HT_PFM_MAX_EVENTS, &fb, why, sizeof(why));
	ok(n < 0 && strstr(why, "'MEM_TRANS_RETIRE.LOAD_LATENCY' is not known") && strstr(why, pmu) &&
	   !strchr(why, '\n'), "%s: misspelt event -> one clear line: %s", pmu, why);
	conf(&c, "events=MEM_INST_RETIRED.ALL_STORES@0");
	ok(ht_pfm_events(&c, 0, ev, HT_PFM_MAX_EVENTS, &fb, why, sizeof(why)) < 0 && strstr(why, "@0"),
	   "%s: period 0 refused: %s", pmu, why);
	conf(&c, "events=MEM_INST_RETIRED.ALL_STORES/both");
	ok(ht_pfm_events(&c, 0, ev, HT_PFM_MAX_EVENTS, &fb, why, sizeof(why)) < 0 && strstr(why, "/store or /load"),
	   "%s: bad kind refused: %s", pmu, why);
}

/* Every row of the defaults table encodes under its own PMU (NULL: none there records addresses). */
static void check_table_row(const char *pmu)
{
	struct ht_conf c;
	struct ht_pfm_event ev;
	const char *load, *fb, *store;
	char why[256] = "";
	conf(&c, "");
	if (ht_pfm_default_for(pmu, &load, &fb, &store) < 0) {
		ok(0, "%s: a defaults row exists", pmu);
		return;
	}
	ok(ht_pfm_encode(&c, load, &ev, why, sizeof(why)) == 0 && ev.attr.config1 == 64 && ev.load_latency,
	   "%s: %s encodes with ldlat %s", pmu, load, why);
	ok(!fb || ht_pfm_encode(&c, fb, &ev, why, sizeof(why)) == 0, "%s: %s encodes %s", pmu, fb ? fb : "(no fallback)", why);
	ok(!store || (ht_pfm_encode(&c, store, &ev, why, sizeof(why)) == 0 && ev.store), "%s: %s encodes as a store %s",
	   pmu, store ? store : "(no store event)", why);
}

/* The pre-Haswell rows (the Ivy/Sandy Bridge recordings' PMUs): raw codes, and
 * in a VM a clear line instead of an address-less fallback. */
static const struct { const char *pmu; unsigned long long load, store; } old_rows[] = {
	{ "ivb_ep", 0x1cd, 0x2cd }, { "ivb", 0x1cd, 0x2cd }, { "snb_ep", 0x1cd, 0x2cd }, { "snb", 0x1cd, 0x2cd },
	{ "wsm_dp", 0x100b, 0 }, { "wsm", 0x100b, 0 }, { "nhm_ex", 0x100b, 0 }, { "nhm", 0x100b, 0 },
};

static void check_old_pmu(const char *pmu)
{
	struct ht_conf c;
	struct ht_pfm_event ev[HT_PFM_MAX_EVENTS];
	char why[256] = "";
	int fb, n, want = 0;
	for (size_t i = 0; i < sizeof(old_rows) / sizeof(old_rows[0]); i++)
		if (!strcmp(old_rows[i].pmu, pmu))
			want = (int)i;
	conf(&c, "");
	n = ht_pfm_events(&c, 0, ev, HT_PFM_MAX_EVENTS, &fb, why, sizeof(why));
	ok(n == (old_rows[want].store ? 2 : 1) && ev[0].attr.config == old_rows[want].load && ev[0].attr.config1 == 64 &&
	   ev[0].load_latency && (n == 1 || (ev[1].attr.config == old_rows[want].store && ev[1].store)),
	   "%s: sample=auto gets load latency %#llx%s (%d events) %s", pmu, old_rows[want].load,
	   old_rows[want].store ? " + precise stores 0x2cd" : ", no store event", n, why);
	n = ht_pfm_events(&c, 1, ev, HT_PFM_MAX_EVENTS, &fb, why, sizeof(why));
	ok(n < 0 && strstr(why, pmu) && !strchr(why, '\n'), "%s: in a VM one line: %s", pmu, why);
}

/* A PEBS PMU without load latency has no defaults: one line says so. */
static void check_no_default(const char *pmu)
{
	struct ht_conf c;
	struct ht_pfm_event ev[HT_PFM_MAX_EVENTS];
	char why[256] = "";
	int fb;
	conf(&c, "");
	ok(ht_pfm_events(&c, 0, ev, HT_PFM_MAX_EVENTS, &fb, why, sizeof(why)) < 0 &&
	   strstr(why, "no default PEBS events") && strstr(why, pmu) && !strchr(why, '\n'), "%s: %s", pmu, why);
}

/* Run fn under LIBPFM_FORCE_PMU=pmu in a child; fold its TAP count back. */
static void in_child(const char *pmu, void (*fn)(const char *))
{
	pid_t p = fork();
	if (p == 0) {
		int before = tap_n;
		setenv("LIBPFM_FORCE_PMU", pmu, 1);
		fn(pmu);
		fflush(stdout);
		_exit((tap_n - before) | (tap_fail ? 0x80 : 0));
	}
	int st = 0;
	waitpid(p, &st, 0);
	if (!WIFEXITED(st)) {
		ok(0, "%s: child died", pmu);
		return;
	}
	tap_n += WEXITSTATUS(st) & 0x7f;
	if (WEXITSTATUS(st) & 0x80)
		tap_fail++;
}

int main(void)
{
	fflush(stdout);
	in_child("icx", check_pmu);
	in_child("spr", check_pmu);
	static const char *rows[] = { "spr", "icx", "icl", "clx", "skx", "skl", "bdw_ep", "bdw", "hsw_ep", "hsw" };
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		in_child(rows[i], check_table_row);
	for (size_t i = 0; i < sizeof(old_rows) / sizeof(old_rows[0]); i++) {
		in_child(old_rows[i].pmu, check_table_row);
		in_child(old_rows[i].pmu, check_old_pmu);
	}
	in_child("glm", check_no_default);
	return tap_done();
}
