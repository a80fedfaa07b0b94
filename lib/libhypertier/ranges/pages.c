/*
 * pages.c - hotness below range granularity, bounded.
 *
 * Ranges stop at min_range, so one hot page inside a cold 2 MiB range (or a
 * cold page inside a hot one) is invisible to them. Ranges stay the primary
 * structure; this layer only looks where they cannot see:
 *
 *  - A decayed count-min sketch keyed by page number (HT_PG_ROWS rows of
 *    16-bit saturating cells, one per table entry, multiply-shift hashing), fed with every managed
 *    sample. It never under-counts, so a page whose estimate is 0 really
 *    has no (decayed) samples: that is how a cold page
 *    inside a dense range is recognised (ht_pages_cold), and only where the
 *    range expects page_cold_expect samples per page, so that a zero is
 *    significant (Poisson: P(0) = e^-3 = 5% at the default 3). Collisions
 *    can only hide a cold page (a sketch too full finds none), never
 *    invent one.
 *  - A candidate table (buckets of HT_PG_WAYS one-word entries, a cache
 *    line each): a page of a range that is not already wholly hot enters it
 *    when its sketch estimate reaches page_hot (default 1: its first
 *    sample); from then on the entry keeps the page's exact decayed count,
 *    in fixed point. Deciding on the exact count, not the estimate, keeps
 *    sketch collisions from promoting anything. A full bucket gives the slot
 *    of an entry worth less than one sample to the newcomer, which brings
 *    one.
 *  - Memory. Where the hot pages are scattered finer than a range, each
 *    draws about one sample per decay window of a fixed decay: too few to
 *    tell it from a page never sampled. The table's counts therefore
 *    remember a number of samples, not of epochs: they decay each epoch by
 *    1 - S / (page_memory x entries), S the samples of that epoch, so the
 *    table as a whole holds about page_memory samples per entry (a page
 *    with 2 samples then stands apart from the mean page; Memtis's cooling
 *    every 2 M samples is the same idea). page_decay stays the fastest
 *    decay (and the sketch's), so a dense stream does not shorten the
 *    memory below the old one.
 *  - Which pages are hot, per epoch (ht_pages_select). Per range, the mean
 *    count mu over its resident pages and the variance of the counts give
 *    how much of a page's count is the page and how much Poisson noise
 *    (credibility, Buhlmann): Z = tau^2 / (tau^2 + noise), tau^2 the
 *    variance beyond the noise, the noise taken as a plain Poisson count
 *    of mean mu (an over-estimate for decayed counts, so Z errs low). A
 *    page is believed to have its range's density moved towards its own
 *    count by Z (ht_pages_density). Where every page is equally hot (the
 *    counts are noise) Z is 0 and nothing is believed apart from its range:
 *    nothing churns. The excess must be beyond split_sigma standard
 *    deviations of the variance's own noise. Where more pages draw samples
 *    than the table holds, an absent page is not known to be cold, so the
 *    zeros count only in buckets that could still take a newcomer; the
 *    tracked pages alone are the other view (pages_select takes the more
 *    credible). A page is a candidate when it is believed denser than its
 *    range; the threshold p->hot is the lowest bin of a quarter-octave
 *    histogram of the candidates' counts whose cumulative (from the top)
 *    still fits the room the wholly hot ranges leave and the list (as
 *    Memtis picks its hot bin), so the listed pages fill the room and no
 *    more; the range's own pages fill what a bin too big to fit leaves. The exchange (plan/exchange.c) pairs a promoted single page with
 *    a demoted page only when the single's believed density clearly exceeds
 *    the demoted page's range's (split_ratio): noise does not swap pages.
 *  - Checked out of sample. The spread test above can be fooled by the
 *    table's own mechanics: a page's count grows with the time it has been
 *    tracked, and entries without a second sample are the ones replaced, so
 *    on uniform access the tracked counts are more spread than Poisson and
 *    noise passes for hotness. So every single promotion is watched after
 *    the move (a ring in the same allocation): the samples it draws from
 *    then on are a fresh draw of its rate, whatever chose it. Against them
 *    stands what the average page of its range drew meanwhile (the range's
 *    hits per resident page). While the watched pages drew significantly
 *    less than 1 + page_gain/100 times that (split_sigma standard
 *    deviations of the Poisson count expected at that ratio; 1.25: real
 *    traces' singles draw 1.25-1.5x, and at split_ratio's 2x the check shut
 *    them out, 1.039x -> 1.020x on redis), single promotions are cut
 *    to page_probe per epoch, the densest, which keep the measurement
 *    going; when the evidence (decayed by page_decay) no longer says so,
 *    they open again. Pages that left the table stop counting from the
 *    last look on (a stopping time: no bias for either side).
 *
 * A per-range page histogram (Memtis) was the alternative: exact, but its
 * memory follows the pages of the mixed ranges, not a fixed bound, and the
 * ranges that need it are the ones the classifier has not split.
 *
 * Cost: ingest adds HT_PG_ROWS relaxed load/store increments (plain moves,
 * no locked instruction: the sampler is one thread; two concurrent ingest
 * calls may lose an increment, never add one) and, for pages of tracked
 * ranges at page_hot, one bucket probe. The epoch walks the table twice
 * (select) and the sketch and table once (decay): all bounded by the state
 * size, not by the managed pages.
 *
 * Bound: the sketch, the table and the epoch's candidate and cold lists are
 * one allocation of at most min(page_state, 0.2% of the managed bytes);
 * the size follows the managed bytes in eighth-octave steps. A new one replaces
 * the old at an epoch (counts restart; the counter's grace period waits
 * out any ingest still on the old one before it is freed).
 */
