/*
 * replay.c - samples read back from a trace file (replay=FILE), as fast as
 * the consumer takes them and always in file order, so two replays of one
 * file feed the classifier identical batches. Map events go to on_map.
 */
#include "source.h"
#include "batch.h"
#include "trace.h"
#include "../core/log.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#define REPLAY_CHUNK (HT_BATCH * 64) /* samples per drain call: bounds stop latency */

struct replay {
	struct ht_trace_reader *r;
	int done;
	struct ht_batch b;
};

static int rp_probe(const struct ht_conf *c, char *why, size_t whylen)
{
	if (!c->replay[0]) {
		snprintf(why, whylen, "sample=replay needs replay=FILE");
		return -1;
	}
	struct ht_trace_reader *r = ht_trace_reader_open(c->replay, why, whylen);
	if (!r)
		return -1;
	ht_trace_reader_close(r);
	return 0;
}

static int rp_start(struct ht_source *s, char *why, size_t whylen)
{
	struct replay *rp = calloc(1, sizeof(*rp));
	if (!rp) {
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	if (!s->conf->replay[0]) {
		snprintf(why, whylen, "sample=replay needs replay=FILE");
		free(rp);
		return -EINVAL;
	}
	rp->r = ht_trace_reader_open(s->conf->replay, why, whylen);
	if (!rp->r) {
		free(rp);
		return -EINVAL;
	}
	s->priv = rp;
	return 0;
}

static void rp_stop(struct ht_source *s)
{
	struct replay *rp = s->priv;
	if (!rp)
		return;
	ht_trace_reader_close(rp->r);
	free(rp);
	s->priv = NULL;
}

static long rp_drain(struct ht_source *s, ht_sample_fn fn, void *arg)
{
	struct replay *rp = s->priv;
	struct ht_trace_rec rec;
	long n = 0;
	int r = 0;
	s->more = 0;
	if (rp->done)
		return 0;
	ht_batch_begin(&rp->b, fn, arg);
	while (n < REPLAY_CHUNK && (r = ht_trace_read_next(rp->r, &rec)) == 1) {
		if (rec.kind == HT_TRACE_SAMPLE) {
			*ht_batch_next(&rp->b) = rec.s;
			n++;
		} else if (s->on_map) {
			ht_batch_flush(&rp->b); /* keep samples and map events in file order */
			s->on_map(s->on_map_arg, rec.time_ns, rec.start, rec.len, rec.kind == HT_TRACE_UNMAP);
		}
	}
	ht_batch_flush(&rp->b);
	s->stats.samples += (uint64_t)n;
	if (r == 1) {
		s->more = 1;
	} else {
		rp->done = 1;
		if (r < 0) {
			s->stats.bad_records++;
			ht_warn("replay %s: %s", s->conf->replay, ht_trace_reader_error(rp->r));
		} else {
			ht_info("replay %s finished: %llu samples", s->conf->replay, (unsigned long long)s->stats.samples);
		}
	}
	return n;
}

const struct ht_source_ops ht_source_replay = { .name = "replay", .probe = rp_probe, .start = rp_start,
						.stop = rp_stop, .drain = rp_drain };
