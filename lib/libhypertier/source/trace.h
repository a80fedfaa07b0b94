/*
 * trace.h - the HyperTier trace: samples and range-map events, compact,
 * versioned, documented in source/TRACE-FORMAT.md.
 *
 * File = 24-byte header, then records. Header (little-endian):
 *   bytes 0-7   magic "HTTRACE\0"
 *   bytes 8-11  u32 version (1)
 *   bytes 12-15 u32 header size (24; readers skip what they do not know)
 *   bytes 16-23 u64 base time, ns (CLOCK_MONOTONIC when the file was opened)
 * Record = one tag byte, then LEB128 varints; "zz" marks a zigzag-signed
 * delta. Times are deltas from the previous record's time (the base time
 * for the first); addresses are deltas from the previous sample's address.
 *   0x01 load sample   zz(dtime) zz(daddr) tid weight
 *   0x02 store sample  zz(dtime) zz(daddr) tid weight
 *   0x03 map           zz(dtime) start len
 *   0x04 unmap         zz(dtime) start len
 *   0x05 end           number of records before it (a closed, complete file)
 * Any other tag is an error: a new record kind means a new version.
 */
#ifndef HT_TRACE_H
#define HT_TRACE_H
#include <stddef.h>
#include <stdint.h>
#include "source.h"

#define HT_TRACE_VERSION 1

struct ht_trace_writer;
/* NULL with why on failure. Truncates an existing file. */
struct ht_trace_writer *ht_trace_writer_open(const char *path, char *why, size_t whylen);
/* Thread-safe (samples from the sampler, map events from the engine). 0 or -1. */
int ht_trace_write_samples(struct ht_trace_writer *w, const struct ht_sample *s, size_t n);
int ht_trace_write_map(struct ht_trace_writer *w, uint64_t time_ns, uint64_t start, uint64_t len, int unmap);
/* Writes the end record, flushes, closes. */
void ht_trace_writer_close(struct ht_trace_writer *w);

enum ht_trace_kind { HT_TRACE_SAMPLE = 1, HT_TRACE_MAP = 2, HT_TRACE_UNMAP = 3 };

struct ht_trace_rec {
	int kind;              /* enum ht_trace_kind */
	uint64_t time_ns;
	struct ht_sample s;    /* HT_TRACE_SAMPLE */
	uint64_t start, len;   /* HT_TRACE_MAP / UNMAP */
};

struct ht_trace_reader;
struct ht_trace_reader *ht_trace_reader_open(const char *path, char *why, size_t whylen);
/* 1: *rec filled; 0: end of trace; -1: corrupt or truncated (see _error). */
int ht_trace_read_next(struct ht_trace_reader *r, struct ht_trace_rec *rec);
const char *ht_trace_reader_error(const struct ht_trace_reader *r);
/* 1 when the end record was seen (the writer closed the file cleanly). */
int ht_trace_reader_complete(const struct ht_trace_reader *r);
void ht_trace_reader_close(struct ht_trace_reader *r);
#endif
