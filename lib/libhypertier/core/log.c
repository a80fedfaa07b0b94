/* log.c - formatted lines written with one write(2), no stdio buffers
 * (stdio would mix with the host program's own buffered output). */
#include "log.h"
#include "rtfile.h"
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

static int log_level = HT_LOG_OFF;
static int log_fd = 2;

void ht_log_setup(int level, const char *path)
{
	char why[320];
	log_level = level;
	if (level > HT_LOG_OFF && path && *path && log_fd == 2) {
		int fd = ht_rtfile_open(path, O_WRONLY | O_CREAT | O_APPEND, 0644, why, sizeof(why));
		if (fd >= 0)
			log_fd = fd;
		else
			ht_log(HT_LOG_WARN, "log_file=%s; logging to stderr instead", why);
	}
}

int ht_log_level(void) { return log_level; }

static void vput(const char *tag, int fd, const char *fmt, va_list ap)
{
	char buf[1024];
	int n = snprintf(buf, sizeof(buf), "hypertier[%d]: %s", (int)getpid(), tag);
	if (n < 0 || n >= (int)sizeof(buf))
		return;
	int m = vsnprintf(buf + n, sizeof(buf) - n - 1, fmt, ap);
	if (m < 0)
		return;
	n += m;
	if (n > (int)sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	/* one line, whatever a path or value holds: control bytes (newline, ESC) shown as '?' */
	for (int i = 0; i < n; i++)
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
			buf[i] = '?';
	buf[n++] = '\n';
	ssize_t w = write(fd, buf, n);
	(void)w;
}

void ht_log(int level, const char *fmt, ...)
{
	static const char *tags[] = { "", "error: ", "warning: ", "", "debug: " };
	if (level > log_level || level <= HT_LOG_OFF)
		return;
	va_list ap;
	va_start(ap, fmt);
	vput(tags[level], log_fd, fmt, ap);
	va_end(ap);
}

void ht_log_conf_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vput("", 2, fmt, ap);
	va_end(ap);
}
