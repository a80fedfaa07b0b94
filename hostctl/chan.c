/* chan.c - bounded, deadline-driven JSON lines. A peer can neither make us
 * buffer more than max_line bytes nor keep us waiting past the deadline. */
#include "chan.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

int hc_chan_init(struct hc_chan *c, int fd, size_t max_line)
{
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->max_line = max_line;
	c->buf = malloc(max_line + 1);
	if (!c->buf)
		return -1;
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	return 0;
}

void hc_chan_close(struct hc_chan *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->buf);
	c->buf = NULL;
	c->fd = -1;
}

/* Wait for events until the deadline; 1 ready, 0 timeout, -1 error. */
static int wait_fd(int fd, short ev, long long deadline)
{
	for (;;) {
		long long left = deadline - now_ms();
		if (left <= 0)
			return 0;
		struct pollfd p = { .fd = fd, .events = ev };
		int r = poll(&p, 1, left > 1000000 ? 1000000 : (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r > 0)
			return 1;
	}
}

int hc_chan_read_line(struct hc_chan *c, int timeout_ms, char **line, char *why)
{
	long long deadline = now_ms() + timeout_ms;
	if (c->broken) {
		snprintf(why, HC_WHY, "channel out of sync after an earlier error");
		return -1;
	}
	/* Drop the line handed out last time. */
	memmove(c->buf, c->buf + c->start, c->len - c->start);
	c->len -= c->start;
	c->start = 0;
	for (;;) {
		char *nl = c->len ? memchr(c->buf, '\n', c->len) : NULL;
		if (nl) {
			*nl = 0;
			if (nl > c->buf && nl[-1] == '\r')
				nl[-1] = 0;
			c->start = nl + 1 - c->buf;
			*line = c->buf;
			return 1;
		}
		if (c->len >= c->max_line) {
			c->broken = 1;
			snprintf(why, HC_WHY, "line longer than %zu bytes refused", c->max_line);
			return -1;
		}
		int w = wait_fd(c->fd, POLLIN, deadline);
		if (w == 0) {
			snprintf(why, HC_WHY, "no complete reply within %d ms", timeout_ms);
			c->broken = c->len > 0;
			return -1;
		}
		if (w < 0) {
			snprintf(why, HC_WHY, "poll: %s", strerror(errno));
			return -1;
		}
		ssize_t r = read(c->fd, c->buf + c->len, c->max_line - c->len);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (r < 0) {
			snprintf(why, HC_WHY, "read: %s", strerror(errno));
			return -1;
		}
		if (r == 0) {
			snprintf(why, HC_WHY, "peer closed the connection");
			return 0;
		}
		c->len += r;
	}
}

int hc_chan_has_line(const struct hc_chan *c)
{
	return c->len > c->start && memchr(c->buf + c->start, '\n', c->len - c->start) != NULL;
}

int hc_chan_read(struct hc_chan *c, int timeout_ms, json_object **obj, char *why)
{
	char *line;
	int r = hc_chan_read_line(c, timeout_ms, &line, why);
	if (r <= 0)
		return r;
	/* Depth bound: our messages nest at most 4 deep. */
	struct json_tokener *tok = json_tokener_new_ex(8);
	if (!tok) {
		snprintf(why, HC_WHY, "out of memory");
		return -1;
	}
	size_t n = strlen(line);
	json_object *o = json_tokener_parse_ex(tok, line, (int)n);
	enum json_tokener_error e = json_tokener_get_error(tok);
	size_t used = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (!o || e != json_tokener_success || used != n) {
		json_object_put(o);
		snprintf(why, HC_WHY, "malformed JSON (%s)",
			 e != json_tokener_success ? json_tokener_error_desc(e) : "trailing bytes");
		return -1;
	}
	if (!json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		snprintf(why, HC_WHY, "message is not a JSON object");
		return -1;
	}
	*obj = o;
	return 1;
}

int hc_chan_write_raw(struct hc_chan *c, const char *p, size_t n, int timeout_ms, char *why)
{
	long long deadline = now_ms() + timeout_ms;
	while (n) {
		ssize_t w = write(c->fd, p, n);
		if (w > 0) {
			p += w;
			n -= w;
			continue;
		}
		if (w < 0 && errno != EAGAIN && errno != EINTR) {
			snprintf(why, HC_WHY, "write: %s", strerror(errno));
			return -1;
		}
		int r = wait_fd(c->fd, POLLOUT, deadline);
		if (r <= 0) {
			snprintf(why, HC_WHY, r ? "poll: %s" : "peer not reading (write timed out)", strerror(errno));
			return -1;
		}
	}
	return 0;
}

int hc_chan_write(struct hc_chan *c, json_object *obj, int timeout_ms, char *why)
{
	size_t n;
	const char *s = json_object_to_json_string_length(obj, JSON_C_TO_STRING_PLAIN, &n);
	if (n >= c->max_line) {
		snprintf(why, HC_WHY, "message of %zu bytes exceeds the line bound", n);
		return -1;
	}
	if (hc_chan_write_raw(c, s, n, timeout_ms, why) < 0)
		return -1;
	return hc_chan_write_raw(c, "\n", 1, timeout_ms, why);
}

int hc_unix_connect(const char *path, char *why)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(why, HC_WHY, "socket path too long: %s", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		snprintf(why, HC_WHY, "cannot connect to %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}
