/* software.c - samples reported by the program itself (work in progress). */
#include "source.h"
#include <errno.h>
#include <stdio.h>

static int sw_probe(const struct ht_conf *c, char *why, size_t whylen) { return 0; }
static int sw_start(struct ht_source *s, char *why, size_t whylen)
{
	snprintf(why, whylen, "software source not built yet");
	return -ENOSYS;
}
static void sw_stop(struct ht_source *s) {}
static long sw_drain(struct ht_source *s, ht_sample_fn fn, void *arg) { return 0; }

const struct ht_source_ops ht_source_software = { .name = "software", .probe = sw_probe, .start = sw_start,
						  .stop = sw_stop, .drain = sw_drain };
