/*
 * perf_ring.c - consume a perf mmap ring.
 *
 * Protocol (include/uapi/linux/perf_event.h): the kernel writes records and
 * then publishes data_head; we read data_head with acquire ordering (so the
 * record bytes are visible), parse, and publish data_tail with release
 * ordering (so the kernel never overwrites bytes we are still reading).
 * Records are 8-byte aligned but may straddle the end of the data area; those
 * are copied out whole before parsing (reading them in place is the bug
 * HeMem has).
 */
#include "perf_ring.h"
#include <errno.h>
#include <linux/perf_event.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* sample_type bits whose layout this reader knows (in kernel output order). */
#define RING_KNOWN (PERF_SAMPLE_IDENTIFIER | PERF_SAMPLE_IP | PERF_SAMPLE_TID | PERF_SAMPLE_TIME | \
		    PERF_SAMPLE_ADDR | PERF_SAMPLE_ID | PERF_SAMPLE_STREAM_ID | PERF_SAMPLE_CPU | \
		    PERF_SAMPLE_PERIOD | PERF_SAMPLE_CALLCHAIN | PERF_SAMPLE_RAW | PERF_SAMPLE_WEIGHT | \
		    PERF_SAMPLE_DATA_SRC | PERF_SAMPLE_TRANSACTION | PERF_SAMPLE_PHYS_ADDR | \
		    PERF_SAMPLE_WEIGHT_STRUCT)
#define REC_MAX 65536 /* header.size is 16 bits */

int ht_ring_init(struct ht_ring *r, void *base, size_t len, uint64_t sample_type)
{
	struct perf_event_mmap_page *pg = base;
	size_t psz = (size_t)sysconf(_SC_PAGESIZE);
	memset(r, 0, sizeof(*r));
	if (sample_type & ~(uint64_t)RING_KNOWN)
		return -EINVAL;
	if ((sample_type & PERF_SAMPLE_WEIGHT) && (sample_type & PERF_SAMPLE_WEIGHT_STRUCT))
		return -EINVAL;
	uint64_t off = pg->data_offset ? pg->data_offset : psz;
	uint64_t size = pg->data_size ? pg->data_size : (len > psz ? len - psz : 0);
	if (!size || (size & (size - 1)) || off + size > len)
		return -EINVAL;
	r->copy = malloc(REC_MAX);
	if (!r->copy)
		return -ENOMEM;
	r->base = base;
	r->data = (unsigned char *)base + off;
	r->size = size;
	r->sample_type = sample_type;
	return 0;
}

void ht_ring_fini(struct ht_ring *r)
{
	free(r->copy);
	r->copy = NULL;
}

/* Bounds-checked cursor over one record. */
struct cur {
	const unsigned char *p, *end;
	int bad;
};

static uint64_t u64(struct cur *c)
{
	uint64_t v = 0;
	if (c->end - c->p < 8) {
		c->bad = 1;
		return 0;
	}
	memcpy(&v, c->p, 8);
	c->p += 8;
	return v;
}

