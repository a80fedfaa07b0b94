/* test_hostctl_balance.c - host side of hostctl-balance.sh: N guests (3 by
 * default) booted by run-guest, each with the real agent and a publisher of
 * a known hot set (hostctl_demand). Loops `hostctl balance` steps and checks,
 * apart from hostctl: the fast quotas end where the hot sets are (within
 * the hysteresis, 32 MiB) and follow one change of them; no VM is below its
 * floor after any step; each fast tier file's host backing (st_blocks) stays
 * within its quota, and their sum within the fast capacity. */
#include "chan.h"
#include "tap.h"
#include <fcntl.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MiB (1LL << 20)
enum { MAXVM = 8, FLOOR = 224, CEIL = 448, START = 320, HYST = 32 };
static struct { char dir[512], name[64], ctl_path[600]; struct hc_chan ctl; int fd; } vm[MAXVM];
static int n;
static const char *hostctl;
static char state[600], out[1 << 16];

static const char *guest(int i, const char *cmd)
{
	char why[HC_WHY], *line, b[160];
	snprintf(b, sizeof(b), "%s\n", cmd);
	if (hc_chan_write_raw(&vm[i].ctl, b, strlen(b), 10000, why) < 0 || hc_chan_read_line(&vm[i].ctl, 30000, &line, why) != 1) {
		tap_diag("vm%d: guest %s: %s", i, cmd, why);
		tap_bail("lost a guest control port");
	}
	return line;
}

