/* hypertier-balloond - guest agent of hostctl. Speaks the protocol of
 * proto.h on the virtio-serial port named org.hypertier.0 and keeps one
 * balloon per NUMA node. It trusts the host (which owns the machine) and
 * sleeps in poll()/sigtimedwait() between requests. */
#include "balloon.h"
#include "demand.h"
#include "proto.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

struct agent {
	struct hc_chan ch;
	struct hc_balloon b;
	struct hc_range *ranges;
	char sysctl[128];
	const char *stats_dir;  /* NULL: each process's own runtime directory */
	long start;
	int timeout_ms;
	int verbose;
};

static int write_file(const char *p, const char *v)
{
	int fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int ok = write(fd, v, strlen(v)) == (ssize_t)strlen(v);
	close(fd);
	return ok ? 0 : -1;
}

/* Pinned pages must stay put: no compaction of unevictable pages, no NUMA
 * balancing (khugepaged is handled per mapping by MADV_NOHUGEPAGE). */
static void set_sysctls(struct agent *a)
{
	char bad[128] = "";
	if (write_file("/proc/sys/vm/compact_unevictable_allowed", "0") < 0)
		strcat(bad, " vm.compact_unevictable_allowed");
	if (access("/proc/sys/kernel/numa_balancing", F_OK) == 0 &&
	    write_file("/proc/sys/kernel/numa_balancing", "0") < 0)
		strcat(bad, " kernel.numa_balancing");
	snprintf(a->sysctl, sizeof(a->sysctl), bad[0] ? "not set:%s" : "ok", bad);
}

static int open_port(const char *name, const char *dev, char *why)
{
	char path[300];
	if (dev)
		snprintf(path, sizeof(path), "%s", dev);
	else {
		DIR *d = opendir("/sys/class/virtio-ports");
		struct dirent *e;
		path[0] = 0;
		while (d && (e = readdir(d))) {
			char p[300], v[128] = "";
			if (e->d_name[0] == '.')
				continue;
			snprintf(p, sizeof(p), "/sys/class/virtio-ports/%s/name", e->d_name);
			FILE *f = fopen(p, "r");
			if (f && fgets(v, sizeof(v), f)) {
				v[strcspn(v, "\n")] = 0;
				if (!strcmp(v, name))
					snprintf(path, sizeof(path), "/dev/%s", e->d_name);
			}
			if (f)
				fclose(f);
		}
		if (d)
			closedir(d);
		if (!path[0]) {
			snprintf(why, HC_WHY, "no virtio-serial port named %s in /sys/class/virtio-ports", name);
			return -1;
		}
	}
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		snprintf(why, HC_WHY, "%s: %s%s", path, strerror(errno), errno == EBUSY ? " (another agent has it open)" : "");
	return fd;
}

static json_object *nodes_json(struct agent *a)
{
	json_object *arr = json_object_new_array();
	for (int n = 0; n < HC_BALLOON_NODES; n++) {
		uint64_t total, freeb;
		if (hc_node_mem(n, &total, &freeb) < 0)
			continue;
		json_object *e = json_object_new_object();
		json_object_object_add(e, "node", json_object_new_int(n));
		json_object_object_add(e, "total", json_object_new_int64(total));
		json_object_object_add(e, "free", json_object_new_int64(freeb));
		json_object_object_add(e, "balloon", json_object_new_int64(a->b.size[n]));
		json_object_array_add(arr, e);
	}
	return arr;
}

static json_object *error_reply(unsigned seq, const char *why)
{
	json_object *r = hc_msg_new(seq, "error");
	json_object_object_add(r, "why", json_object_new_string(why));
	return r;
}

