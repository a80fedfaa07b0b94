/* exchange.c - scan placement, plan pairwise moves, run them. */
#include "exchange.h"
#include "hypertier.h"
#include "engine.h" /* enum ht_origin */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHUNK 4096 /* pages per query call (scratch buffer size) */

int ht_exchange_init(struct ht_exchange *x, const struct ht_conf *c, struct ht_actuator *act, int fast, int slow)
{
	memset(x, 0, sizeof(*x));
	x->conf = c;
	x->act = act;
	x->fast = fast;
	x->slow = slow;
	x->page = act->page_size ? act->page_size : 4096;
	x->backoff = ht_backoff_create(14, (uint64_t)c->backoff);
	x->buf = malloc(CHUNK * sizeof(*x->buf));
	x->nodes = malloc(CHUNK * sizeof(*x->nodes));
	if (!x->backoff || !x->buf || !x->nodes) {
		ht_exchange_fini(x);
		return -ENOMEM;
	}
	return 0;
}

void ht_exchange_fini(struct ht_exchange *x)
{
	ht_backoff_destroy(x->backoff);
	free(x->buf);
	free(x->nodes);
	x->backoff = NULL;
	x->buf = NULL;
	x->nodes = NULL;
}

void ht_xplan_free(struct ht_xplan *p)
{
	free(p->promo);
	free(p->demo);
	free(p->pd);
	free(p->dd);
	free(p->pv);
	free(p->dv);
	memset(p, 0, sizeof(*p));
}

/* Query [s, e) chunk by chunk; fn sees each page and its node (or -errno). */
typedef int (*page_fn)(void *arg, uintptr_t page, int node); /* nonzero: stop */

static void walk(struct ht_exchange *x, uintptr_t s, uintptr_t e, page_fn fn, void *arg)
{
	while (s < e) {
		size_t n = 0;
		for (uintptr_t a = s; a < e && n < CHUNK; a += x->page)
			x->buf[n++] = (void *)a;
		if (x->act->ops->query(x->act->priv, x->buf, n, x->nodes) < 0)
			for (size_t i = 0; i < n; i++)
				x->nodes[i] = -EFAULT;
		for (size_t i = 0; i < n; i++)
			if (fn(arg, (uintptr_t)x->buf[i], x->nodes[i]))
				return;
		s += n * x->page;
	}
}

struct tally { struct ht_exchange *x; uint64_t fast, slow; int cold; };

static int tally_fn(void *arg, uintptr_t page, int node)
{
	struct tally *t = arg;
	if (node == t->x->fast) {
		t->fast++;
		if (t->cold && ht_pages_zero(t->x->pg, page))
			ht_pages_cold_add(t->x->pg, page);
	} else if (node >= 0) {
		t->slow++;
	}
	return 0;
}

void ht_exchange_scan(struct ht_exchange *x, struct ht_ranges *v)
{
	uint64_t budget = x->conf->scan_max, done = 0;
	if (x->scan_cursor >= v->n)
		x->scan_cursor = 0;
	for (size_t k = 0; k < v->n && done < budget; k++) {
		struct ht_range *r = &v->r[x->scan_cursor];
		/* fast pages without samples in a range that expects them: the first to demote */
		struct tally t = { x, 0, 0, x->pg && r->hint == HT_AUTO && r->hot_bytes && ht_pages_dense(x->pg, r) };
		walk(x, r->start, r->end, tally_fn, &t);
		r->fast_pages = t.fast;
		r->slow_pages = t.slow;
		done += r->end - r->start;
		if (++x->scan_cursor >= v->n)
			x->scan_cursor = 0;
	}
	uint64_t fast = 0, slow = 0;
	for (size_t i = 0; i < v->n; i++) {
		fast += v->r[i].fast_pages;
		slow += v->r[i].slow_pages;
	}
	x->st.fast_used = fast * x->page;
	x->st.slow_used = slow * x->page;
}