static int run(const char *fmt, ...)
{
	char args[1024], cmd[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "HOSTCTL_STATE=%s %s %s 2>&1", state, hostctl, args);
	FILE *p = popen(cmd, "r");
	size_t k = fread(out, 1, sizeof(out) - 1, p);
	out[k] = 0;
	int st = pclose(p);
	char *copy = strdup(out);
	for (char *l = strtok(copy, "\n"); l; l = strtok(NULL, "\n"))
		tap_diag("  | %s", l);
	free(copy);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static long long backed(int i)
{
	struct stat st;
	fstat(vm[i].fd, &st);
	return (long long)st.st_blocks * 512;
}

static long long quota_mib(int i)
{
	json_object *s = json_object_from_file(state), *vms, *f, *q;
	long long r = -1;
	if (s && json_object_object_get_ex(s, "vms", &vms))
		for (size_t k = 0; k < json_object_array_length(vms); k++) {
			json_object *v = json_object_array_get_idx(vms, k), *nm;
			if (json_object_object_get_ex(v, "name", &nm) && !strcmp(json_object_get_string(nm), vm[i].name) &&
			    json_object_object_get_ex(v, "fast", &f) && json_object_object_get_ex(f, "quota", &q))
				r = json_object_get_int64(q) / MiB;
		}
	json_object_put(s);
	return r;
}

/* Start a publisher of hot MiB in guest i (replacing the last one). */
static void set_hot(int i, int hot)
{
	char c[64], want[32];
	snprintf(c, sizeof(c), "run hostctl_demand %d", hot);
	const char *r = guest(i, c);
	int pid = 0;
	if (sscanf(r, "ok %d", &pid) != 1)
		tap_bail("cannot start hostctl_demand in a guest");
	snprintf(want, sizeof(want), "%d", pid);
	/* It writes its pid once the old one is gone and its own file is out. */
	for (int k = 0; k < 400 && strcmp(guest(i, "read /tmp/demand.pid"), want); k++)
		usleep(50000);
	ok(!strcmp(guest(i, "read /tmp/demand.pid"), want), "vm%d: hot set now %d MiB (publisher %d)", i, hot, pid);
}

/* Steps until nothing moves; after each: floors, backing within quotas. */
static int converge(const char *phase, int max, long long capacity)
{
	int steps = 0, floors = 1, backing = 1;
	for (; steps < max; steps++) {
		long long before[MAXVM], sum = 0;
		int moved = 0;
		for (int i = 0; i < n; i++)
			before[i] = quota_mib(i);
		int rc = run("balance");
		for (int i = 0; i < n; i++) {
			long long q = quota_mib(i), b = backed(i);
			moved |= q != before[i];
			floors &= q >= FLOOR;
			backing &= b <= q * MiB;
			sum += b;
			if (b > q * MiB)
				tap_diag("vm%d: fast backing %lld KiB above quota %lld MiB", i, b >> 10, q);
		}
		backing &= sum <= capacity * MiB;
		if (rc)
			tap_diag("%s: balance exit %d", phase, rc);
		if (!moved)
			break;
	}
	ok(floors, "%s: no VM below its %d MiB floor after any of %d steps", phase, FLOOR, steps + 1);
	ok(backing, "%s: every fast tier's host backing within its quota, the sum within %lld MiB", phase, capacity);
	return steps;
}

static void where(const char *phase, const int *hot)
{
	for (int i = 0; i < n; i++) {
		long long q = quota_mib(i), want = hot[i] < FLOOR ? FLOOR : hot[i] > CEIL ? CEIL : hot[i];
		ok(q - want < HYST && want - q < HYST, "%s: vm%d fast quota %lld MiB, hot set %d MiB (target %lld +-%d MiB)", phase, i,
		   q, hot[i], want, HYST);
	}
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	hostctl = getenv("HOSTCTL");
	char *dirs = getenv("VM_DIRS");
	if (!hostctl || !dirs)
		tap_bail("run me through hostctl-balance.sh");
	for (char *d = strtok(strdup(dirs), " "); d && n < MAXVM; d = strtok(NULL, " "), n++) {
		char p[600], why[HC_WHY];
		snprintf(vm[n].dir, sizeof(vm[n].dir), "%s", d);
		snprintf(p, sizeof(p), "%s/ready", d);
		FILE *f = fopen(p, "r");
		if (!f || !fgets(vm[n].name, sizeof(vm[n].name), f))
			tap_bail("a VM directory without its ready file");
		fclose(f);
		vm[n].name[strcspn(vm[n].name, "\n")] = 0;
		snprintf(vm[n].ctl_path, sizeof(vm[n].ctl_path), "%s/ctl.sock", d);
		int fd = hc_unix_connect(vm[n].ctl_path, why);
		if (fd < 0 || hc_chan_init(&vm[n].ctl, fd, 4096) < 0)
			tap_bail(why);
		snprintf(p, sizeof(p), "/dev/shm/%s-fast", vm[n].name);
		struct stat st;
		vm[n].fd = open(p, O_RDWR);
		if (vm[n].fd < 0 || fstat(vm[n].fd, &st) < 0 || fallocate(vm[n].fd, 0, 0, st.st_size) < 0)
			tap_bail("cannot open/fallocate a fast tier file in /dev/shm");
	}
	snprintf(state, sizeof(state), "%s/hostctl.json", vm[0].dir);
	long long capacity = (long long)n * START;
	for (int i = 0; i < n; i++) {
		ok(!strncmp(guest(i, "agent-start"), "ok ", 3), "vm%d: agent started", i);
		int rc = run("grant %s/qmp.sock --name %s --fast %dM --fast-min %dM --fast-max %dM", vm[i].dir, vm[i].name, START,
			     FLOOR, CEIL);
		ok(rc == 0, "vm%d (%s): fast %d MiB granted, floor %d, ceiling %d", i, vm[i].name, START, FLOOR, CEIL);
	}
	int rc = run("rebalance --fast-capacity %lldM", capacity);
	ok(rc == 0, "fast capacity %lld MiB: what one VM gains another gave", capacity);

	/* Hot sets that differ, then change once (sums within the capacity). */
	static const int h1[] = { 400, 240, 320, 400, 240, 320, 400, 240 }, h2[] = { 240, 400, 300, 240, 400, 300, 240, 400 };
	for (int i = 0; i < n; i++)
		set_hot(i, h1[i]);
	rc = run("status %s", vm[0].name);
	ok(rc == 0 && strstr(out, "fast  demand: hot set 400.00 MiB in 1 processes"), "status: vm0's demand next to its quota");
	int s1 = converge("first hot sets", 8, capacity);
	tap_diag("first hot sets: converged after %d steps", s1);
	where("first hot sets", h1);
	for (int i = 0; i < n; i++)
		set_hot(i, h2[i]);
	int s2 = converge("after the change", 8, capacity);
	tap_diag("after the change: converged after %d steps", s2);
	where("after the change", h2);
	for (int i = 0; i < n; i++)
		guest(i, "quit");
	return tap_done();
}
