/*
 * level_shift.c: a change of level between two adjacent windows, the
 * streaming form of ADTK's LevelShiftAD (DoubleRollingAggregate with agg
 * "median" and diff "l1").
 *
 * The last 2 * window values, x included, make two windows: the right
 * one holds the newest `window` values (ending at x), the left one the
 * `window` values before them. Score:
 *   |median(right) - median(left)| / scale     (folded by `side`)
 * where scale is a robust standard deviation of the left window (the
 * reference): its interquartile range / 1.349, or if that is 0 (over half
 * the window equal) its mean absolute deviation from the median * 1.2533,
 * or if that is 0 too (a constant window) the floor of
 * mw_detect_standard_score. Both factors make the scale the standard
 * deviation for Gaussian noise, so a score reads as the shift in standard
 * deviations: with the default window a clean shift of d sigmas peaks
 * near d, window - 1 values after the change (when the right window is
 * all new).
 *
 * ADTK thresholds the raw difference |median(right) - median(left)| with
 * an interquartile fence over the history of that difference (c = 6); we
 * divide by the left window's spread instead, so the score is scale-free
 * and one threshold serves any series; ADTK's centred window labels the
 * first value after the change, ours (causal) the values of the change
 * as they arrive. Quantiles interpolate linearly (numpy's default).
 *
 * As every detector, the score of x is computed before x is learned; the
 * windows simply end at x. Until the left window holds min_periods values
 * (the full window by default: 2 * window values learned), the score is 0.
 *
 * State: the last 2 * window values in a ring (time order) and each
 * window's values in a sorted array. An update moves the right window's
 * oldest value into the left one, drops the left one's oldest and adds x
 * to the right one: in each array, a binary search for the value leaving
 * and one for the value coming, and one shift of the values between,
 * O(window) (the medians and quartiles are then O(1)). The score reads
 * the sorted arrays through a view that applies the coming removal and
 * insertion without doing them, so score() changes nothing and update()
 * makes exactly the change it scored. save writes the ring only; load
 * rebuilds the sorted arrays by sorting. -0.0 is learned as +0.0, so
 * equal values are equal bits and a rebuilt array is the array that was
 * saved.
 */
#include "detect/detect.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 2 * Phi^-1(0.75): the interquartile range of a unit Gaussian. */
#define LEVEL_IQR_GAUSS 1.3489795003921634
/* sqrt(pi / 2): the standard deviation over the mean absolute deviation
 * of a Gaussian. */
#define LEVEL_MEANAD_GAUSS 1.2533141373155003
/* Scores are capped here, so that overflowing data still scores finite. */
#define LEVEL_CAP 1e300

enum { P_WINDOW, P_MIN_PERIODS, P_SIDE };

static const mw_param_spec level_params[] = {
    {"window", MW_PARAM_INT, 10, 2, 1e6, 0, NULL,
     "values in each of the two windows (ADTK's demo: 5)"},
    {"min_periods", MW_PARAM_INT, 0, 0, 1e6, 0, NULL,
     "values the left window needs before scoring (score 0 until then); 0: window"},
    {"side", MW_PARAM_CHOICE, MW_SIDE_BOTH, 0, 0, 0, mw_detect_side_choices,
     "shifts that count: both, up (the level rises), down"},
};

typedef struct level_state {
    double *ring;            /* 2 * window values, time order; owned */
    size_t count;            /* values in the ring (<= 2 * window) */
    size_t head;             /* where the next value goes */
    double *right, *left;    /* sorted, window values each; owned */
    size_t window, min_periods;
    int side;
} level_state;

/* A sorted array with one value removed (index del, or n for none) and
 * one value inserted at rank ins among the rest (or NO_INSERT), read
 * without changing the array. */
#define NO_INSERT SIZE_MAX
typedef struct sorted_view {
    const double *a;
    size_t n;                /* values in a */
    size_t del;
    size_t ins;
    double value;
    size_t len;              /* values in the view */
} sorted_view;

static inline double view_at(const sorted_view *v, size_t k)
{
    /* Comparisons as numbers, not branches: where the removed and the
     * inserted values sit is random, so branches would mispredict. */
    size_t in_base = k - (k > v->ins);
    in_base += in_base >= v->del;
    return k == v->ins ? v->value : v->a[in_base];
}

/* The first index of a[0..n) whose value is not below value (branch-free
 * halving: the comparisons on random data are coin flips). */
static inline size_t sorted_lower_bound(const double *a, size_t n, double value)
{
    if (n == 0)
        return 0;
    const double *base = a;
    while (n > 1) {
        size_t half = n / 2;
        base = base[half] < value ? base + half : base;
        n -= half;
    }
    return (size_t)(base - a) + (*base < value);
}

