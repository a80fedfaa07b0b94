/* classifier.c - decay, split, merge, rank, hot set. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* qsort_r */
#endif
#include "classifier.h"
#include "hypertier.h"
#include <math.h>
#include <stdlib.h>

void ht_classify_params(struct ht_classify_params *p, const struct ht_conf *c, int nr_cpus, size_t page)
{
	p->decay = c->decay / 100.0;
	p->decay_long = c->decay_long > c->decay ? c->decay_long / 100.0 : 0; /* at or below decay: one memory */
	p->score = 0;
	p->longmem = 0;
	p->split_min = (double)c->split_tau * (nr_cpus > 0 ? nr_cpus : 1);
	p->split_ratio = 1.0 + c->split_ratio / 100.0;
	p->split_sigma = (double)c->split_sigma;
	p->merge_ratio = c->merge_ratio / 100.0;
	p->min_range = c->min_range < page ? page : c->min_range;
	p->page = page;
	p->align = page;
	p->max_ranges = (size_t)c->max_ranges;
	p->holdback = (uint32_t)c->split_holdback;
	p->shift = c->decay_shift;
}

/*
 * Two counts clearly apart: by split_ratio and by more than split_sigma
 * standard deviations of Poisson noise. With decay_shift, a rate change
 * seen within one epoch: the count foretold its share of the epoch's hits,
 * and its hits fell that far short. Decay alone needs
 * log(1/2)/log(kept) epochs before a range gone cold ranks below one gone
 * hot (two at 0.7 per epoch), while the fast tier holds the old hot set.
 */
static int apart(double hi, double lo, const struct ht_classify_params *p)
{
	return hi > p->split_ratio * lo && hi - lo > p->split_sigma * sqrt(hi + lo);
}

/*
 * After a drop, the count (and its eighths, keeping their shape) shrinks by
 * the most its hits leave plausible (the Wilson interval's upper edge at
 * split_sigma) over what it foretold: a range gone cold ranks below one
 * gone hot at once, but keeps the little its hits allow, so recency still
 * orders the cold. Only drops: a rise is left to plain decay, so that no
 * count holds more than its samples (the page layer reads them).
 */
static void shrink(struct ht_range *r, double expect, const struct ht_classify_params *p)
{
	double h = (double)r->hits, s2 = p->split_sigma * p->split_sigma;
	double edge = h + s2 / 2 + p->split_sigma * sqrt(h + s2 / 4);
	if (edge >= expect)
		return;
	r->count *= edge / expect;
	for (int b = 0; b < HT_BINS; b++)
		r->bins[b] *= edge / expect;
}

/*
 * Log-likelihood of the epoch's hits per range under the shares one memory
 * predicted (its counts before the hits; a prior of one sample spread by
 * bytes, so a range it thought empty is unlikely, not impossible).
 */
static double loglik(const struct ht_ranges *v, int alt, double total, double bytes)
{
	double ll = 0;
	for (size_t i = 0; i < v->n; i++) {
		const struct ht_range *r = &v->r[i];
		if (r->hits)
			ll += (double)r->hits * log(((alt ? r->alt : r->count) + (double)(r->end - r->start) / bytes) / (total + 1));
	}
	return ll;
}

/*
 * Two memories, one chosen. A steady program is ranked best on long counts
 * (four times the samples: half the noise), a program whose hot set moves on
 * short ones; neither default suits both (redis-zipf gained 2% at decay=84,
 * moving-hot lost 3-4% at decay=70). So both are kept and each epoch scored
 * out of sample, on how well its counts foretold where this epoch's samples
 * fell (a multinomial log-likelihood: the same ranges, the same samples);
 * the score decays as the short counts do, so a phase change, which the
 * short memory foretells better within an epoch or two, takes the choice
 * back quickly. The ranges rank, split and merge by the chosen count.
 */
