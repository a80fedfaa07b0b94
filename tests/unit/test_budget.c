/*
 * The CPU-budget controller on synthetic CPU time: off by default, a prime
 * ladder within bounds, one step per window, up when over budget, down only
 * with a rung of margin (no oscillation), every change recorded.
 */
#include "tap.h"
#include "source/budget.h"
#include "source/sampler.h"
#include <time.h>
#include <unistd.h>

static const uint64_t S = 1000000000ull;

/* Feed one window at the given CPU share; returns the new period or 0. */
static uint64_t window(struct ht_budget *b, uint64_t *now, uint64_t *cpu, double pct)
{
	*now += S;
	*cpu += (uint64_t)(pct / 100.0 * S);
	return ht_budget_update(b, *now, *cpu);
}

static int is_prime(uint64_t n)
{
	for (uint64_t d = 2; d * d <= n; d++)
		if (n % d == 0)
			return 0;
	return n > 1;
}

/* A source whose drain costs CPU in proportion to 1/period, as a PMU's would. */
static uint64_t fake_period, fake_sets;
static int fake_probe(const struct ht_conf *c, char *why, size_t whylen) { return 0; }
static int fake_start(struct ht_source *s, char *why, size_t whylen)
{
	fake_period = s->stats.period = (uint64_t)s->conf->sample_period;
	return 0;
}
static void fake_stop(struct ht_source *s) {}
static uint64_t thread_cpu(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * S + (uint64_t)ts.tv_nsec;
}
static long fake_drain(struct ht_source *s, ht_sample_fn fn, void *arg)
{
	uint64_t cost = 4000000ull * 1009 / fake_period; /* 4 ms per drain at period 1009 */
	uint64_t t0 = thread_cpu();
	while (thread_cpu() - t0 < cost)
		;
	return 0;
}
static int fake_set_period(struct ht_source *s, uint64_t p)
{
	fake_period = s->stats.period = p;
	fake_sets++;
	return 0;
}
static const struct ht_source_ops fake = { "fake", fake_probe, fake_start, fake_stop, fake_drain, fake_set_period };
static void nop(void *arg, const struct ht_sample *s, size_t n) {}

/* The sampler thread runs the controller on its own CPU time. */
static void sampler_loop(void)
{
	struct ht_conf c;
	struct ht_source_stats st;
	char why[256];
	uint64_t cpu;
	ht_conf_defaults(&c);
	if (ht_conf_parse(&c, "period_auto=1,cpu_budget=5,drain_interval=10ms,budget_window=100ms", why, sizeof(why)))
		tap_bail(why);
	struct ht_sampler *s = ht_sampler_create(&c, &fake, nop, NULL, why, sizeof(why));
	if (!s)
		tap_bail(why);
	uint64_t p0 = fake_period; /* create moved it onto the ladder: one set */
	ht_sampler_start(s);
	/* Until it has steered twice (60 s: stuck, not slow); its CPU share is the bench's business. */
	for (int i = 0; i < 600; i++) {
		usleep(100000);
		ht_sampler_get_stats(s, &st, &cpu);
		if (st.period_changes >= 2)
			break;
	}
	ht_sampler_stop(s);
	ht_sampler_get_stats(s, &st, &cpu);
	double share = 100.0 * (4000000.0 * 1009 / (double)fake_period) / 1e7; /* modelled, per 10 ms */
	ok(fake_period > p0 && st.period_changes >= 2 && fake_sets == st.period_changes + 1,
	   "the sampler thread steered the period on its own CPU time: %llu -> %llu in %llu steps, each one set_period",
	   (unsigned long long)p0, (unsigned long long)fake_period, (unsigned long long)st.period_changes);
	is_int(st.period, fake_period, "stats report the period in force");
	tap_diag("modelled cost at the final period %.1f%% (budget 5%%), %.1f ms CPU", share, cpu / 1e6);
	ht_sampler_destroy(s);
}

