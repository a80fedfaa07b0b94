/* evset.c - per-CPU sampling events for this process, one ring per CPU. */
#include "evset.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static int perf_open(struct perf_event_attr *a, pid_t pid, int cpu)
{
	int fd = (int)syscall(SYS_perf_event_open, a, pid, cpu, -1, PERF_FLAG_FD_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* The first CPU that takes the event decides precise_ip (3, 2, 1, 0). */
static int open_probe(struct perf_event_attr *a, pid_t pid, int cpu, int *precise)
{
	for (int p = a->precise_ip;; p--) {
		a->precise_ip = (unsigned)p;
		int fd = perf_open(a, pid, cpu);
		if (fd >= 0 || p == 0 || (fd != -EINVAL && fd != -EOPNOTSUPP)) {
			if (fd >= 0)
				*precise = p;
			return fd;
		}
	}
}

static void close_cpu(struct ht_evset *es, int c)
{
	if (es->ring[c].base) {
		munmap(es->ring[c].base, es->maplen);
		ht_ring_fini(&es->ring[c]);
		memset(&es->ring[c], 0, sizeof(es->ring[c]));
	}
	for (int e = 0; e < es->nev; e++) {
		if (es->fd[c * es->nev + e] >= 0)
			close(es->fd[c * es->nev + e]);
		es->fd[c * es->nev + e] = -1;
	}
}

/* Open every event on CPU c, ring on the first, the others redirected into it. */
static int open_cpu(struct ht_evset *es, struct perf_event_attr *a, int c, pid_t pid, uint64_t ring_pages,
		    char *why, size_t whylen)
{
	int nev = es->nev, *fd = &es->fd[c * nev], err;
	for (int e = 0; e < nev; e++) {
		fd[e] = es->precise[e] < 0 ? open_probe(&a[e], pid, c, &es->precise[e]) : perf_open(&a[e], pid, c);
		if (fd[e] < 0) {
			err = fd[e];
			fd[e] = -1;
			snprintf(why, whylen, "perf_event_open(event %d, cpu %d): %s", e, c, strerror(-err));
			return err;
		}
		if (ioctl(fd[e], PERF_EVENT_IOC_ID, &es->id[c * nev + e]) < 0) {
			snprintf(why, whylen, "PERF_EVENT_IOC_ID: %s", strerror(errno));
			return -errno;
		}
		if (e > 0) {
			if (ioctl(fd[e], PERF_EVENT_IOC_SET_OUTPUT, fd[0]) < 0) {
				snprintf(why, whylen, "PERF_EVENT_IOC_SET_OUTPUT: %s", strerror(errno));
				return -errno;
			}
			continue;
		}
		void *m = mmap(NULL, es->maplen, PROT_READ | PROT_WRITE, MAP_SHARED, fd[0], 0);
		if (m == MAP_FAILED) {
			err = -errno;
			snprintf(why, whylen, "mmap of a %llu-page perf ring: %s%s", (unsigned long long)ring_pages,
				 strerror(errno), errno == EPERM ? " (perf_event_mlock_kb too small? lower ring_pages)" : "");
			return err;
		}
		err = ht_ring_init(&es->ring[c], m, es->maplen, a[0].sample_type);
		if (err) {
			munmap(m, es->maplen);
			snprintf(why, whylen, "perf ring setup: %s", strerror(-err));
			return err;
		}
	}
	return 0;
}

void ht_evset_close(struct ht_evset *es)
{
	for (int c = 0; es->fd && es->ring && c < es->ncpu; c++)
		close_cpu(es, c);
	free(es->fd);
	free(es->id);
	free(es->ring);
	memset(es, 0, sizeof(*es));
}

int ht_evset_open(struct ht_evset *es, const struct perf_event_attr *attrs, int nev, pid_t pid,
		  uint64_t ring_pages, char *why, size_t whylen)
{
	long psz = sysconf(_SC_PAGESIZE);
	struct perf_event_attr a[8];
	int err = 0, any = 0;

	memset(es, 0, sizeof(*es));
	if (nev < 1 || nev > 8 || !ring_pages || (ring_pages & (ring_pages - 1))) {
		snprintf(why, whylen, "bad event set (%d events, %llu ring pages)", nev, (unsigned long long)ring_pages);
		return -EINVAL;
	}
	es->ncpu = (int)sysconf(_SC_NPROCESSORS_CONF);
	es->nev = nev;
	es->maplen = (size_t)(ring_pages + 1) * (size_t)psz;
	es->fd = malloc(sizeof(int) * es->ncpu * nev);
	es->id = calloc((size_t)es->ncpu * nev, sizeof(uint64_t));
	es->ring = calloc((size_t)es->ncpu, sizeof(struct ht_ring));
	if (!es->fd || !es->id || !es->ring) {
		ht_evset_close(es);
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	for (int i = 0; i < es->ncpu * nev; i++)
		es->fd[i] = -1;
	for (int e = 0; e < nev; e++) {
		a[e] = attrs[e];
		a[e].size = sizeof(a[e]);
		a[e].sample_type |= PERF_SAMPLE_IDENTIFIER;
		es->precise[e] = -1;
	}
	char first[256] = "";
	int first_err = 0;
	for (int c = 0; c < es->ncpu && !err; c++) {
		err = open_cpu(es, a, c, pid, ring_pages, why, whylen);
		if (!err) {
			any = 1;
		} else if (err == -ENODEV || err == -ENOENT || err == -EINVAL || err == -EOPNOTSUPP) {
			/* An offline CPU, or on a hybrid part a CPU whose PMU lacks
			 * the event: skip it; fail only if no CPU takes the events. */
			if (!first_err) {
				first_err = err;
				snprintf(first, sizeof(first), "%s", why);
			}
			es->skipped += err != -ENODEV;
			close_cpu(es, c);
			err = 0;
		}
	}
	if (!err && !any) {
		err = first_err ? first_err : -ENODEV;
		snprintf(why, whylen, "%s", first_err ? first : "no CPU accepted the events");
	}
	if (err) {
		ht_evset_close(es);
		return err;
	}
	return 0;
}

long ht_evset_read(struct ht_evset *es, ht_ring_fn fn, void *arg, struct ht_source_stats *st)
{
	long n = 0;
	for (int c = 0; c < es->ncpu; c++) {
		if (!es->ring[c].base)
			continue;
		es->cur_cpu = c;
		n += ht_ring_read(&es->ring[c], fn, arg, st);
	}
	return n;
}

int ht_evset_which(const struct ht_evset *es, uint64_t id)
{
	const uint64_t *ids = &es->id[es->cur_cpu * es->nev];
	for (int e = 0; e < es->nev; e++)
		if (ids[e] == id)
			return e;
	return -1;
}

int ht_evset_period(struct ht_evset *es, int e, uint64_t period)
{
	for (int c = 0; c < es->ncpu; c++) {
		int fd = es->fd[c * es->nev + e];
		if (fd >= 0 && ioctl(fd, PERF_EVENT_IOC_PERIOD, &period) < 0)
			return -errno;
	}
	return 0;
}

uint64_t ht_evset_wrapped(const struct ht_evset *es)
{
	uint64_t w = 0;
	for (int c = 0; c < es->ncpu; c++)
		w += es->ring[c].wrapped;
	return w;
}
