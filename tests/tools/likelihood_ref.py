#!/usr/bin/python3
"""likelihood_ref.py: reference numbers for tests/lua/detect_thresh.lua.

An independent re-implementation, in plain Python and numpy, of NuPIC's
AnomalyLikelihood (nupic/algorithms/anomaly_likelihood.py: the class's
anomalyProbability, estimateAnomalyLikelihoods, updateAnomalyLikelihoods,
_filterLikelihoods, estimateNormal, nullDistribution, tailProbability and
nupic.utils.MovingAverage.compute), written batch-style as NuPIC does it:
each re-estimation recomputes the moving averages of the whole history
deque from scratch and fits numpy.mean / numpy.var to them. No metric
value is passed (NuPIC skips its flat-metric check for non-numeric
values, and mw.thresh.likelihood never sees the metric).

The inputs come from a 64-bit LCG that the Lua test reproduces bit for
bit (integer arithmetic and exactly rounded float operations only).

Run:  /usr/bin/python3 tests/tools/likelihood_ref.py
It prints the Lua tables pasted into detect_thresh.lua.
"""
import collections
import math

import numpy

MASK = (1 << 64) - 1


class Lcg:
    """state = state * 6364136223846793005 + 1442695040888963407 (mod 2^64);
    a uniform in [0, 1) from its top 53 bits."""

    def __init__(self, seed):
        self.state = seed & MASK

    def uniform(self):
        self.state = (self.state * 6364136223846793005 + 1442695040888963407) & MASK
        return (self.state >> 11) * 2.0 ** -53


def scores(n, seed):
    """Mostly small scores, some exact zeros, and bursts near 1 for five
    steps at every 1000th step from 700 on (1-based i)."""
    g = Lcg(seed)
    out = []
    for i in range(1, n + 1):
        u = g.uniform()
        v = g.uniform()
        if 700 <= i % 1000 <= 704:
            out.append(0.95 + 0.05 * u)
        elif u < 0.1:
            out.append(0.0)
        else:
            out.append(v * v * v * 0.4)
    return out


def moving_average(window, total, value, size):
    """MovingAverage.compute: the window (a list, changed in place) and its
    running total, one value in."""
    if len(window) == size:
        total -= window.pop(0)
    window.append(value)
    total += value
    return total / len(window), total


def tail(x, mean, stdev):
    if x < mean:
        x = 2 * mean - x
    z = (x - mean) / stdev
    return 0.5 * math.erfc(z / 1.4142)


RED = 1.0 - 0.99999
YELLOW = 1.0 - 0.999


def filtered_last(raws):
    """The last value of _filterLikelihoods(raws)."""
    if len(raws) == 1:
        return raws[0]
    v, prev = raws[-1], raws[-2]
    if v <= RED and prev <= RED:
        return YELLOW
    return v


class Likelihood:
    def __init__(self, learning_period=288, estimation_samples=100,
                 historic_window=8640, reestimation_period=100, averaging_window=10):
        assert historic_window >= estimation_samples
        self.learning = learning_period
        self.probation = learning_period + estimation_samples
        self.reestimation = reestimation_period
        self.averaging = averaging_window
        self.history = collections.deque(maxlen=historic_window)
        self.iteration = 0
        self.params = None

    def estimate(self):
        shifted = max(0, self.iteration - self.history.maxlen)
        skip = min(self.iteration, max(0, self.learning - shifted))
        window, total, averages = [], 0.0, []
        for score in self.history:
            avg, total = moving_average(window, total, score, self.averaging)
            averages.append(avg)
        values = numpy.array(averages)
        if len(averages) <= skip:
            mean, stdev = 0.5, 1e3
        else:
            mean = numpy.mean(values[skip:])
            variance = numpy.var(values[skip:])
            if mean < 0.03:
                mean = 0.03
            if variance < 0.0003:
                variance = 0.0003
            stdev = math.sqrt(variance) if variance > 0 else 0
        raws = [tail(a, mean, stdev) for a in averages]
        self.params = {
            "mean": mean, "stdev": stdev, "window": window, "total": total,
            "raws": raws[-min(self.averaging, len(raws)):],
        }

    def probability(self, score):
        if self.iteration < self.probation:
            likelihood = 0.5
        else:
            if self.params is None or self.iteration % self.reestimation == 0:
                self.estimate()
            p = self.params
            avg, p["total"] = moving_average(p["window"], p["total"], score, self.averaging)
            raws = p["raws"] + [tail(avg, p["mean"], p["stdev"])]
            likelihood = 1.0 - filtered_last(raws)
            p["raws"] = raws[-min(self.averaging, len(raws)):]
        self.history.append(score)
        self.iteration += 1
        return likelihood


def log_scale(likelihood):
    return math.log(1.0000000001 - likelihood) / -23.02585084720009


CASES = [
    # name, parameters, n, seed, log output
    ("defaults", {}, 10000, 1, False),
    ("small", dict(learning_period=50, estimation_samples=30, historic_window=400,
                   reestimation_period=25, averaging_window=7), 3000, 2, True),
    ("tiny_history", dict(learning_period=5, estimation_samples=3, historic_window=8,
                          reestimation_period=3, averaging_window=10), 1500, 3, False),
    ("null_fit", dict(learning_period=20, estimation_samples=0, historic_window=100,
                      reestimation_period=7, averaging_window=3), 1200, 4, False),
]


def main():
    print("local likelihood_ref = {")
    for name, params, n, seed, log in CASES:
        lik = Likelihood(**params)
        out = []
        for s in scores(n, seed):
            v = lik.probability(s)
            out.append(log_scale(v) if log else v)
        # Every 100th output, the outputs of the red zone (above 0.999,
        # and the filter's 1 - 0.001), and two weighted sums that a change
        # anywhere would move.
        red = {i + 1 for i, v in enumerate(out) if v >= (log_scale(0.9989) if log else 0.9989)}
        picks = sorted(set(range(1, n + 1, 100)) | red)
        total = sum(out)
        weighted = sum(v * (i % 97) for i, v in enumerate(out, 1))
        params_lua = ", ".join("%s = %d" % kv for kv in sorted(params.items()))
        if log:
            params_lua += (", " if params_lua else "") + 'output = "log"'
        print('  {name = "%s", params = {%s}, n = %d, seed = %d,' % (name, params_lua, n, seed))
        print("   sum = %.17g, weighted = %.17g, at = {" % (total, weighted))
        line = "    "
        for i in picks:
            item = "[%d] = %.17g, " % (i, out[i - 1])
            if len(line) + len(item) > 88:
                print(line.rstrip())
                line = "    "
            line += item
        print(line.rstrip())
        print("  }},")
    print("}")


if __name__ == "__main__":
    main()
