/*
 * pfm_events.h - PEBS events by name through libpfm4.
 *
 * conf->events is a ';'-separated list of items NAME[@PERIOD][/store|/load]:
 * NAME is any libpfm4 event string (with its ':'-modifiers), @PERIOD
 * overrides the sample period (default: store_period for stores,
 * sample_period for loads), /store and /load say what the event counts
 * (default: store when the name contains "STORE"). A load-latency event
 * (LOAD_LATENCY, or LATENCY_ABOVE_THRESHOLD before Haswell) gets
 * ldlat=conf->ldlat unless the item names its own; libpfm4 puts it in attr.config1.
 * Empty list: the per-PMU defaults of the table in pfm_events.c.
 */
#ifndef HT_PFM_EVENTS_H
#define HT_PFM_EVENTS_H
#include <linux/perf_event.h>
#include <stddef.h>
#include "../core/conf.h"

#define HT_PFM_MAX_EVENTS 8

struct ht_pfm_event {
	char name[160];               /* the string given to libpfm4 */
	struct perf_event_attr attr;  /* type/config/config1 from libpfm4, sample_period set */
	int store;                    /* counts stores (1) or loads (0) */
	int load_latency;             /* needs the ldlat facility (not in stock KVM guests) */
};

/* The core PMU libpfm4 detected (or LIBPFM_FORCE_PMU chose), e.g. "icx"; "" if none. */
const char *ht_pfm_core_pmu(void);

/* Encode one list item. 0, or -1 with one line in why naming the item. */
int ht_pfm_encode(const struct ht_conf *c, const char *item, struct ht_pfm_event *ev, char *why, size_t whylen);

/*
 * The events to open: conf->events, else this PMU's defaults. in_vm: the
 * defaults use the L3-miss load event instead of load latency (fallback set
 * to 1 then). Returns how many (>= 1: a PMU without an address-recording
 * store event gets loads only), or -1 with why.
 */
int ht_pfm_events(const struct ht_conf *c, int in_vm, struct ht_pfm_event *evs, int max, int *fallback,
		  char *why, size_t whylen);
/* The defaults table row of a libpfm4 PMU name (fallback, store may be NULL); 0, or -1 if none. */
int ht_pfm_default_for(const char *pmu, const char **load, const char **fallback, const char **store);
#endif
