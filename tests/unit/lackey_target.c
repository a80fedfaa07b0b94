/* A tiny program for the converter test: stores then loads every word of a
 * known array; prints where it is. volatile keeps each access one access. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#define WORDS 8192

int main(void)
{
	volatile uint64_t *a = malloc(WORDS * sizeof(uint64_t));
	uint64_t sum = 0;
	if (!a)
		return 1;
	for (uint64_t i = 0; i < WORDS; i++)
		a[i] = i;
	for (uint64_t i = 0; i < WORDS; i++)
		sum += a[i];
	printf("array=0x%" PRIxPTR " words=%d sum=%" PRIu64 "\n", (uintptr_t)a, WORDS, sum);
	return sum != (uint64_t)WORDS * (WORDS - 1) / 2;
}
