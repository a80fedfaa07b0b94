/*
 * hints - a small key-value store that tells HyperTier what it knows:
 * the hash index is hot (every lookup goes through it), the append-only
 * value log is cold (written once, read rarely), and one table must stay in
 * DRAM whatever happens (PIN_FAST). Linked with -lhypertier:
 *
 *   HYPERTIER_CONF=sample=software,log=info ./hints [KEYS]
 *
 * On a one-node machine the calls succeed as no-ops and the program does
 * the same work. At the end it prints the runtime's statistics.
 */
#include "hypertier.h"
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct slot { uint64_t key; uint64_t off; };

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return x;
}

int main(int argc, char **argv)
{
	size_t keys = argc > 1 ? strtoull(argv[1], NULL, 10) : 1 << 20;
	size_t nslots = 1;
	while (nslots < 2 * keys)
		nslots <<= 1;
	/* the index: hot, and the first thing to keep in fast memory */
	struct slot *index = ht_malloc_tier(nslots * sizeof(*index), HT_TIER_FAST);
	/* the value log: cold, straight onto the slow tier */
	size_t log_len = keys * 64;
	char *log = ht_malloc_tier(log_len, HT_TIER_SLOW);
	/* a small lookup table the latency-critical path needs: never demote it */
	uint32_t *crc = malloc(256 * sizeof(*crc));
	if (!index || !log || !crc) {
		fprintf(stderr, "hints: out of memory\n");
		return 1;
	}
	memset(index, 0, nslots * sizeof(*index));
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
		crc[i] = c;
	}
	if (ht_hint(index, nslots * sizeof(*index), HT_HOT) || ht_hint(log, log_len, HT_COLD) ||
	    ht_hint(crc, 256 * sizeof(*crc), HT_PIN_FAST))
		fprintf(stderr, "hints: ht_hint: %s\n", strerror(errno));

	/* load */
	for (size_t k = 0; k < keys; k++) {
		uint64_t h = mix(k + 1) & (nslots - 1);
		while (index[h].key)
			h = (h + 1) & (nslots - 1);
		index[h].key = k + 1;
		index[h].off = k * 64;
		snprintf(log + k * 64, 64, "value-%zu", k);
	}
	/* lookups: tell the runtime about the index accesses (as PEBS would) */
	uint64_t found = 0, sum = 0;
	for (size_t q = 0; q < 4 * keys; q++) {
		uint64_t k = mix(q) % keys + 1;
		uint64_t h = mix(k) & (nslots - 1);
		while (index[h].key && index[h].key != k)
			h = (h + 1) & (nslots - 1);
		if ((q & 63) == 0)
			ht_sample_access(&index[h], 1);
		if (index[h].key == k) {
			found++;
			sum += crc[(uint8_t)log[index[h].off + 6]];
		}
	}
	printf("%" PRIu64 " of %zu lookups found (checksum %" PRIx64 ")\n", found, 4 * keys, sum);

	struct ht_stats st = { .size = sizeof(st) };
	if (ht_stats(&st) == 0) {
		if (!st.enabled)
			printf("runtime off (one NUMA node, enable=0 or a bad HYPERTIER_CONF): hints were no-ops\n");
		else
			printf("fast node %d: %" PRIu64 " MiB used, slow node %d: %" PRIu64 " MiB; %" PRIu64
			       " pages promoted, %" PRIu64 " demoted, %" PRIu64 " samples\n",
			       st.fast_node, st.fast_used >> 20, st.slow_node, st.slow_used >> 20, st.pages_promoted,
			       st.pages_demoted, st.samples);
	}
	ht_free(index);
	ht_free(log);
	free(crc);
	return found == 4 * keys ? 0 : 1;
}
