/*
 * pebs.c - Intel PEBS: libpfm4-encoded load and store events, one per CPU
 * for this process (pid 0, inherit), precise_ip as high as the kernel takes,
 * ADDR|TID|TIME|WEIGHT samples stamped with CLOCK_MONOTONIC.
 *
 * Inside a VM upstream KVM virtualises neither the load-latency MSR nor
 * adaptive PEBS, so the defaults switch to the L3-miss load event there;
 * the same happens when the load-latency event fails to open.
 */
#include "source.h"
#include "pebs.h"
#include "evset.h"
#include "pfm_events.h"
#include "../core/log.h"
#include "../core/pmu.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct pebs {
	struct ht_evset es;
	struct ht_pfm_event ev[HT_PFM_MAX_EVENTS];
	int nev;
	struct ht_batch b;
};

static int pebs_probe(const struct ht_conf *c, char *why, size_t whylen)
{
	struct ht_pmu_info p;
	ht_pmu_probe(&p);
	if (p.pebs_ok)
		return 0;
	snprintf(why, whylen, "%s", p.pebs_why);
	return -1;
}

static int open_events(struct pebs *pb, const struct ht_conf *c, char *why, size_t whylen)
{
	struct perf_event_attr a[HT_PFM_MAX_EVENTS];
	for (int e = 0; e < pb->nev; e++) {
		a[e] = pb->ev[e].attr;
		a[e].sample_type = PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_ADDR | PERF_SAMPLE_WEIGHT;
		a[e].precise_ip = 3;
		a[e].exclude_kernel = 1;
		a[e].exclude_hv = 1;
		a[e].inherit = 1;
		a[e].use_clockid = 1;
		a[e].clockid = CLOCK_MONOTONIC;
	}
	return ht_evset_open(&pb->es, a, pb->nev, 0, (uint64_t)c->ring_pages, why, whylen);
}

static int pebs_start(struct ht_source *s, char *why, size_t whylen)
{
	const struct ht_conf *c = s->conf;
	struct ht_pmu_info p;
	struct pebs *pb = calloc(1, sizeof(*pb));
	int fallback, r;

	if (!pb) {
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	ht_pmu_probe(&p);
	pb->nev = ht_pfm_events(c, p.in_vm, pb->ev, HT_PFM_MAX_EVENTS, &fallback, why, whylen);
	if (pb->nev < 0) {
		free(pb);
		return -EINVAL;
	}
	if (fallback)
		ht_info("PEBS: inside a VM (%s) the load-latency event is not virtualised; sampling %s instead",
			*p.hypervisor ? p.hypervisor : "hypervisor", pb->ev[0].name);
	r = open_events(pb, c, why, whylen);
	if (r < 0 && !c->events[0] && pb->ev[0].load_latency) {
		const char *load, *fb, *store;
		char why2[256];
		if (ht_pfm_default_for(ht_pfm_core_pmu(), &load, &fb, &store) == 0 && fb &&
		    ht_pfm_encode(c, fb, &pb->ev[0], why2, sizeof(why2)) == 0) {
			ht_info("PEBS: load-latency event refused (%s); sampling %s instead", why, fb);
			r = open_events(pb, c, why, whylen);
		}
	}
	if (r < 0) {
		free(pb);
		return r;
	}
	if (pb->es.skipped)
		ht_info("PEBS: %d CPUs do not offer these events (hybrid part?); sampling the others", pb->es.skipped);
	for (int e = 0; e < pb->nev; e++)
		ht_info("PEBS: %s period %llu precise_ip %d", pb->ev[e].name,
			(unsigned long long)pb->ev[e].attr.sample_period, pb->es.precise[e]);
	s->priv = pb;
	s->stats.period = pb->ev[0].attr.sample_period;
	return 0;
}

static void pebs_stop(struct ht_source *s)
{
	struct pebs *pb = s->priv;
	if (!pb)
		return;
	ht_evset_close(&pb->es);
	free(pb);
	s->priv = NULL;
}

int ht_pebs_take(struct ht_batch *b, const struct ht_ring_rec *r, int store)
{
	if (r->addr == 0 || (int64_t)r->addr < 0)
		return 0; /* no data address (some retirements) or a kernel address */
	struct ht_sample *o = ht_batch_next(b);
	memset(o, 0, sizeof(*o));
	o->addr = r->addr;
	o->time_ns = r->time;
	o->tid = r->tid;
	o->weight = r->weight == 0 ? 1 : r->weight > UINT32_MAX ? UINT32_MAX : (uint32_t)r->weight;
	o->store = (uint8_t)store;
	return 1;
}

static int on_rec(void *arg, const struct ht_ring_rec *r)
{
	struct pebs *pb = arg;
	int e = ht_evset_which(&pb->es, r->id);
	return ht_pebs_take(&pb->b, r, e >= 0 && pb->ev[e].store);
}

static long pebs_drain(struct ht_source *s, ht_sample_fn fn, void *arg)
{
	struct pebs *pb = s->priv;
	ht_batch_begin(&pb->b, fn, arg);
	long n = ht_evset_read(&pb->es, on_rec, pb, &s->stats);
	ht_batch_flush(&pb->b);
	return n;
}

/* The load events follow the controller; stores keep store_period. */
static int pebs_set_period(struct ht_source *s, uint64_t period)
{
	struct pebs *pb = s->priv;
	int r = 0;
	for (int e = 0; e < pb->nev; e++)
		if (!pb->ev[e].store && (r = ht_evset_period(&pb->es, e, period)) < 0)
			return r;
	s->stats.period = period;
	return 0;
}

const struct ht_source_ops ht_source_pebs = { .name = "pebs", .probe = pebs_probe, .start = pebs_start,
					      .stop = pebs_stop, .drain = pebs_drain, .set_period = pebs_set_period };
