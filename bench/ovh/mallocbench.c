/*
 * mallocbench.c - a malloc-heavy loop for the interposition overhead:
 * random sizes (16 B .. 64 KiB, mostly small) over 8192 live slots,
 * ARG operations (default 20 M). Prints operations per second.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "clock.h"

int main(int argc, char **argv)
{
	long ops = argc > 1 ? atol(argv[1]) : 20000000;
	enum { SLOTS = 8192 };
	static void *slot[SLOTS];
	uint64_t r = 0x9e3779b97f4a7c15ULL, t0 = wall_ns();
	for (long i = 0; i < ops; i++) {
		r ^= r << 13, r ^= r >> 7, r ^= r << 17;
		size_t k = r % SLOTS, sz = (r >> 20) % 100 < 90 ? 16 + (r >> 32) % 512 : 16 + (r >> 32) % 65536;
		free(slot[k]);
		slot[k] = malloc(sz);
		((char *)slot[k])[0] = (char)i;
	}
	double s = (wall_ns() - t0) / 1e9;
	for (int k = 0; k < SLOTS; k++)
		free(slot[k]);
	printf("%.0f\n", ops / s);
	return 0;
}
