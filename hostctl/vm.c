/* vm.c - discovery through QMP.
 *
 * Which memdev backs which NUMA node is not exported by QMP in QEMU 7.2.
 * QEMU lays the boot memory of the nodes out in node order inside its "ram"
 * container (hw/core/numa.c), and the pc/q35 machines map that container
 * in order (below 4 GiB, then above), so the order in which memdevs first
 * appear in the flat view is the node order of the nodes that have memory.
 * We cross-check every node's size from `info numa` against its memdev and
 * refuse on any mismatch. Memdevs of memory devices (pc-dimm, virtio-mem)
 * carry their node explicitly in query-memory-devices and are not tiers. */
#include "vm.h"
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#ifndef HUGETLBFS_MAGIC
#define HUGETLBFS_MAGIC 0x958458f6
#endif

int hc_parse_info_numa(const char *text, struct hc_numa_node *nodes, int max)
{
	int n = -1;
	if (sscanf(text, "%d nodes", &n) != 1 || n < 0 || n > max)
		return -1;
	for (int i = 0; i < n; i++)
		nodes[i].cpus = 0, nodes[i].size = 0;
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		int id, off = 0;
		unsigned long long mb;
		if (sscanf(p, "node %d cpus:%n", &id, &off) == 1 && off && id >= 0 && id < n) {
			const char *q = p + off;
			while (*q == ' ')
				q++;
			nodes[id].cpus = *q >= '0' && *q <= '9';
		} else if (sscanf(p, "node %d size: %llu MB", &id, &mb) == 2 && id >= 0 && id < n) {
			nodes[id].size += mb << 20;
		} else if (sscanf(p, "node %d plugged: %llu MB", &id, &mb) == 2 && id >= 0 && id < n) {
			nodes[id].size -= mb << 20; /* pc-dimm / virtio-mem: not boot memory */
		}
	}
	return n;
}

int hc_chardev_unix_path(const char *fn, char *path, size_t len)
{
	if (!strncmp(fn, "disconnected:", 13))
		fn += 13;
	if (strncmp(fn, "unix:", 5))
		return -1;
	fn += 5;
	size_t n = strcspn(fn, ",");
	if (n == 0 || n >= len)
		return -1;
	memcpy(path, fn, n);
	path[n] = 0;
	return 0;
}

/* QMP replies are checked for type before use: json-c asserts on a length
 * asked of a non-array, and a JSON null reads as a NULL string. */
static size_t arr_len(json_object *l) { return json_object_is_type(l, json_type_array) ? json_object_array_length(l) : 0; }
static const char *str_of(json_object *o, const char *key, const char *def)
{
	json_object *x;
	return json_object_object_get_ex(o, key, &x) && json_object_is_type(x, json_type_string) ? json_object_get_string(x) : def;
}

static int check_migration(struct hc_vm *vm, char *why)
{
	json_object *r = hc_qmp_exec(&vm->qmp, "query-migrate", NULL, why);
	if (!r)
		return -1;
	const char *s = str_of(r, "status", "none");
	static const char *const idle[] = { "none", "completed", "failed", "cancelled", NULL };
	int ok = 0;
	for (int i = 0; idle[i]; i++)
		ok |= !strcmp(s, idle[i]);
	if (!ok)
		snprintf(why, HC_WHY, "refused: migration in progress (status %s); punching would race the copy", s);
	json_object_put(r);
	if (!ok)
		return -1;
	r = hc_qmp_exec(&vm->qmp, "query-status", NULL, why);
	if (!r)
		return -1;
	s = str_of(r, "status", "");
	ok = strcmp(s, "inmigrate") && strcmp(s, "postmigrate") && strcmp(s, "finish-migrate");
	if (!ok)
		snprintf(why, HC_WHY, "refused: VM is in run state %s (migration)", s);
	json_object_put(r);
	return ok ? 0 : -1;
}

