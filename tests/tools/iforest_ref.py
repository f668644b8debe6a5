#!/usr/bin/python3
"""iforest_ref.py: scikit-learn references for tests/lua/detect_iforest.lua
and bench/iforest.lua.

Makes the same rows as the Lua test (shuttle_like below, mirrored in
the test: the 64-bit LCG of likelihood_ref.py, normals by Box-Muller),
shaped like the ODDS 'shuttle' set: 49,097 rows of 9 features, three
clusters of inliers and about 7% outliers (scattered over a box, or a
wide halo around the main cluster). Then:

  (default)  prints the data's checksum, the ROC AUC of
             sklearn.ensemble.IsolationForest (100 trees, 256 rows per
             tree, n_jobs=1) for random_state 0..4, and
             sklearn.metrics.roc_auc_score on a small case with ties (the
             check of the test's rank-based AUC).
  --bench    times IsolationForest fit + score_samples on the rows (the
             generation not timed), best of 3, and prints
             "sklearn_seconds=<s> auc=<a>" for bench/iforest.lua.
  --csv PATH writes the rows (9 columns and a label) to PATH.

Run:  /usr/bin/python3 tests/tools/iforest_ref.py [--bench | --csv PATH]
"""
import math
import sys
import time

import numpy
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score

MASK = (1 << 64) - 1
N = 49097
DIMS = 9


def shuttle_like(n=N, seed=2024):
    """Rows (n x 9) and labels (1: outlier), as the Lua test's shuttle_like."""
    state = seed & MASK

    def uniform():
        nonlocal state
        state = (state * 6364136223846793005 + 1442695040888963407) & MASK
        return (state >> 11) * 2.0 ** -53

    def normal():
        u1 = 1.0 - uniform()
        u2 = uniform()
        return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)

    centres = [
        [0.0] * DIMS,
        [4.0, 4.0, 4.0, -3.0, -3.0, -3.0, 0.0, 0.0, 0.0],
        [3.0, 0.0, 0.0, 0.0, 0.0, 0.0, -4.0, -4.0, -4.0],
    ]
    spreads = [1.0, 0.5, 0.7]
    rows = numpy.empty((n, DIMS))
    labels = numpy.zeros(n, dtype=int)
    for i in range(n):
        u = uniform()
        if u < 0.07:
            labels[i] = 1
            if u < 0.04:          # scattered over the box [-8, 8]^9
                row = [16.0 * uniform() - 8.0 for _ in range(DIMS)]
            else:                 # a wide halo around the main cluster
                row = [2.5 * normal() for _ in range(DIMS)]
        else:
            c = 0 if u < 0.75 else (1 if u < 0.90 else 2)
            row = [centres[c][k] + spreads[c] * normal() for k in range(DIMS)]
        rows[i] = row
    return rows, labels


def sklearn_scores(rows, random_state):
    forest = IsolationForest(n_estimators=100, max_samples=256,
                             random_state=random_state, n_jobs=1)
    forest.fit(rows)
    return -forest.score_samples(rows)    # the paper's s(x): higher = more anomalous


def main():
    rows, labels = shuttle_like()
    if len(sys.argv) > 2 and sys.argv[1] == "--csv":
        with open(sys.argv[2], "w") as out:
            out.write(",".join("x%d" % k for k in range(DIMS)) + ",label\n")
            for row, label in zip(rows, labels):
                out.write(",".join(repr(float(v)) for v in row) + ",%d\n" % label)
        return
    if len(sys.argv) > 1 and sys.argv[1] == "--bench":
        best, auc = math.inf, None
        for _ in range(3):
            t0 = time.perf_counter()
            scores = sklearn_scores(rows, 0)
            best = min(best, time.perf_counter() - t0)
            auc = roc_auc_score(labels, scores)
        print("sklearn_seconds=%.6f auc=%.6f" % (best, auc))
        return
    print("rows %d, outliers %d, sum %.10f, first %r" %
          (len(rows), labels.sum(), rows.sum(), [float(v) for v in rows[0][:3]]))
    aucs = [roc_auc_score(labels, sklearn_scores(rows, s)) for s in range(5)]
    print("IsolationForest AUC, random_state 0..4:", ["%.4f" % a for a in aucs],
          "mean %.4f" % (sum(aucs) / len(aucs)))
    scores = [0.1, 0.4, 0.35, 0.8, 0.4, 0.4, 0.2, 0.8]
    truth = [0, 0, 1, 1, 1, 0, 1, 0]
    print("roc_auc_score on the ties case: %.10f" % roc_auc_score(truth, scores))


if __name__ == "__main__":
    main()
