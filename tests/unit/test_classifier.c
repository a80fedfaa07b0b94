/* test_classifier.c - decay, split, merge, ranking and hot-set fitting on synthetic streams. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include "hypertier.h"
#include "ranges/classifier.h"
#include "ranges/counter.h"
#include "ranges/rangemap.h"
#include "tap.h"
#include "testutil.h"

#define M (1ul << 20)
#define B 0x7f0000000000ul
#define PG 4096

static struct ht_conf conf;
static struct ht_classify_params P;

static void params(void)
{
	ht_conf_defaults(&conf);
	ht_classify_params(&P, &conf, 2, PG); /* split at 15 * 2 = 30 */
}


/* n samples: share p into [hs, he), the rest uniform over [s, e). */
static void stream(struct ht_counter *c, size_t n, double p, uintptr_t s, uintptr_t e, uintptr_t hs, uintptr_t he)
{
	uint64_t a[256];
	for (size_t done = 0; done < n;) {
		size_t k = n - done < 256 ? n - done : 256;
		for (size_t i = 0; i < k; i++) {
			int hot = (double)(xr() % 1000000) < p * 1e6;
			a[i] = hot ? hs + xr() % (he - hs) : s + xr() % (e - s);
		}
		ht_counter_ingest(c, a, sizeof(a[0]), k);
		done += k;
	}
}

static void epoch(struct ht_counter *c, struct ht_ranges *v, uint64_t ep)
{
	ht_counter_harvest(c, v);
	ht_classify_decay(v, &P);
	for (size_t i = 0; i < v->n; i++)
		v->r[i].hits = 0;
	ht_classify_split(v, &P, ep);
	ht_classify_merge(v, &P);
	ht_counter_publish(c, v);
}

static uint64_t hot_overlap(const struct ht_ranges *v, uintptr_t hs, uintptr_t he)
{
	uint64_t n = 0;
	for (size_t i = 0; i < v->n; i++) {
		uintptr_t s = v->r[i].start, e = s + v->r[i].hot_bytes;
		s = s > hs ? s : hs;
		e = e < he ? e : he;
		if (e > s)
			n += e - s;
	}
	return n;
}

/* Three adjacent 8 MiB ranges: outer counts (held back hold epochs), the middle one's count and eighths. */
static void three(struct ht_ranges *v, double outer, double mid, uint32_t hold, const double *bins)
{
	ht_ranges_free(v);
	ht_rangemap_add(v, B, B + 24 * M, 0, 0, 100, NULL, NULL);
	ht_rangemap_cut(v, B + 8 * M);
	ht_rangemap_cut(v, B + 16 * M);
	v->r[0].count = v->r[2].count = outer;
	v->r[0].holdback = v->r[2].holdback = hold;
	v->r[1].count = mid;
	for (int b = 0; b < HT_BINS; b++)
		v->r[1].bins[b] = bins[b];
}


/* 16 ranges of 4 MiB, no splits or merges; each epoch 400 samples: half on ranges [h, h + 4), the rest on all. */
static void steady_epoch(struct ht_ranges *v, struct ht_classify_params *p, int h)
{
	for (int i = 0; i < 400; i++) {
		int k = i % 2 ? h + (int)(xr() % 4) : (int)(xr() % 16);
		v->r[k].hits++;
	}
	ht_classify_decay(v, p);
	for (size_t i = 0; i < v->n; i++)
		v->r[i].hits = 0;
}

/* Epochs after the hot ranges move from 0-3 to 8-11 until 8-11 rank first (the four densest); 99: never. */
static int memories(struct ht_classify_params *p, int *longmem_steady, double *total)
{
	struct ht_ranges v = { 0 };
	ht_rangemap_add(&v, B, B + 64 * M, 0, 0, 100, NULL, NULL);
	for (int i = 1; i < 16; i++)
		ht_rangemap_cut(&v, B + (uintptr_t)i * 4 * M);
	for (int ep = 0; ep < 60; ep++)
		steady_epoch(&v, p, 0);
	*longmem_steady = p->longmem;
	*total = 0;
	for (size_t i = 0; i < v.n; i++)
		*total += v.r[i].count;
	int found = 99;
	size_t order[16];
	for (int ep = 1; ep <= 12 && found == 99; ep++) {
		steady_epoch(&v, p, 8);
		ht_classify_rank(&v, order);
		int top = 1;
		for (int j = 0; j < 4; j++)
			top &= order[j] >= 8 && order[j] < 12;
		if (top)
			found = ep;
	}
	ht_ranges_free(&v);
	return found;
}

