/*
 * ht-trace-convert - turn other memory traces into HyperTier traces, and
 * print traces as text.
 *
 *   ht-trace-convert [-n N] [-t TID] -o OUT.httrace [LACKEY_LOG|-]
 *   ht-trace-convert -q [-n N] -o OUT.httrace [QTRACE_FILE|-]
 *   ht-trace-convert --dump TRACE
 *   ht-trace-convert --stats TRACE
 *
 * Input: `valgrind --tool=lackey --trace-mem=yes --log-file=LOG prog`.
 * Data lines " L addr,size" (load), " S addr,size" (store), " M addr,size"
 * (modify: counted as one store) are accesses; "I ..." instruction lines and
 * "==pid==" valgrind lines are skipped. Every N-th access is written (N=4093
 * by default, like the PEBS period; N=1 keeps all). Lackey has no clock: a
 * sample's time is the index of its access in the data stream (one "ns" per
 * access), its weight 1, its tid -t (default 1).
 *
 * -q: input is the raw output of the QEMU plugin bench/traces/qtrace.c (a
 * 16-byte header "HTQEMU\0\0", u32 version 1, u32 record size 8; then a u64
 * an access: bits 0-55 address, 56-62 tid, 63 store); times as above.
 *
 * --dump prints one line per record: "S time addr tid weight load|store",
 * "M time start len" (map), "U time start len" (unmap).
 *
 * --stats prints one line "accesses N stores N pages N footprint_mib F
 * regions_2m N file_mib F": the sample count, the distinct 4 KiB pages they
 * touch (footprint = pages x 4 KiB), the distinct 2 MiB regions.
 */
#include "source/trace.h"
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int usage(void)
{
	fprintf(stderr, "usage: ht-trace-convert [-n N] [-t TID] -o OUT [LACKEY_LOG|-]\n"
			"       ht-trace-convert -q [-n N] -o OUT [QTRACE_FILE|-]\n"
			"       ht-trace-convert --dump TRACE\n"
			"       ht-trace-convert --stats TRACE\n");
	return 2;
}

static int dump(const char *path)
{
	char why[256];
	struct ht_trace_rec r;
	struct ht_trace_reader *rd = ht_trace_reader_open(path, why, sizeof(why));
	int rc;
	if (!rd) {
		fprintf(stderr, "ht-trace-convert: %s\n", why);
		return 1;
	}
	while ((rc = ht_trace_read_next(rd, &r)) == 1) {
		if (r.kind == HT_TRACE_SAMPLE)
			printf("S %" PRIu64 " 0x%" PRIx64 " %u %u %s\n", r.time_ns, r.s.addr, r.s.tid, r.s.weight,
			       r.s.store ? "store" : "load");
		else
			printf("%c %" PRIu64 " 0x%" PRIx64 " %" PRIu64 "\n", r.kind == HT_TRACE_MAP ? 'M' : 'U', r.time_ns,
			       r.start, r.len);
	}
	if (rc < 0)
		fprintf(stderr, "ht-trace-convert: %s: %s\n", path, ht_trace_reader_error(rd));
	else if (!ht_trace_reader_complete(rd))
		fprintf(stderr, "ht-trace-convert: %s: no end record (the writer did not close it)\n", path);
	ht_trace_reader_close(rd);
	return rc < 0 ? 1 : 0;
}

/* A set of u64 keys (open addressing): the distinct pages of a trace in
 * memory for the pages, not for the accesses (10^8 and more). */
struct set {
	uint64_t *k; /* key + 1; 0 = empty */
	size_t cap, n;
};

static int set_add(struct set *s, uint64_t key)
{
	if (2 * (s->n + 1) > s->cap) {
		struct set t = { calloc(s->cap ? 2 * s->cap : 1 << 16, sizeof(uint64_t)), s->cap ? 2 * s->cap : 1 << 16, 0 };
		if (!t.k)
			return -1;
		for (size_t i = 0; i < s->cap; i++)
			if (s->k[i])
				set_add(&t, s->k[i] - 1);
		free(s->k);
		*s = t;
	}
	size_t i = (size_t)((key * 0x9E3779B97F4A7C15ull) >> 20) & (s->cap - 1);
	while (s->k[i] && s->k[i] != key + 1)
		i = (i + 1) & (s->cap - 1);
	s->n += !s->k[i];
	s->k[i] = key + 1;
	return 0;
}

static int stats(const char *path)
{
	char why[256];
	struct ht_trace_rec r;
	struct ht_trace_reader *rd = ht_trace_reader_open(path, why, sizeof(why));
	if (!rd) {
		fprintf(stderr, "ht-trace-convert: %s\n", why);
		return 1;
	}
	size_t n = 0;
	uint64_t stores = 0;
	struct set pages = { 0 }, regions = { 0 };
	int rc = 0, oom = 0;
	while (!oom && (rc = ht_trace_read_next(rd, &r)) == 1) {
		if (r.kind != HT_TRACE_SAMPLE)
			continue;
		oom = set_add(&pages, r.s.addr >> 12) < 0 || set_add(&regions, r.s.addr >> 21) < 0;
		n++;
		stores += r.s.store;
	}
	if (oom || rc < 0)
		fprintf(stderr, "ht-trace-convert: %s: %s\n", path, rc < 0 ? ht_trace_reader_error(rd) : "out of memory");
	ht_trace_reader_close(rd);
	free(pages.k);
	free(regions.k);
	if (oom || rc < 0)
		return 1;
	struct stat st;
	double mib = stat(path, &st) ? 0 : st.st_size / 1048576.0;
	printf("accesses %zu stores %" PRIu64 " pages %zu footprint_mib %.1f regions_2m %zu file_mib %.1f\n", n, stores,
	       pages.n, pages.n / 256.0, regions.n, mib);
	return 0;
}

