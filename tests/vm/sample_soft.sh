#!/bin/sh
# Guest test: sample=software under LD_PRELOAD; samples reach the classifier,
# lost and throttle counts show in ht_stats, record= writes them all
# (test_sample_soft.c, sample_soft_guest.sh).
vm=${abs_top_srcdir:-$(dirname "$0")/../..}/tests/vm
b=${abs_top_builddir:-.}
exec "$vm/run-guest" --timeout 300 --bin "$b/tests/vm/test_sample_soft" --bin "$b/tools/ht-trace-convert" \
	--lib "$b/preload/libhypertier.la" --file "$vm/sample_soft_guest.sh" -- 'sh /t/sample_soft_guest.sh'
