#!/usr/bin/env python3
"""graph.py NODES DEGREE SECS - the python-graph trace: a random graph of
NODES nodes with DEGREE out-edges each, stored as one flat CSR-like array of
32-bit targets (os.urandom: NODES*DEGREE*4 bytes filled by the kernel, so
the trace sees a page only when the algorithm reads it), targets skewed
toward hub nodes (power-law in-degree, hubs scattered by a multiplicative
hash of their id). Then a BFS from node 0 for a third of SECS and a
Monte-Carlo PageRank (random walks with restart, visit counts in an array)
for the rest; prints the nodes reached and the walk steps."""
import array
import os
import random
import sys
import time

n, deg, secs = (int(a) for a in sys.argv[1:4])
assert n & (n - 1) == 0, "NODES: a power of two"
t0 = time.time()
edges = memoryview(os.urandom(n * deg * 4)).cast("I")
mask, shift = n - 1, 32 - n.bit_length() + 1


def target(e):
    # e uniform in [0, 2^32): rank = n * u^3 (hubs: small ranks), then scatter
    u = e >> shift
    return (((u * u >> (n.bit_length() - 1)) * u >> (n.bit_length() - 1)) * 0x9E3779B1) & mask


seen = bytearray(n)
frontier, reached = [0], 1
seen[0] = 1
while frontier and time.time() - t0 < secs / 3:
    nxt = []
    for v in frontier:
        for e in edges[v * deg:(v + 1) * deg]:
            u = target(e)
            if not seen[u]:
                seen[u] = 1
                nxt.append(u)
        if time.time() - t0 >= secs / 3:
            break
    reached += len(nxt)
    frontier = nxt
print("graph: BFS reached %d of %d nodes in %.0f s" % (reached, n, time.time() - t0), flush=True)

visits = array.array("I", bytes(4 * n))
rng, v, steps = random.Random(3), 0, 0
while time.time() - t0 < secs:
    for _ in range(1000):
        if rng.random() < 0.15:
            v = rng.getrandbits(32) & mask
        else:
            v = target(edges[v * deg + rng.getrandbits(4) % deg])
        visits[v] += 1
    steps += 1000
print("graph: %d PageRank walk steps; %d nodes visited" % (steps, sum(1 for x in visits if x)))
