/* The one configuration parser: good input taken, every kind of bad input refused with a clear line. */
#include <stdlib.h>
#include <stdio.h>
#include "tap.h"
#include "core/conf.h"
#include "core/thp.h"

static int fails(const char *s, const char *needle)
{
	struct ht_conf c;
	char err[256] = "";
	ht_conf_defaults(&c);
	int r = ht_conf_parse(&c, s, err, sizeof(err));
	int good = r < 0 && strstr(err, needle) && !strchr(err, '\n') && !strchr(err, 033);
	if (!good)
		tap_diag("  '%s' -> r=%d err='%s'", s, r, err);
	return good;
}

int main(void)
{
	struct ht_conf c;
	char err[256] = "";
	ht_conf_defaults(&c);
	is_int(c.sample_period, 4093, "default sample_period is 4093");
	is_int(c.min_range, 2 << 20, "default min_range is 2 MiB");
	is_int(c.epoch, 500000, "default epoch is 500 ms");
	is_int(c.log, HT_LOG_OFF, "silent by default");
	ok(c.watermark == 2.0, "default watermark 2%%");

	ok(ht_conf_parse(&c, "fast_quota=512M,sample_period=4093,log=info", err, sizeof(err)) == 0, "issue example parses: %s", err);
	is_int(c.fast_quota, 512ull << 20, "512M = 536870912 bytes");
	is_int(c.log, HT_LOG_INFO, "log=info");
	ok(ht_conf_parse(&c, "epoch=2s,drain_interval=500us,batch=1GiB,events=A:ldlat=3;B", err, sizeof(err)) == 0, "durations, sizes, lists");
	is_int(c.epoch, 2000000, "2s in us");
	is_int(c.drain_interval, 500, "500us");
	is_int(c.batch, 1ull << 30, "1GiB");
	is_str(c.events, "A:ldlat=3;B", "event list kept whole (= inside value)");
	ok(ht_conf_parse(&c, "", err, sizeof(err)) == 0, "empty string is fine");
	ok(ht_conf_parse(&c, NULL, err, sizeof(err)) == 0, "unset is fine");

	ok(fails("bogus=1", "unknown key 'bogus'"), "unknown key refused");
	ok(fails("fast_quota=12Q", "fast_quota=12Q"), "bad size refused");
	ok(fails("fast_quota=-1", "fast_quota"), "negative size refused");
	ok(fails("fast_quota=99999999999T", "fast_quota"), "overflowing size refused");
	ok(fails("sample_period=0", "out of range"), "period 0 out of range");
	ok(fails("watermark=70", "out of range"), "watermark 70%% out of range");
	ok(fails("log=loud", "expected one of off|error|warn|info|debug"), "bad enum lists choices");
	ok(fails("enable=maybe", "not a valid bool"), "bad bool refused");
	ok(fails("sample_period", "expected key=value"), "missing = refused");
	ok(fails("ring_pages=3", "power of two"), "ring_pages must be power of two");
	ok(fails("period_min=5000,period_max=100", "above period_max"), "inverted period bounds refused");
	ok(fails("fast_node=1,slow_node=1", "both 1"), "same fast and slow node refused");
	ok(fails("sample=replay", "replay=FILE"), "replay without file refused");
	ok(fails("epoch=10parsecs", "epoch"), "bad duration refused");
	/* each of these was accepted before: 2^64-1, silently, or echoed raw */
	static const char *const neg[] = { "fast_quota= -1", "fast_quota=+1G", "batch=-1", "min_range= 4M", "scan_max=-4G",
					   "epoch_cap=-1", "migrate_rate=-1", "site_threshold=-1", "epoch= 5s" };
	for (size_t i = 0; i < sizeof(neg) / sizeof(*neg); i++)
		ok(ht_conf_parse(&c, neg[i], err, sizeof(err)) < 0, "'%s' refused: %s", neg[i], err);
	ok(fails("sample_period= 5", "sample_period"), "a number with leading space refused");
	ok(fails("fast_quota=0x10", "fast_quota"), "hexadecimal refused (numbers are decimal)");
	ok(fails("log=info,log=off", "log given twice"), "a key given twice refused");
	ok(fails("log=info\nfast_quota=1G", "control character 0x0a at byte 8"),
	   "a newline refused, named, not echoed");
	ok(fails("log=\033[2Jinfo", "control character 0x1b"), "ESC refused, not echoed");
	ok(ht_conf_parse(&c, "log=info, fast_quota=1G", err, sizeof(err)) == 0, "a space after a comma is fine");

	/* The table is complete: every key documented, defaults parse (ht_conf_defaults aborts otherwise). */
	int documented = 1;
	for (size_t i = 0; i < ht_conf_nkeys; i++)
		if (!ht_conf_keys[i].doc[0])
			documented = 0;
	ok(documented && ht_conf_nkeys > 30, "%zu keys, all documented", ht_conf_nkeys);
	/* The smallest quota with transparent huge pages on: two of them. */
	char root[] = "/tmp/ht-thp-XXXXXX", path[600];
	if (!mkdtemp(root))
		tap_bail("mkdtemp");
	snprintf(path, sizeof(path), "mkdir -p %s/sys/kernel/mm/transparent_hugepage", root);
	if (system(path) != 0)
		tap_bail("mkdir");
	const char *modes[] = { "[always] madvise never\n", "always [madvise] never\n", "always madvise [never]\n" };
	uint64_t want[] = { 2 << 20, 2 << 20, 0 };
	for (int i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/sys/kernel/mm/transparent_hugepage/enabled", root);
		FILE *f = fopen(path, "w");
		fputs(modes[i], f);
		fclose(f);
		snprintf(path, sizeof(path), "%s/sys/kernel/mm/transparent_hugepage/hpage_pmd_size", root);
		f = fopen(path, "w");
		fputs("2097152\n", f);
		fclose(f);
		is_int(ht_thp_unit(root), want[i], "THP unit for enabled = %.22s", modes[i]);
		is_int(ht_thp_always(root), i == 0, "THP backs all anonymous memory (the page layer's off) for %.22s", modes[i]);
	}
	is_int(ht_thp_unit("/nonexistent"), 0, "no THP sysfs: no unit");
	ok(ht_quota_check(1 << 20, 2 << 20, err, sizeof(err)) < 0 && strstr(err, "below 4096 KiB"),
	   "fast_quota=1M refused with THP on: %s", err);
	ok(ht_quota_check(4 << 20, 2 << 20, err, sizeof(err)) == 0, "fast_quota=4M accepted with THP on");
	ok(ht_quota_check(1 << 20, 0, err, sizeof(err)) == 0 && ht_quota_check(0, 2 << 20, err, sizeof(err)) == 0,
	   "fast_quota=1M accepted with THP off; no quota always accepted");
	snprintf(path, sizeof(path), "rm -rf %s", root);
	if (system(path) != 0)
		tap_diag("could not remove %s", root);
	return tap_done();
}