/* Append page with its density d and the variance v of its per-page count (the move-worth gate). */
static int push(void ***arr, double **dens, double **var, size_t *n, size_t *cap, void *p, double d, double v)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 1024;
		void **a = realloc(*arr, c * sizeof(**arr));
		if (a)
			*arr = a;
		double *b = realloc(*dens, c * sizeof(**dens));
		if (b)
			*dens = b;
		double *w = realloc(*var, c * sizeof(**var));
		if (w)
			*var = w;
		if (!a || !b || !w)
			return -ENOMEM;
		*cap = c;
	}
	(*dens)[*n] = d;
	(*var)[*n] = v;
	(*arr)[(*n)++] = p;
	return 0;
}
#define PUSH_P(p, a, d, v) push(&(p)->promo, &(p)->pd, &(p)->pv, &(p)->np, &(p)->cap_p, (a), (d), (v))
#define PUSH_D(p, a, d, v) push(&(p)->demo, &(p)->dd, &(p)->dv, &(p)->nd, &(p)->cap_d, (a), (d), (v))

/* A page shares its range's Poisson noise: variance of its count = range count x (page / length)^2. */
static double range_var(const struct ht_range *r, double density, size_t page)
{
	return r && density > 0 && density < 1e299 ? density * (double)page * (double)page / (double)(r->end - r->start) : 0;
}

struct collect {
	struct ht_exchange *x;
	struct ht_xplan *p;
	int promo;        /* 1: collect non-fast pages; 0: fast pages */
	size_t limit;     /* stop when the list has this many */
	uint64_t epoch;
	double density;   /* of the range being walked */
	const struct ht_range *r; /* the range being walked (page layer checks), or NULL */
	const struct ht_ranges *v; /* with k, its index: demotions take a page's own believed density */
	size_t k;
};

static int collect_fn(void *arg, uintptr_t page, int node)
{
	struct collect *c = arg;
	struct ht_xplan *p = c->p;
	if (node < 0)
		return 0; /* not faulted in yet, or gone */
	int want = c->promo ? node != c->x->fast : node == c->x->fast;
	if (!want)
		return 0;
	struct ht_pages *pg = c->r ? c->x->pg : NULL;
	if (pg && (c->promo ? ht_pages_cold(pg, c->r, page) : ht_pages_hot(pg, page)))
		return 0; /* a cold page of a hot range stays slow, a hot page of a cold one fast */
	if (ht_backoff_skip(c->x->backoff, page, c->epoch)) {
		c->x->st.backed_off++;
		return 0;
	}
	double var = range_var(c->r, c->density, c->x->page), d = c->density;
	if (pg && !c->promo && c->v && d >= 0) { /* a single once hot is weighed as itself, never below its range */
		double own = ht_pages_density(pg, c->v, c->k, page);
		d = own > d ? own : d;
	}
	if (c->promo ? PUSH_P(p, (void *)page, d, var) : PUSH_D(p, (void *)page, d, var))
		return 1;
	return (c->promo ? p->np : p->nd) >= c->limit;
}

/* Slow-tier hot pages outside the hot part of their range, densest first: their node is queried now. */
static size_t single_promos(struct ht_exchange *x, const struct ht_ranges *v, uint64_t epoch, uintptr_t *pg,
			    double *dens, size_t max)
{
	const struct ht_pages *p = x->pg;
	size_t n = 0, *idx = malloc(CHUNK * sizeof(*idx));
	for (size_t i = 0; idx && i < p->ncand && n < max;) {
		size_t k = 0;
		for (; i < p->ncand && k < CHUNK; i++) {
			const struct ht_pg_cand *c = &p->cand[i];
			const struct ht_range *r = &v->r[c->range];
			if (c->hot && c->page >= r->start + r->hot_bytes) {
				idx[k] = i;
				x->buf[k++] = (void *)c->page;
			}
		}
		if (k && x->act->ops->query(x->act->priv, x->buf, k, x->nodes) < 0)
			k = 0;
		for (size_t j = 0; j < k && n < max; j++) {
			uintptr_t a = (uintptr_t)x->buf[j];
			if (x->nodes[j] < 0 || x->nodes[j] == x->fast)
				continue;
			if (ht_backoff_skip(x->backoff, a, epoch)) {
				x->st.backed_off++;
				continue;
			}
			pg[n] = a;
			dens[n++] = p->cand[idx[j]].density;
		}
	}
	free(idx);
	return n;
}

/* Promote the single pages at least as dense as d (all when d < 0) while the list has room. */
static void push_singles(struct ht_xplan *p, const uintptr_t *pg, const double *dens, size_t n, size_t *j, double d,
			 size_t limit, size_t *pos, size_t *pushed, double page)
{
	for (; *j < n && (d < 0 || dens[*j] >= d) && p->np < limit; (*j)++)
		if (!PUSH_P(p, (void *)pg[*j], dens[*j], dens[*j] * page)) /* a page alone: variance = its count */
			pos[(*pushed)++] = p->np - 1; /* where it stands: counted if the pairing keeps it */
}

