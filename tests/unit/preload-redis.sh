#!/bin/sh
# redis-server under LD_PRELOAD=libhypertier.so on a free loopback port:
# redis-benchmark (also preloaded) drives it, then a fixed data set is
# loaded and its DEBUG DIGEST must equal the one a plain redis-server
# computes for the same data; keys read back intact.
so=${HT_PRELOAD_SO:-${abs_top_builddir:-..}/preload/.libs/libhypertier.so}
[ -f "$so" ] || { echo "Bail out! $so not built"; exit 1; }
for p in redis-server redis-cli redis-benchmark; do
	command -v $p >/dev/null || { echo "Bail out! $p not installed (Debian packages redis-server redis-tools)"; exit 1; }
done
py=/usr/bin/python3
[ -x $py ] || py=python3
exec env PYTHONPATH="${abs_top_srcdir:-$(dirname "$0")/../..}/tests" $py - "$so" <<'PY'
import os, socket, subprocess, sys, tempfile, time

so = sys.argv[1]
from tap import ok, plan

base = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "HYPERTIER_CONF")}
pre = dict(base, LD_PRELOAD=so)
if os.environ.get("HT_TEST_CONF"):
    pre["HYPERTIER_CONF"] = os.environ["HT_TEST_CONF"]

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p

def cli(port, *args, stdin=None, env=base):
    return subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(port)] + list(args), input=stdin,
                          capture_output=True, env=env, timeout=120)

def server(env):
    port = free_port()
    d = tempfile.mkdtemp(prefix="ht-redis-")
    p = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                          "--appendonly", "no", "--dir", d, "--enable-debug-command", "yes"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    for _ in range(100):
        if cli(port, "PING").stdout.strip() == b"PONG":
            return p, port, d
        time.sleep(0.1)
    p.kill()
    return None, port, d

def load(port):
    # a fixed data set: strings, lists, hashes, sets, sorted sets
    cmds = []
    for i in range(5000):
        cmds.append("SET key:%d %s" % (i, ("v%d-" % i) * (1 + i % 50)))
    for i in range(200):
        cmds.append("RPUSH list:%d %s" % (i, " ".join("e%d" % k for k in range(i % 40 + 1))))
        cmds.append("HSET hash:%d %s" % (i, " ".join("f%d %d" % (k, k * i) for k in range(i % 20 + 1))))
        cmds.append("SADD set:%d %s" % (i, " ".join("m%d" % k for k in range(i % 30 + 1))))
        cmds.append("ZADD zset:%d %s" % (i, " ".join("%d z%d" % (k * 3, k) for k in range(i % 25 + 1))))
    cmds.append("SET big %s" % ("x" * (4 << 20)))
    return cli(port, stdin=("\n".join(cmds) + "\n").encode())

def stop(p, port, d):
    cli(port, "SHUTDOWN", "NOSAVE")
    try:
        p.wait(timeout=20)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    subprocess.run(["rm", "-rf", d])
    return p

# reference digest from a plain server
rp, rport, rdir = server(base)
if not ok(rp is not None, "plain redis-server starts"):
    plan(); sys.exit(1)
load(rport)
ref = cli(rport, "DEBUG", "DIGEST").stdout.strip()
stop(rp, rport, rdir)

p, port, d = server(pre)
if not ok(p is not None, "redis-server starts under LD_PRELOAD on port %d" % port):
    plan(); sys.exit(1)
maps = open("/proc/%d/maps" % p.pid).read()
ok("libhypertier.so" in maps, "redis-server has libhypertier.so mapped")
b = subprocess.run(["redis-benchmark", "-h", "127.0.0.1", "-p", str(port), "-q", "-n", "20000", "-r", "10000",
                    "-d", "256", "-t", "set,get,incr,lpush,lpop,sadd,hset,zadd,lrange_100"],
                   capture_output=True, env=pre, timeout=300)
out = b.stdout.decode(errors="replace")
ok(b.returncode == 0 and "SET:" in out and "GET:" in out and "LRANGE_100" in out, "redis-benchmark (preloaded too) completes")
for l in out.replace("\r", "\n").splitlines():
    if "requests per second" in l:
        print("# " + l.strip())
ok(cli(port, "FLUSHALL").stdout.strip() == b"OK", "FLUSHALL after the benchmark")
load(port)
dig = cli(port, "DEBUG", "DIGEST").stdout.strip()
ok(dig == ref and len(dig) == 40, "DEBUG DIGEST under LD_PRELOAD equals the plain server's (%s)" % dig.decode())
ok(cli(port, "GET", "key:4321").stdout.strip() == (("v4321-") * (1 + 4321 % 50)).encode(), "a key reads back intact")
ok(cli(port, "STRLEN", "big").stdout.strip() == str(4 << 20).encode(), "the 4 MiB value reads back whole")
ok(cli(port, "ZRANGE", "zset:24", "0", "-1").stdout.split() == [("z%d" % k).encode() for k in range(25)], "sorted set intact")
p = stop(p, port, d)
err = p.stderr.read().decode(errors="replace")
ok(p.returncode == 0 and "hypertier" not in err, "redis-server shuts down cleanly, no runtime output")
plan()
PY
