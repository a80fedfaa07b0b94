/* sampler.c - the sampler thread (see sampler.h). */
#define _GNU_SOURCE /* ppoll, pthread_setname_np */
#include "sampler.h"
#include "budget.h"
#include "trace.h"
#include "../core/log.h"
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

struct ht_sampler {
	struct ht_source src;
	ht_sample_fn fn;
	void *arg;
	struct ht_trace_writer *trace;
	struct ht_budget budget;
	pthread_t thread;
	int running, stop_fd, trace_failed;
	pthread_mutex_t lock;         /* guards pub and pub_cpu */
	struct ht_source_stats pub;
	uint64_t pub_cpu;
	uint64_t drain_ns;
};

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Every batch passes here: record it, then hand it on. */
static void deliver(void *arg, const struct ht_sample *s, size_t n)
{
	struct ht_sampler *sp = arg;
	if (sp->trace && !sp->trace_failed && ht_trace_write_samples(sp->trace, s, n) < 0) {
		ht_warn("trace %s: write failed; recording stops", sp->src.conf->record);
		sp->trace_failed = 1; /* the writer stays open: the engine may hold it */
	}
	sp->fn(sp->arg, s, n);
}

struct ht_sampler *ht_sampler_create(const struct ht_conf *c, const struct ht_source_ops *ops,
				     ht_sample_fn fn, void *arg, char *why, size_t whylen)
{
	struct ht_sampler *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	s->src.ops = ops;
	s->src.conf = c;
	s->fn = fn;
	s->arg = arg;
	s->stop_fd = -1;
	s->drain_ns = c->drain_interval * 1000ull;
	pthread_mutex_init(&s->lock, NULL);
	ht_budget_init(&s->budget, c);
	if (c->record[0]) {
		s->trace = ht_trace_writer_open(c->record, why, whylen);
		if (!s->trace)
			goto fail;
	}
	int r = ops->start(&s->src, why, whylen);
	if (r < 0)
		goto fail;
	if (s->budget.enabled && ops->set_period && s->budget.period != s->src.stats.period) {
		if (ops->set_period(&s->src, s->budget.period) < 0)
			s->budget.enabled = 0;
	}
	if (!ops->set_period)
		s->budget.enabled = 0; /* nothing to steer */
	s->pub = s->src.stats;
	return s;
fail:
	ht_trace_writer_close(s->trace);
	pthread_mutex_destroy(&s->lock);
	free(s);
	return NULL;
}


static void publish(struct ht_sampler *s, uint64_t cpu)
{
	pthread_mutex_lock(&s->lock);
	s->src.stats.period_changes = s->budget.changes;
	s->pub = s->src.stats;
	s->pub_cpu = cpu;
	pthread_mutex_unlock(&s->lock);
}

static void steer(struct ht_sampler *s, uint64_t cpu)
{
	uint64_t p = ht_budget_update(&s->budget, clock_ns(CLOCK_MONOTONIC), cpu);
	if (p && s->src.ops->set_period(&s->src, p) < 0) {
		ht_warn("sampler: cannot change the sample period to %llu; the period stays fixed", (unsigned long long)p);
		s->budget.enabled = 0;
	}
}

static void *run(void *arg)
{
	struct ht_sampler *s = arg;
	struct timespec ts = { (time_t)(s->drain_ns / 1000000000ull), (long)(s->drain_ns % 1000000000ull) };
	const struct timespec zero = { 0, 0 };
	struct pollfd pfd = { .fd = s->stop_fd, .events = POLLIN };
	int stopping = 0;
	for (;;) {
		s->src.stats.wakes++;
		s->src.ops->drain(&s->src, deliver, s);
		uint64_t cpu = clock_ns(CLOCK_THREAD_CPUTIME_ID);
		if (s->budget.enabled)
			steer(s, cpu);
		publish(s, cpu);
		if (stopping)
			break;
		/* Sleep until the next drain or until stop writes the eventfd;
		 * a source with work left (replay) only checks for stop. */
		if (ppoll(&pfd, 1, s->src.more ? &zero : &ts, NULL) > 0)
			stopping = 1; /* one last drain, then out */
	}
	return NULL;
}

int ht_sampler_start(struct ht_sampler *s)
{
	sigset_t all, old;
	if (s->running)
		return -EBUSY;
	s->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->stop_fd < 0)
		return -errno;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old); /* the thread inherits it */
	s->running = 1;
	int r = pthread_create(&s->thread, NULL, run, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r) {
		s->running = 0;
		close(s->stop_fd);
		s->stop_fd = -1;
		return -r;
	}
	pthread_setname_np(s->thread, "ht-sampler");
	return 0;
}

void ht_sampler_stop(struct ht_sampler *s)
{
	uint64_t one = 1;
	if (!s || !s->running)
		return;
	ssize_t w = write(s->stop_fd, &one, sizeof(one));
	(void)w;
	pthread_join(s->thread, NULL);
	s->running = 0;
	close(s->stop_fd);
	s->stop_fd = -1;
}

void ht_sampler_destroy(struct ht_sampler *s)
{
	if (!s)
		return;
	ht_sampler_stop(s);
	s->src.ops->stop(&s->src);
	ht_trace_writer_close(s->trace);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

long ht_sampler_drain_once(struct ht_sampler *s)
{
	long n = 0;
	do
		n += s->src.ops->drain(&s->src, deliver, s);
	while (s->src.more);
	publish(s, s->pub_cpu);
	return n;
}

void ht_sampler_get_stats(struct ht_sampler *s, struct ht_source_stats *st, uint64_t *cpu_ns)
{
	pthread_mutex_lock(&s->lock);
	*st = s->pub;
	if (cpu_ns)
		*cpu_ns = s->pub_cpu;
	pthread_mutex_unlock(&s->lock);
}

struct ht_trace_writer *ht_sampler_trace(struct ht_sampler *s) { return s->trace; }

void ht_sampler_record_map(void *sampler, uintptr_t start, size_t len, int unmap)
{
	struct ht_sampler *s = sampler;
	if (s->trace && !s->trace_failed)
		ht_trace_write_map(s->trace, clock_ns(CLOCK_MONOTONIC), start, len, unmap);
}
const char *ht_sampler_source_name(const struct ht_sampler *s) { return s->src.ops->name; }

void ht_sampler_on_map(struct ht_sampler *s, ht_map_fn fn, void *arg)
{
	s->src.on_map = fn;
	s->src.on_map_arg = arg;
}
