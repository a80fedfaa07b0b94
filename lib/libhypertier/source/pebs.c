/* pebs.c - Intel PEBS through perf_event_open (work in progress). */
#include "source.h"
#include "../core/pmu.h"
#include <errno.h>
#include <stdio.h>

static int pebs_probe(const struct ht_conf *c, char *why, size_t whylen)
{
	struct ht_pmu_info p;
	ht_pmu_probe(&p);
	if (p.pebs_ok)
		return 0;
	snprintf(why, whylen, "%s", p.pebs_why);
	return -1;
}

static int pebs_start(struct ht_source *s, char *why, size_t whylen)
{
	snprintf(why, whylen, "PEBS source not built yet");
	return -ENOSYS;
}
static void pebs_stop(struct ht_source *s) {}
static long pebs_drain(struct ht_source *s, ht_sample_fn fn, void *arg) { return 0; }

const struct ht_source_ops ht_source_pebs = { .name = "pebs", .probe = pebs_probe, .start = pebs_start,
					      .stop = pebs_stop, .drain = pebs_drain };
