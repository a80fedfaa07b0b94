/*
 * damon.c - sample=damon: access information from the kernel's DAMON, for
 * machines without PEBS or IBS, with no code change in the program.
 *
 * A kdamond (damon_kdamond.c) monitors this process with the vaddr
 * operations. Its reports are read from the damon:damon_aggregated
 * tracepoint through perf, attached to that kdamond's thread only, into the
 * same ring reader as PEBS and IBS. Why the tracepoint and not sysfs: sysfs
 * gives regions only through a scheme's tried_regions, one directory and
 * four files per region, rewritten on request; at 10 000 regions that is
 * 40 000 file reads per report. The tracepoint pushes every region of every
 * report as one small record; a per-task perf event sees our kdamond's
 * records and nobody else's, and the ring is ours alone (trace_pipe would be
 * shared with every other tracer on the machine).
 *
 * A region [start, end) with nr_accesses n becomes n * (end - start) /
 * damon_grain samples spread evenly over it (dithered, so a small hot region
 * still counts on average), which keeps the classifier's density
 * proportional to DAMON's access frequency: the same classifier then ranks
 * DAMON's regions and PEBS's addresses alike.
 */
#define _GNU_SOURCE
#include "source.h"
#include "damon.h"
#include "damon_kdamond.h"
#include "evset.h"
#include "../core/log.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct damon {
	struct ht_kdamond k;
	struct ht_evset es;
	struct ht_damon_fields f;
	struct ht_batch b;
	uint64_t grain, rng, now;
	uint32_t need;    /* raw bytes a record must hold for the three fields */
};

static const char no_tp[] = "DAMON: no damon:damon_aggregated tracepoint (tracefs not mounted at /sys/kernel/tracing?)";

static int tp_dir(char *buf, size_t len)
{
	static const char *const dirs[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };
	for (size_t i = 0; i < 2; i++) {
		snprintf(buf, len, "%s/events/damon/damon_aggregated", dirs[i]);
		if (access(buf, R_OK) == 0)
			return 0;
	}
	return -1;
}

/* "field:unsigned long start;	offset:16;	size:8;	signed:0;" */
static int field(const char *fmt, const char *name, int *off, int *size)
{
	char pat[64];
	snprintf(pat, sizeof(pat), " %s;", name);
	for (const char *l = fmt; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		const char *e = strchr(l, '\n');
		const char *p = strstr(l, pat);
		if (!p || (e && p > e) || !strstr(l, "field:"))
			continue;
		const char *o = strstr(p, "offset:"), *s = strstr(p, "size:");
		if (!o || !s || (e && s > e))
			return -1;
		*off = atoi(o + 7);
		*size = atoi(s + 5);
		return (*size == 4 || *size == 8) && *off >= 0 ? 0 : -1;
	}
	return -1;
}

int ht_damon_fields_parse(const char *fmt, struct ht_damon_fields *f)
{
	return field(fmt, "start", &f->start, &f->size_start) || field(fmt, "end", &f->end, &f->size_end) ||
	       field(fmt, "nr_accesses", &f->nr_accesses, &f->size_acc) ? -1 : 0;
}

static int tp_open(struct ht_damon_fields *f, uint64_t *id, char *why, size_t whylen)
{
	char dir[128], p[160], buf[4096];
	if (tp_dir(dir, sizeof(dir))) {
		snprintf(why, whylen, "%s", no_tp);
		return -ENOENT;
	}
	snprintf(p, sizeof(p), "%s/format", dir);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = 0;
	if (n <= 0 || ht_damon_fields_parse(buf, f)) {
		snprintf(why, whylen, "DAMON: %s: no start/end/nr_accesses fields", p);
		return -EINVAL;
	}
	snprintf(p, sizeof(p), "%s/id", dir);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	n = fd < 0 ? -1 : read(fd, buf, 31);
	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = 0;
	*id = strtoull(buf, NULL, 10);
	if (!*id) {
		snprintf(why, whylen, "DAMON: %s unreadable", p);
		return -EINVAL;
	}
	return 0;
}

static int damon_probe(const struct ht_conf *c, char *why, size_t whylen)
{
	char dir[128];
	(void)c;
	if (ht_kdamond_probe(HT_DAMON_ROOT, why, whylen))
		return -1;
	if (tp_dir(dir, sizeof(dir))) {
		snprintf(why, whylen, "%s", no_tp);
		return -1;
	}
	return 0;
}

static void attrs(const struct ht_conf *c, struct ht_damon_attrs *a)
{
	a->sample_us = c->damon_sample;
	a->aggr_us = c->damon_aggr;
	a->update_us = c->damon_update;
	a->min_regions = (uint64_t)c->damon_regions_min;
	a->max_regions = (uint64_t)c->damon_regions_max;
	a->slots = (int)c->damon_slots;
}

/* Each report is one burst of max_regions records (~64 bytes): the ring holds two. */
static uint64_t ring_pages(const struct ht_conf *c)
{
	uint64_t want = (uint64_t)c->damon_regions_max * 64 * 2 / 4096 + 1, p = 1;
	while (p < want && p < 4096)
		p <<= 1;
	return p > (uint64_t)c->ring_pages ? p : (uint64_t)c->ring_pages;
}

