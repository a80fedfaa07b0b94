/*
 * Records real kernels wrote on real Intel and AMD PMUs (../shared/fixtures/perf,
 * see its README) through the production reader: each set is written into a
 * ring laid out as the kernel lays one out (mmap page + 1, 2, 16 data pages,
 * starting 24 bytes before the end so records straddle it), read with the
 * set's recorded sample_type, and every decoded field compared with the
 * independent decoder's NAME.expected.tsv; non-sample records with the JSON.
 * Decoded samples then pass the PEBS/IBS filter into a batch, as in the
 * sources: no kernel address may reach the classifier. The same bytes under
 * a sample_type one field off must all be bad records.
 * Set HT_PERF_FIXTURES to read another directory.
 */
#define _GNU_SOURCE /* strndup */
#include "tap.h"
#include "source/batch.h"
#include "source/ibs.h"
#include "source/pebs.h"
#include "source/perf_ring.h"
#include <dirent.h>
#include <linux/perf_event.h>
#include <unistd.h>

#define MAXSETS 32
#ifndef HT_TOP_SRCDIR
#define HT_TOP_SRCDIR "."
#endif
#define KERNEL(a) ((int64_t)(a) < 0)

/* One expected sample: TSV columns in order (ip, addr, id, data_src, phys_addr in hex). */
enum { C_N, C_IP, C_PID, C_TID, C_TIME, C_ADDR, C_ID, C_CPU, C_PERIOD, C_WEIGHT, C_DSRC, C_PHYS, C_RAW, NCOL };
static const char *colname[NCOL] = { "n", "ip", "pid", "tid", "time", "addr", "id", "cpu",
				     "period", "weight", "data_src", "phys_addr", "raw_size" };
static const int hexcol[NCOL] = { [C_IP] = 1, [C_ADDR] = 1, [C_ID] = 1, [C_DSRC] = 1, [C_PHYS] = 1 };
struct row {
	uint64_t v[NCOL];
	int drop; /* the filter must drop it: "drop" (IBS), or no/kernel data address (PEBS) */
};

struct set {
	const char *name;
	unsigned char *rec;
	size_t rec_len;
	char *json;
	struct row *exp;
	size_t nexp;
	uint64_t lost, throttle, unthrottle; /* from the TSV's #stats line / JSON */
	uint64_t sample_type;
};

/* What the reader produced, and what got through the filter into batches. */
static struct row *got;
static size_t ngot, cap, passed, passed_kernel;
static struct ht_batch batch;
static int raw_set;

static void classifier(void *arg, const struct ht_sample *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		passed_kernel += KERNEL(s[i].addr) || !s[i].addr;
	passed += n;
}

static int collect(void *arg, const struct ht_ring_rec *r)
{
	struct ht_sample o;
	int took;
	if (ngot == cap)
		return 0;
	uint64_t v[NCOL] = { ngot, r->ip, r->pid, r->tid, r->time, r->addr, r->id, r->cpu,
			     r->period, r->weight, r->data_src, r->phys_addr, r->raw_size };
	memcpy(got[ngot].v, v, sizeof(v));
	if (raw_set) { /* the IBS source's path: decode the RAW payload, batch what decodes */
		memset(&o, 0, sizeof(o));
		took = r->raw && ht_ibs_decode(r->raw, r->raw_size, &o);
		if (took)
			*ht_batch_next(&batch) = o;
	} else {
		took = ht_pebs_take(&batch, r, 0);
	}
	got[ngot++].drop = !took;
	return took;
}

static char *slurp(const char *dir, const char *name, const char *ext, size_t *len)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s%s", dir, name, ext);
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	rewind(f);
	char *b = malloc((size_t)n + 1);
	if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
		free(b);
		b = NULL;
	}
	fclose(f);
	if (b) {
		b[n] = 0;
		*len = (size_t)n;
	}
	return b;
}

