#!/bin/sh
# Runs inside the guest (see sample_soft.sh): the test program under the
# preloaded runtime with record=, then checks the trace the runtime wrote
# at exit with ht-trace-convert --dump. One TAP stream on stdout.
HYPERTIER_CONF=sample=software,ring_pages=1,record=/tmp/s.httrace LD_PRELOAD=/t/lib/libhypertier.so \
	test_sample_soft >/tmp/tap 2>/tmp/err
rc=$?
grep -v '^1\.\.' /tmp/tap
n=$(grep -c '^ok\|^not ok' /tmp/tap)
t() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi; }
t "$rc" "test program exited $rc"
[ -s /tmp/err ]
t "$((1 - $?))" "nothing on the program's stderr (log=off is silent)"
ht-trace-convert --dump /tmp/s.httrace >/tmp/dump 2>/tmp/derr
t "$(if [ $? = 0 ] && [ ! -s /tmp/derr ]; then echo 0; else echo 1; fi)" "record= wrote a complete trace at exit $(cat /tmp/derr)"
want=$(sed -n 's/^# checksum .* samples \([0-9]*\) .*/\1/p' /tmp/tap)
got=$(grep -c '^S ' /tmp/dump)
t "$(if [ -n "$want" ] && [ "$got" = "$want" ]; then echo 0; else echo 1; fi)" "the trace holds every sample the classifier got ($got of $want)"
echo "1..$n"
