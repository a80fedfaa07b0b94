/* hypertier-balloond - guest agent of hostctl. Speaks the protocol of
 * proto.h on the virtio-serial port named org.hypertier.0 and keeps one
 * balloon per NUMA node. It trusts the host (which owns the machine) and
 * sleeps in poll()/sigtimedwait() between requests. */
#include "agent.h"
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
static void set_sysctls(struct hc_agent *a)
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
	struct hc_agent a = { .timeout_ms = 5000, .demand = hc_demand_scan };
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
		json_object *reply = hc_agent_handle(&a, m);
		json_object_put(m);
		if (reply && hc_chan_write(&a.ch, reply, a.timeout_ms, why) < 0 && a.verbose)
			fprintf(stderr, "hypertier-balloond: %s\n", why);
		json_object_put(reply);
	}
	return 1;
}