/* The number after "key": inside the object "obj" (NULL: anywhere); ~0 if absent. */
static uint64_t json_num(const char *js, const char *obj, const char *key)
{
	char k[80];
	const char *p = js, *end = NULL;
	if (obj) {
		snprintf(k, sizeof(k), "\"%s\"", obj);
		if (!(p = strstr(js, k)) || !(end = strchr(p, '}')))
			return ~0ull;
	}
	snprintf(k, sizeof(k), "\"%s\":", key);
	p = strstr(p, k);
	if (!p || (end && p > end))
		return ~0ull;
	return strtoull(p + strlen(k), NULL, 10);
}

static uint64_t stat_of(const char *line, const char *key)
{
	char k[40];
	snprintf(k, sizeof(k), " %s=", key);
	const char *p = strstr(line, k);
	return p ? strtoull(p + strlen(k), NULL, 10) : ~0ull;
}

static int load_tsv(struct set *s, char *tsv)
{
	int idx[NCOL], ibs = -1, ncols = 0;
	char *save = NULL, *line = strtok_r(tsv, "\n", &save), *f, *fs;
	for (int c = 0; c < NCOL; c++)
		idx[c] = -1;
	for (f = strtok_r(line, "\t", &fs); f; f = strtok_r(NULL, "\t", &fs), ncols++) {
		for (int c = 0; c < NCOL; c++)
			if (!strcmp(f, colname[c]))
				idx[c] = ncols;
		if (!strcmp(f, "ibs"))
			ibs = ncols;
	}
	for (int c = 0; c < NCOL; c++)
		if (idx[c] < 0)
			return -1;
	s->exp = calloc(json_num(s->json, "records", "SAMPLE") + 1, sizeof(struct row));
	while ((line = strtok_r(NULL, "\n", &save))) {
		if (!strncmp(line, "#stats", 6)) {
			s->lost = stat_of(line, "lost") + stat_of(line, "lost_samples");
			continue;
		}
		struct row *r = &s->exp[s->nexp];
		char *col[32];
		int n = 0;
		for (f = strtok_r(line, "\t", &fs); f && n < 32; f = strtok_r(NULL, "\t", &fs))
			col[n++] = f;
		if (n != ncols || s->nexp == json_num(s->json, "records", "SAMPLE"))
			return -1;
		for (int c = 0; c < NCOL; c++)
			r->v[c] = strtoull(col[idx[c]], NULL, hexcol[c] ? 16 : 10);
		r->drop = ibs >= 0 && strcmp(col[ibs], "-") ? !strcmp(col[ibs], "drop")
							   : !r->v[C_ADDR] || KERNEL(r->v[C_ADDR]);
		s->nexp++;
	}
	return 0;
}

/* Write s's records into a ring of `pages` data pages as the kernel would,
 * draining whenever the next one does not fit. */
static void feed(const struct set *s, uint64_t sample_type, int pages, struct ht_source_stats *st, uint64_t *wrapped)
{
	size_t psz = (size_t)sysconf(_SC_PAGESIZE), size = psz * (size_t)pages;
	unsigned char *mem = aligned_alloc(psz, psz + size);
	struct perf_event_mmap_page *pg = (void *)mem;
	struct ht_ring r;
	memset(mem, 0, psz + size);
	pg->data_offset = psz;
	pg->data_size = size;
	pg->data_head = pg->data_tail = size - 24;
	memset(st, 0, sizeof(*st));
	ngot = passed = passed_kernel = 0;
	raw_set = (sample_type & PERF_SAMPLE_RAW) != 0;
	ht_batch_begin(&batch, classifier, NULL);
	if (ht_ring_init(&r, mem, psz + size, sample_type) < 0) {
		st->bad_records = ~0ull;
		free(mem);
		return;
	}
	uint64_t head = pg->data_head;
	for (size_t off = 0; off + 8 <= s->rec_len;) {
		struct perf_event_header h;
		memcpy(&h, s->rec + off, sizeof(h));
		if (h.size < 8 || off + h.size > s->rec_len)
			break;
		if (head + h.size - pg->data_tail > size)
			ht_ring_read(&r, collect, NULL, st);
		for (size_t i = 0; i < h.size; i++)
			mem[psz + ((head + i) & (size - 1))] = s->rec[off + i];
		head += h.size;
		__atomic_store_n(&pg->data_head, head, __ATOMIC_RELEASE);
		off += h.size;
	}
	ht_ring_read(&r, collect, NULL, st);
	ht_batch_flush(&batch);
	*wrapped = r.wrapped;
	if (pg->data_tail != head)
		st->bad_records += 1000000; /* not consumed to head */
	ht_ring_fini(&r);
	free(mem);
}

