/* perf ring reader: input picks the sample_type, data_head and data_tail,
 * and fills a two-page data area (what the kernel wrote), read twice. The
 * tail must never pass the head, and every raw payload handed out must be
 * readable in full. */
#include "fuzz.h"
#include "source/perf_ring.h"
#include <linux/perf_event.h>
#include <string.h>

static const uint64_t types[] = {
	PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_ADDR | PERF_SAMPLE_WEIGHT,
	PERF_SAMPLE_IP | PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_ADDR | PERF_SAMPLE_WEIGHT_STRUCT |
		PERF_SAMPLE_DATA_SRC | PERF_SAMPLE_PHYS_ADDR,
	PERF_SAMPLE_IDENTIFIER | PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_CPU | PERF_SAMPLE_RAW,
	PERF_SAMPLE_IP | PERF_SAMPLE_ID | PERF_SAMPLE_STREAM_ID | PERF_SAMPLE_PERIOD | PERF_SAMPLE_CALLCHAIN |
		PERF_SAMPLE_TRANSACTION,
};

static int touch(void *arg, const struct ht_ring_rec *r)
{
	unsigned sum = 0;
	FUZZ_ASSERT(r->raw_size < 65536);
	for (uint32_t i = 0; i < r->raw_size; i++)
		sum += ((const unsigned char *)r->raw)[i];
	*(unsigned *)arg += sum;
	return r->addr != 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned char *mem;
	static long psz;
	const size_t dsize = 2 * 4096;
	uint64_t head, tail, more;
	if (size < 25)
		return 0;
	if (!mem) {
		psz = sysconf(_SC_PAGESIZE);
		mem = aligned_alloc((size_t)psz, (size_t)psz + dsize);
	}
	memset(mem, 0, (size_t)psz + dsize);
	struct perf_event_mmap_page *pg = (void *)mem;
	memcpy(&head, data + 1, 8);
	memcpy(&tail, data + 9, 8);
	memcpy(&more, data + 17, 8);
	memcpy(mem + psz, data + 25, size - 25 < dsize ? size - 25 : dsize);
	pg->data_head = head;
	pg->data_tail = tail;
	struct ht_ring r;
	if (ht_ring_init(&r, mem, (size_t)psz + dsize, types[data[0] % 4]) < 0)
		return 0;
	struct ht_source_stats st = { 0 };
	unsigned sum = 0;
	for (int round = 0; round < 2; round++) {
		long n = ht_ring_read(&r, touch, &sum, &st);
		FUZZ_ASSERT(n >= 0 && pg->data_head - pg->data_tail <= dsize);
		pg->data_head += more % dsize; /* the kernel wrote more (over what is there) */
	}
	ht_ring_fini(&r);
	return 0;
}
