/* worth.c - the move-worth gate (see worth.h). */
#include "worth.h"
#include <math.h>

void ht_worth_init(struct ht_worth *w, const struct ht_conf *c, const struct ht_topo *t)
{
	int fi = -1, si = -1;
	for (int i = 0; i < t->nr_nodes && i < HT_MAX_NODES; i++) {
		if (t->nodes[i].id == t->fast)
			fi = i;
		if (t->nodes[i].id == t->slow)
			si = i;
	}
	double gap = 0;
	if (fi >= 0 && si >= 0) {
		const struct ht_node *f = &t->nodes[fi], *s = &t->nodes[si];
		int local = t->distance[fi][fi], far = t->distance[fi][si];
		if (f->read_latency > 0 && s->read_latency > f->read_latency)
			gap = s->read_latency - f->read_latency;
		else if (local > 0 && far > local) /* SLIT: latency relative to local (10); a local load ~100 ns */
			gap = 100.0 * ((double)far / local - 1.0);
	}
	w->gain_ns = c->move_cost ? (double)c->sample_period * gap : 0;
	w->move_ns = (double)c->move_cost * 1000.0;
	w->sigma = (double)c->split_sigma;
	w->scale = 1;
}

int ht_worth_pair(const struct ht_worth *w, double p_count, double p_var, double q_count, double q_var)
{
	if (w->gain_ns <= 0)
		return 1; /* gate off, or latencies unknown: the classifier's ranking decides alone */
	int paired = q_count >= 0;
	double diff = p_count - (paired ? q_count : 0), var = p_var + (paired ? q_var : 0);
	if (diff * w->gain_ns * w->scale <= (paired ? 2 : 1) * w->move_ns)
		return 0;
	return diff > w->sigma * sqrt(var);
}

double ht_worth_scale(uint64_t span_ns, uint64_t since_ns, double decay)
{
	double span = span_ns ? (double)span_ns : 1, since = (double)since_ns;
	double d = decay > 0.99 ? 0.99 : decay < 0 ? 0 : decay;
	double window = span / (1 - d); /* a steady count's reach: hits x (1 + d + d^2 ...) */
	if (window > since)
		window = since; /* the program is younger than that: the count covers its whole life */
	if (window < span)
		window = span;
	double horizon = since > span ? since : span;
	return horizon / window;
}
