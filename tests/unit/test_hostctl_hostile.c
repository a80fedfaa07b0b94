/* test_hostctl_hostile.c - the hostctl binary against two fake VMs (a fake
 * QMP server and a fake agent each, on unix sockets): VM A's agent or QMP
 * is hostile, VM B is honest. Each case asserts its bound by mechanism, not
 * wall time: the hostile peer's script runs far longer than any deadline,
 * so hostctl returning with the deadline's error while the peer still had
 * work to do proves the deadline fired. Also: B is unaffected (even while A
 * stalls, since the state lock is not held across guest I/O), the output
 * has no control bytes, peak RSS stays under 16x the line bound, and a
 * corrupt state file is refused by field name. */
#include "proto.h"
#include "tap.h"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MiB (1ULL << 20)
enum { HONEST, SLOW, STALE, ESCAPE, BIG, QMP_TRICKLE, QMP_BIG };

struct vm {
	const char *name;
	char dir[64], qmp[96], agent[96], fast[96], slow[96];
	volatile int mode;
	volatile int rounds, commits, stale, trickled; /* what the peers did */
	volatile int busy;                           /* a peer is mid-script */
	volatile uint64_t hot;                       /* hot set the agent reports */
	volatile int dmode;                          /* DEMAND_* below */
};
enum { DEMAND_OK, DEMAND_NEGATIVE, DEMAND_STRING, DEMAND_MISSING, DEMAND_HUGE };
static struct vm A = { .name = "A" }, B = { .name = "B" };
static const char *mtree, *hostctl;
static char state[128], out[1 << 16];

static void big_reply(int fd, unsigned seq, size_t n);

static int listen_on(const char *path, int backlog)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	unlink(path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, backlog) < 0)
		tap_bail("cannot listen on a unix socket");
	return fd;
}

static int say(int fd, const char *fmt, ...)
{
	char b[4096];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(b, sizeof(b), fmt, ap);
	va_end(ap);
	return send(fd, b, n, MSG_NOSIGNAL) == n ? 0 : -1;
}

static const char *arg(json_object *m, const char *k)
{
	json_object *a, *x;
	return json_object_object_get_ex(m, "arguments", &a) && json_object_object_get_ex(a, k, &x) ? json_object_get_string(x) : "";
}

static const char *qmp_answer(struct vm *v, json_object *m, char *b, size_t n)
{
	json_object *c;
	json_object_object_get_ex(m, "execute", &c);
	const char *cmd = json_object_get_string(c);
	if (!strcmp(cmd, "query-status"))
		return "{\"status\":\"running\",\"running\":true}";
	if (!strcmp(cmd, "query-memory-devices"))
		return "[]";
	/* the agent port: virtserialport -> chardev ch0 -> the agent's socket */
	if (!strcmp(cmd, "qom-list"))
		return "[{\"name\":\"device[1]\",\"type\":\"child<virtserialport>\"}]";
	if (!strcmp(cmd, "query-chardev")) {
		snprintf(b, n, "[{\"label\":\"ch0\",\"filename\":\"disconnected:unix:%s,server=on\"}]", v->agent);
		return b;
	}
	if (!strcmp(cmd, "query-memdev"))
		return "[{\"id\":\"mslow\",\"size\":536870912,\"share\":true},{\"id\":\"mfast\",\"size\":536870912,\"share\":true}]";
	if (!strcmp(cmd, "qom-get") && strcmp(arg(m, "property"), "mem-path"))
		return !strcmp(arg(m, "property"), "name") ? "\"" HC_PORT_NAME "\"" : "\"ch0\"";
	if (!strcmp(cmd, "qom-get")) {
		snprintf(b, n, "\"%s\"", !strcmp(arg(m, "path"), "/objects/mfast") ? v->fast : v->slow);
		return b;
	}
	if (!strcmp(cmd, "human-monitor-command")) {
		if (strcmp(arg(m, "command-line"), "info numa"))
			return NULL; /* mtree: sent by the caller */
		return "\"2 nodes\\r\\nnode 0 cpus: 0 1\\r\\nnode 0 size: 512 MB\\r\\nnode 1 cpus:\\r\\nnode 1 size: 512 MB\\r\\n\"";
	}
	return "{}"; /* qmp_capabilities, query-migrate */
}

