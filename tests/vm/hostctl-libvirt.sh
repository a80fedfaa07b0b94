#!/usr/bin/env bash
# Guest test: hostctl on a libvirt domain. Starts virtlogd and libvirtd
# itself (no systemd), creates a transient TCG domain from the test guest's
# kernel and initramfs (2 x 256 MiB, file-backed, shared, HMAT, the agent's
# channel), runs test_hostctl_host libvirt against libvirt:NAME, then checks
# that a domain with access mode='private' (share=off) is refused.
set -uo pipefail
vm=${abs_top_srcdir:-$(dirname "$0")/../..}/tests/vm
b=${abs_top_builddir:-.}
uri=qemu:///system
tier_mib=256

fail() { echo "Bail out! hostctl-libvirt: $*"; exit 1; }
[ "$(id -u)" = 0 ] || fail "needs root: it starts the system libvirtd itself (CI runs as root)"
for p in /usr/sbin/libvirtd /usr/sbin/virtlogd virsh; do
	command -v "$p" >/dev/null || fail "$p missing: apt-get install --no-install-recommends libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients"
done
help=$("$b/hostctl/hostctl" --help)
case "$help" in *"not in this build"*) fail "hostctl was built without libvirt (install libvirt-dev, re-run configure)" ;; esac
[ -S /run/libvirt/libvirt-sock ] && virsh -c "$uri" version >/dev/null 2>&1 &&
	fail "a libvirtd already runs here; this test starts and stops its own"

# A private mount namespace with a tmpfs on libvirt's memory_backing_dir:
# guest RAM as on /dev/shm (st_blocks exact, no ext4 extent blocks), and
# nothing of it outside this test.
ramdir=/var/lib/libvirt/qemu/ram
if [ -z "${HT_LIBVIRT_NS:-}" ]; then
	command -v unshare >/dev/null || fail "unshare missing (util-linux)"
	HT_LIBVIRT_NS=1 exec unshare -m --propagation private "$BASH" "$0" "$@"
fi
mkdir -p "$ramdir" && mount -t tmpfs -o mode=755 hostctl-test "$ramdir" || fail "cannot mount a tmpfs on $ramdir"

