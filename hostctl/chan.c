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

long long hc_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static __thread long long dl_op, dl_rate;
static __thread int dl_fired;

void hc_deadline_set(long long op_ms)
{
	dl_op = op_ms;
	dl_rate = 0;
	dl_fired = HC_DL_NONE;
}

void hc_deadline_rate(long long rate_ms) { dl_rate = rate_ms; }
int hc_deadline_fired(void) { return dl_fired; }

/* The earliest of d and the thread's deadlines; *who says whose it is. */
static long long clamp(long long d, int *who)
{
	*who = HC_DL_NONE;
	if (dl_op && dl_op < d)
		d = dl_op, *who = HC_DL_OP;
	if (dl_rate && dl_rate < d)
		d = dl_rate, *who = HC_DL_RATE;
	return d;
}

/* Why a wait ended at a thread deadline (own: the wait's own message). */
static void expired(int who, char *why, const char *own)
{
	dl_fired = who;
	if (who == HC_DL_OP)
		snprintf(why, HC_WHY, "whole-operation deadline reached");
	else if (who == HC_DL_RATE)
		snprintf(why, HC_WHY, "below the minimum progress rate");
	else
		snprintf(why, HC_WHY, "%s", own);
}

char *hc_clean(char *dst, size_t n, const char *src)
{
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)src; *p && o + 5 < n; p++) {
		if (*p >= 0x20 && *p < 0x7f)
			dst[o++] = *p;
		else
			o += snprintf(dst + o, n - o, "\\x%02x", *p);
	}
	if (n)
		dst[o < n ? o : n - 1] = 0;
	return dst;
}

/* json-c 0.16 on x86_64, measured: object 784 bytes, array 144 (+8 per
 * slot, doubling), int 64, double 96, string 80 + length. */
enum { COST_OBJ = 800, COST_ARR = 160, COST_VAL = 112, COST_STR = 96 };

size_t hc_json_cost(const char *s, size_t n)
{
	size_t cost = 0;
	int in_str = 0, want_val = 1;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (in_str) {
			cost++;
			if (ch == '\\')
				i++;
			else if (ch == '"')
				in_str = 0;
			continue;
		}
		switch (ch) {
		case '"': in_str = 1; cost += COST_STR; want_val = 0; break;
		case '{': cost += COST_OBJ; want_val = 1; break;
		case '[': cost += COST_ARR; want_val = 1; break;
		case ',': case ':': want_val = 1; break;
		case ' ': case '\t': case '\r': case '\n': break;
		case '}': case ']': want_val = 0; break;
		default:
			if (want_val)
				cost += COST_VAL;
			want_val = 0;
		}
	}
	return cost;
}

int hc_chan_init(struct hc_chan *c, int fd, size_t max_line)
{
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->max_line = max_line;
	c->max_tree = 8 * max_line;
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

/* Wait for events until the deadline (or the thread's); 1 ready, 0 timeout
 * (*who: whose), -1 error. */
static int wait_fd(int fd, short ev, long long deadline, int *who)
{
	deadline = clamp(deadline, who);
	for (;;) {
		long long left = deadline - hc_now_ms();
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
	long long deadline = hc_now_ms() + timeout_ms;
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
		int who, w = wait_fd(c->fd, POLLIN, deadline, &who);
		if (w == 0) {
			char own[64];
			snprintf(own, sizeof(own), "no complete reply within %d ms", timeout_ms);
			expired(who, why, own);
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
	/* Memory bound before a single object is built: json-c's tree can
	 * take 260x the line ({} is 3 bytes, 784 parsed). */
	size_t n = strlen(line), cost = hc_json_cost(line, n);
	if (cost > c->max_tree) {
		snprintf(why, HC_WHY, "reply refused: parsing it would take %zu KiB (bound %zu KiB)", cost >> 10, c->max_tree >> 10);
		return -1;
	}
	/* Depth bound: our messages nest at most 4 deep. */
	struct json_tokener *tok = json_tokener_new_ex(8);
	if (!tok) {
		snprintf(why, HC_WHY, "out of memory");
		return -1;
	}
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
	long long deadline = hc_now_ms() + timeout_ms;
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
		int who, r = wait_fd(c->fd, POLLOUT, deadline, &who);
		if (r < 0) {
			snprintf(why, HC_WHY, "poll: %s", strerror(errno));
			return -1;
		}
		if (r == 0) {
			expired(who, why, "peer not reading (write timed out)");
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

int hc_unix_connect_ms(const char *path, int timeout_ms, char *why)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(why, HC_WHY, "socket path too long: %s", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	int who;
	long long deadline = clamp(hc_now_ms() + timeout_ms, &who);
	for (;;) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0) {
			snprintf(why, HC_WHY, "socket: %s", strerror(errno));
			return -1;
		}
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return fd;
		int e = errno;
		close(fd);
		/* EAGAIN: the listener's backlog is full (QEMU serves one client) */
		if (e != EAGAIN || hc_now_ms() >= deadline) {
			char own[HC_WHY];
			snprintf(own, sizeof(own), "cannot connect to %s: %s", path,
				 e == EAGAIN ? "busy (listen backlog full) until the deadline" : strerror(e));
			if (e == EAGAIN && who != HC_DL_NONE) {
				expired(who, own, "");
				snprintf(why, HC_WHY, "cannot connect to %s: %s", path, own);
			} else {
				snprintf(why, HC_WHY, "%s", own);
			}
			return -1;
		}
		usleep(20000);
	}
}

int hc_unix_connect(const char *path, char *why)
{
	return hc_unix_connect_ms(path, 10000, why);
}
