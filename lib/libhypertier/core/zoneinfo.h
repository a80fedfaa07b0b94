/*
 * zoneinfo.h - free pages parked on the per-CPU lists of a node.
 *
 * MemFree leaves them out although they are free; they drain into MemFree
 * under allocation, several MiB at a time. The runtime's fast budget and
 * hostctl's balloon both count them as free. Header-only so that the static
 * guest agent can use it without linking the runtime's core library.
 */
#ifndef HT_ZONEINFO_H
#define HT_ZONEINFO_H
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

/* Sum of one per-zone page count of a node (scanf format fmt), in bytes. */
static inline uint64_t ht_zone_sum(int node, const char *fmt)
{
	FILE *f = fopen("/proc/zoneinfo", "re");
	char line[256];
	uint64_t pages = 0;
	int cur = -1;
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		int n;
		unsigned long long v;
		if (sscanf(line, "Node %d,", &n) == 1)
			cur = n;
		else if (cur == node && sscanf(line, fmt, &v) == 1)
			pages += v;
	}
	fclose(f);
	return pages * (uint64_t)sysconf(_SC_PAGESIZE);
}

static inline uint64_t ht_zone_pcp_bytes(int node) { return ht_zone_sum(node, " count: %llu"); }

/*
 * The kernel's own reserve on a node: the sum of its zones' high
 * watermarks. Below low kswapd wakes, below min allocations stall in direct
 * reclaim; with no swap and demotion off neither frees anonymous memory, so
 * a promotion that digs under high stalls move_pages for seconds (seen in
 * the TCG guest: one epoch took 30 s). The budget leaves this much free.
 */
static inline uint64_t ht_zone_high_bytes(int node) { return ht_zone_sum(node, " high %llu"); /* not the per-CPU "high:" */ }

#endif
