/* select.c - which source conf->sample names, or why none can run. */
#include "source.h"
#include "../core/pmu.h"
#include <stdio.h>

static const struct ht_source_ops *probed(const struct ht_source_ops *o, const struct ht_conf *c,
					  char *why, size_t whylen)
{
	return o->probe(c, why, whylen) == 0 ? o : NULL;
}

const struct ht_source_ops *ht_source_select(const struct ht_conf *c, char *why, size_t whylen)
{
	struct ht_pmu_info p;
	if (whylen)
		why[0] = 0;
	switch (c->sample) {
	case HT_SAMPLE_PEBS:
		return probed(&ht_source_pebs, c, why, whylen);
	case HT_SAMPLE_IBS:
		return probed(&ht_source_ibs, c, why, whylen);
	case HT_SAMPLE_DAMON:
		return probed(&ht_source_damon, c, why, whylen);
	case HT_SAMPLE_SOFTWARE:
		return probed(&ht_source_software, c, why, whylen);
	case HT_SAMPLE_REPLAY:
		return probed(&ht_source_replay, c, why, whylen);
	case HT_SAMPLE_NONE:
		snprintf(why, whylen, "sampling off (sample=none)");
		return NULL;
	default:
		break;
	}
	/* auto: the vendor's own PMU, then DAMON; never silently fall back to software. */
	char pmu[256] = "", dmn[256] = "";
	ht_pmu_probe(&p);
	const struct ht_source_ops *o = NULL;
	if (p.vendor == HT_VENDOR_INTEL)
		o = probed(&ht_source_pebs, c, pmu, sizeof(pmu));
	else if (p.vendor == HT_VENDOR_AMD)
		o = probed(&ht_source_ibs, c, pmu, sizeof(pmu));
	else
		snprintf(pmu, sizeof(pmu), "no PEBS or IBS: CPU is neither Intel nor AMD (%s)",
			 *p.model_name ? p.model_name : "unknown model");
	if (!o)
		o = probed(&ht_source_damon, c, dmn, sizeof(dmn));
	if (!o)
		snprintf(why, whylen, "%s; %s", pmu, dmn);
	return o;
}
