#!/bin/sh
# Guest test: redis-server with the runtime ON (two nodes, a 32 MiB fast
# quota, so memory really lands on both tiers), against a plain
# redis-server on the same data: DEBUG DIGEST equal, BGSAVE (fork with the
# runtime) reloads to the same digest, DEBUG RELOAD, redis-benchmark
# preloaded too, htstat reads the live server (redis_guest.sh).
vm=${abs_top_srcdir:-$(dirname "$0")/../..}/tests/vm
b=${abs_top_builddir:-.}
for p in redis-server redis-cli redis-benchmark; do
	command -v $p >/dev/null || { echo "Bail out! $p not installed (Debian packages redis-server redis-tools)"; exit 1; }
done
exec "$vm/run-guest" --timeout 420 --lib "$b/preload/libhypertier.la" --bin "$b/tools/htstat" \
	--bin "$(command -v redis-server)" --bin "$(command -v redis-cli)" --bin "$(command -v redis-benchmark)" \
	--file "$vm/redis_lib.sh" --file "$vm/redis_guest.sh" -- 'sh /t/redis_guest.sh'
