/*
 * worth.h - is a move worth its cost? A page's decayed sample count is the
 * classifier's estimate of its samples over the next 1/(1-decay) epochs
 * (the count's own time constant), and each sample stands for
 * sample_period accesses. A promotion paired with a demotion gains
 * (count_p - count_q) x period x (slow - fast latency) and costs two moves.
 * A pair is made only when that expected gain beats the cost and the
 * difference is beyond sampling noise (Poisson: variance = count), so
 * sparse samples and phase flicker do not buy moves that never pay back.
 * The gain is the count's rate over the time a placement is expected to
 * stand. Nothing tells how long a program will run or a hot set last, so
 * the horizon is the time it has run so far (a program that has run for T
 * is as likely to end before T more as after): a short program, or the
 * start of a long one, buys only moves that pay back soon, and a long
 * steady one buys the tail of its hot set too. The count reaches back
 * span / (1 - decay), or the whole run when that is shorter. Page-grain
 * counts (page_decay) reach further and so are valued somewhat high; they
 * are already significant by page_hot.
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
	double scale;    /* horizon / the count's reach (ht_worth_scale), set each epoch */
};

/* Latencies from the topology (HMAT), else from SLIT distances x a 100 ns local load. */
void ht_worth_init(struct ht_worth *w, const struct ht_conf *c, const struct ht_topo *t);

/* Horizon over reach: span = this epoch's, since = the run's so far, decay = the fraction kept per epoch. */
double ht_worth_scale(uint64_t span_ns, uint64_t since_ns, double decay);

/*
 * Counts are per page (a range's count x page / its length), var their
 * variance (a range's count x (page / length)^2: the page shares its
 * range's noise). q_count < 0: no partner (free room). 1: worth it.
 */
int ht_worth_pair(const struct ht_worth *w, double p_count, double p_var, double q_count, double q_var);
#endif
