/* fuzz.h - shared by the harnesses (libFuzzer entry points, also replayed by
 * replay.c under gcc): inputs as in-memory files or as a peer socket, so no
 * harness touches a real file, device or process. */
#ifndef HT_FUZZ_H
#define HT_FUZZ_H
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Abort (a finding) unless c: a harness's own invariant. */
#define FUZZ_ASSERT(c) ((c) ? (void)0 : (fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #c), abort()))

/* A memfd holding data; path gets /proc/self/fd/N. -1 on failure. */
static inline int fuzz_memfd(const uint8_t *data, size_t size, char *path, size_t len)
{
	int fd = memfd_create("fuzz", MFD_CLOEXEC);
	if (fd < 0)
		return -1;
	if (size && write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return -1;
	}
	snprintf(path, len, "/proc/self/fd/%d", fd);
	return fd;
}

/* A file NAME holding data in this process's own temporary directory (for
 * readers that refuse links such as /proc/self/fd/N); path gets its name. */
static char fuzz_dir[] = "/tmp/ht-fuzz-XXXXXX";
static int fuzz_dir_made; /* not the template's last X: mkdtemp may put an X there (1 in 62) */
static inline void fuzz_rmdir(void) { rmdir(fuzz_dir); }
static inline int fuzz_file(const char *name, const uint8_t *data, size_t size, char *path, size_t len)
{
	if (!fuzz_dir_made) {
		if (!mkdtemp(fuzz_dir)) {
			perror("fuzz_file: mkdtemp");
			abort();
		}
		fuzz_dir_made = 1;
		atexit(fuzz_rmdir);
	}
	snprintf(path, len, "%s/%s", fuzz_dir, name);
	FILE *f = fopen(path, "wbe");
	if (!f)
		return -1;
	int ok = fwrite(data, 1, size, f) == size;
	return fclose(f) == 0 && ok ? 0 : -1;
}

/* Our end of a socketpair whose peer has sent data (at most 128 KiB) and
 * shut its write side: reads see data, then EOF; what we write stays
 * unread in the peer's buffer until *peer is closed. -1 on failure. */
static inline int fuzz_peer(const uint8_t *data, size_t size, int *peer)
{
	int sv[2], big = 1 << 20;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	if (size > 128 << 10)
		size = 128 << 10;
	while (size) {
		ssize_t w = write(sv[1], data, size);
		if (w <= 0)
			break;
		data += w;
		size -= (size_t)w;
	}
	shutdown(sv[1], SHUT_WR);
	*peer = sv[1];
	return sv[0];
}
#endif