d=$(mktemp -d "${TMPDIR:-/tmp}/htlibvirt.XXXXXX") || fail "mktemp failed"
chmod 755 "$d"
name=ht-$$ bad=ht-$$-private pids=()
cleanup() {
	virsh -c "$uri" destroy "$name" >/dev/null 2>&1
	virsh -c "$uri" destroy "$bad" >/dev/null 2>&1
	virsh -c "$uri" undefine "$name-example" >/dev/null 2>&1
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	[ -n "${HT_KEEP:-}" ] && echo "# kept $d" || rm -rf "$d"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# libvirt-daemon-system's scripts make these; without it we do.
getent group kvm >/dev/null || groupadd -r kvm || fail "groupadd kvm"
getent group libvirt-qemu >/dev/null || groupadd -r libvirt-qemu || fail "groupadd libvirt-qemu"
getent passwd libvirt-qemu >/dev/null || useradd -r -g libvirt-qemu -G kvm -d /var/lib/libvirt -s /usr/sbin/nologin libvirt-qemu ||
	fail "useradd libvirt-qemu"

/usr/sbin/virtlogd >"$d/virtlogd.log" 2>&1 &
pids+=($!)
/usr/sbin/libvirtd >"$d/libvirtd.log" 2>&1 &
pids+=($!)
for i in $(seq 300); do
	virsh -c "$uri" version >/dev/null 2>&1 && break
	kill -0 "${pids[1]}" 2>/dev/null || { sed 's/^/# libvirtd: /' "$d/libvirtd.log"; fail "libvirtd exited at start"; }
	sleep 0.1
done
virsh -c "$uri" version >/dev/null 2>&1 || fail "libvirtd did not answer on $uri within 30 s"
echo "# libvirtd $(virsh -c "$uri" version --daemon | sed -n 's/.*daemon: *//p')"

kernel=$("$vm/run-guest" --initrd-only --vm-dir "$d" --bin "$b/hostctl/hypertier-balloond" --bin "$b/tests/vm/hostctl_guest" \
	-- 'hostctl_guest & ht-ready; wait') || fail "building the guest initramfs failed: $kernel"

# domain NAME ACCESS SOURCE: the test guest as libvirt XML (examples/hypertier-domain.xml, shrunk).
domain() {
	cat <<EOF
<domain type='qemu'>
  <name>$1</name>
  <memory unit='MiB'>$((2 * tier_mib))</memory>
  <vcpu>2</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$kernel</kernel>
    <initrd>$d/initrd.gz</initrd>
    <cmdline>console=ttyS0 quiet panic=-1 numa_balancing=disable cryptomgr.notests mitigations=off no_timer_check</cmdline>
  </os>
  <features><acpi/><apic/></features>
  <cpu mode='maximum'>
    <numa>
      <cell id='0' cpus='0-1' memory='$tier_mib' unit='MiB' memAccess='$2'/>
      <cell id='1' memory='$tier_mib' unit='MiB' memAccess='$2'/>
      <interconnects>
        <latency initiator='0' target='0' type='access' value='100'/>
        <latency initiator='0' target='1' type='access' value='300'/>
      </interconnects>
    </numa>
  </cpu>
  <memoryBacking>
    <source type='$3'/>
    <access mode='$2'/>
  </memoryBacking>
  <on_reboot>destroy</on_reboot>
  <devices>
    <serial type='file'><source path='$d/$1.console'/><target port='0'/></serial>
    <serial type='file'><source path='$d/$1.out'/><target port='1'/></serial>
    <channel type='unix'><target type='virtio' name='org.hypertier.0'/></channel>
    <channel type='unix'><source mode='bind' path='$d/ctl.sock'/><target type='virtio' name='org.hypertier.test'/></channel>
    <memballoon model='none'/>
  </devices>
  <seclabel type='static' model='dac' relabel='no'><label>+0:+0</label></seclabel>
</domain>
EOF
}
domain "$name" shared file >"$d/$name.xml"
virsh -c "$uri" create "$d/$name.xml" >"$d/create.log" 2>&1 || { sed 's/^/# /' "$d/create.log"; fail "virsh create failed"; }
for i in $(seq 1200); do
	grep -q '@@HT-READY@@' "$d/$name.console" 2>/dev/null && break
	[ "$(virsh -c "$uri" domstate "$name" 2>/dev/null)" = running ] || break
	sleep 0.1
done
grep -q '@@HT-READY@@' "$d/$name.console" 2>/dev/null || {
	tr -d '\r' <"$d/$name.console" | tail -n 20 | sed 's/^/# console: /'
	tail -n 5 "/var/log/libvirt/qemu/$name.log" | sed 's/^/# qemu log: /'
	fail "the guest never ran ht-ready (domain $(virsh -c "$uri" domstate "$name" 2>&1))"
}
id=$(virsh -c "$uri" domid "$name")
ram=$(echo /var/lib/libvirt/qemu/ram/"$id-$name")
[ -f "$ram/ram-node0" ] && [ -f "$ram/ram-node1" ] || fail "no backing files in $ram (libvirt's memory_backing_dir moved?)"

FAST_FILE=$ram/ram-node0 SLOW_FILE=$ram/ram-node1 TIER_MIB=$tier_mib VM_DIR=$d VM_NAME=$name \
	QMP_SOCK="libvirt:$name@$uri" HOSTCTL="$b/hostctl/hostctl" timeout -k 5 300 "$b/tests/vm/test_hostctl_host" libvirt >"$d/tap"
rc=$?
grep -v '^1\.\.' "$d/tap"
n=$(grep -c '^\(not \)\?ok ' "$d/tap")

# check WHAT VM WANT: hostctl status VM fails with WANT in its message.
check() {
	n=$((n + 1))
	out=$(HOSTCTL_STATE=$d/hostctl.json "$b/hostctl/hostctl" status "$2" 2>&1)
	src=$?
	echo "$out" | sed 's/^/#   | /'
	if [ "$src" = 1 ] && grep -q "$3" <<<"$out"; then
		echo "ok $n - $1 (exit $src)"
	else
		echo "not ok $n - $1 (exit $src)"; rc=1
	fi
}
# Refusals: the same guest with access mode='private' (share=off) or memfd
# RAM; they never need to run, so they are created paused.
# refused ACCESS SOURCE WHAT WANT
refused() {
	domain "$bad" "$1" "$2" >"$d/$bad.xml"
	if virsh -c "$uri" create --paused "$d/$bad.xml" >"$d/$bad.log" 2>&1; then
		check "$3 domain refused" "libvirt:$bad@$uri" "$4"
	else
		sed 's/^/# /' "$d/$bad.log"
		n=$((n + 1)); echo "not ok $n - the $3 domain could not be created"; rc=1
	fi
	virsh -c "$uri" destroy "$bad" >/dev/null 2>&1
}
refused private file share=off 'refused: memdev ram-node0 has share=off'
refused shared memfd memfd 'refused: memdev ram-node0 is not a memory-backend-file'
check "a domain that does not exist: clear error" "libvirt:$name-none@$uri" "no libvirt domain $name-none at $uri"

# The example in examples/ is valid libvirt XML that this libvirtd defines.
n=$((n + 1))
ex=${abs_top_srcdir:-$vm/../..}/examples/hypertier-domain.xml
sed "s/type='kvm'/type='qemu'/; s|<name>hypertier-vm<|<name>$name-example<|" "$ex" >"$d/example.xml"
if virt-xml-validate "$ex" domain >"$d/example.log" 2>&1 && virsh -c "$uri" define --validate "$d/example.xml" >>"$d/example.log" 2>&1 &&
	virsh -c "$uri" dumpxml "$name-example" >"$d/example.def" && grep -q "name='org.hypertier.0'" "$d/example.def"; then
	echo "ok $n - examples/hypertier-domain.xml validates and defines (as type qemu)"
else
	sed 's/^/# /' "$d/example.log"
	echo "not ok $n - examples/hypertier-domain.xml validates and defines (as type qemu)"; rc=1
fi
virsh -c "$uri" undefine "$name-example" >/dev/null 2>&1
echo "1..$n"
exit "$rc"