/* Walk user-created devices: refuse VFIO, find the agent's virtserialport. */
static int scan_devices(struct hc_vm *vm, char *chardev, size_t clen, char *why)
{
	static const char *const roots[] = { "/machine/peripheral", "/machine/peripheral-anon" };
	chardev[0] = 0;
	for (int i = 0; i < 2; i++) {
		json_object *a = json_object_new_object();
		json_object_object_add(a, "path", json_object_new_string(roots[i]));
		json_object *l = hc_qmp_exec(&vm->qmp, "qom-list", a, why);
		if (!l)
			return -1;
		for (size_t k = 0; k < arr_len(l); k++) {
			json_object *e = json_object_array_get_idx(l, k);
			const char *type = str_of(e, "type", NULL), *name = str_of(e, "name", NULL);
			if (!type || !name)
				continue;
			if (!strncmp(type, "child<vfio", 10)) {
				snprintf(why, HC_WHY, "refused: VFIO device %s/%s present; its DMA mappings pin guest memory, punching under them is unsafe", roots[i], name);
				json_object_put(l);
				return -1;
			}
			if (strcmp(type, "child<virtserialport>") || chardev[0])
				continue;
			char p[512], w[HC_WHY];
			snprintf(p, sizeof(p), "%s/%s", roots[i], name);
			char *pn = hc_qmp_qom_str(&vm->qmp, p, "name", w);
			if (pn && !strcmp(pn, HC_PORT_NAME)) {
				char *cd = hc_qmp_qom_str(&vm->qmp, p, "chardev", w);
				if (cd)
					snprintf(chardev, clen, "%s", cd);
				free(cd);
			}
			free(pn);
		}
		json_object_put(l);
	}
	return 0;
}

static int find_agent_socket(struct hc_vm *vm, const char *chardev, char *why)
{
	json_object *l = hc_qmp_exec(&vm->qmp, "query-chardev", NULL, why);
	if (!l)
		return -1;
	int rc = -1;
	for (size_t k = 0; k < arr_len(l); k++) {
		json_object *e = json_object_array_get_idx(l, k);
		const char *lb = str_of(e, "label", NULL), *fn = str_of(e, "filename", NULL);
		if (lb && fn && !strcmp(lb, chardev))
			rc = hc_chardev_unix_path(fn, vm->agent_path, sizeof(vm->agent_path));
	}
	json_object_put(l);
	if (rc < 0)
		snprintf(why, HC_WHY, "chardev %s of port " HC_PORT_NAME " is not a unix socket", chardev);
	return rc;
}

struct memdev { char id[64]; uint64_t size; int share, device, node; uint64_t first_gpa; };

