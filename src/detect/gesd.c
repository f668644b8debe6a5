/*
 * gesd.c: the generalised ESD test on a sorted sample (see gesd.h).
 *
 * The values still in the test are the run sorted[lo..hi]; each step
 * removes sorted[lo] or sorted[hi], whichever is farther from the centre
 * (the upper one on a tie).
 */
#include "detect/gesd.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stats/dist.h"

/* Removing one value leaves m2 at least this fraction of what it was, or
 * the run's moments are recomputed: the update's rounding error is about
 * DBL_EPSILON * m2_before / m2_after relative. */
#define GESD_M2_KEEP 1e-6

mw_status mw_gesd_init(mw_gesd *g, mw_detector *d, size_t cap, double alpha)
{
    g->alpha = alpha;
    g->cap = cap;
    g->critical = NULL;
    if (cap < 4 || cap >= SIZE_MAX / sizeof(double))
        return MW_EINVAL;
    g->critical = mw_detector_alloc(d, (cap + 1) * sizeof(double));
    if (g->critical == NULL)
        return d->alloc->last_error != MW_OK ? d->alloc->last_error : MW_ENOMEM;
    for (size_t m = 0; m <= cap; m++)
        g->critical[m] = NAN;
    return MW_OK;
}

void mw_gesd_free(mw_gesd *g, mw_detector *d)
{
    mw_detector_dealloc(d, g->critical, (g->cap + 1) * sizeof(double));
    g->critical = NULL;
}

double mw_gesd_critical(mw_gesd *g, size_t m)
{
    double lambda = g->critical[m];
    if (lambda == lambda)
        return lambda;
    /* Step i of a test on n values has m = n - i + 1 values: the t
     * quantile of 1 - alpha / (2m) with m - 2 degrees of freedom, taken
     * as an upper tail so that the small probability keeps its digits. */
    double values = (double)m;
    double t = mw_dist_t_isf(g->alpha / (2.0 * values), values - 2.0);
    lambda = t * (values - 1.0) / sqrt((values - 2.0 + t * t) * values);
    g->critical[m] = lambda;
    return lambda;
}

size_t mw_gesd_steps(size_t n, double max_anoms)
{
    double wanted = floor(max_anoms * (double)n);
    size_t steps = wanted < 1.0 ? 1 : (size_t)wanted;
    return steps > n - 3 ? n - 3 : steps;
}

/* ---- centre and scale of a run -------------------------------------- */

/* The scale, floored as mw_detect_standard_score floors it. */
static double gesd_floor(double scale, double centre)
{
    double floor_scale = 1e-9 * fabs(centre);
    if (floor_scale < 1e-12)
        floor_scale = 1e-12;
    return scale > floor_scale ? scale : floor_scale;
}

/* Mean and sum of squared deviations of a[lo..hi], two passes, each with
 * four running sums (independent additions pipeline; one chain would
 * wait for each addition in turn). */
static void gesd_moments(const double *a, size_t lo, size_t hi, double *mean, double *m2)
{
    size_t n = hi - lo + 1, i = lo;
    double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
    for (; i + 3 <= hi; i += 4) {
        s0 += a[i];
        s1 += a[i + 1];
        s2 += a[i + 2];
        s3 += a[i + 3];
    }
    for (; i <= hi; i++)
        s0 += a[i];
    double centre = ((s0 + s1) + (s2 + s3)) / (double)n;
    s0 = s1 = s2 = s3 = 0.0;
    for (i = lo; i + 3 <= hi; i += 4) {
        double d0 = a[i] - centre, d1 = a[i + 1] - centre;
        double d2 = a[i + 2] - centre, d3 = a[i + 3] - centre;
        s0 += d0 * d0;
        s1 += d1 * d1;
        s2 += d2 * d2;
        s3 += d3 * d3;
    }
    for (; i <= hi; i++)
        s0 += (a[i] - centre) * (a[i] - centre);
    *mean = centre;
    *m2 = (s0 + s1) + (s2 + s3);
}

/* The k-th smallest (from 0) of |a[j] - med| over j in [lo, hi], where
 * a[lo..mid] <= med <= a[mid+1..hi]. The deviations on the left grow
 * leftwards from mid and those on the right rightwards from mid + 1: two
 * ascending lists, left[t] = med - a[mid - t] and right[t] =
 * a[mid + 1 + t] - med. A binary search finds how many of the k + 1
 * smallest come from the left. */
