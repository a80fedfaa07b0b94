/*
 * perf_ring.h - reader of one perf_event mmap ring (PEBS, IBS, software
 * events alike). Works on a real mmap and on a buffer a test built by hand:
 * the first page is struct perf_event_mmap_page, then 2^n data pages.
 */
#ifndef HT_PERF_RING_H
#define HT_PERF_RING_H
#include <stddef.h>
#include <stdint.h>
#include "source.h"

/* One PERF_RECORD_SAMPLE, decoded by the ring's sample_type. */
struct ht_ring_rec {
	uint64_t ip, addr, time, id, period, weight, data_src, phys_addr;
	uint32_t pid, tid, cpu;
	uint32_t raw_size;   /* PERF_SAMPLE_RAW payload, valid during the callback only */
	const void *raw;
};

/* Called per sample record; return 1 to count it as delivered, 0 if filtered. */
typedef int (*ht_ring_fn)(void *arg, const struct ht_ring_rec *r);

struct ht_ring {
	void *base;           /* struct perf_event_mmap_page */
	unsigned char *data;  /* data area */
	uint64_t size;        /* data bytes, a power of two */
	uint64_t sample_type;
	uint64_t wrapped;     /* records copied out because they crossed the end */
	unsigned char *copy;  /* 64 KiB bounce buffer for wrapping records */
};

/*
 * Set up r over base (len bytes: one header page + data). Uses the header's
 * data_offset/data_size when set (kernels >= 4.1), else page size / the
 * rest. Returns 0, or -EINVAL (size not a power of two, or a sample_type bit
 * this reader cannot decode), -ENOMEM.
 */
int ht_ring_init(struct ht_ring *r, void *base, size_t len, uint64_t sample_type);
void ht_ring_fini(struct ht_ring *r);

/*
 * Consume every complete record between data_tail and data_head. Samples go
 * to fn; PERF_RECORD_LOST and LOST_SAMPLES add to st->lost, THROTTLE/
 * UNTHROTTLE count, other records are skipped. A sample whose size is not
 * exactly what sample_type implies (longer or shorter) counts in bad_records
 * and is skipped; a header that breaks framing also drops the rest of the ring. A record the kernel has not finished (head
 * inside it) stays for the next call. Returns sample records delivered.
 */
long ht_ring_read(struct ht_ring *r, ht_ring_fn fn, void *arg, struct ht_source_stats *st);
#endif
