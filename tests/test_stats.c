/*
 * test_stats.c: the numerical kernels of src/stats against references.
 *
 * Two kinds of reference:
 *   - naive implementations written here, as plainly as possible (sums in
 *     long double, a fresh two-pass variance per window, quantiles from a
 *     sorted copy, O(n * window) rolling), run on seeded random data with
 *     NaN (and in places infinities) sprinkled in, over the edge lengths
 *     0, 1, 2, 3, 10, 1000, windows 1, 2, 3, 7, n and longer than n, and
 *     every min_periods that changes the answer;
 *   - fixed numbers from numpy, stored next to the numpy expression that
 *     produced them, so the semantics (ddof, interpolation, NaN policy,
 *     window alignment) are pinned to the library they imitate.
 *
 * Tolerance: results are compared relative to a scale, by default 1e-9
 * (TEST_RTOL). Every kernel is accurate to a few ulps on this data, so
 * 1e-9 leaves room for legitimately different rounding (pairwise versus
 * sequential sums, Welford versus two-pass) and still catches any real
 * mistake, which shows up at 1e-3 or worse. Sums are compared relative to
 * the sum of |x| over the same values: that is the accuracy a floating
 * point sum can promise when terms cancel. Nothing needs a looser bound;
 * several are exact: extremes, quantiles and medians pick elements of the
 * input and interpolate with numpy's formula, so they must agree with the
 * sorted reference to the bit, and a constant window's variance must be 0.
 *
 * The calendar (stats/calendar.h) is checked against a plain day-by-day
 * count from 1600 to 2400, both ways, to the day.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats/calendar.h"
#include "stats/stats.h"

#define TEST_RTOL 1e-9

/* Large enough for every random case; the accuracy cases allocate their
 * own. */
#define TEST_MAX_N 20000

static const size_t test_lengths[] = {0, 1, 2, 3, 10, 1000};
static const double test_quantiles[] = {0.0, 0.1, 0.5, 0.9, 1.0};
#define TEST_N_LENGTHS (sizeof test_lengths / sizeof test_lengths[0])
#define TEST_N_QUANTILES (sizeof test_quantiles / sizeof test_quantiles[0])

/* ---- fixture: buffers, so tests allocate nothing themselves ------------ */

typedef struct {
    double *x, *copy, *out, *scratch, *sorted;
    double *expect[8 + TEST_N_QUANTILES];   /* per-index reference results */
    double *abs_scale;                       /* sum of |x| over each window */
    size_t *count;                           /* non-NaN values in each window */
} buffers;

static int buffers_setup(void **state)
{
    buffers *b = calloc(1, sizeof *b);
    if (b == NULL)
        return -1;
    double **all[] = {&b->x, &b->copy, &b->out, &b->scratch, &b->sorted, &b->abs_scale};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        *all[i] = malloc(TEST_MAX_N * sizeof(double));
        if (*all[i] == NULL)
            return -1;
    }
    for (size_t i = 0; i < sizeof b->expect / sizeof b->expect[0]; i++) {
        b->expect[i] = malloc(TEST_MAX_N * sizeof(double));
        if (b->expect[i] == NULL)
            return -1;
    }
    b->count = malloc(TEST_MAX_N * sizeof(size_t));
    if (b->count == NULL)
        return -1;
    *state = b;
    return 0;
}

static int buffers_teardown(void **state)
{
    buffers *b = *state;
    free(b->x);
    free(b->copy);
    free(b->out);
    free(b->scratch);
    free(b->sorted);
    free(b->abs_scale);
    for (size_t i = 0; i < sizeof b->expect / sizeof b->expect[0]; i++)
        free(b->expect[i]);
    free(b->count);
    free(b);
    return 0;
}

/* ---- data --------------------------------------------------------------- */

/* splitmix64: seeded, so every failure reproduces. */
typedef struct {
    uint64_t state;
} test_rng;