#include "pages.h"
#include "hypertier.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MIN_BUCKETS 8 /* a smaller table is not worth having */
#define MAX_BUCKETS (1ull << 31)
#define BUCKET_MUL 0xd6e8feb86659fd93ull
/*
 * Shares of the one allocation, per table bucket (resolutions, not
 * policies): 22 bytes per tracked page. Tracked pages are what the bound
 * buys (zipf-scrambled 1/3: 0.2% -> 61.6% fast hits, 0.4% -> 62.7%), so
 * the sketch, which only needs to find zeros, has one cell per entry
 * (two: 61.2%), and the hot list holds half the table (a quarter: 60.0%).
 */
#define CELLS_PER_BUCKET HT_PG_WAYS
#define CANDS_PER_BUCKET 2
#define COLDS_PER_BUCKET 0.5
#define WATCH_PER_BUCKET 0.25

void ht_pages_init(struct ht_pages *p, const struct ht_conf *c, size_t page)
{
	memset(p, 0, sizeof(*p));
	atomic_init(&p->tab, NULL);
	p->thresh = (uint32_t)c->page_hot;
	p->hot = UINT32_MAX;
	p->cold_expect = (double)c->page_cold_expect;
	p->sigma = (double)c->split_sigma;
	p->decay = p->tdecay = c->page_decay / 100.0;
	p->memory = (double)c->page_memory;
	p->cap = c->page_state;
	p->gain = 1.0 + c->page_gain / 100.0;
	p->probe = c->page_probe;
	p->page_shift = (unsigned)__builtin_ctzl(page ? page : 4096);
}

void ht_pages_fini(struct ht_pages *p)
{
	free(atomic_exchange(&p->tab, NULL));
	free(p->rmu);
	free(p->rz);
	p->rmu = p->rz = NULL;
	p->nr = p->cap_r = 0;
	p->cand = NULL;
	p->cold = NULL;
	p->ncand = p->ncold = 0;
}

/* Everything a table of nb buckets takes. */
static size_t tab_bytes(size_t nb)
{
	return sizeof(struct ht_pg_tab) + HT_PG_ROWS * (size_t)(CELLS_PER_BUCKET * nb) * sizeof(uint16_t) +
	       HT_PG_WAYS * nb * sizeof(uint64_t) + (size_t)(CANDS_PER_BUCKET * nb) * sizeof(struct ht_pg_cand) +
	       (size_t)(COLDS_PER_BUCKET * nb) * sizeof(uintptr_t) + (size_t)(WATCH_PER_BUCKET * nb) * sizeof(struct ht_pg_watch);
}

