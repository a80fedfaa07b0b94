/* engine.c - classifier + exchange wired together; the epoch thread. */
#define _GNU_SOURCE /* pthread_setname_np */
#include "engine.h"
#include "budget.h"
#include "exchange.h"
#include "../core/log.h"
#include "../ranges/classifier.h"
#include "../ranges/counter.h"
#include "../ranges/rangemap.h"
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define HT_PENDING 1024 /* map changes queued while the engine is busy (a buffer size) */
#define HT_STALE 1024   /* spans removed since the plan was made (a buffer size; more are merged) */

/* A map change that could not take the engine lock (allocator hooks never block on it). */
struct pending { uintptr_t start, end; int remove, origin; };

/* A span whose memory changed hands: announced by a hook, queued, or applied to the ranges. */
enum { STALE_ANNOUNCED, STALE_QUEUED, STALE_APPLIED };
struct stale { uintptr_t start, end; int state, ttl; }; /* ttl > 0: settles left (merged, or its removal was dropped) */

struct ht_engine {
	struct ht_conf conf;
	struct ht_topo topo;
	struct ht_actuator *act;
	size_t page;
	pthread_mutex_t mu;       /* range array, hints, planning */
	pthread_mutex_t epoch_mu; /* one epoch at a time (moves run outside mu) */
	pthread_mutex_t smu;      /* the published stats */
	struct ht_ranges v;
	pthread_mutex_t pmu;      /* the pending queue only; never held while allocating */
	struct pending pend[HT_PENDING];
	size_t npend;
	uint64_t pend_lost;       /* queue full: dropped (a rescan recovers them) */
	struct stale stale[HT_STALE]; /* under pmu: spans the plan may still hold (keep_fresh) */
	size_t nstale;
	struct stale stale_snap[HT_STALE]; /* keep_fresh's copy (runs hold epoch_mu: one at a time) */
	struct ht_counter cnt;
	struct ht_pages pg;       /* below range granularity (ranges/pages.h) */
	struct ht_classify_params cp;
	struct ht_exchange x;
	struct ht_xplan plan;
	_Atomic uint64_t quota;
	_Atomic uint64_t since;   /* samples ingested since the last epoch began (early epochs) */
	atomic_int kicked;        /* the early-epoch signal was sent for this epoch */
	uint64_t epoch, last_ns, last_rescan_ns, recent_seen;
	uint64_t start_ns;        /* the clock's first reading: the first epoch's span, the gate's horizon */
	double pg_span;           /* epoch periods since the page layer last decayed */
	int maps;                 /* scan_maps was called: rescan every conf.rescan */
	struct ht_stats pub;      /* engine fields only */
	void (*map_fn)(void *, uintptr_t, size_t, int);
	void *map_arg;
	pthread_t thr;
	pthread_cond_t cv;        /* CLOCK_MONOTONIC: the epoch timer and stop */
	int running, stopping;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void map_event(void *arg, uintptr_t start, size_t len, int unmap)
{
	struct ht_engine *e = arg;
	if (e->map_fn)
		e->map_fn(e->map_arg, start, len, unmap);
}

static size_t keep_fresh(void *arg, void **pages, size_t n);

struct ht_engine *ht_engine_create(const struct ht_conf *c, const struct ht_topo *t, struct ht_actuator *act)
{
	if (!c || !t || !act || !act->ops || !act->ops->query || !act->ops->move || t->fast < 0 || t->slow < 0 ||
	    t->fast == t->slow)
		return NULL;
	struct ht_engine *e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->conf = *c;
	e->topo = *t;
	e->act = act;
	e->page = act->page_size ? act->page_size : 4096;
	/* samples scale with the CPUs: count the topology's (the simulator's is synthetic), not this host's */
	long cpus = 0;
	for (int i = 0; i < t->nr_nodes; i++)
		cpus += t->nodes[i].nr_cpus;
	if (cpus <= 0)
		cpus = sysconf(_SC_NPROCESSORS_ONLN);
	ht_classify_params(&e->cp, &e->conf, cpus > 0 ? (int)cpus : 1, e->page);
	if (t->thp > e->page)
		e->cp.align = t->thp; /* no cut through a huge page */
	atomic_init(&e->quota, c->fast_quota);
	if (ht_exchange_init(&e->x, &e->conf, act, t->fast, t->slow) < 0) {
		free(e);
		return NULL;
	}
	ht_worth_init(&e->x.worth, &e->conf, &e->topo);
	e->x.keep = keep_fresh;
	e->x.keep_arg = e;
	ht_pages_init(&e->pg, &e->conf, e->page);
	e->cnt.pages = e->x.pg = &e->pg;
	pthread_mutex_init(&e->mu, NULL);
	pthread_mutex_init(&e->pmu, NULL);
	pthread_mutex_init(&e->epoch_mu, NULL);
	pthread_mutex_init(&e->smu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&e->cv, &ca);
	pthread_condattr_destroy(&ca);
	e->pub.fast_node = t->fast;
	e->pub.slow_node = t->slow;
	e->pub.fast_quota = c->fast_quota;
	return e;
}

void ht_engine_destroy(struct ht_engine *e)
{
	if (!e)
		return;
	ht_engine_stop(e);
	ht_counter_fini(&e->cnt);
	ht_pages_fini(&e->pg);
	ht_ranges_free(&e->v);
	ht_xplan_free(&e->plan);
	ht_exchange_fini(&e->x);
	pthread_cond_destroy(&e->cv);
	pthread_mutex_destroy(&e->mu);
	pthread_mutex_destroy(&e->pmu);
	pthread_mutex_destroy(&e->epoch_mu);
	pthread_mutex_destroy(&e->smu);
	free(e);
}

void ht_engine_ingest(void *engine, const struct ht_sample *s, size_t n)
{
	struct ht_engine *e = engine;
	if (!e || !s || !n)
		return;
	ht_counter_ingest(&e->cnt, &s[0].addr, sizeof(*s), n);
	uint64_t want = e->conf.epoch_samples, had = atomic_fetch_add_explicit(&e->since, n, memory_order_relaxed);
	/*
	 * Past the early-epoch mark: wake the epoch thread once per epoch. trylock:
	 * ingest never waits; when busy, the next batch tries again.
	 */
	if (want && had + n >= want && !atomic_load_explicit(&e->kicked, memory_order_relaxed) &&
	    !pthread_mutex_trylock(&e->smu)) {
		atomic_store_explicit(&e->kicked, 1, memory_order_relaxed);
		pthread_cond_signal(&e->cv);
		pthread_mutex_unlock(&e->smu);
	}
}

int ht_engine_due(struct ht_engine *e, uint64_t now_ns)
{
	if (!e)
		return 0;
	if (!e->start_ns)
		e->start_ns = now_ns ? now_ns : 1; /* a caller-driven clock (the simulator) starts at its first call */
	uint64_t last = e->last_ns ? e->last_ns : e->start_ns;
	if (now_ns >= last + e->conf.epoch * 1000)
		return 1;
	return e->conf.epoch_samples && atomic_load_explicit(&e->since, memory_order_relaxed) >= e->conf.epoch_samples &&
	       now_ns >= last + e->conf.epoch_min * 1000;
}

void ht_engine_on_map(struct ht_engine *e, void (*fn)(void *, uintptr_t, size_t, int), void *arg)
{
	pthread_mutex_lock(&e->mu);
	e->map_fn = fn;
	e->map_arg = arg;
	pthread_mutex_unlock(&e->mu);
}

/*
 * The allocator's extent hooks run under jemalloc's locks, and the engine
 * allocates while holding mu: so hooks never wait for mu. What they cannot
 * apply at once is queued here and applied in the next edit window.
 */
static int enqueue(struct ht_engine *e, uintptr_t s, uintptr_t end, int remove, int origin)
{
	pthread_mutex_lock(&e->pmu);
	if (e->npend < HT_PENDING) {
		e->pend[e->npend++] = (struct pending){ s, end, remove, origin };
	} else {
		e->pend_lost++;
		for (size_t i = 0; remove && i < e->nstale; i++) /* never applied: its listing expires instead */
			if (!e->stale[i].ttl && e->stale[i].start == s && e->stale[i].end == end && e->stale[i].state == STALE_QUEUED) {
				e->stale[i].ttl = 3;
				break;
			}
	}
	pthread_mutex_unlock(&e->pmu);
	return 0;
}

/*
 * A span that changed hands (munmap, memory reborn to a new object) may be
 * in the plan that runs outside mu, planned on the dead object's counts. It
 * is listed from the moment a hook announces it until the ranges have
 * forgotten it before a plan; the run skips listed pages.
 */
static void stale_mark(struct ht_engine *e, uintptr_t s, uintptr_t end, int state)
{
	pthread_mutex_lock(&e->pmu);
	size_t i = 0, near = 0;
	uintptr_t gap = UINTPTR_MAX;
	for (; i < e->nstale; i++) {
		struct stale *t = &e->stale[i];
		if (!t->ttl && t->start == s && t->end == end && t->state < state)
			break;
		uintptr_t g = s >= t->end ? s - t->end : t->start >= end ? t->start - end : 0;
		if (g < gap)
			gap = g, near = i;
	}
	if (i < e->nstale) {
		e->stale[i].state = state;
	} else if (e->nstale < HT_STALE) {
		e->stale[e->nstale++] = (struct stale){ s, end, state, 0 };
	} else {
		/* full: widen the nearest entry over this one; it is kept while merges go on, then two settles */
		struct stale *t = &e->stale[near];
		t->start = s < t->start ? s : t->start;
		t->end = end > t->end ? end : t->end;
		t->state = state < t->state ? state : t->state;
		t->ttl = 3;
	}
	pthread_mutex_unlock(&e->pmu);
}

/* After the plan's edit window (caller holds mu): what it applied no longer needs listing. */
static void stale_settle(struct ht_engine *e)
{
	pthread_mutex_lock(&e->pmu);
	size_t k = 0;
	for (size_t i = 0; i < e->nstale; i++) {
		struct stale *t = &e->stale[i];
		if (t->ttl ? --t->ttl > 0 : t->state != STALE_APPLIED)
			e->stale[k++] = *t;
	}
	e->nstale = k;
	pthread_mutex_unlock(&e->pmu);
}

static int by_start(const void *a, const void *b)
{
	const struct stale *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

/* The exchange's keep hook: compact pages[0, n) to those outside every listed span. */
static size_t keep_fresh(void *arg, void **pages, size_t n)
{
	struct ht_engine *e = arg;
	struct stale *st = e->stale_snap;
	pthread_mutex_lock(&e->pmu);
	size_t ns = e->nstale;
	memcpy(st, e->stale, ns * sizeof(st[0]));
	pthread_mutex_unlock(&e->pmu);
	if (!ns)
		return n;
	qsort(st, ns, sizeof(st[0]), by_start);
	for (size_t i = 1; i < ns; i++) /* end becomes the furthest end so far: one search finds any cover */
		if (st[i].end < st[i - 1].end)
			st[i].end = st[i - 1].end;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		uintptr_t pg = (uintptr_t)pages[i];
		size_t lo = 0, hi = ns; /* first span starting past pg */
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			if (st[mid].start <= pg)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (!lo || st[lo - 1].end <= pg)
			pages[k++] = pages[i];
	}
	return k;
}

/* Caller holds mu, inside an edit window. */
static void apply_pending(struct ht_engine *e)
{
	struct pending batch[32];
	for (;;) {
		pthread_mutex_lock(&e->pmu);
		size_t n = e->npend < 32 ? e->npend : 32;
		memcpy(batch, e->pend, n * sizeof(batch[0]));
		memmove(e->pend, e->pend + n, (e->npend - n) * sizeof(batch[0]));
		e->npend -= n;
		pthread_mutex_unlock(&e->pmu);
		if (!n)
			return;
		for (size_t i = 0; i < n; i++) {
			if (batch[i].remove) {
				stale_mark(e, batch[i].start, batch[i].end, STALE_APPLIED);
				ht_rangemap_remove(&e->v, batch[i].start, batch[i].end, map_event, e);
			}
			else
				ht_rangemap_add(&e->v, batch[i].start, batch[i].end, batch[i].origin, e->epoch, e->cp.max_ranges,
						map_event, e);
		}
	}
}

/* Structural changes: harvest counts into v, edit, republish. Caller holds mu. */
static void begin_edit(struct ht_engine *e)
{
	ht_counter_harvest(&e->cnt, &e->v);
	apply_pending(e);
}
static void end_edit(struct ht_engine *e)
{
	if (ht_counter_publish(&e->cnt, &e->v) < 0)
		ht_warn("engine: out of memory publishing %zu ranges; samples are not counted", e->v.n);
}

static void span_round(const struct ht_engine *e, uintptr_t start, size_t len, uintptr_t *s, uintptr_t *end)
{
	*s = start & ~(uintptr_t)(e->page - 1);
	*end = (start + len + e->page - 1) & ~(uintptr_t)(e->page - 1);
}

int ht_engine_add_range(struct ht_engine *e, uintptr_t start, size_t len, int origin)
{
	uintptr_t s, end;
	if (!e || !len || origin < HT_ORIGIN_MAPS || origin > HT_ORIGIN_USER || start + len < start)
		return -EINVAL;
	span_round(e, start, len, &s, &end);
	if (origin == HT_ORIGIN_EXTENT) {
		if (pthread_mutex_trylock(&e->mu))
			return enqueue(e, s, end, 0, origin);
	} else {
		pthread_mutex_lock(&e->mu);
	}
	begin_edit(e);
	long r = ht_rangemap_add(&e->v, s, end, origin, e->epoch, e->cp.max_ranges, map_event, e);
	end_edit(e);
	pthread_mutex_unlock(&e->mu);
	return r < 0 ? (int)r : 0;
}

int ht_engine_remove_range(struct ht_engine *e, uintptr_t start, size_t len)
{
	uintptr_t s, end;
	if (!e || !len || start + len < start)
		return -EINVAL;
	span_round(e, start, len, &s, &end);
	if (pthread_mutex_trylock(&e->mu)) { /* busy: applied in the next edit window */
		stale_mark(e, s, end, STALE_QUEUED);
		return enqueue(e, s, end, 1, 0);
	}
	begin_edit(e);
	stale_mark(e, s, end, STALE_APPLIED);
	ht_rangemap_remove(&e->v, s, end, map_event, e);
	end_edit(e);
	pthread_mutex_unlock(&e->mu);
	return 0;
}

void ht_engine_announce(struct ht_engine *e, uintptr_t start, size_t len)
{
	uintptr_t s, end;
	if (!e || !len || start + len < start)
		return;
	span_round(e, start, len, &s, &end);
	stale_mark(e, s, end, STALE_ANNOUNCED);
}

/* 1 when [s, end) is covered by managed ranges without a gap. */
static int covered(const struct ht_ranges *v, uintptr_t s, uintptr_t end)
{
	long i = ht_ranges_find(v, s);
	if (i < 0)
		return 0;
	for (uintptr_t pos = v->r[i].end; pos < end; pos = v->r[i].end)
		if ((size_t)++i >= v->n || v->r[i].start != pos)
			return 0;
	return 1;
}

int ht_engine_hint(struct ht_engine *e, uintptr_t start, size_t len, int hint)
{
	uintptr_t s, end;
	if (!e || !len || hint < HT_AUTO || hint > HT_PIN_SLOW || start + len < start)
		return -EINVAL;
	span_round(e, start, len, &s, &end);
	pthread_mutex_lock(&e->mu);
	int rc = -EINVAL;
	begin_edit(e); /* first apply queued adds: an extent hinted right after it was added */
	if (covered(&e->v, s, end)) {
		rc = ht_rangemap_cut(&e->v, s);
		if (!rc)
			rc = ht_rangemap_cut(&e->v, end);
		if (!rc)
			for (long i = ht_ranges_find(&e->v, s); i >= 0 && (size_t)i < e->v.n && e->v.r[i].start < end; i++) {
				e->v.r[i].hint = (int8_t)hint;
				e->v.r[i].policy = -2;
			}
	}
	end_edit(e);
	pthread_mutex_unlock(&e->mu);
	return rc;
}

void ht_engine_set_quota(struct ht_engine *e, uint64_t bytes)
{
	if (e)
		atomic_store(&e->quota, bytes);
}

struct spans { struct ht_mapping *s; size_t n, cap; };

static void spans_push(struct spans *g, uintptr_t s, uintptr_t end)
{
	if (g->n == g->cap) {
		size_t c = g->cap ? g->cap * 2 : 32;
		struct ht_mapping *p = realloc(g->s, c * sizeof(*p));
		if (!p)
			return;
		g->s = p;
		g->cap = c;
	}
	g->s[g->n].start = s;
	g->s[g->n].end = end;
	g->n++;
}

/* Parts of ranges (of origin, or any when origin < 0) that no mapping in m covers. */
static void uncovered(const struct ht_ranges *v, const struct ht_mapping *m, long nm, int origin, struct spans *out)
{
	for (size_t i = 0; i < v->n; i++) {
		const struct ht_range *r = &v->r[i];
		if (origin >= 0 && r->origin != origin)
			continue;
		long lo = 0, hi = nm; /* first mapping ending after r->start */
		while (lo < hi) {
			long mid = (lo + hi) / 2;
			if (m[mid].end <= r->start)
				lo = mid + 1;
			else
				hi = mid;
		}
		uintptr_t pos = r->start;
		for (long j = lo; pos < r->end;) {
			if (j < nm && m[j].start <= pos) {
				pos = m[j].end;
				j++;
				continue;
			}
			uintptr_t stop = j < nm && m[j].start < r->end ? m[j].start : r->end;
			spans_push(out, pos, stop);
			pos = stop;
		}
	}
}

/* Caller holds mu. */
static int rescan_locked(struct ht_engine *e)
{
	struct ht_mapping *every = NULL, *want = NULL;
	long ne = ht_maps_read(NULL, 2, &every);
	if (ne < 0)
		return (int)ne;
	long nw = ht_maps_read(NULL, e->conf.manage == HT_MANAGE_ALL, &want);
	if (nw < 0) {
		free(every);
		return (int)nw;
	}
	struct spans gone = { 0 };
	begin_edit(e);
	uncovered(&e->v, every, ne, -1, &gone);   /* unmapped behind our back */
	uncovered(&e->v, want, nw, HT_ORIGIN_MAPS, &gone); /* no longer a managed kind */
	for (size_t i = 0; i < gone.n; i++)
		ht_rangemap_remove(&e->v, gone.s[i].start, gone.s[i].end, map_event, e);
	for (long i = 0; i < nw; i++)
		ht_rangemap_add(&e->v, want[i].start, want[i].end, HT_ORIGIN_MAPS, e->epoch, e->cp.max_ranges, map_event, e);
	end_edit(e);
	free(gone.s);
	free(every);
	free(want);
	return (int)nw;
}

int ht_engine_scan_maps(struct ht_engine *e)
{
	if (!e)
		return -EINVAL;
	pthread_mutex_lock(&e->mu);
	int rc = rescan_locked(e);
	e->maps = 1;
	e->last_rescan_ns = mono_ns();
	pthread_mutex_unlock(&e->mu);
	return rc;
}

/* Time since the last epoch (the first: since the start; unknown: one timer epoch). */
static uint64_t span_ns(const struct ht_engine *e, uint64_t now_ns)
{
	uint64_t last = e->last_ns ? e->last_ns : e->start_ns;
	return last && now_ns > last ? now_ns - last : e->conf.epoch * 1000;
}

/* Bytes the exchange may move this epoch: rate over the time since the last one, and the cap. */
static uint64_t allowance(const struct ht_engine *e, uint64_t now_ns)
{
	uint64_t period = e->conf.epoch * 1000;
	uint64_t dt = span_ns(e, now_ns);
	if (dt > period) /* a late epoch gets no catch-up burst (and paced moves cannot feed on themselves) */
		dt = period;
	uint64_t a = UINT64_MAX / 2;
	if (e->conf.migrate_rate) {
		double b = (double)e->conf.migrate_rate * (double)dt / 1e9;
		a = b < (double)a ? (uint64_t)b : a;
	}
	if (e->conf.epoch_cap && e->conf.epoch_cap < a)
		a = e->conf.epoch_cap;
	return a;
}

/* Share of recent samples on fast-tier pages: query where those pages are now. */
static void hit_ratio(struct ht_engine *e, uint64_t *fast, uint64_t *located)
{
	uint64_t pos = atomic_load(&e->cnt.recent_pos);
	uint64_t k = pos - e->recent_seen;
	if (k > HT_RECENT)
		k = HT_RECENT;
	uintptr_t a[HT_RECENT];
	for (uint64_t i = 0; i < k; i++)
		a[i] = (uintptr_t)atomic_load_explicit(&e->cnt.recent[(pos - k + i) % HT_RECENT], memory_order_relaxed);
	e->recent_seen = pos;
	ht_exchange_locate(&e->x, a, (size_t)k, fast, located);
}

/* What a decay of pct percent per unit keeps over units of evidence (at most 4: a long stall does not wipe the counts). */
static double kept(double pct, double units)
{
	return pow(pct / 100.0, units > 4 ? 4 : units);
}

int ht_engine_epoch(struct ht_engine *e, uint64_t now_ns)
{
	if (!e)
		return -EINVAL;
	pthread_mutex_lock(&e->epoch_mu);
	pthread_mutex_lock(&e->mu);
	if (e->maps && now_ns >= e->last_rescan_ns + e->conf.rescan * 1000) {
		rescan_locked(e);
		e->last_rescan_ns = now_ns;
	}
	uint64_t got = atomic_exchange_explicit(&e->since, 0, memory_order_relaxed);
	atomic_store_explicit(&e->kicked, 0, memory_order_relaxed);
	begin_edit(e);
	stale_settle(e);
	/*
	 * decay and page_decay are per unit of evidence: an epoch period of
	 * time or decay_samples samples, whichever this epoch has more of. An
	 * early epoch (epoch_samples) then re-ranks sooner without forgetting
	 * sooner than its samples allow: decaying per epoch, sqlite-ycsb's 42
	 * epochs in 10 s kept 0.5^42 and its hot set chased phases shorter
	 * than the memory.
	 */
	double span = (double)span_ns(e, now_ns) / ((double)e->conf.epoch * 1000.0);
	if (e->conf.decay_samples && (double)got / (double)e->conf.decay_samples > span)
		span = (double)got / (double)e->conf.decay_samples;
	e->cp.decay = kept(e->conf.decay, span);
	if (e->cp.decay_long > 0) /* two memories (ht_classify_params decided) */
		e->cp.decay_long = kept(e->conf.decay_long, span);
	e->pg.decay = kept(e->conf.page_decay, span);
	e->pg_span += span;
	ht_pages_judge(&e->pg, &e->v);
	ht_classify_decay(&e->v, &e->cp);
	for (size_t i = 0; i < e->v.n; i++)
		e->v.r[i].hits = 0;
	ht_classify_split(&e->v, &e->cp, e->epoch);
	ht_classify_merge(&e->v, &e->cp);
	end_edit(e);
	ht_pages_epoch(&e->pg, &e->v, ht_counter_sync, &e->cnt);

	ht_exchange_scan(&e->x, &e->v);
	uint64_t quota = atomic_load(&e->quota), nfree = 0, ntotal = 0;
	if (e->act->ops->node_mem && e->act->ops->node_mem(e->act->priv, e->topo.fast, &nfree, &ntotal) < 0)
		nfree = ntotal = 0;
	struct ht_budget_in bi = { quota, e->conf.watermark, ntotal, nfree, e->x.st.fast_used };
	uint64_t budget = ht_budget(&bi);

	/* the room single pages may fill: the budget less what the ranges hot as a whole (or hinted fast) hold */
	uint64_t held = 0;
	for (size_t i = 0; i < e->v.n; i++) {
		const struct ht_range *r = &e->v.r[i];
		if (r->hint == HT_PIN_FAST || r->hint == HT_HOT || (r->hint == HT_AUTO && r->hot_bytes >= r->end - r->start))
			held += (r->fast_pages + r->slow_pages) * e->page;
	}
	ht_pages_select(&e->pg, &e->v, budget > held ? budget - held : 0);

	size_t *order = malloc((e->v.n + 1) * sizeof(*order));
	uint64_t hot = 0;
	int rc = 0;
	if (order) {
		ht_classify_rank(&e->v, order);
		hot = ht_classify_hotset_pages(&e->v, order, budget, e->page, e->cp.align, e->pg.cand, e->pg.ncand);
		/* full: the hot set fills the budget, or the tier is at it already (first touch
		 * filled it): cold ranges' new pages are then born slow, not born fast and trimmed */
		ht_exchange_policy(&e->x, &e->v, hot + e->page > budget || e->x.st.fast_used + e->page > budget);
		uint64_t since = e->start_ns && now_ns > e->start_ns ? now_ns - e->start_ns : 0;
		e->x.worth.scale = ht_worth_scale(span_ns(e, now_ns), since, ht_classify_kept(&e->cp));
		ht_exchange_plan(&e->x, &e->v, order, budget, allowance(e, now_ns), e->epoch, &e->plan);
		free(order);
	} else {
		e->plan.np = e->plan.nd = 0;
	}
	/* the sketch's cells are small integers, floored at each decay: decay them once per period at most */
	if (e->pg_span >= 1) {
		e->pg.decay = kept(e->conf.page_decay, e->pg_span);
		ht_pages_decay(&e->pg);
		e->pg_span = 0;
	} else {
		e->pg.tdecay = 1;
	}
	uint64_t hfast = 0, hloc = 0;
	hit_ratio(e, &hfast, &hloc);
	uint64_t epoch = e->epoch++;
	e->last_ns = now_ns;
	size_t nr = e->v.n;
	pthread_mutex_unlock(&e->mu);

	struct ht_xstats d = { 0 };
	long moved = ht_exchange_run(&e->x, &e->plan, epoch, &d);
	if (moved > 0)
		rc = (int)moved;

	pthread_mutex_lock(&e->smu);
	struct ht_stats *p = &e->pub;
	p->fast_quota = quota;
	p->fast_budget = budget;
	p->fast_used = e->x.st.fast_used + (d.promoted - d.demoted) * e->page;
	p->slow_used = e->x.st.slow_used + (d.demoted - d.promoted) * e->page;
	p->hot_set_bytes = hot;
	p->nr_ranges = nr;
	p->epochs = epoch + 1;
	p->pages_promoted += d.promoted;
	p->pages_demoted += d.demoted;
	p->bytes_moved += d.bytes_moved;
	p->fail_enoent += d.fail_enoent;
	p->fail_ebusy += d.fail_ebusy;
	p->fail_enomem += d.fail_enomem;
	p->fail_other += d.fail_other;
	p->pages_backed_off = e->x.st.backed_off;
	p->pages_single = e->x.st.single;
	p->page_state_bytes = ht_pages_bytes(&e->pg);
	p->fast_hit_samples += hfast;
	p->located_samples += hloc;
	pthread_mutex_unlock(&e->smu);
	pthread_mutex_unlock(&e->epoch_mu);
	ht_dbg("epoch %llu: %zu ranges, budget %llu, hot %llu, fast %llu, +%llu -%llu pages",
	       (unsigned long long)epoch, nr, (unsigned long long)budget, (unsigned long long)hot,
	       (unsigned long long)p->fast_used, (unsigned long long)d.promoted, (unsigned long long)d.demoted);
	return rc;
}

void ht_engine_get_stats(struct ht_engine *e, struct ht_stats *st)
{
	if (!e || !st)
		return;
	pthread_mutex_lock(&e->smu);
	const struct ht_stats *p = &e->pub;
	st->fast_node = p->fast_node;
	st->slow_node = p->slow_node;
	pthread_mutex_lock(&e->pmu);
	st->map_changes_lost = e->pend_lost;
	pthread_mutex_unlock(&e->pmu);
	st->fast_quota = atomic_load(&e->quota);
	st->fast_budget = p->fast_budget;
	st->fast_used = p->fast_used;
	st->slow_used = p->slow_used;
	st->hot_set_bytes = p->hot_set_bytes;
	st->nr_ranges = p->nr_ranges;
	st->epochs = p->epochs;
	st->pages_promoted = p->pages_promoted;
	st->pages_demoted = p->pages_demoted;
	st->bytes_moved = p->bytes_moved;
	st->fail_enoent = p->fail_enoent;
	st->fail_ebusy = p->fail_ebusy;
	st->fail_enomem = p->fail_enomem;
	st->fail_other = p->fail_other;
	st->pages_backed_off = p->pages_backed_off;
	st->pages_single = p->pages_single;
	st->page_state_bytes = p->page_state_bytes;
	st->fast_hit_samples = p->fast_hit_samples;
	st->located_samples = p->located_samples;
	pthread_mutex_unlock(&e->smu);
	st->samples = atomic_load(&e->cnt.samples);
	st->samples_unmanaged = atomic_load(&e->cnt.unmanaged);
}

size_t ht_engine_top_ranges(struct ht_engine *e, struct ht_range_info *out, size_t max)
{
	if (!e || !out)
		return 0;
	pthread_mutex_lock(&e->mu);
	size_t n = 0, *order = malloc((e->v.n + 1) * sizeof(*order));
	if (order) {
		ht_classify_rank(&e->v, order);
		for (; n < max && n < e->v.n; n++) {
			const struct ht_range *r = &e->v.r[order[n]];
			uint64_t seen = r->fast_pages + r->slow_pages;
			out[n] = (struct ht_range_info){
				.start = r->start, .len = r->end - r->start, .density = ht_range_density(r),
				.count = r->count, .fast_share = seen ? (double)r->fast_pages / (double)seen : -1,
				.hint = r->hint, .origin = r->origin, .hot_bytes = r->hot_bytes,
			};
		}
		free(order);
	}
	pthread_mutex_unlock(&e->mu);
	return n;
}

/*
 * Sleeps until the timer (conf.epoch after the last epoch) or, once
 * ingest signals epoch_samples new samples, until epoch_min after the last
 * epoch. No polling: each wake-up is the timer, the early-epoch signal or stop.
 */
static void *epoch_thread(void *arg)
{
	struct ht_engine *e = arg;
	uint64_t period = e->conf.epoch * 1000, last = mono_ns();
	pthread_mutex_lock(&e->smu);
	while (!e->stopping) {
		uint64_t next = last + period, now = mono_ns();
		int early = e->conf.epoch_samples && atomic_load(&e->since) >= e->conf.epoch_samples;
		if (early && last + e->conf.epoch_min * 1000 < next)
			next = last + e->conf.epoch_min * 1000;
		if (now < next) {
			struct timespec ts = { (time_t)(next / 1000000000ull), (long)(next % 1000000000ull) };
			pthread_cond_timedwait(&e->cv, &e->smu, &ts);
			continue; /* re-evaluate: stop, the signal, the timer or a spurious wake-up */
		}
		pthread_mutex_unlock(&e->smu);
		ht_engine_epoch(e, now);
		last = mono_ns(); /* an epoch that ran long is not caught up in a burst */
		pthread_mutex_lock(&e->smu);
	}
	pthread_mutex_unlock(&e->smu);
	return NULL;
}

int ht_engine_start(struct ht_engine *e)
{
	if (!e)
		return -EINVAL;
	if (e->running)
		return 0;
	e->stopping = 0;
	e->x.paced = 1;
	if (!e->start_ns)
		e->start_ns = mono_ns();
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old); /* the thread inherits a fully blocked mask */
	int rc = pthread_create(&e->thr, NULL, epoch_thread, e);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc)
		return -rc;
	pthread_setname_np(e->thr, "ht-engine"); /* its CPU is told apart from the program's */
	e->running = 1;
	return 0;
}

void ht_engine_stop(struct ht_engine *e)
{
	if (!e || !e->running)
		return;
	pthread_mutex_lock(&e->smu);
	e->stopping = 1;
	pthread_cond_signal(&e->cv);
	pthread_mutex_unlock(&e->smu);
	pthread_join(e->thr, NULL);
	e->running = 0;
	e->x.paced = 0;
}
