/* pfm_events.c - encode PEBS events with libpfm4; per-PMU defaults as data. */
#include "pfm_events.h"
#include <ctype.h>
#include <perfmon/pfmlib_perf_event.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Defaults per libpfm4 core PMU. load: the load-latency event (one event
 * sees DRAM and CXL loads; cache hits filtered by ldlat). fallback: retired
 * loads that missed L3, used inside VMs (KVM does not virtualise the ldlat
 * MSR) and when load latency fails to open. store: all retired stores.
 * NULL: no event of that kind on this PMU records a data address.
 * Periods come from conf (sample_period for loads, store_period for stores).
 */
static const struct pfm_default {
	const char *pmu, *load, *fallback, *store;
} defaults[] = {
	{ "spr", "MEM_TRANS_RETIRED.LOAD_LATENCY", "MEM_LOAD_RETIRED.L3_MISS", "MEM_INST_RETIRED.ALL_STORES" },
	{ "icx", "MEM_TRANS_RETIRED.LOAD_LATENCY", "MEM_LOAD_RETIRED.L3_MISS", "MEM_INST_RETIRED.ALL_STORES" },
	{ "icl", "MEM_TRANS_RETIRED.LOAD_LATENCY", "MEM_LOAD_RETIRED.L3_MISS", "MEM_INST_RETIRED.ALL_STORES" },
	{ "clx", "MEM_TRANS_RETIRED.LOAD_LATENCY", "MEM_LOAD_RETIRED.L3_MISS", "MEM_INST_RETIRED.ALL_STORES" },
	{ "skx", "MEM_TRANS_RETIRED.LOAD_LATENCY", "MEM_LOAD_RETIRED.L3_MISS", "MEM_INST_RETIRED.ALL_STORES" },
	{ "skl", "MEM_TRANS_RETIRED.LOAD_LATENCY", "MEM_LOAD_RETIRED.L3_MISS", "MEM_INST_RETIRED.ALL_STORES" },
	{ "bdw_ep", "MEM_TRANS_RETIRED.LOAD_LATENCY", "MEM_LOAD_UOPS_RETIRED.L3_MISS", "MEM_UOPS_RETIRED.ALL_STORES" },
	{ "bdw", "MEM_TRANS_RETIRED.LOAD_LATENCY", "MEM_LOAD_UOPS_RETIRED.L3_MISS", "MEM_UOPS_RETIRED.ALL_STORES" },
	{ "hsw_ep", "MEM_TRANS_RETIRED.LOAD_LATENCY", "MEM_LOAD_UOPS_RETIRED.L3_MISS", "MEM_UOPS_RETIRED.ALL_STORES" },
	{ "hsw", "MEM_TRANS_RETIRED.LOAD_LATENCY", "MEM_LOAD_UOPS_RETIRED.L3_MISS", "MEM_UOPS_RETIRED.ALL_STORES" },
	/* Older parts have PEBS load latency too (libpfm4 calls it LATENCY_ABOVE_THRESHOLD),
	 * but before Haswell only load latency and SNB/IVB's precise store (both on
	 * PMC3, time-shared by the kernel) record the data address. */
	{ "ivb_ep", "MEM_TRANS_RETIRED.LATENCY_ABOVE_THRESHOLD", NULL, "MEM_TRANS_RETIRED.PRECISE_STORE" },
	{ "ivb", "MEM_TRANS_RETIRED.LATENCY_ABOVE_THRESHOLD", NULL, "MEM_TRANS_RETIRED.PRECISE_STORE" },
	{ "snb_ep", "MEM_TRANS_RETIRED.LATENCY_ABOVE_THRESHOLD", NULL, "MEM_TRANS_RETIRED.PRECISE_STORE" },
	{ "snb", "MEM_TRANS_RETIRED.LATENCY_ABOVE_THRESHOLD", NULL, "MEM_TRANS_RETIRED.PRECISE_STORE" },
	{ "wsm_dp", "MEM_INST_RETIRED.LATENCY_ABOVE_THRESHOLD", NULL, NULL },
	{ "wsm", "MEM_INST_RETIRED.LATENCY_ABOVE_THRESHOLD", NULL, NULL },
	{ "nhm_ex", "MEM_INST_RETIRED.LATENCY_ABOVE_THRESHOLD", NULL, NULL },
	{ "nhm", "MEM_INST_RETIRED.LATENCY_ABOVE_THRESHOLD", NULL, NULL },
};

static pthread_once_t pfm_once = PTHREAD_ONCE_INIT;
static int pfm_ret = PFM_ERR_NOINIT;
static char core_pmu[64];

static void pfm_setup(void)
{
	int i;
	pfm_ret = pfm_initialize();
	if (pfm_ret != PFM_SUCCESS)
		return;
	pfm_for_all_pmus(i) {
		pfm_pmu_info_t pi;
		memset(&pi, 0, sizeof(pi));
		pi.size = sizeof(pi);
		if (pfm_get_pmu_info(i, &pi) == PFM_SUCCESS && pi.is_present && pi.type == PFM_PMU_TYPE_CORE) {
			snprintf(core_pmu, sizeof(core_pmu), "%s", pi.name);
			break; /* hybrid parts list the big core first */
		}
	}
}

const char *ht_pfm_core_pmu(void)
{
	pthread_once(&pfm_once, pfm_setup);
	return core_pmu;
}