/* One QMP client after another; in QMP_TRICKLE mode every command gets
 * events every 100 ms, each well inside the per-line time, and never a reply. */
static void *qmp_thread(void *arg)
{
	struct vm *v = arg;
	int lfd = listen_on(v->qmp, 4);
	for (;;) {
		int fd = accept(lfd, NULL, NULL);
		if (fd < 0)
			continue;
		FILE *in = fdopen(fd, "r");
		char line[4096], b[256];
		if (v->mode == QMP_BIG)
			big_reply(fd, 0, 8 << 20); /* qmp.c's line bound */
		else
			say(fd, "{\"QMP\": {\"version\": {}, \"capabilities\": []}}\r\n");
		while (fgets(line, sizeof(line), in)) {
			json_object *m = json_tokener_parse(line), *id = NULL;
			json_object_object_get_ex(m, "id", &id);
			long long i = json_object_get_int64(id);
			if (v->mode == QMP_TRICKLE) {
				v->busy = 1;
				while (say(fd, "{\"event\": \"RTC_CHANGE\", \"data\": {}}\r\n") == 0 && ++v->trickled < 100000)
					usleep(100000);
				v->busy = 0;
			}
			const char *r = qmp_answer(v, m, b, sizeof(b));
			if (r) {
				say(fd, "{\"return\": %s, \"id\": %lld}\r\n", r, i);
			} else {
				json_object *s = json_object_new_string(mtree);
				say(fd, "{\"return\": ");
				const char *t = json_object_to_json_string(s);
				send(fd, t, strlen(t), MSG_NOSIGNAL);
				say(fd, ", \"id\": %lld}\r\n", i);
				json_object_put(s);
			}
			json_object_put(m);
		}
		fclose(in);
	}
	return NULL;
}

static const char *NODES = "[{\"node\":0,\"total\":536870912,\"free\":400000000,\"balloon\":0},"
			   "{\"node\":1,\"total\":536870912,\"free\":400000000,\"balloon\":0}]";

/* A line of {} objects just within a line bound of n bytes. */
static void big_reply(int fd, unsigned seq, size_t n)
{
	n -= 200;
	char *s = malloc(n + 200);
	int h = seq ? sprintf(s, "{\"v\":1,\"seq\":%u,\"op\":\"hello\",\"x\":[{}", seq) : sprintf(s, "{\"QMP\":[{}");
	size_t k = h;
	while (k + 3 < n)
		memcpy(s + k, ",{}", 3), k += 3;
	k += sprintf(s + k, "]}\n");
	send(fd, s, k, MSG_NOSIGNAL);
	free(s);
}