static int open_backend(struct hc_vm *vm, struct hc_tier *t, const struct memdev *m, char *why)
{
	char p[128];
	snprintf(p, sizeof(p), "/objects/%s", m->id);
	if (!m->share) {
		snprintf(why, HC_WHY, "refused: memdev %s has share=off; QEMU keeps a private copy, punching its file frees nothing", m->id);
		return -1;
	}
	char w[HC_WHY];
	char *mp = hc_qmp_qom_str(&vm->qmp, p, "mem-path", w);
	if (!mp) {
		snprintf(why, HC_WHY, "refused: memdev %s is not a memory-backend-file (%s)", m->id, w);
		return -1;
	}
	snprintf(t->memdev, sizeof(t->memdev), "%s", m->id);
	snprintf(t->path, sizeof(t->path), "%s", mp);
	free(mp);
	t->size = m->size;
	struct stat st;
	struct statfs sf;
	t->fd = open(t->path, O_RDWR | O_CLOEXEC);
	if (t->fd < 0 || fstat(t->fd, &st) < 0) {
		snprintf(why, HC_WHY, "cannot open %s of memdev %s: %s", t->path, m->id, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size < t->size) {
		snprintf(why, HC_WHY, "refused: mem-path %s of %s is not a file of the backend's size (a directory makes QEMU use an unlinked file)", t->path, m->id);
		return -1;
	}
	if (fstatfs(t->fd, &sf) == 0 && sf.f_type == HUGETLBFS_MAGIC) {
		snprintf(why, HC_WHY, "refused: %s is on hugetlbfs; the balloon works in 4 KiB pages", t->path);
		return -1;
	}
	return 0;
}

int hc_vm_attach(struct hc_vm *vm, const char *qmp_path, const struct hc_attach_opts *o, char *why)
{
	memset(vm, 0, sizeof(*vm));
	vm->qmp.ch.fd = -1;
	for (int i = 0; i < HC_NTIERS; i++)
		vm->tier[i].fd = -1;
	if (hc_qmp_open(&vm->qmp, qmp_path, o->timeout_ms, why) < 0)
		return -1;
	char chardev[128];
	if (check_migration(vm, why) < 0 || scan_devices(vm, chardev, sizeof(chardev), why) < 0)
		return -1;
	if (o->agent_path)
		snprintf(vm->agent_path, sizeof(vm->agent_path), "%s", o->agent_path);
	else if (vm->qmp.ops->agent_path) { /* libvirt: the domain XML names it */
		if (vm->qmp.ops->agent_path(&vm->qmp, vm->agent_path, sizeof(vm->agent_path), why) < 0)
			return -1;
	} else if (!chardev[0]) {
		snprintf(why, HC_WHY, "no virtserialport named " HC_PORT_NAME " in the VM");
		return -1;
	} else if (find_agent_socket(vm, chardev, why) < 0)
		return -1;

	/* memdevs */
	struct memdev md[64];
	int nmd = 0;
	json_object *l = hc_qmp_exec(&vm->qmp, "query-memdev", NULL, why);
	if (!l)
		return -1;
	for (size_t k = 0; k < arr_len(l) && nmd < 64; k++) {
		json_object *e = json_object_array_get_idx(l, k), *x;
		struct memdev *m = &md[nmd];
		memset(m, 0, sizeof(*m));
		m->node = -1;
		m->first_gpa = UINT64_MAX;
		if (!str_of(e, "id", NULL))
			continue; /* an unnamed backend (-m without memdev) */
		snprintf(m->id, sizeof(m->id), "%s", str_of(e, "id", NULL));
		m->size = json_object_object_get_ex(e, "size", &x) ? (uint64_t)json_object_get_int64(x) : 0;
		m->share = json_object_object_get_ex(e, "share", &x) && json_object_get_boolean(x);
		nmd++;
	}
	json_object_put(l);
	l = hc_qmp_exec(&vm->qmp, "query-memory-devices", NULL, why);
	if (!l)
		return -1;
	for (size_t k = 0; k < arr_len(l); k++) {
		json_object *d;
		const char *md_path;
		if (!json_object_object_get_ex(json_object_array_get_idx(l, k), "data", &d) ||
		    !(md_path = str_of(d, "memdev", NULL)))
			continue;
		const char *p = strrchr(md_path, '/');
		for (int i = 0; i < nmd; i++)
			if (p && !strcmp(md[i].id, p + 1))
				md[i].device = 1;
	}
	json_object_put(l);

	/* guest-physical map */
	char *mt = hc_qmp_hmp(&vm->qmp, "info mtree -f", why);
	if (!mt)
		return -1;
	struct hc_seg *segs = NULL;
	size_t nsegs = 0;
	int rc = hc_mtree_parse(mt, &segs, &nsegs, why);
	free(mt);
	if (rc < 0)
		return -1;
	for (size_t s = 0; s < nsegs; s++)
		for (int i = 0; i < nmd; i++)
			if (segs[s].ram && !strcmp(segs[s].mr, md[i].id) && segs[s].gpa < md[i].first_gpa)
				md[i].first_gpa = segs[s].gpa;

	/* nodes: boot memdevs in guest-physical order = nodes with memory in id order */
	struct hc_numa_node nodes[64];
	char *numa = hc_qmp_hmp(&vm->qmp, "info numa", why);
	int nn = numa ? hc_parse_info_numa(numa, nodes, 64) : -1;
	free(numa);
	if (nn < 2) {
		snprintf(why, HC_WHY, "refused: the VM has %d NUMA node(s); tiers need two", nn < 0 ? 0 : nn);
		free(segs);
		return -1;
	}
	vm->nnodes = nn;
	int used[64] = { 0 };
	for (int node = 0; node < nn; node++) {
		if (!nodes[node].size)
			continue;
		int best = -1;
		for (int i = 0; i < nmd; i++)
			if (!md[i].device && !used[i] && md[i].first_gpa != UINT64_MAX &&
			    (best < 0 || md[i].first_gpa < md[best].first_gpa))
				best = i;
		if (best < 0 || md[best].size >> 20 != nodes[node].size >> 20) {
			snprintf(why, HC_WHY, "refused: cannot tell which memdev backs node %d (sizes disagree: every node needs its own memdev)", node);
			free(segs);
			return -1;
		}
		used[best] = 1;
		md[best].node = node;
	}
	int want[HC_NTIERS] = { o->fast_node, o->slow_node };
	for (int node = 0; node < nn && want[HC_FAST] < 0; node++)
		if (nodes[node].size && nodes[node].cpus)
			want[HC_FAST] = node;
	for (int node = 0; node < nn && want[HC_SLOW] < 0; node++)
		if (nodes[node].size && !nodes[node].cpus)
			want[HC_SLOW] = node;
	for (int t = 0; t < HC_NTIERS; t++) {
		int i;
		for (i = 0; i < nmd; i++)
			if (want[t] >= 0 && md[i].node == want[t])
				break;
		if (i == nmd || want[HC_FAST] == want[HC_SLOW]) {
			snprintf(why, HC_WHY, "refused: no %s-tier node with its own memdev (fast: node with CPUs, slow: CPU-less node; see --fast-node/--slow-node)", hc_tier_name[t]);
			free(segs);
			return -1;
		}
		vm->tier[t].node = want[t];
		if (open_backend(vm, &vm->tier[t], &md[i], why) < 0 || hc_tier_set_segs(&vm->tier[t], segs, nsegs, why) < 0) {
			free(segs);
			return -1;
		}
	}
	free(segs);
	return hc_vm_vmem_query(vm, why);
}

int hc_vm_vmem_query(struct hc_vm *vm, char *why)
{
	json_object *l = hc_qmp_exec(&vm->qmp, "query-memory-devices", NULL, why);
	if (!l)
		return -1;
	for (int t = 0; t < HC_NTIERS; t++)
		vm->vmem[t].present = 0;
	for (size_t k = 0; k < arr_len(l); k++) {
		json_object *e = json_object_array_get_idx(l, k), *ty, *d, *x;
		if (strcmp(str_of(e, "type", ""), "virtio-mem") || !json_object_object_get_ex(e, "data", &d) ||
		    !str_of(d, "id", NULL))
			continue; /* an anonymous device cannot be addressed by qom-set */
		int node = json_object_object_get_ex(d, "node", &ty) ? json_object_get_int(ty) : -1;
		for (int t = 0; t < HC_NTIERS; t++) {
			struct hc_vmem *v = &vm->vmem[t];
			if (node != vm->tier[t].node || v->present)
				continue;
			snprintf(v->id, sizeof(v->id), "%s", str_of(d, "id", ""));
			v->block = json_object_object_get_ex(d, "block-size", &x) ? (uint64_t)json_object_get_int64(x) : 0;
			v->max = json_object_object_get_ex(d, "max-size", &x) ? (uint64_t)json_object_get_int64(x) : 0;
			v->size = json_object_object_get_ex(d, "size", &x) ? (uint64_t)json_object_get_int64(x) : 0;
			v->requested = json_object_object_get_ex(d, "requested-size", &x) ? (uint64_t)json_object_get_int64(x) : 0;
			v->present = v->block > 0;
		}
	}
	json_object_put(l);
	return 0;
}

int hc_vm_vmem_resize(struct hc_vm *vm, int t, uint64_t bytes, int wait_ms, char *why)
{
	struct hc_vmem *v = &vm->vmem[t];
	char path[128];
	snprintf(path, sizeof(path), "/machine/peripheral/%s", v->id);
	json_object *a = json_object_new_object();
	json_object_object_add(a, "path", json_object_new_string(path));
	json_object_object_add(a, "property", json_object_new_string("requested-size"));
	json_object_object_add(a, "value", json_object_new_int64((int64_t)bytes));
	json_object *r = hc_qmp_exec(&vm->qmp, "qom-set", a, why);
	if (!r)
		return -1;
	json_object_put(r);
	/* The guest plugs/unplugs asynchronously; QEMU reports progress in size. */
	for (int waited = 0;; waited += 100) {
		if (hc_vm_vmem_query(vm, why) < 0)
			return -1;
		if (v->size == bytes)
			return 0;
		if (waited >= wait_ms) {
			snprintf(why, HC_WHY, "virtio-mem %s: guest reached %llu of %llu MiB in %d ms (is virtio_mem loaded, memory onlined movable?)",
				 v->id, (unsigned long long)(v->size >> 20), (unsigned long long)(bytes >> 20), wait_ms);
			return 1;
		}
		usleep(100000);
	}
}

void hc_vm_detach(struct hc_vm *vm)
{
	for (int t = 0; t < HC_NTIERS; t++)
		hc_tier_release(&vm->tier[t]);
	hc_qmp_close(&vm->qmp);
}