static int has_word(const char *s, const char *w)
{
	size_t n = strlen(w);
	for (; *s; s++)
		if (strncasecmp(s, w, n) == 0)
			return 1;
	return 0;
}

int ht_pfm_encode(const struct ht_conf *c, const char *item, struct ht_pfm_event *ev, char *why, size_t whylen)
{
	char buf[140], *at, *slash;
	long long period = 0;

	pthread_once(&pfm_once, pfm_setup);
	memset(ev, 0, sizeof(*ev));
	while (isspace((unsigned char)*item))
		item++;
	if (snprintf(buf, sizeof(buf), "%s", item) >= (int)sizeof(buf)) {
		snprintf(why, whylen, "event '%.40s...' is too long", item);
		return -1;
	}
	buf[strcspn(buf, " \t\n")] = 0;
	if (!*buf) {
		snprintf(why, whylen, "empty event name in events=");
		return -1;
	}
	if (pfm_ret != PFM_SUCCESS) {
		snprintf(why, whylen, "libpfm4 did not initialise: %s", pfm_strerror(pfm_ret));
		return -1;
	}
	ev->store = has_word(buf, "STORE");
	slash = strchr(buf, '/');
	if (slash) {
		*slash++ = 0;
		if (!strcmp(slash, "store"))
			ev->store = 1;
		else if (!strcmp(slash, "load"))
			ev->store = 0;
		else {
			snprintf(why, whylen, "event '%s': '/%s' should be /store or /load", item, slash);
			return -1;
		}
	}
	at = strchr(buf, '@');
	if (at) {
		char *end;
		*at++ = 0;
		period = strtoll(at, &end, 0);
		if (*end || period < 1) {
			snprintf(why, whylen, "event '%s': period '@%s' is not a positive number", item, at);
			return -1;
		}
	}
	ev->load_latency = has_word(buf, "LOAD_LATENCY") || has_word(buf, "LATENCY_ABOVE_THRESHOLD");
	if (ev->load_latency && !has_word(buf, "ldlat="))
		snprintf(ev->name, sizeof(ev->name), "%s:ldlat=%lld", buf, (long long)c->ldlat);
	else
		snprintf(ev->name, sizeof(ev->name), "%s", buf);

	pfm_perf_encode_arg_t arg;
	memset(&arg, 0, sizeof(arg));
	arg.attr = &ev->attr;
	arg.size = sizeof(arg);
	ev->attr.size = sizeof(ev->attr);
	int r = pfm_get_os_event_encoding(ev->name, PFM_PLM3, PFM_OS_PERF_EVENT_EXT, &arg);
	if (r != PFM_SUCCESS) {
		snprintf(why, whylen, "event '%s' %s (libpfm4: %s; core PMU '%s'; list names with libpfm4's showevtinfo)",
			 buf, r == PFM_ERR_NOTFOUND ? "is not known" : "cannot be encoded", pfm_strerror(r),
			 *core_pmu ? core_pmu : "none");
		return -1;
	}
	ev->attr.size = sizeof(ev->attr);
	ev->attr.sample_period = period ? (uint64_t)period : ev->store ? (uint64_t)c->store_period : (uint64_t)c->sample_period;
	return 0;
}

static const struct pfm_default *find_default(const char *pmu)
{
	for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
		if (!strcmp(defaults[i].pmu, pmu))
			return &defaults[i];
	return NULL;
}

int ht_pfm_events(const struct ht_conf *c, int in_vm, struct ht_pfm_event *evs, int max, int *fallback,
		  char *why, size_t whylen)
{
	int n = 0;
	*fallback = 0;
	if (c->events[0]) {
		char list[HT_CONF_STRLEN], *save = NULL;
		snprintf(list, sizeof(list), "%s", c->events);
		for (char *t = strtok_r(list, ";", &save); t; t = strtok_r(NULL, ";", &save)) {
			if (n == max) {
				snprintf(why, whylen, "events=: more than %d events", max);
				return -1;
			}
			if (ht_pfm_encode(c, t, &evs[n], why, whylen) < 0)
				return -1;
			n++;
		}
		if (!n)
			snprintf(why, whylen, "events= lists no event");
		return n ? n : -1;
	}
	const char *pmu = ht_pfm_core_pmu();
	const struct pfm_default *d = find_default(pmu);
	if (!d) {
		snprintf(why, whylen, "no default PEBS events for core PMU '%s' (set events=)", *pmu ? pmu : "none");
		return -1;
	}
	if (max < 2) {
		snprintf(why, whylen, "room for %d events, need 2", max);
		return -1;
	}
	*fallback = in_vm;
	if (in_vm && !d->fallback) {
		snprintf(why, whylen, "core PMU '%s' in a VM: load latency is not virtualised and no other load event records addresses (set events=)", pmu);
		return -1;
	}
	if (ht_pfm_encode(c, in_vm ? d->fallback : d->load, &evs[n++], why, whylen) < 0 ||
	    (d->store && ht_pfm_encode(c, d->store, &evs[n++], why, whylen) < 0))
		return -1;
	return n;
}

int ht_pfm_default_for(const char *pmu, const char **load, const char **fallback, const char **store)
{
	const struct pfm_default *d = find_default(pmu);
	if (!d)
		return -1;
	*load = d->load;
	*fallback = d->fallback;
	*store = d->store;
	return 0;
}
