/*
 * bench_stats.c: throughput of the batch kernels of src/stats, against
 * the targets they were written to and against a named baseline run in
 * the same process: the loop a C programmer would write first.
 *
 *   sum, mean        1e8 values    target >= 1 G values/s
 *                    baseline: `for (i) s += x[i]` (one dependency chain,
 *                    no NaN skipping, no error control)
 *   rolling mean/std 1e7 values, window 1000, target >= 200 M values/s
 *                    baseline: a running sum (of squares), no NaN
 *                    handling, no compensation, no re-centring: faster,
 *                    and it drifts (the std one loses every digit on
 *                    data at 1e9 + noise); /base < 1 is the price of that
 *   rolling median   1e7 values, window 1001, target >= 10 M values/s
 *                    baseline: a sorted copy of the window kept by binary
 *                    search and memmove, O(window) per step (run on the
 *                    first 1e6 values: it is slow)
 *
 * Data: uniform on [0, 1) (no NaN), plus one row for sum with 1% NaN.
 * Each figure is the best of `repeats` runs (default 3). Prints a table;
 * the exit status is 0 whatever the times, as benchmarks gate nothing.
 *
 *   bench_stats [scale] [repeats]     scale 0.1 runs a tenth of the sizes
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stats/stats.h"

#define BENCH_SUM_N 100000000
#define BENCH_ROLLING_N 10000000
#define BENCH_ROLLING_WINDOW 1000
#define BENCH_MEDIAN_WINDOW 1001
#define BENCH_MEDIAN_BASELINE_N 1000000

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Keeps every result observable, so no timed loop is optimised away. */
static volatile double bench_sink;

typedef struct {
    const double *x;
    double *out;
    size_t n;
    void *work;
} bench_args;

typedef void (*bench_fn)(const bench_args *a);

static void run_sum(const bench_args *a) { bench_sink = mw_stats_sum(a->x, a->n); }
static void run_mean(const bench_args *a) { bench_sink = mw_stats_mean(a->x, a->n); }

static void run_plain_sum(const bench_args *a)
{
    double s = 0.0;
    for (size_t i = 0; i < a->n; i++)
        s += a->x[i];
    bench_sink = s;
}

static void run_rolling_mean(const bench_args *a)
{
    mw_stats_rolling_mean(a->x, a->n, BENCH_ROLLING_WINDOW, BENCH_ROLLING_WINDOW, a->out);
    bench_sink = a->out[a->n - 1];
}

static void run_rolling_std(const bench_args *a)
{
    mw_stats_rolling_std(a->x, a->n, BENCH_ROLLING_WINDOW, BENCH_ROLLING_WINDOW, 1, a->out);
    bench_sink = a->out[a->n - 1];
}

static void run_plain_rolling_mean(const bench_args *a)
{
    const size_t w = BENCH_ROLLING_WINDOW;
    double s = 0.0;
    for (size_t i = 0; i < a->n; i++) {
        s += a->x[i] - (i >= w ? a->x[i - w] : 0.0);
        a->out[i] = i + 1 >= w ? s / (double)w : NAN;
    }
    bench_sink = a->out[a->n - 1];
}

static void run_plain_rolling_std(const bench_args *a)
{
    const size_t w = BENCH_ROLLING_WINDOW;
    double s = 0.0, s2 = 0.0;
    for (size_t i = 0; i < a->n; i++) {
        double in = a->x[i], out = i >= w ? a->x[i - w] : 0.0;
        s += in - out;
        s2 += in * in - out * out;
        a->out[i] = i + 1 >= w ? sqrt((s2 - s * s / (double)w) / (double)(w - 1)) : NAN;
    }
    bench_sink = a->out[a->n - 1];
}

static void run_rolling_median(const bench_args *a)
{
    mw_stats_rolling_median(a->x, a->n, BENCH_MEDIAN_WINDOW, BENCH_MEDIAN_WINDOW, a->work,
                            a->out);
    bench_sink = a->out[a->n - 1];
}

