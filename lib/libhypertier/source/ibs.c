/*
 * ibs.c - AMD IBS op sampling through the ibs_op PMU and raw samples.
 *
 * Raw record layout (arch/x86/events/amd/ibs.c, perf_ibs_handle_irq): the
 * PERF_SAMPLE_RAW payload is a u32 copy of the IBS capabilities (CPUID
 * 0x8000001B EAX) followed by the IBS op MSRs as u64, read in MSR order
 * starting at IbsOpCtl:
 *   [0] IbsOpCtl    0xC0011033     [4] IbsOpData3  0xC0011037
 *   [1] IbsOpRip    0xC0011034     [5] IbsDcLinAd  0xC0011038
 *   [2] IbsOpData   0xC0011035     [6] IbsDcPhysAd 0xC0011039
 *   [3] IbsOpData2  0xC0011036     then IbsBrTarget / IbsOpData4 when the caps say so.
 * The u64s therefore start 4 bytes in and are unaligned: copy them out.
 * IbsOpData3: bit 0 IbsLdOp, bit 1 IbsStOp, bit 7 IbsDcMiss, bit 17
 * IbsDcLinAddrValid, bits 47:32 IbsDcMissLat (cycles).
 *
 * Per-task IBS events (pid 0 + inherit) exist since Linux 6.2; on older
 * kernels the source falls back to system-wide events (pid -1, needs
 * perf_event_paranoid <= 0 or CAP_PERFMON) and keeps this process's samples.
 * IBS cannot filter by privilege on older kernels either: exclude_kernel is
 * tried first, and kernel addresses are dropped here in any case.
 */
#include "source.h"
#include "batch.h"
#include "ibs.h"
#include "evset.h"
#include "../core/log.h"
#include "../core/pmu.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define IBS_CNT_CTL (1ull << 19)      /* count dispatched ops, not cycles */
#define OPDATA3_LD (1ull << 0)
#define OPDATA3_ST (1ull << 1)
#define OPDATA3_DCMISS (1ull << 7)
#define OPDATA3_LINADDR_VALID (1ull << 17)
#define RAW_OPDATA3 4
#define RAW_LINADDR 5

struct ibs {
	struct ht_evset es;
	pid_t self;            /* system-wide fallback: keep only this pid */
	int system_wide;
	struct ht_batch b;
};

int ht_ibs_decode(const void *raw, uint32_t size, struct ht_sample *o)
{
	uint64_t d3, lin;
	if (size < 4 + 8 * (RAW_LINADDR + 1))
		return 0;
	memcpy(&d3, (const char *)raw + 4 + 8 * RAW_OPDATA3, 8);
	memcpy(&lin, (const char *)raw + 4 + 8 * RAW_LINADDR, 8);
	if (!(d3 & OPDATA3_LINADDR_VALID) || !(d3 & (OPDATA3_LD | OPDATA3_ST)) || (int64_t)lin < 0 || !lin)
		return 0;
	o->addr = lin;
	o->store = (d3 & OPDATA3_ST) != 0;
	uint32_t lat = (uint32_t)((d3 >> 32) & 0xffff);
	o->weight = (d3 & OPDATA3_DCMISS) && lat ? lat : 1;
	return 1;
}

static int ibs_type(void)
{
	FILE *f = fopen("/sys/bus/event_source/devices/ibs_op/type", "re");
	int t = -1;
	if (f) {
		if (fscanf(f, "%d", &t) != 1)
			t = -1;
		fclose(f);
	}
	return t;
}

static int ibs_probe(const struct ht_conf *c, char *why, size_t whylen)
{
	struct ht_pmu_info p;
	ht_pmu_probe(&p);
	if (p.ibs_ok)
		return 0;
	snprintf(why, whylen, "%s", p.ibs_why);
	return -1;
}

static int ibs_start(struct ht_source *s, char *why, size_t whylen)
{
	const struct ht_conf *c = s->conf;
	int type = ibs_type(), r = -EINVAL;
	struct ibs *ib;

	if (type < 0) {
		snprintf(why, whylen, "no IBS: /sys/bus/event_source/devices/ibs_op/type unreadable");
		return -ENOENT;
	}
	ib = calloc(1, sizeof(*ib));
	if (!ib) {
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	struct perf_event_attr a = { .size = sizeof(a), .type = (unsigned)type, .config = IBS_CNT_CTL,
				     .sample_period = (uint64_t)c->sample_period,
				     .sample_type = PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_RAW,
				     .use_clockid = 1, .clockid = CLOCK_MONOTONIC };
	/* Try the narrowest form first: per task + user only, then wider. */
	for (int step = 0; step < 4 && r < 0; step++) {
		a.exclude_kernel = !(step & 1);
		ib->system_wide = step >= 2;
		a.inherit = !ib->system_wide;
		r = ht_evset_open(&ib->es, &a, 1, ib->system_wide ? -1 : 0, (uint64_t)c->ring_pages, why, whylen);
		if (r == -EACCES || r == -EPERM || r == -ENOMEM)
			break;
	}
	if (r < 0) {
		if (ib->system_wide && (r == -EACCES || r == -EPERM)) {
			size_t l = strlen(why);
			snprintf(why + l, whylen > l ? whylen - l : 0,
				 "; per-process IBS needs Linux >= 6.2, system-wide IBS needs perf_event_paranoid <= 0 or CAP_PERFMON");
		}
		free(ib);
		return r;
	}
	ib->self = getpid();
	ht_info("IBS: ibs_op type %d, period %llu, %s%s", type, (unsigned long long)a.sample_period,
		ib->system_wide ? "system-wide (kernel < 6.2), filtered to this process" : "per process",
		a.exclude_kernel ? "" : ", kernel samples dropped");
	s->priv = ib;
	s->stats.period = a.sample_period;
	return 0;
}

static void ibs_stop(struct ht_source *s)
{
	struct ibs *ib = s->priv;
	if (!ib)
		return;
	ht_evset_close(&ib->es);
	free(ib);
	s->priv = NULL;
}

static int on_rec(void *arg, const struct ht_ring_rec *r)
{
	struct ibs *ib = arg;
	struct ht_sample o;
	memset(&o, 0, sizeof(o));
	if (ib->system_wide && r->pid != (uint32_t)ib->self)
		return 0;
	if (!r->raw || !ht_ibs_decode(r->raw, r->raw_size, &o))
		return 0;
	o.time_ns = r->time;
	o.tid = r->tid;
	*ht_batch_next(&ib->b) = o;
	return 1;
}

static long ibs_drain(struct ht_source *s, ht_sample_fn fn, void *arg)
{
	struct ibs *ib = s->priv;
	ht_batch_begin(&ib->b, fn, arg);
	long n = ht_evset_read(&ib->es, on_rec, ib, &s->stats);
	ht_batch_flush(&ib->b);
	return n;
}

static int ibs_set_period(struct ht_source *s, uint64_t period)
{
	struct ibs *ib = s->priv;
	int r = ht_evset_period(&ib->es, 0, period);
	if (r == 0)
		s->stats.period = period;
	return r;
}

const struct ht_source_ops ht_source_ibs = { .name = "ibs", .probe = ibs_probe, .start = ibs_start,
					     .stop = ibs_stop, .drain = ibs_drain, .set_period = ibs_set_period };