int main(void)
{
	params();
	struct ht_ranges v = { 0 };

	/* decay */
	ht_rangemap_add(&v, B, B + 64 * M, 0, 0, 100, NULL, NULL);
	v.r[0].count = 100;
	v.r[0].hits = 10;
	P.shift = 0; /* plain decay (10 where 50 expected is a shift: tested below) */
	ht_classify_decay(&v, &P);
	ok(v.r[0].count == 60, "decay 50%%: 100 -> 50, plus 10 new = %.1f", v.r[0].count);
	conf.decay = 100;
	ht_classify_params(&P, &conf, 2, PG);
	P.shift = 0;
	v.r[0].hits = 0;
	ht_classify_decay(&v, &P);
	ok(v.r[0].count == 60, "decay=100 keeps counts");
	params();

	/* split */
	v.r[0].count = 29;
	is_int(ht_classify_split(&v, &P, 1), 0, "below split_tau * cpus: no split");
	v.r[0].count = 40;
	is_int(ht_classify_split(&v, &P, 1), 1, "a lone significant range splits");
	ok(v.n == 2 && v.r[0].end == B + 32 * M && v.r[1].start == B + 32 * M, "in half");
	ok(v.r[0].count == 20 && v.r[1].count == 20, "children inherit half the count");
	ok(v.r[0].holdback == P.holdback && v.r[1].holdback == P.holdback && P.holdback == 3, "children held back 3 epochs");
	v.r[0].count = v.r[1].count = 100;
	is_int(ht_classify_split(&v, &P, 2), 0, "held back: no split");
	v.r[0].holdback = v.r[1].holdback = 0;
	is_int(ht_classify_split(&v, &P, 2), 0, "equal neighbours: not clearly above, no split");
	v.r[1].count = 10;
	is_int(ht_classify_split(&v, &P, 3), 1, "clearly above its neighbour: splits");
	is_int(v.n, 3, "three ranges");
	ht_ranges_free(&v);
	ht_rangemap_add(&v, B, B + 3 * M, 0, 0, 100, NULL, NULL);
	v.r[0].count = 1000;
	is_int(ht_classify_split(&v, &P, 1), 0, "never below two min_range halves");
	ht_ranges_free(&v);

	/* uneven inside: a middling range between hotter neighbours */
	static const double even[HT_BINS] = { 50, 50, 50, 50, 50, 50, 50, 50 },
			    halves[HT_BINS] = { 100, 100, 0, 0, 0, 0, 0, 100 }, /* hot, cold, hot */
			    noisy[HT_BINS] = { 20, 9, 14, 17, 11, 16, 12, 15 };
	three(&v, 1000, 400, 0, even);
	is_int(ht_classify_split(&v, &P, 1), 2, "even inside, cooler than both neighbours: only the outer ranges split");
	three(&v, 800, 300, 5, halves);
	is_int(ht_classify_split(&v, &P, 1), 1, "hot and cold parts inside: splits although cooler than its neighbours");
	ok(v.n == 4 && v.r[1].end == B + 10 * M && v.r[1].count + v.r[2].count == 300 && v.r[2].count > 99.99 && v.r[2].count < 100.01,
	   "cut at the hot part's edge (2 of 8 eighths), each side the count its eighths saw (%.0f, %.0f)", v.r[1].count,
	   v.r[2].count);
	ok(v.r[1].bins[0] == 0 && v.r[2].bins[7] == 0, "children count their eighths afresh");
	/* a hot part in the middle of a big range: both cold ends cut off in one epoch */
	static const double middle[HT_BINS] = { 0, 0, 0, 90, 100, 0, 0, 0 };
	ht_ranges_free(&v);
	ht_rangemap_add(&v, B, B + 64 * M, 0, 0, 100, NULL, NULL);
	v.r[0].count = 190;
	for (int b = 0; b < HT_BINS; b++)
		v.r[0].bins[b] = middle[b];
	is_int(ht_classify_split(&v, &P, 1), 2, "hot middle: two cuts at once");
	ok(v.n == 3 && v.r[1].start == B + 24 * M && v.r[1].end == B + 40 * M, "the hot part alone in the middle [24, 40) MiB");
	ok(v.r[0].count < 1e-9 && v.r[1].count > 189.99 && v.r[2].count < 1e-9, "it holds the count (%.1f %.1f %.1f)",
	   v.r[0].count, v.r[1].count, v.r[2].count);
	ok(v.r[0].holdback && v.r[1].holdback && v.r[2].holdback, "all three held back");
	three(&v, 2000, 1000, 5, noisy);
	is_int(ht_classify_split(&v, &P, 1), 0, "uneven by chance only (within split_sigma): no split");
	ht_ranges_free(&v);

	/* merge */
	ht_rangemap_add(&v, B, B + 8 * M, 0, 0, 100, NULL, NULL);
	ht_rangemap_cut(&v, B + 2 * M);
	ht_rangemap_cut(&v, B + 4 * M);
	ht_rangemap_cut(&v, B + 6 * M);
	v.r[0].count = 10; v.r[1].count = 9; v.r[2].count = 1; v.r[3].count = 1.1;
	v.r[3].hint = HT_COLD;
	is_int(ht_classify_merge(&v, &P), 1, "cold alike neighbours merge; unlike or differently hinted do not");
	ok(v.n == 3 && v.r[0].end == B + 4 * M && v.r[0].count == 19, "merged range sums counts");
	v.r[2].hint = HT_AUTO;
	is_int(ht_classify_merge(&v, &P), 1, "same hint again: merges");
	ht_ranges_free(&v);
	ht_rangemap_add(&v, B, B + 8 * M, 0, 0, 100, NULL, NULL);
	ht_rangemap_cut(&v, B + 4 * M);
	v.r[0].count = v.r[1].count = 5;
	v.r[0].hot_bytes = 4 * M;
	is_int(ht_classify_merge(&v, &P), 0, "a hot range never merges");
	v.r[0].hot_bytes = 0;
	v.r[0].count = v.r[1].count = 50;
	is_int(ht_classify_merge(&v, &P), 0, "significant ranges do not merge");
	ht_ranges_free(&v);

	/* ranking and hot set */
	ht_rangemap_add(&v, B, B + 40 * M, 0, 0, 100, NULL, NULL);
	for (int i = 1; i < 5; i++)
		ht_rangemap_cut(&v, B + i * 8 * M);
	double counts[5] = { 10, 80, 0, 40, 40 };
	for (int i = 0; i < 5; i++) {
		v.r[i].count = counts[i];
		v.r[i].born = 10 - i; /* range 4 older than range 3 */
	}
	size_t order[8];
	ht_classify_rank(&v, order);
	ok(order[0] == 1 && order[1] == 4 && order[2] == 3 && order[3] == 0 && order[4] == 2,
	   "rank by density, older first on ties (%zu %zu %zu %zu %zu)", order[0], order[1], order[2], order[3], order[4]);
	uint64_t hs = ht_classify_hotset(&v, order, 20 * M, PG);
	is_int(hs, 20 * M, "hot set fills the budget");
	ok(v.r[1].hot_bytes == 8 * M && v.r[4].hot_bytes == 8 * M && v.r[3].hot_bytes == 4 * M && !v.r[0].hot_bytes,
	   "hottest first, last one partial");
	hs = ht_classify_hotset(&v, order, 1000 * M, PG);
	is_int(hs, 32 * M, "ranges without samples are never hot");
	v.r[1].hint = HT_PIN_SLOW;
	v.r[2].hint = HT_PIN_FAST;
	v.r[4].hint = HT_COLD;
	ht_classify_rank(&v, order);
	ok(order[0] == 2 && order[4] == 1 && order[3] == 4, "PIN_FAST first, COLD then PIN_SLOW last");
	hs = ht_classify_hotset(&v, order, 12 * M, PG);
	ok(hs == 12 * M && v.r[2].hot_bytes == 8 * M && v.r[3].hot_bytes == 4 * M && !v.r[1].hot_bytes && !v.r[4].hot_bytes,
	   "pinned range takes budget first; COLD and PIN_SLOW never hot");
	ht_ranges_free(&v);

	/* synthetic stream: 512 MiB, 90% of samples on 51 MiB; ranges find it */
	struct ht_counter c = { 0 };
	uintptr_t s = B, e = B + 512 * M, hs0 = B + 200 * M, he0 = hs0 + 51 * M;
	ht_rangemap_add(&v, s, e, 0, 0, P.max_ranges, NULL, NULL);
	ht_counter_publish(&c, &v);
	int ep, found = -1;
	size_t *ord = NULL, maxn = 0;
	for (ep = 1; ep <= 80; ep++) {
		stream(&c, 400, 0.9, s, e, hs0, he0);
		epoch(&c, &v, (uint64_t)ep);
		ord = realloc(ord, v.n * sizeof(*ord));
		ht_classify_rank(&v, ord);
		ht_classify_hotset(&v, ord, 64 * M, PG);
		if (v.n > maxn)
			maxn = v.n;
		if (found < 0 && hot_overlap(&v, hs0, he0) >= 51 * M * 9 / 10)
			found = ep;
	}
	ok(found > 0, "hot set covers >= 90%% of the hot span after %d epochs", found);
	ok(hot_overlap(&v, hs0, he0) >= 51 * M * 9 / 10, "and still does at the end (%.1f MiB of 51)",
	   hot_overlap(&v, hs0, he0) / (double)M);
	ok(maxn < 100, "few ranges needed (max %zu, now %zu)", maxn, v.n);
	tap_diag("ranges after the first hot set: %zu (max %zu)", v.n, maxn);
	is_int(atomic_load(&c.samples), 80 * 400, "every sample counted");

	/* the hot set moves: ranges follow, cold ranges merge back */
	uintptr_t hs1 = B + 400 * M, he1 = hs1 + 51 * M;
	found = -1;
	for (ep = 81; ep <= 200; ep++) {
		stream(&c, 400, 0.9, s, e, hs1, he1);
		epoch(&c, &v, (uint64_t)ep);
		ord = realloc(ord, v.n * sizeof(*ord));
		ht_classify_rank(&v, ord);
		ht_classify_hotset(&v, ord, 64 * M, PG);
		if (found < 0 && hot_overlap(&v, hs1, he1) >= 51 * M * 9 / 10)
			found = ep - 80;
	}
	ok(found > 0, "moved hot set found after %d epochs", found);
	ok(hot_overlap(&v, hs0, he0) < 51 * M / 10, "old hot span left the hot set (%.1f MiB)", hot_overlap(&v, hs0, he0) / (double)M);
	ok(v.n <= maxn + 20, "merging keeps the range count bounded (%zu)", v.n);
	tap_diag("ranges at the end: %zu", v.n);
	free(ord);
	ht_counter_fini(&c);
	ht_ranges_free(&v);

	/*
	 * Hot and cold 8 MiB blocks in turn, not aligned to anything (as a
	 * program's buffers lie in an arena), budget 56 MiB: middling ranges
	 * holding both must split until the hot set is the hot blocks, give or
	 * take min_range at their edges. Neighbour comparison alone (split_sigma
	 * at its maximum) stops at two ranges and 24 MiB of each.
	 */
	struct ht_counter c2 = { 0 };
	uintptr_t base = B + 0x3fd000;
	ht_rangemap_add(&v, B, B + 104 * M, 0, 0, P.max_ranges, NULL, NULL);
	ht_counter_publish(&c2, &v);
	ord = NULL;
	uint64_t hot_in = 0, cold_in = 0;
	for (ep = 1; ep <= 60; ep++) {
		uint64_t a[4000];
		for (int i = 0; i < 4000; i++)
			a[i] = base + (2 * (xr() % 6)) * 8 * M + xr() % (8 * M);
		ht_counter_ingest(&c2, a, sizeof(a[0]), 4000);
		epoch(&c2, &v, (uint64_t)ep);
		ord = realloc(ord, v.n * sizeof(*ord));
		ht_classify_rank(&v, ord);
		ht_classify_hotset(&v, ord, 56 * M, PG);
	}
	for (int k = 0; k < 12; k++) {
		uintptr_t bs = base + k * 8 * M;
		(k % 2 ? &cold_in : &hot_in)[0] += hot_overlap(&v, bs, bs + 8 * M);
	}
	ok(hot_in >= 48 * M * 9 / 10, "interleaved blocks: hot blocks in the hot set (%.1f MiB of 48)", hot_in / (double)M);
	ok(cold_in <= 12 * M, "interleaved blocks: cold blocks only at their edges (%.1f MiB of 48)", cold_in / (double)M);
	tap_diag("interleaved blocks: %zu ranges", v.n);
	free(ord);
	ht_counter_fini(&c2);
	ht_ranges_free(&v);

	/* THP (align 2 MiB): cuts and a hot prefix fall on huge page boundaries, in a range that starts off one */
	struct ht_classify_params Q = P;
	Q.align = 2 * M;
	uintptr_t s0 = B + 5 * PG;
	for (int pass = 0; pass < 2; pass++) {
		ht_rangemap_add(&v, s0, s0 + 64 * M, 0, 0, 100, NULL, NULL);
		v.r[0].count = 190;
		for (int b = 0; b < HT_BINS; b++)
			v.r[0].bins[b] = middle[b];
		is_int(ht_classify_split(&v, pass ? &Q : &P, 1), 2, "hot middle, range at +20 KiB (%s): two cuts",
		       pass ? "align 2 MiB" : "align 4 KiB");
		uintptr_t c1 = v.n == 3 ? v.r[1].start : 1, c2e = v.n == 3 ? v.r[1].end : 1;
		if (pass)
			ok(c1 % (2 * M) == 0 && c2e % (2 * M) == 0 && c1 >= s0 + 22 * M && c2e <= s0 + 42 * M,
			   "cuts on huge page boundaries next to the hot part's edges (+%.3f, +%.3f MiB)", (c1 - s0) / (double)M,
			   (c2e - s0) / (double)M);
		else
			ok(c1 % (2 * M) && c2e % (2 * M), "without it the cuts split huge pages (+%.3f MiB)", (c1 - s0) / (double)M);
		ht_ranges_free(&v);
	}
	ht_rangemap_add(&v, s0, s0 + 64 * M, 0, 0, 100, NULL, NULL);
	v.r[0].count = 40; /* a lone significant range, no eighths: halves */
	is_int(ht_classify_split(&v, &Q, 1), 1, "align 2 MiB: a lone range halves");
	ok(v.n == 2 && v.r[0].end % (2 * M) == 0, "at a huge page boundary (+%.3f MiB)", (v.r[0].end - s0) / (double)M);
	ht_ranges_free(&v);
	ht_rangemap_add(&v, s0, s0 + 64 * M, 0, 0, 100, NULL, NULL);
	v.r[0].count = 100;
	size_t one = 0;
	uint64_t room = 9 * M + 123 * PG, used = ht_classify_hotset_pages(&v, &one, room, PG, 2 * M, NULL, 0);
	uintptr_t pe = s0 + v.r[0].hot_bytes;
	ok(pe % (2 * M) == 0 && v.r[0].hot_bytes <= room && v.r[0].hot_bytes + 2 * M > room,
	   "a partial range's hot prefix ends on a huge page boundary under the room (%.3f of %.3f MiB)",
	   v.r[0].hot_bytes / (double)M, room / (double)M);
	ok(used <= room, "hot set within the budget (%.3f MiB)", used / (double)M);
	ht_ranges_free(&v);
	/*
	 * Two memories (decay_long): a steady stream is ranked on the long
	 * counts, and when the hot ranges move the short ones take over within
	 * an epoch or two; the long memory alone needs about four.
	 */
	{
		struct ht_classify_params Q = P;
		int lm = -1, lm1 = -1, lm2 = -1;
		double tot, tot1, tot2;
		ok(Q.decay_long == 0.84, "decay_long on by default (%.2f)", Q.decay_long);
		int both = memories(&Q, &lm, &tot);
		ok(lm == 1 && tot > 1000, "steady stream: ranked on the long memory (longmem %d, counts %.0f: 400 / 0.16 = 2500)",
		   lm, tot);
		ok(both <= 2 && Q.longmem == 0, "hot ranges moved: ranked first after %d epochs, on the short memory again (%d)",
		   both, Q.longmem);
		Q = P;
		Q.decay = 0.84;
		Q.decay_long = 0;
		Q.shift = 0; /* plain decay at 0.84 (with the shift it would rank them in one) */
		int longonly = memories(&Q, &lm1, &tot1);
		ok(longonly > both && longonly >= 3, "the long memory alone takes %d epochs", longonly);
		Q = P;
		Q.decay_long = 0;
		int shortonly = memories(&Q, &lm2, &tot2);
		ok(lm2 == 0 && tot2 > 700 && tot2 < 900 && shortonly <= 2,
		   "decay_long off: one memory (counts %.0f: 400 / 0.5 = 800), moved set first after %d epochs", tot2, shortonly);
	}
	/*
	 * decay_shift: a range whose epoch hits fall clearly short of its
	 * count's share of them shrinks by the most those hits leave plausible
	 * over that share (Wilson edge at split_sigma 3: 9 for none, so 9/100
	 * of its plain 100); rises, noise, an idle epoch and the long memory
	 * decay plainly.
	 */
	{
		struct ht_classify_params Q = P;
		Q.decay_long = 0;
		ok(Q.shift == 0, "decay_shift off by default");
		struct ht_ranges w = { 0 };
		ht_rangemap_add(&w, B, B + 16 * M, 0, 0, 100, NULL, NULL);
		ht_rangemap_cut(&w, B + 8 * M);
		/* r0 count, r1 count, r0 hits, r1 hits */
		double c[5][4] = { { 200, 200, 100, 100 }, { 200, 200, 0, 200 }, { 0, 200, 100, 100 }, { 200, 200, 80, 120 }, { 200, 200, 0, 0 } };
		double got[5], plain[5];
		for (int sh = 1; sh >= 0; sh--) /* on, then off */
			for (int k = 0; k < 5; k++) {
				Q.shift = sh;
				for (int j = 0; j < 2; j++) {
					w.r[j].count = c[k][j];
					w.r[j].hits = (uint64_t)c[k][2 + j];
					for (int b = 0; b < HT_BINS; b++) {
						w.r[j].bins[b] = c[k][j] / HT_BINS;
						w.r[j].bin_hits[b] = b == 0 ? (uint32_t)c[k][2 + j] : 0;
					}
				}
				ht_classify_decay(&w, &Q);
				(sh ? got : plain)[k] = w.r[0].count;
				if (sh && k == 1)
					ok(fabs(w.r[0].bins[3] - 9.0 / HT_BINS) < 1e-9 && w.r[1].count == 300,
					   "gone cold: its eighths keep their shape (%.3f), the busy range decays plainly (%.0f)",
					   w.r[0].bins[3], w.r[1].count);
			}
		ok(got[0] == 200 && plain[0] == 200, "steady rate (its share of the hits): plain decay, %.1f", got[0]);
		ok(fabs(got[1] - 9) < 1e-9 && plain[1] == 100, "gone cold (none of 200 hits, 100 foretold): %.1f, not the plain %.1f",
		   got[1], plain[1]);
		ok(got[2] == 100 && plain[2] == 100, "gone hot: plain decay, %.1f (no count above its samples)", got[2]);
		ok(got[3] == 180 && plain[3] == 180, "noise (80 hits where 100 foretold): plain decay, %.1f", got[3]);
		ok(got[4] == 100 && plain[4] == 100, "an idle epoch (no hits anywhere): plain decay, %.1f", got[4]);
		Q.shift = 1;
		Q.decay_long = 0.84;
		Q.longmem = 1;
		Q.score = 1e9; /* steady: the long memory stays chosen */
		w.r[0].count = w.r[0].alt = 200;
		w.r[1].count = w.r[1].alt = 200;
		w.r[0].hits = 0;
		w.r[1].hits = 200;
		ht_classify_decay(&w, &Q);
		ok(Q.longmem == 1 && fabs(w.r[0].count - 168) < 1e-9, "ranked on the long memory: plain decay, %.1f", w.r[0].count);
		ht_ranges_free(&w);
		Q = P;
		Q.decay_long = 0;
		Q.shift = 1;
		int lm = -1;
		double tot;
		int on = memories(&Q, &lm, &tot);
		Q = P;
		Q.decay_long = 0;
		Q.shift = 0;
		int off = memories(&Q, &lm, &tot);
		ok(on < off, "moved hot ranges ranked first after %d epochs (%d with decay_shift=0)", on, off);
	}
	return tap_done();
}
