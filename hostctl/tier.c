/* tier.c - guest-physical -> backend file offsets, checked before punching.
 * The guest is untrusted: nothing it reports is punched unless all of it
 * lies inside the ram of the tier the host asked it to inflate. */
#include "tier.h"
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/falloc.h>

const char *const hc_tier_name[HC_NTIERS] = { "fast", "slow" };

int hc_tier_set_segs(struct hc_tier *t, const struct hc_seg *all, size_t n, char *why)
{
	free(t->segs);
	t->segs = calloc(n ? n : 1, sizeof(*t->segs));
	t->nsegs = 0;
	if (!t->segs) {
		snprintf(why, HC_WHY, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (all[i].ram && !strcmp(all[i].mr, t->memdev)) {
			if (all[i].off + all[i].len < all[i].off || all[i].off + all[i].len > t->size) {
				snprintf(why, HC_WHY, "memory map places %s beyond its size", t->memdev);
				return -1;
			}
			t->segs[t->nsegs++] = all[i];
		}
	if (!t->nsegs) {
		snprintf(why, HC_WHY, "memdev %s is not mapped as guest RAM", t->memdev);
		return -1;
	}
	return 0;
}

static int cmp_range(const void *a, const void *b)
{
	const struct hc_range *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

static int bit(const uint8_t *m, uint64_t i) { return m[i >> 3] >> (i & 7) & 1; }

/* The segment holding gpa, or NULL. */
static const struct hc_seg *seg_of(const struct hc_tier *t, uint64_t gpa)
{
	for (size_t i = 0; i < t->nsegs; i++)
		if (gpa >= t->segs[i].gpa && gpa - t->segs[i].gpa < t->segs[i].len)
			return &t->segs[i];
	return NULL;
}

int hc_tier_check(struct hc_tier *t, const struct hc_range *r, size_t n, uint64_t max_bytes,
		  struct hc_extent *out, size_t outmax, size_t *nout, char *why)
{
	uint64_t pages = t->size / HC_PAGE;
	if (!t->punched && !(t->punched = calloc((pages + 7) / 8 + 1, 1))) {
		snprintf(why, HC_WHY, "out of memory");
		return -1;
	}
	struct hc_range *s = malloc((n ? n : 1) * sizeof(*s));
	if (!s) {
		snprintf(why, HC_WHY, "out of memory");
		return -1;
	}
	memcpy(s, r, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_range);
	uint64_t total = 0;
	size_t k = 0;
	int rc = -1;
	for (size_t i = 0; i < n; i++) {
		uint64_t g = s[i].start, l = s[i].len;
		if (l == 0 || g % HC_PAGE || l % HC_PAGE || g + l < g) {
			snprintf(why, HC_WHY, "range [0x%" PRIx64 ", +0x%" PRIx64 ") is empty, unaligned or wraps", g, l);
			goto out;
		}
		if (i && g < s[i - 1].start + s[i - 1].len) {
			snprintf(why, HC_WHY, "ranges overlap at 0x%" PRIx64, g);
			goto out;
		}
		total += l;
		if (total > max_bytes || total < l) {
			snprintf(why, HC_WHY, "agent reported more than the %" PRIu64 " bytes asked for", max_bytes);
			goto out;
		}
		for (uint64_t cur = g; cur < g + l;) {
			const struct hc_seg *sg = seg_of(t, cur);
			if (!sg) {
				snprintf(why, HC_WHY, "range [0x%" PRIx64 ", +0x%" PRIx64 ") is not RAM of %s (0x%" PRIx64 " lies outside it)",
					 g, l, t->memdev, cur);
				goto out;
			}
			uint64_t piece = sg->gpa + sg->len - cur;
			if (piece > g + l - cur)
				piece = g + l - cur;
			uint64_t off = sg->off + (cur - sg->gpa);
			if (off % HC_PAGE) {
				snprintf(why, HC_WHY, "range maps to an unaligned offset of %s", t->memdev);
				goto out;
			}
			for (uint64_t p = off / HC_PAGE; p < (off + piece) / HC_PAGE; p++)
				if (bit(t->punched, p)) {
					snprintf(why, HC_WHY, "page at offset 0x%" PRIx64 " of %s was already reported", p * HC_PAGE, t->memdev);
					goto out;
				}
			if (k && out[k - 1].off + out[k - 1].len == off) {
				out[k - 1].len += piece;
			} else {
				if (k == outmax) {
					snprintf(why, HC_WHY, "too many extents");
					goto out;
				}
				out[k].off = off;
				out[k++].len = piece;
			}
			cur += piece;
		}
	}
	for (size_t i = 0; i < k; i++)
		for (uint64_t p = out[i].off / HC_PAGE; p < (out[i].off + out[i].len) / HC_PAGE; p++)
			t->punched[p >> 3] |= 1 << (p & 7);
	*nout = k;
	rc = 0;
out:
	free(s);
	return rc;
}

int hc_tier_punch(struct hc_tier *t, const struct hc_extent *e, size_t n, char *why)
{
	for (size_t i = 0; i < n; i++)
		if (fallocate(t->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)e[i].off, (off_t)e[i].len) < 0) {
			snprintf(why, HC_WHY, "punching %s at 0x%" PRIx64 ": %s", t->path, e[i].off, strerror(errno));
			return -1;
		}
	return 0;
}

int64_t hc_file_backed(int fd)
{
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		return -1;
	return (int64_t)st.st_blocks * 512;
}

void hc_tier_release(struct hc_tier *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	free(t->segs);
	free(t->punched);
	t->segs = NULL;
	t->punched = NULL;
}
