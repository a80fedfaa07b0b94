/*
 * rtfile.h - opening the runtime's own files (log_file, stats_log, record,
 * replay). The paths come from the environment of a program that may run as
 * root in a shared /tmp, so: never follow a symlink, never block (a FIFO
 * would hang the constructor), and accept only a regular file.
 */
#ifndef HT_RTFILE_H
#define HT_RTFILE_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * open(2) with O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC added. The result must
 * be a regular file; one opened for writing must also have one link and
 * belong to the caller, and only then is O_TRUNC applied. The returned fd
 * blocks again. -1 with errno and one line in why ("PATH: is a FIFO").
 */
int ht_rtfile_open(const char *path, int flags, mode_t mode, char *why, size_t whylen);

/*
 * The runtime's per-user directories, in order of preference: root's
 * /run/hypertier, a user's /run/user/UID/hypertier, else /tmp/hypertier-UID.
 * Writes the i-th into buf; 0 when there is none.
 */
int ht_rtdir_default(unsigned uid, int i, char *buf, size_t len);
/*
 * 1 if dir is a directory that uid alone may write (its owner, not group-
 * or world-writable: no one else can rename our files or squat on names),
 * else 0 with the reason. create: mkdir it 0700 first.
 */
int ht_rtdir_ok(const char *dir, unsigned uid, int create, char *why, size_t whylen);
/* /proc/PID/stat starttime: tells a reused pid apart (0 if gone). */
uint64_t ht_proc_start_ticks(int pid);
#endif