void ht_classify_decay(struct ht_ranges *v, struct ht_classify_params *p)
{
	int two = p->decay_long > 0; /* from the configuration: an epoch of no time (both keep 1) must not drop the choice */
	if (two) {
		double sc = 0, sa = 0, bytes = 0, hits = 0;
		for (size_t i = 0; i < v->n; i++) {
			sc += v->r[i].count;
			sa += v->r[i].alt;
			bytes += (double)(v->r[i].end - v->r[i].start);
			hits += (double)v->r[i].hits;
		}
		double d = 0;
		if (hits > 0 && bytes > 0)
			d = loglik(v, 0, sc, bytes) - loglik(v, 1, sa, bytes); /* count's memory over alt's */
		p->score = p->score * p->decay + (p->longmem ? d : -d);
	} else {
		p->score = 0;
		p->longmem = 0;
	}
	double kc = two && p->longmem ? p->decay_long : p->decay, ka = two && p->longmem ? p->decay : p->decay_long;
	/* a likelihood-ratio test: switch only on split_sigma's worth of evidence (2 x log-ratio > sigma^2) */
	double thr = p->split_sigma * p->split_sigma / 2;
	int want = two && (p->longmem ? p->score > -thr : p->score > thr), swap = two && want != p->longmem;
	/* only at the short memory: the long one is chosen when the program is steady */
	int shrinks = p->shift && !(two && p->longmem);
	double was_sum = 0, hit_sum = 0; /* what each count foretold is its share of this epoch's hits: an idle epoch foretells none */
	for (size_t i = 0; shrinks && i < v->n; i++) {
		was_sum += v->r[i].count;
		hit_sum += (double)v->r[i].hits;
	}
	for (size_t i = 0; i < v->n; i++) {
		struct ht_range *r = &v->r[i];
		double was = r->count;
		r->count = r->count * kc + (double)r->hits;
		if (r->count < 1e-9)
			r->count = 0;
		for (int b = 0; b < HT_BINS; b++)
			r->bins[b] = r->bins[b] * kc + r->bin_hits[b];
		double expect = was_sum > 0 ? was / was_sum * hit_sum : 0;
		if (shrinks && apart(expect, (double)r->hits, p)) /* before alt copies the count (one memory) */
			shrink(r, expect, p);
		r->alt = two ? r->alt * ka + (double)r->hits : r->count;
		if (r->alt < 1e-9)
			r->alt = 0;
		for (int b = 0; b < HT_BINS; b++) {
			r->alt_bins[b] = two ? r->alt_bins[b] * ka + r->bin_hits[b] : r->bins[b];
			r->bin_hits[b] = 0;
		}
		if (swap) {
			double c = r->count;
			r->count = r->alt;
			r->alt = c;
			for (int b = 0; b < HT_BINS; b++) {
				c = r->bins[b];
				r->bins[b] = r->alt_bins[b];
				r->alt_bins[b] = c;
			}
		}
		r->longmem = (int8_t)(two && want);
		if (r->holdback)
			r->holdback--;
	}
	if (swap)
		p->longmem = want;
}

static int adjacent(const struct ht_range *a, const struct ht_range *b) { return a->end == b->start; }

/* Density of the lower contiguous neighbour, or -1 when it has none. */
static double lower_neighbour(const struct ht_ranges *v, size_t i)
{
	double d = -1;
	if (i > 0 && adjacent(&v->r[i - 1], &v->r[i]))
		d = ht_range_density(&v->r[i - 1]);
	if (i + 1 < v->n && adjacent(&v->r[i], &v->r[i + 1])) {
		double e = ht_range_density(&v->r[i + 1]);
		if (d < 0 || e < d)
			d = e;
	}
	return d;
}

/*
 * Hot and cold memory inside one range: its busiest and idlest eighths differ
 * by split_ratio and by more than split_sigma standard deviations of
 * sampling noise (counts are roughly Poisson), over enough samples. Without
 * this, a range holding hot and cold objects in turn can sit between hotter
 * neighbours at a middling density and never split. *a and *z: the run of
 * eighths around the busiest that stay within split_ratio of it (the hot part).
 */