static size_t lower_bound(const double *sorted, size_t len, double v)
{
    size_t lo = 0, hi = len;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (sorted[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void run_sorted_window_median(const bench_args *a)
{
    const size_t w = BENCH_MEDIAN_WINDOW;
    double *sorted = a->work;
    size_t len = 0;
    for (size_t i = 0; i < a->n; i++) {
        if (i >= w) {
            size_t at = lower_bound(sorted, len, a->x[i - w]);
            memmove(sorted + at, sorted + at + 1, (len - at - 1) * sizeof *sorted);
            len--;
        }
        size_t at = lower_bound(sorted, len, a->x[i]);
        memmove(sorted + at + 1, sorted + at, (len - at) * sizeof *sorted);
        sorted[at] = a->x[i];
        len++;
        a->out[i] = len < w ? NAN : 0.5 * (sorted[len / 2] + sorted[(len - 1) / 2]);
    }
    bench_sink = a->out[a->n - 1];
}

static double best_of(bench_fn fn, const bench_args *a, int repeats)
{
    double best = INFINITY;
    for (int r = 0; r < repeats; r++) {
        double t0 = now();
        fn(a);
        double dt = now() - t0;
        if (dt < best)
            best = dt;
    }
    return best;
}

static void row(const char *name, size_t n, double seconds, double unit, const char *unit_name,
                double target, double baseline_rate)
{
    double rate = (double)n / seconds / unit;
    printf("%-28s %9.1f ms %8.2f %-3s %8.2f %-3s %6.2fx %10.2f %-3s %7.1fx\n", name,
           seconds * 1e3, rate, unit_name, target, unit_name, rate / target,
           baseline_rate / unit, unit_name, rate * unit / baseline_rate);
}

static unsigned long long bench_rng_next(unsigned long long *state)
{
    unsigned long long z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

int main(int argc, char **argv)
{
    double scale = argc > 1 ? atof(argv[1]) : 1.0;
    int repeats = argc > 2 ? atoi(argv[2]) : 3;
    if (!(scale > 0.0) || repeats < 1) {
        fprintf(stderr, "usage: bench_stats [scale > 0] [repeats >= 1]\n");
        return 2;
    }
    size_t sum_n = (size_t)(BENCH_SUM_N * scale);
    size_t rolling_n = (size_t)(BENCH_ROLLING_N * scale);
    size_t baseline_n = (size_t)(BENCH_MEDIAN_BASELINE_N * scale);
    if (rolling_n <= BENCH_MEDIAN_WINDOW || baseline_n <= BENCH_MEDIAN_WINDOW) {
        fprintf(stderr, "bench_stats: scale too small for the windows\n");
        return 2;
    }
    double *x = malloc(sum_n * sizeof *x);
    double *out = malloc(rolling_n * sizeof *out);
    void *work = malloc(mw_stats_rolling_quantile_work_size(BENCH_MEDIAN_WINDOW));
    double *sorted = malloc(BENCH_MEDIAN_WINDOW * sizeof *sorted);
    if (x == NULL || out == NULL || work == NULL || sorted == NULL) {
        fprintf(stderr, "bench_stats: out of memory\n");
        return 1;
    }
    unsigned long long rng = 42;
    for (size_t i = 0; i < sum_n; i++)
        x[i] = (double)(bench_rng_next(&rng) >> 11) * 0x1.0p-53;

    printf("bench_stats: best of %d; rates in values per second; baseline: the "
           "first loop one would write (see the source)\n", repeats);
    printf("%-28s %12s %12s %12s %7s %14s %8s\n", "kernel", "time", "rate", "target",
           "/target", "baseline", "/base");

    bench_args a = {x, out, sum_n, NULL};
    double base = (double)sum_n / best_of(run_plain_sum, &a, repeats);
    row("sum (1e8)", sum_n, best_of(run_sum, &a, repeats), 1e9, "G", 1.0, base);
    row("mean (1e8)", sum_n, best_of(run_mean, &a, repeats), 1e9, "G", 1.0, base);

    a.n = rolling_n;
    base = (double)rolling_n / best_of(run_plain_rolling_mean, &a, repeats);
    row("rolling mean w=1000 (1e7)", rolling_n, best_of(run_rolling_mean, &a, repeats), 1e6,
        "M", 200.0, base);
    base = (double)rolling_n / best_of(run_plain_rolling_std, &a, repeats);
    row("rolling std w=1000 (1e7)", rolling_n, best_of(run_rolling_std, &a, repeats), 1e6,
        "M", 200.0, base);

    a.n = baseline_n;
    a.work = sorted;
    base = (double)baseline_n / best_of(run_sorted_window_median, &a, repeats);
    a.n = rolling_n;
    a.work = work;
    row("rolling median w=1001 (1e7)", rolling_n, best_of(run_rolling_median, &a, repeats),
        1e6, "M", 10.0, base);

    /* One NaN in a hundred sends most pairwise leaves to the careful path:
     * the price of skipping NaN, for the record. */
    for (size_t i = 0; i < sum_n; i += 100)
        x[i] = NAN;
    a.n = sum_n;
    a.work = NULL;
    double sum_with_nan = best_of(run_sum, &a, repeats);
    printf("%-28s %9.1f ms %8.2f G   (no target; informational)\n", "sum, 1% NaN (1e8)",
           sum_with_nan * 1e3, (double)sum_n / sum_with_nan / 1e9);

    free(x);
    free(out);
    free(work);
    free(sorted);
    return 0;
}
