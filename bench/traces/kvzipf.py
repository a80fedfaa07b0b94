#!/usr/bin/env python3
"""kvzipf.py PORT KEYS VALUE_BYTES SECS - the load of the redis-zipf trace.
Fills redis with KEYS values of VALUE_BYTES (DEBUG POPULATE: the server
fills them itself, no copy over the socket), then for SECS seconds (or until
the server goes away) sends pipelined batches of 8 commands, 95% GET and 5%
SET of a Zipf(0.99) key (zipf.py), and prints what it did."""
import socket
import sys
import time
from zipf import Zipf


def resp(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.buf = b""

    def _fill(self):
        d = self.s.recv(1 << 20)
        if not d:
            raise ConnectionError("server closed")
        self.buf += d

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def reply(self):
        line = self._line()
        if line[:1] == b"-":
            raise RuntimeError(line.decode())
        if line[:1] == b"$" and int(line[1:]) >= 0:
            n = int(line[1:]) + 2
            while len(self.buf) < n:
                self._fill()
            body, self.buf = self.buf[:n - 2], self.buf[n:]
            return body
        return line


def main():
    port, keys, size, secs = (int(a) for a in sys.argv[1:5])
    c = Conn(port)
    t0 = time.time()
    c.s.sendall(resp("DEBUG", "POPULATE", keys, "key", size))
    c.reply()
    print("kvzipf: %d keys x %d B populated in %.0f s" % (keys, size, time.time() - t0), flush=True)
    z, val, ops = Zipf(keys, seed=12), b"v" * size, 0
    try:
        while time.time() - t0 < secs:
            batch = []
            for _ in range(8):
                k = "key:%d" % z()
                batch.append(resp("SET", k, val) if z.rng.random() < 0.05 else resp("GET", k))
            c.s.sendall(b"".join(batch))
            for _ in batch:
                c.reply()
            ops += len(batch)
    except (ConnectionError, OSError):
        pass
    print("kvzipf: %d GET/SET in %.0f s" % (ops, time.time() - t0))


if __name__ == "__main__":
    main()
