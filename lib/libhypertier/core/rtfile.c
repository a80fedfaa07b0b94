/* rtfile.c - see rtfile.h: symlink-, FIFO- and hardlink-safe opens. */
#define _GNU_SOURCE
#include "rtfile.h"
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *kind(mode_t m)
{
	return S_ISFIFO(m) ? "a FIFO" : S_ISDIR(m) ? "a directory" : S_ISCHR(m) ? "a character device"
	       : S_ISBLK(m) ? "a block device" : S_ISSOCK(m) ? "a socket" : "not a regular file";
}

static int refuse(int fd, int err, char *why, size_t whylen, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

static int refuse(int fd, int err, char *why, size_t whylen, const char *path, const char *fmt, ...)
{
	char msg[160];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(why, whylen, "%s: %s", path, msg);
	if (fd >= 0)
		close(fd);
	errno = err;
	return -1;
}

int ht_rtfile_open(const char *path, int flags, mode_t mode, char *why, size_t whylen)
{
	int trunc = flags & O_TRUNC;
	int fd = open(path, (flags & ~O_TRUNC) | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, mode);
	if (fd < 0) {
		int e = errno;
		/* O_NOFOLLOW reports a final symlink as ELOOP; O_NONBLOCK a reader-less FIFO as ENXIO */
		return refuse(-1, e, why, whylen, path, "%s",
			      e == ELOOP ? "is a symbolic link: refusing to follow it"
			      : e == ENXIO ? "is a FIFO or device without a peer: refusing it" : strerror(e));
	}
	struct stat st;
	if (fstat(fd, &st))
		return refuse(fd, errno, why, whylen, path, "%s", strerror(errno));
	if (!S_ISREG(st.st_mode))
		return refuse(fd, EINVAL, why, whylen, path, "is %s: refusing it", kind(st.st_mode));
	if ((flags & O_ACCMODE) != O_RDONLY) {
		if (st.st_nlink != 1)
			return refuse(fd, EPERM, why, whylen, path, "has %lu hard links: refusing to write it",
				      (unsigned long)st.st_nlink);
		if (st.st_uid != geteuid())
			return refuse(fd, EPERM, why, whylen, path, "belongs to uid %u, not to us: refusing to write it",
				      (unsigned)st.st_uid);
		if (trunc && ftruncate(fd, 0))
			return refuse(fd, errno, why, whylen, path, "%s", strerror(errno));
	}
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0)
		return refuse(fd, errno, why, whylen, path, "%s", strerror(errno));
	return fd;
}
