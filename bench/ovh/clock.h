/* clock.h - wall and thread CPU clocks for the overhead benchmarks. */
#ifndef HT_BENCH_CLOCK_H
#define HT_BENCH_CLOCK_H
#include <stdint.h>
#include <time.h>

static inline uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
static inline uint64_t wall_ns(void) { return clock_ns(CLOCK_MONOTONIC); }

static inline int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}
#endif
