/* preload.c - placeholder until the runtime lands (allocator issue). */
#include "hypertier.h"
#define HT_API __attribute__((visibility("default")))
HT_API unsigned ht_version(void) { return HT_VERSION; }
