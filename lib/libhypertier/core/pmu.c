/*
 * pmu.c - what sampling hardware this process can use, and if not, why.
 * Reads /proc/cpuinfo, sysfs and CPUID, then proves each source with a real
 * test perf_event_open for this process: a PMU that sysfs lists may still be
 * refused (paranoid setting, a virtual PMU without PEBS, old kernel).
 */
#include "pmu.h"
#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#define EVDIR "/sys/bus/event_source/devices"

static int read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	char *r = fgets(buf, (int)len, f);
	fclose(f);
	if (!r)
		return -1;
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

static void read_cpuinfo(struct ht_pmu_info *p)
{
	FILE *f = fopen("/proc/cpuinfo", "re");
	char line[4096];
	int got_vendor = 0, got_model = 0, got_flags = 0;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f) && !(got_vendor && got_model && got_flags)) {
		char *v = strchr(line, ':');
		if (!v)
			continue;
		v += 1 + (v[1] == ' ');
		v[strcspn(v, "\n")] = 0;
		if (!got_vendor && !strncmp(line, "vendor_id", 9)) {
			got_vendor = 1;
			p->vendor = !strcmp(v, "GenuineIntel") ? HT_VENDOR_INTEL
				  : (!strcmp(v, "AuthenticAMD") || !strcmp(v, "HygonGenuine")) ? HT_VENDOR_AMD
				  : HT_VENDOR_OTHER;
		} else if (!got_model && !strncmp(line, "model name", 10)) {
			got_model = 1;
			snprintf(p->model_name, sizeof(p->model_name), "%s", v);
		} else if (!got_flags && !strncmp(line, "flags", 5)) {
			got_flags = 1;
			char *t = strstr(v, "hypervisor");
			p->in_vm = t && (t == v || t[-1] == ' ') && (t[10] == ' ' || t[10] == 0);
		}
	}
	fclose(f);
}

static void read_hypervisor(struct ht_pmu_info *p)
{
#if defined(__x86_64__) || defined(__i386__)
	unsigned a, b, c, d;
	if (!p->in_vm)
		return;
	__cpuid(0x40000000, a, b, c, d);
	char v[13];
	memcpy(v, &b, 4);
	memcpy(v + 4, &c, 4);
	memcpy(v + 8, &d, 4);
	v[12] = 0;
	for (int i = 11; i >= 0 && (v[i] == ' ' || v[i] == 0); i--)
		v[i] = 0;
	for (int i = 0; i < 12; i++)
		if (v[i] && (v[i] < 0x20 || v[i] > 0x7e))
			v[i] = '?';
	snprintf(p->hypervisor, sizeof(p->hypervisor), "%s", v);
#else
	(void)p;
#endif
}

static int test_open(struct perf_event_attr *a)
{
	int fd = (int)syscall(SYS_perf_event_open, a, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

static const char *vm_note(const struct ht_pmu_info *p, char *buf, size_t len)
{
	if (p->in_vm)
		snprintf(buf, len, "virtual machine%s%s%s without a virtual PMU?",
			 *p->hypervisor ? " (" : "", p->hypervisor, *p->hypervisor ? ")" : "");
	else
		snprintf(buf, len, "PMU driver not loaded?");
	return buf;
}

static void why_open_failed(const struct ht_pmu_info *p, int err, const char *what, char *why, size_t len)
{
	if (err == -EACCES || err == -EPERM)
		snprintf(why, len, "%s: perf_event_open refused (%s; perf_event_paranoid=%d, needs <= 2 or CAP_PERFMON)",
			 what, strerror(-err), p->paranoid);
	else
		snprintf(why, len, "%s: perf_event_open failed (%s)%s", what, strerror(-err),
			 p->in_vm ? "; the virtual PMU of this guest does not offer it" : "");
}

static void probe_pebs(struct ht_pmu_info *p)
{
	char note[96];
	if (!p->has_cpu_pmu) {
		snprintf(p->pebs_why, sizeof(p->pebs_why),
			 "no PMU: " EVDIR "/cpu is absent (%s); PEBS unavailable", vm_note(p, note, sizeof(note)));
		return;
	}
	if (p->vendor != HT_VENDOR_INTEL) {
		snprintf(p->pebs_why, sizeof(p->pebs_why), "PEBS needs an Intel CPU; this is %s",
			 *p->model_name ? p->model_name : "another vendor");
		return;
	}
	/* A precise (PEBS) cycles event on this process, never enabled. */
	struct perf_event_attr a = { .size = sizeof(a), .type = PERF_TYPE_HARDWARE,
				     .config = PERF_COUNT_HW_CPU_CYCLES, .sample_period = 100003,
				     .sample_type = PERF_SAMPLE_ADDR | PERF_SAMPLE_TID,
				     .precise_ip = 1, .disabled = 1, .exclude_kernel = 1, .exclude_hv = 1 };
	int err = test_open(&a);
	if (!err)
		p->pebs_ok = 1;
	else
		why_open_failed(p, err, "PEBS", p->pebs_why, sizeof(p->pebs_why));
}

static void probe_ibs(struct ht_pmu_info *p)
{
	char note[96], buf[32];
	if (!p->has_ibs_op) {
		if (!p->has_cpu_pmu)
			snprintf(p->ibs_why, sizeof(p->ibs_why),
				 "no PMU: " EVDIR "/cpu is absent (%s); IBS unavailable", vm_note(p, note, sizeof(note)));
		else
			snprintf(p->ibs_why, sizeof(p->ibs_why),
				 "no IBS: " EVDIR "/ibs_op is absent (%s)",
				 p->vendor == HT_VENDOR_AMD ? "this AMD CPU or its hypervisor does not offer IBS"
							    : "IBS is an AMD feature");
		return;
	}
	if (read_line(EVDIR "/ibs_op/type", buf, sizeof(buf)) < 0) {
		snprintf(p->ibs_why, sizeof(p->ibs_why), "no IBS: cannot read " EVDIR "/ibs_op/type");
		return;
	}
	/* IBS op sampling is per-task on kernels >= 6.2 and system-wide before;
	 * the source tries both, so the probe accepts either. */
	struct perf_event_attr a = { .size = sizeof(a), .type = (unsigned)atoi(buf), .sample_period = 0x10000,
				     .sample_type = PERF_SAMPLE_RAW | PERF_SAMPLE_TID, .disabled = 1 };
	int err = test_open(&a);
	if (err == -EINVAL || err == -ENOENT || err == -EOPNOTSUPP) {
		int fd = (int)syscall(SYS_perf_event_open, &a, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
		err = fd < 0 ? -errno : 0;
		if (fd >= 0)
			close(fd);
	}
	if (!err)
		p->ibs_ok = 1;
	else
		why_open_failed(p, err, "IBS", p->ibs_why, sizeof(p->ibs_why));
}

void ht_pmu_probe(struct ht_pmu_info *p)
{
	char buf[32];
	memset(p, 0, sizeof(*p));
	p->paranoid = 2;
	read_cpuinfo(p);
	read_hypervisor(p);
	if (read_line(EVDIR "/cpu/caps/pmu_name", p->pmu_name, sizeof(p->pmu_name)) < 0)
		p->pmu_name[0] = 0;
	p->has_cpu_pmu = access(EVDIR "/cpu", F_OK) == 0;
	p->has_ibs_op = access(EVDIR "/ibs_op", F_OK) == 0;
	if (read_line("/proc/sys/kernel/perf_event_paranoid", buf, sizeof(buf)) == 0)
		p->paranoid = atoi(buf);
	probe_pebs(p);
	probe_ibs(p);
}