/* One request; returns the reply (NULL: none is due). */
static json_object *handle(struct agent *a, json_object *m)
{
	uint64_t v, seq64, bytes;
	json_object *o;
	char why[HC_WHY] = "";
	if (hc_msg_u64(m, "seq", &seq64) < 0)
		return error_reply(0, "request without seq");
	unsigned seq = (unsigned)seq64;
	if (hc_msg_u64(m, "v", &v) < 0 || v != HC_PROTO_VERSION)
		return error_reply(seq, "unsupported protocol version");
	if (!json_object_object_get_ex(m, "op", &o) || !json_object_is_type(o, json_type_string))
		return error_reply(seq, "request without op");
	const char *op = json_object_get_string(o);
	int node = -1;
	if (!strcmp(op, "commit")) {
		json_object *ok;
		hc_balloon_commit(&a->b, json_object_object_get_ex(m, "ok", &ok) && json_object_get_boolean(ok));
		return NULL;
	}
	hc_balloon_commit(&a->b, 0); /* any other request: an uncommitted chunk is void */
	json_object *r = hc_msg_new(seq, op);
	if (!strcmp(op, "hello")) {
		json_object_object_add(r, "agent", json_object_new_string("hypertier-balloond"));
		json_object_object_add(r, "pid", json_object_new_int64(getpid()));
		json_object_object_add(r, "start", json_object_new_int64(a->start));
		json_object_object_add(r, "sysctl", json_object_new_string(a->sysctl));
		json_object_object_add(r, "nodes", nodes_json(a));
	} else if (!strcmp(op, "status")) {
		json_object_object_add(r, "nodes", nodes_json(a));
	} else if (!strcmp(op, "demand")) {
		struct hc_demand d;
		hc_demand_scan(&d, a->stats_dir);
		json_object *j = json_object_new_object();
		json_object_object_add(j, "procs", json_object_new_int64(d.procs));
		json_object_object_add(j, "hot_set", json_object_new_int64(d.hot_set));
		json_object_object_add(j, "fast_budget", json_object_new_int64(d.fast_budget));
		json_object_object_add(j, "fast_used", json_object_new_int64(d.fast_used));
		json_object_object_add(r, "demand", j);
		json_object_object_add(r, "nodes", nodes_json(a));
	} else if (!strcmp(op, "inflate") || !strcmp(op, "deflate")) {
		if (hc_msg_int(m, "node", &node) < 0 || hc_msg_u64(m, "bytes", &bytes) < 0) {
			json_object_put(r);
			return error_reply(seq, "inflate/deflate needs node and bytes");
		}
		json_object_object_add(r, "node", json_object_new_int(node));
		if (op[0] == 'd') {
			json_object_object_add(r, "bytes", json_object_new_int64(hc_balloon_deflate(&a->b, node, bytes)));
		} else {
			size_t n = 0;
			if (hc_balloon_inflate(&a->b, node, bytes, a->ranges, HC_PROTO_MAX_RANGES, &n, why) < 0) {
				json_object_put(r);
				return error_reply(seq, why);
			}
			uint64_t sum = 0;
			for (size_t i = 0; i < n; i++)
				sum += a->ranges[i].len;
			json_object_object_add(r, "bytes", json_object_new_int64(sum));
			json_object_object_add(r, "ranges", hc_ranges_json(a->ranges, n));
			if (!n)
				json_object_object_add(r, "why", json_object_new_string(why));
		}
	} else {
		json_object_put(r);
		snprintf(why, sizeof(why), "unknown op %.60s", op);
		return error_reply(seq, why);
	}
	return r;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: hypertier-balloond [--port NAME] [--device PATH] [--reserve MIB] [--timeout MS] [--stats-dir DIR] [-v]\n");
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "port", 1, 0, 'p' }, { "device", 1, 0, 'd' }, { "reserve", 1, 0, 'r' },
		{ "timeout", 1, 0, 't' }, { "stats-dir", 1, 0, 's' }, { "verbose", 0, 0, 'v' }, { "help", 0, 0, 'h' }, { 0, 0, 0, 0 }
	};
	const char *port = HC_PORT_NAME, *dev = NULL;
	struct agent a = { .timeout_ms = 5000 };
	unsigned long long reserve_mib = 16;
	int c;
	while ((c = getopt_long(argc, argv, "p:d:r:t:s:vh", lo, NULL)) != -1) {
		char *end = NULL;
		switch (c) {
		case 'p': port = optarg; break;
		case 'd': dev = optarg; break;
		case 'r': reserve_mib = strtoull(optarg, &end, 10); break;
		case 't': a.timeout_ms = (int)strtol(optarg, &end, 10); break;
		case 's': a.stats_dir = optarg; break;
		case 'v': a.verbose = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
		if (end && (*end || end == optarg)) {
			fprintf(stderr, "hypertier-balloond: bad number '%s'\n", optarg);
			return 2;
		}
	}
	char why[HC_WHY];
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
	setrlimit(RLIMIT_MEMLOCK, &rl);
	/* Under guest OOM, give the balloon back first. */
	write_file("/proc/self/oom_score_adj", "1000");
	set_sysctls(&a);
	a.start = (long)time(NULL);
	a.ranges = malloc(HC_PROTO_MAX_RANGES * sizeof(*a.ranges));
	if (!a.ranges || hc_balloon_init(&a.b, reserve_mib << 20, why) < 0) {
		fprintf(stderr, "hypertier-balloond: %s\n", a.ranges ? why : "out of memory");
		return 1;
	}
	int fd = open_port(port, dev, why);
	if (fd < 0) {
		fprintf(stderr, "hypertier-balloond: %s\n", why);
		return 1;
	}
	/* The port raises SIGIO when the host end connects: sleep on it. */
	sigset_t io;
	sigemptyset(&io);
	sigaddset(&io, SIGIO);
	sigprocmask(SIG_BLOCK, &io, NULL);
	fcntl(fd, F_SETOWN, getpid());
	hc_chan_init(&a.ch, fd, HC_PROTO_MAX_LINE);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_ASYNC);
	if (a.verbose)
		fprintf(stderr, "hypertier-balloond: pid %d on %s, sysctl %s\n", getpid(), dev ? dev : port, a.sysctl);
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN, .revents = POLLIN };
		if (!hc_chan_has_line(&a.ch) && poll(&p, 1, -1) < 0 && errno != EINTR)
			break;
		json_object *m = NULL;
		int r = (p.revents & POLLIN) ? hc_chan_read(&a.ch, a.timeout_ms, &m, why) : 0;
		if (r == 0 || a.ch.broken) {
			/* Host end closed: void a pending chunk, resync, sleep. */
			hc_balloon_commit(&a.b, 0);
			a.ch.len = a.ch.start = 0;
			a.ch.broken = 0;
			struct timespec ts = { 5, 0 };
			sigtimedwait(&io, NULL, &ts);
			continue;
		}
		if (r < 0) {
			if (a.verbose)
				fprintf(stderr, "hypertier-balloond: %s\n", why);
			continue;
		}
		json_object *reply = handle(&a, m);
		json_object_put(m);
		if (reply && hc_chan_write(&a.ch, reply, a.timeout_ms, why) < 0 && a.verbose)
			fprintf(stderr, "hypertier-balloond: %s\n", why);
		json_object_put(reply);
	}
	return 1;
}
