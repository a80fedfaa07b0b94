/*
 * runtime.c - the one process-wide runtime object: reads HYPERTIER_CONF,
 * finds the tiers, and wires actuator -> engine -> sampler -> allocator ->
 * stats file, plus one housekeeping thread that feeds allocator extents to
 * the engine, learns allocation sites and publishes stats.
 *
 * It never fails its host: any problem switches it off (a bad configuration
 * says so in one stderr line; everything else only in the log).
 */
#define _GNU_SOURCE
#include "runtime.h"
#include "lazy.h"
#include "log.h"
#include "rtfile.h"
#include "statsfile.h"
#include "../actuator/actuator.h"
#include "../actuator/fault.h"
#include "thp.h"
#include "../alloc/alloc.h"
#include "../plan/engine.h"
#include "../source/source.h"
#include "../source/sampler.h"
#include "../source/software.h"
#include "../source/trace.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

enum { RT_NONE, RT_STARTING, RT_ON, RT_OFF, RT_FORKED };

struct ht_runtime {
	pthread_mutex_t lock;         /* init / fini / fork */
	pthread_rwlock_t use;         /* API calls (read) against shutdown (write) */
	_Atomic int state;
	int atfork_done;
	int pid;                      /* the process it runs in */

	struct ht_conf conf;
	struct ht_topo topo;
	struct ht_actuator act;
	struct ht_fault_act fault;    /* wraps act when fault_move > 0 */
	struct ht_engine *engine;
	struct ht_sampler *sampler;
	struct ht_alloc *alloc;
	struct ht_statsfile *sf;
	struct ht_heatmap *heat;      /* site learning's view of the ranges */
	struct ht_range_info *ranges; /* its buffer: conf.max_ranges entries */
	int stats_log_fd;
	char source[32];

	pthread_t thread;
	int thread_on;
	int stop_fd;

	/* housekeeping thread only */
	uint64_t next_learn, next_stats, last_samples, born_prev;
	struct ht_stats prev;
	uint64_t prev_ns;
};

static struct ht_runtime rt = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.use = PTHREAD_RWLOCK_INITIALIZER,
	.stats_log_fd = -1,
	.stop_fd = -1,
};

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static uint64_t real_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* ---- stats ---------------------------------------------------------------- */

void ht_rt_fill_stats(struct ht_runtime *r, struct ht_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->size = sizeof(*st);
	st->fast_node = st->slow_node = -1;
	st->fast_quota = r ? r->conf.fast_quota : 0;
	if (!r)
		return;
	st->enabled = 1;
	st->fast_node = r->topo.fast;
	st->slow_node = r->topo.slow;
	ht_engine_get_stats(r->engine, st);
	if (r->sampler) {
		struct ht_source_stats ss;
		uint64_t cpu = 0;
		memset(&ss, 0, sizeof(ss));
		ht_sampler_get_stats(r->sampler, &ss, &cpu);
		st->samples_lost = ss.lost;
		st->throttle = ss.throttle;
		st->unthrottle = ss.unthrottle;
		st->sample_period = ss.period;
		st->period_changes = ss.period_changes;
		st->sampler_cpu_ns = cpu;
	}
	if (r->alloc)
		ht_alloc_get_stats(r->alloc, st);
}

static void snapshot(struct ht_runtime *r, struct ht_sf_data *d, uint64_t now)
{
	memset(d, 0, sizeof(*d));
	ht_rt_fill_stats(r, &d->st);
	d->time_ns = real_ns();
	snprintf(d->source, sizeof(d->source), "%s", r->source);
	if (r->prev_ns && now > r->prev_ns) {
		double dt = (now - r->prev_ns) / 1e9;
		d->interval_ns = now - r->prev_ns;
		d->promote_per_s = (d->st.pages_promoted - r->prev.pages_promoted) / dt;
		d->demote_per_s = (d->st.pages_demoted - r->prev.pages_demoted) / dt;
		d->samples_per_s = (d->st.samples - r->prev.samples) / dt;
		d->sampler_cpu_share = (d->st.sampler_cpu_ns - r->prev.sampler_cpu_ns) / (dt * 1e9);
	}
	r->prev = d->st;
	r->prev_ns = now;

	struct ht_range_info ri[HT_SF_TOP];
	size_t n = ht_engine_top_ranges(r->engine, ri, HT_SF_TOP);
	for (size_t i = 0; i < n; i++)
		d->ranges[i] = (struct ht_sf_range){ ri[i].start, ri[i].len, ri[i].density, ri[i].fast_share,
						     ri[i].hint, ri[i].hot_bytes > 0 };
	d->nranges = (uint32_t)n;
	if (r->alloc) {
		struct ht_site_info si[HT_SF_TOP];
		n = ht_alloc_top_sites(r->alloc, si, HT_SF_TOP);
		for (size_t i = 0; i < n; i++) {
			struct ht_sf_site *s = &d->sites[i];
			s->hash = si[i].hash;
			s->allocs = si[i].allocs;
			s->live_bytes = si[i].live_bytes;
			s->placed = si[i].placed;
			s->heat = si[i].heat;
			s->tier = si[i].tier;
			s->nobs = si[i].nobs;
			memcpy(s->name, si[i].name, sizeof(s->name));
		}
		d->nsites = (uint32_t)n;
	}
}

