"""profile_ref.py: bench/profile_ref.lua's work in plain Python, for
memory_profiler's overhead on comparable code (bench/mem_profile.lua).

    python3 bench/profile_ref.py [repeats] [csv]
    python3 -m memory_profiler bench/profile_ref.py [repeats] [csv]

memory_profiler traces the lines of the functions marked @profile: the
whole job is one such function, as the Lua script is profiled whole.
"""
import csv
import math
import sys

try:
    profile  # defined by `python3 -m memory_profiler`
except NameError:
    def profile(fn):
        return fn


@profile
def job(repeats, path):
    total_anomalies, total_bins = 0, 0
    for _ in range(repeats):
        with open(path, newline="") as f:
            rows = list(csv.reader(f))[1:]
        values = [float(r[1]) for r in rows]
        window = 288
        s = s2 = 0.0
        scores = []
        for i, x in enumerate(values):
            if i >= window:
                mean = s / window
                var = (s2 - window * mean * mean) / (window - 1)
                sd = math.sqrt(var) if var > 0 else 0.0
                scores.append(abs(x - mean) / sd if sd > 0 else 0.0)
                old = values[i - window]
                s -= old
                s2 -= old * old
            else:
                scores.append(float("nan"))
            s += x
            s2 += x * x
        anomalies = []
        for i, score in enumerate(scores):
            if score == score and score > 3:
                anomalies.append({"index": i, "value": values[i], "score": score})
        hist = {}
        for v in values:
            b = math.floor(v / 10)
            hist[b] = hist.get(b, 0) + 1
        total_bins += len(hist)
        total_anomalies += len(anomalies)
    print("%d anomalies, %d bins" % (total_anomalies, total_bins))


if __name__ == "__main__":
    job(int(sys.argv[1]) if len(sys.argv) > 1 else 50,
        sys.argv[2] if len(sys.argv) > 2 else "examples/data/art_daily_jumpsup.csv")