int main(void)
{
	struct ht_conf c;
	struct ht_budget b;
	char err[256];
	uint64_t now = 5 * S, cpu = 0;

	ht_conf_defaults(&c);
	ht_budget_init(&b, &c);
	ok(!b.enabled && b.period == 4093, "default: controller off, fixed period 4093");
	ht_budget_update(&b, now, cpu);
	ok(window(&b, &now, &cpu, 50) == 0 && b.period == 4093 && b.changes == 0, "off: 50%% CPU changes nothing");

	ht_conf_parse(&c, "period_auto=1,cpu_budget=1,period_min=1009,period_max=100003,budget_window=1s", err, sizeof(err));
	ht_budget_init(&b, &c);
	ok(b.enabled && b.rungs > 10, "on: a ladder of %d rungs", b.rungs);
	int primes = 1, inside = 1, rising = 1;
	for (int i = 0; i < b.rungs; i++) {
		primes &= is_prime(b.ladder[i]);
		inside &= b.ladder[i] >= 1009 && b.ladder[i] <= 100003;
		if (i)
			rising &= b.ladder[i] > b.ladder[i - 1] && b.ladder[i] <= b.ladder[i - 1] * 3 / 2;
	}
	ok(primes && inside && rising, "rungs are primes in [1009, 100003], rising <= 1.5x per step");
	is_int(b.ladder[0], 1009, "bottom rung is period_min (a prime)");
	ok(b.period >= 3500 && b.period <= 4700 && is_prime(b.period), "starts at the rung nearest 4093 (%llu)",
	   (unsigned long long)b.period);
	uint64_t p0 = b.period;

	now = 10 * S;
	cpu = 0;
	is_int(ht_budget_update(&b, now, cpu), 0, "first call only starts the window");
	now += S / 2;
	cpu += S / 10; /* 20% for half a window */
	is_int(ht_budget_update(&b, now, cpu), 0, "no step before the window is full");
	now += S / 2;
	uint64_t p1 = ht_budget_update(&b, now, cpu);
	ok(p1 > p0 && p1 == b.ladder[b.rung] && b.changes == 1, "over budget: one rung up (%llu -> %llu)",
	   (unsigned long long)p0, (unsigned long long)p1);
	ok(b.hist[0].from == p0 && b.hist[0].to == p1 && b.hist[0].cpu_pct > 9 && b.hist[0].cpu_pct < 11,
	   "the change is recorded with the share that caused it (%.1f%%)", b.hist[0].cpu_pct);

	/* Sustained 5x over budget: exactly one rung per window, never a jump. */
	int rung = b.rung, one_step = 1;
	for (int k = 0; k < 5; k++) {
		window(&b, &now, &cpu, 5.0);
		one_step &= b.rung == rung + 1;
		rung = b.rung;
	}
	ok(one_step && b.changes == 6, "one rung per window while over budget (%llu changes)", (unsigned long long)b.changes);

	/* Just under budget: stays (hysteresis), no flapping. */
	uint64_t ch = b.changes;
	for (int k = 0; k < 10; k++)
		window(&b, &now, &cpu, 0.9);
	is_int(b.changes, ch, "at 0.9%% of a 1%% budget the period holds (no oscillation)");
	/* Well under: one quiet window is not enough, two are; one rung at a time. */
	window(&b, &now, &cpu, 5.0);
	ch = b.changes;
	rung = b.rung;
	window(&b, &now, &cpu, 0.3);
	is_int(b.changes, ch, "one quiet window right after a change: no step down");
	window(&b, &now, &cpu, 0.3);
	ok(b.changes == ch + 1 && b.rung == rung - 1, "two quiet windows: one rung down");
	window(&b, &now, &cpu, 0.3);
	is_int(b.rung, rung - 1, "and the next window waits again");
	window(&b, &now, &cpu, 0.3);
	is_int(b.rung, rung - 2, "then one more rung");

	/* Bounds: pinned at period_max when hopelessly over, at period_min when idle. */
	for (int k = 0; k < 100; k++)
		window(&b, &now, &cpu, 80);
	is_int(b.period, b.ladder[b.rungs - 1], "capped at the top rung");
	ok(b.period <= 100003, "top rung within period_max");
	ch = b.changes;
	window(&b, &now, &cpu, 80);
	is_int(b.changes, ch, "no change recorded when already at the top");
	for (int k = 0; k < 200; k++)
		window(&b, &now, &cpu, 0);
	is_int(b.period, 1009, "idle: down to period_min");

	/* The simulated cost falls with the period: the loop settles under budget. */
	ht_budget_init(&b, &c);
	now = 100 * S;
	cpu = 0;
	ht_budget_update(&b, now, cpu);
	double cost_at_1009 = 8.0; /* % of a core at period 1009 */
	double last = 0;
	uint64_t settle_changes = 0;
	for (int k = 0; k < 200; k++) {
		last = cost_at_1009 * 1009.0 / (double)b.period;
		window(&b, &now, &cpu, last);
		if (k == 150)
			settle_changes = b.changes;
	}
	ok(last <= 1.0 && last > 0.5, "closed loop settles under the 1%% budget (%.2f%% at period %llu)", last,
	   (unsigned long long)b.period);
	is_int(b.changes, settle_changes, "and stays put once settled");
	sampler_loop();
	return tap_done();
}