static void agent_line(struct vm *v, int fd, json_object *m, uint64_t *gpa)
{
	uint64_t seq = 0, bytes = 0;
	int node = 0;
	json_object *o;
	hc_msg_u64(m, "seq", &seq);
	hc_msg_u64(m, "bytes", &bytes);
	hc_msg_int(m, "node", &node);
	const char *op = json_object_object_get_ex(m, "op", &o) ? json_object_get_string(o) : "";
	unsigned s = (unsigned)seq;
	if (!strcmp(op, "hello")) {
		if (v->mode == BIG)
			return big_reply(fd, s, HC_PROTO_MAX_LINE);
		if (v->mode == STALE) { /* stale replies, each inside the per-line time, 300 of them */
			v->busy = 1;
			for (v->stale = 0; v->stale < 300 && say(fd, "{\"v\":1,\"seq\":%u,\"op\":\"status\",\"nodes\":[]}\n", s - 1000) == 0; v->stale++)
				usleep(300000);
			v->busy = 0;
		}
		say(fd, "{\"v\":1,\"seq\":%u,\"op\":\"hello\",\"pid\":%d,\"start\":1,\"sysctl\":\"%s\",\"nodes\":%s}\n", s,
		    v == &A ? 100 : 200, v->mode == ESCAPE ? "\\u001b[2J\\u001b[Hvm.compact ok\\r" : "ok", NODES);
	} else if (!strcmp(op, "status")) {
		say(fd, "{\"v\":1,\"seq\":%u,\"op\":\"status\",\"nodes\":%s}\n", s, NODES);
	} else if (!strcmp(op, "inflate")) {
		v->rounds++;
		if (v->mode == ESCAPE) {
			say(fd, "{\"v\":1,\"seq\":%u,\"op\":\"error\",\"why\":\"\\u001b[2J\\u001b[1A\\nB: fast (node 0): balloon +32.00 MiB in 1 rounds\\u009b\"}\n", s);
			return;
		}
		if (v->mode == SLOW) { /* one valid page a round, each well inside the per-line time */
			v->busy = 1;
			usleep(150000);
			bytes = HC_PAGE;
		}
		say(fd, "{\"v\":1,\"seq\":%u,\"op\":\"inflate\",\"node\":%d,\"ranges\":[[%llu,%llu]]}\n", s, node,
		    (unsigned long long)*gpa, (unsigned long long)bytes);
		*gpa += bytes;
	} else if (!strcmp(op, "demand")) {
		static const char *const hot[] = { "%llu", "-1", "\"1G\"", NULL, "1152921504606846976" };
		char h[32];
		snprintf(h, sizeof(h), hot[v->dmode] ? hot[v->dmode] : "0", (unsigned long long)v->hot);
		say(fd, "{\"v\":1,\"seq\":%u,\"op\":\"demand\",\"demand\":{\"procs\":2,%s%s%s\"fast_budget\":1,\"fast_used\":1},\"nodes\":%s}\n",
		    s, v->dmode == DEMAND_MISSING ? "" : "\"hot_set\":", v->dmode == DEMAND_MISSING ? "" : h,
		    v->dmode == DEMAND_MISSING ? "" : ",", NODES);
		return;
	} else if (!strcmp(op, "commit")) {
		json_object *k;
		v->commits += json_object_object_get_ex(m, "ok", &k) && json_object_get_boolean(k);
	} else if (!strcmp(op, "deflate")) {
		say(fd, "{\"v\":1,\"seq\":%u,\"op\":\"deflate\",\"node\":%d,\"bytes\":%llu}\n", s, node, (unsigned long long)bytes);
	}
}

static void *agent_thread(void *arg)
{
	struct vm *v = arg;
	int lfd = listen_on(v->agent, 4);
	for (;;) {
		int fd = accept(lfd, NULL, NULL);
		if (fd < 0)
			continue;
		FILE *in = fdopen(fd, "r");
		char line[4096];
		uint64_t gpa = 16 * MiB; /* fresh pages of mfast in every session */
		while (fgets(line, sizeof(line), in)) {
			json_object *m = json_tokener_parse(line);
			if (m)
				agent_line(v, fd, m, &gpa);
			json_object_put(m);
		}
		v->busy = 0;
		fclose(in);
	}
	return NULL;
}

