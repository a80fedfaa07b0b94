#!/bin/sh
# Guest test: the engine of a preloaded redis-server made to fail
# (fault_move=30) in the 6.12 guest with DAMON as its only sample source:
# data identical by DEBUG DIGEST, failures counted and backed off
# (redis_fault_guest.sh). One vCPU plus a ticker, as damon.sh.
vm=${abs_top_srcdir:-$(dirname "$0")/../..}/tests/vm
b=${abs_top_builddir:-.}
for p in redis-server redis-cli; do
	command -v $p >/dev/null || { echo "Bail out! $p not installed (Debian packages redis-server redis-tools)"; exit 1; }
done
exec "$vm/run-guest" --kernel 6.12 --smp 1 --hmat --timeout 480 --lib "$b/preload/libhypertier.la" --bin "$b/tools/htstat" \
	--bin "$(command -v redis-server)" --bin "$(command -v redis-cli)" --bin "$b/tests/vm/damon_busy" \
	--file "$vm/redis_lib.sh" --file "$vm/redis_fault_guest.sh" -- 'sh /t/redis_fault_guest.sh'
