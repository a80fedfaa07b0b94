/*
 * The perf ring reader on rings built by hand: ordinary samples, a record
 * that wraps the end, LOST/THROTTLE/UNTHROTTLE, unknown records, a head
 * inside a record, a corrupt header, samples shorter or longer than their
 * layout, LOST_SAMPLES, WEIGHT_STRUCT and RAW (IBS) layouts.
 */
#include "tap.h"
#include "source/perf_ring.h"
#include "source/ibs.h"
#include <linux/perf_event.h>
#include <stdint.h>
#include <unistd.h>

static long psz;
static unsigned char *mem;       /* header page + one data page */
static struct perf_event_mmap_page *pg;
static uint64_t whead;           /* writer position (what the "kernel" wrote) */

static void put(const void *p, size_t n)
{
	unsigned char *data = mem + psz;
	for (size_t i = 0; i < n; i++)
		data[(whead + i) & (psz - 1)] = ((const unsigned char *)p)[i];
	whead += n;
}

static void publish(void) { __atomic_store_n(&pg->data_head, whead, __ATOMIC_RELEASE); }

#define ST (PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_ADDR | PERF_SAMPLE_WEIGHT)

/* A sample for sample_type ST: header, pid/tid, time, addr, weight. */
static void sample(uint64_t addr, uint32_t tid, uint64_t time, uint64_t weight)
{
	struct perf_event_header h = { PERF_RECORD_SAMPLE, 0, 8 + 8 * 4 };
	uint64_t v[4] = { (uint64_t)tid << 32 | 1234, time, addr, weight };
	put(&h, sizeof(h));
	put(v, sizeof(v));
}

static void rec3(uint32_t type, uint64_t a, uint64_t b, uint64_t c)
{
	struct perf_event_header h = { type, 0, 8 + 24 };
	uint64_t v[3] = { a, b, c };
	put(&h, sizeof(h));
	put(v, sizeof(v));
}

static struct ht_ring_rec got[512];
static int ngot;
static int collect(void *arg, const struct ht_ring_rec *r)
{
	if (ngot < 512)
		got[ngot++] = *r;
	return 1;
}

static void reset(void)
{
	memset(mem, 0, (size_t)psz * 2);
	whead = 0;
	ngot = 0;
}

