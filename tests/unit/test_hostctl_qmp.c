/* test_hostctl_qmp.c - QMP client and VM discovery against a fake QMP server
 * that replays what QEMU 7.2 answered for a 2-node VM (captured with
 * `info mtree -f` / `info numa` from a real run; see data/), plus refusals:
 * VFIO, migration, share=off, memfd, one node, mismatched sizes, silence. */
#include "tap.h"
#include "vm.h"
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MiB (1ULL << 20)

struct fake {
	int lfd;
	const char *mtree, *numa, *migrate, *runstate;
	int vfio, share_off, memfd, silent, qmp_error;
	char fast_path[64], slow_path[64];
};

static char *slurp(const char *rel)
{
	const char *top = getenv("abs_top_srcdir");
	char p[1024];
	snprintf(p, sizeof(p), "%s/tests/unit/data/%s", top ? top : "../..", rel);
	FILE *f = fopen(p, "r");
	if (!f)
		tap_bail("captured QEMU output missing (tests/unit/data)");
	char *b = calloc(1, 1 << 20);
	if (!b)
		tap_bail("out of memory");
	size_t n = fread(b, 1, (1 << 20) - 1, f);
	b[n] = 0;
	fclose(f);
	return b; /* the caller frees it */
}

static const char *arg_str(json_object *m, const char *k)
{
	json_object *a, *x;
	if (json_object_object_get_ex(m, "arguments", &a) && json_object_object_get_ex(a, k, &x))
		return json_object_get_string(x);
	return "";
}

static json_object *answer(struct fake *f, json_object *m)
{
	json_object *c;
	json_object_object_get_ex(m, "execute", &c);
	const char *cmd = json_object_get_string(c);
	if (!strcmp(cmd, "qmp_capabilities") || !strcmp(cmd, "query-memory-devices"))
		return json_tokener_parse(strcmp(cmd, "qmp_capabilities") ? "[]" : "{}");
	if (!strcmp(cmd, "query-migrate")) {
		char b[128];
		snprintf(b, sizeof(b), f->migrate ? "{\"status\":\"%s\"}" : "{}", f->migrate);
		return json_tokener_parse(b);
	}
	if (!strcmp(cmd, "query-status")) {
		char b[128];
		snprintf(b, sizeof(b), "{\"status\":\"%s\",\"running\":true}", f->runstate ? f->runstate : "running");
		return json_tokener_parse(b);
	}
	if (!strcmp(cmd, "qom-list")) {
		if (!strcmp(arg_str(m, "path"), "/machine/peripheral"))
			return json_tokener_parse("[{\"name\":\"type\",\"type\":\"string\"}]");
		return json_tokener_parse(f->vfio ?
			"[{\"name\":\"device[0]\",\"type\":\"child<virtio-serial-pci>\"},{\"name\":\"device[1]\",\"type\":\"child<virtserialport>\"},{\"name\":\"device[2]\",\"type\":\"child<vfio-pci>\"}]" :
			"[{\"name\":\"type\",\"type\":\"string\"},{\"name\":\"device[0]\",\"type\":\"child<virtio-serial-pci>\"},{\"name\":\"device[1]\",\"type\":\"child<virtserialport>\"}]");
	}
	if (!strcmp(cmd, "qom-get")) {
		const char *p = arg_str(m, "path"), *prop = arg_str(m, "property");
		if (!strcmp(prop, "name"))
			return json_object_new_string("org.hypertier.0");
		if (!strcmp(prop, "chardev"))
			return json_object_new_string("ch0");
		if (!strcmp(p, "/objects/mfast"))
			return json_object_new_string(f->fast_path);
		if (!strcmp(p, "/objects/mslow") && !f->memfd)
			return json_object_new_string(f->slow_path);
		return NULL; /* -> GenericError */
	}
	if (!strcmp(cmd, "query-chardev"))
		return json_tokener_parse("[{\"label\":\"serial0\",\"filename\":\"stdio\"},{\"label\":\"ch0\",\"filename\":\"disconnected:unix:/run/vm1/ch0.sock,server=on\"}]");
	if (!strcmp(cmd, "query-memdev")) {
		char b[512];
		snprintf(b, sizeof(b), "[{\"id\":\"mslow\",\"size\":536870912,\"share\":true},{\"id\":\"mfast\",\"size\":536870912,\"share\":%s}]",
			 f->share_off ? "false" : "true");
		return json_tokener_parse(b);
	}
	if (!strcmp(cmd, "human-monitor-command")) {
		const char *l = arg_str(m, "command-line");
		return json_object_new_string(!strcmp(l, "info numa") ? f->numa : f->mtree);
	}
	return NULL;
}

