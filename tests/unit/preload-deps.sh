#!/bin/sh
# What the preload costs a process the runtime stays off in: libnuma,
# libpfm4, libunwind and libstdc++ are neither needed by libhypertier.so
# nor mapped (the runtime dlopens the first three when it turns on; vm/alloc.sh
# checks that side), and the program's output is its own.
so=${abs_top_builddir:-..}/preload/.libs/libhypertier.so
[ -f "$so" ] || { echo "Bail out! $so not built"; exit 1; }
heavy='lib(numa|pfm|unwind|stdc\+\+)\.so'
n=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi; }

needed=$(objdump -p "$so" | awk '$1 == "NEEDED" {print $2}' | tr '\n' ' ')
ok $(echo "$needed" | grep -qE "$heavy"; [ $? = 1 ]; echo $?) "NEEDED has none of them: $needed"
maps=$(env LD_PRELOAD="$so" HYPERTIER_CONF=enable=0 cat /proc/self/maps)
ok $(echo "$maps" | grep -qE "$heavy"; [ $? = 1 ]; echo $?) "enable=0: none of them mapped"
ok $(echo "$maps" | grep -q "/libhypertier\.so"; echo $?) "enable=0: the preload itself is mapped (the check sees it)"
if [ "$(cat /sys/devices/system/node/has_memory 2>/dev/null)" = 0 ]; then
	maps=$(env -u HYPERTIER_CONF LD_PRELOAD="$so" cat /proc/self/maps)
	ok $(echo "$maps" | grep -qE "$heavy"; [ $? = 1 ]; echo $?) "default configuration, one node with memory: none of them mapped"
	out=$(env HYPERTIER_CONF=log=info LD_PRELOAD="$so" echo hi 2>&1)
	ok $([ "$(echo "$out" | tail -1)" = hi ] && [ "$(echo "$out" | wc -l)" = 2 ] &&
		echo "$out" | head -1 | grep -qE '^hypertier\[[0-9]+\]: runtime off: only one NUMA node'; echo $?) \
		"log=info, one node: the reason in one line ($(echo "$out" | head -1)), then the output"
else
	n=$((n + 2)); echo "ok $((n - 1)) # skip more than one node with memory here"; echo "ok $n # skip"
fi
out=$(env -u HYPERTIER_CONF LD_PRELOAD="$so" sh -c 'echo out; echo err >&2' 2>&1)
ok $([ "$out" = "out
err" ]; echo $?) "default configuration: stdout and stderr are the program's own"
echo "1..$n"
