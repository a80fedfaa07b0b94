#!/bin/sh
# Guest test: with a virtio-mem device on the slow node, hostctl plugs the
# part of the quota above the boot memory (qom-set requested-size, 2 MiB
# grain) and balloons below it.
vm=${abs_top_srcdir:-$(dirname "$0")/../..}/tests/vm
d=$(mktemp -d "${TMPDIR:-/tmp}/hthostctl.XXXXXX") || exit 1
trap 'rm -rf "$d"' EXIT
export d
"$vm/hostctl-vm.sh" vmem 'hostctl_guest & ht-ready; wait' --append memhp_default_state=online_movable --qemu-arg -m --qemu-arg maxmem=2G \
	--qemu-arg -object --qemu-arg "memory-backend-file,id=vmem1,size=256M,mem-path=$d/vmem1,share=on" \
	--qemu-arg -device --qemu-arg "virtio-mem-pci,id=vmem1dev,memdev=vmem1,node=1,requested-size=0"