static void *server(void *arg)
{
	struct fake *f = arg;
	int fd = accept(f->lfd, NULL, NULL);
	if (fd < 0)
		return NULL;
	FILE *in = fdopen(fd, "r"), *out = fdopen(dup(fd), "w");
	if (f->silent) {
		char b[64];
		while (fgets(b, sizeof(b), in))
			;
		goto done;
	}
	fputs("{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 22, \"minor\": 2, \"major\": 7}}, \"capabilities\": [\"oob\"]}}\r\n", out);
	fflush(out);
	static char line[1 << 16];
	while (fgets(line, sizeof(line), in)) {
		json_object *m = json_tokener_parse(line), *id = NULL;
		if (!m)
			break;
		json_object_object_get_ex(m, "id", &id);
		/* An event and a reply to someone else's id come first: both must be skipped. */
		fputs("{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, \"event\": \"RTC_CHANGE\", \"data\": {\"offset\": 0}}\r\n", out);
		fputs("{\"return\": {}, \"id\": 999999}\r\n", out);
		json_object *r = f->qmp_error ? NULL : answer(f, m);
		json_object *o = json_object_new_object();
		if (r) {
			json_object_object_add(o, "return", r);
		} else {
			json_object *e = json_object_new_object();
			json_object_object_add(e, "class", json_object_new_string("GenericError"));
			json_object_object_add(e, "desc", json_object_new_string("Property not found"));
			json_object_object_add(o, "error", e);
		}
		if (id)
			json_object_object_add(o, "id", json_object_get(id));
		fprintf(out, "%s\r\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		fflush(out);
		json_object_put(o);
		json_object_put(m);
	}
done:
	fclose(in);
	fclose(out);
	return NULL;
}

static char sock[108];

static int attach_case(struct fake *f, struct hc_vm *vm, char *why, double *secs)
{
	unlink(sock);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	strcpy(sa.sun_path, sock);
	f->lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(f->lfd, 1) < 0)
		tap_bail("cannot listen on a unix socket");
	pthread_t th;
	pthread_create(&th, NULL, server, f);
	struct hc_attach_opts o = { .timeout_ms = 500, .fast_node = -1, .slow_node = -1 };
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	int rc = hc_vm_attach(vm, sock, &o, why);
	clock_gettime(CLOCK_MONOTONIC, &b);
	if (secs)
		*secs = b.tv_sec - a.tv_sec + (b.tv_nsec - a.tv_nsec) * 1e-9;
	hc_qmp_close(&vm->qmp);
	pthread_join(th, NULL);
	close(f->lfd);
	return rc;
}

static struct fake base(const char *mtree, const char *numa, const char *fp, const char *sp)
{
	struct fake f = { .mtree = mtree, .numa = numa };
	snprintf(f.fast_path, sizeof(f.fast_path), "%s", fp);
	snprintf(f.slow_path, sizeof(f.slow_path), "%s", sp);
	return f;
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	char why[HC_WHY];
	char *mtree = slurp("hostctl-mtree-2node.txt");
	const char *numa = "2 nodes\r\nnode 0 cpus: 0 1\r\nnode 0 size: 512 MB\r\nnode 0 plugged: 0 MB\r\nnode 1 cpus:\r\nnode 1 size: 512 MB\r\nnode 1 plugged: 0 MB\r\n";
	snprintf(sock, sizeof(sock), "/tmp/ht-hostctl-qmp-%d.sock", getpid());
	char fp[] = "/dev/shm/ht-hostctl-fast-XXXXXX", sp[] = "/dev/shm/ht-hostctl-slow-XXXXXX";
	int ffd = mkstemp(fp), sfd = mkstemp(sp);
	if (ffd < 0 || sfd < 0 || ftruncate(ffd, 512 * MiB) < 0 || ftruncate(sfd, 512 * MiB) < 0)
		tap_bail("cannot create backend files in /dev/shm");