int main(void)
{
	struct ht_ring r;
	struct ht_source_stats st;
	psz = sysconf(_SC_PAGESIZE);
	mem = aligned_alloc((size_t)psz, (size_t)psz * 2);
	pg = (struct perf_event_mmap_page *)mem;

	reset();
	is_int(ht_ring_init(&r, mem, (size_t)psz * 2, ST), 0, "ring over a constructed buffer");
	is_int(r.size, psz, "data area = one page (data_size unset: page after header)");
	ht_ring_fini(&r);
	ok(ht_ring_init(&r, mem, (size_t)psz * 2, PERF_SAMPLE_READ) == -22, "unsupported sample_type refused");
	ok(ht_ring_init(&r, mem, (size_t)psz * 4, ST) == -22, "non power-of-two data area (3 pages) refused");
	ht_ring_init(&r, mem, (size_t)psz * 2, ST);

	/* ordinary */
	memset(&st, 0, sizeof(st));
	sample(0x7f0000001000, 11, 100, 80);
	sample(0x7f0000002000, 12, 101, 0);
	publish();
	is_int(ht_ring_read(&r, collect, NULL, &st), 2, "two samples read");
	ok(ngot == 2 && got[0].addr == 0x7f0000001000 && got[0].tid == 11 && got[0].pid == 1234 &&
	   got[0].time == 100 && got[0].weight == 80, "first sample fields intact");
	ok(got[1].addr == 0x7f0000002000 && got[1].tid == 12 && got[1].weight == 0, "second sample fields intact");
	is_int(pg->data_tail, whead, "data_tail advanced to head");
	is_int(st.samples, 2, "samples counted");

	/* LOST, THROTTLE, UNTHROTTLE, an unknown record, then a sample */
	rec3(PERF_RECORD_LOST, 7, 1234, 0);
	rec3(PERF_RECORD_THROTTLE, 200, 7, 7);
	rec3(PERF_RECORD_UNTHROTTLE, 201, 7, 7);
	rec3(PERF_RECORD_LOST, 7, 66, 0);
	rec3(PERF_RECORD_COMM, 1, 2, 3);
	sample(0x7f0000003000, 13, 102, 5);
	publish();
	ngot = 0;
	is_int(ht_ring_read(&r, collect, NULL, &st), 1, "only the sample is delivered");
	is_int(st.lost, 1234 + 66, "LOST records add their counts");
	is_int(st.throttle, 1, "THROTTLE counted");
	is_int(st.unthrottle, 1, "UNTHROTTLE counted");
	ok(ngot == 1 && got[0].addr == 0x7f0000003000, "sample after unknown record read correctly");

	/* A record that wraps: move the writer so the next sample straddles the end. */
	struct perf_event_header fill = { PERF_RECORD_COMM, 0, 8 };
	while ((whead & (psz - 1)) != (uint64_t)psz - 16)
		put(&fill, sizeof(fill)); /* header-only records, 8 bytes each */
	publish();
	ngot = 0;
	ht_ring_read(&r, collect, NULL, &st);
	uint64_t wrapped0 = r.wrapped;
	sample(0x7fabcdef0000, 21, 300, 99); /* 40 bytes: 16 before the end, 24 after */
	sample(0x7fabcdef1000, 22, 301, 98);
	publish();
	is_int(ht_ring_read(&r, collect, NULL, &st), 2, "wrapping record and the next both read");
	ok(got[0].addr == 0x7fabcdef0000 && got[0].tid == 21 && got[0].time == 300 && got[0].weight == 99,
	   "wrapped record reassembled intact");
	ok(got[1].addr == 0x7fabcdef1000 && got[1].tid == 22, "record after the wrap intact");
	is_int(r.wrapped - wrapped0, 1, "one record copied out");

	/* Partially written: head lands inside a record. */
	ngot = 0;
	uint64_t before = whead;
	sample(0x1000, 31, 400, 1);
	sample(0x2000, 32, 401, 1);
	__atomic_store_n(&pg->data_head, before + 40 + 16, __ATOMIC_RELEASE);
	is_int(ht_ring_read(&r, collect, NULL, &st), 1, "only the complete record is read");
	is_int(pg->data_tail, before + 40, "tail stops at the incomplete record");
	publish();
	is_int(ht_ring_read(&r, collect, NULL, &st), 1, "completed later, it is read");
	ok(ngot == 2 && got[1].addr == 0x2000 && got[1].tid == 32, "and intact");
	/* Head inside a header (fewer than 8 bytes available). */
	before = whead;
	sample(0x3000, 33, 402, 1);
	__atomic_store_n(&pg->data_head, before + 4, __ATOMIC_RELEASE);
	is_int(ht_ring_read(&r, collect, NULL, &st), 0, "half a header: nothing read");
	is_int(pg->data_tail, before, "tail unchanged");
	publish();
	is_int(ht_ring_read(&r, collect, NULL, &st), 1, "then read");

	/* Corrupt header: size 0 would loop forever; it must drop and count. */
	uint64_t bad0 = st.bad_records;
	struct perf_event_header zh = { PERF_RECORD_SAMPLE, 0, 0 };
	put(&zh, sizeof(zh));
	sample(0x4000, 34, 403, 1);
	publish();
	ht_ring_read(&r, collect, NULL, &st);
	is_int(st.bad_records - bad0, 1, "size-0 record counted as bad");
	is_int(pg->data_tail, whead, "and the ring resynchronised at head");
	/* A sample shorter than its sample_type says. */
	struct perf_event_header sh = { PERF_RECORD_SAMPLE, 0, 16 };
	uint64_t one = 1;
	put(&sh, sizeof(sh));
	put(&one, 8);
	publish();
	ngot = 0;
	ht_ring_read(&r, collect, NULL, &st);
	ok(ngot == 0 && st.bad_records - bad0 == 2, "truncated sample refused, counted bad");
	/* One longer than its sample_type says (another layout wrote it): bad too,
	 * and the ring stays in sync. */
	struct perf_event_header lh = { PERF_RECORD_SAMPLE, 0, 8 + 8 * 5 };
	uint64_t lv[5] = { 1, 2, 3, 4, 5 };
	put(&lh, sizeof(lh));
	put(lv, sizeof(lv));
	sample(0x6000, 35, 404, 1);
	publish();
	ngot = 0;
	ht_ring_read(&r, collect, NULL, &st);
	ok(st.bad_records - bad0 == 3 && ngot == 1 && got[0].addr == 0x6000, "overlong sample refused, the next read");
	/* LOST_SAMPLES (PEBS drain drops): u64 lost, then a sample_id (sample_id_all). */
	uint64_t lost0 = st.lost;
	rec3(PERF_RECORD_LOST_SAMPLES, 3, 0xaa, 0xbb);
	publish();
	ht_ring_read(&r, collect, NULL, &st);
	ok(st.lost - lost0 == 3 && st.bad_records - bad0 == 3, "LOST_SAMPLES adds to lost, its sample_id is no fault");
	ht_ring_fini(&r);

	/* WEIGHT_STRUCT: latency is var1_dw, the low 32 bits. */
	reset();
	ht_ring_init(&r, mem, (size_t)psz * 2, PERF_SAMPLE_ADDR | PERF_SAMPLE_WEIGHT_STRUCT | PERF_SAMPLE_DATA_SRC);
	{
		struct perf_event_header h = { PERF_RECORD_SAMPLE, 0, 8 + 24 };
		uint64_t v[3] = { 0x5000, (uint64_t)0x0003000200000123ull, 0x42 };
		put(&h, sizeof(h));
		put(v, sizeof(v));
		publish();
	}
	ht_ring_read(&r, collect, NULL, &st);
	ok(ngot == 1 && got[0].addr == 0x5000 && got[0].weight == 0x123 && got[0].data_src == 0x42,
	   "WEIGHT_STRUCT latency and DATA_SRC parsed");
	ht_ring_fini(&r);

	/* RAW: an IBS op record as the kernel lays it out (u32 caps + 7 MSRs). */
	reset();
	ht_ring_init(&r, mem, (size_t)psz * 2, PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_RAW);
	{
		unsigned char raw[4 + 7 * 8];
		uint64_t msr[7] = { 0, 0x401000, 0, 0, (1ull << 17) | (1ull << 0) | (1ull << 7) | (250ull << 32),
				    0x7f1234567890, 0x123456000 };
		uint32_t caps = 0x3ff, rsz = sizeof(raw);
		memcpy(raw, &caps, 4);
		memcpy(raw + 4, msr, sizeof(msr));
		/* u32 size + 60 bytes = 64: already 8-aligned */
		struct perf_event_header h = { PERF_RECORD_SAMPLE, 0, 8 + 16 + 4 + sizeof(raw) };
		uint64_t v[2] = { (uint64_t)77 << 32 | 77, 500 };
		put(&h, sizeof(h));
		put(v, sizeof(v));
		put(&rsz, 4);
		put(raw, sizeof(raw));
		publish();
	}
	ngot = 0;
	ht_ring_read(&r, collect, NULL, &st);
	ok(ngot == 1 && got[0].raw_size == 60 && got[0].tid == 77 && got[0].time == 500, "RAW sample parsed");
	struct ht_sample o;
	memset(&o, 0, sizeof(o));
	ok(ngot == 1 && ht_ibs_decode(got[0].raw, got[0].raw_size, &o) == 1 && o.addr == 0x7f1234567890 &&
	   o.store == 0 && o.weight == 250, "IBS: linear address, load, DC-miss latency decoded");
	/* RAW sized per record: u32 size + 5 bytes padded to 16 fits exactly; 8 more bytes do not. */
	for (int extra = 0; extra <= 8; extra += 8) {
		struct perf_event_header h = { PERF_RECORD_SAMPLE, 0, (uint16_t)(8 + 16 + 16 + extra) };
		uint64_t v[2] = { 1, 2 }, pad[3] = { 5, 0, 0 }; /* u32 size 5, 5 bytes, 7 pad */
		put(&h, sizeof(h));
		put(v, sizeof(v));
		put(pad, 16 + (size_t)extra);
	}
	publish();
	uint64_t rbad = st.bad_records;
	ngot = 0;
	ht_ring_read(&r, collect, NULL, &st);
	ok(ngot == 1 && got[0].raw_size == 5 && st.bad_records - rbad == 1, "RAW: padded size exact, 8 bytes over bad");
	ht_ring_fini(&r);

	/* IBS decode: invalid address bit, a store, a non-memory op, a short record. */
	{
		unsigned char raw[4 + 7 * 8] = { 0 };
		uint64_t d3 = 1ull << 1, lin = 0x7f0000000040;
		memcpy(raw + 4 + 4 * 8, &d3, 8);
		memcpy(raw + 4 + 5 * 8, &lin, 8);
		ok(ht_ibs_decode(raw, sizeof(raw), &o) == 0, "IBS: DcLinAddrValid clear -> dropped");
		d3 |= 1ull << 17;
		memcpy(raw + 4 + 4 * 8, &d3, 8);
		ok(ht_ibs_decode(raw, sizeof(raw), &o) == 1 && o.store == 1 && o.weight == 1 && o.addr == lin,
		   "IBS: valid store decoded, weight 1 without a miss");
		d3 = 1ull << 17;
		memcpy(raw + 4 + 4 * 8, &d3, 8);
		ok(ht_ibs_decode(raw, sizeof(raw), &o) == 0, "IBS: neither load nor store -> dropped");
		ok(ht_ibs_decode(raw, 40, &o) == 0, "IBS: record too short -> dropped");
	}
	free(mem);
	return tap_done();
}
