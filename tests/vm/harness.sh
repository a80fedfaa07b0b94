#!/bin/sh
# The harness itself: files land in /t, stdout comes back clean and the exit
# status through; --host-cmd gets QMP and the virtio-serial port with the
# file backend on /dev/shm (removed afterwards); a wedged guest times out.
vm=${abs_top_srcdir:-$(dirname "$0")/../..}/tests/vm
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
n=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi; }

echo "payload-$$" >"$tmp/payload"
out=$("$vm/run-guest" --timeout 240 --file "$tmp/payload" -- \
	'cat /t/payload; cat /sys/devices/system/node/node1/cpulist | wc -c; exit 3' 2>"$tmp/err")
ok $([ $? = 3 ]; echo $?) "the guest command's exit status (3) comes back"
ok $([ "$out" = "payload-$$
1" ]; echo $?) "--file lands in /t; stdout is exactly the command's (node 1 has an empty cpulist)"
ok $(grep -q 'console: ' "$tmp/err"; echo $?) "the console log goes to stderr"

cat >"$tmp/host.py" <<'PY'
import json, os, socket, sys
def qmp(cmd):
    f.write(json.dumps({"execute": cmd}) + "\n"); f.flush()
    while True:
        r = json.loads(f.readline())
        if "return" in r or "error" in r:
            return r
q = socket.socket(socket.AF_UNIX); q.connect(os.environ["QMP_SOCK"])
f = q.makefile("rw"); f.readline(); qmp("qmp_capabilities")
mem = {m["id"]: m for m in qmp("query-memdev")["return"]}
print("# memdevs: %s" % sorted(mem))
ok = mem.get("fast", {}).get("share") and mem.get("slow", {}).get("share")
print("%s 1 - QMP: memdevs fast and slow, share=on" % ("ok" if ok else "not ok"))
paths = ["/dev/shm/%s-%s" % (os.environ["VM_NAME"], t) for t in ("fast", "slow")]
open(sys.argv[1], "w").write("\n".join(paths))
ok = all(os.path.getsize(p) == 512 << 20 for p in paths)
print("%s 2 - backing files %s exist, 512 MiB each" % ("ok" if ok else "not ok", paths))
s = socket.socket(socket.AF_UNIX); s.connect(os.environ["SERIAL_SOCK"])
s.sendall(b"ping\n"); s.settimeout(60)
got = b""
while not got.endswith(b"\n"):
    c = s.recv(100)
    if not c: break
    got += c
print("%s 3 - virtio-serial round trip: %r" % ("ok" if got == b"pong ping\n" else "not ok", got))
print("1..3")
PY
out=$("$vm/run-guest" --timeout 240 --backend file --mem-fast 512M --mem-slow 512M \
	--host-cmd "python3 $tmp/host.py $tmp/paths" -- \
	'for p in /sys/class/virtio-ports/*; do [ "$(cat $p/name)" = org.hypertier.0 ] && dev=/dev/${p##*/}; done
	 ht-ready
	 while :; do read -r line <$dev && [ -n "$line" ] && break; sleep 0.1; done
	 echo "pong $line" >$dev; echo "guest saw $line"' 2>"$tmp/err")
rc=$?
printf '%s\n' "$out" | sed -n 's/^\(not \)\{0,1\}ok [0-9]* - /# host: &/p; /^# memdevs/p'
ok $([ $rc = 0 ]; echo $?) "--host-cmd: its status is run-guest's (rc $rc)"
ok $(printf '%s\n' "$out" | grep -q '^ok 3 - virtio-serial round trip'; echo $?) "--host-cmd: serial round trip"
ok $(printf '%s\n' "$out" | grep -q '^ok 1 - QMP'; echo $?) "--host-cmd: QMP reaches the memdevs, share=on"
ok $(printf '%s\n' "$out" | grep -q '^# guest: guest saw ping'; echo $?) "--host-cmd: guest output comes back as # guest: lines"
gone=0; for p in $(cat "$tmp/paths" 2>/dev/null); do [ -e "$p" ] && gone=1; done
ok $([ -s "$tmp/paths" ] && [ $gone = 0 ]; echo $?) "/dev/shm backing files removed afterwards"

start=$(date +%s)
out=$("$vm/run-guest" --timeout 3 -- 'sleep 1000' 2>/dev/null)
rc=$?
ok $([ $rc != 0 ] && [ $(( $(date +%s) - start )) -lt 30 ]; echo $?) "a wedged guest is killed at --timeout (rc $rc)"
ok $(printf '%s\n' "$out" | grep -q '^Bail out! run-guest: guest timed out'; echo $?) "and the failure says why"
echo "1..$n"