/* Fast pages the scan found cold inside the hot part of a dense range: demoted before any range's. */
static void cold_demos(struct ht_exchange *x, const struct ht_ranges *v, uint64_t epoch, struct ht_xplan *p,
		       size_t limit)
{
	const struct ht_pages *pg = x->pg;
	for (size_t i = 0; i < pg->ncold && p->nd < limit; i++) {
		uintptr_t a = pg->cold[i];
		long k = ht_ranges_find(v, a);
		if (k < 0 || v->r[k].hint != HT_AUTO || a >= v->r[k].start + v->r[k].hot_bytes)
			continue; /* the range walk below has the rest */
		if (ht_backoff_skip(x->backoff, a, epoch)) {
			x->st.backed_off++;
			continue;
		}
		if (PUSH_D(p, (void *)a, 0, 0))
			return;
	}
}

struct demo { void *page; double d, v; };

static int by_density(const void *a, const void *b)
{
	const struct demo *x = a, *y = b;
	return x->d < y->d ? -1 : x->d > y->d;
}

/* Demotions after the pinned ones, coldest first (pages carry their own densities); no memory: left as walked. */
static void sort_demos(struct ht_xplan *p, size_t from)
{
	size_t n = p->nd - from;
	struct demo *t = n > 1 ? malloc(n * sizeof(*t)) : NULL;
	if (!t)
		return;
	for (size_t i = 0; i < n; i++)
		t[i] = (struct demo){ p->demo[from + i], p->dd[from + i], p->dv[from + i] };
	qsort(t, n, sizeof(*t), by_density);
	for (size_t i = 0; i < n; i++) {
		p->demo[from + i] = t[i].page;
		p->dd[from + i] = t[i].d;
		p->dv[from + i] = t[i].v;
	}
	free(t);
}