static void publish(struct ht_runtime *r, uint64_t now)
{
	struct ht_sf_data d;
	snapshot(r, &d, now);
	if (r->sf)
		ht_statsfile_publish(r->sf, &d);
	if (r->stats_log_fd >= 0) {
		char line[16384];
		size_t n = ht_sf_json(&d, (int)getpid(), line, sizeof(line) - 1);
		line[n++] = '\n';
		ssize_t w = write(r->stats_log_fd, line, n);
		(void)w;
	}
}

/* ---- housekeeping thread ------------------------------------------------- */

static void announce(void *engine, uintptr_t start, size_t len) { ht_engine_announce(engine, start, len); }

/* Tier arenas' extents are pinned to their tier, so the engine keeps them there. */
static void on_extent(void *arg, uintptr_t start, size_t len, int unmap, int tier)
{
	struct ht_runtime *r = arg;
	if (unmap == 2) { /* reborn: forget the old object's counts */
		ht_engine_remove_range(r->engine, start, len);
		ht_engine_add_range(r->engine, start, len, HT_ORIGIN_EXTENT);
	} else if (unmap)
		ht_engine_remove_range(r->engine, start, len);
	else if (ht_engine_add_range(r->engine, start, len, HT_ORIGIN_EXTENT) == 0 && tier >= 0)
		ht_engine_hint(r->engine, start, len, tier == HT_TIER_FAST ? HT_PIN_FAST : HT_PIN_SLOW);
}

/*
 * New extents go fast while budget - use leaves room. Before the engine's
 * first epoch there is no budget yet: estimate it from the fast node's free
 * memory above the watermark, capped by the quota.
 */
static void refresh_room(struct ht_runtime *r)
{
	struct ht_stats st;
	memset(&st, 0, sizeof(st));
	ht_engine_get_stats(r->engine, &st);
	/* the engine's fast_used lags an epoch: also charge what was born fast since the last refresh */
	uint64_t born = ht_alloc_fast_born(r->alloc), recent = born - r->born_prev;
	r->born_prev = born;
	int64_t room = (int64_t)st.fast_budget - (int64_t)st.fast_used - (int64_t)recent;
	if (!st.epochs) {
		ht_topo_refresh(&r->topo);
		const struct ht_node *n = ht_topo_node(&r->topo, r->topo.fast);
		room = n ? (int64_t)n->free - (int64_t)(n->total * r->conf.watermark / 100) : 0;
		if (r->conf.fast_quota && room > (int64_t)r->conf.fast_quota)
			room = (int64_t)r->conf.fast_quota;
	}
	ht_alloc_set_room(r->alloc, room > 0 ? room : 0);
}

static void learn(struct ht_runtime *r, uint64_t now)
{
	struct ht_stats st;
	memset(&st, 0, sizeof(st));
	ht_engine_get_stats(r->engine, &st);
	int sampling = st.samples != r->last_samples;
	r->last_samples = st.samples;
	refresh_room(r);
	if (!r->heat && (r->heat = ht_heatmap_create((size_t)r->conf.max_ranges)))
		r->ranges = malloc((size_t)r->conf.max_ranges * sizeof(*r->ranges));
	if (!r->heat || !r->ranges)
		return;
	size_t n = ht_engine_top_ranges(r->engine, r->ranges, (size_t)r->conf.max_ranges);
	ht_heatmap_build(r->heat, r->ranges, n, r->conf.site_floor / 100);
	ht_alloc_learn(r->alloc, ht_heatmap_heat, r->heat, now, 2 * r->conf.epoch * 1000, sampling);
	ht_alloc_resolve_sites(r->alloc);
}

