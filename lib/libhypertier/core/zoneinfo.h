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

static inline uint64_t ht_zone_pcp_bytes(int node)
{
	FILE *f = fopen("/proc/zoneinfo", "re");
	char line[256];
	uint64_t pages = 0;
	int cur = -1;
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		int n;
		unsigned long long c;
		if (sscanf(line, "Node %d,", &n) == 1)
			cur = n;
		else if (cur == node && sscanf(line, " count: %llu", &c) == 1)
			pages += c;
	}
	fclose(f);
	return pages * (uint64_t)sysconf(_SC_PAGESIZE);
}

/*
 * The kernel's own reserve on a node: the sum of its zones' high
 * watermarks. Below low kswapd wakes, below min allocations stall in direct
 * reclaim; with no swap and demotion off neither frees anonymous memory, so
 * a promotion that digs under high stalls move_pages for seconds (seen in
 * the TCG guest: one epoch took 30 s). The budget leaves this much free.
 */
static inline uint64_t ht_zone_high_bytes(int node)
{
	FILE *f = fopen("/proc/zoneinfo", "re");
	char line[256];
	uint64_t pages = 0;
	int cur = -1;
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		int n;
		unsigned long long h;
		if (sscanf(line, "Node %d,", &n) == 1)
			cur = n;
		else if (cur == node && sscanf(line, " high %llu", &h) == 1) /* not the per-CPU "high:" */
			pages += h;
	}
	fclose(f);
	return pages * (uint64_t)sysconf(_SC_PAGESIZE);
}

#endif
