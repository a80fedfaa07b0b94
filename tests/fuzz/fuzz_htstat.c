/* The stats-file reader in htstat: input is a stats file (first byte:
 * flags), written to a private temporary directory as this process's
 * file, then shown by htstat itself in text and --json. Unless flag 1, the
 * header is made to match this process so the reader gets past open. The
 * sequence number is made even and non-zero: htstat waits for a first
 * snapshot by design, and the stuck-odd bound is a unit test
 * (test_statsfile_hostile). Flag 2: the file is cut to the input's length. */
#include "fuzz.h"
#define main htstat_main
#include "../../tools/htstat.c"
#undef main
#include "core/rtfile.h"
#include <fcntl.h>
#include <getopt.h>

static char dir[] = "/tmp/ht-fuzz-htstat-XXXXXX";
static void rm_dir(void) { rmdir(dir); }

#define SF_SIZE (HT_SF_SEQ_OFFSET + 8 + sizeof(struct ht_sf_data))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[128], pids[16];
	static uint64_t ticks;
	static unsigned char img[SF_SIZE];
	if (!path[0]) {
		if (!mkdtemp(dir))
			abort();
		atexit(rm_dir);
		snprintf(pids, sizeof(pids), "%d", getpid());
		snprintf(path, sizeof(path), "%s/%s.stats", dir, pids);
		ticks = ht_proc_start_ticks(getpid());
	}
	if (size < 1)
		return 0;
	unsigned flags = data[0];
	size_t n = size - 1 < SF_SIZE ? size - 1 : SF_SIZE;
	memset(img, 0, sizeof(img));
	memcpy(img, data + 1, n);
	if (!(flags & 1)) {
		uint32_t h[4] = { HT_SF_MAGIC, HT_SF_VERSION, (uint32_t)SF_SIZE, 0 };
		int32_t id[2] = { getpid(), (int32_t)getuid() };
		memcpy(img, h, sizeof(h));
		memcpy(img + 16, id, sizeof(id));
		memcpy(img + 24, &ticks, 8);
	}
	uint64_t seq;
	memcpy(&seq, img + HT_SF_SEQ_OFFSET, 8);
	seq = (seq & ~1ull) ? seq & ~1ull : 2;
	memcpy(img + HT_SF_SEQ_OFFSET, &seq, 8);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		abort();
	size_t len = flags & 2 ? n : SF_SIZE;
	if (write(fd, img, len) != (ssize_t)len)
		abort();
	close(fd);
	for (int json = 0; json < 2; json++) {
		char *argv[] = { "htstat", "-d", dir, json ? "--json" : "-n1", pids, NULL };
		optind = 0;
		htstat_main(5, argv);
	}
	unlink(path);
	return 0;
}
