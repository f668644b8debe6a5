#!/usr/bin/python3
"""neighbours_ref.py: the scikit-learn side of bench/neighbours.lua.

    /usr/bin/python3 bench/neighbours_ref.py TRAIN.csv TEST.csv REPEATS

Reads the rows the Lua benchmark wrote (not timed) and times, best of
REPEATS, with time.perf_counter:
- knn: NearestNeighbors(n_neighbors=5).fit(train).kneighbors(test), the
  distance to the 5th neighbour (PyOD's KNN, method "largest");
- lof novelty: LocalOutlierFactor(n_neighbors=20, novelty=True)
  .fit(train).score_samples(test), negated;
- lof batch: LocalOutlierFactor(n_neighbors=20).fit(train)
  .negative_outlier_factor_, negated.
Prints one line per task: name, seconds, the sum of the scores (the Lua
side checks it against its own).
"""
import sys
import time

import numpy
from sklearn.neighbors import LocalOutlierFactor, NearestNeighbors


def best(fn, repeats):
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main():
    train = numpy.loadtxt(sys.argv[1], delimiter=",")
    test = numpy.loadtxt(sys.argv[2], delimiter=",")
    repeats = int(sys.argv[3])

    def knn():
        dist, _ = NearestNeighbors(n_neighbors=5).fit(train).kneighbors(test)
        return dist[:, -1]

    def lof_novelty():
        model = LocalOutlierFactor(n_neighbors=20, novelty=True).fit(train)
        return -model.score_samples(test)

    def lof_batch():
        return -LocalOutlierFactor(n_neighbors=20).fit(train).negative_outlier_factor_

    for name, fn in (("knn", knn), ("lof_novelty", lof_novelty), ("lof_batch", lof_batch)):
        seconds, scores = best(fn, repeats)
        print("%s %.6f %.12g" % (name, seconds, float(scores.sum())))


if __name__ == "__main__":
    main()
