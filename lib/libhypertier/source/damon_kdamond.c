/* damon_kdamond.c - claiming and configuring a DAMON kdamond (see the header). */
#define _GNU_SOURCE
#include "damon_kdamond.h"
#include "../core/rtfile.h"
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

enum { SLOT_FREE, SLOT_STALE, SLOT_MINE_OLD, SLOT_TAKEN };

static int rd(const char *root, int i, const char *rel, char *buf, size_t len)
{
	char p[320];
	if (i >= 0)
		snprintf(p, sizeof(p), "%s/kdamonds/%d/%s", root, i, rel);
	else
		snprintf(p, sizeof(p), "%s/kdamonds/%s", root, rel);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, len - 1);
	int e = errno;
	close(fd);
	if (n < 0)
		return -e;
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

static long rd_long(const char *root, int i, const char *rel, long dflt)
{
	char b[64];
	return rd(root, i, rel, b, sizeof(b)) ? dflt : strtol(b, NULL, 10);
}

/* Write one sysfs value; -errno with the file named in why. */
static int wr(const char *root, int i, const char *rel, const char *val, char *why, size_t whylen)
{
	char p[320];
	if (i >= 0)
		snprintf(p, sizeof(p), "%s/kdamonds/%d/%s", root, i, rel);
	else
		snprintf(p, sizeof(p), "%s/kdamonds/%s", root, rel);
	int fd = open(p, O_WRONLY | O_TRUNC | O_CLOEXEC); /* as the shell's echo >: sysfs ignores O_TRUNC */
	ssize_t n = fd < 0 ? -1 : write(fd, val, strlen(val));
	int e = n < 0 ? errno : 0;
	if (fd >= 0)
		close(fd);
	if (e)
		snprintf(why, whylen, "DAMON: writing %s to %s: %s", val, p, strerror(e));
	return -e;
}

static int wr_u64(const char *root, int i, const char *rel, uint64_t v, char *why, size_t whylen)
{
	char b[32];
	snprintf(b, sizeof(b), "%" PRIu64, v);
	return wr(root, i, rel, b, why, whylen);
}

static int is_on(const char *root, int i)
{
	char b[16];
	return rd(root, i, "state", b, sizeof(b)) == 0 && !strcmp(b, "on");
}

/* Turning a kdamond off is asynchronous: wait (bounded) until it says so. */
static int turn_off(const char *root, int i)
{
	char why[256];
	if (!is_on(root, i))
		return 0;
	wr(root, i, "state", "off", why, sizeof(why));
	for (int t = 0; t < 2000 && is_on(root, i); t++) {
		struct timespec ts = { 0, 1000000 };
		nanosleep(&ts, NULL);
	}
	return is_on(root, i) ? -EBUSY : 0;
}

/* Claims are per sysfs root (tests use a fake one) and per slot. */
static int claim_path(const char *root, int i, char *buf, size_t len, int create)
{
	char d[128], why[256];
	uint32_t h = 2166136261u;
	for (const char *c = root; *c; c++)
		h = (h ^ (unsigned char)*c) * 16777619u;
	for (int k = 0; ht_rtdir_default((unsigned)geteuid(), k, d, sizeof(d)); k++)
		if (ht_rtdir_ok(d, (unsigned)geteuid(), create, why, sizeof(why))) {
			snprintf(buf, len, "%s/damon-%08x-%d.claim", d, h, i);
			return 0;
		}
	return -1;
}

/* The claim record of slot i: its writer's pid and starttime (0 0 if none). */
static void read_claim(const char *root, int i, int *pid, uint64_t *start)
{
	char p[192], b[64], why[256];
	*pid = 0;
	*start = 0;
	if (claim_path(root, i, p, sizeof(p), 0))
		return;
	int fd = ht_rtfile_open(p, O_RDONLY, 0, why, sizeof(why));
	if (fd < 0)
		return;
	ssize_t n = read(fd, b, sizeof(b) - 1);
	close(fd);
	if (n > 0) {
		b[n] = 0;
		if (sscanf(b, "%d %" SCNu64, pid, start) != 2)
			*pid = 0;
	}
}

static int pid_alive(int pid) { return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM); }