uint64_t ht_pages_limit(const struct ht_pages *p, uint64_t managed)
{
	uint64_t share = managed / 500; /* 0.2% */
	return p->cap < share ? p->cap : share;
}

static struct ht_pg_tab *tab_new(size_t nb)
{
	size_t n = tab_bytes(nb);
	struct ht_pg_tab *t = calloc(1, n); /* zero pages: untouched cells cost nothing until used */
	if (!t)
		return NULL;
	t->nb = nb;
	t->width = (size_t)(CELLS_PER_BUCKET * nb);
	t->maxcand = (size_t)(CANDS_PER_BUCKET * nb);
	t->maxcold = (size_t)(COLDS_PER_BUCKET * nb);
	t->nwatch = (size_t)(WATCH_PER_BUCKET * nb);
	t->bytes = n;
	t->cell = (_Atomic uint16_t *)(t + 1);
	t->ent = (_Atomic uint64_t *)(t->cell + HT_PG_ROWS * t->width); /* an even number of 2-byte cells per row: 8-byte aligned */
	t->cand = (struct ht_pg_cand *)(t->ent + HT_PG_WAYS * nb);
	t->cold = (uintptr_t *)(t->cand + t->maxcand);
	t->watch = (struct ht_pg_watch *)(t->cold + t->maxcold);
	return t;
}

/* Multiply-shift hashing onto [0, n): the product's high bits, scaled (n need not be a power of two). */
static inline size_t scale(uint64_t h, size_t n) { return (size_t)(((unsigned __int128)h * n) >> 64); }

static inline _Atomic uint16_t *cell(const struct ht_pg_tab *t, uint64_t pn, int row)
{
	return &t->cell[(size_t)row * t->width + scale(ht_pg_hash(pn, row), t->width)];
}

static inline _Atomic uint64_t *bucket(const struct ht_pg_tab *t, uint64_t pn)
{
	return &t->ent[scale(pn * BUCKET_MUL, t->nb) * HT_PG_WAYS];
}

static inline uint64_t key_of(uint64_t pn) { return ((pn + 1) & ((1ull << (64 - HT_PG_CBITS)) - 1)) << HT_PG_CBITS; }

static uint32_t estimate(const struct ht_pg_tab *t, uint64_t pn)
{
	uint32_t est = UINT32_MAX;
	for (int row = 0; row < HT_PG_ROWS; row++) {
		uint32_t v = atomic_load_explicit(cell(t, pn, row), memory_order_relaxed);
		est = v < est ? v : est;
	}
	return est;
}

void ht_pages_count(struct ht_pages *p, struct ht_pg_tab *t, uintptr_t addr, int track)
{
	uint64_t pn = addr >> p->page_shift;
	uint32_t est = UINT32_MAX;
	for (int row = 0; row < HT_PG_ROWS; row++) {
		_Atomic uint16_t *c = cell(t, pn, row);
		uint32_t v = atomic_load_explicit(c, memory_order_relaxed) + 1u;
		if (v <= UINT16_MAX) /* saturate: the exact count in the table takes over above page_hot */
			atomic_store_explicit(c, (uint16_t)v, memory_order_relaxed);
		est = v < est ? v : est;
	}
	if (!track || est < p->thresh)
		return;
	_Atomic uint64_t *b = bucket(t, pn);
	uint64_t key = key_of(pn);
	int free_way = -1, low_way = -1;
	uint64_t low = HT_PG_ONE;
	for (int w = 0; w < HT_PG_WAYS; w++) {
		uint64_t e = atomic_load_explicit(&b[w], memory_order_relaxed);
		if ((e & ~HT_PG_CMASK) == key) {
			if ((e & HT_PG_CMASK) + HT_PG_ONE <= HT_PG_CMASK)
				atomic_fetch_add_explicit(&b[w], HT_PG_ONE, memory_order_relaxed);
			return;
		}
		if (free_way < 0 && !(e & ~HT_PG_CMASK))
			free_way = w;
		else if ((e & HT_PG_CMASK) < low) /* worth less than the one sample a newcomer brings */
			low = e & HT_PG_CMASK, low_way = w;
	}
	int way = free_way >= 0 ? free_way : low_way;
	if (way >= 0) {
		uint64_t e = atomic_load_explicit(&b[way], memory_order_relaxed);
		if ((!(e & ~HT_PG_CMASK) || (e & HT_PG_CMASK) < HT_PG_ONE) &&
		    atomic_compare_exchange_strong_explicit(&b[way], &e, key | HT_PG_ONE, memory_order_relaxed,
							    memory_order_relaxed))
			return;
	}
	atomic_fetch_add_explicit(&p->dropped, 1, memory_order_relaxed);
}

