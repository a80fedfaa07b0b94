/*
 * test_worth.c - the move-worth gate: a pair is made only when the expected
 * gain beats two moves and the difference is beyond sampling noise; the
 * latency gap comes from HMAT, else from SLIT; move_cost=0 turns it off.
 */
#include <string.h>
#include "plan/worth.h"
#include "tap.h"

static struct ht_topo topo(int fast_ns, int slow_ns, int far)
{
	struct ht_topo t;
	memset(&t, 0, sizeof(t));
	t.nr_nodes = 2;
	t.nodes[0].id = 0;
	t.nodes[1].id = 1;
	t.nodes[0].read_latency = fast_ns;
	t.nodes[1].read_latency = slow_ns;
	t.distance[0][0] = t.distance[1][1] = 10;
	t.distance[0][1] = t.distance[1][0] = far;
	t.fast = 0;
	t.slow = 1;
	return t;
}

/* Defaults, with the three settings the gate reads (move_cost in us, as conf stores a duration). */
static struct ht_conf conf(uint64_t period, uint64_t move_cost_us)
{
	struct ht_conf c;
	ht_conf_defaults(&c);
	c.sample_period = period;
	c.move_cost = move_cost_us;
	return c;
}

int main(void)
{
	struct ht_worth w;
	/* period 100, gap 110 ns: one decayed sample is worth 11 us on the fast tier; a move costs 2 us */
	struct ht_conf c = conf(100, 2);
	struct ht_topo t = topo(70, 180, 20);
	ht_worth_init(&w, &c, &t);
	ok(w.gain_ns > 10999 && w.gain_ns < 11001, "gain per sample = period x HMAT gap (%.0f ns)", w.gain_ns);
	ok(ht_worth_pair(&w, 100, 100, 10, 10), "100 vs 10 samples: worth it");
	ok(!ht_worth_pair(&w, 0.3, 0.0003, 0.0, 0.0), "0.3 samples more (3.3 us) does not pay for two moves (4 us)");
	ok(ht_worth_pair(&w, 0.3, 0.0003, -1, 0), "but pays for one into free room");
	ok(!ht_worth_pair(&w, 12, 12, 6, 6), "12 vs 6 samples: within 3 sigma of noise");
	ok(ht_worth_pair(&w, 40, 40, 6, 6), "40 vs 6: beyond the noise");
	ok(!ht_worth_pair(&w, 6, 6, 12, 12), "never for a colder page");

	c = conf(10007, 2);
	ht_worth_init(&w, &c, &t);
	/* a range of 512 pages with 4 decayed samples: 1/128 per page, variance 4/512^2 */
	ok(!ht_worth_pair(&w, 4.0 / 512, 4.0 / (512.0 * 512), 0, 0), "sparse: 4 samples over a range are noise (sqrt 4 < 3)");
	ok(ht_worth_pair(&w, 16.0 / 512, 16.0 / (512.0 * 512), 0, 0), "16 samples over the range are not");

	t = topo(0, 0, 20);
	c = conf(100, 2);
	ht_worth_init(&w, &c, &t);
	ok(w.gain_ns > 9999 && w.gain_ns < 10001, "no HMAT: SLIT 20/10 gives a 100 ns gap (%.0f)", w.gain_ns);
	t = topo(0, 0, 10);
	ht_worth_init(&w, &c, &t);
	ok(w.gain_ns == 0 && ht_worth_pair(&w, 0.1, 0, 0.09, 0), "no latency gap known: the gate is off, the ranking decides");
	c = conf(100, 0);
	t = topo(70, 180, 20);
	ht_worth_init(&w, &c, &t);
	ok(w.gain_ns == 0 && ht_worth_pair(&w, 0.1, 0, 0.09, 0), "move_cost=0: off");

	/* the horizon: as long as the program has run; the count reaches span / (1 - decay) */
	uint64_t ms = 1000000ull;
	double sc = ht_worth_scale(5 * ms, 5 * ms, 0.5);
	ok(sc > 0.99 && sc < 1.01, "5 ms into a run: gain over 5 ms only (scale %.2f)", sc);
	sc = ht_worth_scale(50 * ms, 10000 * ms, 0.5);
	ok(sc > 99.9 && sc < 100.1, "10 s in, 50 ms epochs at decay 0.5: 10 s over 100 ms (scale %.1f)", sc);
	sc = ht_worth_scale(500 * ms, 600 * ms, 0.5);
	ok(sc > 0.99 && sc < 1.01, "young run: the count covers it all (scale %.2f)", sc);
	c = conf(100, 2);
	ht_worth_init(&w, &c, &t);
	w.scale = ht_worth_scale(50 * ms, 10000 * ms, 0.5);
	ok(ht_worth_pair(&w, 0.3, 0.0003, 0.0, 0.0), "10 s into a steady run, 0.3 samples more pays for two moves");
	return tap_done();
}
