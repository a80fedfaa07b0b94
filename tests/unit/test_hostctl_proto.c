/* test_hostctl_proto.c - the host side of the agent protocol against a fake,
 * hostile agent on a socketpair. Every refused reply must leave the tier's
 * file exactly as it was (st_blocks and bytes); the host must answer within
 * its deadline and never buffer more than the line bound. */
#include "link.h"
#include "tap.h"
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MiB (1ULL << 20)
/* Guest layout of the fake VM: fast tier = 4 MiB file mapped at gpa 1 MiB
 * (first 64 KiB of it as rom), slow tier = 4 MiB at gpa 16 MiB. */
static const struct hc_seg layout[] = {
	{ 0x100000, 0x10000, 0, 0, "mfast" },              /* rom view */
	{ 0x110000, 4 * MiB - 0x10000, 0x10000, 1, "mfast" },
	{ 0x1000000, 4 * MiB, 0, 1, "mslow" },
};

/* A fake agent: answers hello, then replies to each inflate with the line
 * script(seq) returns (NULL: stay silent). */
typedef char *(*script_fn)(unsigned seq, int round);
struct fake { int fd; script_fn fn; int hello_stale; };

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
	va_list ap;
	va_start(ap, f);
	char *s = NULL;
	if (vasprintf(&s, f, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

static void *agent_thread(void *arg)
{
	struct fake *fk = arg;
	char buf[65536];
	size_t len = 0;
	int round = 0;
	FILE *out = fdopen(dup(fk->fd), "w");
	for (;;) {
		ssize_t r = read(fk->fd, buf + len, sizeof(buf) - 1 - len);
		if (r <= 0)
			break;
		len += r;
		buf[len] = 0;
		char *nl;
		while ((nl = strchr(buf, '\n'))) {
			*nl = 0;
			json_object *m = json_tokener_parse(buf);
			uint64_t seq = 0;
			const char *op = "";
			json_object *o;
			if (m && json_object_object_get_ex(m, "op", &o))
				op = json_object_get_string(o);
			hc_msg_u64(m, "seq", &seq);
			if (!strcmp(op, "hello")) {
				for (int i = 0; i < fk->hello_stale; i++)
					fprintf(out, "{\"v\":1,\"seq\":%u,\"op\":\"inflate\",\"node\":0,\"ranges\":[]}\n", (unsigned)seq - 5 + i);
				fprintf(out, "{\"v\":1,\"seq\":%" PRIu64 ",\"op\":\"hello\",\"pid\":42,\"start\":7,\"sysctl\":\"ok\","
					"\"nodes\":[{\"node\":0,\"total\":4194304,\"free\":4000000,\"balloon\":0}]}\n", seq);
			} else if (!strcmp(op, "inflate")) {
				char *s = fk->fn((unsigned)seq, round++);
				if (s && s[0] == 1) {
					fflush(out);
					for (char *p = s + 1; *p; p++) {
						if (send(fk->fd, p, 1, MSG_NOSIGNAL) != 1)
							break;
						usleep(20000);
					}
				} else if (s) {
					fputs(s, out);
				}
				free(s);
			}
			fflush(out);
			json_object_put(m);
			memmove(buf, nl + 1, len - (nl + 1 - buf) + 1);
			len -= nl + 1 - buf;
		}
	}
	fclose(out);
	return NULL;
}

/* A fully backed 4 MiB file with a recognisable byte in every page. */
static int make_file(void)
{
	char path[] = "/dev/shm/ht-hostctl-test-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return -1;
	unlink(path);
	char page[HC_PAGE];
	for (int i = 0; i < 1024; i++) {
		memset(page, 'a' + i % 26, sizeof(page));
		if (write(fd, page, sizeof(page)) != sizeof(page))
			return -1;
	}
	return fd;
}

static void tier_init(struct hc_tier *t, int fd, const char *memdev)
{
	char why[HC_WHY];
	memset(t, 0, sizeof(*t));
	snprintf(t->memdev, sizeof(t->memdev), "%s", memdev);
	snprintf(t->path, sizeof(t->path), "test");
	t->size = 4 * MiB;
	t->node = 0;
	t->fd = fd;
	if (hc_tier_set_segs(t, layout, 3, why) < 0)
		tap_bail(why);
}

/* Count pages whose first byte is no longer the original pattern. */
static int pages_zeroed(int fd)
{
	int n = 0;
	for (int i = 0; i < 1024; i++) {
		char c;
		if (pread(fd, &c, 1, (off_t)i * HC_PAGE) != 1 || c != 'a' + i % 26)
			n += c == 0;
	}
	return n;
}

static int64_t blocks(int fd) { return hc_file_backed(fd); }

struct run { int rc; char why[HC_WHY]; struct hc_inflate_stats st; };

/* Open a link to a fresh fake agent and ask it to inflate `bytes`. */
static struct run run_case(struct hc_tier *t, script_fn fn, uint64_t bytes, int timeout_ms, int stale)
{
	struct run r = { 0 };
	int sv[2];
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	struct fake fk = { sv[1], fn, stale };
	pthread_t th;
	pthread_create(&th, NULL, agent_thread, &fk);
	struct hc_link l;
	if (hc_link_open_fd(&l, sv[0], timeout_ms, r.why) < 0)
		r.rc = -2;
	else
		r.rc = hc_link_inflate(&l, t, bytes, 1 * MiB, &r.st, r.why);
	hc_link_close(&l);
	shutdown(sv[1], SHUT_RDWR);
	pthread_join(th, NULL);
	close(sv[1]);
	free(t->punched);
	t->punched = NULL;
	return r;
}

#define REPLY(ranges) "{\"v\":1,\"seq\":%u,\"op\":\"inflate\",\"node\":0,\"bytes\":0,\"ranges\":" ranges "}\n"

/* Honest: 256 KiB at gpa 2 MiB (file offset 1 MiB), then 256 KiB in two pieces. */
static char *s_good(unsigned seq, int round)
{
	if (round == 0)
		return fmt(REPLY("[[2097152,262144]]"), seq);
	return fmt(REPLY("[[3145728,131072],[3276800,131072]]"), seq);
}
static char *s_other_tier(unsigned seq, int round) { return fmt(REPLY("[[2097152,4096],[16777216,4096]]"), seq); }
static char *s_outside(unsigned seq, int round) { return fmt(REPLY("[[1152921504606846976,4096]]"), seq); }
static char *s_straddle(unsigned seq, int round) { return fmt(REPLY("[[5238784,8192]]"), seq); } /* last page + beyond */
static char *s_rom(unsigned seq, int round) { return fmt(REPLY("[[1048576,4096]]"), seq); }
static char *s_overlap(unsigned seq, int round) { return fmt(REPLY("[[2097152,8192],[2101248,4096]]"), seq); }
static char *s_dup(unsigned seq, int round) { return fmt(REPLY("[[2097152,4096],[2097152,4096]]"), seq); }
static char *s_twice(unsigned seq, int round) { return fmt(REPLY("[[2097152,4096]]"), seq); }
static char *s_unaligned(unsigned seq, int round) { return fmt(REPLY("[[2097153,4096]]"), seq); }
static char *s_wrap(unsigned seq, int round) { return fmt(REPLY("[[9223372036854771712,9223372036854771712]]"), seq); }
static char *s_too_much(unsigned seq, int round) { return fmt(REPLY("[[2097152,2097152]]"), seq); } /* 2 MiB for a 1 MiB ask */
static char *s_negative(unsigned seq, int round) { return fmt(REPLY("[[-4096,4096]]"), seq); }
static char *s_wrong_node(unsigned seq, int round) { return fmt("{\"v\":1,\"seq\":%u,\"op\":\"inflate\",\"node\":1,\"ranges\":[[2097152,4096]]}\n", seq); }
static char *s_wrong_seq(unsigned seq, int round) { return fmt(REPLY("[[2097152,4096]]"), seq + 1); }
static char *s_old_seq(unsigned seq, int round) { return fmt(REPLY("[[2097152,4096]]"), seq - 1); }
static char *s_version(unsigned seq, int round) { return fmt("{\"v\":2,\"seq\":%u,\"op\":\"inflate\",\"node\":0,\"ranges\":[[2097152,4096]]}\n", seq); }
static char *s_malformed(unsigned seq, int round) { return fmt("{\"v\":1,\"seq\":%u,\"op\":\"inflate\",\"ranges\":[[2097152,4096]\n", seq); }
static char *s_trailing(unsigned seq, int round) { return fmt("{\"v\":1,\"seq\":%u,\"op\":\"inflate\",\"node\":0,\"ranges\":[]} {}\n", seq); }
static char *s_not_object(unsigned seq, int round) { return fmt("[1,2,3]\n"); }
static char *s_deep(unsigned seq, int round) { return fmt("{\"v\":1,\"seq\":%u,\"op\":\"inflate\",\"node\":0,\"ranges\":[[[[[[[[[[[[1]]]]]]]]]]]]}\n", seq); }
static char *s_silent(unsigned seq, int round) { return NULL; }
static char *s_error(unsigned seq, int round) { return fmt("{\"v\":1,\"seq\":%u,\"op\":\"error\",\"why\":\"mlock: nope\"}\n", seq); }
static char *s_empty(unsigned seq, int round) { return fmt("{\"v\":1,\"seq\":%u,\"op\":\"inflate\",\"node\":0,\"ranges\":[],\"why\":\"node 0 is full\"}\n", seq); }
/* One byte short of the bound, no newline: then silence. */
static char *s_giant(unsigned seq, int round)
{
	char *s = malloc(HC_PROTO_MAX_LINE + 2);
	memset(s, ' ', HC_PROTO_MAX_LINE + 1);
	s[HC_PROTO_MAX_LINE + 1] = 0;
	return s;
}
/* Just under the line bound of {} objects: json-c would build 270 MiB. */
static char *s_objects(unsigned seq, int round)
{
	char *s = malloc(HC_PROTO_MAX_LINE);
	size_t n = snprintf(s, 64, "{\"v\":1,\"seq\":%u,\"op\":\"inflate\",\"x\":[{}", seq);
	while (n + 8 < HC_PROTO_MAX_LINE)
		memcpy(s + n, ",{}", 3), n += 3;
	strcpy(s + n, "]}\n");
	return s;
}
static char *s_many(unsigned seq, int round)
{
	/* HC_PROTO_MAX_RANGES + 1 one-page ranges, each inside the tier */
	size_t cap = 64 + (HC_PROTO_MAX_RANGES + 1) * 16;
	char *s = malloc(cap);
	size_t n = snprintf(s, cap, "{\"v\":1,\"seq\":%u,\"op\":\"inflate\",\"node\":0,\"ranges\":[", seq);
	for (int i = 0; i <= HC_PROTO_MAX_RANGES; i++)
		n += snprintf(s + n, cap - n, "%s[2097152,4096]", i ? "," : "");
	snprintf(s + n, cap - n, "]}\n");
	return s;
}
/* Drips its reply one byte every 20 ms: must not stretch the deadline. */
/* One byte per 20 ms, each inside the 0.3 s per-read time, the line complete only after 80 s:
 * a reply before then proves the deadline is per line (the agent stops at shutdown). */
static char *s_drip(unsigned seq, int round) { return fmt("\001%4000s" REPLY("[[2097152,4096]]"), "", seq); }

struct hostile { const char *name; script_fn fn; const char *want; };

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	int fd = make_file(), other = make_file();
	if (fd < 0 || other < 0)
		tap_bail("cannot create a test file in /dev/shm");
	struct hc_tier fast, slow;
	tier_init(&fast, fd, "mfast");
	tier_init(&slow, other, "mslow");
	int64_t full = blocks(fd);
	ok(full >= (int64_t)(4 * MiB), "test file fully backed (%" PRId64 " bytes)", full);

	static const struct hostile cases[] = {
		{ "range in the other tier", s_other_tier, "not RAM of mfast" },
		{ "range far outside guest RAM", s_outside, "not RAM of mfast" },
		{ "range running past the tier's end", s_straddle, "not RAM of mfast" },
		{ "range in the tier's rom view", s_rom, "not RAM of mfast" },
		{ "overlapping ranges", s_overlap, "overlap" },
		{ "the same range twice", s_dup, "overlap" },
		{ "unaligned range", s_unaligned, "unaligned" },
		{ "huge range (start + len near 2^64)", s_wrap, "refused agent reply" },
		{ "more bytes than asked for", s_too_much, "more than" },
		{ "negative start", s_negative, "positive integers" },
		{ "reply for another node", s_wrong_node, "another node" },
		{ "wrong sequence number (ahead)", s_wrong_seq, "wrong sequence" },
		{ "wrong sequence number (replayed)", s_old_seq, "wrong sequence" },
		{ "wrong protocol version", s_version, "version" },
		{ "malformed JSON", s_malformed, "malformed JSON" },
		{ "trailing bytes after the object", s_trailing, "malformed JSON" },
		{ "not an object", s_not_object, "not a JSON object" },
		{ "nesting beyond the depth bound", s_deep, "malformed JSON" },
		{ "too many ranges", s_many, "ranges in one reply" },
		{ "1 MiB of {} objects", s_objects, "reply refused: parsing it would take" },
		{ "giant line", s_giant, "line longer than" },
		{ "agent error reply", s_error, "mlock: nope" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct run r = run_case(&fast, cases[i].fn, 1 * MiB, 2000, 0);
		ok(r.rc == -1 && strstr(r.why, cases[i].want), "%s: refused (%s)", cases[i].name, r.why);
		ok(blocks(fd) == full && pages_zeroed(fd) == 0 && blocks(other) == full,
		   "%s: nothing punched in either tier", cases[i].name);
	}

	/* The tree bound leaves room for the largest honest reply. */
	char *big = malloc(HC_PROTO_MAX_LINE);
	size_t bn = sprintf(big, "{\"v\":1,\"seq\":1,\"op\":\"inflate\",\"node\":0,\"ranges\":[");
	for (int i = 0; i < HC_PROTO_MAX_RANGES; i++)
		bn += sprintf(big + bn, "%s[%llu,4096]", i ? "," : "", 0x100000000000ULL + i * 8192ULL);
	bn += sprintf(big + bn, "]}");
	size_t cost = hc_json_cost(big, bn);
	ok(bn < HC_PROTO_MAX_LINE && cost <= 8 * (size_t)HC_PROTO_MAX_LINE,
	   "%d ranges (%zu bytes) fit the tree bound: %zu KiB estimated", HC_PROTO_MAX_RANGES, bn, cost >> 10);
	free(big);

	/* No reply: the deadline holds. */
	struct run r = run_case(&fast, s_silent, 1 * MiB, 300, 0);
	ok(r.rc == -1 && strstr(r.why, "no complete reply"), "silent agent: timeout reported (%s)", r.why);
	ok(blocks(fd) == full, "silent agent: nothing punched");
	r = run_case(&fast, s_drip, 1 * MiB, 300, 0);
	ok(r.rc == -1 && strstr(r.why, "no complete reply"),
	   "dripping agent: the deadline covers the whole line, not each byte (%s)", r.why);
	ok(blocks(fd) == full, "dripping agent: nothing punched");

	/* A reply on node 0 that says it is out of memory: partial, not an error. */
	r = run_case(&fast, s_empty, 1 * MiB, 2000, 0);
	ok(r.rc == 1 && strstr(r.why, "node 0 is full"), "agent out of memory: partial with its reason (%s)", r.why);

	/* Honest agent: exactly the reported pages are punched, nothing else. */
	r = run_case(&fast, s_good, 512 * 1024, 2000, 3);
	ok(r.rc == 0 && r.st.bytes == 512 * 1024, "honest agent: 512 KiB inflated (rc %d, %s)", r.rc, r.rc ? r.why : "ok");
	is_int(full - blocks(fd), 512 * 1024, "honest agent: st_blocks dropped by exactly 512 KiB");
	is_int(pages_zeroed(fd), 128, "honest agent: exactly 128 pages read back as zero");
	char c;
	ok(pread(fd, &c, 1, 1 * MiB) == 1 && c == 0 && pread(fd, &c, 1, 1 * MiB - HC_PAGE) == 1 && c == 'a' + 255 % 26,
	   "honest agent: gpa 2 MiB punched at file offset 1 MiB, the page before intact");
	is_int(blocks(other), full, "honest agent: the other tier untouched");
	ok(r.st.rounds == 2 && r.st.ranges == 3, "stale replies before hello skipped; 2 rounds, 3 ranges");

	/* The same page reported in a second round of one session is refused. */
	int64_t before = blocks(fd);
	r = run_case(&fast, s_twice, 8192, 2000, 0);
	ok(r.rc == -1 && strstr(r.why, "already reported"), "page reported twice in a session: refused (%s)", r.why);
	ok(blocks(fd) == before, "page reported twice: nothing more punched");
	hc_tier_release(&fast);
	hc_tier_release(&slow);
	return tap_done();
}
