/* test_hostctl_balloon.c - the guest agent's balloon, run on this host's
 * node 0: pinned pages, frame numbers from pagemap merged into sorted,
 * disjoint ranges, uncommitted chunks released, exact partial deflate. */
#include "balloon.h"
#include "tap.h"
#include <unistd.h>

#define MiB (1ULL << 20)

int main(void)
{
	char why[HC_WHY];
	struct hc_balloon b;
	uint64_t total, free0, free1;
	if (geteuid() != 0) {
		tap_skip("pagemap frame numbers need root (CAP_SYS_ADMIN)");
		return tap_done();
	}
	int rc = hc_node_mem(0, &total, &free0);
	ok(rc == 0 && total > 0 && free0 <= total, "node 0: %llu MiB total, %llu MiB free",
	   (unsigned long long)(total >> 20), (unsigned long long)(free0 >> 20));
	ok(hc_node_mem(4000, &total, &free1) < 0, "a node that does not exist has no memory");
	ok(hc_balloon_init(&b, 16 * MiB, why) == 0, "balloon ready");

	static struct hc_range r[HC_PROTO_MAX_RANGES];
	size_t n = 0;
	rc = hc_balloon_inflate(&b, 0, 8 * MiB, r, HC_PROTO_MAX_RANGES, &n, why);
	ok(rc == 0 && n > 0, "8 MiB inflated on node 0 in %zu ranges", n);
	uint64_t sum = 0;
	int sorted = 1, aligned = 1;
	for (size_t i = 0; i < n; i++) {
		sum += r[i].len;
		aligned &= r[i].start % HC_PAGE == 0 && r[i].len % HC_PAGE == 0;
		if (i)
			sorted &= r[i].start > r[i - 1].start + r[i - 1].len; /* disjoint, merged */
	}
	is_int(sum, 8 * MiB, "ranges cover exactly 8 MiB");
	ok(sorted && aligned, "ranges sorted, page aligned, disjoint and not adjacent (merged)");
	is_int(b.size[0], 0, "nothing counted before the host commits");
	hc_balloon_commit(&b, 1);
	is_int(b.size[0], 8 * MiB, "committed: balloon 8 MiB");

	/* A refused chunk is released at once. */
	ok(hc_balloon_inflate(&b, 0, 4 * MiB, r, HC_PROTO_MAX_RANGES, &n, why) == 0 && n > 0, "4 MiB more inflated");
	hc_balloon_commit(&b, 0);
	is_int(b.size[0], 8 * MiB, "host refused it: balloon still 8 MiB");

	/* The range bound caps a chunk. */
	rc = hc_balloon_inflate(&b, 0, 8 * MiB, r, 16, &n, why);
	ok(rc == 0, "inflate with room for 16 ranges");
	sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += r[i].len;
	ok(n <= 16 && sum <= 16 * HC_PAGE, "at most 16 pages asked for with 16 ranges of room (%zu ranges, %llu bytes)", n,
	   (unsigned long long)sum);
	hc_balloon_commit(&b, 1);
	uint64_t size = b.size[0];

	/* Partial deflate: exactly the bytes asked for. */
	is_int(hc_balloon_deflate(&b, 0, 3 * MiB + 4096), 3 * MiB + 4096, "deflate 3 MiB + 4 KiB: exactly that much");
	is_int(b.size[0], size - 3 * MiB - 4096, "balloon shrank by exactly that");
	is_int(hc_balloon_deflate(&b, 0, 1ULL << 40), size - 3 * MiB - 4096, "deflate everything: the rest");
	is_int(b.size[0], 0, "balloon empty");
	is_int(hc_balloon_deflate(&b, 0, 4096), 0, "nothing left to deflate");

	/* Reserve: a node is never ballooned below it. */
	struct hc_balloon big;
	hc_node_mem(0, &total, &free1);
	ok(hc_balloon_init(&big, free1 + 64 * MiB, why) == 0, "balloon with a reserve above free memory");
	ok(hc_balloon_inflate(&big, 0, 4 * MiB, r, HC_PROTO_MAX_RANGES, &n, why) == 0 && n == 0 && strstr(why, "reserve"),
	   "no inflation into the reserve (%s)", why);
	ok(hc_balloon_inflate(&b, 7, 4 * MiB, r, HC_PROTO_MAX_RANGES, &n, why) < 0 && strstr(why, "no memory"),
	   "a node without memory is refused (%s)", why);
	return tap_done();
}
