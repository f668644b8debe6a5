/*
 * sorted.c: the order-statistics window of the robust detectors (see
 * sorted.h for the design and the invariants).
 */
#include "detect/sorted.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stats/stats.h"

mw_status mw_sorted_init(mw_sorted *s, mw_detector *d, size_t cap)
{
    memset(s, 0, sizeof *s);
    if (cap == 0 || cap > SIZE_MAX / sizeof(double))
        return MW_EINVAL;
    s->ring = mw_detector_alloc(d, cap * sizeof(double));
    s->sorted = s->ring != NULL ? mw_detector_alloc(d, cap * sizeof(double)) : NULL;
    if (s->sorted == NULL) {
        mw_detector_dealloc(d, s->ring, cap * sizeof(double));
        s->ring = NULL;
        return d->alloc->last_error != MW_OK ? d->alloc->last_error : MW_ENOMEM;
    }
    s->cap = cap;
    return MW_OK;
}

void mw_sorted_free(mw_sorted *s, mw_detector *d)
{
    mw_detector_dealloc(d, s->ring, s->cap * sizeof(double));
    mw_detector_dealloc(d, s->sorted, s->cap * sizeof(double));
    s->ring = NULL;
    s->sorted = NULL;
}

void mw_sorted_clear(mw_sorted *s)
{
    s->count = 0;
    s->head = 0;
}

/* The first index in [lo, hi) whose value is >= x (hi if none). Written
 * without a data-dependent branch (the compiler makes the step a
 * conditional move): a push searches for fresh values, where a branchy
 * search mispredicts half of its steps (measured: 10-25% off a quantile or
 * iqr update at windows of 100 to 10000). Invariant: the values before
 * base are < x, and the answer is at most base + n. */
static size_t sorted_lower_bound(const double *a, size_t lo, size_t hi, double x)
{
    if (lo == hi)
        return lo;
    const double *base = a + lo;
    size_t n = hi - lo;
    while (n > 1) {
        size_t half = n / 2;
        base = base[half] < x ? base + half : base;
        n -= half;
    }
    return (size_t)(base - a) + (*base < x);
}

/* The first index in [lo, hi) whose value is > x (hi if none); as above. */
static size_t sorted_upper_bound(const double *a, size_t lo, size_t hi, double x)
{
    if (lo == hi)
        return lo;
    const double *base = a + lo;
    size_t n = hi - lo;
    while (n > 1) {
        size_t half = n / 2;
        base = base[half] <= x ? base + half : base;
        n -= half;
    }
    return (size_t)(base - a) + (*base <= x);
}

void mw_sorted_push(mw_sorted *s, double x)
{
    double *a = s->sorted;
    x += 0.0;                /* -0 becomes +0: one bit pattern per value */
    if (s->count < s->cap) {
        size_t at = sorted_upper_bound(a, 0, s->count, x);
        memmove(a + at + 1, a + at, (s->count - at) * sizeof *a);
        a[at] = x;
        s->count++;
    } else {
        /* Replace the leaving value in place and move only the values
         * between its place and the new value's. */
        double old = s->ring[s->head];
        size_t gone = sorted_lower_bound(a, 0, s->count, old);
        assert(gone < s->count && a[gone] == old);
        if (x < old) {
            size_t at = sorted_upper_bound(a, 0, gone, x);
            memmove(a + at + 1, a + at, (gone - at) * sizeof *a);
            a[at] = x;
        } else if (x > old) {
            size_t at = sorted_lower_bound(a, gone + 1, s->count, x);
            memmove(a + gone, a + gone + 1, (at - gone - 1) * sizeof *a);
            a[at - 1] = x;
        }
    }
    s->ring[s->head] = x;
    if (++s->head == s->cap)
        s->head = 0;
}

/* The same steps as mw_stats_quantile's, on an array already sorted. */
double mw_sorted_quantile(const mw_sorted *s, double q)
{
    if (s->count == 0)
        return NAN;
    double position = q * (double)(s->count - 1);
    size_t k = (size_t)floor(position);
    if (k > s->count - 1)
        k = s->count - 1;
    double t = position - (double)k;
    if (t == 0.0 || k + 1 >= s->count)
        return s->sorted[k];
    return mw_stats_interpolate(s->sorted[k], s->sorted[k + 1], t);
}

/* The distances from centre as two ascending sequences: `below` holds
 * centre - sorted[split - 1 - i] for i < n_below (the values under centre,
 * right to left), `above` sorted[split + j] - centre for j < n_above.
 * centre - v is exactly -(v - centre) in IEEE arithmetic, so these are the
 * very numbers fabs(v - centre) gives. */