	/* pure parsers */
	struct hc_numa_node nodes[8];
	int nn = hc_parse_info_numa(numa, nodes, 8);
	ok(nn == 2 && nodes[0].cpus && !nodes[1].cpus && nodes[1].size == 512 * MiB, "info numa: 2 nodes, node 1 CPU-less, 512 MiB");
	nn = hc_parse_info_numa("2 nodes\r\nnode 0 cpus: 0\r\nnode 0 size: 512 MB\r\nnode 0 plugged: 0 MB\r\n"
				"node 1 cpus:\r\nnode 1 size: 640 MB\r\nnode 1 plugged: 128 MB\r\n", nodes, 8);
	ok(nn == 2 && nodes[1].size == 512 * MiB, "info numa: memory plugged by virtio-mem is not boot memory");
	char path[256];
	ok(hc_chardev_unix_path("disconnected:unix:/run/a b/ch0.sock,server=on", path, sizeof(path)) == 0 &&
	   !strcmp(path, "/run/a b/ch0.sock"), "chardev filename -> socket path");
	ok(hc_chardev_unix_path("pty:/dev/pts/3", path, sizeof(path)) < 0, "non-unix chardev refused");
	char dom[64], uri[128];
	ok(hc_libvirt_spec("libvirt:vm1", dom, sizeof(dom), uri, sizeof(uri)) == 1 && !strcmp(dom, "vm1") &&
	   !strcmp(uri, "qemu:///system"), "libvirt:vm1 -> vm1 on qemu:///system");
	ok(hc_libvirt_spec("libvirt:vm1@qemu+ssh://root@h/system", dom, sizeof(dom), uri, sizeof(uri)) == 1 &&
	   !strcmp(dom, "vm1") && !strcmp(uri, "qemu+ssh://root@h/system"), "libvirt:NAME@URI splits at the first @");
	ok(hc_libvirt_spec("libvirt:", dom, sizeof(dom), uri, sizeof(uri)) < 0 &&
	   hc_libvirt_spec("libvirt:@qemu:///system", dom, sizeof(dom), uri, sizeof(uri)) < 0 &&
	   hc_libvirt_spec("libvirt:vm1@", dom, sizeof(dom), uri, sizeof(uri)) < 0, "libvirt spec without a name or URI refused");
	ok(hc_libvirt_spec("/run/vm1/qmp.sock", dom, sizeof(dom), uri, sizeof(uri)) == 0, "a socket path is no libvirt spec");

	struct hc_seg *segs;
	size_t n = 0;
	int rc;
	rc = hc_mtree_parse(mtree, &segs, &n, why);
	ok(rc == 0 && n == 16, "mtree (2 nodes): 16 ranges in the system flat view (%zu)", n);
	ok(segs[4].gpa == 0x100000 && segs[4].len == 0x1ff00000 && segs[4].off == 0x100000 && segs[4].ram &&
	   !strcmp(segs[4].mr, "mfast"), "mtree: mfast at 1 MiB with offset 1 MiB");
	ok(segs[5].gpa == 0x20000000 && segs[5].off == 0 && !strcmp(segs[5].mr, "mslow"), "mtree: mslow at 512 MiB, offset 0");
	ok(!segs[1].ram && !strcmp(segs[1].mr, "mfast"), "mtree: the BIOS shadow of mfast is rom, not ram");
	free(segs);
	/* overlapping ranges: refused, the message names the address (it was printed from freed memory) */
	ok(hc_mtree_parse("FlatView #0\n AS \"memory\", root: system\n Root memory region: system\n"
			  "  0000000000000000-000000001fffffff (prio 0, ram): mfast\n"
			  "  0000000010000000-000000003fffffff (prio 0, ram): mslow\n", &segs, &n, why) < 0 &&
	   strstr(why, "overlapping ranges in the flat view at 0x10000000"), "mtree: overlapping ranges refused: %s", why);
	char *big = slurp("hostctl-mtree-5g.txt");
	ok(hc_mtree_parse(big, &segs, &n, why) == 0, "mtree (5 GiB, split at 4 GiB) parsed");
	struct hc_tier cxl = { .memdev = "cxl", .size = 2560 * MiB, .fd = -1 };
	ok(hc_tier_set_segs(&cxl, segs, n, why) == 0 && cxl.nsegs == 2, "cxl backs two guest ranges (below and above 4 GiB)");
	struct hc_range r[2] = { { 0xbffff000, 0x1000 }, { 0x100000000, 0x2000 } };
	struct hc_extent e[4];
	size_t ne;
	ok(hc_tier_check(&cxl, r, 2, 1 * MiB, e, 4, &ne, why) == 0 && ne == 1 && e[0].off == 0x1ffff000 && e[0].len == 0x3000,
	   "gpa 0x100000000 maps to offset 0x20000000, contiguous with the page below 4 GiB");
	struct hc_range hole = { 0xc0000000, 0x1000 };
	ok(hc_tier_check(&cxl, &hole, 1, 1 * MiB, e, 4, &ne, why) < 0, "the PCI hole is not the tier's RAM");
	hc_tier_release(&cxl);
	free(segs);
	free(big);
	ok(hc_mtree_parse("garbage\n", &segs, &n, why) < 0, "text without a flat view refused (%s)", why);

