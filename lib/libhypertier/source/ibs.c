/* ibs.c - Intel IBS through perf_event_open (work in progress). */
#include "source.h"
#include "../core/pmu.h"
#include <errno.h>
#include <stdio.h>

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
	snprintf(why, whylen, "IBS source not built yet");
	return -ENOSYS;
}
static void ibs_stop(struct ht_source *s) {}
static long ibs_drain(struct ht_source *s, ht_sample_fn fn, void *arg) { return 0; }

const struct ht_source_ops ht_source_ibs = { .name = "ibs", .probe = ibs_probe, .start = ibs_start,
					      .stop = ibs_stop, .drain = ibs_drain };
