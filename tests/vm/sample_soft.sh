#!/bin/sh
# Guest test: sample=software under LD_PRELOAD; samples reach the classifier,
# lost and throttle counts show in ht_stats (see test_sample_soft.c).
vm=${abs_top_srcdir:-$(dirname "$0")/../..}/tests/vm
b=${abs_top_builddir:-.}
exec "$vm/run-guest" --timeout 300 --bin "$b/tests/vm/test_sample_soft" --lib "$b/preload/libhypertier.la" -- \
	'HYPERTIER_CONF=sample=software,ring_pages=1 LD_PRELOAD=/t/lib/libhypertier.so test_sample_soft'
