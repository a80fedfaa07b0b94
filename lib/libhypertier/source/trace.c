/* trace.c - write and read the trace format described in trace.h. */
#include "trace.h"
#include "../core/rtfile.h"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char magic[8] = "HTTRACE";
#define HDR_SIZE 24
#define BUF_SIZE 65536
#define REC_MAX (1 + 4 * 10) /* tag + four varints */

enum { TAG_LOAD = 1, TAG_STORE, TAG_MAP, TAG_UNMAP, TAG_END };

struct ht_trace_writer {
	pthread_mutex_t lock;
	int fd, err;
	uint64_t prev_time, prev_addr, nrec;
	size_t n;
	unsigned char buf[BUF_SIZE];
};

static void put_le(unsigned char *p, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le(const unsigned char *p, int bytes)
{
	uint64_t v = 0;
	for (int i = 0; i < bytes; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static size_t put_varint(unsigned char *p, uint64_t v)
{
	size_t n = 0;
	while (v >= 0x80) {
		p[n++] = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (unsigned char)v;
	return n;
}

static uint64_t zigzag(int64_t v) { return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); }
static int64_t unzigzag(uint64_t v) { return (int64_t)(v >> 1) ^ -(int64_t)(v & 1); }

static int write_all(int fd, const unsigned char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void flush(struct ht_trace_writer *w)
{
	if (!w->err && w->n && write_all(w->fd, w->buf, w->n) < 0)
		w->err = errno ? errno : EIO;
	w->n = 0;
}

struct ht_trace_writer *ht_trace_writer_open(const char *path, char *why, size_t whylen)
{
	struct ht_trace_writer *w = calloc(1, sizeof(*w));
	struct timespec ts;
	unsigned char h[HDR_SIZE];
	if (!w) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	char err[320];
	w->fd = ht_rtfile_open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644, err, sizeof(err));
	if (w->fd < 0) {
		snprintf(why, whylen, "cannot write trace %s", err);
		free(w);
		return NULL;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	w->prev_time = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	memcpy(h, magic, 8);
	put_le(h + 8, HT_TRACE_VERSION, 4);
	put_le(h + 12, HDR_SIZE, 4);
	put_le(h + 16, w->prev_time, 8);
	if (write_all(w->fd, h, HDR_SIZE) < 0) {
		snprintf(why, whylen, "cannot write trace %s: %s", path, strerror(errno));
		close(w->fd);
		free(w);
		return NULL;
	}
	pthread_mutex_init(&w->lock, NULL);
	return w;
}

static void put_rec(struct ht_trace_writer *w, int tag, uint64_t time, uint64_t a, uint64_t b, uint64_t c, int nargs)
{
	if (w->n + REC_MAX > BUF_SIZE)
		flush(w);
	unsigned char *p = w->buf + w->n, *p0 = p;
	*p++ = (unsigned char)tag;
	p += put_varint(p, zigzag((int64_t)(time - w->prev_time)));
	w->prev_time = time;
	p += put_varint(p, a);
	p += put_varint(p, b);
	if (nargs > 2)
		p += put_varint(p, c);
	w->n += (size_t)(p - p0);
	w->nrec++;
}

int ht_trace_write_samples(struct ht_trace_writer *w, const struct ht_sample *s, size_t n)
{
	pthread_mutex_lock(&w->lock);
	for (size_t i = 0; i < n; i++) {
		put_rec(w, s[i].store ? TAG_STORE : TAG_LOAD, s[i].time_ns, zigzag((int64_t)(s[i].addr - w->prev_addr)),
			s[i].tid, s[i].weight, 3);
		w->prev_addr = s[i].addr;
	}
	int r = w->err ? -1 : 0;
	pthread_mutex_unlock(&w->lock);
	return r;
}

int ht_trace_write_map(struct ht_trace_writer *w, uint64_t time_ns, uint64_t start, uint64_t len, int unmap)
{
	pthread_mutex_lock(&w->lock);
	put_rec(w, unmap ? TAG_UNMAP : TAG_MAP, time_ns, start, len, 0, 2);
	int r = w->err ? -1 : 0;
	pthread_mutex_unlock(&w->lock);
	return r;
}

void ht_trace_writer_close(struct ht_trace_writer *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	if (w->n + REC_MAX > BUF_SIZE)
		flush(w);
	w->buf[w->n++] = TAG_END;
	w->n += put_varint(w->buf + w->n, w->nrec);
	flush(w);
	pthread_mutex_unlock(&w->lock);
	close(w->fd);
	pthread_mutex_destroy(&w->lock);
	free(w);
}

/* ---- reader ---- */

struct ht_trace_reader {
	FILE *f;
	uint64_t prev_time, prev_addr, nrec, off;
	int complete, failed;
	char err[160];
};

struct ht_trace_reader *ht_trace_reader_open(const char *path, char *why, size_t whylen)
{
	unsigned char h[HDR_SIZE];
	struct ht_trace_reader *r = calloc(1, sizeof(*r));
	if (!r) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	char err[320];
	int fd = ht_rtfile_open(path, O_RDONLY, 0, err, sizeof(err));
	if (fd < 0 || !(r->f = fdopen(fd, "rb"))) {
		snprintf(why, whylen, "cannot read trace %s", fd < 0 ? err : strerror(errno));
		if (fd >= 0)
			close(fd);
		free(r);
		return NULL;
	}
	uint32_t hsize = 0;
	if (fread(h, 1, HDR_SIZE, r->f) != HDR_SIZE || memcmp(h, magic, 8) != 0) {
		snprintf(why, whylen, "%s is not a HyperTier trace (bad magic)", path);
	} else if (get_le(h + 8, 4) != HT_TRACE_VERSION) {
		snprintf(why, whylen, "%s: trace version %u, this library reads version %d", path,
			 (unsigned)get_le(h + 8, 4), HT_TRACE_VERSION);
	} else if ((hsize = (uint32_t)get_le(h + 12, 4)) < HDR_SIZE || fseek(r->f, hsize, SEEK_SET) != 0) {
		snprintf(why, whylen, "%s: bad trace header size %u", path, hsize);
	} else {
		r->prev_time = get_le(h + 16, 8);
		r->off = hsize;
		return r;
	}
	fclose(r->f);
	free(r);
	return NULL;
}

/* -1 at EOF (clean only at a record boundary) or overlong varint. */
static int get_varint(struct ht_trace_reader *r, uint64_t *v)
{
	uint64_t x = 0;
	for (int shift = 0; shift < 70; shift += 7) {
		int c = getc_unlocked(r->f);
		if (c == EOF)
			return -1;
		r->off++;
		x |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80)) {
			*v = x;
			return 0;
		}
	}
	return -1;
}

static int fail(struct ht_trace_reader *r, const char *what)
{
	r->failed = 1;
	snprintf(r->err, sizeof(r->err), "trace %s at byte %llu", what, (unsigned long long)r->off);
	return -1;
}

int ht_trace_read_next(struct ht_trace_reader *r, struct ht_trace_rec *rec)
{
	uint64_t v[4];
	if (r->failed)
		return -1;
	if (r->complete)
		return 0;
	int tag = getc_unlocked(r->f);
	if (tag == EOF)
		return 0; /* unterminated but whole: the writer did not close it */
	r->off++;
	memset(rec, 0, sizeof(*rec));
	switch (tag) {
	case TAG_LOAD:
	case TAG_STORE:
		for (int i = 0; i < 4; i++)
			if (get_varint(r, &v[i]) < 0)
				return fail(r, "truncated sample");
		rec->kind = HT_TRACE_SAMPLE;
		r->prev_time += (uint64_t)unzigzag(v[0]);
		r->prev_addr += (uint64_t)unzigzag(v[1]);
		rec->time_ns = rec->s.time_ns = r->prev_time;
		rec->s.addr = r->prev_addr;
		if (v[2] > UINT32_MAX || v[3] > UINT32_MAX)
			return fail(r, "out-of-range tid/weight");
		rec->s.tid = (uint32_t)v[2];
		rec->s.weight = (uint32_t)v[3];
		rec->s.store = tag == TAG_STORE;
		break;
	case TAG_MAP:
	case TAG_UNMAP:
		for (int i = 0; i < 3; i++)
			if (get_varint(r, &v[i]) < 0)
				return fail(r, "truncated map event");
		rec->kind = tag == TAG_MAP ? HT_TRACE_MAP : HT_TRACE_UNMAP;
		r->prev_time += (uint64_t)unzigzag(v[0]);
		rec->time_ns = r->prev_time;
		rec->start = v[1];
		rec->len = v[2];
		break;
	case TAG_END:
		if (get_varint(r, &v[0]) < 0)
			return fail(r, "truncated end record");
		if (v[0] != r->nrec)
			return fail(r, "end record count mismatch");
		r->complete = 1;
		return 0;
	default:
		r->off--;
		return fail(r, "unknown record tag");
	}
	r->nrec++;
	return 1;
}

const char *ht_trace_reader_error(const struct ht_trace_reader *r) { return r->err; }
int ht_trace_reader_complete(const struct ht_trace_reader *r) { return r->complete; }

void ht_trace_reader_close(struct ht_trace_reader *r)
{
	if (!r)
		return;
	fclose(r->f);
	free(r);
}