typedef struct sorted_distances {
    const double *a;
    double centre;
    size_t split, n_below, n_above;
} sorted_distances;

static double distance_below(const sorted_distances *d, size_t i)
{
    return d->centre - d->a[d->split - 1 - i];
}

static double distance_above(const sorted_distances *d, size_t j)
{
    return d->a[d->split + j] - d->centre;
}

/* The k-th (0-based) and (k + 1)-th smallest distances (next is only
 * written when k + 1 < n_below + n_above). Taking `take` = k + 1 values
 * from the two sequences, i from below and take - i from above, the right
 * i is the largest whose last value taken from below is no greater than
 * the first one left above; that test is monotone in i, so a binary
 * search finds it in O(log count). */
static void sorted_kth_distance(const sorted_distances *d, size_t k, double *kth,
                                double *next)
{
    size_t take = k + 1;
    size_t lo = take > d->n_above ? take - d->n_above : 0;
    size_t hi = take < d->n_below ? take : d->n_below;
    while (lo < hi) {
        size_t mid = lo + (hi - lo + 1) / 2;
        size_t j = take - mid;
        if (j == d->n_above || distance_below(d, mid - 1) <= distance_above(d, j))
            lo = mid;
        else
            hi = mid - 1;
    }
    size_t i = lo, j = take - lo;
    double last = -INFINITY;
    if (i > 0)
        last = distance_below(d, i - 1);
    if (j > 0 && distance_above(d, j - 1) > last)
        last = distance_above(d, j - 1);
    *kth = last;
    double first_left = INFINITY;
    if (i < d->n_below)
        first_left = distance_below(d, i);
    if (j < d->n_above && distance_above(d, j) < first_left)
        first_left = distance_above(d, j);
    if (take < d->n_below + d->n_above)
        *next = first_left;
}

/* lower_bound again, with branches: the MAD searches for the median, which
 * takes the same path step after step, so the branches are predicted and
 * beat the conditional moves' chain of dependent loads (measured: about 15%
 * of the whole update at window 100). */
static size_t sorted_find_split(const double *a, size_t n, double centre)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a[mid] < centre)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

double mw_sorted_median_abs_dev(const mw_sorted *s, double centre)
{
    if (s->count == 0)
        return NAN;
    sorted_distances d;
    d.a = s->sorted;
    d.centre = centre;
    d.split = sorted_find_split(s->sorted, s->count, centre);
    d.n_below = d.split;
    d.n_above = s->count - d.split;
    /* The 0.5-quantile of the distances, as mw_sorted_quantile takes it. */
    double position = 0.5 * (double)(s->count - 1);
    size_t k = (size_t)floor(position);
    double t = position - (double)k;
    double kth, next = 0.0;
    sorted_kth_distance(&d, k, &kth, &next);
    if (t == 0.0 || k + 1 >= s->count)
        return kth;
    return mw_stats_interpolate(kth, next, t);
}

double mw_sorted_mean_abs_dev(const mw_sorted *s, double centre)
{
    if (s->count == 0)
        return NAN;
    double sum = 0.0;
    for (size_t i = 0; i < s->count; i++)
        sum += fabs(s->sorted[i] - centre);
    return sum / (double)s->count;
}

void mw_sorted_save(const mw_sorted *s, mw_blob_writer *w)
{
    mw_blob_put_u64(w, s->count);
    /* Oldest first: from head when the ring is full, from 0 before. */
    size_t start = s->count == s->cap ? s->head : 0;
    mw_blob_put_f64s(w, s->ring + start, s->count - start);
    mw_blob_put_f64s(w, s->ring, start);
}

static int sorted_compare(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

int mw_sorted_load(mw_sorted *s, mw_blob_reader *r)
{
    mw_sorted_clear(s);
    size_t count = (size_t)mw_blob_get_count(r, s->cap, "window count");
    mw_blob_get_f64s(r, s->ring, r->failed ? 0 : count);
    for (size_t i = 0; !r->failed && i < count; i++) {
        if (!(s->ring[i] - s->ring[i] == 0.0))
            mw_blob_fail(r, "window value %zu is not finite", i);
        s->ring[i] += 0.0;
    }
    if (r->failed)
        return 1;
    /* The ring now starts at slot 0: the next push goes after the newest
     * value, or replaces the oldest (slot 0) when full. */
    s->count = count;
    s->head = count == s->cap ? 0 : count;
    memcpy(s->sorted, s->ring, count * sizeof(double));
    qsort(s->sorted, count, sizeof(double), sorted_compare);
    return 0;
}
