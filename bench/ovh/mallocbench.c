/*
 * mallocbench.c - a malloc-heavy loop for the interposition overhead:
 * random sizes (16 B .. 64 KiB, mostly small) over 8192 live slots,
 * ARG operations (default 20 M). Prints operations per second.
 * "mallocbench OPS big": 1-4 MiB blocks over 64 slots instead, each one
 * above site_threshold, so every call pays the call-site hook (unwind,
 * lookup, live table) when the runtime is on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "clock.h"

int main(int argc, char **argv)
{
	long ops = argc > 1 ? atol(argv[1]) : 20000000;
	int big = argc > 2 && !strcmp(argv[2], "big");
	enum { SLOTS = 8192 };
	static void *slot[SLOTS];
	const size_t nslots = big ? 64 : SLOTS;
	uint64_t r = 0x9e3779b97f4a7c15ULL, t0 = wall_ns();
	for (long i = 0; i < ops; i++) {
		r ^= r << 13, r ^= r >> 7, r ^= r << 17;
		size_t k = r % nslots, sz = (r >> 20) % 100 < 90 ? 16 + (r >> 32) % 512 : 16 + (r >> 32) % 65536;
		if (big)
			sz = (1u << 20) + (r >> 32) % (3u << 20);
		free(slot[k]);
		slot[k] = malloc(sz);
		((char *)slot[k])[0] = (char)i;
	}
	double s = (wall_ns() - t0) / 1e9;
	for (size_t k = 0; k < nslots; k++)
		free(slot[k]);
	printf("%.0f\n", ops / s);
	return 0;
}