static void vm_init(struct vm *v)
{
	snprintf(v->dir, sizeof(v->dir), "/tmp/ht-hostile-%d-%s", getpid(), v->name);
	mkdir(v->dir, 0700);
	snprintf(v->qmp, sizeof(v->qmp), "%s/qmp.sock", v->dir);
	snprintf(v->agent, sizeof(v->agent), "%s/agent.sock", v->dir);
	snprintf(v->fast, sizeof(v->fast), "/dev/shm/ht-hostile-%d-%s-fast", getpid(), v->name);
	snprintf(v->slow, sizeof(v->slow), "/dev/shm/ht-hostile-%d-%s-slow", getpid(), v->name);
	int f = open(v->fast, O_RDWR | O_CREAT | O_TRUNC, 0600), s = open(v->slow, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (f < 0 || s < 0 || ftruncate(f, 512 * MiB) < 0 || ftruncate(s, 512 * MiB) < 0)
		tap_bail("cannot create backend files in /dev/shm");
	close(f);
	close(s);
	pthread_t t;
	pthread_create(&t, NULL, qmp_thread, v);
	pthread_create(&t, NULL, agent_thread, v);
}

/* Start hostctl with words (split on spaces) and its output in a file. */
static pid_t start(const char *file, const char *fmt, ...)
{
	char cmd[1024], *argv[32];
	va_list ap;
	va_start(ap, fmt);
	int n = snprintf(cmd, sizeof(cmd), "%s --state %s ", hostctl, state);
	vsnprintf(cmd + n, sizeof(cmd) - n, fmt, ap);
	va_end(ap);
	int k = 0;
	for (char *p = strtok(cmd, " "); p && k < 31; p = strtok(NULL, " "))
		argv[k++] = p;
	argv[k] = NULL;
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fd, 1);
		dup2(fd, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

/* Wait for pid; a guard (not a bound under test) kills a hostctl that hangs. */
static int finish(pid_t pid, const char *file, struct rusage *ru)
{
	int st = 0;
	struct rusage r;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < 1200 && wait4(pid, &st, WNOHANG, &r) == 0; i++)
		usleep(50000);
	if (wait4(pid, &st, WNOHANG, &r) == 0) {
		kill(pid, SIGKILL);
		wait4(pid, &st, 0, &r);
		tap_diag("hostctl still running at the 60 s guard: killed");
	}
	if (ru)
		*ru = r;
	clock_gettime(CLOCK_MONOTONIC, &t1); /* for the notes only: never asserted */
	tap_diag("hostctl ran %.2f s, peak RSS %ld KiB", t1.tv_sec - t0.tv_sec + (t1.tv_nsec - t0.tv_nsec) * 1e-9, r.ru_maxrss);
	FILE *f = fopen(file, "r");
	size_t n = f ? fread(out, 1, sizeof(out) - 1, f) : 0;
	out[n] = 0;
	if (f)
		fclose(f);
	char *copy = strdup(out);
	for (char *l = strtok(copy, "\n"); l; l = strtok(NULL, "\n"))
		tap_diag("  | %s", l);
	free(copy);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static char ofile[128];
static int run(struct rusage *ru, const char *fmt, const char *a, const char *b)
{
	char args[512];
	snprintf(args, sizeof(args), fmt, a, b);
	return finish(start(ofile, "%s", args), ofile, ru);
}

/* No byte below 0x20 but newline, no DEL, nothing above 0x7e. */
static int clean(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if ((*p < 0x20 && *p != '\n') || *p >= 0x7f)
			return 0;
	return 1;
}

static int lines(const char *s)
{
	int n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* B works: a grant and a status, whatever A did. */
static void b_unaffected(const char *what)
{
	static int q = 300;
	char qs[16];
	snprintf(qs, sizeof(qs), "%dM", q -= 4);
	int rc = run(NULL, "--timeout 2000 grant B --fast %s --agent %s", qs, B.agent);
	ok(rc == 0 && clean(out), "%s: grant on VM B unaffected (exit %d)", what, rc);
	rc = run(NULL, "--timeout 2000 status B --agent %s%s", B.agent, "");
	ok(rc == 0 && strstr(out, "agent ok") && clean(out), "%s: status of VM B ok", what);
}

static void corrupt(const char *name, const char *text, const char *want)
{
	FILE *f = fopen(state, "w");
	fputs(text, f);
	fclose(f);
	int rc = run(NULL, "status B --agent %s%s", B.agent, "");
	ok(rc == 1 && strstr(out, want) && lines(out) == 1 && clean(out), "corrupt state (%s): refused, naming it (exit %d)", name, rc);
}

#include "hostile_balance.h"

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const char *top = getenv("abs_top_srcdir"), *btop = getenv("abs_top_builddir");
	char p[512], hp[512];
	snprintf(p, sizeof(p), "%s/tests/unit/data/hostctl-mtree-2node.txt", top ? top : "../..");
	snprintf(hp, sizeof(hp), "%s/hostctl/hostctl", btop ? btop : "..");
	hostctl = hp;
	FILE *f = fopen(p, "r");
	static char mt[1 << 20];
	if (!f || !fread(mt, 1, sizeof(mt) - 1, f))
		tap_bail("captured QEMU output missing (tests/unit/data)");
	fclose(f);
	mtree = mt;
	vm_init(&A);
	vm_init(&B);
	snprintf(state, sizeof(state), "%s/state.json", A.dir);
	snprintf(ofile, sizeof(ofile), "%s/out", A.dir);
	usleep(100000);

	int rc = run(NULL, "grant %s --name A --fast 512M --slow 512M --agent %s", A.qmp, A.agent);
	ok(rc == 0, "VM A registered (exit %d)", rc);
	rc = run(NULL, "grant %s --name B --fast 512M --slow 512M --agent %s", B.qmp, B.agent);
	ok(rc == 0, "VM B registered (exit %d)", rc);
	/* A second link keeps the old inode alive: a rewrite in place would show in it. */
	struct stat s0, s1, stmp;
	char tmp[160], keep[160];
	snprintf(tmp, sizeof(tmp), "%s.tmp", state);
	snprintf(keep, sizeof(keep), "%s.keep", state);
	if (link(state, keep) < 0 || stat(keep, &s0) < 0)
		tap_bail("cannot link the state file");
	b_unaffected("honest agents");
	ok(stat(state, &s1) == 0 && s1.st_ino != s0.st_ino && stat(keep, &stmp) == 0 && stmp.st_size == s0.st_size &&
	   stmp.st_mtime == s0.st_mtime && stat(tmp, &stmp) < 0, "state file replaced by rename, the old one untouched, no temporary left");
	unlink(keep);

	/* Slow, valid one-page rounds: 65536 rounds of 150 ms would take 2.7 h. */
	A.mode = SLOW;
	A.rounds = A.commits = 0;
	rc = run(NULL, "--timeout 1000 grant A --fast 256M --chunk 1M --agent %s%s", A.agent, "");
	ok(rc == 1 && strstr(out, "agent too slow") && strstr(out, "below the minimum progress rate") && clean(out),
	   "slow rounds: stopped by the minimum rate (exit %d)", rc);
	ok(rc == 1 && A.rounds > 0 && A.rounds < 1000, "slow rounds: the agent had 65536 rounds to go, hostctl stopped after %d", A.rounds);
	f = fopen(state, "r");
	size_t n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = 0;
	fclose(f);
	char bal[64];
	snprintf(bal, sizeof(bal), "\"balloon\":%d", A.commits * HC_PAGE);
	ok(strstr(out, bal) && strstr(out, "\"agent_slow\""), "slow rounds: the %d punched pages are recorded, VM marked slow", A.commits);
	A.mode = HONEST;
	rc = run(NULL, "status A --agent %s%s", A.agent, "");
	ok(strstr(out, "agent too slow") && clean(out), "status of VM A: agent too slow");
	A.mode = SLOW;
	rc = run(NULL, "--timeout 1000 --deadline 1500 --min-rate 0 grant A --fast 128M --chunk 1M --agent %s%s", A.agent, "");
	ok(rc == 1 && strstr(out, "agent too slow") && strstr(out, "whole-operation deadline reached") && A.rounds < 32768,
	   "slow rounds, no minimum rate: the whole-operation deadline fired mid-round (exit %d)", rc);
	b_unaffected("slow rounds");

	/* One VM stalls (no rate, long deadline): the other is not delayed. */
	char afile[128];
	snprintf(afile, sizeof(afile), "%s/out-a", A.dir);
	A.mode = SLOW;
	A.rounds = 0;
	pid_t ap = start(afile, "--timeout 1000 --deadline 600000 --min-rate 0 grant A --fast 64M --chunk 1M --agent %s", A.agent);
	for (int i = 0; i < 1200 && A.rounds < 2; i++) /* guard */
		usleep(50000);
	b_unaffected("while A stalls");
	rc = run(NULL, "rebalance --dry-run --fast-capacity 100G%s%s", "", "");
	ok(rc == 0, "while A stalls: rebalance --dry-run runs (exit %d)", rc);
	ok(waitpid(ap, NULL, WNOHANG) == 0 && A.busy, "... and A's grant was still running meanwhile (round %d)", A.rounds);
	rc = run(NULL, "--deadline 1000 status A --agent %s%s", A.agent, "");
	ok(rc == 1 && strstr(out, "busy"), "a second command on the stalled VM A waits only its deadline (exit %d)", rc);
	kill(ap, SIGTERM);
	waitpid(ap, NULL, 0);

	/* Stale replies dripped before hello: 300 x 0.3 s, each inside its line time. */
	A.mode = STALE;
	rc = run(NULL, "--timeout 1000 status A --agent %s%s", A.agent, "");
	ok(rc == 1 && strstr(out, "agent hello: no reply within 1000 ms") && A.stale < 300 && clean(out),
	   "stale drip: one deadline for the call, the agent still dripping (%d of 300 sent)", A.stale);
	b_unaffected("stale drip");

	A.mode = HONEST;
	rc = run(NULL, "grant A --fast 256M --agent %s%s", A.agent, "");
	ok(rc == 0, "VM A: a grant within the deadlines clears the mark (exit %d)", rc);
	rc = run(NULL, "status A --agent %s%s", A.agent, "");
	ok(rc == 0 && strstr(out, "agent ok"), "status of VM A: agent ok again");

	/* Escape sequences in the agent's strings. */
	A.mode = ESCAPE;
	rc = run(NULL, "status A --agent %s%s", A.agent, "");
	ok(strstr(out, "\\x1b[2J") && clean(out), "escape in sysctl: shown escaped in status");
	rc = run(NULL, "status A --json --agent %s%s", A.agent, "");
	ok(strstr(out, "\\\\x1b[2J") && clean(out), "escape in sysctl: escaped in status --json");
	rc = run(NULL, "grant A --fast 250M --agent %s%s", A.agent, "");
	ok(rc == 1 && strstr(out, "\\x1b[2J") && strstr(out, "\\x0aB: fast") && clean(out), "escape in an error's why: escaped, no forged line");
	b_unaffected("escapes");

	/* A 1 MiB reply of {}: refused before json-c builds 270 MiB of tree.
	 * RSS is counted above hostctl's own at rest (shared libraries: libvirt
	 * alone maps ~12 MiB), so the bound is on what the input costs. */
	struct rusage ru;
	run(&ru, "--help%s%s", "", "");
	long base = ru.ru_maxrss;
	A.mode = BIG;
	rc = run(&ru, "status A --agent %s%s", A.agent, "");
	ok(rc == 1 && strstr(out, "reply refused"), "1 MiB {} reply refused (exit %d)", rc);
	ok(ru.ru_maxrss - base <= 16 * (HC_PROTO_MAX_LINE >> 10), "peak RSS %ld KiB above the %ld KiB at rest <= 16 x the %d KiB line bound",
	   ru.ru_maxrss - base, base, HC_PROTO_MAX_LINE >> 10);
	b_unaffected("1 MiB reply");

	/* QMP events trickled, each inside the line time, never the reply. */
	A.mode = QMP_TRICKLE;
	rc = run(NULL, "--timeout 1000 status A --agent %s%s", A.agent, "");
	ok(rc == 1 && strstr(out, "no reply within 1000 ms") && A.trickled > 0,
	   "QMP trickling events: the command's deadline fired while it trickled (exit %d)", rc);
	A.mode = QMP_BIG;
	rc = run(&ru, "status A --agent %s%s", A.agent, "");
	ok(rc == 1 && strstr(out, "no QMP greeting (reply refused"), "8 MiB QMP greeting of {}: refused unparsed (exit %d)", rc);
	ok(ru.ru_maxrss - base <= 16 * 1024, "peak RSS %ld KiB above rest <= 16 MiB (the old code: 2.1 GiB)", ru.ru_maxrss - base);
	A.mode = HONEST;
	b_unaffected("QMP trickle, QMP greeting");

	/* QMP with its backlog full: connect() would block for good. */
	char full[96];
	snprintf(full, sizeof(full), "%s/full.sock", A.dir);
	int lfd = listen_on(full, 0), c1 = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", full);
	for (int i = 0; i < 4; i++) {
		c1 = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
		connect(c1, (struct sockaddr *)&sa, sizeof(sa));
	}
	rc = run(NULL, "--timeout 1000 status %s --agent %s", full, A.agent);
	ok(rc == 1 && strstr(out, "busy (listen backlog full)"), "QMP backlog full: connect gave up (exit %d)", rc);
	close(lfd);

	/* A rebalance that shrinks both VMs, A's agent slow: A costs its own
	 * deadline, then B is balanced too. */
	A.mode = SLOW;
	A.rounds = 0;
	rc = run(NULL, "--timeout 1000 --min-rate 64M rebalance --fast-capacity 400M%s%s", "", "");
	ok(rc == 1 && strstr(out, "A: fast: agent too slow") && strstr(out, "B: fast quota") && A.rounds < 1000 && clean(out),
	   "rebalance: slow A stopped by the rate after %d rounds (exit %d)", A.rounds, rc);
	ok(strstr(out, "B: fast (node 0): balloon +") != NULL, "rebalance: B's balloon applied after A's was stopped");
	A.mode = HONEST;
	rc = run(NULL, "rebalance --fast-capacity 0%s%s", "", "");
	ok(rc == 0, "rebalance: capacity lifted, both VMs back to their grants (exit %d)", rc);

	/* Corrupt state files: refused by field, never a crash. */
	corrupt("class null", "{\"vms\":[{\"name\":\"B\",\"qmp\":\"/x\",\"class\":null}]}", "vms[0].class is not a string");
	corrupt("negative want", "{\"vms\":[{\"name\":\"B\",\"qmp\":\"/x\",\"fast\":{\"want\":-1}}]}", "vms[0].fast.want is out of range");
	corrupt("want a string", "{\"vms\":[{\"name\":\"B\",\"qmp\":\"/x\",\"slow\":{\"want\":\"1G\"}}]}", "vms[0].slow.want is not an integer");
	corrupt("name missing", "{\"vms\":[{\"qmp\":\"/x\"}]}", "vms[0].name is missing");
	corrupt("capacity negative", "{\"capacity\":{\"fast\":-5}}", "capacity.fast is out of range");
	corrupt("vms not an array", "{\"vms\":{}}", "vms is not an array");
	corrupt("escape in a name", "{\"vms\":[{\"name\":\"\\u001b[2J\",\"qmp\":\"/x\"}]}", "vms[0].name has a control character");
	f = fopen(state, "w");
	fputs("{\"vms\":[", f);
	for (int i = 0; i < (5 << 20) / 8; i++)
		fputs("        ", f);
	fclose(f);
	rc = run(NULL, "status B --agent %s%s", B.agent, "");
	ok(rc == 1 && strstr(out, "larger than"), "state file over the size cap refused unread (exit %d)", rc);

	balance_cases();

	char rm[1024];
	snprintf(rm, sizeof(rm), "rm -rf %s %s %s %s %s %s", A.dir, B.dir, A.fast, A.slow, B.fast, B.slow);
	if (system(rm) != 0)
		tap_diag("cleanup failed: %s", rm);
	return tap_done();
}
