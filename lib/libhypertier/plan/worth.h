/*
 * worth.h - is a move worth its cost? A page's decayed sample count is the
 * classifier's estimate of its samples over the next 1/(1-decay) epochs
 * (the count's own time constant), and each sample stands for
 * sample_period accesses. A promotion paired with a demotion gains
 * (count_p - count_q) x period x (slow - fast latency) and costs two moves.
 * A pair is made only when that expected gain beats the cost and the
 * difference is beyond sampling noise (Poisson: variance = count), so
 * sparse samples and phase flicker do not buy moves that never pay back.
 * Early epochs (engine.h) come sooner than the timer's, so their counts
 * cover less time: the gain is scaled up to a timer epoch's span, as the
 * placement stands at least until the timer would re-rank it.
 */
#ifndef HT_WORTH_H
#define HT_WORTH_H
#include <stddef.h>
#include <stdint.h>
#include "../core/conf.h"
#include "../core/topo.h"

struct ht_worth {
	double gain_ns;  /* per decayed sample on the fast tier: period x latency gap; 0: gate off */
	double move_ns;  /* one page move */
	double sigma;    /* noise margin, standard deviations (conf split_sigma) */
	double scale;    /* timer epoch / this epoch's span (>= 1): an early epoch's count covers less time */
};

/* Latencies from the topology (HMAT), else from SLIT distances x a 100 ns local load. */
void ht_worth_init(struct ht_worth *w, const struct ht_conf *c, const struct ht_topo *t);

/*
 * Counts are per page (a range's count x page / its length), var their
 * variance (a range's count x (page / length)^2: the page shares its
 * range's noise). q_count < 0: no partner (free room). 1: worth it.
 */
int ht_worth_pair(const struct ht_worth *w, double p_count, double p_var, double q_count, double q_var);
#endif