/* Every -n-th access of the input, batched into the writer. */
struct conv {
	struct ht_trace_writer *w;
	unsigned long long every;
	uint64_t accesses, written;
	size_t nb;
	int rc;
	struct ht_sample buf[4096];
};

static void conv_flush(struct conv *c)
{
	if (c->nb)
		c->rc |= ht_trace_write_samples(c->w, c->buf, c->nb) < 0;
	c->written += c->nb;
	c->nb = 0;
}

static void conv_access(struct conv *c, uint64_t addr, uint32_t tid, int store)
{
	if (++c->accesses % c->every)
		return;
	struct ht_sample *s = &c->buf[c->nb++];
	memset(s, 0, sizeof(*s));
	s->addr = addr;
	s->time_ns = c->accesses - 1;
	s->tid = tid;
	s->weight = 1;
	s->store = store;
	if (c->nb == sizeof(c->buf) / sizeof(c->buf[0]))
		conv_flush(c);
}

/* The qtrace plugin's records (see the top of this file). 0 or 1. */
static int read_qtrace(struct conv *c, FILE *f, const char *in)
{
	unsigned char h[16];
	if (fread(h, 1, sizeof(h), f) != sizeof(h) || memcmp(h, "HTQEMU\0\0", 8) || h[8] != 1 || h[12] != 8) {
		fprintf(stderr, "ht-trace-convert: %s: not a qtrace (version 1) file\n", in);
		return 1;
	}
	static uint64_t r[1 << 16];
	size_t n;
	while ((n = fread(r, 1, sizeof(r), f)) > 0) {
		if (n % 8) {
			fprintf(stderr, "ht-trace-convert: %s: truncated record at the end\n", in);
			return 1;
		}
		for (size_t i = 0; i < n / 8; i++)
			conv_access(c, r[i] & ((1ull << 56) - 1), (uint32_t)(r[i] >> 56 & 127), (int)(r[i] >> 63));
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = { { "dump", required_argument, NULL, 'd' },
					    { "stats", required_argument, NULL, 's' }, { "help", no_argument, NULL, 'h' },
					    { NULL, 0, NULL, 0 } };
	const char *out = NULL, *in = "-";
	unsigned long long every = 4093, tid = 1;
	char *end;
	int c, qemu = 0;

	while ((c = getopt_long(argc, argv, "n:o:qt:h", lo, NULL)) != -1) {
		switch (c) {
		case 'd':
			return dump(optarg);
		case 's':
			return stats(optarg);
		case 'n':
			errno = 0;
			every = strtoull(optarg, &end, 0);
			if (errno || *end || every < 1 || optarg[0] == '-') {
				fprintf(stderr, "ht-trace-convert: -n %s: expected a sampling interval >= 1\n", optarg);
				return 2;
			}
			break;
		case 't':
			errno = 0;
			tid = strtoull(optarg, &end, 0);
			if (errno || *end || tid > UINT32_MAX || optarg[0] == '-') {
				fprintf(stderr, "ht-trace-convert: -t %s: expected a thread id\n", optarg);
				return 2;
			}
			break;
		case 'o':
			out = optarg;
			break;
		case 'q':
			qemu = 1;
			break;
		default:
			return usage();
		}
	}
	if (optind < argc)
		in = argv[optind++];
	if (!out || optind < argc)
		return usage();

	FILE *f = strcmp(in, "-") ? fopen(in, "re") : stdin;
	if (!f) {
		fprintf(stderr, "ht-trace-convert: cannot read %s: %s\n", in, strerror(errno));
		return 1;
	}
	char why[256];
	struct ht_trace_writer *w = ht_trace_writer_open(out, why, sizeof(why));
	if (!w) {
		fprintf(stderr, "ht-trace-convert: %s\n", why);
		return 1;
	}

	static struct conv cv; /* static: its buffer; reset for each call (fuzzer) */
	cv = (struct conv){ .w = w, .every = every };
	uint64_t lineno = 0, skipped = 0;
	char *line = NULL;
	size_t cap = 0;
	int rc = qemu ? read_qtrace(&cv, f, in) : 0;
	while (!qemu && getline(&line, &cap, f) > 0) {
		lineno++;
		/* Data lines start with a space, then the kind, then spaces. */
		char k = line[0] == ' ' ? line[1] : 0;
		if (k != 'L' && k != 'S' && k != 'M') {
			skipped++;
			continue;
		}
		char *p = line + 2;
		while (*p == ' ')
			p++;
		errno = 0;
		uint64_t addr = strtoull(p, &end, 16);
		if (errno || end == p || *end != ',') {
			fprintf(stderr, "ht-trace-convert: %s:%llu: bad access line: %s", in, (unsigned long long)lineno, line);
			rc = 1;
			break;
		}
		conv_access(&cv, addr, (uint32_t)tid, k != 'L');
	}
	conv_flush(&cv);
	rc |= cv.rc;
	if (ferror(f)) {
		fprintf(stderr, "ht-trace-convert: reading %s: %s\n", in, strerror(errno));
		rc = 1;
	}
	free(line);
	if (f != stdin)
		fclose(f);
	ht_trace_writer_close(w);
	if (rc) {
		fprintf(stderr, "ht-trace-convert: %s not written completely\n", out);
		return 1;
	}
	fprintf(stderr, "ht-trace-convert: %llu accesses, %llu samples (1 in %llu) -> %s; %llu other lines skipped\n",
		(unsigned long long)cv.accesses, (unsigned long long)cv.written, every, out, (unsigned long long)skipped);
	return 0;
}