	/* discovery against the fake QEMU */
	struct hc_vm vm;
	struct fake f = base(mtree, numa, fp, sp);
	rc = attach_case(&f, &vm, why, NULL);
	ok(rc == 0, "attach: happy path (%s)", rc ? why : "ok");
	if (rc == 0) {
		ok(vm.tier[HC_FAST].node == 0 && !strcmp(vm.tier[HC_FAST].memdev, "mfast") && !strcmp(vm.tier[HC_FAST].path, fp),
		   "fast tier: node 0 (has CPUs), mfast, its mem-path");
		ok(vm.tier[HC_SLOW].node == 1 && !strcmp(vm.tier[HC_SLOW].memdev, "mslow"), "slow tier: CPU-less node 1, mslow");
		ok(vm.tier[HC_FAST].nsegs == 3 && vm.tier[HC_SLOW].nsegs == 1, "tiers keep only their ram ranges (fast 3, slow 1)");
		ok(!strcmp(vm.agent_path, "/run/vm1/ch0.sock"), "agent socket found through port name -> chardev -> filename");
		ok(vm.tier[HC_FAST].fd >= 0 && vm.tier[HC_SLOW].fd >= 0, "backend files opened");
	}
	hc_vm_detach(&vm);

	static const struct { const char *name, *want; int field; const char *s; } bad[] = {
		{ "VFIO device", "VFIO", 1, NULL },
		{ "migration active", "migration in progress", 2, "active" },
		{ "postcopy", "migration in progress", 2, "postcopy-active" },
		{ "incoming migration", "run state inmigrate", 3, "inmigrate" },
		{ "share=off", "share=off", 4, NULL },
		{ "memfd backend", "not a memory-backend-file", 5, NULL },
		{ "single node", "NUMA node", 6, "1 nodes\r\nnode 0 cpus: 0\r\nnode 0 size: 1024 MB\r\n" },
		{ "sizes disagree", "which memdev backs node", 6, "2 nodes\r\nnode 0 cpus: 0 1\r\nnode 0 size: 256 MB\r\nnode 1 cpus:\r\nnode 1 size: 768 MB\r\n" },
		{ "two nodes with CPUs", "slow-tier node", 6, "2 nodes\r\nnode 0 cpus: 0\r\nnode 0 size: 512 MB\r\nnode 1 cpus: 1\r\nnode 1 size: 512 MB\r\n" },
		{ "QMP error", "GenericError: Property not found", 7, NULL },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		f = base(mtree, numa, fp, sp);
		switch (bad[i].field) {
		case 1: f.vfio = 1; break;
		case 2: f.migrate = bad[i].s; break;
		case 3: f.runstate = bad[i].s; break;
		case 4: f.share_off = 1; break;
		case 5: f.memfd = 1; break;
		case 6: f.numa = bad[i].s; break;
		case 7: f.qmp_error = 1; break;
		}
		rc = attach_case(&f, &vm, why, NULL);
		ok(rc < 0 && strstr(why, bad[i].want), "%s: refused (%s)", bad[i].name, why);
		hc_vm_detach(&vm);
	}
	f = base(mtree, numa, fp, "/dev/shm/ht-hostctl-does-not-exist");
	rc = attach_case(&f, &vm, why, NULL);
	ok(rc < 0 && strstr(why, "cannot open"), "missing mem-path: refused (%s)", why);
	hc_vm_detach(&vm);

	double secs;
	f = base(mtree, numa, fp, sp);
	f.silent = 1;
	rc = attach_case(&f, &vm, why, &secs);
	ok(rc < 0 && strstr(why, "no QMP greeting"), "silent QMP server: the deadline fired (%s, %.2f s)", why, secs);
	hc_vm_detach(&vm);

	unlink(sock);
	unlink(fp);
	unlink(sp);
	free(mtree);
	return tap_done();
}
