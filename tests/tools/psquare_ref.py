#!/usr/bin/python3
"""psquare_ref.py: numpy quantiles for the P-square test in
tests/lua/detect_thresh.lua.

Makes the same 1e5-value streams as the Lua test (the 64-bit LCG of
likelihood_ref.py; normal by Box-Muller, exponential by inversion,
uniform as is) and prints numpy.quantile (linear, numpy's default) of
each at the probabilities the test checks.

Run:  /usr/bin/python3 tests/tools/psquare_ref.py
"""
import math

import numpy

MASK = (1 << 64) - 1
N = 100000
PROBS = [0.5, 0.9, 0.99]


def stream(kind, seed, n=N):
    state = seed & MASK

    def uniform():
        nonlocal state
        state = (state * 6364136223846793005 + 1442695040888963407) & MASK
        return (state >> 11) * 2.0 ** -53

    out = []
    for _ in range(n):
        u = uniform()
        if kind == "normal":
            v = uniform()
            out.append(math.sqrt(-2.0 * math.log(1.0 - u)) * math.cos(2.0 * math.pi * v))
        elif kind == "exponential":
            out.append(-math.log(1.0 - u))
        else:
            out.append(u)
    return out


def main():
    print("local psquare_ref = {  -- numpy.quantile of each stream")
    for seed, kind in enumerate(["normal", "exponential", "uniform"], 11):
        x = numpy.array(stream(kind, seed))
        qs = ", ".join("[%g] = %.17g" % (p, numpy.quantile(x, p)) for p in PROBS)
        print('  {kind = "%s", seed = %d, %s},' % (kind, seed, qs))
    print("}")


if __name__ == "__main__":
    main()
