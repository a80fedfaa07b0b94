/*
 * ht-trace-convert - turn other memory traces into HyperTier traces, and
 * print traces as text.
 *
 *   ht-trace-convert [-n N] [-t TID] -o OUT.httrace [LACKEY_LOG|-]
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

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* distinct values of v[0..n) after sorting it */
static size_t distinct(uint64_t *v, size_t n)
{
	size_t d = 0;
	qsort(v, n, sizeof(*v), cmp_u64);
	for (size_t i = 0; i < n; i++)
		d += !i || v[i] != v[i - 1];
	return d;
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
	size_t n = 0, cap = 1 << 20;
	uint64_t stores = 0, *pg = malloc(cap * sizeof(*pg));
	int rc = 0, oom = !pg;
	while (!oom && (rc = ht_trace_read_next(rd, &r)) == 1) {
		if (r.kind != HT_TRACE_SAMPLE)
			continue;
		if (n == cap) {
			uint64_t *p2 = realloc(pg, 2 * cap * sizeof(*pg));
			if (!p2) {
				oom = 1;
				break;
			}
			pg = p2;
			cap *= 2;
		}
		pg[n++] = r.s.addr >> 12;
		stores += r.s.store;
	}
	if (oom || rc < 0) {
		fprintf(stderr, "ht-trace-convert: %s: %s\n", path, rc < 0 ? ht_trace_reader_error(rd) : "out of memory");
		ht_trace_reader_close(rd);
		free(pg);
		return 1;
	}
	ht_trace_reader_close(rd);
	size_t pages = distinct(pg, n);
	for (size_t i = 0; i < n; i++)
		pg[i] >>= 9;
	size_t regions = distinct(pg, n);
	free(pg);
	struct stat st;
	double mib = stat(path, &st) ? 0 : st.st_size / 1048576.0;
	printf("accesses %zu stores %" PRIu64 " pages %zu footprint_mib %.1f regions_2m %zu file_mib %.1f\n", n, stores,
	       pages, pages / 256.0, regions, mib);
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
	int c;

	while ((c = getopt_long(argc, argv, "n:o:t:h", lo, NULL)) != -1) {
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

	struct ht_sample buf[1024];
	size_t nb = 0;
	uint64_t accesses = 0, written = 0, lineno = 0, skipped = 0;
	char *line = NULL;
	size_t cap = 0;
	int rc = 0;
	while (getline(&line, &cap, f) > 0) {
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
		if (++accesses % every)
			continue;
		struct ht_sample *s = &buf[nb++];
		memset(s, 0, sizeof(*s));
		s->addr = addr;
		s->time_ns = accesses - 1;
		s->tid = (uint32_t)tid;
		s->weight = 1;
		s->store = k != 'L';
		if (nb == sizeof(buf) / sizeof(buf[0])) {
			rc |= ht_trace_write_samples(w, buf, nb) < 0;
			written += nb;
			nb = 0;
		}
	}
	if (nb) {
		rc |= ht_trace_write_samples(w, buf, nb) < 0;
		written += nb;
	}
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
		(unsigned long long)accesses, (unsigned long long)written, every, out, (unsigned long long)skipped);
	return 0;
}
