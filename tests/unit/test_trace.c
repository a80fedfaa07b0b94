/*
 * Trace record and replay: write samples and map events, read them back
 * identical; the replay source gives identical batches on every run; the
 * sampler's record= writes what the callback saw; bad files are refused
 * with a clear line.
 */
#include "tap.h"
#include "source/sampler.h"
#include "source/software.h"
#include "source/trace.h"
#include <stdio.h>
#include <unistd.h>

#define N 100000

static struct ht_sample *mk(void)
{
	struct ht_sample *s = calloc(N, sizeof(*s));
	uint64_t x = 88172645463325252ull, t = 1000000000ull;
	for (int i = 0; i < N; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		t += x % 5000; /* not always increasing across "CPUs": */
		s[i].time_ns = (i % 7 == 3) ? t - 3000 : t;
		s[i].addr = (i % 3 == 0) ? 0x7f0000000000ull + (x % (1ull << 30)) : 0x555500000000ull + (x & 0xfff000);
		s[i].tid = 1000 + (uint32_t)(x % 8);
		s[i].weight = (uint32_t)(x >> 40);
		s[i].store = (x >> 13) & 1;
	}
	s[5].addr = 0;
	s[6].addr = ~0ull; /* extremes survive the delta encoding */
	s[7].weight = UINT32_MAX;
	return s;
}

static int same(const struct ht_sample *a, const struct ht_sample *b)
{
	return a->addr == b->addr && a->time_ns == b->time_ns && a->tid == b->tid && a->weight == b->weight &&
	       a->store == b->store;
}

/* Collects what a replay delivers, with the batch boundaries. */
struct got {
	struct ht_sample *s;
	size_t n, cap, batches;
	uint64_t hash;
	int maps;
};
static void collect(void *arg, const struct ht_sample *s, size_t n)
{
	struct got *g = arg;
	size_t k = g->n; /* only this thread writes n; main polls it (atomically) */
	for (size_t i = 0; i < n; i++, k++)
		if (k < g->cap)
			g->s[k] = s[i];
	__atomic_store_n(&g->n, k, __ATOMIC_RELEASE);
	g->batches++;
	g->hash = g->hash * 31 + n;
}
static void on_map(void *arg, uint64_t time, uint64_t start, uint64_t len, int unmap)
{
	struct got *g = arg;
	g->maps++;
	g->hash = g->hash * 131 + start + len + (uint64_t)unmap + g->n;
}

static void write_file(const char *path, const char *bytes, size_t n)
{
	FILE *f = fopen(path, "wb");
	fwrite(bytes, 1, n, f);
	fclose(f);
}