static double gesd_kth_deviation(const double *a, size_t lo, size_t mid, size_t hi, double med,
                                 size_t k)
{
    size_t n_left = mid - lo + 1, n_right = hi - mid;
    size_t first = k + 1 > n_right ? k + 1 - n_right : 0;
    size_t last = k + 1 < n_left ? k + 1 : n_left;
    while (first < last) {
        size_t from_left = first + (last - first) / 2;
        size_t from_right = k + 1 - from_left;
        /* Taking one more from the left is right when its next deviation
         * is below the last one taken from the right. */
        if (med - a[mid - from_left] < a[mid + from_right] - med)
            first = from_left + 1;
        else
            last = from_left;
    }
    size_t from_right = k + 1 - first;
    double left = first > 0 ? med - a[mid - (first - 1)] : 0.0;
    double right = from_right > 0 ? a[mid + from_right] - med : 0.0;
    return left > right ? left : right;
}

static double gesd_median(const double *a, size_t lo, size_t hi)
{
    size_t m = hi - lo + 1;
    size_t mid = lo + (m - 1) / 2;
    return m % 2 ? a[mid] : 0.5 * a[mid] + 0.5 * a[mid + 1];
}

/* 1.4826 * MAD of a[lo..hi] around its median med (the standard
 * deviation when the MAD is 0 but the run is not constant). */
static double gesd_mad_scale(const double *a, size_t lo, size_t hi, double med)
{
    size_t m = hi - lo + 1;
    size_t mid = lo + (m - 1) / 2;
    double mad = m % 2 ? gesd_kth_deviation(a, lo, mid, hi, med, (m - 1) / 2)
                       : 0.5 * gesd_kth_deviation(a, lo, mid, hi, med, m / 2 - 1) +
                             0.5 * gesd_kth_deviation(a, lo, mid, hi, med, m / 2);
    if (mad > 0.0)
        return MW_GESD_MAD_SCALE * mad;
    double mean, m2;
    gesd_moments(a, lo, hi, &mean, &m2);
    return sqrt(m2 / (double)(m - 1));
}

/* ---- the test -------------------------------------------------------- */

/* Which value a step removes needs only the centre; the scale (a MAD
 * selection, for the robust test) and the ratio are only worked out for
 * the steps the score uses: from x's removal on, and the last. A value
 * the test never reaches, the usual case, costs two scales, not k. */
double mw_gesd_score(mw_gesd *g, const double *a, size_t n, double x, size_t steps, int robust)
{
    size_t lo = 0, hi = n - 1;
    double mean = 0.0, m2 = 0.0;
    if (!robust)
        gesd_moments(a, lo, hi, &mean, &m2);
    int removed = 0;
    double best = 0.0, last = 0.0;
    for (size_t i = 1; i <= steps; i++) {
        size_t m = hi - lo + 1;
        if (a[lo] == a[hi]) {
            /* A constant run: every later R is 0, and x, if still in, is
             * one of these values. */
            removed = 1;
            last = 0.0;
            break;
        }
        size_t run_lo = lo, run_hi = hi;
        double inv_left = 1.0 / (double)(m - 1);
        double centre = robust ? gesd_median(a, lo, hi) : mean;
        double dev_low = centre - a[lo], dev_high = a[hi] - centre;
        double value, dev;
        if (dev_high >= dev_low) {
            value = a[hi--];
            dev = dev_high;
        } else {
            value = a[lo++];
            dev = dev_low;
        }
        int first = !removed && value == x;
        if (removed || first || i == steps) {
            double scale = robust ? gesd_mad_scale(a, run_lo, run_hi, centre)
                                  : sqrt(m2 / (double)(m - 1));
            double ratio = dev / gesd_floor(scale, centre) / mw_gesd_critical(g, m);
            if (first || (removed && ratio > best))
                best = ratio;
            removed |= first;
            last = ratio;
        }
        if (!robust) {
            /* The moments of the m - 1 values left (the reciprocal keeps
             * the division out of the chain of means). */
            double new_mean = mean - (value - mean) * inv_left;
            double new_m2 = m2 - (value - mean) * (value - new_mean);
            if (new_m2 > GESD_M2_KEEP * m2) {
                mean = new_mean;
                m2 = new_m2;
            } else {
                gesd_moments(a, lo, hi, &mean, &m2);
            }
        }
    }
    if (removed)
        return best;
    size_t m = hi - lo + 1;
    double centre = robust ? gesd_median(a, lo, hi) : mean;
    double scale = robust ? gesd_mad_scale(a, lo, hi, centre) : sqrt(m2 / (double)(m - 1));
    double ratio = fabs(x - centre) / gesd_floor(scale, centre) / mw_gesd_critical(g, m);
    double cap = last < 1.0 ? last : 1.0;
    return ratio < cap ? ratio : cap;
}