static uint64_t rng_next(test_rng *rng)
{
    uint64_t z = (rng->state += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

static double rng_uniform(test_rng *rng)
{
    return (double)(rng_next(rng) >> 11) * 0x1.0p-53;
}

/* Uniform on [low, high), each value NaN with probability nan_fraction. */
static void fill_random(test_rng *rng, double *x, size_t n, double low, double high,
                        double nan_fraction)
{
    for (size_t i = 0; i < n; i++) {
        double v = low + (high - low) * rng_uniform(rng);
        x[i] = rng_uniform(rng) < nan_fraction ? NAN : v;
    }
}

/* ---- comparison --------------------------------------------------------- */

/* NaN matches NaN, an infinity matches itself; otherwise |actual - expected|
 * <= rtol * max(scale, |expected|). */
static void check_close(const char *what, size_t index, double actual, double expected,
                        double rtol, double scale)
{
    if (isnan(expected) || isnan(actual)) {
        if (isnan(expected) && isnan(actual))
            return;
    } else if (isinf(expected) || isinf(actual)) {
        if (actual == expected)
            return;
    } else {
        double bound = rtol * fmax(scale, fabs(expected));
        if (fabs(actual - expected) <= bound)
            return;
    }
    fail_msg("%s [%zu]: got %.17g, expected %.17g", what, index, actual, expected);
}

static void check_array(const char *what, const double *actual, const double *expected,
                        size_t n, double rtol)
{
    for (size_t i = 0; i < n; i++)
        check_close(what, i, actual[i], expected[i], rtol, 0.0);
}

/* ---- naive references --------------------------------------------------- */

static size_t ref_collect(const double *x, size_t first, size_t end, double *values)
{
    size_t count = 0;
    for (size_t i = first; i < end; i++) {
        if (!isnan(x[i]))
            values[count++] = x[i];
    }
    return count;
}

static double ref_sum(const double *v, size_t count)
{
    long double sum = 0.0L;
    for (size_t i = 0; i < count; i++)
        sum += v[i];
    return (double)sum;
}

static double ref_abs_sum(const double *v, size_t count)
{
    long double sum = 0.0L;
    for (size_t i = 0; i < count; i++)
        sum += fabsl(v[i]);
    return (double)sum;
}

/* Two-pass, in long double, with the mean refined by one more pass
 * (valgrind runs long double at double precision, and a plain mean of
 * 1e4 values near 1e9 is then off by 1e-5, enough to move the variance of
 * the offset test by 1e-9). An infinity makes it NaN, as numpy. */
static double ref_var(const double *v, size_t count, size_t ddof)
{
    if (count <= ddof)
        return NAN;
    long double mean = 0.0L;
    for (size_t i = 0; i < count; i++)
        mean += v[i];
    mean /= (long double)count;
    long double residual = 0.0L;
    for (size_t i = 0; i < count; i++)
        residual += v[i] - mean;
    mean += residual / (long double)count;
    long double ss = 0.0L;
    for (size_t i = 0; i < count; i++)
        ss += (v[i] - mean) * (v[i] - mean);
    return (double)(ss / (long double)(count - ddof));
}

static int ref_compare(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* numpy's "linear" method on sorted values, with numpy's _lerp; except
 * that equal neighbours give themselves (numpy gives NaN between two
 * equal infinities, the kernels give the infinity). */
static double ref_quantile_sorted(const double *sorted, size_t count, double q)
{
    if (count == 0)
        return NAN;
    double position = q * (double)(count - 1);
    size_t k = (size_t)floor(position);
    double t = position - (double)k;
    if (t == 0.0)
        return sorted[k];
    double below = sorted[k], above = sorted[k + 1];
    if (below == above)
        return below;
    double diff = above - below;
    return t >= 0.5 ? above - diff * (1.0 - t) : below + diff * t;
}

static double ref_quantile(const double *x, size_t n, double q, double *sorted)
{
    size_t count = ref_collect(x, 0, n, sorted);
    qsort(sorted, count, sizeof *sorted, ref_compare);
    return ref_quantile_sorted(sorted, count, q);
}

/* ---- reductions --------------------------------------------------------- */

static void check_reductions(buffers *b, size_t n, const char *ctx)
{
    double *x = b->x;
    memcpy(b->copy, x, n * sizeof *x);
    size_t count = ref_collect(x, 0, n, b->sorted);
    double abs_sum = ref_abs_sum(b->sorted, count);

    assert_int_equal(mw_stats_count(x, n), count);
    check_close(ctx, 0, mw_stats_sum(x, n), ref_sum(b->sorted, count), TEST_RTOL, abs_sum);
    check_close(ctx, 1, mw_stats_mean(x, n),
                count ? ref_sum(b->sorted, count) / (double)count : NAN,
                TEST_RTOL, count ? abs_sum / (double)count : 0.0);
    for (size_t ddof = 0; ddof <= 2; ddof++) {
        double var = ref_var(b->sorted, count, ddof);
        check_close(ctx, 2 + ddof, mw_stats_var(x, n, ddof), var, TEST_RTOL, 0.0);
        check_close(ctx, 5 + ddof, mw_stats_std(x, n, ddof), sqrt(var), TEST_RTOL, 0.0);
    }

    size_t argmin = SIZE_MAX, argmax = SIZE_MAX;
    for (size_t i = 0; i < n; i++) {
        if (isnan(x[i]))
            continue;
        if (argmin == SIZE_MAX || x[i] < x[argmin])
            argmin = i;
        if (argmax == SIZE_MAX || x[i] > x[argmax])
            argmax = i;
    }
    assert_int_equal(mw_stats_argmin(x, n), argmin);
    assert_int_equal(mw_stats_argmax(x, n), argmax);
    check_close(ctx, 8, mw_stats_min(x, n), argmin == SIZE_MAX ? NAN : x[argmin], 0.0, 0.0);
    check_close(ctx, 9, mw_stats_max(x, n), argmax == SIZE_MAX ? NAN : x[argmax], 0.0, 0.0);

    /* Selection returns elements of x and interpolates with the same
     * formula: the result must be bit-identical to the sorted reference. */
    for (size_t j = 0; j < TEST_N_QUANTILES; j++) {
        double q = test_quantiles[j];
        check_close(ctx, 10 + j, mw_stats_quantile(x, n, q, b->scratch),
                    ref_quantile(x, n, q, b->sorted), 0.0, 0.0);
    }
    double median = ref_quantile(x, n, 0.5, b->sorted);
    check_close(ctx, 20, mw_stats_median(x, n, b->scratch), median, 0.0, 0.0);
    for (size_t i = 0; i < n; i++)
        b->out[i] = fabs(x[i] - median);
    double mad = ref_quantile(b->out, n, 0.5, b->sorted);
    check_close(ctx, 21, mw_stats_mad(x, n, b->scratch), mad, 0.0, 0.0);

    /* The input is never written (scratch is where the reordering goes). */
    assert_memory_equal(x, b->copy, n * sizeof *x);

    /* scratch may be x itself; x is then consumed. */
    for (size_t j = 0; j < TEST_N_QUANTILES; j++) {
        memcpy(b->scratch, b->copy, n * sizeof *x);
        check_close(ctx, 30 + j, mw_stats_quantile(b->scratch, n, test_quantiles[j], b->scratch),
                    ref_quantile(b->copy, n, test_quantiles[j], b->sorted), 0.0, 0.0);
    }
    memcpy(b->scratch, b->copy, n * sizeof *x);
    check_close(ctx, 40, mw_stats_mad(b->scratch, n, b->scratch), mad, 0.0, 0.0);
}

static void test_reduce_random(void **state)
{
    buffers *b = *state;
    test_rng rng = {1};
    static const double nan_fractions[] = {0.0, 0.2, 1.0};
    char ctx[96];
    for (size_t l = 0; l < TEST_N_LENGTHS; l++) {
        for (size_t f = 0; f < 3; f++) {
            size_t n = test_lengths[l];
            fill_random(&rng, b->x, n, -10.0, 10.0, nan_fractions[f]);
            snprintf(ctx, sizeof ctx, "reduce n=%zu nan=%g", n, nan_fractions[f]);
            check_reductions(b, n, ctx);
        }
    }
}

/* Inputs that defeat naive pivot choices or partitioning: sorted, reversed,
 * constant, two values, organ pipe, sawtooth. Also checks the selection
 * never takes long enough to matter (the heapsort fallback). */
static void test_reduce_quantile_patterns(void **state)
{
    buffers *b = *state;
    const size_t n = 10001;
    char ctx[64];
    for (int pattern = 0; pattern < 6; pattern++) {
        for (size_t i = 0; i < n; i++) {
            double v;
            switch (pattern) {
            case 0: v = (double)i; break;
            case 1: v = (double)(n - i); break;
            case 2: v = 4.25; break;
            case 3: v = (double)(i % 2); break;
            case 4: v = (double)(i < n / 2 ? i : n - i); break;
            default: v = (double)(i % 37); break;
            }
            b->x[i] = v;
        }
        snprintf(ctx, sizeof ctx, "pattern %d", pattern);
        check_reductions(b, n, ctx);
        check_reductions(b, n - 1, ctx);
    }
}

/* Values and expressions shared by the fixed numpy cases:
 *   import numpy as np; nan = np.nan
 *   x = np.array([0.3, nan, -1.7, 4.1, 3.3, nan, 0.9, 12.6, -3.2, 2.2,
 *                 nan, 6.7, 1.1])
 */
static const double numpy_x[] = {0.3, NAN, -1.7, 4.1, 3.3, NAN, 0.9, 12.6, -3.2, 2.2,
                                 NAN, 6.7, 1.1};
#define NUMPY_N (sizeof numpy_x / sizeof numpy_x[0])

static void test_reduce_numpy_fixed(void **state)
{
    buffers *b = *state;
    const double *x = numpy_x;
    const size_t n = NUMPY_N;
    assert_int_equal(mw_stats_count(x, n), 10);
    check_close("np.nansum(x)", 0, mw_stats_sum(x, n), 26.3, 1e-15, 0.0);
    check_close("np.nanmean(x)", 0, mw_stats_mean(x, n), 2.63, 1e-15, 0.0);
    check_close("np.nanvar(x)", 0, mw_stats_var(x, n, 0), 18.226099999999995, 1e-14, 0.0);
    check_close("np.nanvar(x, ddof=1)", 0, mw_stats_var(x, n, 1), 20.251222222222218, 1e-14, 0.0);
    check_close("np.nanstd(x, ddof=1)", 0, mw_stats_std(x, n, 1), 4.500135800420051, 1e-14, 0.0);
    check_close("np.nanmin(x)", 0, mw_stats_min(x, n), -3.2, 0.0, 0.0);
    check_close("np.nanmax(x)", 0, mw_stats_max(x, n), 12.6, 0.0, 0.0);
    assert_int_equal(mw_stats_argmin(x, n), 8);    /* np.nanargmin(x) */
    assert_int_equal(mw_stats_argmax(x, n), 7);    /* np.nanargmax(x) */
    /* np.nanquantile(x, [0, 0.1, 0.25, 0.5, 0.9, 1]) */
    static const double q[] = {0.0, 0.1, 0.25, 0.5, 0.9, 1.0};
    static const double expected[] = {-3.2, -1.8499999999999999, 0.45, 1.6500000000000001,
                                      7.289999999999998, 12.6};
    for (size_t j = 0; j < 6; j++)
        check_close("np.nanquantile", j, mw_stats_quantile(x, n, q[j], b->scratch),
                    expected[j], 1e-15, 0.0);
    /* np.nanmedian(x) */
    check_close("np.nanmedian(x)", 0, mw_stats_median(x, n, b->scratch), 1.6500000000000001,
                1e-15, 0.0);
    /* np.nanmedian(np.abs(x - np.nanmedian(x))) */
    check_close("mad", 0, mw_stats_mad(x, n, b->scratch), 2.0499999999999994, 1e-15, 0.0);
}

static void test_reduce_special_values(void **state)
{
    buffers *b = *state;
    const double with_inf[] = {1.0, INFINITY, NAN, -2.0};
    const double both_inf[] = {INFINITY, 1.0, -INFINITY};
    const double all_nan[] = {NAN, NAN};
    assert_true(mw_stats_sum(with_inf, 4) == INFINITY);
    assert_true(isnan(mw_stats_sum(both_inf, 3)));
    assert_true(isnan(mw_stats_var(with_inf, 4, 0)));    /* np.nanvar: nan */
    assert_true(mw_stats_max(with_inf, 4) == INFINITY);
    assert_int_equal(mw_stats_argmax(with_inf, 4), 1);
    assert_true(mw_stats_min(both_inf, 3) == -INFINITY);
    assert_true(mw_stats_quantile(with_inf, 4, 1.0, b->scratch) == INFINITY);
    assert_true(mw_stats_quantile(with_inf, 4, 0.0, b->scratch) == -2.0);
    /* Empty and all-NaN: count 0, sum 0, every other reduction NaN. */
    const double *empties[] = {all_nan, NULL};
    const size_t lengths[] = {2, 0};
    for (size_t k = 0; k < 2; k++) {
        const double *x = empties[k];
        size_t n = lengths[k];
        assert_int_equal(mw_stats_count(x, n), 0);
        assert_true(mw_stats_sum(x, n) == 0.0);
        assert_true(isnan(mw_stats_mean(x, n)));
        assert_true(isnan(mw_stats_var(x, n, 0)));
        assert_true(isnan(mw_stats_min(x, n)));
        assert_true(isnan(mw_stats_max(x, n)));
        assert_int_equal(mw_stats_argmin(x, n), SIZE_MAX);
        assert_int_equal(mw_stats_argmax(x, n), SIZE_MAX);
        assert_true(isnan(mw_stats_quantile(x, n, 0.5, b->scratch)));
        assert_true(isnan(mw_stats_mad(x, n, b->scratch)));
    }
    /* var is NaN when count <= ddof, and exactly 0 for one value. */
    const double one[] = {NAN, 7.5};
    assert_true(mw_stats_var(one, 2, 0) == 0.0);
    assert_true(isnan(mw_stats_var(one, 2, 1)));
    /* Ties: the first extreme wins. */
    const double ties[] = {3.0, 1.0, 5.0, 1.0, 5.0};
    assert_int_equal(mw_stats_argmin(ties, 5), 1);
    assert_int_equal(mw_stats_argmax(ties, 5), 2);
}

/* 1e7 copies of 0.1: the exact sum of the double nearest 0.1, times 1e7,
 * is 1000000.0000000000555..., whose nearest double is 1e6. A plain loop
 * is off by 1.6e-4; the pairwise sum must be within 2 ulps of 1e6 (an ulp
 * there is 2^-33 = 1.16e-10; it is exact on x86-64 today), the mean
 * within 2 ulps of 0.1. The NaN in the middle must not disturb either. */
static void test_reduce_sum_accuracy(void **state)
{
    (void)state;
    const size_t n = 10000000;
    double *x = malloc((n + 1) * sizeof *x);
    assert_non_null(x);
    for (size_t i = 0; i <= n; i++)
        x[i] = 0.1;
    x[n / 2] = NAN;
    x[n] = 0.1;   /* n + 1 values, one NaN: still 1e7 copies of 0.1 */
    double naive = 0.0;
    for (size_t i = 0; i <= n; i++) {
        if (!isnan(x[i]))
            naive += x[i];
    }
    assert_true(fabs(naive - 1e6) > 1e-5);   /* the case is a hard one */
    double sum = mw_stats_sum(x, n + 1);
    assert_true(fabs(sum - 1e6) <= 2.0 * 0x1.0p-33);
    assert_true(fabs(mw_stats_mean(x, n + 1) - 0.1) <= 2.0 * 0x1.0p-56);
    assert_int_equal(mw_stats_count(x, n + 1), n);
    free(x);
}

/* Variance of 1e9 + noise in [0, 1): the mean is 1e9 and the spread is
 * 1/12, a condition number of 1e10 for the textbook one-pass formula
 * (which would lose every digit); the two-pass result keeps them all. */
static void test_reduce_var_offset(void **state)
{
    buffers *b = *state;
    test_rng rng = {7};
    const size_t n = TEST_MAX_N;
    fill_random(&rng, b->x, n, 0.0, 1.0, 0.05);
    for (size_t i = 0; i < n; i++)
        b->x[i] += 1e9;
    size_t count = ref_collect(b->x, 0, n, b->sorted);
    for (size_t ddof = 0; ddof <= 1; ddof++)
        check_close("var(1e9 + noise)", ddof, mw_stats_var(b->x, n, ddof),
                    ref_var(b->sorted, count, ddof), TEST_RTOL, 0.0);
}

/* ---- element-wise ------------------------------------------------------- */

static void test_elementwise_random(void **state)
{
    buffers *b = *state;
    test_rng rng = {2};
    double *x = b->x, *out = b->out, *expect = b->expect[0];
    char ctx[96];
    for (size_t l = 0; l < TEST_N_LENGTHS; l++) {
        size_t n = test_lengths[l];
        fill_random(&rng, x, n, -5.0, 5.0, 0.2);
        if (n > 3)
            x[3] = 0.0;   /* log(0) = -inf */

        mw_stats_abs(x, n, out);
        for (size_t i = 0; i < n; i++)
            expect[i] = fabs(x[i]);
        check_array("abs", out, expect, n, 0.0);

        /* Negative values give NaN, as np.log. */
        mw_stats_log(x, n, out);
        for (size_t i = 0; i < n; i++)
            expect[i] = x[i] < 0 ? NAN : log(x[i]);
        check_array("log", out, expect, n, 0.0);

        const size_t lags[] = {0, 1, 2, n, n + 3};
        for (size_t j = 0; j < 5; j++) {
            mw_stats_diff(x, n, lags[j], out);
            for (size_t i = 0; i < n; i++)
                expect[i] = i < lags[j] ? NAN : x[i] - x[i - lags[j]];
            snprintf(ctx, sizeof ctx, "diff n=%zu lag=%zu", n, lags[j]);
            check_array(ctx, out, expect, n, 0.0);
        }

        /* Each running sum is compared relative to the running sum of |x|. */
        mw_stats_cumsum(x, n, out);
        long double running = 0.0L, running_abs = 0.0L;
        for (size_t i = 0; i < n; i++) {
            if (!isnan(x[i])) {
                running += x[i];
                running_abs += fabsl(x[i]);
            }
            check_close("cumsum", i, out[i], isnan(x[i]) ? NAN : (double)running,
                        TEST_RTOL, (double)running_abs);
        }

        mw_stats_fillna(x, n, -99.0, out);
        for (size_t i = 0; i < n; i++)
            expect[i] = isnan(x[i]) ? -99.0 : x[i];
        check_array("fillna", out, expect, n, 0.0);

        const long ks[] = {0, 1, -1, 3, -3, (long)n, -(long)n, (long)n + 2, LONG_MIN, LONG_MAX};
        for (size_t j = 0; j < sizeof ks / sizeof ks[0]; j++) {
            long k = ks[j];
            mw_stats_shift(x, n, k, 42.0, out);
            for (size_t i = 0; i < n; i++) {
                /* source index i - k, computed without overflow */
                int inside = k >= 0 ? (unsigned long)k <= i
                                    : (k != LONG_MIN && (unsigned long)(-k) < n - i);
                expect[i] = inside ? x[k >= 0 ? i - (size_t)k : i + (size_t)(-k)] : 42.0;
            }
            snprintf(ctx, sizeof ctx, "shift n=%zu k=%ld", n, k);
            check_array(ctx, out, expect, n, 0.0);
        }
    }
}

/* abs, log, diff, cumsum and fillna may write over their input. */
static void test_elementwise_in_place(void **state)
{
    buffers *b = *state;
    test_rng rng = {3};
    const size_t n = 1000;
    double *x = b->x, *work = b->copy, *expect = b->out;
    fill_random(&rng, x, n, 0.5, 9.0, 0.1);

    memcpy(work, x, n * sizeof *x);
    mw_stats_diff(x, n, 3, expect);
    mw_stats_diff(work, n, 3, work);
    check_array("diff in place", work, expect, n, 0.0);

    memcpy(work, x, n * sizeof *x);
    mw_stats_cumsum(x, n, expect);
    mw_stats_cumsum(work, n, work);
    check_array("cumsum in place", work, expect, n, 0.0);

    memcpy(work, x, n * sizeof *x);
    mw_stats_log(x, n, expect);
    mw_stats_log(work, n, work);
    check_array("log in place", work, expect, n, 0.0);

    memcpy(work, x, n * sizeof *x);
    mw_stats_fillna(x, n, 0.0, expect);
    mw_stats_fillna(work, n, 0.0, work);
    check_array("fillna in place", work, expect, n, 0.0);

    memcpy(work, x, n * sizeof *x);
    mw_stats_abs(x, n, expect);
    mw_stats_abs(work, n, work);
    check_array("abs in place", work, expect, n, 0.0);
}

static void test_elementwise_numpy_fixed(void **state)
{
    buffers *b = *state;
    /* np.where(np.isnan(x), nan, np.nancumsum(x)) */
    static const double cumsum[] = {0.3, NAN, -1.4, 2.6999999999999997, 6.0, NAN, 6.9, 19.5,
                                    16.3, 18.5, NAN, 25.2, 26.3};
    mw_stats_cumsum(numpy_x, NUMPY_N, b->out);
    check_array("cumsum (numpy)", b->out, cumsum, NUMPY_N, 1e-15);
    /* np.concatenate([[nan] * 2, x[2:] - x[:-2]]) */
    static const double diff2[] = {NAN, NAN, -2.0, NAN, 5.0, NAN, -2.4, NAN,
                                   -4.1000000000000005, -10.399999999999999, NAN, 4.5, NAN};
    mw_stats_diff(numpy_x, NUMPY_N, 2, b->out);
    check_array("diff lag 2 (numpy)", b->out, diff2, NUMPY_N, 0.0);
    /* The infinity of a cumsum stays, and NaN after inf - inf. */
    const double infs[] = {1.0, INFINITY, 2.0, -INFINITY};
    mw_stats_cumsum(infs, 4, b->out);
    assert_true(b->out[0] == 1.0 && b->out[1] == INFINITY && b->out[2] == INFINITY);
    assert_true(isnan(b->out[3]));
}

/* ---- rolling ------------------------------------------------------------ */

enum {
    EXPECT_SUM, EXPECT_MEAN, EXPECT_VAR0, EXPECT_VAR1, EXPECT_STD1,
    EXPECT_MIN, EXPECT_MAX, EXPECT_MEDIAN, EXPECT_QUANTILE
};

/* Fills b->expect and b->count with the statistics of every window, as if
 * min_periods were 1 (the caller masks for other values), by brute force:
 * each window is collected, summed and sorted afresh. */
static void rolling_reference(buffers *b, size_t n, size_t window)
{
    for (size_t i = 0; i < n; i++) {
        size_t first = i + 1 >= window ? i + 1 - window : 0;
        size_t count = ref_collect(b->x, first, i + 1, b->sorted);
        b->count[i] = count;
        b->abs_scale[i] = ref_abs_sum(b->sorted, count);
        double sum = ref_sum(b->sorted, count);
        /* Window sums of data with infinities: long double agrees with
         * the kernels (inf, -inf or NaN). */
        b->expect[EXPECT_SUM][i] = sum;
        b->expect[EXPECT_MEAN][i] = count ? sum / (double)count : NAN;
        b->expect[EXPECT_VAR0][i] = ref_var(b->sorted, count, 0);
        b->expect[EXPECT_VAR1][i] = ref_var(b->sorted, count, 1);
        b->expect[EXPECT_STD1][i] = sqrt(b->expect[EXPECT_VAR1][i]);
        qsort(b->sorted, count, sizeof(double), ref_compare);
        b->expect[EXPECT_MIN][i] = count ? b->sorted[0] : NAN;
        b->expect[EXPECT_MAX][i] = count ? b->sorted[count - 1] : NAN;
        b->expect[EXPECT_MEDIAN][i] = ref_quantile_sorted(b->sorted, count, 0.5);
        for (size_t j = 0; j < TEST_N_QUANTILES; j++)
            b->expect[EXPECT_QUANTILE + j][i] = ref_quantile_sorted(b->sorted, count,
                                                                    test_quantiles[j]);
    }
}

/* What a result's error is measured against: itself, or (for sums and
 * means, whose terms may cancel) the sum or the mean of |x| in the window. */
enum { SCALE_SELF, SCALE_ABS_SUM, SCALE_ABS_MEAN };

static void rolling_check(buffers *b, size_t n, size_t min_periods, int which,
                          double rtol, int scale_kind, const char *ctx)
{
    for (size_t i = 0; i < n; i++) {
        double expected = b->count[i] < min_periods ? NAN : b->expect[which][i];
        double scale = 0.0;
        if (scale_kind == SCALE_ABS_SUM)
            scale = b->abs_scale[i];
        else if (scale_kind == SCALE_ABS_MEAN && b->count[i] > 0)
            scale = b->abs_scale[i] / (double)b->count[i];
        check_close(ctx, i, b->out[i], expected, rtol, scale);
    }
}

/* Runs every rolling kernel for one (data, window) against the reference,
 * for every min_periods that changes the answer. `work` is sized for
 * min(window, n), the least the header promises to need. */
static void rolling_check_all(buffers *b, size_t n, size_t window, const char *what)
{
    rolling_reference(b, n, window);
    size_t span = window < n ? window : n;
    void *minmax_work = malloc(mw_stats_rolling_minmax_work_size(span) + 1);
    void *quantile_work = malloc(mw_stats_rolling_quantile_work_size(span) + 1);
    assert_non_null(minmax_work);
    assert_non_null(quantile_work);
    const size_t min_periods_list[] = {1, (window + 1) / 2, window, window + 1};
    char ctx[160];
    for (size_t m = 0; m < 4; m++) {
        size_t min_periods = min_periods_list[m] ? min_periods_list[m] : 1;
#define CTX(name) (snprintf(ctx, sizeof ctx, "%s %s n=%zu window=%zu min_periods=%zu", \
                            name, what, n, window, min_periods), ctx)
        mw_stats_rolling_sum(b->x, n, window, min_periods, b->out);
        rolling_check(b, n, min_periods, EXPECT_SUM, TEST_RTOL, SCALE_ABS_SUM,
                      CTX("rolling_sum"));
        mw_stats_rolling_mean(b->x, n, window, min_periods, b->out);
        rolling_check(b, n, min_periods, EXPECT_MEAN, TEST_RTOL, SCALE_ABS_MEAN,
                      CTX("rolling_mean"));
        mw_stats_rolling_var(b->x, n, window, min_periods, 0, b->out);
        rolling_check(b, n, min_periods, EXPECT_VAR0, TEST_RTOL, SCALE_SELF, CTX("rolling_var ddof=0"));
        mw_stats_rolling_var(b->x, n, window, min_periods, 1, b->out);
        rolling_check(b, n, min_periods, EXPECT_VAR1, TEST_RTOL, SCALE_SELF, CTX("rolling_var ddof=1"));
        mw_stats_rolling_std(b->x, n, window, min_periods, 1, b->out);
        rolling_check(b, n, min_periods, EXPECT_STD1, TEST_RTOL, SCALE_SELF, CTX("rolling_std ddof=1"));
        mw_stats_rolling_min(b->x, n, window, min_periods, minmax_work, b->out);
        rolling_check(b, n, min_periods, EXPECT_MIN, 0.0, SCALE_SELF, CTX("rolling_min"));
        mw_stats_rolling_max(b->x, n, window, min_periods, minmax_work, b->out);
        rolling_check(b, n, min_periods, EXPECT_MAX, 0.0, SCALE_SELF, CTX("rolling_max"));
        /* The heaps hold the window's own values and interpolate as the
         * reference does: bit-identical. */
        mw_stats_rolling_median(b->x, n, window, min_periods, quantile_work, b->out);
        rolling_check(b, n, min_periods, EXPECT_MEDIAN, 0.0, SCALE_SELF, CTX("rolling_median"));
        for (size_t j = 0; j < TEST_N_QUANTILES; j++) {
            mw_stats_rolling_quantile(b->x, n, window, min_periods, test_quantiles[j],
                                      quantile_work, b->out);
            rolling_check(b, n, min_periods, EXPECT_QUANTILE + (int)j, 0.0, SCALE_SELF,
                          CTX("rolling_quantile"));
        }
#undef CTX
    }
    free(minmax_work);
    free(quantile_work);
}

static void test_rolling_random(void **state)
{
    buffers *b = *state;
    test_rng rng = {4};
    char what[48];
    for (size_t l = 0; l < TEST_N_LENGTHS; l++) {
        size_t n = test_lengths[l];
        const size_t windows[] = {1, 2, 3, 7, n, n + 5};
        for (size_t f = 0; f < 2; f++) {
            double nan_fraction = f ? 0.25 : 0.0;
            fill_random(&rng, b->x, n, -10.0, 10.0, nan_fraction);
            snprintf(what, sizeof what, "nan=%g", nan_fraction);
            for (size_t w = 0; w < 6; w++) {
                if (windows[w] > 0)
                    rolling_check_all(b, n, windows[w], what);
            }
        }
    }
}

/* Long NaN runs empty the window completely (the states must reset and
 * refill), infinities enter and leave (sum and mean must recover, var must
 * be NaN exactly while one is inside), and integer data makes many ties for
 * the heaps. */
static void test_rolling_nan_runs_and_infinities(void **state)
{
    buffers *b = *state;
    test_rng rng = {5};
    const size_t n = 1000;
    const size_t windows[] = {1, 4, 25, 100};
    for (int variant = 0; variant < 3; variant++) {
        fill_random(&rng, b->x, n, -10.0, 10.0, 0.1);
        for (size_t i = 200; i < 260; i++)
            b->x[i] = NAN;
        if (variant >= 1) {
            b->x[50] = INFINITY;
            b->x[53] = -INFINITY;
            b->x[400] = INFINITY;
            b->x[700] = -INFINITY;
            b->x[701] = -INFINITY;
        }
        if (variant == 2) {
            for (size_t i = 0; i < n; i++)
                b->x[i] = isnan(b->x[i]) || isinf(b->x[i]) ? b->x[i] : floor(b->x[i] / 4.0);
        }
        const char *what = variant == 0 ? "nan runs" : variant == 1 ? "infinities" : "ties";
        for (size_t w = 0; w < 4; w++)
            rolling_check_all(b, n, windows[w], what);
    }
}

/* min_periods = 0: an empty window gives the statistic of no values. */
static void test_rolling_min_periods_zero(void **state)
{
    buffers *b = *state;
    const double x[] = {NAN, NAN, 1.0, NAN, NAN, NAN};
    mw_stats_rolling_sum(x, 6, 2, 0, b->out);
    const double sums[] = {0.0, 0.0, 1.0, 1.0, 0.0, 0.0};
    check_array("rolling_sum min_periods=0", b->out, sums, 6, 0.0);
    mw_stats_rolling_mean(x, 6, 2, 0, b->out);
    const double means[] = {NAN, NAN, 1.0, 1.0, NAN, NAN};
    check_array("rolling_mean min_periods=0", b->out, means, 6, 0.0);
    /* A window of 0 holds nothing, and needs no work memory. */
    mw_stats_rolling_sum(x, 6, 0, 0, b->out);
    for (size_t i = 0; i < 6; i++)
        assert_true(b->out[i] == 0.0);
    mw_stats_rolling_median(x, 6, 0, 1, NULL, b->out);
    for (size_t i = 0; i < 6; i++)
        assert_true(isnan(b->out[i]));
    mw_stats_rolling_max(x, 6, 0, 1, NULL, b->out);
    for (size_t i = 0; i < 6; i++)
        assert_true(isnan(b->out[i]));
}

/* From numpy, with w, minp = 4, 2 and
 *   from numpy.lib.stride_tricks import sliding_window_view
 *   v = sliding_window_view(np.concatenate([np.full(w - 1, nan), x]), w)
 *   cnt = (~np.isnan(v)).sum(axis=1)
 *   np.where(cnt >= minp, F(v, axis=1), nan)
 * for F as named next to each array. */
static void test_rolling_numpy_fixed(void **state)
{
    buffers *b = *state;
    const double *x = numpy_x;
    const size_t n = NUMPY_N, window = 4, min_periods = 2;
    void *work = malloc(mw_stats_rolling_quantile_work_size(window));
    assert_non_null(work);
    /* np.nansum */
    static const double sum[] = {NAN, NAN, -1.4, 2.6999999999999997, 5.699999999999999,
        5.699999999999999, 8.299999999999999, 16.8, 10.3, 12.5, 11.599999999999998, 5.7, 10.0};
    /* np.nanmean */
    static const double mean[] = {NAN, NAN, -0.7, 0.8999999999999999, 1.8999999999999997,
        1.8999999999999997, 2.766666666666666, 5.6000000000000005, 3.4333333333333336, 3.125,
        3.866666666666666, 1.9000000000000001, 3.3333333333333335};
    /* np.nanvar(v, axis=1, ddof=1) */
    static const double var1[] = {NAN, NAN, 2.0, 8.679999999999998, 9.879999999999999,
        9.879999999999999, 2.773333333333333, 38.19, 67.22333333333333, 45.19583333333333,
        64.49333333333334, 24.57, 8.803333333333335};
    /* np.nanstd(v, axis=1, ddof=0) */
    static const double std0[] = {NAN, NAN, 1.0, 2.4055491403558285, 2.5664502073226876,
        2.5664502073226876, 1.359738536958076, 5.045790324617145, 6.6944421392342734,
        5.822102283539856, 6.557099629832962, 4.047221268969612, 2.42257897474755};
    /* np.nanmin, np.nanmax */
    static const double min[] = {NAN, NAN, -1.7, -1.7, -1.7, -1.7, 0.9, 0.9, -3.2, -3.2,
        -3.2, -3.2, 1.1};
    static const double max[] = {NAN, NAN, 0.3, 4.1, 4.1, 4.1, 4.1, 12.6, 12.6, 12.6, 12.6,
        6.7, 6.7};
    /* np.nanquantile(v, 0.25, axis=1) */
    static const double q25[] = {NAN, NAN, -1.2, -0.7, 0.7999999999999998, 0.7999999999999998,
        2.0999999999999996, 2.0999999999999996, -1.1500000000000004, -0.1250000000000001,
        -0.5, -0.5, 1.6500000000000001};
    /* np.nanmedian */
    static const double median[] = {NAN, NAN, -0.7, 0.3, 3.3, 3.3, 3.3, 3.3, 0.9, 1.55, 2.2,
        2.2, 2.2};
    /* Sums and means may round differently from numpy's (compensated
     * versus pairwise): 1e-14. Quantiles and extremes pick the same
     * elements and interpolate alike: 1e-15 covers the last bit. */
    mw_stats_rolling_sum(x, n, window, min_periods, b->out);
    check_array("rolling_sum (numpy)", b->out, sum, n, 1e-14);
    mw_stats_rolling_mean(x, n, window, min_periods, b->out);
    check_array("rolling_mean (numpy)", b->out, mean, n, 1e-14);
    mw_stats_rolling_var(x, n, window, min_periods, 1, b->out);
    check_array("rolling_var ddof=1 (numpy)", b->out, var1, n, 1e-13);
    mw_stats_rolling_std(x, n, window, min_periods, 0, b->out);
    check_array("rolling_std ddof=0 (numpy)", b->out, std0, n, 1e-13);
    mw_stats_rolling_min(x, n, window, min_periods, work, b->out);
    check_array("rolling_min (numpy)", b->out, min, n, 0.0);
    mw_stats_rolling_max(x, n, window, min_periods, work, b->out);
    check_array("rolling_max (numpy)", b->out, max, n, 0.0);
    mw_stats_rolling_quantile(x, n, window, min_periods, 0.25, work, b->out);
    check_array("rolling_quantile 0.25 (numpy)", b->out, q25, n, 1e-15);
    mw_stats_rolling_median(x, n, window, min_periods, work, b->out);
    check_array("rolling_median (numpy)", b->out, median, n, 1e-15);
    free(work);
}

/* 1e9 + noise in [0, 1), window 1000: the running variance must match a
 * fresh two-pass variance of every window to 1e-9, although a plain
 * Welford update on the raw values loses about half the digits here (each
 * update rounds the mean to 1.2e-7, the ulp of 1e9). */
static void test_rolling_var_offset_accuracy(void **state)
{
    buffers *b = *state;
    test_rng rng = {6};
    const size_t n = TEST_MAX_N, window = 1000;
    fill_random(&rng, b->x, n, 0.0, 1.0, 0.02);
    for (size_t i = 0; i < n; i++)
        b->x[i] += 1e9;
    mw_stats_rolling_var(b->x, n, window, 10, 1, b->out);
    double worst = 0.0;
    for (size_t i = 0; i < n; i++) {
        size_t first = i + 1 >= window ? i + 1 - window : 0;
        size_t count = ref_collect(b->x, first, i + 1, b->sorted);
        double expected = count < 10 ? NAN : ref_var(b->sorted, count, 1);
        check_close("rolling_var(1e9 + noise)", i, b->out[i], expected, TEST_RTOL, 0.0);
        if (count >= 10)
            worst = fmax(worst, fabs(b->out[i] - expected) / expected);
    }
    print_message("rolling var, 1e9 + noise: worst relative error %.2g\n", worst);
}

/* A trending series (0 to 1e6 over the data) moves the mean far from any
 * fixed centre; re-centering keeps the variance exact anyway. A 1e8 spike
 * in N(0, 1)-sized noise leaves rounding residue of eps * 1e16 = 2 in the
 * running sum of squares, 6% of the variance of the window once the spike
 * has left (what a plain running Welford, pandas' included, reports for a
 * whole window after every outlier); the kernel recomputes when that sum
 * collapses, so mean and std stay at 1e-9 throughout. */
static void test_rolling_var_trend_and_spike(void **state)
{
    buffers *b = *state;
    test_rng rng = {8};
    const size_t n = 5000, window = 100;
    for (int variant = 0; variant < 3; variant++) {
        fill_random(&rng, b->x, n, -1.0, 1.0, 0.0);
        for (size_t i = 0; i < n; i++)
            b->x[i] += variant == 0 ? 200.0 * (double)i : 0.0;
        if (variant >= 1)
            b->x[1000] = 1e8;
        if (variant == 2)   /* staggered outliers, leaving one after another */
            for (size_t i = 2000; i < 2020; i++)
                b->x[i] = ldexp(1.0, 60 - 3 * (int)(i - 2000));
        mw_stats_rolling_std(b->x, n, window, 1, 0, b->out);
        rolling_reference(b, n, window);
        for (size_t i = 0; i < n; i++)
            check_close("rolling_std trend/spike", i, b->out[i],
                        sqrt(b->expect[EXPECT_VAR0][i]), TEST_RTOL, 0.0);
        mw_stats_rolling_mean(b->x, n, window, 1, b->out);
        rolling_check(b, n, 1, EXPECT_MEAN, TEST_RTOL, SCALE_ABS_MEAN, "rolling_mean spike");
    }
}

/* A window of equal values has variance exactly 0 (not 1e-17 left over
 * from the values that passed through), so z-scores see it: for several
 * constants after random data of several scales, with NaN inside the
 * constant stretch, in the steady state and at the start. */
static void test_rolling_var_constant_is_zero(void **state)
{
    buffers *b = *state;
    test_rng rng = {9};
    const size_t n = 400, window = 20;
    const double constants[] = {0.1, 1.0 / 3.0, 1e6 + 0.3, -7.77e-5, 123456.789};
    const double scales[] = {1e-3, 1.0, 1e6};
    for (size_t c = 0; c < 5; c++) {
        for (size_t k = 0; k < 3; k++) {
            fill_random(&rng, b->x, n, -scales[k], scales[k], 0.0);
            for (size_t i = 0; i < 10; i++)
                b->x[i] = constants[c];
            /* NaN at 150 and 151; every third value NaN from 200 on, so
             * the window is never full and the general path runs. */
            for (size_t i = 100; i < 300; i++)
                b->x[i] = (i == 150 || i == 151 || (i >= 200 && i % 3 == 0)) ? NAN
                                                                              : constants[c];
            for (int want_std = 0; want_std < 2; want_std++) {
                if (want_std)
                    mw_stats_rolling_std(b->x, n, window, 1, 0, b->out);
                else
                    mw_stats_rolling_var(b->x, n, window, 1, 1, b->out);
                for (size_t i = 1; i < 10; i++)
                    check_close("constant start", i, b->out[i], 0.0, 0.0, 0.0);
                for (size_t i = 100 + window - 1; i < 300; i++)
                    check_close("constant stretch", i, b->out[i], 0.0, 0.0, 0.0);
                assert_true(b->out[310] > 0.0);
            }
        }
    }
}

/* A big window over data with many ties: every heap path (replace in
 * place, cross over, grow, shrink on NaN) runs many times. */
static void test_rolling_quantile_duplicates(void **state)
{
    buffers *b = *state;
    test_rng rng = {10};
    const size_t n = 5000;
    fill_random(&rng, b->x, n, 0.0, 10.0, 0.05);
    for (size_t i = 0; i < n; i++)
        b->x[i] = floor(b->x[i]);
    for (size_t i = 3000; i < 3400; i++)
        b->x[i] = NAN;
    rolling_check_all(b, n, 301, "duplicates");
}

/* ---- exponentially weighted --------------------------------------------- */

/* Against the closed form the recurrence unrolls to, recomputed for every
 * i: with v_0 .. v_t the non-NaN values so far, the weights are
 * (1 - alpha)^t for v_0 and alpha (1 - alpha)^(t - j) for v_j, j >= 1
 * (they sum to 1); the mean is the weighted mean and the variance
 * (bias=True) the weighted mean of squared deviations from it. Errors are
 * measured against the data's magnitude (3), as the mean crosses 0. */
static void test_ewm_random(void **state)
{
    buffers *b = *state;
    test_rng rng = {11};
    const double alphas[] = {0.01, 0.3, 1.0};
    for (size_t l = 0; l < TEST_N_LENGTHS; l++) {
        size_t n = test_lengths[l];
        fill_random(&rng, b->x, n, -3.0, 3.0, 0.2);
        for (size_t a = 0; a < 3; a++) {
            long double alpha = alphas[a];
            for (size_t i = 0; i < n; i++) {
                size_t count = ref_collect(b->x, 0, i + 1, b->sorted);
                long double mean = 0.0L, var = 0.0L, weight = 1.0L;
                for (size_t j = count; j-- > 0;) {
                    long double w = j > 0 ? alpha * weight : weight;
                    mean += w * b->sorted[j];
                    weight *= 1.0L - alpha;
                }
                weight = 1.0L;
                for (size_t j = count; j-- > 0;) {
                    long double w = j > 0 ? alpha * weight : weight;
                    var += w * (b->sorted[j] - mean) * (b->sorted[j] - mean);
                    weight *= 1.0L - alpha;
                }
                b->expect[0][i] = count ? (double)mean : NAN;
                b->expect[1][i] = count ? (double)sqrtl(var) : NAN;
            }
            mw_stats_ewm_mean(b->x, n, alphas[a], b->out);
            for (size_t i = 0; i < n; i++)
                check_close("ewm_mean", i, b->out[i], b->expect[0][i], TEST_RTOL, 3.0);
            mw_stats_ewm_std(b->x, n, alphas[a], b->out);
            for (size_t i = 0; i < n; i++)
                check_close("ewm_std", i, b->out[i], b->expect[1][i], TEST_RTOL, 3.0);
        }
    }
}

/* The recurrence in numpy, alpha = 0.3, NaN skipped:
 *   m = s = nan; ms = []; ss = []
 *   for xi in x:
 *       if not np.isnan(xi):
 *           if np.isnan(m): m, s = xi, 0.0
 *           else: d = xi - m; m = m + a * d; s = (1 - a) * (s + a * d * d)
 *       ms.append(m); ss.append(np.sqrt(s))
 */
static void test_ewm_numpy_fixed(void **state)
{
    buffers *b = *state;
    static const double mean[] = {0.3, 0.3, -0.3, 1.0199999999999998, 1.7039999999999997,
        1.7039999999999997, 1.4627999999999999, 4.80396, 2.402772, 2.3419404000000004,
        2.3419404000000004, 3.6493582800000004, 2.884550796};
    static const double std[] = {0.0, 0.0, 0.916515138991168, 2.1572204337990124,
        2.0854697312596024, 2.0854697312596024, 1.783304842140008, 5.317324545144861,
        5.765853546181693, 4.824954035309336, 4.824954035309336, 4.503841753458422,
        3.945130059008925};
    mw_stats_ewm_mean(numpy_x, NUMPY_N, 0.3, b->out);
    check_array("ewm_mean (numpy)", b->out, mean, NUMPY_N, 1e-15);
    mw_stats_ewm_std(numpy_x, NUMPY_N, 0.3, b->out);
    check_array("ewm_std (numpy)", b->out, std, NUMPY_N, 1e-15);
    /* Before the first value: NaN. */
    const double late[] = {NAN, NAN, 5.0};
    mw_stats_ewm_std(late, 3, 0.5, b->out);
    assert_true(isnan(b->out[0]) && isnan(b->out[1]) && b->out[2] == 0.0);
}

/* ---- calendar -------------------------------------------------------- */

static int naive_days_in_month(int64_t year, int month)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : days[month - 1];
}