static int damon_start(struct ht_source *s, char *why, size_t whylen)
{
	const struct ht_conf *c = s->conf;
	struct ht_damon_attrs a;
	uint64_t id;
	if (c->damon_regions_min > c->damon_regions_max) {
		snprintf(why, whylen, "damon_regions_min %lld > damon_regions_max %lld", (long long)c->damon_regions_min,
			 (long long)c->damon_regions_max);
		return -EINVAL;
	}
	struct damon *d = calloc(1, sizeof(*d));
	if (!d) {
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	int r = tp_open(&d->f, &id, why, whylen);
	if (r)
		goto fail;
	attrs(c, &a);
	r = ht_kdamond_start(&d->k, HT_DAMON_ROOT, &a, getpid(), why, whylen);
	if (r)
		goto fail;
	struct perf_event_attr pa = { .size = sizeof(pa), .type = PERF_TYPE_TRACEPOINT, .config = id,
				      .sample_period = 1, .sample_type = PERF_SAMPLE_RAW };
	r = ht_evset_open(&d->es, &pa, 1, d->k.pid, ring_pages(c), why, whylen);
	if (r) {
		ht_kdamond_stop(&d->k);
		goto fail;
	}
	d->grain = c->damon_grain;
	const struct ht_damon_fields *f = &d->f;
	d->need = (uint32_t)(f->start + f->size_start);
	if ((uint32_t)(f->end + f->size_end) > d->need)
		d->need = (uint32_t)(f->end + f->size_end);
	if ((uint32_t)(f->nr_accesses + f->size_acc) > d->need)
		d->need = (uint32_t)(f->nr_accesses + f->size_acc);
	d->rng = (uint64_t)getpid() * 0x9e3779b97f4a7c15ull | 1;
	ht_info("DAMON: kdamond %d (thread %d) monitors this process: sample %lluus, aggregation %lluus, %lld-%lld regions",
		d->k.idx, d->k.pid, (unsigned long long)a.sample_us, (unsigned long long)a.aggr_us,
		(long long)a.min_regions, (long long)a.max_regions);
	s->priv = d;
	s->stats.period = c->damon_aggr;
	return 0;
fail:
	free(d);
	return r;
}

static void damon_stop(struct ht_source *s)
{
	struct damon *d = s->priv;
	if (!d)
		return;
	ht_evset_close(&d->es);
	ht_kdamond_stop(&d->k);
	free(d);
	s->priv = NULL;
}

static uint64_t get(const unsigned char *raw, int off, int size)
{
	uint64_t v = 0;
	if (size == 8)
		memcpy(&v, raw + off, 8);
	else {
		uint32_t w;
		memcpy(&w, raw + off, 4);
		v = w;
	}
	return v;
}

static uint64_t xorshift(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

uint64_t ht_damon_region(struct ht_batch *b, uint64_t start, uint64_t end, uint64_t acc, uint64_t grain,
			 uint64_t *rng, uint64_t now_ns)
{
	if (end <= start || !acc || !grain)
		return 0;
	uint64_t len = end - start;
	/* acc * len / grain in 32.32 fixed point; the fraction decides one more sample */
	unsigned __int128 want = (unsigned __int128)acc * len * (1ull << 32) / grain;
	uint64_t whole = (uint64_t)(want >> 32), frac = (uint64_t)want & 0xffffffffu;
	uint64_t k = whole + ((xorshift(rng) & 0xffffffffu) < frac);
	if (k > len / 64) /* a hostile or bogus record cannot flood the classifier */
		k = len / 64;
	if (!k)
		return 0;
	uint64_t step = len / k, a = start + step / 2;
	for (uint64_t i = 0; i < k; i++, a += step) {
		struct ht_sample *o = ht_batch_next(b);
		memset(o, 0, sizeof(*o));
		o->addr = a;
		o->time_ns = now_ns;
		o->weight = 1;
	}
	return k;
}

static int on_rec(void *arg, const struct ht_ring_rec *r)
{
	struct damon *d = arg;
	const struct ht_damon_fields *f = &d->f;
	if (!r->raw || r->raw_size < d->need)
		return 0;
	return ht_damon_region(&d->b, get(r->raw, f->start, f->size_start), get(r->raw, f->end, f->size_end),
			       get(r->raw, f->nr_accesses, f->size_acc), d->grain, &d->rng, d->now) > 0;
}

static long damon_drain(struct ht_source *s, ht_sample_fn fn, void *arg)
{
	struct damon *d = s->priv;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	d->now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	ht_batch_begin(&d->b, fn, arg);
	long regions = ht_evset_read(&d->es, on_rec, d, &s->stats);
	ht_batch_flush(&d->b);
	return regions;
}

const struct ht_source_ops ht_source_damon = { .name = "damon", .probe = damon_probe, .start = damon_start,
					       .stop = damon_stop, .drain = damon_drain };
