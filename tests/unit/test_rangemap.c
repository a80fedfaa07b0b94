/* test_rangemap.c - managed spans: add/remove/trim/split, and the maps filter. */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include "ranges/rangemap.h"
#include "tap.h"

#define M (1ul << 20)
#define B 0x7f0000000000ul

static uint64_t covered(const struct ht_ranges *v)
{
	uint64_t n = 0;
	for (size_t i = 0; i < v->n; i++)
		n += v->r[i].end - v->r[i].start;
	return n;
}

static int sorted_disjoint(const struct ht_ranges *v)
{
	for (size_t i = 0; i < v->n; i++) {
		if (v->r[i].start >= v->r[i].end)
			return 0;
		if (i && v->r[i - 1].end > v->r[i].start)
			return 0;
	}
	return 1;
}

static int events, unmaps;
static void on_span(void *arg, uintptr_t s, size_t len, int unmap)
{
	events++;
	unmaps += unmap;
}

int main(void)
{
	struct ht_ranges v = { 0 };
	is_int(ht_rangemap_add(&v, B, B + 10 * M, 0, 0, 100, on_span, NULL), 10 * M, "add 10 MiB");
	is_int(ht_rangemap_add(&v, B + 5 * M, B + 20 * M, 1, 0, 100, on_span, NULL), 10 * M, "overlapping add covers only the gap");
	is_int(v.n, 2, "two ranges");
	is_int(v.r[1].origin, 1, "the new part keeps its own origin");
	is_int(ht_rangemap_add(&v, B + 2 * M, B + 3 * M, 2, 0, 100, NULL, NULL), 0, "add inside: nothing new");
	is_int(ht_ranges_find(&v, B + 12 * M), 1, "find");
	is_int(ht_ranges_find(&v, B + 20 * M), -1, "find past the end");

	v.r[0].count = 1000; /* 100 per MiB */
	is_int(ht_rangemap_remove(&v, B + 4 * M, B + 6 * M, on_span, NULL), 2 * M, "remove a hole");
	ok(sorted_disjoint(&v) && v.n == 3, "hole splits the first range (%zu ranges)", v.n);
	is_int(covered(&v), 18 * M, "18 MiB covered");
	ok(v.r[0].end == B + 4 * M && v.r[1].start == B + 6 * M, "split at the hole's edges");
	ok(v.r[0].count > 399 && v.r[0].count < 401 && v.r[1].count > 399 && v.r[1].count < 401,
	   "counts split by size (%.0f, %.0f)", v.r[0].count, v.r[1].count);
	is_int(ht_rangemap_remove(&v, B - M, B + M, NULL, NULL), M, "trim the front");
	is_int(v.r[0].start, B + M, "front trimmed");
	is_int(ht_rangemap_remove(&v, B + 19 * M, B + 30 * M, NULL, NULL), M, "trim the back");
	is_int(v.r[v.n - 1].end, B + 19 * M, "back trimmed");
	is_int(ht_rangemap_remove(&v, B, B + 100 * M, NULL, NULL), 16 * M, "remove everything");
	is_int(v.n, 0, "no ranges left");
	ok(events > 0 && unmaps > 0, "span events reported (%d, %d unmaps)", events, unmaps);

	/* cap on the number of ranges */
	for (int i = 0; i < 10; i++)
		ht_rangemap_add(&v, B + 2 * i * M, B + (2 * i + 1) * M, 0, 0, 4, NULL, NULL);
	is_int(v.n, 4, "cap holds");
	is_int(ht_rangemap_add(&v, B + 100 * M, B + 101 * M, 0, 0, 4, NULL, NULL), -ENOMEM, "add past the cap: -ENOMEM");
	is_int(ht_rangemap_cut(&v, B + 2 * M + 4096 * 3), 0, "cut inside a range");
	is_int(v.n, 5, "cut adds a boundary");
	is_int(ht_rangemap_cut(&v, B + 2 * M), 0, "cut at a boundary");
	is_int(v.n, 5, "no-op at a boundary");
	ht_ranges_free(&v);

	/* the maps filter */
	char path[] = "/tmp/ht-maps-XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");
	fprintf(f, "55d0a0000000-55d0a0021000 rw-p 00000000 00:00 0                          [heap]\n"
		   "55d0a0021000-55d0a0042000 rw-p 00000000 00:00 0 \n"
		   "7f0000000000-7f0000100000 rw-p 00000000 00:00 0\n"
		   "7f0000100000-7f0000200000 r--p 00000000 00:00 0\n"
		   "7f0000200000-7f0000300000 rw-s 00000000 00:05 1234                       /dev/zero (deleted)\n"
		   "7f0000300000-7f0000400000 rw-p 00001000 08:01 5678                       /usr/lib/libc.so.6\n"
		   "7f0000400000-7f0000500000 r-xp 00000000 08:01 5678                       /usr/lib/libc.so.6\n"
		   "7ffc00000000-7ffc00021000 rw-p 00000000 00:00 0                          [stack]\n"
		   "7ffc00100000-7ffc00102000 r--p 00000000 00:00 0                          [vvar]\n"
		   "7ffc00102000-7ffc00104000 r-xp 00000000 00:00 0                          [vdso]\n");
	fclose(f);
	struct ht_mapping *m = NULL;
	long n = ht_maps_read(path, 0, &m);
	is_int(n, 2, "anon: heap+adjacent anon merged, one anon mmap");
	ok(n == 2 && m[0].start == 0x55d0a0000000ul && m[0].end == 0x55d0a0042000ul, "heap and its neighbour as one span");
	ok(n == 2 && m[1].start == 0x7f0000000000ul, "anonymous private writable mmap");
	free(m);
	n = ht_maps_read(path, 1, &m);
	is_int(n, 4, "all: also shared, file and stack (not vvar/vdso/read-only)");
	free(m);
	n = ht_maps_read(path, 2, &m);
	is_int(n, 4, "every mapping (adjacent ones joined)");
	free(m);
	unlink(path);
	is_int(ht_maps_read("/nonexistent/maps", 0, &m), -ENOENT, "missing file: -ENOENT");
	n = ht_maps_read(NULL, 0, &m);
	ok(n > 0, "this process has managed mappings (%ld)", n);
	free(m);
	return tap_done();
}
