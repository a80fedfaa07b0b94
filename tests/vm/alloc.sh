#!/bin/sh
# Guest tests of the allocator and runtime with the real two-node topology:
# extents born on the chosen node, fast_first within the quota, hints (HOT,
# PIN_FAST, PIN_SLOW), allocation-site learning, htstat on a live process,
# fork/thread/exec stress with the runtime on, nothing left behind.
vm=${abs_top_srcdir:-$(dirname "$0")/../..}/tests/vm
b=${abs_top_builddir:-..}
out=$(mktemp) || exit 1
trap 'rm -f "$out"' EXIT
"$vm/run-guest" --timeout 560 --lib "$b/preload/libhypertier.la" \
	--bin "$b/tests/vm/test_vm_alloc" --bin "$b/tests/unit/test_forkstress" --bin "$b/tests/unit/test_api" --bin "$b/tools/htstat" --bin /bin/cat -- '
	S=sample=software
	run() { c=$1; shift; echo "# HYPERTIER_CONF=$c $*"; HYPERTIER_CONF=$c "$@" 2>&1; echo "# exit $?"; }
	run place=fast test_vm_alloc place 0
	run place=slow test_vm_alloc place 1
	run fast_quota=64M,epoch=2s test_vm_alloc quota
	run $S,epoch=200ms test_vm_alloc hints
	run $S,epoch=100ms,place=slow,site_depth=2 test_vm_alloc sites 1 /t/bin/htstat
	run $S,epoch=100ms,place=fast,site_depth=2 test_vm_alloc sites 0 /t/bin/htstat
	run $S,epoch=100ms,place=slow,site_depth=2 test_vm_alloc sites 1 /t/bin/htstat new
	run $S,epoch=100ms test_api
	run $S,epoch=100ms,log=warn,stats_interval=100ms,stats_log=/tmp/sl.json test_forkstress 60
	lines=$(grep -c "^{\"pid\":[0-9]*,.*\"top_sites\":\[.*\]}$" /tmp/sl.json 2>/dev/null)
	pids=$(sed -n "s/^{\"pid\":\([0-9]*\),.*/\1/p" /tmp/sl.json 2>/dev/null | sort -u | wc -l)
	if [ "${lines:-0}" -ge 2 ] && [ "$pids" = 1 ]; then r=ok; else r="not ok"; fi
	echo "$r 1 - stats_log=FILE: $lines JSON lines, from $pids process (forked children write none)"
	# the heavy libraries: mapped once the runtime turns on, not with enable=0;
	# one missing: one warning line, runtime off, the program runs on
	P=/t/lib/libhypertier.so
	LD_PRELOAD=$P HYPERTIER_CONF=$S /t/bin/cat /proc/self/maps >/tmp/maps.on
	LD_PRELOAD=$P HYPERTIER_CONF=enable=0 /t/bin/cat /proc/self/maps >/tmp/maps.off
	for l in libnuma.so libpfm.so libunwind.so; do
		if grep -q "/$l" /tmp/maps.on && ! grep -q "/$l" /tmp/maps.off; then r=ok; else r="not ok"; fi
		echo "$r 1 - $l: mapped with the runtime on, not with enable=0"
	done
	mv /t/lib/libpfm.so.4 /tmp/ && echo payload >/tmp/p
	out=$(LD_PRELOAD=$P HYPERTIER_CONF=$S,log=warn /t/bin/cat /tmp/p 2>/tmp/err)
	quiet=$(LD_PRELOAD=$P HYPERTIER_CONF=$S /t/bin/cat /tmp/p 2>&1)
	if [ "$out" = payload ] && [ "$quiet" = payload ] && [ "$(wc -l </tmp/err)" = 1 ] &&
		grep -q "runtime off: cannot load libpfm.so.4" /tmp/err; then r=ok; else r="not ok"; fi
	echo "$r 1 - libpfm.so.4 missing: the program runs, one warning with log=warn, silent without ($(cat /tmp/err))"
	mv /tmp/libpfm.so.4 /t/lib/
	dmesg | grep -i -e segfault -e "general protection" -e trap
	left=$(ls /run/hypertier /tmp/hypertier-0 2>/dev/null | grep -c "\.stats$")
	echo "STATS_LEFT $left"
' >"$out" 2>&1
rc=$?
exec python3 - "$out" "$rc" <<'PY'
import re, sys
lines = open(sys.argv[1], errors="replace").read().splitlines()
n = 0
fail = False
for l in lines:
    m = re.match(r"^(not ok|ok) \d+(.*)$", l)
    if m:
        n += 1
        print("%s %d%s" % (m.group(1), n, m.group(2)))
    elif l.startswith("Bail out!"):
        n += 1
        print("not ok %d - %s" % (n, l))
    elif l.startswith("STATS_LEFT "):
        n += 1
        left = int(l.split()[1])
        print("%s %d - no stats file left behind after the runtimes exited (%d)" % ("ok" if left == 0 else "not ok", n, left))
    elif re.match(r"^1\.\.\d+$", l):
        continue
    else:
        print("# " + l)
if n == 0:
    print("not ok 1 - the guest run produced no results (run-guest exit %s)" % sys.argv[2])
    n = 1
print("1..%d" % n)
PY
