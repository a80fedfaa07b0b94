/* cli.h - what hostctl.c lends to the commands in other files
 * (cmd_balance.c): struct opts stays private to hostctl.c. */
#ifndef HC_CLI_H
#define HC_CLI_H
#include "demand.h"
#include "state.h"

struct opts;

/* One look at a VM: its tiers as QEMU, the agent and the host see them. */
struct hc_probe {
	int up, has_demand;      /* agent answered; and sent a valid demand report */
	struct hc_demand d;
	struct { int node; uint64_t size, balloon, free, total; int64_t backed; int present; } t[HC_NTIERS];
	char why[HC_WHY];        /* why the agent or the demand report is missing */
};

const char *hc_cli_state(const struct opts *o);
int hc_cli_deadline(const struct opts *o);
int hc_cli_dry_run(const struct opts *o);
void hc_cli_set_dry_run(struct opts *o);
int hc_cli_parse_size(const char *s, uint64_t *v);
/* Attach to v's QMP and agent (the caller holds v's lock): -1 if QMP fails. */
int hc_cli_probe(const struct opts *o, const struct hc_vmstate *v, struct hc_probe *p, char *why);
/* Bring v's balloons to its quotas; record the result in the state file. */
int hc_cli_apply(const struct opts *o, struct hc_vmstate *v);
int hc_cli_merge(const struct opts *o, const struct hc_vmstate *w, char *why);

int cmd_balance(struct opts *o, int argc, char **argv);
/* status --prometheus [VM]: every VM of the state file, or one. */
int hc_status_prometheus(struct opts *o, const char *key);
#endif
