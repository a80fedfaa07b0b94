/*
 * rtfile.h - opening the runtime's own files (log_file, stats_log, record,
 * replay). The paths come from the environment of a program that may run as
 * root in a shared /tmp, so: never follow a symlink, never block (a FIFO
 * would hang the constructor), and accept only a regular file.
 */
#ifndef HT_RTFILE_H
#define HT_RTFILE_H
#include <stddef.h>
#include <sys/types.h>

/*
 * open(2) with O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC added. The result must
 * be a regular file; one opened for writing must also have one link and
 * belong to the caller, and only then is O_TRUNC applied. The returned fd
 * blocks again. -1 with errno and one line in why ("PATH: is a FIFO").
 */
int ht_rtfile_open(const char *path, int flags, mode_t mode, char *why, size_t whylen);
#endif