static int uneven(const struct ht_range *r, const struct ht_classify_params *p, int *a, int *z)
{
	double lo = r->bins[0], hi = lo, sum = 0;
	int top = 0;
	for (int b = 0; b < HT_BINS; b++) {
		lo = r->bins[b] < lo ? r->bins[b] : lo;
		if (r->bins[b] > hi) {
			hi = r->bins[b];
			top = b;
		}
		sum += r->bins[b];
	}
	for (*a = top; *a > 0 && r->bins[*a - 1] * p->split_ratio >= hi; (*a)--)
		;
	for (*z = top; *z < HT_BINS - 1 && r->bins[*z + 1] * p->split_ratio >= hi; (*z)++)
		;
	return sum >= p->split_min && apart(hi, lo, p);
}

/* Cut v->r[i] at page-aligned at; the left part keeps share of the count. Children count their eighths afresh. */
static int cut(struct ht_ranges *v, size_t i, uintptr_t at, double share, const struct ht_classify_params *p,
	       uint64_t epoch)
{
	struct ht_range *r = &v->r[i];
	double f = (double)(r->end - at) / (double)(r->end - r->start); /* the right part's share of the bytes */
	struct ht_range right = *r;
	ht_range_reset_bins(&right);
	right.start = at;
	right.count = r->count * (1 - share);
	right.alt = r->alt * (1 - share);
	right.hits = (uint64_t)((double)r->hits * f);
	right.born = epoch;
	right.holdback = p->holdback;
	right.fast_pages = (uint64_t)((double)r->fast_pages * f);
	right.slow_pages = (uint64_t)((double)r->slow_pages * f);
	right.hot_bytes = r->hot_bytes > at - r->start ? r->hot_bytes - (at - r->start) : 0;
	if (ht_ranges_insert(v, i + 1, &right) < 0)
		return -1;
	r = &v->r[i]; /* insert may move the array */
	r->end = at;
	r->count -= right.count;
	r->alt -= right.alt;
	ht_range_reset_bins(r);
	r->hits -= right.hits;
	r->born = epoch;
	r->holdback = p->holdback;
	r->fast_pages -= right.fast_pages;
	r->slow_pages -= right.slow_pages;
	if (r->hot_bytes > at - r->start)
		r->hot_bytes = at - r->start;
	return 0;
}

/*
 * at moved onto an align boundary (down, else up), kept min_range from both
 * ends of r; 0: none. Under THP a cut elsewhere splits a huge page between
 * a hot and a cold range, and move_pages then moves all of it for one of
 * its pages: the quota breaks (vm/damon.sh saw 1.4 MiB over).
 */
static uintptr_t aligned_cut(const struct ht_range *r, uintptr_t at, const struct ht_classify_params *p)
{
	uint64_t a = p->align > p->page ? p->align : p->page;
	uintptr_t lo = r->start + p->min_range, hi = r->end - p->min_range, down = at / a * a, up = down + a;
	if (r->end - r->start < 2 * p->min_range)
		return 0;
	if (down >= lo && down <= hi && down > r->start)
		return down;
	return up >= lo && up <= hi && up < r->end ? up : 0;
}

/* Where eighth k of r starts, aligned, kept min_range from both ends (0: no room). */
static uintptr_t edge(const struct ht_range *r, int k, const struct ht_classify_params *p)
{
	uint64_t len = r->end - r->start, off = (len / HT_BINS * k) / p->page * p->page;
	if (off < p->min_range)
		off = p->min_range;
	if (off > len - p->min_range)
		off = (len - p->min_range) / p->page * p->page;
	return off >= p->min_range ? aligned_cut(r, r->start + off, p) : 0;
}

static double bin_sum(const struct ht_range *r, int from, int to)
{
	double s = 0;
	for (int b = from; b < to; b++)
		s += r->bins[b];
	return s;
}