/*
 * Most buckets that fit the limit, 0 when too few do. Sizes step by an
 * eighth of an octave (8, 9, ..., 15, 16, 18, ...: at most 12% of the limit
 * unused), so that the table is not rebuilt for every range added.
 */
static size_t fit_buckets(uint64_t limit)
{
	size_t b = 0;
	for (size_t k = MIN_BUCKETS; k <= MAX_BUCKETS; k *= 2)
		for (size_t j = 8; j < 16; j++) {
			size_t nb = k / 8 * j;
			if (tab_bytes(nb) > limit)
				return b;
			b = nb;
		}
	return b;
}

static int cmp_cand(const void *x, const void *y)
{
	const struct ht_pg_cand *a = x, *b = y;
	if (a->density != b->density)
		return a->density > b->density ? -1 : 1;
	return a->page < b->page ? -1 : a->page > b->page;
}

/* Expected samples per page of r at its short-memory density (the sketch forgets as fast). */
static double per_page(const struct ht_pages *p, const struct ht_range *r)
{
	return ht_range_recent_density(r) * (double)(1ull << p->page_shift);
}

void ht_pages_epoch(struct ht_pages *p, const struct ht_ranges *v, void (*grace)(void *), void *arg)
{
	uint64_t managed = 0;
	for (size_t i = 0; i < v->n; i++)
		managed += v->r[i].end - v->r[i].start;
	uint64_t limit = ht_pages_limit(p, managed);
	size_t nb = fit_buckets(limit);
	struct ht_pg_tab *t = atomic_load(&p->tab);
	/* shrink as soon as the bound says so; grow only with a quarter to spare, so that managed
	 * bytes wavering at a size boundary do not restart the counts every epoch */
	if (t && nb > t->nb)
		nb = fit_buckets(limit / 4 * 3) > t->nb ? fit_buckets(limit / 4 * 3) : t->nb;
	if ((t ? t->nb : 0) != nb) {
		struct ht_pg_tab *n = nb ? tab_new(nb) : NULL;
		struct ht_pg_tab *old = atomic_exchange(&p->tab, n);
		grace(arg);
		free(old);
		t = n;
		p->mass = 0;
		p->hot = UINT32_MAX;
		p->whead = 0; /* the watched pages went with the old counts; the evidence stays */
	}
	p->ncand = p->ncold = 0;
	p->cand = t ? t->cand : NULL;
	p->cold = t ? t->cold : NULL;
}

/* Quarter-octave bin of a fixed-point count (0 for 0). */
#define NBIN (4 * (HT_PG_CBITS + 1))
static unsigned qbin(uint64_t c)
{
	if (!c)
		return 0;
	unsigned lg = 63u - (unsigned)__builtin_clzll(c);
	unsigned f = lg >= 2 ? (unsigned)(c >> (lg - 2)) & 3 : (unsigned)(c << (2 - lg)) & 3;
	return 4 * lg + f;
}
/* The least count in bin b. */
static uint64_t qbin_low(unsigned b)
{
	unsigned lg = b / 4, f = b % 4;
	return lg >= 2 ? (uint64_t)(4 + f) << (lg - 2) : (uint64_t)1 << lg;
}

/* The range's pages are listed on their own: no hint decides and it is not hot as a whole. */
static int eligible(const struct ht_range *r) { return r->hint == HT_AUTO && r->hot_bytes < r->end - r->start; }

static uint64_t resident_pages(const struct ht_pages *p, const struct ht_range *r)
{
	uint64_t n = r->fast_pages + r->slow_pages, len = (r->end - r->start) >> p->page_shift;
	return n && n < len ? n : len;
}

