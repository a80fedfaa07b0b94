/* budget.c - the CPU-budget controller (see budget.h). */
#include "budget.h"
#include "../core/log.h"
#include <string.h>

static int is_prime(uint64_t n)
{
	if (n < 2)
		return 0;
	for (uint64_t d = 2; d * d <= n; d++)
		if (n % d == 0)
			return 0;
	return 1;
}

uint64_t ht_next_prime(uint64_t n)
{
	while (!is_prime(n))
		n++;
	return n;
}

/* Rungs about 25% apart: each step changes the sampling cost by ~1/5. */
static void build_ladder(struct ht_budget *b, uint64_t lo, uint64_t hi)
{
	uint64_t p = ht_next_prime(lo < 2 ? 2 : lo);
	b->rungs = 0;
	while (p <= hi && b->rungs < HT_BUDGET_LADDER) {
		b->ladder[b->rungs++] = p;
		p = ht_next_prime(p + p / 4 + 1);
	}
	if (!b->rungs)
		b->ladder[b->rungs++] = lo;
}

void ht_budget_init(struct ht_budget *b, const struct ht_conf *c)
{
	memset(b, 0, sizeof(*b));
	b->enabled = c->period_auto != 0;
	b->budget_pct = c->cpu_budget;
	b->window_ns = c->budget_window * 1000ull;
	b->period = (uint64_t)c->sample_period;
	if (!b->enabled)
		return;
	build_ladder(b, (uint64_t)c->period_min, (uint64_t)c->period_max);
	/* Start on the rung nearest the configured period. */
	b->rung = 0;
	for (int i = 0; i < b->rungs; i++)
		if (b->ladder[i] <= b->period)
			b->rung = i;
	if (b->rung + 1 < b->rungs &&
	    b->ladder[b->rung + 1] - b->period < b->period - b->ladder[b->rung])
		b->rung++;
	b->period = b->ladder[b->rung];
}

uint64_t ht_budget_update(struct ht_budget *b, uint64_t now_ns, uint64_t cpu_ns)
{
	if (!b->enabled)
		return 0;
	if (!b->started) {
		b->started = 1;
		b->win_start_ns = now_ns;
		b->win_start_cpu = cpu_ns;
		return 0;
	}
	uint64_t wall = now_ns - b->win_start_ns;
	if (wall < b->window_ns)
		return 0;
	double pct = 100.0 * (double)(cpu_ns - b->win_start_cpu) / (double)wall;
	double prev = b->prev_pct;
	b->prev_pct = pct;
	b->calm_windows++;
	b->win_start_ns = now_ns;
	b->win_start_cpu = cpu_ns;

	int to = b->rung;
	if (pct > b->budget_pct && b->rung + 1 < b->rungs) {
		to = b->rung + 1; /* over budget in this window: sample less at once */
	} else if (b->rung > 0 && b->calm_windows >= 2) {
		/* Down only when this window and the one before it (both since
		 * the last change) would still fit one rung further down: cost
		 * scales with 1/period. One noisy quiet window never steps down. */
		double worst = pct > prev ? pct : prev;
		double r = (double)b->ladder[b->rung] / (double)b->ladder[b->rung - 1];
		double r2 = b->rung > 1 ? (double)b->ladder[b->rung - 1] / (double)b->ladder[b->rung - 2] : r;
		if (worst * r * r2 <= b->budget_pct)
			to = b->rung - 1;
	}
	if (to == b->rung)
		return 0;
	struct ht_budget_change *h = &b->hist[b->changes % HT_BUDGET_HISTORY];
	h->time_ns = now_ns;
	h->from = b->ladder[b->rung];
	h->to = b->ladder[to];
	h->cpu_pct = pct;
	b->changes++;
	b->rung = to;
	b->calm_windows = 0;
	b->period = b->ladder[to];
	ht_info("sampler CPU %.2f%% of a core (budget %.2f%%): sample period %llu -> %llu", pct, b->budget_pct,
		(unsigned long long)h->from, (unsigned long long)h->to);
	return b->period;
}
