/* hostctl_guest.c - guest side of the hostctl guest tests. Listens on a
 * second virtio-serial port (org.hypertier.test) for one-line commands from
 * the host test and answers one line:
 *   mem               -> "T0 F0 T1 F1": node 0/1 MemTotal and free bytes
 *                        (MemFree + per-CPU lists), read here, not via the agent
 *   agent-start       -> starts hypertier-balloond; "ok PID" once it holds its port
 *   agent-stop        -> SIGTERM + wait (the kernel frees its balloon)
 *   hostile MODE      -> a lying agent on org.hypertier.0 (modes below)
 *   hostile-stop, quit
 *   memfree           -> node 0 free memory, per-CPU lists included (as the runtime counts it), bytes
 *   run PROGRAM       -> starts PROGRAM (from PATH) in the background
 *   read FILE         -> the first line of FILE
 * Hostile modes answer hello like an agent and lie on inflate:
 *   other-tier (a real page of the other node), outside (the APIC page),
 *   overlap, too-much, giant (2 MiB, no newline), malformed, silent,
 *   wrong-seq (real pages of the right node, seq + 1), slow (one real page
 *   per round, 150 ms each), escape (ESC in sysctl and in an error's why).
 * and some lie on hello: stale (300 stale replies 300 ms apart first),
 *   big (a 1 MiB reply of {} objects). */
#include "balloon.h"
#include "proto.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <numaif.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static int find_port(const char *name, char *dev, size_t len)
{
	DIR *d = opendir("/sys/class/virtio-ports");
	struct dirent *e;
	int found = 0;
	while (d && (e = readdir(d))) {
		char p[300], v[128] = "";
		snprintf(p, sizeof(p), "/sys/class/virtio-ports/%s/name", e->d_name);
		FILE *f = fopen(p, "r");
		if (f && fgets(v, sizeof(v), f) && (v[strcspn(v, "\n")] = 0, !strcmp(v, name))) {
			snprintf(dev, len, "/dev/%s", e->d_name);
			found = 1;
		}
		if (f)
			fclose(f);
	}
	if (d)
		closedir(d);
	return found ? 0 : -1;
}

/* Does pid hold the agent port open? */
static int holds_port(pid_t pid, const char *dev)
{
	char p[64], l[300];
	snprintf(p, sizeof(p), "/proc/%d/fd", pid);
	DIR *d = opendir(p);
	struct dirent *e;
	int yes = 0;
	while (d && (e = readdir(d))) {
		char fp[400];
		snprintf(fp, sizeof(fp), "%s/%s", p, e->d_name);
		ssize_t n = readlink(fp, l, sizeof(l) - 1);
		if (n > 0 && (l[n] = 0, !strcmp(l, dev)))
			yes = 1;
	}
	if (d)
		closedir(d);
	return yes;
}

/* gpa of npages fresh pages on node (first page; pinned, leaked on purpose). */
static uint64_t pages_on(int node, int npages, uint64_t *gpa_list)
{
	size_t len = (size_t)npages * HC_PAGE;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned long mask = 1UL << node;
	mbind(p, len, MPOL_BIND, &mask, 64, 0);
	mlock(p, len);
	int fd = open("/proc/self/pagemap", O_RDONLY);
	for (int i = 0; i < npages; i++) {
		uint64_t e = 0;
		p[i * HC_PAGE] = 1;
		pread(fd, &e, 8, (off_t)((uintptr_t)(p + i * HC_PAGE) / HC_PAGE * 8));
		gpa_list[i] = (e & ((1ULL << 55) - 1)) * HC_PAGE;
	}
	close(fd);
	return gpa_list[0];
}