/* ---- every value at once (a batch test) ------------------------------ */

/* What the steps of one test leave for scoring any value of the sample:
 * mw_gesd_score's loop run once, with every ratio worked out. */
typedef struct gesd_pass {
    size_t *removed_at;      /* [n]: the step that removed sorted[p], 0: none */
    double *evidence;        /* [steps + 1]: evidence[j] = max(ratio_j, ...,
                              * ratio of the last step taken) */
    int stopped;             /* reached a run of equal values: the values
                              * left score 0 */
    double centre, scale, critical, cap; /* for the values left */
} gesd_pass;

/* The same arithmetic in the same order as mw_gesd_score, so that every
 * ratio, and so every score, is the same double. */
static void gesd_pass_run(mw_gesd *g, gesd_pass *p, const double *a, size_t n, size_t steps,
                          int robust)
{
    size_t lo = 0, hi = n - 1, taken = 0;
    double mean = 0.0, m2 = 0.0, last = 0.0;
    for (size_t i = 0; i < n; i++)
        p->removed_at[i] = 0;
    if (!robust)
        gesd_moments(a, lo, hi, &mean, &m2);
    p->stopped = 0;
    for (size_t i = 1; i <= steps; i++) {
        size_t m = hi - lo + 1;
        if (a[lo] == a[hi]) {
            p->stopped = 1;
            break;
        }
        size_t run_lo = lo, run_hi = hi;
        double inv_left = 1.0 / (double)(m - 1);
        double centre = robust ? gesd_median(a, lo, hi) : mean;
        double dev_low = centre - a[lo], dev_high = a[hi] - centre;
        double value, dev;
        if (dev_high >= dev_low) {
            p->removed_at[hi] = i;
            value = a[hi--];
            dev = dev_high;
        } else {
            p->removed_at[lo] = i;
            value = a[lo++];
            dev = dev_low;
        }
        double scale = robust ? gesd_mad_scale(a, run_lo, run_hi, centre)
                              : sqrt(m2 / (double)(m - 1));
        last = dev / gesd_floor(scale, centre) / mw_gesd_critical(g, m);
        p->evidence[i] = last;
        taken = i;
        if (!robust) {
            double new_mean = mean - (value - mean) * inv_left;
            double new_m2 = m2 - (value - mean) * (value - new_mean);
            if (new_m2 > GESD_M2_KEEP * m2) {
                mean = new_mean;
                m2 = new_m2;
            } else {
                gesd_moments(a, lo, hi, &mean, &m2);
            }
        }
    }
    for (size_t j = taken; j > 1; j--)
        if (p->evidence[j] > p->evidence[j - 1])
            p->evidence[j - 1] = p->evidence[j];
    if (p->stopped)
        return;
    size_t m = hi - lo + 1;
    p->centre = robust ? gesd_median(a, lo, hi) : mean;
    double scale = robust ? gesd_mad_scale(a, lo, hi, p->centre) : sqrt(m2 / (double)(m - 1));
    p->scale = gesd_floor(scale, p->centre);
    p->critical = mw_gesd_critical(g, m);
    p->cap = last < 1.0 ? last : 1.0;
}

/* The first i with a[i] > x (n when there is none). */
static size_t gesd_upper_bound(const double *a, size_t n, double x)
{
    size_t first = 0, count = n;
    while (count > 0) {
        size_t half = count / 2;
        if (!(x < a[first + half])) {
            first += half + 1;
            count -= half + 1;
        } else {
            count = half;
        }
    }
    return first;
}

