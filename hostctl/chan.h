/* chan.h - one JSON object per line over a file descriptor, with a bound on
 * the line length and a deadline on every read and write. Used for QMP, for
 * the host side of the agent link and for the guest agent itself. */
#ifndef HC_CHAN_H
#define HC_CHAN_H
#include <stddef.h>
#include <json-c/json.h>

#define HC_WHY 256 /* size of every "why" buffer */

struct hc_chan {
	int fd;
	char *buf;          /* max_line + 1 bytes, allocated once */
	size_t max_line;
	size_t len;         /* bytes buffered */
	size_t start;       /* start of unread data (after the last line) */
	int broken;         /* a bound was hit: the stream is out of sync */
	size_t max_tree;    /* bound on the parsed tree's estimated bytes */
};

/* Deadlines of the calling thread's current operation, CLOCK_MONOTONIC ms
 * (0: none). Every wait and connect ends at the earliest of its own time,
 * the whole-operation deadline and the progress deadline (a grant's minimum
 * rate); hc_deadline_fired() says which one ended the last wait. */
enum { HC_DL_NONE, HC_DL_OP, HC_DL_RATE };
long long hc_now_ms(void);
void hc_deadline_set(long long op_ms);   /* also clears the rate and fired */
void hc_deadline_rate(long long rate_ms);
int hc_deadline_fired(void);
/* Copy src into dst (n bytes) with every byte outside printable ASCII
 * written as \xNN: what a peer sends never reaches a terminal raw. */
char *hc_clean(char *dst, size_t n, const char *src);
/* Estimated bytes json-c would allocate for the line (O(n), no allocation). */
size_t hc_json_cost(const char *s, size_t n);

/* fd is switched to O_NONBLOCK; the channel owns it. max_tree defaults to
 * 8 x max_line, so line, parser and tree stay within 16 x max_line. */
int hc_chan_init(struct hc_chan *c, int fd, size_t max_line);
void hc_chan_close(struct hc_chan *c);
/* 1: *obj holds a JSON object; 0: peer closed; -1: error, timeout or a bound
 * hit (why says which). The whole line must arrive within timeout_ms. */
int hc_chan_read(struct hc_chan *c, int timeout_ms, json_object **obj, char *why);
/* Raw line access (NUL-terminated, valid until the next read). */
int hc_chan_read_line(struct hc_chan *c, int timeout_ms, char **line, char *why);
/* A complete line is already buffered (poll() would not report it). */
int hc_chan_has_line(const struct hc_chan *c);
int hc_chan_write(struct hc_chan *c, json_object *obj, int timeout_ms, char *why);
/* Write raw bytes (tests and the hostile-agent tool use it). */
int hc_chan_write_raw(struct hc_chan *c, const char *p, size_t n, int timeout_ms, char *why);
/* Connect to a unix socket path within timeout_ms (and the deadlines: a
 * full listen backlog makes a blocking connect() wait for good); -1 with
 * why on failure. hc_unix_connect waits up to 10 s. */
int hc_unix_connect_ms(const char *path, int timeout_ms, char *why);
int hc_unix_connect(const char *path, char *why);
#endif
