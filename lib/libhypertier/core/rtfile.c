/* rtfile.c - see rtfile.h: safe opens, per-user directories, process identity. */
#define _GNU_SOURCE
#include "rtfile.h"
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <stdlib.h>
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

int ht_rtdir_default(unsigned uid, int i, char *buf, size_t len)
{
	if (i == 0 && uid == 0)
		snprintf(buf, len, "/run/hypertier");
	else if (i == 0)
		snprintf(buf, len, "/run/user/%u/hypertier", uid);
	else if (i == 1)
		snprintf(buf, len, "/tmp/hypertier-%u", uid);
	else
		return 0;
	return 1;
}

int ht_rtdir_ok(const char *dir, unsigned uid, int create, char *why, size_t whylen)
{
	struct stat st;
	if (create)
		mkdir(dir, 0700);
	if (lstat(dir, &st)) {
		snprintf(why, whylen, "%s: %s", dir, strerror(errno));
		return 0;
	}
	if (!S_ISDIR(st.st_mode))
		snprintf(why, whylen, "%s: not a directory", dir);
	else if (st.st_uid != uid)
		snprintf(why, whylen, "%s: owned by uid %u, not %u: refusing it", dir, (unsigned)st.st_uid, uid);
	else if (st.st_mode & 022)
		snprintf(why, whylen, "%s: writable by other users (mode %03o): refusing it", dir,
			 (unsigned)(st.st_mode & 0777));
	else
		return 1;
	return 0;
}

uint64_t ht_proc_start_ticks(int pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	char *p = strrchr(buf, ')'); /* comm may hold spaces */
	if (!p)
		return 0;
	/* after ')': field 3 (state) ... field 22 (starttime) */
	unsigned long long v = 0;
	int field = 2;
	for (char *tok = strtok(p + 1, " "); tok; tok = strtok(NULL, " "))
		if (++field == 22) {
			v = strtoull(tok, NULL, 10);
			break;
		}
	return v;
}

