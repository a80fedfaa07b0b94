/* statsfile.c - seqlock-published stats snapshot in a 0600 shared file. */
#define _GNU_SOURCE
#include "statsfile.h"
#include "rtfile.h"
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

struct sf_file {
	uint32_t magic, version, size, pad;
	int32_t pid, uid;
	uint64_t start_ticks;      /* /proc/<pid>/stat starttime: tells a reused pid apart */
	_Atomic uint64_t seq;      /* odd while the writer is in the middle */
	struct ht_sf_data d;
};
_Static_assert(offsetof(struct sf_file, seq) == HT_SF_SEQ_OFFSET, "HT_SF_SEQ_OFFSET");

struct ht_statsfile {
	int fd;
	struct sf_file *map; /* writer only: the reader uses pread (a truncated file must not SIGBUS it) */
	char path[320];
};

static struct ht_statsfile *create_in(const char *dir, int pid, char *why, size_t whylen)
{
	struct ht_statsfile *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	snprintf(f->path, sizeof(f->path), "%s/%d.stats", dir, pid);
	for (int tries = 0; tries < 2; tries++) {
		f->fd = open(f->path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (f->fd >= 0 || errno != EEXIST)
			break;
		/* left over by an earlier image of this pid (exec) or a dead process of ours */
		struct stat st;
		if (lstat(f->path, &st) || !S_ISREG(st.st_mode) || st.st_uid != getuid() || unlink(f->path))
			break;
	}
	if (f->fd < 0) {
		snprintf(why, whylen, "%s: %s", f->path, strerror(errno));
		free(f);
		return NULL;
	}
	/* Reserve the blocks: a sparse file on a full tmpfs would SIGBUS at the first store. */
	int err = posix_fallocate(f->fd, 0, sizeof(struct sf_file));
	if (!err && (f->map = mmap(NULL, sizeof(struct sf_file), PROT_READ | PROT_WRITE, MAP_SHARED, f->fd, 0)) == MAP_FAILED)
		err = errno;
	if (err) {
		snprintf(why, whylen, "%s: %s", f->path, strerror(err));
		unlink(f->path);
		close(f->fd);
		free(f);
		return NULL;
	}
	f->map->magic = HT_SF_MAGIC;
	f->map->version = HT_SF_VERSION;
	f->map->size = sizeof(struct sf_file);
	f->map->pid = pid;
	f->map->uid = (int32_t)getuid();
	f->map->start_ticks = ht_proc_start_ticks(pid);
	return f;
}

struct ht_statsfile *ht_statsfile_create(const char *dir, int pid, char *why, size_t whylen)
{
	unsigned uid = (unsigned)geteuid();
	if (dir && *dir) /* the user's own choice: used as it is, never created */
		return ht_rtdir_ok(dir, uid, 0, why, whylen) ? create_in(dir, pid, why, whylen) : NULL;
	char d[128];
	for (int i = 0; ht_rtdir_default(uid, i, d, sizeof(d)); i++) {
		struct ht_statsfile *f = ht_rtdir_ok(d, uid, 1, why, whylen) ? create_in(d, pid, why, whylen) : NULL;
		if (f)
			return f;
	}
	return NULL;
}

void ht_statsfile_publish(struct ht_statsfile *f, const struct ht_sf_data *d)
{
	uint64_t s = atomic_load_explicit(&f->map->seq, memory_order_relaxed);
	atomic_store_explicit(&f->map->seq, s + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	memcpy(&f->map->d, d, sizeof(*d));
	atomic_store_explicit(&f->map->seq, s + 2, memory_order_release);
}

const char *ht_statsfile_path(const struct ht_statsfile *f) { return f->path; }

void ht_statsfile_close(struct ht_statsfile *f, int unlink_it)
{
	if (!f)
		return;
	if (unlink_it)
		unlink(f->path);
	if (f->map)
		munmap(f->map, sizeof(struct sf_file));
	close(f->fd);
	free(f);
}

static struct ht_statsfile *open_in(const char *dir, int pid, char *why, size_t whylen)
{
	struct ht_statsfile *f = calloc(1, sizeof(*f));
	struct stat st, pst;
	char proc[64];
	if (!f)
		return NULL;
	snprintf(f->path, sizeof(f->path), "%s/%d.stats", dir, pid);
	f->fd = open(f->path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC); /* a FIFO must not hang htstat */
	if (f->fd < 0) {
		snprintf(why, whylen, "%s: %s", f->path, strerror(errno));
		goto fail;
	}
	snprintf(proc, sizeof(proc), "/proc/%d", pid);
	if (fstat(f->fd, &st) || !S_ISREG(st.st_mode) || st.st_size < (off_t)sizeof(struct sf_file)) {
		snprintf(why, whylen, "%s: not a stats file", f->path);
		goto fail;
	}
	if (stat(proc, &pst)) {
		int e = errno;
		/* left by a process that is gone (killed by a signal): ours to remove if the file is the caller's */
		if (e == ENOENT && (getuid() == 0 || getuid() == st.st_uid) && !unlink(f->path))
			snprintf(why, whylen, "process %d is gone: removed its stale %s", pid, f->path);
		else
			snprintf(why, whylen, "process %d: %s", pid, strerror(e));
		goto fail;
	}
	/* The file must belong to the process's owner, and so must the caller (or be root). */
	if (st.st_uid != pst.st_uid) {
		snprintf(why, whylen, "%s: owned by uid %u but process %d runs as uid %u: refusing", f->path,
			 (unsigned)st.st_uid, pid, (unsigned)pst.st_uid);
		goto fail;
	}
	if (getuid() != 0 && getuid() != st.st_uid) {
		snprintf(why, whylen, "%s: permission denied (owner uid %u)", f->path, (unsigned)st.st_uid);
		goto fail;
	}
	struct sf_file h;
	if (pread(f->fd, &h, offsetof(struct sf_file, d), 0) != (ssize_t)offsetof(struct sf_file, d) ||
	    h.magic != HT_SF_MAGIC || h.version != HT_SF_VERSION || h.size != sizeof(struct sf_file)) {
		snprintf(why, whylen, "%s: unknown stats format", f->path);
		goto fail;
	}
	if (h.pid != pid || h.start_ticks != ht_proc_start_ticks(pid)) {
		int gone = (getuid() == 0 || getuid() == st.st_uid) && !unlink(f->path);
		snprintf(why, whylen, "%s: stale (left by an earlier process %d)%s", f->path, pid, gone ? ": removed" : "");
		goto fail;
	}
	return f;
fail:
	if (f->fd >= 0)
		close(f->fd);
	free(f);
	return NULL;
}

struct ht_statsfile *ht_statsfile_open(const char *dir, int pid, char *why, size_t whylen)
{
	if (dir && *dir)
		return open_in(dir, pid, why, whylen);
	char proc[64], d[128], first[256] = "";
	struct stat pst;
	snprintf(proc, sizeof(proc), "/proc/%d", pid);
	if (stat(proc, &pst)) {
		int e = errno;
		snprintf(why, whylen, "process %d: %s", pid, strerror(e));
		/* gone: a file it left in the caller's own directories is removed by open_in */
		for (int i = 0; e == ENOENT && ht_rtdir_default((unsigned)getuid(), i, d, sizeof(d)); i++)
			if (ht_rtdir_ok(d, (unsigned)getuid(), 0, first, sizeof(first)))
				open_in(d, pid, why, whylen);
		return NULL;
	}
	/* the owner's directories, and only if they are really the owner's */
	for (int i = 0; ht_rtdir_default((unsigned)pst.st_uid, i, d, sizeof(d)); i++) {
		struct ht_statsfile *f = NULL;
		if (ht_rtdir_ok(d, (unsigned)pst.st_uid, 0, why, whylen))
			f = open_in(d, pid, why, whylen);
		if (f)
			return f;
		if (errno != ENOENT || !first[0])
			snprintf(first, sizeof(first), "%s", why);
	}
	snprintf(why, whylen, "%s", first);
	return NULL;
}

/* Exactly n bytes at off, else -1 with ENODATA (the file was truncated). */
static int pread_all(int fd, void *p, size_t n, off_t off)
{
	ssize_t r = pread(fd, p, n, off);
	if (r == (ssize_t)n)
		return 0;
	if (r >= 0)
		errno = ENODATA;
	return -1;
}

/* The file is untrusted: terminate every string, clamp every count. */
static void sanitize(struct ht_sf_data *d)
{
	d->source[sizeof(d->source) - 1] = 0;
	if (d->nranges > HT_SF_TOP)
		d->nranges = HT_SF_TOP;
	if (d->nsites > HT_SF_TOP)
		d->nsites = HT_SF_TOP;
	for (int i = 0; i < HT_SF_TOP; i++)
		d->sites[i].name[sizeof(d->sites[i].name) - 1] = 0;
}

int ht_statsfile_read(struct ht_statsfile *f, struct ht_sf_data *d)
{
	const off_t doff = offsetof(struct sf_file, d);
	for (int tries = 0; tries < HT_SF_READ_TRIES; tries++) {
		uint64_t s1, s2;
		if (pread_all(f->fd, &s1, sizeof(s1), HT_SF_SEQ_OFFSET) < 0)
			return -1;
		if (s1 == 0) {
			errno = EAGAIN;
			return -1;
		}
		if (s1 & 1) {
			sched_yield();
			continue;
		}
		if (pread_all(f->fd, d, sizeof(*d), doff) < 0 || pread_all(f->fd, &s2, sizeof(s2), HT_SF_SEQ_OFFSET) < 0)
			return -1;
		if (s1 == s2) {
			sanitize(d);
			return 0;
		}
	}
	errno = ETIMEDOUT; /* a writer that died mid-update, or a crafted file */
	return -1;
}

/* ---- JSON --------------------------------------------------------------- */

struct jbuf { char *p; size_t len, n; };

static void jput(struct jbuf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(b->p + b->n, b->n < b->len ? b->len - b->n : 0, fmt, ap);
	va_end(ap);
	if (m > 0)
		b->n += m;
}

/* At most n bytes of s: the struct may come from an untrusted file. */
static void jstr(struct jbuf *b, const char *s, size_t n)
{
	jput(b, "\"");
	for (const char *e = s + strnlen(s, n); s < e; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			jput(b, "\\%c", c);
		else if (c < 0x20)
			jput(b, "\\u%04x", c);
		else
			jput(b, "%c", c);
	}
	jput(b, "\"");
}

size_t ht_sf_json(const struct ht_sf_data *d, int pid, char *buf, size_t len)
{
	struct jbuf b = { buf, len, 0 };
	const struct ht_stats *s = &d->st;
	jput(&b, "{\"pid\":%d,\"time_ns\":%" PRIu64 ",\"enabled\":%u,\"source\":", pid, d->time_ns, s->enabled);
	jstr(&b, d->source, sizeof(d->source));
	jput(&b, ",\"fast_node\":%d,\"slow_node\":%d", s->fast_node, s->slow_node);
#define U(f) jput(&b, ",\"" #f "\":%" PRIu64, (uint64_t)s->f);
	U(fast_quota) U(fast_budget) U(fast_used) U(slow_used) U(hot_set_bytes) U(nr_ranges) U(epochs)
	U(samples) U(samples_lost) U(throttle) U(unthrottle) U(samples_unmanaged) U(sample_period)
	U(period_changes) U(sampler_cpu_ns) U(pages_promoted) U(pages_demoted) U(bytes_moved)
	U(fail_enoent) U(fail_ebusy) U(fail_enomem) U(fail_other) U(fast_hit_samples) U(located_samples)
	U(extents_fast) U(extents_slow) U(map_changes_lost) U(pages_backed_off)
	U(pages_single) U(page_state_bytes)
#undef U
	jput(&b, ",\"promote_per_s\":%.3f,\"demote_per_s\":%.3f,\"samples_per_s\":%.3f,\"sampler_cpu_share\":%.6f",
	     d->promote_per_s, d->demote_per_s, d->samples_per_s, d->sampler_cpu_share);
	jput(&b, ",\"top_ranges\":[");
	for (uint32_t i = 0; i < d->nranges && i < HT_SF_TOP; i++) {
		const struct ht_sf_range *r = &d->ranges[i];
		jput(&b, "%s{\"start\":%" PRIu64 ",\"len\":%" PRIu64 ",\"density\":%g,\"fast_share\":%g,\"hint\":%d,\"hot\":%d}",
		     i ? "," : "", r->start, r->len, r->density, r->fast_share, r->hint, r->hot);
	}
	jput(&b, "],\"top_sites\":[");
	for (uint32_t i = 0; i < d->nsites && i < HT_SF_TOP; i++) {
		const struct ht_sf_site *t = &d->sites[i];
		jput(&b, "%s{\"hash\":\"%016" PRIx64 "\",\"allocs\":%" PRIu64 ",\"live_bytes\":%" PRIu64
		     ",\"placed\":%" PRIu64 ",\"heat\":%g,\"tier\":%d,\"observations\":%d,\"name\":",
		     i ? "," : "", t->hash, t->allocs, t->live_bytes, t->placed, t->heat, t->tier, t->nobs);
		jstr(&b, t->name, sizeof(t->name));
		jput(&b, "}");
	}
	jput(&b, "]}");
	if (b.n >= len && len)
		b.n = len - 1;
	return b.n;
}
