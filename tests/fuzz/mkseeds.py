#!/usr/bin/env python3
"""mkseeds.py - write seeds/NAME/ for each harness from the unit tests'
inputs (tests/unit/*.c strings, tests/unit/data/). Run from tests/fuzz/;
the output is committed, so rerun only when the tests' inputs change."""
import json, os, re, struct

UNIT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'unit')


def put(name, i, data):
    d = os.path.join('seeds', name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, '%02d' % i), 'wb') as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def unit(path):
    return open(os.path.join(UNIT, path), encoding='utf-8').read()


def jl(*objs):  # one JSON object per line, as on the wire
    return ''.join(json.dumps(o, separators=(',', ':')) + '\n' for o in objs)


# conf: every string test_conf.c parses or refuses
src = unit('test_conf.c')
confs = sorted({s for line in src.splitlines() if re.search(r'fails\(|ht_conf_parse|neg\[\]|"\w+= ', line)
                for s in re.findall(r'"((?:[^"\\]|\\.)*)"', line) if '=' in s})
for i, s in enumerate(confs):
    put('conf', i, s.encode().decode('unicode_escape'))

# host side: what test_hostctl_proto's fake agent answers (seq 1 = hello)
nodes = [{"node": 0, "total": 1 << 30, "free": 1 << 29, "balloon": 0},
         {"node": 1, "total": 1 << 30, "free": 1 << 29, "balloon": 0}]
hello = {"v": 1, "seq": 1, "op": "hello", "pid": 42, "start": 7, "sysctl": "ok", "nodes": nodes}
status = {"v": 1, "seq": 2, "op": "status", "nodes": nodes}
def infl(seq, ranges, **kw):
    return dict({"v": 1, "seq": seq, "op": "inflate", "node": 1, "bytes": 4096 * len(ranges), "ranges": ranges}, **kw)
put('agent_host', 0, jl(hello, status, infl(3, [[1 << 32, 4096], [(2 << 32) + 8192, 8192]]),
                        infl(4, [[(1 << 32) + 65536, 4096]]), infl(5, [], why="node 1 is full"),
                        {"v": 1, "seq": 6, "op": "deflate", "node": 1, "bytes": 12288}))
put('agent_host', 1, jl(dict(hello, seq=99), hello, status, {"v": 1, "seq": 3, "op": "error", "why": "mlock: nope"}))
put('agent_host', 2, jl(hello, status, infl(3, [[1 << 32, 4096], [1 << 32, 4096]])))
put('agent_host', 3, jl(hello, status, infl(3, [[[[[[[[[[1]]]]]]]]]])))

# guest side: the requests hostctl sends
put('agent_guest', 0, jl({"v": 1, "seq": 1, "op": "hello"}, {"v": 1, "seq": 2, "op": "status"},
                         {"v": 1, "seq": 3, "op": "inflate", "node": 0, "bytes": 16384},
                         {"v": 1, "seq": 3, "op": "commit", "node": 0, "ok": True},
                         {"v": 1, "seq": 4, "op": "deflate", "node": 0, "bytes": 8192}))
put('agent_guest', 1, jl({"v": 2, "seq": 1, "op": "hello"}, {"seq": 2}, {"v": 1, "seq": 3, "op": "launch"},
                         {"v": 1, "seq": 4, "op": "inflate", "node": 99, "bytes": 4096}) + '{"v":1,\n')

# QMP: greeting-less replies in the harness's order (ids 1..5), an event between
qmp = [{"return": {}, "id": 1}, {"timestamp": {"seconds": 1, "microseconds": 2}, "event": "RTC_CHANGE"},
       {"return": unit('data/hostctl-mtree-5g.txt'), "id": 2},
       {"return": "2 nodes\r\nnode 0 cpus: 0 1\r\nnode 0 size: 512 MB\r\nnode 0 plugged: 0 MB\r\n"
                  "node 1 cpus:\r\nnode 1 size: 512 MB\r\nnode 1 plugged: 0 MB\r\n", "id": 3},
       {"return": "disconnected:unix:/run/vm1/ch0.sock,server=on", "id": 4},
       {"return": [{"type": "virtio-mem", "data": {"id": "vm0", "node": 1, "block-size": 2097152,
                                                   "max-size": 1 << 30, "size": 0, "requested-size": 0}}], "id": 5}]
put('qmp', 0, jl(*qmp))
put('qmp', 1, jl({"error": {"class": "GenericError", "desc": "no"}, "id": 1}, {"return": {}, "id": 999999}))

# perf ring: sample_type 0 (tid time addr weight), head 64, tail 0, two samples
hdr = lambda t, n: struct.pack('<IHH', t, 0, n)
ring = hdr(9, 40) + struct.pack('<QQQQ', 1234 | 7 << 32, 100, 0x7f0000001000, 30)
ring += hdr(2, 32) + struct.pack('<QQQ', 1, 5, 0)  # LOST
put('ring', 0, bytes([0]) + struct.pack('<QQQ', len(ring), 0, 0) + ring)
wrap = hdr(9, 40) + struct.pack('<QQQQ', 1, 2, 3, 4)  # tail near the end: the record wraps
put('ring', 1, bytes([0]) + struct.pack('<QQQ', 8192 + 24, 8192 - 16, 40) + wrap[16:] + b'\0' * (8192 - 40) + wrap[:16])
raw = hdr(9, 8 + 8 * 3 + 16) + struct.pack('<QQQ', 0, 1, 2) + struct.pack('<I', 12) + b'\1' * 12
put('ring', 2, bytes([2]) + struct.pack('<QQQ', len(raw), 0, 0) + raw)

# trace: the format of source/trace.h (what test_trace writes)
def varint(v):
    out = b''
    while True:
        out += bytes([(v & 0x7f) | (0x80 if v > 0x7f else 0)])
        v >>= 7
        if not v:
            return out
zz = lambda v: varint(((v << 1) ^ (v >> 63)) & 0xffffffffffffffff)
head = b'HTTRACE\0' + struct.pack('<IIQ', 1, 24, 1000)
recs = b'\3' + zz(0) + varint(0x7f0000000000) + varint(1 << 21)
recs += b'\1' + zz(5) + zz(0x7f0000001000) + varint(7) + varint(30)
recs += b'\2' + zz(1) + zz(-64) + varint(7) + varint(1)
recs += b'\4' + zz(3) + varint(0x7f0000000000) + varint(1 << 21) + b'\5' + varint(4)
put('trace', 0, head + recs)
put('trace', 1, head + recs[:9])

# ht-trace-convert: lackey lines as convert.sh feeds it
put('convert', 0, '==123== Lackey, an example Valgrind tool\nI  04010a0,3\n L 1ffefffd48,8\n S 1ffefffd40,8\n'
                  ' M 0401e38,4\nI  0401e3c,2\n')
put('convert', 1, ' L zz,8\n')

# htstat: flag byte, then a stats file image (header fixed up by the harness)
img = bytearray(40 + 256)
img[32:40] = struct.pack('<Q', 2)
put('htstat', 0, bytes([0]) + bytes(img))
put('htstat', 1, bytes([0]) + bytes(img[:32]) + struct.pack('<Q', 3) + b'A' * 3000)
put('htstat', 2, bytes([2]) + bytes(img[:40]))