/*
 * A range splits where its eighths show the hot part's edges: the cold
 * prefix and suffix go off in one epoch each (up to two cuts), so a hot set
 * inside a big range is isolated at 1/8 of its size at once instead of by a
 * halving every split_holdback epochs. A range only denser than its lower
 * neighbour, with no edge seen, halves.
 */
size_t ht_classify_split(struct ht_ranges *v, const struct ht_classify_params *p, uint64_t epoch)
{
	size_t splits = 0;
	for (size_t i = 0; i < v->n && v->n < p->max_ranges; i++) {
		struct ht_range *r = &v->r[i];
		uint64_t len = r->end - r->start;
		int a = 0, z = HT_BINS - 1;
		if (r->holdback || len < 2 * p->min_range)
			continue;
		int inside = uneven(r, p, &a, &z);
		double nb = lower_neighbour(v, i);
		int above = r->count >= p->split_min && (nb < 0 || ht_range_density(r) > p->split_ratio * nb);
		if (!inside && !above)
			continue;
		double sum = bin_sum(r, 0, HT_BINS);
		uintptr_t hi_cut = inside && z < HT_BINS - 1 ? edge(r, z + 1, p) : 0;
		uintptr_t lo_cut = inside && a > 0 ? edge(r, a, p) : 0;
		if (!hi_cut && !lo_cut) {
			/* halves: the count as the eighths saw it, or even when unseen */
			uintptr_t mid = aligned_cut(r, r->start + (len / 2) / p->page * p->page, p);
			if (!mid)
				continue;
			double share = inside && sum > 0 ? bin_sum(r, 0, HT_BINS / 2) / sum : 0.5;
			if (cut(v, i, mid, share, p, epoch) < 0)
				break;
			splits++;
			i++; /* children wait out their holdback */
			continue;
		}
		/* shares from the eighths, each cut at its eighth's edge (edge() may move it by min_range) */
		if (hi_cut && lo_cut && hi_cut < lo_cut + p->min_range)
			lo_cut = 0; /* too close: the suffix cut alone */
		double left = sum > 0 ? bin_sum(r, 0, z + 1) / sum : 0.5, pre = sum > 0 ? bin_sum(r, 0, a) / sum : 0;
		if (hi_cut) {
			if (cut(v, i, hi_cut, left, p, epoch) < 0)
				break;
			splits++;
		}
		if (lo_cut) {
			if (v->n >= p->max_ranges || cut(v, i, lo_cut, left > 0 ? pre / (hi_cut ? left : 1) : 0.5, p, epoch) < 0)
				break;
			splits++;
		}
		i += (size_t)(hi_cut != 0) + (size_t)(lo_cut != 0); /* children wait out their holdback */
	}
	return splits;
}

static int alike(const struct ht_range *a, const struct ht_range *b, double ratio)
{
	double da = ht_range_density(a), db = ht_range_density(b);
	double hi = da > db ? da : db;
	return hi <= 0 || (da > db ? da - db : db - da) <= ratio * hi;
}

size_t ht_classify_merge(struct ht_ranges *v, const struct ht_classify_params *p)
{
	size_t merges = 0;
	for (size_t i = 0; i + 1 < v->n;) {
		struct ht_range *a = &v->r[i], *b = &v->r[i + 1];
		int cold = !a->hot_bytes && !b->hot_bytes && a->count < p->split_min && b->count < p->split_min;
		if (!adjacent(a, b) || !cold || a->holdback || b->holdback || a->hint != b->hint ||
		    a->origin != b->origin || !alike(a, b, p->merge_ratio)) {
			i++;
			continue;
		}
		a->end = b->end;
		a->count += b->count;
		a->alt += b->alt;
		ht_range_reset_bins(a);
		a->hits += b->hits;
		if (b->born < a->born)
			a->born = b->born;
		a->fast_pages += b->fast_pages;
		a->slow_pages += b->slow_pages;
		if (a->policy != b->policy)
			a->policy = -2;
		ht_ranges_erase(v, i + 1);
		merges++; /* stay on i: a chain of alike ranges folds into one */
	}
	return merges;
}