int ht_exchange_plan(struct ht_exchange *x, struct ht_ranges *v, const size_t *order, uint64_t budget,
		     uint64_t allowance, uint64_t epoch, struct ht_xplan *p)
{
	int64_t A = (int64_t)(allowance / x->page);
	p->np = p->nd = 0;
	p->budget_pages = (int64_t)(budget / x->page);
	p->fast_pages = (int64_t)(x->st.fast_used / x->page);
	int64_t room = p->budget_pages - p->fast_pages;
	struct collect c = { x, p, 0, 0, epoch, 0, NULL, NULL, 0 };

	/* PIN_SLOW pages on the fast tier go first, whatever the room. */
	for (size_t k = v->n; k-- > 0 && (int64_t)p->nd < A;) {
		struct ht_range *r = &v->r[order[k]];
		if (r->hint != HT_PIN_SLOW || !r->fast_pages)
			continue;
		c.promo = 0;
		c.limit = (size_t)A;
		walk(x, r->start, r->end, collect_fn, &c);
	}
	size_t pinned = p->nd;
	A -= (int64_t)pinned;
	room += (int64_t)pinned;

	/* Promotion: slow pages of the hot set, hottest first; pairs must fit in A. */
	int64_t pmax = room >= A ? A : (A + room) / 2;
	/* single hot pages (page layer) merge into the walk by density */
	size_t ns = 0, js = 0, pushed = 0, *spos = NULL;
	uintptr_t *spg = NULL;
	double *sd = NULL;
	if (pmax > 0 && x->pg && x->pg->ncand) {
		size_t m = x->pg->ncand < (size_t)pmax ? x->pg->ncand : (size_t)pmax;
		spg = malloc(m * sizeof(*spg));
		sd = malloc(m * sizeof(*sd));
		spos = malloc(m * sizeof(*spos));
		if (spg && sd && spos)
			ns = single_promos(x, v, epoch, spg, sd, m);
	}
	if (pmax > 0) {
		c.promo = 1;
		c.limit = (size_t)pmax;
		for (size_t k = 0; k < v->n && (int64_t)p->np < pmax; k++) {
			struct ht_range *r = &v->r[order[k]];
			if (!r->hot_bytes || r->hint == HT_PIN_SLOW)
				continue;
			c.density = r->hint == HT_PIN_FAST || r->hint == HT_HOT ? 1e300 : ht_range_density(r);
			push_singles(p, spg, sd, ns, &js, c.density, c.limit, spos, &pushed, (double)x->page);
			c.r = r;
			walk(x, r->start, r->start + r->hot_bytes, collect_fn, &c);
		}
		push_singles(p, spg, sd, ns, &js, -1, c.limit, spos, &pushed, (double)x->page);
	}
	/*
	 * Demotion: fast pages outside the hot set, coldest first, as many as
	 * needed. What is over the budget (a quota cut, a balloon) goes whatever
	 * the allowance: the quota is a limit, the rate only paces the exchange.
	 */
	int64_t need = (int64_t)p->np - room, cap = A - (int64_t)p->np;
	if (cap < -room)
		cap = -room;
	if (need > cap)
		need = cap;
	if (need > 0) {
		c.promo = 0;
		c.limit = pinned + (size_t)need;
		if (x->pg)
			cold_demos(x, v, epoch, p, c.limit);
		for (size_t k = v->n; k-- > 0 && (int64_t)(p->nd - pinned) < need;) {
			struct ht_range *r = &v->r[order[k]];
			if (r->hint == HT_PIN_FAST || r->hint == HT_PIN_SLOW || r->hot_bytes >= r->end - r->start)
				continue;
			if (!r->fast_pages)
				continue;
			c.density = r->hint == HT_COLD ? -1 : ht_range_density(r);
			c.r = r;
			c.v = v;
			c.k = order[k];
			walk(x, r->start + r->hot_bytes, r->end, collect_fn, &c);
		}
		sort_demos(p, pinned);
	}
	/*
	 * Pair up: promotions into free room need no partner; an excess over
	 * the budget is demoted regardless; beyond that promotion i pairs with
	 * the i-th coldest demotion, and only while the promoted one is clearly
	 * denser (split_ratio, as for splits), so pages of about equally cold
	 * ranges are not swapped back and forth on sampling noise.
	 */
	int64_t free_room = room > 0 ? room : 0, excess = room < 0 ? -room : 0;
	int64_t have = (int64_t)(p->nd - pinned);
	if (excess > have)
		excess = have;
	int64_t pairs = have - excess, k = 0, nfree = 0;
	double clearly = 1.0 + x->conf->split_ratio / 100.0, pg = (double)x->page;
	/* promotions into free room: each must pay for its one move (worth.h); the list is densest first */
	while (nfree < free_room && nfree < (int64_t)p->np &&
	       (p->pd[nfree] >= 1e299 || ht_worth_pair(&x->worth, p->pd[nfree] * pg, p->pv[nfree], -1, 0)))
		nfree++;
	if (nfree < free_room)
		pairs = 0; /* a promotion not worth a free slot is not worth a swap */
	while (k < pairs && free_room + k < (int64_t)p->np &&
	       p->dd[pinned + excess + k] * clearly < p->pd[free_room + k] &&
	       (p->pd[free_room + k] >= 1e299 ||
		ht_worth_pair(&x->worth, p->pd[free_room + k] * pg, p->pv[free_room + k],
			      p->dd[pinned + excess + k] > 0 ? p->dd[pinned + excess + k] * pg : 0, p->dv[pinned + excess + k])))
		k++;
	if ((int64_t)p->np > nfree + k)
		p->np = (size_t)(nfree + k);
	p->nd = pinned + (size_t)(excess + k);
	for (size_t i = 0; i < pushed; i++)
		if (spos[i] < p->np) {
			x->st.single++;
			ht_pages_watch(x->pg, (uintptr_t)p->promo[spos[i]]);
		}
	free(spg);
	free(sd);
	free(spos);
	return 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Move n pages to node; ENOMEM on the call: retry with smaller batches. Returns pages moved. */
static size_t move_some(struct ht_exchange *x, void **pages, size_t n, int node, uint64_t epoch,
			struct ht_xstats *d, int *status)
{
	size_t moved = 0, i = 0, step = n;
	while (i < n) {
		size_t k = n - i < step ? n - i : step;
		int rc = x->act->ops->move(x->act->priv, pages + i, k, node, status);
		if (rc == -ENOMEM && k > 1) {
			step = k / 2;
			continue;
		}
		for (size_t j = 0; j < k; j++) {
			int s = rc < 0 ? rc : status[j];
			uintptr_t pg = (uintptr_t)pages[i + j];
			if (s == node) {
				moved++;
				ht_backoff_ok(x->backoff, pg);
				continue;
			}
			if (s == -ENOENT || s == -EFAULT) {
				d->fail_enoent++; /* unmapped meanwhile: nothing to retry */
				continue;
			}
			if (s == -EBUSY)
				d->fail_ebusy++;
			else if (s == -ENOMEM)
				d->fail_enomem++;
			else
				d->fail_other++;
			ht_backoff_fail(x->backoff, pg, epoch);
		}
		i += k;
	}
	return moved;
}

long ht_exchange_run(struct ht_exchange *x, struct ht_xplan *p, uint64_t epoch, struct ht_xstats *d)
{
	size_t batch = x->conf->batch / x->page;
	if (!batch)
		batch = 1;
	int *status = malloc(batch * sizeof(*status));
	if (!status)
		return -ENOMEM;
	uint64_t rate = x->conf->migrate_rate, t0 = now_ns(), bytes = 0;
	int64_t fast = p->fast_pages;
	size_t di = 0, pi = 0;
	long total = 0;
	while (di < p->nd || pi < p->np) {
		size_t dn = p->nd - di < batch ? p->nd - di : batch;
		size_t dk = dn && x->keep ? x->keep(x->keep_arg, p->demo + di, dn) : dn;
		size_t dm = dk ? move_some(x, p->demo + di, dk, x->slow, epoch, d, status) : 0;
		di += dn;
		fast -= (int64_t)dm;
		d->demoted += dm;
		int64_t fit = p->budget_pages - fast;
		size_t pn = p->np - pi < batch ? p->np - pi : batch;
		if ((int64_t)pn > fit)
			pn = fit > 0 ? (size_t)fit : 0;
		size_t pk = pn && x->keep ? x->keep(x->keep_arg, p->promo + pi, pn) : pn;
		size_t pm = pk ? move_some(x, p->promo + pi, pk, x->fast, epoch, d, status) : 0;
		pi += pn;
		fast += (int64_t)pm;
		d->promoted += pm;
		total += (long)(dm + pm);
		bytes += (dm + pm) * x->page;
		if (!dn && !pn)
			break; /* nothing left that fits */
		if (x->paced && rate) { /* hold the rate: sleep off what we ran ahead */
			uint64_t due = t0 + bytes * 1000000000ull / rate, t = now_ns();
			if (due > t) {
				struct timespec ts = { (time_t)((due - t) / 1000000000ull), (long)((due - t) % 1000000000ull) };
				nanosleep(&ts, NULL);
			}
		}
	}
	d->bytes_moved += bytes;
	free(status);
	return total;
}

void ht_exchange_locate(struct ht_exchange *x, const uintptr_t *addrs, size_t n, uint64_t *fast, uint64_t *located)
{
	size_t k = 0;
	for (size_t i = 0; i < n && k < CHUNK; i++)
		if (addrs[i])
			x->buf[k++] = (void *)(addrs[i] & ~(uintptr_t)(x->page - 1));
	if (!k || x->act->ops->query(x->act->priv, x->buf, k, x->nodes) < 0)
		return;
	for (size_t i = 0; i < k; i++) {
		if (x->nodes[i] < 0)
			continue;
		(*located)++;
		*fast += x->nodes[i] == x->fast;
	}
}

void ht_exchange_policy(struct ht_exchange *x, struct ht_ranges *v, int full)
{
	if (!x->conf->set_policy || !x->act->ops->set_policy)
		return;
	for (size_t i = 0; i < v->n; i++) {
		struct ht_range *r = &v->r[i];
		uint64_t len = r->end - r->start;
		int want;
		if (r->hint == HT_PIN_FAST || r->hot_bytes == len)
			want = x->fast;
		else if (r->hint == HT_PIN_SLOW || r->hint == HT_COLD)
			want = x->slow;
		else if (r->hot_bytes == 0 && r->origin == HT_ORIGIN_EXTENT && r->count == 0)
			continue; /* no samples yet: the allocator's birth placement stands */
		else if (r->hot_bytes == 0)
			want = full ? x->slow : -1; /* first touch stays local while fast has room */
		else
			continue; /* partly hot: leave it */
		if (r->policy == want)
			continue;
		if (x->act->ops->set_policy(x->act->priv, r->start, len, want) == 0)
			r->policy = (int16_t)want;
	}
}
