/*
 * statsfile.h - the live stats of one process in a small shared-memory file
 * (/run/hypertier/<pid>.stats, else /tmp/hypertier/<pid>.stats), mode 0600.
 * One writer (the runtime thread) publishes a snapshot under a seqlock;
 * readers (htstat) copy it out and retry while it changes.
 */
#ifndef HT_STATSFILE_H
#define HT_STATSFILE_H
#include <stddef.h>
#include <stdint.h>
#include "hypertier.h"

#define HT_SF_MAGIC 0x54534854u /* "HTST" */
#define HT_SF_VERSION 1
#define HT_SF_TOP 16

struct ht_sf_range {
	uint64_t start, len;
	double density, fast_share; /* fast_share -1: unknown */
	int32_t hint, hot;
};

struct ht_sf_site {
	uint64_t hash, allocs, live_bytes, placed;
	double heat;               /* -1: not measured yet */
	int32_t tier, nobs;        /* learned birth tier (-1 none) */
	char name[96];
};

/* One snapshot. Rates are over the last publishing interval. */
struct ht_sf_data {
	uint64_t time_ns;          /* CLOCK_REALTIME of the snapshot */
	uint64_t interval_ns;
	struct ht_stats st;
	double promote_per_s, demote_per_s, samples_per_s, sampler_cpu_share;
	char source[32];           /* sample source in use, "none" */
	uint32_t nranges, nsites;
	struct ht_sf_range ranges[HT_SF_TOP];
	struct ht_sf_site sites[HT_SF_TOP];
};

struct ht_statsfile;

/* Writer. dir "" picks /run/hypertier, then /tmp/hypertier. NULL + why on failure. */
struct ht_statsfile *ht_statsfile_create(const char *dir, int pid, char *why, size_t whylen);
void ht_statsfile_publish(struct ht_statsfile *f, const struct ht_sf_data *d);
const char *ht_statsfile_path(const struct ht_statsfile *f);
/* Unmap and close; unlink=1 also removes the file (not in a fork child). */
void ht_statsfile_close(struct ht_statsfile *f, int unlink_it);

/*
 * Reader: open pid's file (dir NULL/"" searches both places). Refused
 * unless the caller is root or owns both the file and the process.
 */
struct ht_statsfile *ht_statsfile_open(const char *dir, int pid, char *why, size_t whylen);
/*
 * Consistent copy of the latest snapshot, strings terminated and counts
 * clamped. 0, or -1 with errno EAGAIN (no snapshot yet), ETIMEDOUT (the
 * sequence stayed odd for HT_SF_READ_TRIES tries) or ENODATA (truncated).
 */
#define HT_SF_READ_TRIES 200 /* each yields: a loaded machine makes a yield cost milliseconds */
#define HT_SF_SEQ_OFFSET 32 /* of the sequence counter in the file (tests craft files) */
int ht_statsfile_read(struct ht_statsfile *f, struct ht_sf_data *d);

/* One JSON object on one line (no newline); returns its length (truncated to len-1). */
size_t ht_sf_json(const struct ht_sf_data *d, int pid, char *buf, size_t len);
#endif
