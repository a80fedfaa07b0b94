#!/bin/sh
# The runtime's own files under hostile or unlucky paths (POSIX sh: runs on
# this host and, through vm/files.sh, in the busybox guest with the runtime
# on). A FIFO as log_file, stats_log, record or replay never hangs the
# program; symlinks and hard links planted for them never get a byte
# written through them; stats_dir is never created, and a directory that
# belongs to someone else or that anyone may write is refused; a full tmpfs
# under the stats directory costs the stats file, not the program (SIGBUS).
#   env: HT_PRELOAD_SO (libhypertier.so), HT_TEST_CONF (a conf that turns the
#   runtime on: the guest's), HT_SLEEP (a dynamically linked sleep(1)),
#   HT_SAN_PRELOAD (--enable-sanitizers: its runtime, which must load first)
so=${HT_PRELOAD_SO:-${abs_top_builddir:-..}/preload/.libs/libhypertier.so}
sleep_bin=${HT_SLEEP:-/bin/sleep}
extra=${HT_TEST_CONF:+$HT_TEST_CONF,}
[ -f "$so" ] || { echo "Bail out! $so not built"; exit 1; }
t=$(mktemp -d /tmp/ht-files-XXXXXX) || exit 1
trap 'umount "$t/full" 2>/dev/null; rm -rf "$t"' EXIT
n=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi; }
skip() { n=$((n + 1)); echo "ok $n # SKIP $1"; }

# run CONF: the preloaded sleep under a 20 s guard (exit 124: it hung),
# stderr to $t/err; its exit status is in $rc
run() {
	LD_PRELOAD="${HT_SAN_PRELOAD:+$HT_SAN_PRELOAD }$so" HYPERTIER_CONF="$extra$1" timeout -s KILL 20 "$sleep_bin" 0.3 2>"$t/err"
	rc=$?
}
first() { head -n 1 "$t/err" | cut -c 1-200; }

run "log=info"
grep -q "on: fast node" "$t/err" && on=1 || on=0
echo "# runtime $( [ $on = 1 ] && echo on || echo off): $(first)"

mkfifo "$t/fifo"
run "log=info,log_file=$t/fifo"
[ $rc = 0 ] && grep -q "log_file=$t/fifo: is a FIFO" "$t/err"
ok $? "log_file=FIFO (no reader): no hang, one line says so (exit $rc): $(first)"
cat "$t/fifo" >/dev/null &
reader=$!
sleep 0.2
run "log=info,log_file=$t/fifo"
[ $rc = 0 ] && grep -q "log_file=$t/fifo: is a FIFO: refusing it" "$t/err"
ok $? "log_file=FIFO with a reader: refused, not written (exit $rc): $(first)"
kill $reader 2>/dev/null
wait $reader 2>/dev/null

printf 'precious\n' >"$t/victim"
ln -s "$t/victim" "$t/link"
ln "$t/victim" "$t/hard"
run "log=info,log_file=$t/link"
[ $rc = 0 ] && grep -q "symbolic link" "$t/err" && [ "$(cat "$t/victim")" = precious ]
ok $? "log_file=symlink: not followed, target untouched: $(first)"
run "log=info,log_file=$t/hard"
[ $rc = 0 ] && grep -q "hard links" "$t/err" && [ "$(cat "$t/victim")" = precious ]
ok $? "log_file=hard link: refused, target untouched: $(first)"
run "stats_dir=$t/nonexistent/x"
[ $rc = 0 ] && [ ! -e "$t/nonexistent" ]
ok $? "stats_dir=a missing directory: not created (exit $rc)"

if [ $on = 0 ]; then
	echo "# the runtime is off here (one node): vm/files.sh runs the stats_log, record, replay, stats_dir and full-tmpfs cases in the two-node guest"
else
	for k in stats_log record; do
		run "log=info,sample=software,$k=$t/fifo"
		[ $rc = 0 ] && grep -q "$t/fifo: is a FIFO" "$t/err"
		ok $? "$k=FIFO: no hang, one line says so (exit $rc): $(grep fifo "$t/err" | head -n 1)"
	done
	run "log=info,sample=replay,replay=$t/fifo"
	[ $rc = 0 ] && grep -q "$t/fifo: is a FIFO" "$t/err"
	ok $? "replay=FIFO: no hang, one line says so (exit $rc): $(grep fifo "$t/err" | head -n 1)"
	run "log=info,sample=software,stats_interval=10ms,stats_log=$t/link,record=$t/hard"
	[ $rc = 0 ] && [ "$(cat "$t/victim")" = precious ] && [ "$(grep -c 'symbolic link\|hard links' "$t/err")" = 2 ]
	ok $? "stats_log=symlink, record=hard link: both refused, target untouched"

	mkdir "$t/theirs" "$t/open"
	chown 65534 "$t/theirs"
	chmod 1777 "$t/open"
	run "log=info,stats_dir=$t/theirs"
	[ $rc = 0 ] && grep -q "owned by uid 65534" "$t/err" && [ -z "$(ls "$t/theirs")" ]
	ok $? "stats_dir owned by another user: refused: $(grep stats "$t/err" | head -n 1)"
	run "log=info,stats_dir=$t/open"
	[ $rc = 0 ] && grep -q "writable by other users" "$t/err" && [ -z "$(ls "$t/open")" ]
	ok $? "stats_dir writable by all (sticky): refused: $(grep stats "$t/err" | head -n 1)"

	if mkdir "$t/full" && mount -t tmpfs -o size=16k,mode=0700 tmpfs "$t/full" 2>/dev/null; then
		dd if=/dev/zero of="$t/full/fill" bs=4k count=64 2>/dev/null
		run "log=info,stats_interval=10ms,stats_dir=$t/full"
		[ $rc = 0 ] && grep -q "no stats file: .*No space left" "$t/err"
		ok $? "full tmpfs under stats_dir: the program lives (exit $rc, 135 is SIGBUS), one line: $(grep stats "$t/err" | head -n 1)"
	else
		skip "mounting a tmpfs needs root"
	fi
	run "log=info"
	d=$(sed -n 's/.*stats \(.*\)\/[0-9]*\.stats$/\1/p' "$t/err" | head -n 1)
	[ -n "$d" ] && [ "$(ls -ld "$d" | cut -c 1-10)" = drwx------ ]
	ok $? "default stats directory $d: mode 0700 ($(ls -ld "$d" 2>/dev/null | cut -c 1-10))"
fi
echo "1..$n"