/* x's score after the pass. Steps remove equal values from the low end
 * upwards or from the high end downwards, so the first step to remove a
 * value equal to x removed the first or the last of x's equal run: the
 * earlier of the two (both are removed when the whole run is). */
static double gesd_pass_score(const gesd_pass *p, const double *a, size_t n, double x)
{
    size_t first = mw_gesd_lower_bound(a, n, x);
    size_t end = gesd_upper_bound(a, n, x);
    size_t step = 0;
    if (first < end) {
        size_t low = p->removed_at[first], high = p->removed_at[end - 1];
        step = low == 0 ? high : high == 0 || low < high ? low : high;
    }
    if (step > 0)
        return p->evidence[step];
    if (p->stopped)
        return 0.0;
    double ratio = fabs(x - p->centre) / p->scale / p->critical;
    return ratio < p->cap ? ratio : p->cap;
}

mw_status mw_gesd_score_batch(mw_alloc *alloc, double alpha, const double *sorted, size_t n,
                              size_t steps, int robust, const double *x, size_t count,
                              double *out)
{
    /* One block: the critical values, the evidence, then the positions'
     * steps (doubles first keeps every part aligned). */
    size_t doubles = (n + 1) + (steps + 1);
    if (n < 4 || steps > n - 3 || n > SIZE_MAX / 2 / (sizeof(double) + sizeof(size_t)))
        return MW_EINVAL;
    size_t bytes = doubles * sizeof(double) + n * sizeof(size_t);
    double *block = mw_alloc_malloc(alloc, MW_DOMAIN_NATIVE, bytes);
    if (block == NULL)
        return alloc->last_error != MW_OK ? alloc->last_error : MW_ENOMEM;
    mw_gesd g = {.alpha = alpha, .cap = n, .critical = block};
    for (size_t m = 0; m <= n; m++)
        g.critical[m] = NAN;
    gesd_pass pass = {.evidence = block + n + 1, .removed_at = (size_t *)(block + doubles)};
    gesd_pass_run(&g, &pass, sorted, n, steps, robust);
    for (size_t i = 0; i < count; i++)
        out[i] = x[i] - x[i] == 0.0 ? gesd_pass_score(&pass, sorted, n, x[i]) : NAN;
    mw_alloc_free(alloc, MW_DOMAIN_NATIVE, block, bytes);
    return MW_OK;
}

/* ---- sorted arrays ---------------------------------------------------- */

size_t mw_gesd_lower_bound(const double *a, size_t n, double x)
{
    size_t first = 0, count = n;
    while (count > 0) {
        size_t half = count / 2;
        if (a[first + half] < x) {
            first += half + 1;
            count -= half + 1;
        } else {
            count = half;
        }
    }
    return first;
}

size_t mw_gesd_sorted_replace(const double *src, size_t n, int remove, double old, double x,
                              double *dst)
{
    size_t at = mw_gesd_lower_bound(src, n, x);
    if (!remove) {
        memcpy(dst, src, at * sizeof *src);
        dst[at] = x;
        memcpy(dst + at + 1, src + at, (n - at) * sizeof *src);
        return n + 1;
    }
    size_t gone = mw_gesd_lower_bound(src, n, old);
    if (at <= gone) {
        /* x goes before the removed value: src[at..gone) moves up one. */
        memcpy(dst, src, at * sizeof *src);
        dst[at] = x;
        memcpy(dst + at + 1, src + at, (gone - at) * sizeof *src);
        memcpy(dst + gone + 1, src + gone + 1, (n - gone - 1) * sizeof *src);
    } else {
        /* x goes after it: src(gone..at) moves down one. */
        memcpy(dst, src, gone * sizeof *src);
        memcpy(dst + gone, src + gone + 1, (at - gone - 1) * sizeof *src);
        dst[at - 1] = x;
        memcpy(dst + at, src + at, (n - at) * sizeof *src);
    }
    return n;
}

static int gesd_compare(const void *left, const void *right)
{
    double a = *(const double *)left, b = *(const double *)right;
    return (a > b) - (a < b);
}

void mw_gesd_sort(double *a, size_t n)
{
    qsort(a, n, sizeof *a, gesd_compare);
}
