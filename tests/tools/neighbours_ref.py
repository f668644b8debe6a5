#!/usr/bin/python3
"""neighbours_ref.py: scikit-learn's numbers for tests/lua/detect_neighbours.lua.

Makes the same data as the Lua test (the 64-bit LCG of likelihood_ref.py,
normals by Box-Muller): 4-dimensional rows, inliers from three Gaussian
clusters, every 20th row (from the 8th) an outlier drawn uniformly from
[-4, 8]^4. Prints, for the test to store:
- LocalOutlierFactor(n_neighbors=20).fit(X).negative_outlier_factor_ on
  X = 600 such rows: its ROC AUC and a few values (negated: LOF);
- LocalOutlierFactor(n_neighbors=20, novelty=True).fit(train) on 800
  inlier rows, score_samples on 400 test rows: AUC and a few values;
- the distance to the 5th neighbour (NearestNeighbors, PyOD's KNN
  "largest") of the test rows against train, and of each training row
  among the others (kneighbors with n_neighbors=6 less the row itself).

With --stream, also the ROC AUC of the exact sliding-window LOF on the
test's stream (seed 4, 4000 rows): each row from the 101st scored by a
LocalOutlierFactor(novelty=True) fitted on the 1000 rows before it (a few
minutes).

Run:  /usr/bin/python3 tests/tools/neighbours_ref.py [--stream]
"""
import math
import sys

import numpy
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import LocalOutlierFactor, NearestNeighbors

MASK = (1 << 64) - 1
CENTRES = [(0, 0, 0, 0), (4, 4, 0, 0), (0, 4, 4, -2)]


class Lcg:
    def __init__(self, seed):
        self.state = seed & MASK

    def uniform(self):
        self.state = (self.state * 6364136223846793005 + 1442695040888963407) & MASK
        return (self.state >> 11) * 2.0 ** -53

    def normal(self):
        u1, u2 = self.uniform(), self.uniform()
        return math.sqrt(-2.0 * math.log(1.0 - u1)) * math.cos(2.0 * math.pi * u2)


def rows(seed, n, outliers=True):
    """n rows and their labels (1: outlier), as the Lua test makes them."""
    g = Lcg(seed)
    xs, ys = [], []
    for i in range(n):
        if outliers and i % 20 == 7:
            xs.append([12.0 * g.uniform() - 4.0 for _ in range(4)])
            ys.append(1)
        else:
            c = CENTRES[i % 3]
            xs.append([c[k] + 0.8 * g.normal() for k in range(4)])
            ys.append(0)
    return numpy.array(xs), numpy.array(ys)


def show(name, values):
    print(name, "= {" + ", ".join("%.12g" % v for v in values) + "}")


def main():
    x, y = rows(1, 600)
    lof = LocalOutlierFactor(n_neighbors=20).fit(x)
    scores = -lof.negative_outlier_factor_
    print("batch lof auc = %.6f" % roc_auc_score(y, scores))
    show("batch lof first", scores[:8])

    train, _ = rows(2, 800, outliers=False)
    test, ty = rows(3, 400)
    nov = LocalOutlierFactor(n_neighbors=20, novelty=True).fit(train)
    nscores = -nov.score_samples(test)
    print("novelty lof auc = %.6f" % roc_auc_score(ty, nscores))
    show("novelty lof first", nscores[:8])

    nn = NearestNeighbors(n_neighbors=5).fit(train)
    dist, _ = nn.kneighbors(test)
    print("knn largest auc = %.6f" % roc_auc_score(ty, dist[:, -1]))
    show("knn largest first", dist[:8, -1])
    show("knn mean first", dist[:8].mean(axis=1))
    show("knn median first", numpy.median(dist[:8], axis=1))
    nn_x = NearestNeighbors(n_neighbors=6).fit(x)
    dist_x, _ = nn_x.kneighbors(x)
    print("knn self-excluded auc = %.6f" % roc_auc_score(y, dist_x[:, -1]))
    show("knn self-excluded first", dist_x[:8, -1])

    if "--stream" in sys.argv[1:]:
        xs, ys = rows(4, 4000)
        scores = []
        for i in range(100, 4000):
            model = LocalOutlierFactor(n_neighbors=20, novelty=True)
            model.fit(xs[max(0, i - 1000):i])
            scores.append(-model.score_samples(xs[i:i + 1])[0])
        print("exact sliding-window lof auc = %.6f" % roc_auc_score(ys[100:], scores))


if __name__ == "__main__":
    main()