static void *housekeeping(void *arg)
{
	struct ht_runtime *r = arg;
	pthread_setname_np(pthread_self(), "ht-runtime");
	uint64_t now = mono_ns();
	r->next_learn = now;
	r->next_stats = now;
	for (;;) {
		struct pollfd p[2] = { { r->stop_fd, POLLIN, 0 }, { r->alloc ? ht_alloc_event_fd(r->alloc) : -1, POLLIN, 0 } };
		now = mono_ns();
		uint64_t next = r->next_learn < r->next_stats ? r->next_learn : r->next_stats;
		int ms = next > now ? (int)((next - now + 999999) / 1000000) : 0;
		poll(p, 2, ms);
		if (p[0].revents)
			break;
		if (r->alloc) {
			int lost = 0;
			ht_alloc_drain(r->alloc, on_extent, r, &lost);
			if (lost)
				ht_engine_scan_maps(r->engine); /* the ring overflowed: recover from the maps */
		}
		now = mono_ns();
		if (r->alloc && now >= r->next_learn) {
			learn(r, now);
			r->next_learn = now + r->conf.epoch * 1000;
		}
		if (now >= r->next_stats) {
			publish(r, now);
			r->next_stats = now + r->conf.stats_interval * 1000;
		}
		if (!r->alloc && r->next_learn <= now)
			r->next_learn = UINT64_MAX;
	}
	return NULL;
}

