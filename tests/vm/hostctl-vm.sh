#!/bin/sh
# Shared by the hostctl guest tests: hostctl-vm.sh MODE GUEST_CMD [run-guest options...]
# boots the 2 x 512 MiB guest on file backends with the test virtio-serial
# port and the agent, and runs test_hostctl_host MODE on the host side.
# $d (the VM directory) is exported for options that name files in it.
mode=$1 guest=$2
shift 2
vm=${abs_top_srcdir:-$(dirname "$0")/../..}/tests/vm
b=${abs_top_builddir:-.}
exec "$vm/run-guest" --timeout 400 --backend file --mem-fast 512M --mem-slow 512M --vm-dir "$d" \
	--qemu-arg -chardev --qemu-arg "socket,id=ctl,path=$d/ctl.sock,server=on,wait=off" \
	--qemu-arg -device --qemu-arg "virtserialport,chardev=ctl,name=org.hypertier.test" \
	--bin "$b/hostctl/hypertier-balloond" --bin "$b/tests/vm/hostctl_guest" \
	--host-cmd "HOSTCTL=$b/hostctl/hostctl $b/tests/vm/test_hostctl_host $mode" "$@" -- "$guest"