static int slot_state(const char *root, int i, int self, char *what, size_t len)
{
	char ops[32] = "?";
	int cpid;
	uint64_t cstart;
	read_claim(root, i, &cpid, &cstart);
	int claimed = cpid > 0, claim_dead = claimed && ht_proc_start_ticks(cpid) != cstart;
	long nctx = rd_long(root, i, "contexts/nr_contexts", -1);
	if (nctx > 0)
		rd(root, i, "contexts/0/operations", ops, sizeof(ops));
	if (claimed && cpid == self && !claim_dead)
		return SLOT_MINE_OLD; /* ours before exec: same pid, same starttime */
	if (claimed && claim_dead)
		return SLOT_STALE;
	if (is_on(root, i)) {
		snprintf(what, len, "%d: on, %s", i, ops);
		return SLOT_TAKEN;
	}
	if (nctx == 0)
		return SLOT_FREE;
	if (!strcmp(ops, "vaddr")) { /* a vaddr monitor of dead processes can never run again */
		long nt = rd_long(root, i, "contexts/0/targets/nr_targets", 0), alive = 0;
		for (long t = 0; t < nt && t < 64; t++) {
			char rel[64];
			snprintf(rel, sizeof(rel), "contexts/0/targets/%ld/pid_target", t);
			alive += pid_alive((int)rd_long(root, i, rel, 0));
		}
		if (!alive)
			return SLOT_STALE;
	}
	snprintf(what, len, "%d: off, configured (%s) by another owner", i, ops);
	return SLOT_TAKEN;
}

/* Scan the slots: the best one (own > free > stale), or -1 with the taken ones in why. */
static int pick(const char *root, int n, int self, char *why, size_t whylen)
{
	int best = -1, best_state = SLOT_TAKEN;
	char taken[384] = "";
	for (int i = 0; i < n; i++) {
		char what[96];
		int st = slot_state(root, i, self, what, sizeof(what));
		static const int rank[] = { [SLOT_MINE_OLD] = 0, [SLOT_FREE] = 1, [SLOT_STALE] = 2, [SLOT_TAKEN] = 3 };
		if (rank[st] < rank[best_state]) {
			best = i;
			best_state = st;
		}
		if (st == SLOT_TAKEN) {
			size_t l = strlen(taken);
			snprintf(taken + l, sizeof(taken) - l, "%s%s", l ? "; " : "", what);
		}
	}
	if (best < 0)
		snprintf(why, whylen, "DAMON: every kdamond slot is taken (%d kdamond%s: %s); DAMON adds kdamonds only while all are off",
			 n, n == 1 ? "" : "s", taken);
	return best;
}

static int base_check(const char *root, char *why, size_t whylen)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/kdamonds/nr_kdamonds", root);
	if (access(p, F_OK)) {
		snprintf(why, whylen, "no DAMON: %s absent (kernel without CONFIG_DAMON_SYSFS, or older than 5.18)", p);
		return -ENOENT;
	}
	if (access(p, W_OK)) {
		snprintf(why, whylen, "DAMON needs CAP_SYS_ADMIN (root): %s: %s", p, strerror(errno));
		return -EACCES;
	}
	return 0;
}

int ht_kdamond_probe(const char *root, char *why, size_t whylen)
{
	if (base_check(root, why, whylen))
		return -1;
	long n = rd_long(root, -1, "nr_kdamonds", -1);
	return n != 0 && pick(root, (int)n, getpid(), why, whylen) < 0 ? -1 : 0;
}

static void unconfigure(const char *root, int i)
{
	char why[256];
	wr(root, i, "contexts/0/targets/nr_targets", "0", why, sizeof(why));
	wr(root, i, "contexts/nr_contexts", "0", why, sizeof(why));
}

static int configure(const char *root, int i, const struct ht_damon_attrs *a, int pid, char *why, size_t whylen)
{
	char b[32];
	snprintf(b, sizeof(b), "%d", pid);
	int r;
	if ((r = wr(root, i, "contexts/nr_contexts", "1", why, whylen)) ||
	    (r = wr(root, i, "contexts/0/operations", "vaddr", why, whylen)) ||
	    (r = wr_u64(root, i, "contexts/0/monitoring_attrs/intervals/sample_us", a->sample_us, why, whylen)) ||
	    (r = wr_u64(root, i, "contexts/0/monitoring_attrs/intervals/aggr_us", a->aggr_us, why, whylen)) ||
	    (r = wr_u64(root, i, "contexts/0/monitoring_attrs/intervals/update_us", a->update_us, why, whylen)) ||
	    (r = wr_u64(root, i, "contexts/0/monitoring_attrs/nr_regions/max", a->max_regions, why, whylen)) ||
	    (r = wr_u64(root, i, "contexts/0/monitoring_attrs/nr_regions/min", a->min_regions, why, whylen)) ||
	    (r = wr(root, i, "contexts/0/schemes/nr_schemes", "0", why, whylen)) ||
	    (r = wr(root, i, "contexts/0/targets/nr_targets", "1", why, whylen)) ||
	    (r = wr(root, i, "contexts/0/targets/0/pid_target", b, why, whylen)))
		return r;
	return wr(root, i, "state", "on", why, whylen);
}

