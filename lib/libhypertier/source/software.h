/*
 * software.h - samples the program reports itself (ht_sample_access()).
 * One process-wide bounded ring (inherently global: any thread may report),
 * lock-free for the many producers, drained by the one software source.
 */
#ifndef HT_SOFTWARE_H
#define HT_SOFTWARE_H
#include <stdint.h>

/* Queue one access. Never blocks, allocates or makes a syscall; dropped
 * (and counted as lost) when the ring is full; ignored while the software
 * source is not running. The sample's time is CLOCK_MONOTONIC at tick
 * resolution (CLOCK_MONOTONIC_COARSE). */
void ht_software_push(uint64_t addr, uint32_t weight, int store);
#endif
