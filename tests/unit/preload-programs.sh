#!/bin/sh
# Real programs under LD_PRELOAD=libhypertier.so give byte-identical stdout
# and stderr: python3 forking and threading, sort and gzip on 8 MB; a bad
# HYPERTIER_CONF adds exactly one warning line and changes nothing else;
# fork/thread/exec stress finishes. Also run inside the guest (tests/vm).
so=${HT_PRELOAD_SO:-${abs_top_builddir:-..}/preload/.libs/libhypertier.so}
stress=${HT_FORKSTRESS:-./unit/test_forkstress}
[ -f "$so" ] || { echo "Bail out! $so not built"; exit 1; }
py=/usr/bin/python3
[ -x $py ] || py=python3
exec env PYTHONPATH="${abs_top_srcdir:-$(dirname "$0")/../..}/tests" $py - "$so" "$stress" <<'PY'
import os, random, subprocess, sys, tempfile

so, stress = sys.argv[1], sys.argv[2]
from tap import ok, plan

tmp = tempfile.mkdtemp(prefix="ht-progs-")
base = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "HYPERTIER_CONF")}
extra = os.environ.get("HT_TEST_CONF")  # the guest passes a conf that turns the runtime on

def run(argv, preload, conf=None, stdin=None):
    env = dict(base)
    if preload:
        env["LD_PRELOAD"] = so
        c = conf if conf is not None else extra
        if c:
            env["HYPERTIER_CONF"] = c
    with open(stdin, "rb") if stdin else open(os.devnull, "rb") as f:
        return subprocess.run(argv, stdin=f, capture_output=True, env=env, timeout=300)

script = os.path.join(tmp, "forks.py")
with open(script, "w") as f:
    f.write(r'''
import hashlib, os, sys, threading, subprocess
def work(i, out):
    h = hashlib.sha256()
    blob = bytearray()
    for k in range(2000):
        blob += (b"%d-%d;" % (i, k)) * 50
        h.update(bytes(blob[-4096:]))
    out[i] = (len(blob), h.hexdigest())
out = {}
ts = [threading.Thread(target=work, args=(i, out)) for i in range(4)]
[t.start() for t in ts]
[t.join() for t in ts]
for i in sorted(out):
    print("thread", i, *out[i])
sys.stdout.flush()
for k in range(3):
    pid = os.fork()
    if pid == 0:
        big = [bytes([k]) * 1000000 for _ in range(8)]
        print("child", k, sum(len(b) for b in big), hashlib.md5(b"".join(big)).hexdigest())
        sys.stderr.write("child %d says hello on stderr\n" % k)
        sys.stdout.flush(); sys.stderr.flush()
        os._exit(k)
    _, st = os.waitpid(pid, 0)
    print("reaped", k, os.WEXITSTATUS(st))
    sys.stdout.flush()
print(subprocess.run(["echo", "exec", "works"], capture_output=True, text=True).stdout, end="")
d = {i: str(i) * (i % 100) for i in range(200000)}
print("dict", len(d), sum(len(v) for v in d.values()))
sys.stderr.write("done\n")
''')

plain = run([sys.executable, script], False)
pre = run([sys.executable, script], True)
ok(plain.returncode == 0 and pre.returncode == 0, "python3 (fork + threads + exec) exits 0 with and without the runtime")
ok(plain.stdout == pre.stdout and len(plain.stdout) > 200, "python3: stdout byte-identical (%d bytes)" % len(pre.stdout))
ok(plain.stderr == pre.stderr, "python3: stderr byte-identical (%d bytes)" % len(pre.stderr))
maps = run([sys.executable, "-c", "print(open('/proc/self/maps').read())"], True)
ok(b"libhypertier.so" in maps.stdout, "python3 really ran with libhypertier.so mapped")

# sort and gzip on 8 MB of lines
data = os.path.join(tmp, "data")
rnd = random.Random(7)
with open(data, "w") as f:
    size = 0
    while size < 8 << 20:
        line = "%08x %s %d\n" % (rnd.getrandbits(32), "".join(rnd.choice("abcdefghij") for _ in range(rnd.randint(5, 60))), rnd.randint(0, 10**9))
        f.write(line)
        size += len(line)
for argv in (["sort", data], ["sort", "-n", "-k3", data], ["gzip", "-n", "-c", data]):
    a, b = run(argv, False), run(argv, True)
    ok(a.returncode == 0 and a.stdout == b.stdout and a.stderr == b.stderr and b.returncode == 0 and len(a.stdout) > 1 << 20,
       "%s: output byte-identical under LD_PRELOAD (%d bytes)" % (" ".join(argv[:-1]), len(b.stdout)))
gz = os.path.join(tmp, "data.gz")
open(gz, "wb").write(run(["gzip", "-n", "-c", data], True).stdout)
back = run(["gzip", "-dc", gz], True)
ok(back.stdout == open(data, "rb").read(), "gzip round trip under LD_PRELOAD restores every byte")

# bad configuration: output unchanged, exactly one clear line on stderr
# (a quota under two huge pages cannot be held while THP is on)
try:
    thp_on = "[never]" not in open("/sys/kernel/mm/transparent_hugepage/enabled").read()
except OSError:
    thp_on = False
thp_case = (("fast_quota=1M", "huge page"),) if thp_on else ()
ref = run(["sort", data], False)
for conf, word in (("fast_quota=lots", "fast_quota"), ("no_such_key=1", "no_such_key"),
                   ("slow_node=9", "slow_node=9"), ("sample_period=0", "sample_period"), ("epoch", "epoch")) + thp_case:
    r = run(["sort", data], True, conf)
    lines = r.stderr.decode(errors="replace").splitlines()
    ok(r.returncode == 0 and r.stdout == ref.stdout and len(lines) == 1 and word in lines[0] and "HYPERTIER_CONF" in lines[0],
       "HYPERTIER_CONF=%s: output unchanged, one line: %s" % (conf, lines[0] if lines else "(none)"))
r = run([sys.executable, script], True, "fast_quota=-1")
lines = r.stderr.decode(errors="replace").splitlines()
ok(r.stdout == plain.stdout and r.stderr.endswith(plain.stderr) and len(lines) == len(plain.stderr.splitlines()) + 1,
   "python3 with a bad conf: stdout identical, stderr has exactly one extra line")

# log=info says what the runtime did, in the log only
r = run(["true"], True, ("log=info," + extra) if extra else "log=info")
msg = r.stderr.decode(errors="replace")
ok(r.returncode == 0 and msg.startswith("hypertier[") and ("runtime off" in msg or "on: fast node" in msg),
   "log=info reports the runtime state: %s" % msg.strip().splitlines()[0] if msg else "log=info: nothing logged")

# fork / threads / exec stress, under a timeout
try:
    r = run([stress, "200"], True)
    out = r.stdout.decode(errors="replace")
    ok(r.returncode == 0 and "not ok" not in out and "Bail" not in out, "fork/thread/exec stress: " + out.strip().splitlines()[0])
except subprocess.TimeoutExpired:
    ok(False, "fork/thread/exec stress timed out (deadlock)")
plan()
subprocess.run(["rm", "-rf", tmp])
sys.exit(0)
PY
