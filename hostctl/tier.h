/* tier.h - one tier's memory backend on the host, and the check that turns
 * guest-reported guest-physical ranges into offsets of its file. */
#ifndef HC_TIER_H
#define HC_TIER_H
#include <limits.h>
#include <stdint.h>
#include "mtree.h"
#include "proto.h"

enum { HC_FAST = 0, HC_SLOW = 1, HC_NTIERS = 2 };
extern const char *const hc_tier_name[HC_NTIERS];

struct hc_tier {
	char memdev[64];        /* QOM id of the memory-backend-file */
	char path[PATH_MAX];    /* its mem-path */
	uint64_t size;          /* backend size */
	int node;               /* guest NUMA node it backs */
	int fd;                 /* mem-path opened read-write, -1 if not open */
	struct hc_seg *segs;    /* guest-physical ram ranges of this backend */
	size_t nsegs;
	uint8_t *punched;       /* one bit per page punched in this session */
};

struct hc_extent { uint64_t off, len; };

/* Keep the "ram" segments of all that belong to memdev. */
int hc_tier_set_segs(struct hc_tier *t, const struct hc_seg *all, size_t n, char *why);
/* Validate a whole reply before anything is punched: every range page
 * aligned, inside this tier's ram, no overlap within the reply or with
 * pages punched earlier in the session, total <= max_bytes. On success the
 * file extents are written to out (n + nsegs always suffice: ranges split
 * only at segment borders) and the pages are marked punched. */
int hc_tier_check(struct hc_tier *t, const struct hc_range *r, size_t n, uint64_t max_bytes,
		  struct hc_extent *out, size_t outmax, size_t *nout, char *why);
/* fallocate(PUNCH_HOLE|KEEP_SIZE) each extent. */
int hc_tier_punch(struct hc_tier *t, const struct hc_extent *e, size_t n, char *why);
/* Host bytes really backing the file (st_blocks * 512); -1 on error. */
int64_t hc_file_backed(int fd);
void hc_tier_release(struct hc_tier *t);
#endif
