/* vm.h - attach to a running VM through QMP and discover its tiers. */
#ifndef HC_VM_H
#define HC_VM_H
#include "qmp.h"
#include "tier.h"

/* A virtio-mem device on a tier's node: coarse changes in block-size steps. */
struct hc_vmem {
	char id[64];                /* device id (/machine/peripheral/ID) */
	uint64_t block, max, size, requested;
	int present;
};

struct hc_vm {
	struct hc_qmp qmp;
	struct hc_tier tier[HC_NTIERS];
	struct hc_vmem vmem[HC_NTIERS];
	char agent_path[PATH_MAX];  /* host end of the org.hypertier.0 port */
	int nnodes;
};

struct hc_attach_opts {
	int timeout_ms;
	int fast_node, slow_node;   /* -1: the node with CPUs / the CPU-less one */
	const char *agent_path;     /* NULL: find the port's chardev via QMP */
};

/* Connect, refuse unsafe setups (VFIO device, migration), map tiers. */
int hc_vm_attach(struct hc_vm *vm, const char *qmp_path, const struct hc_attach_opts *o, char *why);
void hc_vm_detach(struct hc_vm *vm);
/* Refresh every tier's virtio-mem state from query-memory-devices. */
int hc_vm_vmem_query(struct hc_vm *vm, char *why);
/* Ask tier t's virtio-mem device for bytes and wait (up to wait_ms) until
 * the guest has plugged or unplugged them. 0 done, 1 not reached, -1 error. */
int hc_vm_vmem_resize(struct hc_vm *vm, int t, uint64_t bytes, int wait_ms, char *why);

/* Pure helpers (unit-tested on captured QEMU output). */
struct hc_numa_node { int cpus; uint64_t size; };
/* Parse HMP `info numa` (boot memory: size less plugged); returns the
 * number of nodes or -1. */
int hc_parse_info_numa(const char *text, struct hc_numa_node *nodes, int max);
/* "disconnected:unix:/p,server=on" -> "/p"; -1 if not a unix socket. */
int hc_chardev_unix_path(const char *filename, char *path, size_t len);
#endif