/* A view of a[0..n) without value out (if remove) and with value in (if
 * insert). out must be in a. */
static inline void view_make(sorted_view *v, const double *a, size_t n, int remove,
                             double out, int insert, double in)
{
    v->a = a;
    v->n = n;
    v->del = n;
    v->ins = NO_INSERT;
    v->value = in;
    v->len = n;
    if (remove) {
        v->del = sorted_lower_bound(a, n, out);
        assert(v->del < n && a[v->del] == out);
        v->len--;
    }
    if (insert) {
        size_t at = sorted_lower_bound(a, n, in);
        v->ins = v->del < at ? at - 1 : at;
        v->len++;
    }
}

/* Makes a[] what the view shows (a has room for the view's length): one
 * shift of the values between the removed and the inserted place. */
static void view_apply(const sorted_view *v, double *a)
{
    size_t n = v->n, del = v->del, ins = v->ins;
    if (ins == NO_INSERT) {
        if (del < n)
            memmove(a + del, a + del + 1, (n - del - 1) * sizeof *a);
        return;
    }
    if (del < n && ins >= del)
        memmove(a + del, a + del + 1, (ins - del) * sizeof *a);
    else
        memmove(a + ins + 1, a + ins, ((del < n ? del : n) - ins) * sizeof *a);
    a[ins] = v->value;
}

static inline double view_median(const sorted_view *v)
{
    size_t m = v->len;
    if (m % 2 == 1)
        return view_at(v, m / 2);
    /* Halves first: the sum of two huge values could overflow. */
    return 0.5 * view_at(v, m / 2 - 1) + 0.5 * view_at(v, m / 2);
}

/* Quantile q with linear interpolation (numpy's default); len >= 1. */
static inline double view_quantile(const sorted_view *v, double q)
{
    double pos = q * (double)(v->len - 1);
    size_t lo = (size_t)pos;
    double frac = pos - (double)lo;
    double low = view_at(v, lo);
    if (frac == 0.0)
        return low;
    return low + (view_at(v, lo + 1) - low) * frac;
}

/* The robust standard deviation of the view, centred on median (see the
 * top of the file); may be 0. */
static double view_scale(const sorted_view *v, double median)
{
    double iqr = view_quantile(v, 0.75) - view_quantile(v, 0.25);
    if (iqr > 0.0)
        return iqr / LEVEL_IQR_GAUSS;
    double sum = 0.0;
    for (size_t k = 0; k < v->len; k++)
        sum += fabs(view_at(v, k) - median);
    return sum / (double)v->len * LEVEL_MEANAD_GAUSS;
}

/* The value i places back in the ring (0: the newest); i < count. */
static inline double level_back(const level_state *s, size_t i)
{
    size_t cap = 2 * s->window;
    return s->ring[s->head >= i + 1 ? s->head - i - 1 : s->head + cap - i - 1];
}

/* The two windows as they would be once x is learned; returns the
 * number of values in the left one. */
static inline size_t level_views(const level_state *s, double x, sorted_view *right,
                                 sorted_view *left)
{
    size_t w = s->window;
    size_t n_right = s->count < w ? s->count : w;
    size_t n_left = s->count - n_right;
    int right_full = n_right == w;
    double moved = right_full ? level_back(s, w - 1) : 0.0;
    int left_full = n_left == w;
    double dropped = left_full ? level_back(s, 2 * w - 1) : 0.0;
    view_make(right, s->right, n_right, right_full, moved, 1, x);
    view_make(left, s->left, n_left, right_full && left_full, dropped, right_full, moved);
    return left->len;
}

static inline double level_score_views(const level_state *s, const sorted_view *right,
                                       const sorted_view *left)
{
    if (left->len < s->min_periods)
        return 0.0;
    double centre = view_median(left);
    double dev = view_median(right) - centre;
    double score = mw_detect_standard_score(dev, view_scale(left, centre), centre, s->side);
    return score < LEVEL_CAP ? score : LEVEL_CAP;
}

static inline double level_score_of(const level_state *s, double x)
{
    sorted_view right, left;
    x += 0.0;                /* -0.0 becomes +0.0 */
    level_views(s, x, &right, &left);
    return level_score_views(s, &right, &left);
}

static inline double level_step(level_state *s, double x)
{
    sorted_view right, left;
    x += 0.0;
    level_views(s, x, &right, &left);
    double score = level_score_views(s, &right, &left);
    view_apply(&left, s->left);
    view_apply(&right, s->right);
    s->ring[s->head] = x;
    if (++s->head == 2 * s->window)
        s->head = 0;
    if (s->count < 2 * s->window)
        s->count++;
    return score;
}

