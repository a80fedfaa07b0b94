#!/usr/bin/env python3
"""text.py MIB [BIN] - deterministic compressible input for the xz trace on
stdout: MIB MiB of lines of words drawn (seeded) from a 20000-word
vocabulary with a Zipf-like frequency, numbers mixed in. BIN (percent,
default 0): that share of the chunks is instead a binary table of 16-byte
records (sequence number, small count, random u64), like a tar of mixed
files. Text alone spreads xz's hash over few pages (its hash mixes the
low bits of few distinct bytes); binary bytes spread it over the table."""
import random
import struct
import sys

rng = random.Random(5)
vocab = ["".join(rng.choice("etaoinshrdlucmfwypvbgkjqxz") for _ in range(rng.randint(2, 11))) for _ in range(20000)]
weights = [1.0 / (i + 1) for i in range(len(vocab))]
out, left = sys.stdout.buffer, int(sys.argv[1]) << 20
binary, seq = int(sys.argv[2]) if len(sys.argv) > 2 else 0, 0
while left > 0:
    if binary and rng.random() * 100 < binary:
        chunk = b"".join(struct.pack("<IIQ", seq + i, rng.randint(0, 99), rng.getrandbits(64)) for i in range(1024))
        seq += 1024
    else:
        words = rng.choices(vocab, weights, k=4096)
        chunk = (" ".join(w if rng.random() < 0.9 else str(rng.getrandbits(20)) for w in words) + "\n").encode()
    out.write(chunk[:left])
    left -= len(chunk)