static double believed(const struct ht_pages *p, const struct ht_range *r, size_t k, uint64_t c)
{
	double rho = ht_range_density(r);
	if (k >= p->nr || p->rz[k] <= 0 || p->rmu[k] <= 0)
		return rho;
	return rho * (1.0 + p->rz[k] * ((double)c / p->rmu[k] - 1.0));
}

/*
 * Credibility of a page's own count among n pages of mean mu and variance
 * var (fixed point): the share of the variance beyond Poisson noise (taken
 * as mean mu samples: an over-estimate for decayed counts), 0 unless the
 * excess is beyond sigma standard deviations of the variance's own noise
 * (chi-square: relative sd sqrt(2 / (n - 1))).
 */
static double cred(double mu, double var, double n, double sigma)
{
	double noise = mu * HT_PG_ONE; /* Poisson: variance = mean, in samples; fixed point scales it by one sample */
	if (n < 2 || mu <= 0 || var <= noise * (1.0 + sigma * sqrt(2.0 / (n - 1.0))))
		return 0;
	return (var - noise) / var;
}

void ht_pages_select(struct ht_pages *p, const struct ht_ranges *v, uint64_t room)
{
	struct ht_pg_tab *t = atomic_load(&p->tab);
	p->ncand = 0;
	p->hot = UINT32_MAX;
	p->nr = 0;
	if (!t || !v->n)
		return;
	if (p->cap_r < v->n) {
		double *a = realloc(p->rmu, v->n * sizeof(*a)), *b = a ? realloc(p->rz, v->n * sizeof(*b)) : NULL;
		if (a)
			p->rmu = a;
		if (!b)
			return;
		p->rz = b;
		p->cap_r = v->n;
	}
	size_t nent = HT_PG_WAYS * t->nb, maxc = t->maxcand;
	uint32_t *rk = malloc(nent * sizeof(*rk)); /* each entry's range, or UINT32_MAX */
	if (!rk)
		return;
	/*
	 * Per range, two views of the counts. All pages of the buckets that could
	 * still take a newcomer (a free slot or one worth less than a sample):
	 * there a page with samples is in the table, so an absent page really
	 * has none, and the zeros count. And the tracked pages alone, whose
	 * truncation at one sample only lowers their spread (the view left when
	 * every bucket is full, as when more pages draw samples than the table
	 * holds: absent pages are then not known to be cold).
	 */
	size_t nb = nent / HT_PG_WAYS, open = 0;
	double *acc = calloc(5 * v->n, sizeof(*acc)); /* per range: open sum, open sum^2, tracked n, sum, sum^2 */
	if (!acc) {
		free(rk);
		return;
	}
	for (size_t bk = 0; bk < nb; bk++) {
		int full = 1;
		for (int w = 0; w < HT_PG_WAYS; w++)
			full &= (atomic_load_explicit(&t->ent[bk * HT_PG_WAYS + w], memory_order_relaxed) & HT_PG_CMASK) >= HT_PG_ONE;
		open += !full;
		for (int w = 0; w < HT_PG_WAYS; w++) {
			size_t i = bk * HT_PG_WAYS + (size_t)w;
			uint64_t e = atomic_load_explicit(&t->ent[i], memory_order_relaxed);
			double c = (double)(e & HT_PG_CMASK);
			rk[i] = UINT32_MAX;
			if (!(e >> HT_PG_CBITS) || c <= 0)
				continue;
			long k = ht_ranges_find(v, (uintptr_t)(((e >> HT_PG_CBITS) - 1) << p->page_shift));
			if (k < 0 || !eligible(&v->r[k]))
				continue;
			rk[i] = (uint32_t)k;
			double *a = acc + 5 * (size_t)k;
			if (!full)
				a[0] += c, a[1] += c * c;
			a[2] += 1, a[3] += c, a[4] += c * c;
		}
	}
	for (size_t k = 0; k < v->n; k++) {
		const double *a = acc + 5 * k;
		double n = (double)resident_pages(p, &v->r[k]), no = n * (double)open / (double)nb;
		double mu = no >= 2 ? a[0] / no : 0, zo = cred(mu, a[1] / (no >= 2 ? no : 1) - mu * mu, no, p->sigma);
		double mt = a[2] >= 2 ? a[3] / a[2] : 0, zt = cred(mt, a[4] / (a[2] >= 2 ? a[2] : 1) - mt * mt, a[2], p->sigma);
		p->rmu[k] = zo >= zt ? mu : mt;
		p->rz[k] = zo >= zt ? zo : zt;
	}
	free(acc);
	p->nr = v->n;
	/* the threshold: the lowest bin whose cumulative from the top still fits the room and the list */
	uint64_t hist[NBIN] = { 0 }, limit = room >> p->page_shift;
	if (limit > maxc)
		limit = maxc;
	for (size_t i = 0; i < nent; i++) {
		if (rk[i] == UINT32_MAX)
			continue;
		uint64_t c = atomic_load_explicit(&t->ent[i], memory_order_relaxed) & HT_PG_CMASK;
		if (p->rz[rk[i]] > 0 && (double)c > p->rmu[rk[i]]) /* believed denser than its range */
			hist[qbin(c)]++;
		else
			rk[i] = UINT32_MAX;
	}
	uint64_t cum = 0;
	unsigned thr = NBIN;
	for (unsigned b = NBIN; b-- > 1;) {
		if (cum + hist[b] > limit)
			break;
		cum += hist[b];
		thr = b;
	}
	if (thr < NBIN && cum > 0) /* nothing believed hot: no threshold (bin 1 would shelter every tracked page) */
		p->hot = (uint32_t)qbin_low(thr);
	for (size_t i = 0; i < nent && p->ncand < maxc; i++) {
		uint64_t e = atomic_load_explicit(&t->ent[i], memory_order_relaxed), c = e & HT_PG_CMASK;
		if (rk[i] == UINT32_MAX || c < p->hot)
			continue;
		uintptr_t page = (uintptr_t)(((e >> HT_PG_CBITS) - 1) << p->page_shift);
		double d = believed(p, &v->r[rk[i]], rk[i], c);
		p->cand[p->ncand++] = (struct ht_pg_cand){ page, (float)d, rk[i], 0 };
	}
	free(rk);
	qsort(p->cand, p->ncand, sizeof(*p->cand), cmp_cand);
	if (p->closed && p->ncand > p->probe)
		p->ncand = (size_t)p->probe; /* the densest keep measuring */
}

