/*
 * budget.h - keep the sampler thread under conf->cpu_budget percent of one
 * core by stepping the load sample period along a ladder of primes in
 * [period_min, period_max] (primes avoid locking onto loop strides; Memtis
 * does the same).
 *
 * Smooth on purpose (Demeter saw auto-tuning overshoot and bias samples):
 * at most one rung per budget_window; up as soon as a window's CPU share is
 * over budget; down only when the last two windows (both after the last
 * change) would still fit one rung further down (a rung of hysteresis, so
 * it does not oscillate between neighbours on one noisy window).
 * Off (period_auto=0) the period stays conf->sample_period.
 */
#ifndef HT_BUDGET_H
#define HT_BUDGET_H
#include <stdint.h>
#include "../core/conf.h"

#define HT_BUDGET_LADDER 64
#define HT_BUDGET_HISTORY 16

struct ht_budget_change {
	uint64_t time_ns, from, to;
	double cpu_pct; /* the window's measured share that caused it */
};

struct ht_budget {
	int enabled;
	double budget_pct;
	uint64_t window_ns;
	uint64_t ladder[HT_BUDGET_LADDER];
	int rungs, rung;
	uint64_t period;
	uint64_t win_start_ns, win_start_cpu;
	double prev_pct;   /* the previous window's share */
	int calm_windows;  /* windows since the last change */
	int started;
	uint64_t changes;
	struct ht_budget_change hist[HT_BUDGET_HISTORY]; /* last changes, ring */
};

void ht_budget_init(struct ht_budget *b, const struct ht_conf *c);
/*
 * Feed the sampler thread's CPU time and the wall clock (both ns). Returns
 * the new period when it changed this call, else 0.
 */
uint64_t ht_budget_update(struct ht_budget *b, uint64_t now_ns, uint64_t cpu_ns);
/* Smallest prime >= n (n >= 2). */
uint64_t ht_next_prime(uint64_t n);
#endif
