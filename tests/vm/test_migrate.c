/*
 * test_migrate.c - guest test: 256 MiB round trip fast -> slow -> fast.
 * Moves with libnuma (numa_move_pages to node 1, mbind MPOL_MF_MOVE back),
 * checks every page's node with move_pages(nodes=NULL) and every byte
 * against the pattern it was filled with. Needs the two-node guest.
 */
#include <errno.h>
#include <numa.h>
#include <numaif.h>
#include <stdint.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include "tap.h"

#define SIZE (256UL << 20)

static long pagesz;
static size_t npages;
static void **pages;
static int *status;

/* Byte i of the buffer: a cheap hash of i, so misplaced pages show too. */
static inline uint64_t pattern(uint64_t i)
{
	uint64_t x = i * 0x9E3779B97F4A7C15ull;
	return x ^ (x >> 29);
}

static void fill(uint64_t *p)
{
	for (size_t i = 0; i < SIZE / 8; i++)
		p[i] = pattern(i);
}

/* Bytes that differ from the pattern; *sum gets an FNV-1a style checksum. */
static size_t corrupt_bytes(const uint64_t *p, uint64_t *sum)
{
	size_t bad = 0;
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < SIZE / 8; i++) {
		uint64_t d = p[i] ^ pattern(i);
		h = (h ^ p[i]) * 0x100000001b3ull;
		for (; d; d >>= 8)
			bad += (d & 0xff) != 0;
	}
	*sum = h;
	return bad;
}

/* Pages not on node (per move_pages with nodes=NULL); -1 if the call failed. */
static long pages_off_node(int node)
{
	long off = 0;

	if (numa_move_pages(0, npages, pages, NULL, status, 0) != 0)
		return -1;
	for (size_t i = 0; i < npages; i++)
		if (status[i] != node) {
			if (off++ < 3)
				tap_diag("page %zu: status %d, want node %d", i, status[i], node);
		}
	return off;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(void)
{
	uint64_t want_sum, sum;
	double t;

	if (numa_available() < 0 || numa_max_node() < 1)
		tap_bail("needs the two-node test guest (tests/vm/run-guest)");
	pagesz = sysconf(_SC_PAGESIZE);
	npages = SIZE / pagesz;
	pages = calloc(npages, sizeof(*pages));
	status = calloc(npages, sizeof(*status));
	int *nodes = calloc(npages, sizeof(*nodes));
	if (!pages || !status || !nodes)
		tap_bail("out of memory");

	struct bitmask *cpus = numa_allocate_cpumask();
	ok(numa_node_to_cpus(1, cpus) == 0 && numa_bitmask_weight(cpus) == 0,
	   "node 1 is CPU-less (the slow tier)");
	ok(numa_distance(0, 1) > numa_distance(0, 0), "node 1 is farther than node 0 (%d > %d)",
	   numa_distance(0, 1), numa_distance(0, 0));

	uint64_t *buf = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		tap_bail("mmap 256 MiB failed");
	madvise(buf, SIZE, MADV_NOHUGEPAGE); /* 4 KiB pages: one status each */
	/* First touch from a node-0 CPU places it on node 0. */
	numa_run_on_node(0);
	fill(buf);
	for (size_t i = 0; i < npages; i++)
		pages[i] = (char *)buf + i * pagesz;
	is_int(corrupt_bytes(buf, &want_sum), 0, "256 MiB filled with the pattern");
	is_int(pages_off_node(0), 0, "all %zu pages start on node 0", npages);

	/* Fast -> slow with move_pages. */
	for (size_t i = 0; i < npages; i++)
		nodes[i] = 1;
	t = now();
	long r = numa_move_pages(0, npages, pages, nodes, status, MPOL_MF_MOVE);
	t = now() - t;
	size_t moved = 0;
	for (size_t i = 0; i < npages; i++)
		moved += status[i] == 1;
	ok(r == 0 && moved == npages, "numa_move_pages to node 1: %zu/%zu pages moved (rc %ld, errno %d)",
	   moved, npages, r, r ? errno : 0);
	tap_diag("0 -> 1: %.0f pages/s", npages / t);
	is_int(pages_off_node(1), 0, "query: every page is on node 1");
	is_int(corrupt_bytes(buf, &sum), 0, "no corrupt byte after the move to node 1");
	ok(sum == want_sum, "checksum unchanged after the move to node 1 (%016llx)", (unsigned long long)sum);

	/* Slow -> fast with mbind(MPOL_BIND, MPOL_MF_MOVE | MPOL_MF_STRICT). */
	unsigned long mask = 1UL << 0;
	t = now();
	r = mbind(buf, SIZE, MPOL_BIND, &mask, sizeof(mask) * 8, MPOL_MF_MOVE | MPOL_MF_STRICT);
	t = now() - t;
	ok(r == 0, "mbind MPOL_MF_MOVE back to node 0 (rc %ld, errno %d)", r, r ? errno : 0);
	tap_diag("1 -> 0: %.0f pages/s", npages / t);
	is_int(pages_off_node(0), 0, "query: every page is back on node 0");
	is_int(corrupt_bytes(buf, &sum), 0, "no corrupt byte after the move back");
	ok(sum == want_sum, "checksum unchanged after the round trip (%016llx)", (unsigned long long)sum);

	/* The test must be able to fail: a wrong byte is seen. */
	((volatile char *)buf)[SIZE / 2 + 5] ^= 1;
	is_int(corrupt_bytes(buf, &sum), 1, "a flipped byte is detected");
	return tap_done();
}
