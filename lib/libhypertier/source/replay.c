/* replay.c - samples read back from a trace (work in progress). */
#include "source.h"
#include <errno.h>
#include <stdio.h>

static int rp_probe(const struct ht_conf *c, char *why, size_t whylen) { return 0; }
static int rp_start(struct ht_source *s, char *why, size_t whylen)
{
	snprintf(why, whylen, "replay source not built yet");
	return -ENOSYS;
}
static void rp_stop(struct ht_source *s) {}
static long rp_drain(struct ht_source *s, ht_sample_fn fn, void *arg) { return 0; }

const struct ht_source_ops ht_source_replay = { .name = "replay", .probe = rp_probe, .start = rp_start,
						  .stop = rp_stop, .drain = rp_drain };
