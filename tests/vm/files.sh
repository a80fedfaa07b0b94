#!/bin/sh
# unit/runtime-files.sh in the two-node guest, where the runtime is on: the
# stats file, stats_log, record and replay paths are really opened there.
vm=${abs_top_srcdir:-$(dirname "$0")/../..}/tests/vm
b=${abs_top_builddir:-..}
exec "$vm/run-guest" --timeout 240 --lib "$b/preload/libhypertier.la" --bin /bin/sleep \
	--file "$vm/../unit/runtime-files.sh" -- \
	'HT_PRELOAD_SO=/t/lib/libhypertier.so HT_SLEEP=/t/bin/sleep HT_TEST_CONF=fast_quota=64M sh /t/runtime-files.sh'