static int hint_class(int hint)
{
	switch (hint) {
	case HT_PIN_FAST: return 0;
	case HT_HOT: return 1;
	case HT_COLD: return 3;
	case HT_PIN_SLOW: return 4;
	default: return 2;
	}
}

static int cmp_rank(const void *x, const void *y, void *arg)
{
	const struct ht_ranges *v = arg;
	const struct ht_range *a = &v->r[*(const size_t *)x], *b = &v->r[*(const size_t *)y];
	int ca = hint_class(a->hint), cb = hint_class(b->hint);
	if (ca != cb)
		return ca < cb ? -1 : 1;
	double da = ht_range_density(a), db = ht_range_density(b);
	if (da != db)
		return da > db ? -1 : 1;
	if (a->born != b->born)
		return a->born < b->born ? -1 : 1;
	return a->start < b->start ? -1 : a->start > b->start;
}

void ht_classify_rank(const struct ht_ranges *v, size_t *order)
{
	for (size_t i = 0; i < v->n; i++)
		order[i] = i;
	qsort_r(order, v->n, sizeof(*order), cmp_rank, (void *)v);
}

/*
 * Bytes of r that hold pages at the last placement scan; its length before
 * any scan. Pages never touched take no budget: a range counted by its
 * length would claim fast-tier bytes that hold nothing.
 */
static uint64_t resident(const struct ht_range *r, uint64_t page)
{
	uint64_t n = (r->fast_pages + r->slow_pages) * page, len = r->end - r->start;
	return n && n < len ? n : len;
}

/* Give a place to the hot pages at least as dense as d (all when d < 0), while the budget lasts. */
static uint64_t take_pages(struct ht_pg_cand *c, size_t nc, size_t *j, double d, uint64_t used, uint64_t budget,
			   uint64_t page, uint64_t *inside)
{
	for (; *j < nc && (d < 0 || c[*j].density >= d); (*j)++)
		if (used + page <= budget) {
			c[*j].hot = 1;
			used += page;
			inside[c[*j].range] += page;
		}
	return used;
}

uint64_t ht_classify_hotset_pages(struct ht_ranges *v, const size_t *order, uint64_t budget, uint64_t page,
				  uint64_t align, struct ht_pg_cand *cand, size_t ncand)
{
	uint64_t used = 0, *inside = ncand ? calloc(v->n, sizeof(*inside)) : NULL;
	size_t j = 0;
	if (!inside)
		ncand = 0; /* no memory: the ranges alone */
	for (size_t i = 0; i < ncand; i++)
		cand[i].hot = 0;
	for (size_t k = 0; k < v->n; k++) {
		struct ht_range *r = &v->r[order[k]];
		int c = hint_class(r->hint);
		uint64_t len = r->end - r->start, res = resident(r, page);
		if (c >= 2)
			used = take_pages(cand, ncand, &j, ht_range_density(r), used, budget, page, inside);
		uint64_t mine = inside ? inside[order[k]] : 0;
		r->hot_bytes = 0;
		if (c >= 3 || (c == 2 && r->count <= 0) || (used + page > budget && mine < res))
			continue;
		/* the whole range holds its hot pages: their bytes are its own */
		if (budget - used + mine >= res) {
			r->hot_bytes = len;
			used += res > mine ? res - mine : 0;
			continue;
		}
		/* the last range in part: the prefix that holds about the room left */
		uint64_t take = (uint64_t)((double)(budget - used) * (double)len / (double)res) / page * page;
		if (align > page && take < len) {
			uintptr_t end = (r->start + take) / align * align;
			take = end > r->start ? end - r->start : 0;
		}
		r->hot_bytes = take < len ? take : len;
		used = budget;
	}
	used = take_pages(cand, ncand, &j, -1, used, budget, page, inside);
	free(inside);
	return used;
}

uint64_t ht_classify_hotset(struct ht_ranges *v, const size_t *order, uint64_t budget, uint64_t page)
{
	return ht_classify_hotset_pages(v, order, budget, page, page, NULL, 0);
}
