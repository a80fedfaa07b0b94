/*
 * pages.c - hotness below range granularity, bounded.
 *
 * Ranges stop at min_range, so one hot page inside a cold 2 MiB range (or a
 * cold page inside a hot one) is invisible to them. Ranges stay the primary
 * structure; this layer only looks where they cannot see:
 *
 *  - A decayed count-min sketch keyed by page number (HT_PG_ROWS rows of
 *    2^bits 16-bit saturating cells, multiply-shift hashing), fed with every managed
 *    sample. It never under-counts, so a page whose estimate is 0 really
 *    has no (decayed) samples: that is how a cold page
 *    inside a dense range is recognised (ht_pages_cold), and only where the
 *    range expects page_cold_expect samples per page, so that a zero is
 *    significant (Poisson: P(0) = e^-3 = 5% at the default 3). Collisions
 *    can only hide a cold page (a sketch too full finds none), never
 *    invent one.
 *  - A candidate table (buckets of HT_PG_WAYS one-word entries, a cache
 *    line each): a page of a range that is not already wholly hot enters it
 *    when its sketch estimate reaches page_hot; from then on the entry keeps
 *    the page's exact decayed count. Deciding on the exact count, not the
 *    estimate, keeps sketch collisions (a cold page sharing cells with hot
 *    ones) from promoting anything. A page is individually hot when its
 *    count is at least page_hot and clearly above its range's expectation
 *    per page (split_ratio and split_sigma standard deviations of Poisson
 *    noise, as for splits).
 *
 * A per-range page histogram (Memtis) was the alternative: exact, but its
 * memory follows the pages of the mixed ranges, not a fixed bound, and the
 * ranges that need it are the ones the classifier has not split.
 *
 * Cost: ingest adds HT_PG_ROWS relaxed load/store increments (plain moves,
 * no locked instruction: the sampler is one thread; two concurrent ingest
 * calls may lose an increment, never add one) and, for pages already at
 * page_hot, one bucket probe. The epoch walks the table and the sketch once
 * (decay): both are bounded by the state size, not by the managed pages.
 *
 * Bound: the sketch, the table and the epoch's candidate and cold lists are
 * one allocation of at most min(page_state, 0.2% of the managed bytes);
 * the size follows the managed bytes in powers of two. A new one replaces
 * the old at an epoch (counts restart; the counter's grace period waits
 * out any ingest still on the old one before it is freed).
 */
#include "pages.h"
#include "hypertier.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MIN_BITS 6 /* a smaller sketch is not worth having */
#define MAX_BITS 34
#define BUCKET_MUL 0xd6e8feb86659fd93ull

void ht_pages_init(struct ht_pages *p, const struct ht_conf *c, size_t page)
{
	memset(p, 0, sizeof(*p));
	atomic_init(&p->tab, NULL);
	p->thresh = p->hot = (uint32_t)c->page_hot;
	p->cold_expect = (double)c->page_cold_expect;
	p->sigma = (double)c->split_sigma;
	p->ratio = 1.0 + c->split_ratio / 100.0;
	p->decay = c->page_decay / 100.0;
	p->cap = c->page_state;
	p->page_shift = (unsigned)__builtin_ctzl(page ? page : 4096);
}

void ht_pages_fini(struct ht_pages *p)
{
	free(atomic_exchange(&p->tab, NULL));
	p->cand = NULL;
	p->cold = NULL;
	p->ncand = p->ncold = 0;
}

/* Everything a table of 2^bits cells per row takes. */
static size_t tab_bytes(unsigned bits)
{
	size_t w = (size_t)1 << bits;
	return sizeof(struct ht_pg_tab) + HT_PG_ROWS * w * sizeof(uint16_t) + (w >> 1) * sizeof(uint64_t) +
	       (w >> 2) * sizeof(struct ht_pg_cand) + (w >> 4) * sizeof(uintptr_t);
}

uint64_t ht_pages_limit(const struct ht_pages *p, uint64_t managed)
{
	uint64_t share = managed / 500; /* 0.2% */
	return p->cap < share ? p->cap : share;
}

static struct ht_pg_tab *tab_new(unsigned bits)
{
	size_t w = (size_t)1 << bits, n = tab_bytes(bits);
	struct ht_pg_tab *t = calloc(1, n); /* zero pages: untouched cells cost nothing until used */
	if (!t)
		return NULL;
	t->bits = bits;
	t->bytes = n;
	t->cell = (_Atomic uint16_t *)(t + 1);
	t->ent = (_Atomic uint64_t *)(t->cell + HT_PG_ROWS * w); /* 2 * w cells of 2 bytes: 8-byte aligned */
	t->cand = (struct ht_pg_cand *)(t->ent + (w >> 1));
	t->cold = (uintptr_t *)(t->cand + (w >> 2));
	return t;
}

static inline _Atomic uint16_t *cell(const struct ht_pg_tab *t, uint64_t pn, int row)
{
	return &t->cell[((size_t)row << t->bits) + (size_t)(ht_pg_hash(pn, row) >> (64 - t->bits))];
}

static inline _Atomic uint64_t *bucket(const struct ht_pg_tab *t, uint64_t pn)
{
	return &t->ent[(size_t)((pn * BUCKET_MUL) >> (64 - (t->bits - 3))) * HT_PG_WAYS];
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
	int free_way = -1;
	for (int w = 0; w < HT_PG_WAYS; w++) {
		uint64_t e = atomic_load_explicit(&b[w], memory_order_relaxed);
		if ((e & ~HT_PG_CMASK) == key) {
			if ((e & HT_PG_CMASK) != HT_PG_CMASK)
				atomic_fetch_add_explicit(&b[w], 1, memory_order_relaxed);
			return;
		}
		if (free_way < 0 && !(e & ~HT_PG_CMASK))
			free_way = w;
	}
	if (free_way >= 0) {
		uint64_t e = atomic_load_explicit(&b[free_way], memory_order_relaxed);
		if (!(e & ~HT_PG_CMASK) &&
		    atomic_compare_exchange_strong_explicit(&b[free_way], &e, key | 1, memory_order_relaxed,
							    memory_order_relaxed))
			return;
	}
	atomic_fetch_add_explicit(&p->dropped, 1, memory_order_relaxed);
}