static uint64_t count_of(const struct ht_pg_tab *t, uint64_t pn)
{
	uint64_t key = key_of(pn);
	_Atomic uint64_t *b = bucket(t, pn);
	for (int w = 0; w < HT_PG_WAYS; w++) {
		uint64_t e = atomic_load_explicit(&b[w], memory_order_relaxed);
		if ((e & ~HT_PG_CMASK) == key)
			return e & HT_PG_CMASK;
	}
	return 0;
}

double ht_pages_density(const struct ht_pages *p, const struct ht_ranges *v, size_t k, uintptr_t addr)
{
	struct ht_pg_tab *t = atomic_load_explicit(&p->tab, memory_order_relaxed);
	const struct ht_range *r = &v->r[k];
	if (!t || k >= p->nr || p->rz[k] <= 0)
		return ht_range_density(r);
	return believed(p, r, k, count_of(t, addr >> p->page_shift));
}

void ht_pages_decay(struct ht_pages *p)
{
	struct ht_pg_tab *t = atomic_load(&p->tab);
	if (!t)
		return;
	size_t ncell = HT_PG_ROWS * t->width, nent = HT_PG_WAYS * t->nb, w = t->width;
	uint64_t before = 0, after = 0;
	for (size_t i = 0; i < ncell; i++) {
		uint16_t c = atomic_load_explicit(&t->cell[i], memory_order_relaxed);
		if (!c)
			continue;
		uint16_t nc = (uint16_t)(c * p->decay);
		atomic_fetch_sub_explicit(&t->cell[i], (uint16_t)(c - nc), memory_order_relaxed); /* keeps a racing increment */
		if (i < w) /* row 0 holds every sample once */
			before += c, after += nc;
	}
	/* the epoch's samples: what row 0 gained since the last decay */
	double s = before > p->mass ? (double)(before - p->mass) : 0, d = p->decay;
	p->mass = after;
	if (p->memory > 0) {
		d = 1.0 - s / (p->memory * (double)nent);
		d = d < p->decay ? p->decay : d;
	}
	p->tdecay = d;
	if (d >= 1.0)
		return;
	for (size_t i = 0; i < nent; i++) {
		uint64_t e = atomic_load_explicit(&t->ent[i], memory_order_relaxed);
		for (int tries = 0; e && tries < 4; tries++) {
			uint64_t c = (uint64_t)((double)(e & HT_PG_CMASK) * d);
			uint64_t ne = (e >> HT_PG_CBITS) && c ? (e & ~HT_PG_CMASK) | c : 0; /* decayed out: the slot is free */
			if (atomic_compare_exchange_weak_explicit(&t->ent[i], &e, ne, memory_order_relaxed,
								  memory_order_relaxed))
				break;
		}
	}
}