static void level_free_arrays(mw_detector *d)
{
    level_state *s = d->state;
    mw_detector_dealloc(d, s->ring, 2 * s->window * sizeof(double));
    mw_detector_dealloc(d, s->right, s->window * sizeof(double));
    mw_detector_dealloc(d, s->left, s->window * sizeof(double));
    s->ring = s->right = s->left = NULL;
}

static mw_status level_init(mw_detector *d, char *err)
{
    level_state *s = d->state;
    s->window = (size_t)d->params[P_WINDOW];
    size_t min_periods = (size_t)d->params[P_MIN_PERIODS];
    s->side = (int)d->params[P_SIDE];
    if (min_periods == 1) {
        snprintf(err, MW_DETECT_ERRLEN,
                 "min_periods must be 0 (the full window) or at least 2 (got 1)");
        return MW_EINVAL;
    }
    if (min_periods > s->window) {
        snprintf(err, MW_DETECT_ERRLEN, "min_periods (%zu) must not exceed window (%zu)",
                 min_periods, s->window);
        return MW_EINVAL;
    }
    s->min_periods = min_periods == 0 ? s->window : min_periods;
    s->ring = mw_detector_alloc(d, 2 * s->window * sizeof(double));
    s->right = mw_detector_alloc(d, s->window * sizeof(double));
    s->left = mw_detector_alloc(d, s->window * sizeof(double));
    if (s->ring == NULL || s->right == NULL || s->left == NULL) {
        level_free_arrays(d);
        return d->alloc->last_error != MW_OK ? d->alloc->last_error : MW_ENOMEM;
    }
    return MW_OK;
}

static void level_destroy(mw_detector *d)
{
    level_free_arrays(d);
}

static void level_reset(mw_detector *d)
{
    level_state *s = d->state;
    s->count = 0;
    s->head = 0;
}

static double level_update(mw_detector *d, double x, double t)
{
    (void)t;
    return level_step(d->state, x);
}

static double level_score(const mw_detector *d, double x, double t)
{
    (void)t;
    return level_score_of(d->state, x);
}

static void level_run(mw_detector *d, const double *x, const double *t, size_t n,
                      double *out)
{
    (void)t;
    level_state *s = d->state;
    for (size_t i = 0; i < n; i++)
        out[i] = x[i] - x[i] == 0.0 ? level_step(s, x[i]) : NAN;
}

static void level_save(const mw_detector *d, mw_blob_writer *w)
{
    const level_state *s = d->state;
    mw_blob_put_u64(w, s->count);
    for (size_t i = s->count; i > 0; i--)
        mw_blob_put_f64(w, level_back(s, i - 1));
}

static int level_compare(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int level_load(mw_detector *d, mw_blob_reader *r)
{
    level_state *s = d->state;
    size_t w = s->window;
    size_t count = mw_blob_get_count(r, 2 * w, "ring count");
    mw_blob_get_f64s(r, s->ring, r->failed ? 0 : count);
    for (size_t i = 0; !r->failed && i < count; i++) {
        if (!(s->ring[i] - s->ring[i] == 0.0))
            mw_blob_fail(r, "value %zu is not finite", i);
        else if (s->ring[i] == 0.0 && signbit(s->ring[i]))
            mw_blob_fail(r, "value %zu is -0", i);
    }
    if (r->failed) {
        level_reset(d);
        return 1;
    }
    s->count = count;
    s->head = count == 2 * w ? 0 : count;
    /* Oldest first: the left window is ring[0 .. count - n_right). */
    size_t n_right = count < w ? count : w;
    size_t n_left = count - n_right;
    memcpy(s->left, s->ring, n_left * sizeof(double));
    memcpy(s->right, s->ring + n_left, n_right * sizeof(double));
    qsort(s->left, n_left, sizeof(double), level_compare);
    qsort(s->right, n_right, sizeof(double), level_compare);
    return 0;
}

const mw_detector_type mw_detect_level_shift_type = {
    .name = "level_shift",
    .role = MW_ROLE_DETECTOR,
    .summary = "|median(newest window) - median(window before)| / robust std of the "
               "latter (ADTK's LevelShiftAD)",
    .params = level_params,
    .n_params = sizeof level_params / sizeof level_params[0],
    .state_size = sizeof(level_state),
    .init = level_init,
    .destroy = level_destroy,
    .reset = level_reset,
    .update = level_update,
    .score = level_score,
    .run = level_run,
    .save = level_save,
    .load = level_load,
};
