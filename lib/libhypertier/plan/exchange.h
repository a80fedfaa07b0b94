/*
 * exchange.h - the pairwise exchange planner. Each epoch: read where the
 * managed pages really are (actuator query, never the sample), list the
 * slow-tier pages of hot ranges (promotion) and the fast-tier pages of the
 * coldest ranges (demotion), then move them in pairs - demote a batch,
 * promote as many - so the fast tier never goes over budget and needs no
 * free memory beyond one batch. With room, promote without demoting.
 * With the page layer (x->pg), single pages join in: hot pages outside the
 * hot part of their range compete for promotion by density, and cold pages
 * of dense ranges are the first demoted.
 */
#ifndef HT_EXCHANGE_H
#define HT_EXCHANGE_H
#include <stdint.h>
#include "../actuator/actuator.h"
#include "../core/conf.h"
#include "../ranges/range.h"
#include "../ranges/pages.h"
#include "backoff.h"
#include "worth.h"

struct ht_xstats {
	uint64_t promoted, demoted, bytes_moved;
	uint64_t fail_enoent, fail_ebusy, fail_enomem, fail_other;
	uint64_t fast_used, slow_used; /* bytes at the last scan */
	uint64_t backed_off;           /* pages skipped while backed off */
	uint64_t single;               /* pages planned for promotion on their own (page layer) */
};

struct ht_exchange {
	const struct ht_conf *conf;
	struct ht_actuator *act;
	int fast, slow;        /* node ids */
	size_t page;
	int paced;             /* sleep between batches to hold conf->migrate_rate (thread mode) */
	size_t scan_cursor;    /* rolling placement scan: next range index */
	struct ht_backoff *backoff;
	struct ht_pages *pg;   /* the page-grain layer (ranges/pages.h), or NULL */
	struct ht_worth worth; /* is a move worth its cost (worth.h); set by the engine */
	/* set by the owner: drops planned pages whose memory changed hands since the plan (n kept) */
	size_t (*keep)(void *arg, void **pages, size_t n);
	void *keep_arg;
	void **buf;            /* query scratch */
	int *nodes;
	struct ht_xstats st;
};

/* One planned move list, built under the engine mutex and run without it. */
struct ht_xplan {
	void **promo, **demo;
	double *pd, *dd;       /* density of each candidate's range (pairing hysteresis) */
	double *pv, *dv;       /* variance of each candidate's per-page count (move-worth gate) */
	size_t np, nd, cap_p, cap_d;
	int64_t fast_pages;    /* fast-tier pages before the moves */
	int64_t budget_pages;
};

int ht_exchange_init(struct ht_exchange *x, const struct ht_conf *c, struct ht_actuator *act, int fast, int slow);
void ht_exchange_fini(struct ht_exchange *x);
void ht_xplan_free(struct ht_xplan *p);

/* Query placement of (part of) the ranges: sets fast_pages/slow_pages, x->st.fast_used/slow_used. */
void ht_exchange_scan(struct ht_exchange *x, struct ht_ranges *v);
/*
 * Build the move lists for this epoch from the hot set (hot_bytes) and the
 * rank order; at most allowance bytes of moves. Needs the scan first.
 */
int ht_exchange_plan(struct ht_exchange *x, struct ht_ranges *v, const size_t *order, uint64_t budget,
		     uint64_t allowance, uint64_t epoch, struct ht_xplan *p);
/* Run the plan (no engine lock needed: pages gone meanwhile just fail). Adds to *delta; returns pages moved. */
long ht_exchange_run(struct ht_exchange *x, struct ht_xplan *p, uint64_t epoch, struct ht_xstats *delta);
/* Where are these (sampled) addresses? Adds to *fast and *located. */
void ht_exchange_locate(struct ht_exchange *x, const uintptr_t *addrs, size_t n, uint64_t *fast, uint64_t *located);
/*
 * Policy for pages touched later: hot ranges prefer fast, hinted-cold ones
 * slow; other cold ranges prefer slow only when the hot set fills the budget.
 */
void ht_exchange_policy(struct ht_exchange *x, struct ht_ranges *v, int full);
#endif
