/* Host side of the guest-agent protocol (the security boundary): input is
 * everything a hostile agent sends. hello, status, an inflate whose
 * ranges are checked against a tier backed by a memfd (punching it touches
 * nothing real), deflate. Nothing may be punched beyond what was asked. */
#include "fuzz.h"
#include "link.h"
#include <string.h>
#include <sys/random.h>

/* A fixed first sequence number (1), so that inputs can answer in step. */
ssize_t getrandom(void *buf, size_t n, unsigned flags)
{
	memset(buf, 0, n);
	return (ssize_t)n;
}

enum { TIER_SIZE = 16 << 20, ASK = 1 << 20 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hc_link l;
	char why[HC_WHY], path[64];
	int peer, fd = fuzz_peer(data, size, &peer);
	if (fd < 0)
		return 0;
	if (hc_link_open_fd(&l, fd, 1000, why) == 0) {
		hc_link_status(&l, why);
		/* node 1's backend: two 8 MiB guest-RAM segments at 4 GiB and 8 GiB */
		struct hc_tier t = { .memdev = "slow", .size = TIER_SIZE, .node = 1 };
		struct hc_seg segs[2] = { { 1ull << 32, TIER_SIZE / 2, 0, 1, "slow" },
					  { 2ull << 32, TIER_SIZE / 2, TIER_SIZE / 2, 1, "slow" } };
		t.fd = fuzz_memfd(NULL, 0, path, sizeof(path));
		if (t.fd >= 0 && ftruncate(t.fd, TIER_SIZE) == 0 && hc_tier_set_segs(&t, segs, 2, why) == 0) {
			struct hc_inflate_stats st;
			hc_link_inflate(&l, &t, ASK, ASK / 4, &st, why);
			uint64_t marked = 0;
			for (uint64_t p = 0; t.punched && p < TIER_SIZE / HC_PAGE; p++)
				marked += t.punched[p >> 3] >> (p & 7) & 1;
			FUZZ_ASSERT(st.bytes <= ASK && marked * HC_PAGE == st.bytes);
			uint64_t rel = 0;
			if (hc_link_deflate(&l, 1, ASK, &rel, why) == 0)
				FUZZ_ASSERT(rel <= ASK);
		}
		hc_tier_release(&t);
	}
	hc_link_close(&l);
	close(peer);
	return 0;
}
