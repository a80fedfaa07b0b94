/*
 * damon_kdamond.h - one kdamond of the kernel's DAMON sysfs interface,
 * claimed, set up to monitor one process (operations vaddr) and given back.
 *
 * DAMON's sysfs has a fixed set of kdamond slots: nr_kdamonds can only be
 * written while every kdamond is off, and writing it recreates them all. So
 * a slot is never created while another runs; we take an existing one that
 * is free: never configured, or left by a process that is gone. Claims are
 * serialised by flock(2) on kdamonds/nr_kdamonds and recorded in root's
 * runtime directory as "pid starttime", so a SIGKILLed owner's slot is
 * reclaimed on the next start and an exec'd image (same pid and starttime)
 * takes its predecessor's slot back. Other users' kdamonds (a paddr
 * reclaimer, an operator's damo session) are never touched.
 */
#ifndef HT_DAMON_KDAMOND_H
#define HT_DAMON_KDAMOND_H
#include <stddef.h>
#include <stdint.h>

#define HT_DAMON_ROOT "/sys/kernel/mm/damon/admin"

struct ht_damon_attrs {
	uint64_t sample_us, aggr_us, update_us;
	uint64_t min_regions, max_regions;
	int slots;           /* kdamonds to create when there are none */
};

struct ht_kdamond {
	char root[160];      /* .../admin */
	int idx;             /* claimed kdamond, -1 none */
	int pid;             /* its kernel thread */
	int owner;           /* the process it monitors (us) */
	char claim[192];     /* claim record path */
};

/* Read-only: could a slot be claimed here? 0, or -1 with one line in why. */
int ht_kdamond_probe(const char *root, char *why, size_t whylen);
/* Claim a slot, monitor pid with a, turn it on. 0, or -errno with why. */
int ht_kdamond_start(struct ht_kdamond *k, const char *root, const struct ht_damon_attrs *a, int pid,
		     char *why, size_t whylen);
/* Turn it off, clear its configuration and the claim. Safe on a zeroed or stopped k. */
void ht_kdamond_stop(struct ht_kdamond *k);
/* 1 while the claimed kdamond still runs. */
int ht_kdamond_running(const struct ht_kdamond *k);
#endif
