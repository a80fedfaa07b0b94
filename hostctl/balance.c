/* balance.c - one step of moving fast-tier quota to where the hot sets are.
 * Donors (hot set fits in less) shrink first, each by at most the step;
 * what they give back plus the free pool then goes to the VMs whose hot
 * set exceeds their quota, biggest gap first. A VM's target is clamped to
 * its floor and ceiling before anything moves, so a guest that claims a
 * huge hot set gets at most its ceiling, and only out of the pool and what
 * other VMs do not need themselves. */
#include "balance.h"
#include "size.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t add_sat(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }
static uint64_t min_u(uint64_t a, uint64_t b) { return a < b ? a : b; }
static uint64_t down(uint64_t v, uint64_t g) { return g > 1 ? v / g * g : v; }
static uint64_t up(uint64_t v, uint64_t g) { return g > 1 ? add_sat(v, g - 1) / g * g : v; }

struct want { size_t i; uint64_t need, gap, target; };

static int by_gap(const void *a, const void *b)
{
	const struct want *x = a, *y = b;
	if (x->gap != y->gap)
		return x->gap < y->gap ? 1 : -1;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* The reason's tail: the hot set against the quota, and any clamp. */
static void cause(const struct hc_bvm *v, uint64_t target, const char *rel, char *b, size_t n)
{
	char h[32], q[32], c[32];
	int k = snprintf(b, n, "hot set %s %s quota %s", hc_fmt_size(v->hot, h, 32), rel, hc_fmt_size(v->quota, q, 32));
	if (target == v->floor && target > v->hot)
		snprintf(b + k, n - k, " (floor %s)", hc_fmt_size(v->floor, c, 32));
	else if (target == v->ceil && target < v->hot)
		snprintf(b + k, n - k, " (capped at ceiling %s)", hc_fmt_size(v->ceil, c, 32));
}

size_t hc_balance(struct hc_bvm *v, size_t n, const struct hc_bparams *p)
{
	struct want *w = calloc(n + 1, sizeof(*w));
	uint64_t avail = p->pool;
	size_t nw = 0, changed = 0;
	char a[32], b[32], c[160];
	for (size_t i = 0; i < n; i++) {
		struct hc_bvm *x = &v[i];
		x->next = x->quota;
		if (x->guaranteed) {
			snprintf(x->why, sizeof(x->why), "guaranteed: grant %s fast kept", hc_fmt_size(x->quota, a, 32));
			continue;
		}
		if (!x->known) {
			snprintf(x->why, sizeof(x->why), "no demand report: %s fast kept", hc_fmt_size(x->quota, a, 32));
			continue;
		}
		uint64_t t = up(add_sat(x->hot, p->headroom), p->grain);
		if (t < x->floor)
			t = x->floor;
		if (x->ceil && t > x->ceil)
			t = x->ceil;
		/* Outside floor or ceiling (the operator moved them): go there now. */
		int forced = x->quota < x->floor || (x->ceil && x->quota > x->ceil);
		uint64_t gap = t > x->quota ? t - x->quota : x->quota - t;
		if (!forced && gap < p->hysteresis) {
			cause(x, t, t > x->quota ? ">" : "<=", c, sizeof(c));
			snprintf(x->why, sizeof(x->why), "held at %s fast, %s, gap %s within hysteresis",
				 hc_fmt_size(x->quota, a, 32), c, hc_fmt_size(gap, b, 32));
			continue;
		}
		uint64_t mv = forced ? gap : min_u(gap, p->step);
		if (!forced && mv < gap)
			mv = down(mv, p->grain);
		if (t < x->quota) {
			x->next = x->quota - mv;
			avail = add_sat(avail, mv);
			cause(x, t, "fits in", c, sizeof(c));
			snprintf(x->why, sizeof(x->why), "-%s fast, %s", hc_fmt_size(mv, a, 32), c);
			changed += mv > 0;
		} else if (mv) {
			w[nw++] = (struct want){ i, mv, forced ? UINT64_MAX : gap, t };
		}
	}
	/* Floors first (their gap sorts as the largest), then the biggest gap. */
	qsort(w, nw, sizeof(*w), by_gap);
	for (size_t k = 0; k < nw; k++) {
		struct hc_bvm *x = &v[w[k].i];
		uint64_t g = min_u(w[k].need, avail);
		if (g < w[k].need && w[k].gap != UINT64_MAX)
			g = down(g, p->grain);
		if (w[k].gap == UINT64_MAX)
			g = w[k].need; /* a floor is owed whatever the pool says */
		avail = avail == UINT64_MAX ? avail : avail - min_u(g, avail);
		x->next = x->quota + g;
		cause(x, w[k].target, ">", c, sizeof(c));
		if (!g)
			snprintf(x->why, sizeof(x->why), "wants +%s fast, none free, %s", hc_fmt_size(w[k].need, a, 32), c);
		else if (g == w[k].need)
			snprintf(x->why, sizeof(x->why), "+%s fast, %s", hc_fmt_size(g, a, 32), c);
		else
			snprintf(x->why, sizeof(x->why), "+%s fast of %s wanted (no more free), %s", hc_fmt_size(g, a, 32),
				 hc_fmt_size(w[k].need, b, 32), c);
		changed += g > 0;
	}
	free(w);
	return changed;
}
