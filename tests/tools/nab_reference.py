#!/usr/bin/env python3
"""nab_reference.py: an independent NAB scorer, for checking mw.nab.score.

Written from the rules in ../shared/data/nab/README.md (and NAB's
sweeper: windows entered at the first row of their start time, left at
the first row of their end time; FP distance over width - 1). Scores the
first difference against the largest before it (exact in any
language, so the scorers alone are compared) over the 41 series, and prints the three
normalised scores that tests/lua/nab.lua checks:

    /usr/bin/python3 tests/tools/nab_reference.py ../shared/data/nab
"""
import csv, json, math, sys
from datetime import datetime, timezone

import numpy as np

PROFILES = {"standard": (1.0, 0.11, 1.0), "reward_low_FP_rate": (1.0, 0.22, 1.0),
            "reward_low_FN_rate": (1.0, 0.11, 2.0)}


def f(y):
    return -1.0 if y >= 3 else 2.0 / (1.0 + math.exp(5.0 * y)) - 1.0


def rows_of(path):
    stamps, values = [], []
    with open(path) as fh:
        r = csv.reader(fh)
        next(r)
        for t, v in r:
            stamps.append(t)
            values.append(float(v))
    return stamps, np.array(values)


def first_difference(x):
    """|x[i] - x[i-1]| / the largest such difference before it (NaN until
    one is positive): one subtraction and one division, exact anywhere."""
    out = np.full(len(x), np.nan)
    top = 0.0
    for i in range(1, len(x)):
        d = abs(x[i] - x[i - 1])
        if top > 0:
            out[i] = d / top
        top = max(top, d)
    return out


def points(stamps, scores, windows, weights):
    """(score, weight, window key or None) of each scored row."""
    tp, fp, fn = weights
    n = len(stamps)
    prob = min(math.floor(0.15 * n), 0.15 * 5000)
    keys = [s[:19] for s in stamps]
    wins = [(keys.index(a[:19]), keys.index(b[:19])) for a, b in windows]
    out, prev = [], None
    for i in range(n):
        inside = [w for w in wins if w[0] <= i <= w[1]]
        if inside:
            a, b = inside[0]
            wt = f(-(b - i + 1) / (b - a + 1)) * tp / f(-1)
            key = (a, b)
        else:
            done = [w for w in wins if w[1] < i]
            if done:
                a, b = done[-1]
                d = (i - b) / (b - a) if b > a else 3.0
            else:
                d = 3.0
            wt, key = f(d) * fp, None
        if i >= prob:
            out.append((scores[i], wt, key))
    return out, wins


def main(root):
    labels = json.load(open(root + "/labels/combined_windows.json"))
    runs = []
    for name in sorted(labels):
        stamps, x = rows_of(root + "/data/" + name)
        runs.append((name, stamps, first_difference(x), labels[name]))
    for profile, weights in PROFILES.items():
        allpts, n_windows, null = [], 0, 0.0
        for name, stamps, s, windows in runs:
            pts, wins = points(stamps, s, windows, weights)
            scored = {p[2] for p in pts if p[2] is not None}
            null -= weights[2] * len(scored)
            n_windows += len(windows)
            allpts += [(sc, wt, (name, k) if k else None) for sc, wt, k in pts]
        allpts = [p for p in allpts if not math.isnan(p[0])]
        allpts.sort(key=lambda p: -p[0])
        best, total, bestwin = null, null, {}
        i = 0
        while i < len(allpts):
            x = allpts[i][0]
            while i < len(allpts) and allpts[i][0] == x:
                sc, wt, key = allpts[i]
                if key is None:
                    total += wt
                else:
                    old = bestwin.get(key, -weights[2])
                    if wt > old:
                        total += wt - old
                        bestwin[key] = wt
                i += 1
            best = max(best, total)
        perfect = weights[0] * n_windows
        print("%s %.10f raw %.10f" % (profile, 100 * (best - null) / (perfect - null), best))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/nab")