static void hostile(const char *mode, const char *dev)
{
	int fd = open(dev, O_RDWR);
	if (fd < 0)
		_exit(1);
	struct hc_chan ch;
	hc_chan_init(&ch, fd, HC_PROTO_MAX_LINE);
	char why[HC_WHY];
	for (;;) {
		json_object *m = NULL;
		struct pollfd p = { .fd = fd, .events = POLLIN, .revents = POLLIN };
		if (!hc_chan_has_line(&ch))
			poll(&p, 1, -1);
		int r = hc_chan_read(&ch, 5000, &m, why);
		if (r <= 0) {
			ch.len = ch.start = 0;
			ch.broken = 0;
			usleep(100000);
			continue;
		}
		uint64_t seq = 0, bytes = 0;
		int node = 0;
		json_object *o;
		hc_msg_u64(m, "seq", &seq);
		hc_msg_u64(m, "bytes", &bytes);
		hc_msg_int(m, "node", &node);
		const char *op = json_object_object_get_ex(m, "op", &o) ? json_object_get_string(o) : "";
		json_object *rep = hc_msg_new((unsigned)seq, op);
		if (!strcmp(op, "hello") && !strcmp(mode, "big")) {
			size_t n = HC_PROTO_MAX_LINE - 200, k;
			char *s = malloc(n + 200);
			k = sprintf(s, "{\"v\":1,\"seq\":%u,\"op\":\"hello\",\"x\":[{}", (unsigned)seq);
			while (k + 3 < n)
				memcpy(s + k, ",{}", 3), k += 3;
			k += sprintf(s + k, "]}\n");
			hc_chan_write_raw(&ch, s, k, 5000, why);
			free(s);
			json_object_put(rep);
			rep = NULL;
		} else if (!strcmp(op, "hello")) {
			for (int i = 0; !strcmp(mode, "stale") && i < 300; i++) {
				char b[96];
				int n = snprintf(b, sizeof(b), "{\"v\":1,\"seq\":%u,\"op\":\"status\",\"nodes\":[]}\n", (unsigned)seq - 1000);
				if (hc_chan_write_raw(&ch, b, n, 5000, why) < 0)
					break;
				usleep(300000);
			}
			json_object *arr = json_object_new_array();
			for (int n = 0; n < 2; n++) {
				uint64_t t = 0, f = 0;
				hc_node_mem(n, &t, &f);
				json_object *e = json_object_new_object();
				json_object_object_add(e, "node", json_object_new_int(n));
				json_object_object_add(e, "total", json_object_new_int64(t));
				json_object_object_add(e, "free", json_object_new_int64(f));
				json_object_object_add(e, "balloon", json_object_new_int64(0));
				json_object_array_add(arr, e);
			}
			json_object_object_add(rep, "pid", json_object_new_int64(getpid()));
			json_object_object_add(rep, "start", json_object_new_int64(1));
			json_object_object_add(rep, "sysctl", json_object_new_string(strcmp(mode, "escape") ? "ok" : "\033[2J\033[Hok\r"));
			json_object_object_add(rep, "nodes", arr);
		} else if (!strcmp(op, "inflate")) {
			uint64_t g[2];
			struct hc_range rg[2];
			size_t nr = 1;
			json_object_object_add(rep, "node", json_object_new_int(node));
			if (!strcmp(mode, "other-tier")) {
				rg[0] = (struct hc_range){ pages_on(!node, 1, g), HC_PAGE };
			} else if (!strcmp(mode, "outside")) {
				rg[0] = (struct hc_range){ 0xfee00000, HC_PAGE };
			} else if (!strcmp(mode, "overlap")) {
				pages_on(node, 1, g);
				rg[0] = rg[1] = (struct hc_range){ g[0], HC_PAGE };
				nr = 2;
			} else if (!strcmp(mode, "too-much")) {
				rg[0] = (struct hc_range){ pages_on(node, 1, g), bytes + HC_PAGE };
			} else if (!strcmp(mode, "slow")) {
				usleep(150000);
				rg[0] = (struct hc_range){ pages_on(node, 1, g), HC_PAGE };
			} else if (!strcmp(mode, "escape")) {
				json_object_put(rep);
				rep = hc_msg_new((unsigned)seq, "error");
				json_object_object_add(rep, "why", json_object_new_string("\033[2J\033[1A\nvm: fast (node 0): balloon +32.00 MiB in 1 rounds"));
				nr = 2; /* sent as it is */
			} else if (!strcmp(mode, "wrong-seq")) {
				rg[0] = (struct hc_range){ pages_on(node, 1, g), HC_PAGE };
				json_object_object_add(rep, "seq", json_object_new_int64(seq + 1));
			} else if (!strcmp(mode, "giant")) {
				static char junk[64 << 10];
				memset(junk, 'x', sizeof(junk));
				for (int i = 0; i < 32; i++)
					hc_chan_write_raw(&ch, junk, sizeof(junk), 5000, why);
				nr = 0;
			} else if (!strcmp(mode, "malformed")) {
				char b[128];
				int n = snprintf(b, sizeof(b), "{\"v\":1,\"seq\":%u,\"op\":\"inflate\",\"ranges\":[[1,2]\n", (unsigned)seq);
				hc_chan_write_raw(&ch, b, n, 5000, why);
				nr = 0;
			} else { /* silent */
				nr = 0;
			}
			if (!nr) {
				json_object_put(rep);
				rep = NULL;
			} else if (strcmp(mode, "escape")) {
				json_object_object_add(rep, "ranges", hc_ranges_json(rg, nr));
			}
		} else if (!strcmp(op, "demand")) { /* as an agent from before the demand report */
			json_object_put(rep);
			rep = hc_msg_new((unsigned)seq, "error");
			json_object_object_add(rep, "why", json_object_new_string("unknown op demand"));
		} else {
			json_object_put(rep);
			rep = NULL;
		}
		if (rep)
			hc_chan_write(&ch, rep, 5000, why);
		json_object_put(rep);
		json_object_put(m);
	}
}