static int lock_root(const char *root, char *why, size_t whylen)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/kdamonds/nr_kdamonds", root);
	int fd = open(p, O_RDONLY | O_CLOEXEC), r = -1;
	/* holders keep it for a few sysfs writes; never wait on a wedged one for long (we run in a constructor) */
	for (int t = 0; fd >= 0 && (r = flock(fd, LOCK_EX | LOCK_NB)) && errno == EWOULDBLOCK && t < 500; t++) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	if (fd < 0 || r) {
		snprintf(why, whylen, "DAMON: %s: %s", p, fd < 0 ? strerror(errno) : "locked by another process for 5 s");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

int ht_kdamond_start(struct ht_kdamond *k, const char *root, const struct ht_damon_attrs *a, int pid,
		     char *why, size_t whylen)
{
	memset(k, 0, sizeof(*k));
	k->idx = -1;
	snprintf(k->root, sizeof(k->root), "%s", root);
	int r = base_check(root, why, whylen);
	if (r)
		return r;
	int lk = lock_root(root, why, whylen);
	if (lk < 0)
		return -EIO;
	long n = rd_long(root, -1, "nr_kdamonds", -1);
	if (n == 0 && (r = wr_u64(root, -1, "nr_kdamonds", (uint64_t)a->slots, why, whylen)) == 0)
		n = a->slots;
	for (int j = 0; j < n; j++) { /* what gone owners left (SIGKILL): cleared, free for anyone */
		char what[96];
		if (slot_state(root, j, getpid(), what, sizeof(what)) == SLOT_STALE && !turn_off(root, j)) {
			char cp[192];
			unconfigure(root, j);
			if (!claim_path(root, j, cp, sizeof(cp), 0))
				unlink(cp);
		}
	}
	int i = n > 0 ? pick(root, (int)n, getpid(), why, whylen) : -1;
	if (i < 0) {
		r = r ? r : -EBUSY;
		goto out;
	}
	if (turn_off(root, i)) {
		snprintf(why, whylen, "DAMON: kdamond %d does not stop", i);
		r = -EBUSY;
		goto out;
	}
	r = configure(root, i, a, pid, why, whylen);
	if (r) {
		unconfigure(root, i);
		goto out;
	}
	k->idx = i;
	k->owner = pid;
	k->pid = (int)rd_long(root, i, "pid", -1);
	if (!claim_path(root, i, k->claim, sizeof(k->claim), 1)) {
		char rec[64];
		int fd = ht_rtfile_open(k->claim, O_WRONLY | O_CREAT | O_TRUNC, 0600, why, whylen);
		int len = snprintf(rec, sizeof(rec), "%d %" PRIu64 "\n", getpid(), ht_proc_start_ticks(getpid()));
		if (fd < 0 || write(fd, rec, (size_t)len) != len) {
			r = -EIO; /* unclaimed, a SIGKILL would leave it looking foreign: give it back */
			if (fd >= 0)
				close(fd);
			turn_off(root, i);
			unconfigure(root, i);
			unlink(k->claim);
			k->idx = -1;
			goto out;
		}
		close(fd);
	}
	if (k->pid <= 0) {
		snprintf(why, whylen, "DAMON: kdamond %d did not start", i);
		r = -ESRCH;
	}
out:
	close(lk);
	if (r && k->idx >= 0)
		ht_kdamond_stop(k);
	return r;
}

void ht_kdamond_stop(struct ht_kdamond *k)
{
	char why[256];
	if (!k || k->idx < 0 || !k->root[0])
		return;
	int lk = lock_root(k->root, why, sizeof(why));
	turn_off(k->root, k->idx);
	unconfigure(k->root, k->idx);
	if (k->claim[0])
		unlink(k->claim);
	if (lk >= 0)
		close(lk);
	k->idx = -1;
}

int ht_kdamond_running(const struct ht_kdamond *k)
{
	return k && k->idx >= 0 && is_on(k->root, k->idx);
}