static void check_set(const struct set *s)
{
	static const int pages[] = { 1, 2, 16 };
	size_t drops = 0, kernel = 0;
	for (size_t i = 0; i < s->nexp; i++) {
		drops += s->exp[i].drop;
		kernel += KERNEL(s->exp[i].v[C_ADDR]);
	}
	for (int p = 0; p < 3; p++) {
		struct ht_source_stats st;
		uint64_t wrapped;
		feed(s, s->sample_type, pages[p], &st, &wrapped);
		const char *nm = s->name;
		int pg = pages[p];
		is_int(ngot, s->nexp, "%s, %d pages: all %zu samples decoded", nm, pg, s->nexp);
		size_t bad = 0, first = 0;
		for (size_t i = 0; i < ngot && i < s->nexp; i++)
			for (int c = 0; c < NCOL; c++)
				if (got[i].v[c] != s->exp[i].v[c] && !bad++)
					first = i * NCOL + (size_t)c;
		if (!ok(ngot == s->nexp && !bad, "%s, %d pages: every field as the independent decoder has it", nm, pg) && bad)
			tap_diag("  %zu differ; first: sample %zu %s got %#llx want %#llx", bad, first / NCOL,
				 colname[first % NCOL], (unsigned long long)got[first / NCOL].v[first % NCOL],
				 (unsigned long long)s->exp[first / NCOL].v[first % NCOL]);
		is_int(st.bad_records, 0, "%s, %d pages: no bad records", nm, pg);
		is_int(st.lost, s->lost, "%s, %d pages: lost %llu (LOST + LOST_SAMPLES)", nm, pg, (unsigned long long)s->lost);
		ok(st.throttle == s->throttle && st.unthrottle == s->unthrottle,
		   "%s, %d pages: THROTTLE %llu / UNTHROTTLE %llu as in the JSON", nm, pg,
		   (unsigned long long)st.throttle, (unsigned long long)st.unthrottle);
		ok(wrapped > 0, "%s, %d pages: %llu records straddled the ring end", nm, pg, (unsigned long long)wrapped);
		size_t dropped = 0, wrong = 0;
		for (size_t i = 0; i < ngot && i < s->nexp; i++) {
			dropped += got[i].drop;
			wrong += got[i].drop != s->exp[i].drop;
		}
		ok(!wrong && passed == ngot - dropped && passed_kernel == 0 && st.samples == passed,
		   "%s, %d pages: %zu of %zu dropped before the classifier (%zu expected, %zu kernel addresses), none passed",
		   nm, pg, dropped, ngot, drops, kernel);
	}
	/* The same bytes under a sample_type one field short / one field over. */
	uint64_t fewer = s->sample_type & ~(s->sample_type & -s->sample_type);
	uint64_t more = s->sample_type | (!(s->sample_type & PERF_SAMPLE_ADDR) ? PERF_SAMPLE_ADDR : PERF_SAMPLE_PHYS_ADDR);
	for (int k = 0; k < 2; k++) {
		struct ht_source_stats st;
		uint64_t wrapped;
		feed(s, k ? more : fewer, 1, &st, &wrapped);
		ok(ngot == 0 && st.bad_records == s->nexp, "%s: under a sample_type one field %s, all %zu samples are bad (%llu)",
		   s->name, k ? "over (records too short)" : "short (records too long)", s->nexp,
		   (unsigned long long)st.bad_records);
	}
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(void)
{
	char dir[1024], *names[MAXSETS];
	const char *env = getenv("HT_PERF_FIXTURES"), *top = getenv("abs_top_srcdir");
	int n = 0;
	if (env)
		snprintf(dir, sizeof(dir), "%s", env);
	else
		snprintf(dir, sizeof(dir), "%s/../shared/fixtures/perf", top ? top : HT_TOP_SRCDIR);
	DIR *d = opendir(dir);
	if (!d) {
		printf("1..0 # SKIP no recorded perf fixtures at %s (they live beside the project, in ../shared)\n", dir);
		return 0;
	}
	for (struct dirent *e; (e = readdir(d)) && n < MAXSETS;) {
		size_t l = strlen(e->d_name);
		if (l > 5 && !strcmp(e->d_name + l - 5, ".json"))
			names[n++] = strndup(e->d_name, l - 5);
	}
	closedir(d);
	qsort(names, (size_t)n, sizeof(names[0]), by_name);
	ok(n > 0, "%d recorded sets in %s", n, dir);
	for (int i = 0; i < n; i++) {
		struct set s = { .name = names[i] };
		size_t jl, tl;
		char *tsv;
		s.json = slurp(dir, s.name, ".json", &jl);
		s.rec = (unsigned char *)slurp(dir, s.name, ".rec", &s.rec_len);
		tsv = slurp(dir, s.name, ".expected.tsv", &tl);
		if (!ok(s.json && s.rec && tsv, "%s: .json, .rec and .expected.tsv present", s.name))
			continue;
		s.sample_type = json_num(s.json, "attr", "sample_type");
		s.throttle = json_num(s.json, "records", "THROTTLE");
		s.unthrottle = json_num(s.json, "records", "UNTHROTTLE");
		s.throttle = s.throttle == ~0ull ? 0 : s.throttle;
		s.unthrottle = s.unthrottle == ~0ull ? 0 : s.unthrottle;
		int loaded = s.sample_type != ~0ull && load_tsv(&s, tsv) == 0 && s.lost != ~0ull;
		if (!ok(loaded,
			"%s: attr.sample_type %#llx, %zu expected samples", s.name, (unsigned long long)s.sample_type, s.nexp))
			continue;
		/* the file itself: its record types counted as the JSON counts them */
		uint64_t cnt[PERF_RECORD_MAX] = { 0 };
		for (size_t off = 0; off + 8 <= s.rec_len;) {
			struct perf_event_header h;
			memcpy(&h, s.rec + off, sizeof(h));
			if (h.size < 8)
				break;
			if (h.type < PERF_RECORD_MAX)
				cnt[h.type]++;
			off += h.size;
		}
		static const struct { const char *name; unsigned type; } kinds[] = {
			{ "SAMPLE", PERF_RECORD_SAMPLE }, { "LOST", PERF_RECORD_LOST }, { "THROTTLE", PERF_RECORD_THROTTLE },
			{ "UNTHROTTLE", PERF_RECORD_UNTHROTTLE }, { "LOST_SAMPLES", PERF_RECORD_LOST_SAMPLES } };
		int same = cnt[PERF_RECORD_SAMPLE] == s.nexp;
		for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
			uint64_t want = json_num(s.json, "records", kinds[k].name);
			same &= cnt[kinds[k].type] == (want == ~0ull ? 0 : want);
		}
		ok(same, "%s: the .rec holds the records the JSON lists (%llu LOST_SAMPLES)", s.name,
		   (unsigned long long)cnt[PERF_RECORD_LOST_SAMPLES]);
		cap = s.nexp + 1;
		got = calloc(cap, sizeof(*got));
		check_set(&s);
		free(got);
		free(s.exp);
		free(s.json);
		free(s.rec);
		free(tsv);
		free(names[i]);
	}
	return tap_done();
}