/* Threads of the runtime never take the host's signals. */
static int start_thread_blocked(pthread_t *t, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int rc = pthread_create(t, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

/* ---- fork ------------------------------------------------------------------ */

static void fork_prepare(void)
{
	pthread_mutex_lock(&rt.lock);
	pthread_rwlock_wrlock(&rt.use);
}

static void fork_parent(void)
{
	pthread_rwlock_unlock(&rt.use);
	pthread_mutex_unlock(&rt.lock);
}

/*
 * The child has none of our threads: switch the runtime off cleanly. Its
 * allocator keeps working (jemalloc has its own atfork handlers; the tier
 * arenas keep their nodes); the stats file stays the parent's.
 */
static void fork_child(void)
{
	pthread_mutex_init(&rt.lock, NULL);
	pthread_rwlock_init(&rt.use, NULL);
	if (atomic_load(&rt.state) == RT_ON) {
		if (rt.alloc)
			ht_alloc_quiesce(rt.alloc);
		atomic_store(&rt.state, RT_FORKED);
	}
}

/* ---- start / stop ------------------------------------------------------------ */

static void stop_all(struct ht_runtime *r, int unlink_stats)
{
	if (r->alloc)
		ht_alloc_detach(r->alloc); /* the arenas keep their hooks: their extents outlive us */
	if (r->thread_on) {
		uint64_t one = 1;
		ssize_t w = write(r->stop_fd, &one, sizeof(one));
		(void)w;
		pthread_join(r->thread, NULL);
		r->thread_on = 0;
	}
	if (r->sampler)
		ht_sampler_stop(r->sampler);
	if (r->engine) {
		ht_engine_stop(r->engine);
		ht_engine_on_map(r->engine, NULL, NULL);
	}
	if (r->sampler) {
		ht_sampler_destroy(r->sampler); /* closes the trace */
		r->sampler = NULL;
	}
	if (r->engine) {
		ht_engine_destroy(r->engine);
		r->engine = NULL;
	}
	ht_statsfile_close(r->sf, unlink_stats);
	r->sf = NULL;
	if (r->stats_log_fd >= 0)
		close(r->stats_log_fd);
	r->stats_log_fd = -1;
	if (r->stop_fd >= 0)
		close(r->stop_fd);
	r->stop_fd = -1;
	ht_heatmap_destroy(r->heat);
	free(r->ranges);
	r->heat = NULL;
	r->ranges = NULL;
}

/* record=: every range-map change goes into the trace next to the samples. */
static void trace_map(void *w, uintptr_t start, size_t len, int unmap)
{
	ht_trace_write_map(w, mono_ns(), start, len, unmap);
}

/* sample=replay: the trace's own map events define the managed ranges. */
static void replay_map(void *engine, uint64_t time_ns, uint64_t start, uint64_t len, int unmap)
{
	if (unmap)
		ht_engine_remove_range(engine, start, len);
	else
		ht_engine_add_range(engine, start, len, HT_ORIGIN_USER);
}

static void start_sampler(struct ht_runtime *r, const struct ht_source_ops *ops, const char *none_why)
{
	char why[256] = "";
	snprintf(why, sizeof(why), "%s", none_why);
	snprintf(r->source, sizeof(r->source), "none");
	if (!ops) {
		ht_info("no sample source: %s; placement at birth, hints and the allocator still work", why);
		return;
	}
	r->sampler = ht_sampler_create(&r->conf, ops, ht_engine_ingest, r->engine, why, sizeof(why));
	if (!r->sampler) {
		ht_info("sample source %s failed: %s", ops->name, why);
		return;
	}
	if (ht_sampler_trace(r->sampler))
		ht_engine_on_map(r->engine, trace_map, ht_sampler_trace(r->sampler));
	ht_sampler_on_map(r->sampler, replay_map, r->engine);
	int rc = ht_sampler_start(r->sampler);
	if (rc) {
		ht_info("sample source %s: the sampler thread did not start (%s)", ops->name, strerror(-rc));
		ht_engine_on_map(r->engine, NULL, NULL);
		ht_sampler_destroy(r->sampler);
		r->sampler = NULL;
		return;
	}
	snprintf(r->source, sizeof(r->source), "%s", ht_sampler_source_name(r->sampler));
}

/* Returns 1 when the runtime is on. */
static int start(struct ht_runtime *r)
{
	char err[256] = "";
	ht_conf_defaults(&r->conf);
	if (ht_conf_parse(&r->conf, getenv("HYPERTIER_CONF"), err, sizeof(err)) < 0 ||
	    ht_conf_check_nodes(&r->conf, ht_topo_node_exists, err, sizeof(err)) < 0) {
		ht_log_conf_error("bad HYPERTIER_CONF: %s (runtime disabled)", err);
		return 0;
	}
	if (r->conf.fast_quota && ht_quota_check(r->conf.fast_quota, ht_thp_unit(NULL), err, sizeof(err)) < 0) {
		ht_log_conf_error("bad HYPERTIER_CONF: %s (runtime disabled)", err);
		return 0;
	}
	if (!r->conf.enable)
		return 0;
	ht_log_setup(r->conf.log, r->conf.log_file);
	/* one node (most hosts): off before the heavy libraries are loaded */
	if (ht_topo_single_node(&r->topo)) {
		ht_info("runtime off: %s", r->topo.why);
		return 0;
	}
	if (ht_lazy_load(err, sizeof(err)) < 0) {
		ht_warn("runtime off: %s", err);
		return 0;
	}
	if (ht_topo_discover(&r->topo, &r->conf) < 0) {
		ht_info("runtime off: %s", r->topo.why);
		return 0;
	}
	if (!r->topo.tiered) {
		ht_info("runtime off: %s", r->topo.why);
		return 0;
	}
	char none_why[256] = "";
	const struct ht_source_ops *ops = ht_source_select(&r->conf, none_why, sizeof(none_why));
	if (ops == &ht_source_damon) {
		r->conf.decay = r->conf.damon_decay; /* before the engine copies the configuration */
		r->conf.decay_long = 0; /* one memory: the scores would judge DAMON's region averages, not samples */
		/* DAMON's samples are region averages made up per report: their number is not evidence */
		r->conf.epoch_samples = 0;
		r->conf.decay_samples = 0;
		r->conf.move_cost = 0;
	}
	if (r->conf.page_state && !r->conf.page_thp && ht_thp_always(NULL)) {
		r->conf.page_state = 0;
		ht_info("page layer off: transparent huge pages are [always], so a single 4 KiB page cannot move alone "
			"(page_thp=1 keeps it)");
	}
	ht_actuator_numa_init(&r->act);
	if (r->conf.fault_move) {
		ht_actuator_fault_wrap(&r->act, &r->fault, (unsigned)r->conf.fault_move, (uint64_t)getpid() * 0x9E3779B97F4A7C15ull);
		ht_info("fault_move=%u: %u%% of page moves fail on purpose", (unsigned)r->conf.fault_move, (unsigned)r->conf.fault_move);
	}
	r->engine = ht_engine_create(&r->conf, &r->topo, &r->act);
	if (!r->engine) {
		ht_warn("runtime off: the engine could not be created");
		return 0;
	}
	r->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (r->stop_fd < 0) {
		ht_warn("runtime off: eventfd: %s", strerror(errno));
		goto fail;
	}
	r->alloc = ht_alloc_create(&r->conf, r->topo.fast, r->topo.slow, err, sizeof(err));
	if (!r->alloc)
		ht_info("no placement at birth: %s", err);
	else if (ht_alloc_set_announce(r->alloc, announce, r->engine), ht_alloc_attach(r->alloc, err, sizeof(err)) < 0)
		ht_info("allocator only partly attached: %s", err);
	if (r->alloc)
		refresh_room(r);
	start_sampler(r, ops, none_why);
	if (ht_engine_scan_maps(r->engine) < 0)
		ht_info("could not read /proc/self/maps; only allocator extents are managed");
	if (ht_engine_start(r->engine) != 0) {
		ht_warn("runtime off: the engine thread did not start");
		goto fail;
	}
	if (r->conf.stats) {
		r->sf = ht_statsfile_create(r->conf.stats_dir, (int)getpid(), err, sizeof(err));
		if (!r->sf)
			ht_info("no stats file: %s", err);
	}
	if (r->conf.stats_log[0]) {
		r->stats_log_fd = ht_rtfile_open(r->conf.stats_log, O_WRONLY | O_CREAT | O_APPEND, 0600, err, sizeof(err));
		if (r->stats_log_fd < 0)
			ht_warn("stats_log=%s", err);
	}
	if (start_thread_blocked(&r->thread, housekeeping, r) != 0) {
		ht_warn("runtime off: housekeeping thread did not start");
		goto fail;
	}
	r->thread_on = 1;
	ht_info("on: fast node %d, slow node %d (%s), source %s%s%s", r->topo.fast, r->topo.slow, r->topo.how,
		r->source, r->sf ? ", stats " : "", r->sf ? ht_statsfile_path(r->sf) : "");
	return 1;
fail:
	stop_all(r, 1);
	return 0;
}

void ht_runtime_init(void)
{
	int s = atomic_load(&rt.state);
	if (s != RT_NONE)
		return;
	pthread_mutex_lock(&rt.lock);
	if (atomic_load(&rt.state) == RT_NONE) {
		atomic_store(&rt.state, RT_STARTING);
		/*
		 * jemalloc registers its fork handlers at its first malloc; ours must
		 * come later, since prepare handlers run last-registered first: ours
		 * take rt.use before jemalloc takes its locks (an API call holding
		 * rt.use may malloc). Nothing else may have called malloc yet.
		 */
		void *volatile first = malloc(1);
		free(first);
		if (!rt.atfork_done && pthread_atfork(fork_prepare, fork_parent, fork_child) == 0)
			rt.atfork_done = 1;
		/* start() runs with the state STARTING: API calls meanwhile see the runtime off */
		rt.pid = getpid();
		atomic_store(&rt.state, start(&rt) ? RT_ON : RT_OFF);
	}
	pthread_mutex_unlock(&rt.lock);
}

void ht_runtime_fini(void)
{
	pthread_mutex_lock(&rt.lock);
	if (atomic_load(&rt.state) == RT_ON) {
		pthread_rwlock_wrlock(&rt.use);
		atomic_store(&rt.state, RT_OFF);
		pthread_rwlock_unlock(&rt.use);
		stop_all(&rt, 1);
		ht_info("off");
	}
	pthread_mutex_unlock(&rt.lock);
}

void ht_runtime_before_exec(void)
{
	if (atomic_load(&rt.state) != RT_ON || rt.pid != getpid())
		return; /* off, forked (the child's state says so) or a vfork child sharing our memory */
	ht_info("exec: stopping the runtime first (it restarts in the new image if preloaded there)");
	ht_runtime_fini();
}

struct ht_runtime *ht_rt(void)
{
	return atomic_load(&rt.state) == RT_ON ? &rt : NULL;
}

struct ht_runtime *ht_rt_get(void)
{
	ht_runtime_init();
	if (atomic_load(&rt.state) != RT_ON)
		return NULL;
	pthread_rwlock_rdlock(&rt.use);
	if (atomic_load(&rt.state) != RT_ON) {
		pthread_rwlock_unlock(&rt.use);
		return NULL;
	}
	return &rt;
}

void ht_rt_put(struct ht_runtime *r)
{
	if (r)
		pthread_rwlock_unlock(&r->use);
}

struct ht_engine *ht_rt_engine(struct ht_runtime *r) { return r->engine; }
struct ht_alloc *ht_rt_alloc(struct ht_runtime *r) { return r->alloc; }
const struct ht_conf *ht_rt_conf(struct ht_runtime *r) { return &r->conf; }
