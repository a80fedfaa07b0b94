#!/bin/sh
# Guest test: `hostctl balance` across HT_BALANCE_VMS guests (default 3),
# each 512+256 MiB, 2 vCPUs, TCG, booted in parallel by run-guest. Each
# run-guest's host command only says the guest is ready and waits; the
# checks are test_hostctl_balance's, over all of them at once.
vm=${abs_top_srcdir:-$(dirname "$0")/../..}/tests/vm
b=${abs_top_builddir:-.}
count=${HT_BALANCE_VMS:-3}
d=$(mktemp -d "${TMPDIR:-/tmp}/htbalance.XXXXXX") || exit 1
pids=
cleanup() {
	for i in $(seq 1 "$count"); do : >"$d/vm$i/done" 2>/dev/null; done
	for p in $pids; do wait "$p"; done
	rm -rf "$d"
}
trap cleanup EXIT
dirs=
for i in $(seq 1 "$count"); do
	mkdir -p "$d/vm$i"
	dirs="$dirs $d/vm$i"
	"$vm/run-guest" --timeout 400 --smp 2 --backend file --mem-fast 512M --mem-slow 256M --vm-dir "$d/vm$i" \
		--qemu-arg -chardev --qemu-arg "socket,id=ctl,path=$d/vm$i/ctl.sock,server=on,wait=off" \
		--qemu-arg -device --qemu-arg "virtserialport,chardev=ctl,name=org.hypertier.test" \
		--bin "$b/hostctl/hypertier-balloond" --bin "$b/tests/vm/hostctl_guest" --bin "$b/tests/vm/hostctl_demand" \
		--host-cmd "echo \$VM_NAME >\$VM_DIR/ready.tmp && mv \$VM_DIR/ready.tmp \$VM_DIR/ready; while [ ! -e \$VM_DIR/done ]; do sleep 0.5; done" \
		-- 'hostctl_guest & ht-ready; wait' >"$d/vm$i.log" 2>&1 &
	pids="$pids $!"
done
# Wait for every guest (or for one of them to fail: its run-guest exits).
for i in $(seq 1 "$count"); do
	while [ ! -e "$d/vm$i/ready" ]; do
		if ! kill -0 $(echo $pids | cut -d' ' -f"$i") 2>/dev/null; then
			echo "Bail out! guest $i did not start"; sed 's/^/# /' "$d/vm$i.log"; exit 1
		fi
		sleep 0.5
	done
done
HOSTCTL=$b/hostctl/hostctl VM_DIRS="$dirs" "$b/tests/vm/test_hostctl_balance"
rc=$?
for i in $(seq 1 "$count"); do : >"$d/vm$i/done"; done
for p in $pids; do wait "$p"; done
pids=
for i in $(seq 1 "$count"); do grep -i 'run-guest: .*ran\|Bail' "$d/vm$i.log" | sed 's/^/# vm'"$i"': /'; done
exit $rc