static int parse_sample(const struct ht_ring *r, const unsigned char *rec, size_t size, struct ht_ring_rec *o)
{
	struct cur c = { rec + sizeof(struct perf_event_header), rec + size, 0 };
	uint64_t t = r->sample_type, v;
	memset(o, 0, sizeof(*o));
	o->weight = 1;
	if (t & PERF_SAMPLE_IDENTIFIER)
		o->id = u64(&c);
	if (t & PERF_SAMPLE_IP)
		o->ip = u64(&c);
	if (t & PERF_SAMPLE_TID) {
		v = u64(&c);
		o->pid = (uint32_t)v;
		o->tid = (uint32_t)(v >> 32);
	}
	if (t & PERF_SAMPLE_TIME)
		o->time = u64(&c);
	if (t & PERF_SAMPLE_ADDR)
		o->addr = u64(&c);
	if (t & PERF_SAMPLE_ID)
		o->id = u64(&c);
	if (t & PERF_SAMPLE_STREAM_ID)
		(void)u64(&c);
	if (t & PERF_SAMPLE_CPU)
		o->cpu = (uint32_t)u64(&c);
	if (t & PERF_SAMPLE_PERIOD)
		o->period = u64(&c);
	if (t & PERF_SAMPLE_CALLCHAIN) {
		uint64_t nr = u64(&c);
		if (nr > (uint64_t)(c.end - c.p) / 8)
			return -1;
		c.p += nr * 8;
	}
	if (t & PERF_SAMPLE_RAW) {
		/* u32 size, then the bytes; size + 4 is padded to 8 by the kernel. */
		uint32_t n;
		if (c.end - c.p < 4)
			return -1;
		memcpy(&n, c.p, 4);
		if (n > (uint64_t)(c.end - c.p) - 4)
			return -1;
		o->raw_size = n;
		o->raw = c.p + 4;
		c.p += (4 + (size_t)n + 7) & ~(size_t)7;
		if (c.p > c.end)
			return -1;
	}
	if (t & PERF_SAMPLE_WEIGHT) {
		o->weight = u64(&c);
	} else if (t & PERF_SAMPLE_WEIGHT_STRUCT) {
		/* union perf_sample_weight: var1_dw (the latency) in the low 32 bits. */
		o->weight = (uint32_t)u64(&c);
	}
	if (t & PERF_SAMPLE_DATA_SRC)
		o->data_src = u64(&c);
	if (t & PERF_SAMPLE_TRANSACTION)
		(void)u64(&c);
	if (t & PERF_SAMPLE_PHYS_ADDR)
		o->phys_addr = u64(&c);
	/* Exactly the layout's size: bytes left over mean another sample_type
	 * wrote it, and every field read may be shifted. */
	return c.bad || c.p != c.end ? -1 : 0;
}

long ht_ring_read(struct ht_ring *r, ht_ring_fn fn, void *arg, struct ht_source_stats *st)
{
	struct perf_event_mmap_page *pg = r->base;
	uint64_t head = __atomic_load_n(&pg->data_head, __ATOMIC_ACQUIRE);
	uint64_t tail = pg->data_tail; /* only we write it */
	uint64_t mask = r->size - 1;
	long delivered = 0;

	if (head - tail > r->size) {
		/* Cannot happen with a writable (non-overwrite) mapping: give up on it. */
		st->bad_records++;
		tail = head;
	}
	while (head - tail >= sizeof(struct perf_event_header)) {
		uint64_t off = tail & mask;
		struct perf_event_header h;
		const unsigned char *rec;
		if (off + sizeof(h) <= r->size) {
			memcpy(&h, r->data + off, sizeof(h));
		} else {
			size_t a = r->size - off;
			memcpy(&h, r->data + off, a);
			memcpy((unsigned char *)&h + a, r->data, sizeof(h) - a);
		}
		if (h.size < sizeof(h) || (h.size & 7)) {
			st->bad_records++;
			tail = head; /* lost sync: drop the rest rather than misparse */
			break;
		}
		if (head - tail < h.size)
			break; /* head inside this record: the kernel is not done */
		if (off + h.size <= r->size) {
			rec = r->data + off;
		} else {
			size_t a = r->size - off;
			memcpy(r->copy, r->data + off, a);
			memcpy(r->copy + a, r->data, h.size - a);
			rec = r->copy;
			r->wrapped++;
		}
		switch (h.type) {
		case PERF_RECORD_SAMPLE: {
			struct ht_ring_rec o;
			if (parse_sample(r, rec, h.size, &o) < 0)
				st->bad_records++;
			else if (fn(arg, &o))
				delivered++;
			break;
		}
		case PERF_RECORD_LOST: /* header, u64 id, u64 lost[, sample_id] */
		case PERF_RECORD_LOST_SAMPLES: { /* header, u64 lost[, sample_id]: PEBS drain drops */
			size_t at = sizeof(h) + (h.type == PERF_RECORD_LOST ? 8 : 0);
			uint64_t lost;
			if (h.size < at + 8) {
				st->bad_records++;
				break;
			}
			memcpy(&lost, rec + at, 8);
			st->lost += lost;
			break;
		}
		case PERF_RECORD_THROTTLE:
			st->throttle++;
			break;
		case PERF_RECORD_UNTHROTTLE:
			st->unthrottle++;
			break;
		default:
			break; /* MMAP, COMM, EXIT, ...: not ours to read */
		}
		tail += h.size;
	}
	__atomic_store_n(&pg->data_tail, tail, __ATOMIC_RELEASE);
	st->samples += (uint64_t)delivered;
	return delivered;
}
