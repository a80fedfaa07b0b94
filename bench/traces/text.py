#!/usr/bin/env python3
"""text.py MIB - deterministic compressible input for the xz trace on
stdout: MIB MiB of lines of words drawn (seeded) from a 20000-word
vocabulary with a Zipf-like frequency, numbers mixed in."""
import random
import sys

rng = random.Random(5)
vocab = ["".join(rng.choice("etaoinshrdlucmfwypvbgkjqxz") for _ in range(rng.randint(2, 11))) for _ in range(20000)]
weights = [1.0 / (i + 1) for i in range(len(vocab))]
out, left = sys.stdout.buffer, int(sys.argv[1]) << 20
while left > 0:
    words = rng.choices(vocab, weights, k=4096)
    chunk = (" ".join(w if rng.random() < 0.9 else str(rng.getrandbits(20)) for w in words) + "\n").encode()
    out.write(chunk[:left])
    left -= len(chunk)
