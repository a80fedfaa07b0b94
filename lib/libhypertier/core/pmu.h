/* pmu.h - what sampling hardware this process can use, and why not. */
#ifndef HT_PMU_H
#define HT_PMU_H

enum ht_vendor { HT_VENDOR_OTHER, HT_VENDOR_INTEL, HT_VENDOR_AMD };

struct ht_pmu_info {
	enum ht_vendor vendor;
	char model_name[128];   /* /proc/cpuinfo "model name" */
	char pmu_name[64];      /* /sys/bus/event_source/devices/cpu/caps/pmu_name, "" if none */
	int has_cpu_pmu;        /* /sys/bus/event_source/devices/cpu exists */
	int has_ibs_op;         /* /sys/bus/event_source/devices/ibs_op exists */
	int in_vm;              /* cpuinfo "hypervisor" flag */
	char hypervisor[32];    /* CPUID leaf 0x40000000 vendor, e.g. "KVMKVMKVM", "" if unknown */
	int paranoid;           /* /proc/sys/kernel/perf_event_paranoid */
	int pebs_ok, ibs_ok;    /* a test perf_event_open for this process succeeded */
	char pebs_why[256], ibs_why[256]; /* when not ok: one plain line */
};

/* Fill info; never fails (fields say what is missing). Opens and closes test events. */
void ht_pmu_probe(struct ht_pmu_info *info);
#endif