/* Largest sketch that fits the limit, 0 when none does. */
static unsigned fit_bits(uint64_t limit)
{
	unsigned b = 0;
	for (unsigned k = MIN_BITS; k <= MAX_BITS && tab_bytes(k) <= limit; k++)
		b = k;
	return b;
}

static int cmp_cand(const void *x, const void *y)
{
	const struct ht_pg_cand *a = x, *b = y;
	if (a->density != b->density)
		return a->density > b->density ? -1 : 1;
	return a->page < b->page ? -1 : a->page > b->page;
}

/* Expected samples per page of r at its density. */
static double per_page(const struct ht_pages *p, const struct ht_range *r)
{
	return ht_range_density(r) * (double)(1ull << p->page_shift);
}

void ht_pages_epoch(struct ht_pages *p, const struct ht_ranges *v, void (*grace)(void *), void *arg)
{
	uint64_t managed = 0;
	for (size_t i = 0; i < v->n; i++)
		managed += v->r[i].end - v->r[i].start;
	uint64_t limit = ht_pages_limit(p, managed);
	unsigned bits = fit_bits(limit);
	struct ht_pg_tab *t = atomic_load(&p->tab);
	/* shrink as soon as the bound says so; grow only with a quarter to spare, so that managed
	 * bytes wavering at a size boundary do not restart the counts every epoch */
	if (t && bits > t->bits)
		bits = fit_bits(limit / 4 * 3) > t->bits ? fit_bits(limit / 4 * 3) : t->bits;
	if ((t ? t->bits : 0) != bits) {
		struct ht_pg_tab *n = bits ? tab_new(bits) : NULL;
		struct ht_pg_tab *old = atomic_exchange(&p->tab, n);
		grace(arg);
		free(old);
		t = n;
	}
	p->ncand = p->ncold = 0;
	p->cand = t ? t->cand : NULL;
	p->cold = t ? t->cold : NULL;
	if (!t)
		return;
	size_t nent = (size_t)HT_PG_WAYS << (t->bits - 3), maxc = (size_t)1 << (t->bits - 2);
	for (size_t i = 0; i < nent; i++) {
		uint64_t e = atomic_load_explicit(&t->ent[i], memory_order_relaxed);
		uint32_t c = (uint32_t)(e & HT_PG_CMASK);
		if (!(e >> HT_PG_CBITS) || c < p->hot)
			continue;
		uintptr_t page = (uintptr_t)(((e >> HT_PG_CBITS) - 1) << p->page_shift);
		long k = ht_ranges_find(v, page);
		if (k < 0)
			continue;
		const struct ht_range *r = &v->r[k];
		if (r->hint != HT_AUTO || r->hot_bytes >= r->end - r->start)
			continue; /* a hint decides, or the range is hot as a whole */
		double mu = per_page(p, r);
		if ((double)c < p->ratio * mu + p->sigma * sqrt(mu))
			continue; /* no denser than its range could be by chance */
		if (p->ncand < maxc)
			p->cand[p->ncand++] = (struct ht_pg_cand){ page, (float)((double)c / (1ull << p->page_shift)),
								   (uint32_t)k, 0 };
	}
	qsort(p->cand, p->ncand, sizeof(*p->cand), cmp_cand);
}

void ht_pages_decay(struct ht_pages *p)
{
	struct ht_pg_tab *t = atomic_load(&p->tab);
	if (!t)
		return;
	size_t ncell = (size_t)HT_PG_ROWS << t->bits, nent = (size_t)HT_PG_WAYS << (t->bits - 3);
	for (size_t i = 0; i < ncell; i++) {
		uint16_t c = atomic_load_explicit(&t->cell[i], memory_order_relaxed);
		if (!c)
			continue;
		uint16_t nc = (uint16_t)(c * p->decay);
		atomic_fetch_sub_explicit(&t->cell[i], (uint16_t)(c - nc), memory_order_relaxed); /* keeps a racing increment */
	}
	for (size_t i = 0; i < nent; i++) {
		uint64_t e = atomic_load_explicit(&t->ent[i], memory_order_relaxed);
		for (int tries = 0; e && tries < 4; tries++) {
			uint64_t c = (uint64_t)((double)(e & HT_PG_CMASK) * p->decay);
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
	uint64_t pn = addr >> p->page_shift, key = key_of(pn);
	_Atomic uint64_t *b = bucket(t, pn);
	for (int w = 0; w < HT_PG_WAYS; w++) {
		uint64_t e = atomic_load_explicit(&b[w], memory_order_relaxed);
		if ((e & ~HT_PG_CMASK) == key)
			return (e & HT_PG_CMASK) >= p->hot;
	}
	return 0;
}

void ht_pages_cold_add(struct ht_pages *p, uintptr_t page)
{
	struct ht_pg_tab *t = atomic_load_explicit(&p->tab, memory_order_relaxed);
	if (t && p->ncold < ((size_t)1 << (t->bits - 4)))
		p->cold[p->ncold++] = page;
}

uint64_t ht_pages_bytes(const struct ht_pages *p)
{
	struct ht_pg_tab *t = atomic_load_explicit(&p->tab, memory_order_relaxed);
	return t ? t->bytes : 0;
}