static void test_calendar_day_by_day(void **state)
{
    (void)state;
    /* 1600-01-01 is 135140 days before 1970-01-01 */
    assert_int_equal(mw_calendar_days_from_civil(1600, 1, 1), -135140);
    int64_t year = 1600;
    int month = 1, day = 1;
    for (int64_t days = -135140; year < 2400; days++) {
        assert_int_equal(mw_calendar_days_from_civil(year, month, day), days);
        int64_t y;
        int m, d;
        mw_calendar_civil_from_days(days, &y, &m, &d);
        assert_int_equal(y, year);
        assert_int_equal(m, month);
        assert_int_equal(d, day);
        if (++day > naive_days_in_month(year, month)) {
            day = 1;
            if (++month > 12) {
                month = 1;
                year++;
            }
        }
    }
    /* far from the epoch, both sides: a round trip */
    static const int64_t far[] = {-3652425000000LL, -1, 0, 11017, 3652425000000LL};
    for (size_t i = 0; i < sizeof far / sizeof far[0]; i++) {
        int64_t y;
        int m, d;
        mw_calendar_civil_from_days(far[i], &y, &m, &d);
        assert_int_equal(mw_calendar_days_from_civil(y, m, d), far[i]);
    }
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, buffers_setup, buffers_teardown)
    const struct CMUnitTest tests[] = {
        T(test_reduce_random),
        T(test_reduce_quantile_patterns),
        T(test_reduce_numpy_fixed),
        T(test_reduce_special_values),
        T(test_reduce_sum_accuracy),
        T(test_reduce_var_offset),
        T(test_elementwise_random),
        T(test_elementwise_in_place),
        T(test_elementwise_numpy_fixed),
        T(test_rolling_random),
        T(test_rolling_nan_runs_and_infinities),
        T(test_rolling_min_periods_zero),
        T(test_rolling_numpy_fixed),
        T(test_rolling_var_offset_accuracy),
        T(test_rolling_var_trend_and_spike),
        T(test_rolling_var_constant_is_zero),
        T(test_rolling_quantile_duplicates),
        T(test_ewm_random),
        T(test_ewm_numpy_fixed),
        T(test_calendar_day_by_day),
    };
#undef T
    return cmocka_run_group_tests_name("stats", tests, NULL, NULL);
}
