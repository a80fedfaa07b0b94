/* balance.h - where the fast tier should go: one step of `hostctl balance`.
 * A pure function of what the VMs report and the operator's limits, so that
 * every rule is tested without a VM. */
#ifndef HC_BALANCE_H
#define HC_BALANCE_H
#include <stddef.h>
#include <stdint.h>

struct hc_bvm {
	const char *name;
	int guaranteed;      /* its grant is kept as it is */
	int known;           /* the guest reported demand */
	uint64_t floor, ceil; /* class floor and ceiling (ceil: tier size if no --fast-max) */
	uint64_t quota;      /* fast quota in force */
	uint64_t hot;        /* reported hot set (a guest may lie: only ever bounded) */
	uint64_t next;       /* out: the fast quota after this step */
	char why[160];       /* out: the reason, one line */
};

struct hc_bparams {
	uint64_t pool;       /* fast bytes no VM holds (UINT64_MAX: unlimited) */
	uint64_t headroom;   /* added to the hot set: the guest's own fast use */
	uint64_t hysteresis; /* a gap below this moves nothing */
	uint64_t step;       /* at most this much up or down per VM per step */
	uint64_t grain;      /* moves are multiples of this (a power of two) */
};

/* One step: fills next and why of every VM; returns how many changed. Never
 * below a floor, above a ceiling, or more than the pool plus what others
 * give back in the same step; guaranteed and unreported VMs keep theirs. */
size_t hc_balance(struct hc_bvm *v, size_t n, const struct hc_bparams *p);
#endif
