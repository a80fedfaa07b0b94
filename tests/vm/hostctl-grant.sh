#!/bin/sh
# Guest test: hostctl grants move guest node free memory and host backing by
# the granted amount, per tier, both ways; rebalance; agent restart.
vm=${abs_top_srcdir:-$(dirname "$0")/../..}/tests/vm
b=${abs_top_builddir:-.}
d=$(mktemp -d "${TMPDIR:-/tmp}/hthostctl.XXXXXX") || exit 1
trap 'rm -rf "$d"' EXIT
"$vm/run-guest" --timeout 400 --backend file --mem-fast 512M --mem-slow 512M --vm-dir "$d" \
	--qemu-arg -chardev --qemu-arg "socket,id=ctl,path=$d/ctl.sock,server=on,wait=off" \
	--qemu-arg -device --qemu-arg "virtserialport,chardev=ctl,name=org.hypertier.test" \
	--bin "$b/hostctl/hypertier-balloond" --bin "$b/tests/vm/hostctl_guest" \
	--host-cmd "HOSTCTL=$b/hostctl/hostctl $b/tests/vm/test_hostctl_host grant" \
	-- 'hostctl_guest & ht-ready; wait'
