/*
 * reduce.c: reductions of one array of doubles to one number (count, sum,
 * mean, variance, extremes, quantiles, MAD), skipping NaN.
 *
 * Sums are pairwise: the array is halved until a leaf of at most
 * REDUCE_LEAF values, and each leaf is summed into eight independent
 * accumulators. The rounding error then grows with log(n) instead of n
 * (1e7 copies of 0.1 come out exact to the last bit or two, where a plain
 * loop is off by 1.6e-4), and the eight accumulators keep the adder
 * pipelines full, so the sum runs at memory bandwidth. A leaf is first
 * summed blindly; NaN is sticky, so only a leaf whose sum comes out NaN
 * is summed again, skipping NaN: NaN-free data pays nothing for the NaN
 * policy.
 *
 * Variance is the corrected two-pass algorithm: the mean first, then the
 * squared deviations from it, plus the correction (sum of deviations)^2/n
 * that cancels the error left in the mean. Quantiles select the k-th value
 * of the NaN-free values copied into the caller's scratch (quickselect
 * with a median-of-3 pivot, falling back to heapsort after too many poor
 * partitions, so the worst case is O(n log n), the expected O(n)).
 *
 * Never allocates; never reads past n; the input is never written. Relies
 * on IEEE semantics (v == v is false only for NaN): never to be built with
 * -ffast-math or -ffinite-math-only.
 */
#include "stats/stats.h"

#include <math.h>
#include <stdint.h>

/* Big enough that the recursion costs nothing next to the leaf loop, small
 * enough that the error of one leaf (a sum of 16 values per accumulator)
 * stays at a few ulps. A multiple of REDUCE_LANES. */
#define REDUCE_LEAF 128
#define REDUCE_LANES 8

/* Below this many values a selection range is finished by insertion sort,
 * which beats partitioning on a handful of elements. */
#define REDUCE_SMALL_SORT 16

static int reduce_is_value(double v)
{
    return v == v;   /* false for NaN only */
}

/* ---- pairwise sums ------------------------------------------------------ */

typedef struct {
    double sum;
    size_t count;
} reduce_partial;

/* The careful leaf, for a leaf known to hold a NaN: four lanes of
 * selects, which compile to branch-free code (twice as fast as branching
 * on each NaN). */
static reduce_partial reduce_leaf_sum_skipping(const double *x, size_t n)
{
    double a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    size_t c0 = 0, c1 = 0, c2 = 0, c3 = 0;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        double v0 = x[i], v1 = x[i + 1], v2 = x[i + 2], v3 = x[i + 3];
        a0 += reduce_is_value(v0) ? v0 : 0.0;
        a1 += reduce_is_value(v1) ? v1 : 0.0;
        a2 += reduce_is_value(v2) ? v2 : 0.0;
        a3 += reduce_is_value(v3) ? v3 : 0.0;
        c0 += (size_t)reduce_is_value(v0);
        c1 += (size_t)reduce_is_value(v1);
        c2 += (size_t)reduce_is_value(v2);
        c3 += (size_t)reduce_is_value(v3);
    }
    reduce_partial p = {(a0 + a1) + (a2 + a3), c0 + c1 + c2 + c3};
    for (; i < n; i++) {
        if (reduce_is_value(x[i])) {
            p.sum += x[i];
            p.count++;
        }
    }
    return p;
}

/* The fast leaf adds everything, NaN included: the lanes are independent
 * chains the compiler packs into SIMD adds. NaN is sticky, so a sum that
 * is not NaN proves the leaf had none (and count = n); otherwise (a NaN,
 * or infinities of both signs) the leaf is summed again, skipping NaN. */
static reduce_partial reduce_leaf_sum(const double *x, size_t n)
{
    double a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
    size_t i = 0;
    for (; i + REDUCE_LANES <= n; i += REDUCE_LANES) {
        a0 += x[i];
        a1 += x[i + 1];
        a2 += x[i + 2];
        a3 += x[i + 3];
        a4 += x[i + 4];
        a5 += x[i + 5];
        a6 += x[i + 6];
        a7 += x[i + 7];
    }
    double sum = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7));
    for (; i < n; i++)
        sum += x[i];
    if (!reduce_is_value(sum))
        return reduce_leaf_sum_skipping(x, n);
    reduce_partial p = {sum, n};
    return p;
}

static reduce_partial reduce_pairwise_sum(const double *x, size_t n)
{
    if (n <= REDUCE_LEAF)
        return reduce_leaf_sum(x, n);
    /* Split on a multiple of the lane count so both halves run the
     * unrolled loop to the end. */
    size_t half = n / 2;
    half -= half % REDUCE_LANES;
    reduce_partial left = reduce_pairwise_sum(x, half);
    reduce_partial right = reduce_pairwise_sum(x + half, n - half);
    left.sum += right.sum;
    left.count += right.count;
    return left;
}

