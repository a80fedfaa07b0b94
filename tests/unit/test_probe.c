/*
 * The PMU probe and source selection on this machine. Where there is no
 * PMU (this host and the test guest) auto selection must fail with the
 * plain reason, and the process carries on: the software source still
 * runs. Where a PMU exists, the probe's answer must match sysfs.
 */
#include "tap.h"
#include "core/pmu.h"
#include "source/sampler.h"
#include "source/software.h"
#include <unistd.h>

static uint64_t got_n, got_sum;
static void count(void *arg, const struct ht_sample *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		got_n++;
		got_sum += s[i].addr;
	}
}

int main(void)
{
	struct ht_pmu_info p;
	struct ht_conf c;
	char why[256] = "", err[256];

	ht_pmu_probe(&p);
	int cpu_dir = access("/sys/bus/event_source/devices/cpu", F_OK) == 0;
	int ibs_dir = access("/sys/bus/event_source/devices/ibs_op", F_OK) == 0;
	is_int(p.has_cpu_pmu, cpu_dir, "probe agrees with sysfs about the cpu PMU");
	is_int(p.has_ibs_op, ibs_dir, "probe agrees with sysfs about ibs_op");
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[512], vend[64] = "";
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "vendor_id : %63s", vend) == 1)
			break;
	if (f)
		fclose(f);
	int want = !strcmp(vend, "GenuineIntel") ? HT_VENDOR_INTEL : (!strcmp(vend, "AuthenticAMD") || !strcmp(vend, "HygonGenuine")) ? HT_VENDOR_AMD : HT_VENDOR_OTHER;
	is_int(p.vendor, want, "vendor matches /proc/cpuinfo (%s, %s)", vend, p.model_name);
	ok(p.paranoid >= -1 && p.paranoid <= 4, "perf_event_paranoid read (%d)", p.paranoid);
	tap_diag("vm=%d hypervisor='%s' pmu_name='%s' pebs_ok=%d ibs_ok=%d", p.in_vm, p.hypervisor, p.pmu_name,
		 p.pebs_ok, p.ibs_ok);
	ok(p.pebs_ok || (*p.pebs_why && !strchr(p.pebs_why, '\n')), "PEBS: ok or one line why: %s", p.pebs_why);
	ok(p.ibs_ok || (*p.ibs_why && !strchr(p.ibs_why, '\n')), "IBS: ok or one line why: %s", p.ibs_why);

	ht_conf_defaults(&c);
	const struct ht_source_ops *o = ht_source_select(&c, why, sizeof(why));
	if (!cpu_dir) {
		/* This host and the guest: the plain reason, exactly. */
		ok(!p.pebs_ok && !p.ibs_ok, "no PMU: neither PEBS nor IBS usable");
		ok(strstr(p.pebs_why, "no PMU: /sys/bus/event_source/devices/cpu is absent (") &&
		   strstr(p.pebs_why, "PEBS unavailable"), "PEBS reason names the missing sysfs PMU");
		ok(o == NULL && strstr(why, "no PMU: /sys/bus/event_source/devices/cpu is absent"),
		   "auto selects nothing and says why: %s", why);
		if (p.in_vm)
			ok(strstr(why, "virtual machine"), "inside a VM the reason says so");
		else
			ok(strstr(why, "PMU driver"), "on bare metal the reason points at the driver");
	} else {
		ok(o != NULL || *why, "a PMU exists: auto gives a source or a reason (%s)", o ? o->name : why);
	}
	ht_conf_parse(&c, "sample=pebs", err, sizeof(err));
	o = ht_source_select(&c, why, sizeof(why));
	ok((o == &ht_source_pebs) == (p.pebs_ok != 0), "sample=pebs follows the probe (%s)", o ? "pebs" : why);
	ht_conf_parse(&c, "sample=none", err, sizeof(err));
	ok(ht_source_select(&c, why, sizeof(why)) == NULL && strstr(why, "sample=none"), "sample=none: %s", why);
	ht_conf_parse(&c, "sample=replay,replay=/nonexistent/trace", err, sizeof(err));
	ok(ht_source_select(&c, why, sizeof(why)) == NULL && strstr(why, "/nonexistent/trace"),
	   "replay of a missing file refused: %s", why);

	/* The process keeps running: the software source works regardless. */
	ht_conf_parse(&c, "sample=software", err, sizeof(err));
	o = ht_source_select(&c, why, sizeof(why));
	ok(o == &ht_source_software, "sample=software always available");
	struct ht_sampler *s = o ? ht_sampler_create(&c, o, count, NULL, why, sizeof(why)) : NULL;
	ok(s != NULL, "software sampler created (%s)", why);
	if (s) {
		for (uint64_t i = 1; i <= 1000; i++)
			ht_software_push(i << 12, 1, 0);
		ht_sampler_drain_once(s);
		ok(got_n == 1000 && got_sum == (1000ull * 1001 / 2) << 12, "after the failed probe, samples still flow");
		ht_sampler_destroy(s);
	}
	return tap_done();
}