uint32_t ht_pages_estimate(const struct ht_pages *p, uintptr_t addr)
{
	struct ht_pg_tab *t = atomic_load_explicit(&p->tab, memory_order_relaxed);
	return t ? estimate(t, addr >> p->page_shift) : UINT32_MAX;
}

int ht_pages_dense(const struct ht_pages *p, const struct ht_range *r)
{
	return p->cold_expect > 0 && per_page(p, r) >= p->cold_expect;
}

int ht_pages_zero(const struct ht_pages *p, uintptr_t addr) { return ht_pages_estimate(p, addr) == 0; }

int ht_pages_cold(const struct ht_pages *p, const struct ht_range *r, uintptr_t addr)
{
	return ht_pages_dense(p, r) && ht_pages_zero(p, addr);
}

int ht_pages_hot(const struct ht_pages *p, uintptr_t addr)
{
	struct ht_pg_tab *t = atomic_load_explicit(&p->tab, memory_order_relaxed);
	if (!t)
		return 0;
	uint64_t c = count_of(t, addr >> p->page_shift);
	return c && c >= p->hot;
}

void ht_pages_cold_add(struct ht_pages *p, uintptr_t page)
{
	struct ht_pg_tab *t = atomic_load_explicit(&p->tab, memory_order_relaxed);
	if (t && p->ncold < t->maxcold)
		p->cold[p->ncold++] = page;
}

uint64_t ht_pages_bytes(const struct ht_pages *p)
{
	struct ht_pg_tab *t = atomic_load_explicit(&p->tab, memory_order_relaxed);
	return t ? t->bytes : 0;
}

void ht_pages_watch(struct ht_pages *p, uintptr_t page)
{
	struct ht_pg_tab *t = atomic_load_explicit(&p->tab, memory_order_relaxed);
	if (!t)
		return;
	if (!t->nwatch)
		return;
	struct ht_pg_watch *w = &t->watch[p->whead++ % t->nwatch];
	w->page = page;
	w->last = (uint32_t)count_of(t, page >> p->page_shift);
	w->live = w->last > 0;
}

void ht_pages_judge(struct ht_pages *p, const struct ht_ranges *v)
{
	struct ht_pg_tab *t = atomic_load(&p->tab);
	double post = 0, expect = 0;
	if (t) {
		for (size_t i = 0; i < t->nwatch; i++) {
			struct ht_pg_watch *w = &t->watch[i];
			if (!w->live)
				continue;
			uint64_t c = count_of(t, w->page >> p->page_shift);
			long k = ht_ranges_find(v, w->page);
			if (!c || k < 0) { /* left the table, or unmapped: it counted up to the last look */
				w->live = 0;
				continue;
			}
			const struct ht_range *r = &v->r[k];
			double was = (double)w->last * p->tdecay; /* what the decay at the last epoch's end left */
			w->last = (uint32_t)c;
			if (!eligible(r))
				continue; /* not tracked this epoch (hinted, or wholly hot): its samples were not counted */
			post += (double)c > was ? ((double)c - was) / HT_PG_ONE : 0;
			expect += (double)r->hits / (double)resident_pages(p, r);
		}
	}
	p->wpost = p->wpost * p->decay + post;
	p->wexp = p->wexp * p->decay + expect;
	double want = p->gain * p->wexp; /* what the watched pages draw if they are worth their moves */
	p->closed = want - p->wpost > p->sigma * sqrt(want);
}