/* Sum of (x - center) and of (x - center)^2 over the non-NaN values, for
 * the second pass of the variance. */
typedef struct {
    double dev, dev2;
} reduce_moments;

static reduce_moments reduce_leaf_moments_skipping(const double *x, size_t n, double center)
{
    reduce_moments m = {0.0, 0.0};
    for (size_t i = 0; i < n; i++) {
        if (reduce_is_value(x[i])) {
            double d = x[i] - center;
            m.dev += d;
            m.dev2 += d * d;
        }
    }
    return m;
}

/* Same fast path and fallback as reduce_leaf_sum. */
static reduce_moments reduce_leaf_moments(const double *x, size_t n, double center)
{
    double d0 = 0, d1 = 0, d2 = 0, d3 = 0;
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        double e0 = x[i] - center, e1 = x[i + 1] - center;
        double e2 = x[i + 2] - center, e3 = x[i + 3] - center;
        d0 += e0;
        d1 += e1;
        d2 += e2;
        d3 += e3;
        s0 += e0 * e0;
        s1 += e1 * e1;
        s2 += e2 * e2;
        s3 += e3 * e3;
    }
    reduce_moments m = {(d0 + d1) + (d2 + d3), (s0 + s1) + (s2 + s3)};
    for (; i < n; i++) {
        double d = x[i] - center;
        m.dev += d;
        m.dev2 += d * d;
    }
    if (!reduce_is_value(m.dev2))
        return reduce_leaf_moments_skipping(x, n, center);
    return m;
}

static reduce_moments reduce_pairwise_moments(const double *x, size_t n, double center)
{
    if (n <= REDUCE_LEAF)
        return reduce_leaf_moments(x, n, center);
    size_t half = n / 2;
    half -= half % REDUCE_LANES;
    reduce_moments left = reduce_pairwise_moments(x, half, center);
    reduce_moments right = reduce_pairwise_moments(x + half, n - half, center);
    left.dev += right.dev;
    left.dev2 += right.dev2;
    return left;
}

size_t mw_stats_count(const double *x, size_t n)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        count += (size_t)reduce_is_value(x[i]);
    return count;
}

double mw_stats_sum(const double *x, size_t n)
{
    return reduce_pairwise_sum(x, n).sum;
}

double mw_stats_mean(const double *x, size_t n)
{
    reduce_partial p = reduce_pairwise_sum(x, n);
    return p.count == 0 ? NAN : p.sum / (double)p.count;
}

double mw_stats_var(const double *x, size_t n, size_t ddof)
{
    reduce_partial p = reduce_pairwise_sum(x, n);
    if (p.count <= ddof)
        return NAN;
    double mean = p.sum / (double)p.count;
    reduce_moments m = reduce_pairwise_moments(x, n, mean);
    double ss = m.dev2 - m.dev * m.dev / (double)p.count;
    /* The correction can only overshoot by rounding; a variance is never
     * negative. */
    if (ss < 0.0)
        ss = 0.0;
    return ss / (double)(p.count - ddof);
}

double mw_stats_std(const double *x, size_t n, size_t ddof)
{
    return sqrt(mw_stats_var(x, n, ddof));
}

/* ---- extremes ----------------------------------------------------------- */

size_t mw_stats_argmin(const double *x, size_t n)
{
    size_t best = SIZE_MAX;
    for (size_t i = 0; i < n; i++) {
        /* NaN compares false, so it never becomes or displaces the best. */
        if (reduce_is_value(x[i]) && (best == SIZE_MAX || x[i] < x[best]))
            best = i;
    }
    return best;
}

size_t mw_stats_argmax(const double *x, size_t n)
{
    size_t best = SIZE_MAX;
    for (size_t i = 0; i < n; i++) {
        if (reduce_is_value(x[i]) && (best == SIZE_MAX || x[i] > x[best]))
            best = i;
    }
    return best;
}

double mw_stats_min(const double *x, size_t n)
{
    size_t i = 0;
    while (i < n && !reduce_is_value(x[i]))
        i++;
    if (i == n)
        return NAN;
    double best = x[i];
    for (; i < n; i++) {
        if (x[i] < best)
            best = x[i];
    }
    return best;
}

double mw_stats_max(const double *x, size_t n)
{
    size_t i = 0;
    while (i < n && !reduce_is_value(x[i]))
        i++;
    if (i == n)
        return NAN;
    double best = x[i];
    for (; i < n; i++) {
        if (x[i] > best)
            best = x[i];
    }
    return best;
}

/* ---- selection ---------------------------------------------------------- */

static void reduce_swap(double *a, size_t i, size_t j)
{
    double t = a[i];
    a[i] = a[j];
    a[j] = t;
}

static void reduce_insertion_sort(double *a, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        double v = a[i];
        size_t j = i;
        for (; j > 0 && a[j - 1] > v; j--)
            a[j] = a[j - 1];
        a[j] = v;
    }
}

