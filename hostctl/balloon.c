/* balloon.c - inflate: mmap, mbind(MPOL_BIND), MADV_NOHUGEPAGE (khugepaged
 * would move the pages), mlock, touch, then read frame numbers from
 * /proc/self/pagemap and re-check each page's node with move_pages(NULL).
 * A page that is not present or not on the node is kept pinned but never
 * reported. Deflate: munmap, the guest simply gets the pages back (the host
 * re-backs them, zero-filled, on first touch). */
#include "balloon.h"
#include "../lib/libhypertier/core/zoneinfo.h"
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <numaif.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int hc_node_mem(int node, uint64_t *total, uint64_t *free)
{
	char p[96], line[256];
	snprintf(p, sizeof(p), "/sys/devices/system/node/node%d/meminfo", node);
	FILE *f = fopen(p, "r");
	if (!f)
		return -1;
	int got = 0;
	while (fgets(line, sizeof(line), f)) {
		int n;
		unsigned long long kb;
		if (sscanf(line, "Node %d MemTotal: %llu kB", &n, &kb) == 2)
			*total = kb << 10, got |= 1;
		else if (sscanf(line, "Node %d MemFree: %llu kB", &n, &kb) == 2)
			*free = kb << 10, got |= 2;
	}
	fclose(f);
	if (got != 3 || !*total)
		return -1;
	*free += ht_zone_pcp_bytes(node); /* free too, though MemFree leaves them out */
	return 0;
}

