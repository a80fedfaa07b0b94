/* testutil.h - small helpers shared by the unit tests. */
#ifndef HT_TESTUTIL_H
#define HT_TESTUTIL_H
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* xorshift64: the same deterministic stream in every run. */
static uint64_t test_rng = 88172645463325252ull;
static inline uint64_t xr(void)
{
	test_rng ^= test_rng << 13;
	test_rng ^= test_rng >> 7;
	test_rng ^= test_rng << 17;
	return test_rng;
}

/* Nodes with memory, per sysfs has_memory ("0", "0-1", "0,2"); -1 if unreadable. */
static inline int sysfs_nodes_with_memory(void)
{
	FILE *f = fopen("/sys/devices/system/node/has_memory", "r");
	char buf[256] = "";
	int n = 0;
	if (!f)
		return -1;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	for (char *p = buf; *p;) {
		int a = strtol(p, &p, 10), b = a;
		if (*p == '-')
			b = strtol(p + 1, &p, 10);
		n += b - a + 1;
		if (*p != ',')
			break;
		p++;
	}
	return n;
}
#endif