static void reduce_sift_down(double *a, size_t root, size_t n)
{
    double v = a[root];
    for (;;) {
        size_t child = 2 * root + 1;
        if (child >= n)
            break;
        if (child + 1 < n && a[child + 1] > a[child])
            child++;
        if (!(a[child] > v))
            break;
        a[root] = a[child];
        root = child;
    }
    a[root] = v;
}

/* The fallback that bounds the worst case of selection. */
static void reduce_heapsort(double *a, size_t n)
{
    for (size_t i = n / 2; i-- > 0;)
        reduce_sift_down(a, i, n);
    for (size_t end = n; end > 1; end--) {
        reduce_swap(a, 0, end - 1);
        reduce_sift_down(a, 0, end - 1);
    }
}

/* Reorders a[0..n) (no NaN, n > k) so that a[k] is the k-th smallest,
 * everything before it <= a[k] and everything after it >= a[k]. */
static void reduce_select(double *a, size_t n, size_t k)
{
    size_t lo = 0, hi = n - 1;
    /* Introselect's budget: a run of bad pivots this long means the input
     * defeats median-of-3, and heapsort finishes the range instead. */
    unsigned budget = 2;
    for (size_t m = n; m > 1; m >>= 1)
        budget += 2;
    while (hi > lo) {
        size_t len = hi - lo + 1;
        if (len <= REDUCE_SMALL_SORT) {
            reduce_insertion_sort(a + lo, len);
            return;
        }
        if (budget-- == 0) {
            reduce_heapsort(a + lo, len);
            return;
        }
        /* Median of three into a[lo + 1], with a[lo] <= pivot <= a[hi]
         * as sentinels for the two scans below. */
        size_t mid = lo + len / 2;
        reduce_swap(a, mid, lo + 1);
        if (a[lo] > a[hi])
            reduce_swap(a, lo, hi);
        if (a[lo + 1] > a[hi])
            reduce_swap(a, lo + 1, hi);
        if (a[lo] > a[lo + 1])
            reduce_swap(a, lo, lo + 1);
        double pivot = a[lo + 1];
        size_t i = lo + 1, j = hi;
        /* Hoare's scheme stops on values equal to the pivot, so runs of
         * duplicates split evenly instead of degrading to O(n^2). */
        for (;;) {
            do
                i++;
            while (a[i] < pivot);
            do
                j--;
            while (a[j] > pivot);
            if (j < i)
                break;
            reduce_swap(a, i, j);
        }
        a[lo + 1] = a[j];
        a[j] = pivot;
        if (k == j)
            return;
        if (k < j)
            hi = j - 1;
        else
            lo = j + 1;
    }
}

/* numpy's _lerp: the two formulas meet at t = 0.5, and using the one
 * anchored at the nearer end keeps the result monotone in t and exact at
 * both ends. */
double mw_stats_interpolate(double below, double above, double t)
{
    if (t == 0.0 || below == above)
        return below;
    double diff = above - below;
    return t >= 0.5 ? above - diff * (1.0 - t) : below + diff * t;
}

/* Quantile of the count NaN-free values in a (reordered). */
static double reduce_quantile_inplace(double *a, size_t count, double q)
{
    if (count == 0)
        return NAN;
    double position = q * (double)(count - 1);
    size_t k = (size_t)floor(position);
    if (k > count - 1)
        k = count - 1;
    double t = position - (double)k;
    reduce_select(a, count, k);
    if (t == 0.0 || k + 1 >= count)
        return a[k];
    /* Selection left the larger values after k: the next order statistic
     * is the smallest of them. */
    double next = a[k + 1];
    for (size_t i = k + 2; i < count; i++) {
        if (a[i] < next)
            next = a[i];
    }
    return mw_stats_interpolate(a[k], next, t);
}

static size_t reduce_copy_values(const double *x, size_t n, double *scratch)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        if (reduce_is_value(x[i]))
            scratch[count++] = x[i];
    }
    return count;
}

double mw_stats_quantile(const double *x, size_t n, double q, double *scratch)
{
    size_t count = reduce_copy_values(x, n, scratch);
    return reduce_quantile_inplace(scratch, count, q);
}

double mw_stats_median(const double *x, size_t n, double *scratch)
{
    return mw_stats_quantile(x, n, 0.5, scratch);
}

double mw_stats_mad(const double *x, size_t n, double *scratch)
{
    size_t count = reduce_copy_values(x, n, scratch);
    if (count == 0)
        return NAN;
    double median = reduce_quantile_inplace(scratch, count, 0.5);
    /* The scratch still holds the same values, reordered: the deviations
     * can be taken in place. */
    for (size_t i = 0; i < count; i++)
        scratch[i] = fabs(scratch[i] - median);
    return reduce_quantile_inplace(scratch, count, 0.5);
}