static pid_t spawn(const char *mode, const char *dev)
{
	pid_t pid = fork();
	if (pid == 0) {
		if (!mode) {
			execlp("hypertier-balloond", "hypertier-balloond", (char *)NULL);
			_exit(127);
		}
		hostile(mode, dev);
		_exit(0);
	}
	for (int i = 0; i < 100 && pid > 0 && !holds_port(pid, dev); i++)
		usleep(50000);
	return pid;
}

static void stop(pid_t *pid)
{
	if (*pid > 0) {
		kill(*pid, SIGTERM);
		waitpid(*pid, NULL, 0);
	}
	*pid = -1;
}

int main(void)
{
	char ctl[300], dev[300], why[HC_WHY];
	if (find_port("org.hypertier.test", ctl, sizeof(ctl)) < 0 || find_port(HC_PORT_NAME, dev, sizeof(dev)) < 0) {
		fprintf(stderr, "hostctl_guest: ports org.hypertier.test / " HC_PORT_NAME " not found\n");
		return 1;
	}
	int fd = open(ctl, O_RDWR);
	struct hc_chan ch;
	if (fd < 0 || hc_chan_init(&ch, fd, 4096) < 0)
		return 1;
	pid_t agent = -1, bad = -1;
	printf("hostctl_guest: ready\n");
	fflush(stdout);
	for (;;) {
		char *line, out[256] = "ok";
		struct pollfd p = { .fd = fd, .events = POLLIN, .revents = POLLIN };
		if (!hc_chan_has_line(&ch))
			poll(&p, 1, 1000);
		int r = hc_chan_read_line(&ch, 5000, &line, why);
		if (r <= 0) {
			ch.len = ch.start = 0;
			ch.broken = 0;
			usleep(100000); /* host end not connected yet */
			continue;
		}
		if (!strcmp(line, "mem")) {
			uint64_t t0 = 0, f0 = 0, t1 = 0, f1 = 0;
			hc_node_mem(0, &t0, &f0);
			hc_node_mem(1, &t1, &f1);
			snprintf(out, sizeof(out), "%llu %llu %llu %llu", (unsigned long long)t0, (unsigned long long)f0,
				 (unsigned long long)t1, (unsigned long long)f1);
		} else if (!strcmp(line, "agent-start")) {
			stop(&bad);
			if (agent < 0)
				agent = spawn(NULL, dev);
			snprintf(out, sizeof(out), holds_port(agent, dev) ? "ok %d" : "fail %d", agent);
		} else if (!strcmp(line, "agent-stop")) {
			stop(&agent);
		} else if (!strncmp(line, "hostile ", 8)) {
			stop(&agent);
			stop(&bad);
			bad = spawn(line + 8, dev);
			snprintf(out, sizeof(out), holds_port(bad, dev) ? "ok %d" : "fail %d", bad);
		} else if (!strcmp(line, "memfree")) {
			uint64_t total = 0, fr = 0;
			if (hc_node_mem(0, &total, &fr) < 0)
				snprintf(out, sizeof(out), "-1");
			else
				snprintf(out, sizeof(out), "%llu", (unsigned long long)fr);
		} else if (!strncmp(line, "run ", 4)) {
			pid_t pid = fork();
			if (pid == 0) { /* "run PROG ARG...": words split on spaces */
				char *av[9] = { 0 };
				int k = 0;
				for (char *w = strtok(line + 4, " "); w && k < 8; w = strtok(NULL, " "))
					av[k++] = w;
				execvp(av[0], av);
				_exit(127);
			}
			snprintf(out, sizeof(out), "ok %d", pid);
		} else if (!strncmp(line, "read ", 5)) {
			FILE *f = fopen(line + 5, "r");
			if (!f || !fgets(out, sizeof(out), f))
				snprintf(out, sizeof(out), "missing");
			out[strcspn(out, "\n")] = 0;
			if (f)
				fclose(f);
		} else if (!strcmp(line, "hostile-stop")) {
			stop(&bad);
		} else if (!strcmp(line, "quit")) {
			stop(&agent);
			stop(&bad);
			hc_chan_write_raw(&ch, "ok\n", 3, 5000, why);
			return 0;
		} else {
			snprintf(out, sizeof(out), "unknown command");
		}
		strcat(out, "\n");
		hc_chan_write_raw(&ch, out, strlen(out), 5000, why);
	}
}