int hc_balloon_init(struct hc_balloon *b, uint64_t reserve, char *why)
{
	memset(b, 0, sizeof(*b));
	b->reserve = reserve;
	b->pending_node = -1;
	b->pagemap_fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (b->pagemap_fd < 0) {
		snprintf(why, HC_WHY, "/proc/self/pagemap: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void chunk_free(struct hc_chunk *c)
{
	if (c->len)
		munmap(c->addr, c->len);
	free(c->rep);
	free(c);
}

int hc_balloon_inflate(struct hc_balloon *b, int node, uint64_t bytes, struct hc_range *out,
		       size_t max, size_t *n, char *why)
{
	uint64_t total, freeb;
	*n = 0;
	hc_balloon_commit(b, 0); /* an earlier chunk nobody committed */
	if (node < 0 || node >= HC_BALLOON_NODES || hc_node_mem(node, &total, &freeb) < 0) {
		snprintf(why, HC_WHY, "node %d has no memory", node);
		return -1;
	}
	uint64_t avail = freeb > b->reserve ? freeb - b->reserve : 0;
	uint64_t len = bytes < avail ? bytes : avail;
	if (len > (uint64_t)max * HC_PAGE)
		len = (uint64_t)max * HC_PAGE;
	len -= len % HC_PAGE;
	if (!len) {
		snprintf(why, HC_WHY, "node %d has %" PRIu64 " KiB free, %" PRIu64 " KiB are kept in reserve",
			 node, freeb >> 10, b->reserve >> 10);
		return 0;
	}
	size_t pages = len / HC_PAGE;
	struct hc_chunk *c = calloc(1, sizeof(*c));
	uint64_t *pm = malloc(pages * 8);
	void **va = malloc(pages * sizeof(void *));
	int *st = malloc(pages * sizeof(int));
	if (c)
		c->rep = calloc(pages, 1);
	if (!c || !c->rep || !pm || !va || !st) {
		snprintf(why, HC_WHY, "out of memory");
		goto fail;
	}
	c->addr = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (c->addr == MAP_FAILED) {
		c->addr = NULL;
		snprintf(why, HC_WHY, "mmap: %s", strerror(errno));
		goto fail;
	}
	c->len = len;
	unsigned long mask[HC_BALLOON_NODES / (8 * sizeof(long))] = { 0 };
	mask[node / (8 * sizeof(long))] |= 1UL << (node % (8 * sizeof(long)));
	if (madvise(c->addr, len, MADV_NOHUGEPAGE) < 0 ||
	    mbind(c->addr, len, MPOL_BIND, mask, HC_BALLOON_NODES + 1, MPOL_MF_STRICT) < 0) {
		snprintf(why, HC_WHY, "madvise/mbind: %s", strerror(errno));
		goto fail;
	}
	if (mlock(c->addr, len) < 0) {
		snprintf(why, HC_WHY, "mlock: %s", strerror(errno));
		goto fail;
	}
	for (size_t i = 0; i < pages; i++)
		((volatile char *)c->addr)[i * HC_PAGE] = 1;
	if (pread(b->pagemap_fd, pm, pages * 8, (off_t)((uintptr_t)c->addr / HC_PAGE * 8)) != (ssize_t)(pages * 8)) {
		snprintf(why, HC_WHY, "pagemap: %s", strerror(errno));
		goto fail;
	}
	for (size_t i = 0; i < pages; i++)
		va[i] = c->addr + i * HC_PAGE;
	if (move_pages(0, pages, va, NULL, st, 0) < 0) {
		snprintf(why, HC_WHY, "move_pages: %s", strerror(errno));
		goto fail;
	}
	/* Keep the good frames (pm reused in place), sorted, then merge. */
	size_t good = 0;
	for (size_t i = 0; i < pages; i++) {
		uint64_t e = pm[i], pfn = e & ((1ULL << 55) - 1);
		if (!(e >> 63 & 1) || pfn == 0 || st[i] != node)
			continue; /* not present, PFN hidden (no CAP_SYS_ADMIN) or wrong node */
		c->rep[i] = 1;
		c->reported += HC_PAGE;
		pm[good++] = pfn;
	}
	qsort(pm, good, sizeof(*pm), cmp_u64);
	size_t k = 0;
	for (size_t i = 0; i < good; i++) {
		if (k && pm[i] == pm[i - 1] + 1) {
			out[k - 1].len += HC_PAGE;
			continue;
		}
		out[k].start = pm[i] * HC_PAGE; /* k < max: good <= pages <= max */
		out[k++].len = HC_PAGE;
	}
	if (!k) {
		snprintf(why, HC_WHY, "no page of the chunk is readable on node %d (pagemap needs CAP_SYS_ADMIN)", node);
		goto fail;
	}
	free(pm);
	free(va);
	free(st);
	b->pending = c;
	b->pending_node = node;
	*n = k;
	return 0;
fail:
	free(pm);
	free(va);
	free(st);
	if (c)
		chunk_free(c);
	return -1;
}

void hc_balloon_commit(struct hc_balloon *b, int ok)
{
	struct hc_chunk *c = b->pending;
	if (!c)
		return;
	b->pending = NULL;
	if (!ok) {
		chunk_free(c);
		return;
	}
	c->next = b->head[b->pending_node];
	b->head[b->pending_node] = c;
	b->size[b->pending_node] += c->reported;
}

uint64_t hc_balloon_deflate(struct hc_balloon *b, int node, uint64_t bytes)
{
	uint64_t done = 0;
	if (node < 0 || node >= HC_BALLOON_NODES)
		return 0;
	while (done < bytes && b->head[node]) {
		struct hc_chunk *c = b->head[node];
		if (c->reported <= bytes - done) {
			done += c->reported;
			b->head[node] = c->next;
			chunk_free(c);
			continue;
		}
		/* Unmap the shortest tail holding exactly the bytes still wanted. */
		size_t i = c->len / HC_PAGE;
		uint64_t got = 0;
		while (i > 0 && got < bytes - done)
			got += c->rep[--i] ? HC_PAGE : 0;
		munmap(c->addr + i * HC_PAGE, c->len - i * HC_PAGE);
		c->len = i * HC_PAGE;
		c->reported -= got;
		done += got;
	}
	b->size[node] -= done;
	return done;
}
