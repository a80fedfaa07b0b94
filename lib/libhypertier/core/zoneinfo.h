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

#endif