int main(void)
{
	char path[] = "/tmp/ht-trace-XXXXXX", why[256] = "";
	int fd = mkstemp(path);
	close(fd);
	struct ht_sample *s = mk();

	/* Round trip through writer and reader. */
	struct ht_trace_writer *w = ht_trace_writer_open(path, why, sizeof(why));
	if (!w)
		tap_bail(why);
	ok(ht_trace_write_map(w, 999000000, 0x555500000000ull, 16 << 20, 0) == 0, "map event written");
	ok(ht_trace_write_samples(w, s, N / 2) == 0, "first half of the samples written");
	ok(ht_trace_write_map(w, 1500000000, 0x7f0000000000ull, 1ull << 30, 0) == 0, "second map");
	ok(ht_trace_write_samples(w, s + N / 2, N - N / 2) == 0, "second half written");
	ok(ht_trace_write_map(w, 2000000000, 0x555500000000ull, 16 << 20, 1) == 0, "unmap event");
	ht_trace_writer_close(w);

	FILE *f = fopen(path, "rb");
	fseek(f, 0, SEEK_END);
	long size = ftell(f);
	fclose(f);
	ok(size < (long)(N * sizeof(struct ht_sample)) / 2, "compact: %.1f bytes per sample (raw struct: %zu)",
	   (double)size / N, sizeof(struct ht_sample));

	struct ht_trace_reader *r = ht_trace_reader_open(path, why, sizeof(why));
	ok(r != NULL, "reader opens it (%s)", why);
	struct ht_trace_rec rec;
	size_t i = 0, bad = 0, maps = 0;
	int kinds_ok = 1, rc;
	while ((rc = ht_trace_read_next(r, &rec)) == 1) {
		if (rec.kind == HT_TRACE_SAMPLE) {
			if (i >= N || !same(&rec.s, &s[i]))
				bad++;
			i++;
		} else {
			maps++;
			if (maps == 1)
				kinds_ok &= rec.kind == HT_TRACE_MAP && i == 0 && rec.time_ns == 999000000 &&
					    rec.start == 0x555500000000ull && rec.len == 16 << 20;
			if (maps == 2)
				kinds_ok &= rec.kind == HT_TRACE_MAP && i == N / 2 && rec.len == 1ull << 30;
			if (maps == 3)
				kinds_ok &= rec.kind == HT_TRACE_UNMAP && i == N && rec.time_ns == 2000000000;
		}
	}
	is_int(rc, 0, "clean end");
	ok(ht_trace_reader_complete(r), "end record seen");
	is_int(i, N, "every sample read back");
	is_int(bad, 0, "every sample identical (addr, time, tid, weight, store)");
	ok(maps == 3 && kinds_ok, "map/unmap events in place with their times");
	ht_trace_reader_close(r);

	/* Replay: identical samples and identical batches on two runs. */
	struct ht_conf c;
	ht_conf_defaults(&c);
	snprintf(why, sizeof(why), "sample=replay,replay=%s", path);
	if (ht_conf_parse(&c, why, why, sizeof(why)))
		tap_bail(why);
	struct got g[2];
	for (int k = 0; k < 2; k++) {
		memset(&g[k], 0, sizeof(g[k]));
		g[k].cap = N;
		g[k].s = calloc(N, sizeof(struct ht_sample));
		const struct ht_source_ops *o = ht_source_select(&c, why, sizeof(why));
		struct ht_sampler *sp = o ? ht_sampler_create(&c, o, collect, &g[k], why, sizeof(why)) : NULL;
		if (!sp)
			tap_bail(why);
		ht_sampler_on_map(sp, on_map, &g[k]);
		if (k == 0) {
			ht_sampler_drain_once(sp);
		} else {
			ht_sampler_start(sp); /* the thread: full speed, no sleeping while work is left */
			for (int t = 0; t < 500 && __atomic_load_n(&g[k].n, __ATOMIC_ACQUIRE) < N; t++)
				usleep(10000);
			ht_sampler_stop(sp);
		}
		struct ht_source_stats st;
		ht_sampler_get_stats(sp, &st, NULL);
		ok(st.samples == N && g[k].n == N && g[k].maps == 3, "replay %d: %zu samples, %d map events", k + 1, g[k].n,
		   g[k].maps);
		ht_sampler_destroy(sp);
	}
	bad = 0;
	for (i = 0; i < N; i++)
		bad += !same(&g[0].s[i], &s[i]) || !same(&g[1].s[i], &s[i]);
	is_int(bad, 0, "replayed samples identical to the recorded ones, both runs");
	ok(g[0].hash == g[1].hash && g[0].batches == g[1].batches,
	   "deterministic: same batches and map-event positions (%zu batches)", g[0].batches);

	/* record=: the sampler writes exactly what its callback received. */
	char path2[] = "/tmp/ht-trace-XXXXXX";
	fd = mkstemp(path2);
	close(fd);
	snprintf(why, sizeof(why), "sample=software,record=%s", path2);
	ht_conf_defaults(&c);
	if (ht_conf_parse(&c, why, why, sizeof(why)))
		tap_bail(why);
	struct got live = { .cap = 5000, .s = calloc(5000, sizeof(struct ht_sample)) };
	struct ht_sampler *sp = ht_sampler_create(&c, &ht_source_software, collect, &live, why, sizeof(why));
	ok(sp && ht_sampler_trace(sp) != NULL, "record= opens a trace writer");
	for (int k = 0; k < 5000; k++)
		ht_software_push(0x10000000ull + (uint64_t)k * 64, (uint32_t)k + 1, k & 1);
	ht_sampler_record_map(sp, 0x10000000ull, 1 << 20, 0); /* as the engine's on_map hook would */
	ht_sampler_drain_once(sp);
	ht_sampler_destroy(sp);
	r = ht_trace_reader_open(path2, why, sizeof(why));
	i = bad = maps = 0;
	while (r && ht_trace_read_next(r, &rec) == 1) {
		if (rec.kind != HT_TRACE_SAMPLE) {
			maps++;
			continue;
		}
		bad += i >= live.n || !same(&rec.s, &live.s[i]);
		i++;
	}
	ok(r && ht_trace_reader_complete(r) && i == 5000 && live.n == 5000 && bad == 0 && maps == 1,
	   "recorded trace = delivered samples (%zu) + the map event", i);
	ht_trace_reader_close(r);

	/* Bad files: one clear line each. */
	write_file(path2, "NOTATRACE-at-all-but-24b", 24);
	ok(!ht_trace_reader_open(path2, why, sizeof(why)) && strstr(why, "not a HyperTier trace"), "bad magic: %s", why);
	write_file(path2, "HTTRACE\0\x09\0\0\0\x18\0\0\0\0\0\0\0\0\0\0\0", 24);
	ok(!ht_trace_reader_open(path2, why, sizeof(why)) && strstr(why, "version 9"), "future version: %s", why);
	write_file(path2, "HTTRACE\0\x01\0\0\0\x18\0\0\0\0\0\0\0\0\0\0\0\x01\x80", 26);
	r = ht_trace_reader_open(path2, why, sizeof(why));
	ok(r && ht_trace_read_next(r, &rec) == -1 && strstr(ht_trace_reader_error(r), "truncated sample"),
	   "truncated record: %s", r ? ht_trace_reader_error(r) : why);
	ht_trace_reader_close(r);
	write_file(path2, "HTTRACE\0\x01\0\0\0\x18\0\0\0\0\0\0\0\0\0\0\0\x09", 25);
	r = ht_trace_reader_open(path2, why, sizeof(why));
	ok(r && ht_trace_read_next(r, &rec) == -1 && strstr(ht_trace_reader_error(r), "unknown record tag"),
	   "unknown tag: %s", r ? ht_trace_reader_error(r) : why);
	ht_trace_reader_close(r);
	write_file(path2, "HTTRACE\0\x01\0\0\0\x18\0\0\0\0\0\0\0\0\0\0\0\x05\x03", 26);
	r = ht_trace_reader_open(path2, why, sizeof(why));
	ok(r && ht_trace_read_next(r, &rec) == -1 && strstr(ht_trace_reader_error(r), "count mismatch"),
	   "end record that disagrees: %s", r ? ht_trace_reader_error(r) : why);
	ht_trace_reader_close(r);
	ok(!ht_trace_writer_open("/nonexistent/dir/t", why, sizeof(why)) && strstr(why, "/nonexistent/dir/t"),
	   "unwritable record= path: %s", why);
	ht_conf_defaults(&c);
	ht_conf_parse(&c, "sample=software,record=/nonexistent/dir/t", why, sizeof(why));
	why[0] = 0;
	ok(!ht_sampler_create(&c, &ht_source_software, collect, &live, why, sizeof(why)) && strstr(why, "/nonexistent/dir/t"),
	   "sampler with an unwritable record= refuses to start: %s", why);
	ht_conf_parse(&c, "record=", why, sizeof(why));
	sp = ht_sampler_create(&c, &ht_source_software, collect, &live, why, sizeof(why));
	ok(sp != NULL, "and left the software source free for the next try (%s)", sp ? "started" : why);
	ht_sampler_destroy(sp);

	unlink(path);
	unlink(path2);
	free(s);
	free(g[0].s);
	free(g[1].s);
	free(live.s);
	return tap_done();
}
