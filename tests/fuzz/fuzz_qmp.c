/* QMP reply handling: input is what QEMU sends on the monitor socket. One
 * command of each kind hostctl runs (plain, HMP text, qom-get string,
 * query-memory-devices into a VM's virtio-mem state), and the parsers of
 * their text: `info mtree -f`, `info numa`, chardev filenames. */
#include "fuzz.h"
#include "vm.h"
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct hc_vm vm;
	char why[HC_WHY], path[PATH_MAX];
	int peer, fd = fuzz_peer(data, size, &peer);
	memset(&vm, 0, sizeof(vm));
	if (fd < 0 || hc_qmp_open_fd(&vm.qmp, fd, 64 << 10, 1000) < 0)
		return 0;
	vm.tier[HC_FAST].node = 0;
	vm.tier[HC_SLOW].node = 1;
	json_object_put(hc_qmp_exec(&vm.qmp, "qmp_capabilities", NULL, why));
	char *mt = hc_qmp_hmp(&vm.qmp, "info mtree -f", why);
	struct hc_seg *segs = NULL;
	size_t n = 0;
	if (mt && hc_mtree_parse(mt, &segs, &n, why) == 0)
		for (size_t i = 1; i < n; i++)
			FUZZ_ASSERT(segs[i - 1].gpa <= segs[i].gpa);
	free(segs);
	free(mt);
	char *numa = hc_qmp_hmp(&vm.qmp, "info numa", why);
	struct hc_numa_node nodes[8];
	if (numa)
		FUZZ_ASSERT(hc_parse_info_numa(numa, nodes, 8) <= 8);
	free(numa);
	char *cd = hc_qmp_qom_str(&vm.qmp, "/machine/peripheral/port0", "chardev", why);
	if (cd && hc_chardev_unix_path(cd, path, sizeof(path)) == 0)
		FUZZ_ASSERT(strlen(path) < sizeof(path));
	free(cd);
	if (hc_vm_vmem_query(&vm, why) == 0)
		for (int t = 0; t < HC_NTIERS; t++)
			FUZZ_ASSERT(!vm.vmem[t].present || vm.vmem[t].block > 0);
	hc_qmp_close(&vm.qmp);
	close(peer);
	return 0;
}
