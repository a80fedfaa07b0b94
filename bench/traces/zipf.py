"""zipf.py - the key choice the trace load generators share: Zipf(s) ranks
over n keys, each rank mapped to a key by a fixed random permutation (hot
keys scattered, not the first ones inserted). Deterministic (seeded)."""
import bisect
import random


class Zipf:
    def __init__(self, n, s=0.99, seed=1):
        self.rng = random.Random(seed)
        acc, self.cdf = 0.0, []
        for r in range(1, n + 1):
            acc += r ** -s
            self.cdf.append(acc)
        self.total = acc
        self.key = list(range(n))
        self.rng.shuffle(self.key)

    def __call__(self):
        return self.key[min(bisect.bisect(self.cdf, self.rng.random() * self.total), len(self.key) - 1)]
