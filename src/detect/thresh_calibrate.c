/*
 * thresh_calibrate.c: scores mapped to [0, 1] against the recent ones
 * (mw.thresh.calibrate).
 *
 * The reference is the last `window` scores learned before the one being
 * mapped (a sliding window, window.h); the output is 0 until min_periods
 * scores are learned. Methods:
 *
 *   ecdf      the score's rank in the window: (number of window scores
 *             strictly below it + half the number equal to it) / count,
 *             the mid-rank empirical CDF. A sorted copy of the window
 *             gives the rank by binary search; each update replaces the
 *             oldest score by the new one (O(log w) compares and a
 *             memmove of the values between their places, O(w)).
 *   gaussian  Phi((s - mean) / std), the normal CDF of the standard
 *             score, with the window's mean and std (ddof 1). A window of
 *             equal scores gives 0.5 for that score and 0 or 1 for any
 *             other (the scale is floored as mw_detect_standard_score
 *             does).
 *   minmax    (s - min) / (max - min) over the window, clipped to [0, 1];
 *             0.5 for a score equal to a window of equal scores. Min and
 *             max come from monotonic deques (O(1) amortised).
 *
 * Every method keeps the window itself (window.h, which also keeps the
 * mean and m2); ecdf's sorted copy and minmax's deques are functions of
 * the window's values in order, so save writes the window only and load
 * rebuilds them.
 */
#include "detect/detect.h"
#include "detect/window.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

enum { P_METHOD, P_WINDOW, P_MIN_PERIODS };
enum { METHOD_ECDF, METHOD_GAUSSIAN, METHOD_MINMAX };

static const char *const calibrate_methods[] = {"ecdf", "gaussian", "minmax", NULL};

static const mw_param_spec calibrate_params[] = {
    {"method", MW_PARAM_CHOICE, METHOD_ECDF, 0, 0, 0, calibrate_methods,
     "ecdf (mid-rank), gaussian (normal CDF of the z-score) or minmax"},
    {"window", MW_PARAM_INT, 1000, 1, 1e9, 0, NULL,
     "past scores the new one is compared with"},
    {"min_periods", MW_PARAM_INT, 30, 1, 1e9, 0, NULL,
     "scores to learn before mapping (0 until then)"},
};

/* A monotonic deque over the window: values whose position (seq) is in
 * the window and that no later value beats (is above, for the maximum),
 * oldest first; its front is the window's extreme. */
typedef struct calib_deque {
    double *value;           /* cap entries, a ring */
    uint64_t *seq;
    size_t head, len;
} calib_deque;

typedef struct calibrate_state {
    mw_window win;
    int method;
    size_t min_periods;
    double *sorted;          /* ecdf: the window's values, ascending */
    calib_deque max, min;    /* minmax */
    uint64_t seq;            /* minmax: position of the next value */
} calibrate_state;

/* ---- the sorted window (ecdf) ------------------------------------- */

/* The first index whose value is not below x (above x with or_equal):
 * a binary search whose steps are conditional moves, not branches, as
 * the comparisons of a search are unpredictable. */
static inline size_t sorted_search(const double *a, size_t n, double x, int or_equal)
{
    if (n == 0)
        return 0;
    const double *base = a;
    while (n > 1) {
        size_t half = n / 2;
        int left = or_equal ? base[half - 1] <= x : base[half - 1] < x;
        base = left ? base + half : base;
        n -= half;
    }
    return (size_t)(base - a) + (or_equal ? *base <= x : *base < x);
}

static inline size_t sorted_lower(const double *a, size_t n, double x)
{
    return sorted_search(a, n, x, 0);
}

static inline size_t sorted_upper(const double *a, size_t n, double x)
{
    return sorted_search(a, n, x, 1);
}

/* Inserts x at index at (its upper bound) of the n values (room for one
 * more). */
static inline void sorted_insert(double *a, size_t n, size_t at, double x)
{
    memmove(a + at + 1, a + at, (n - at) * sizeof *a);
    a[at] = x;
}

/* Replaces one value equal to old (which is present) by x, whose upper
 * bound is to, moving only the values between the two places (a third
 * of the window on average, against all of it for a removal then an
 * insertion). */
static inline void sorted_replace(double *a, size_t n, double old, size_t to, double x)
{
    size_t from = sorted_lower(a, n, old);
    if (from >= n)           /* not reached: old is in the window */
        return;
    if (to > from) {
        memmove(a + from, a + from + 1, (to - 1 - from) * sizeof *a);
        a[to - 1] = x;
    } else {
        memmove(a + to + 1, a + to, (from - to) * sizeof *a);
        a[to] = x;
    }
}

/* ---- the monotonic deques (minmax) -------------------------------- */

static inline void deque_push(calib_deque *q, size_t cap, uint64_t seq, double x,
                              int keep_above)
{
    while (q->len > 0 && q->seq[q->head] + cap <= seq) {
        q->head = q->head + 1 == cap ? 0 : q->head + 1;
        q->len--;
    }
    while (q->len > 0) {
        size_t back = q->head + q->len - 1;
        if (back >= cap)
            back -= cap;
        if (keep_above ? q->value[back] > x : q->value[back] < x)
            break;
        q->len--;
    }
    size_t at = q->head + q->len;
    if (at >= cap)
        at -= cap;
    q->value[at] = x;
    q->seq[at] = seq;
    q->len++;
}

static void deque_clear(calib_deque *q)
{
    q->head = 0;
    q->len = 0;
}

static mw_status deque_init(calib_deque *q, mw_detector *d, size_t cap)
{
    q->value = mw_detector_alloc(d, cap * sizeof *q->value);
    q->seq = mw_detector_alloc(d, cap * sizeof *q->seq);
    return q->value != NULL && q->seq != NULL ? MW_OK : MW_ENOMEM;
}

static void deque_free(calib_deque *q, mw_detector *d, size_t cap)
{
    mw_detector_dealloc(d, q->value, cap * sizeof *q->value);
    mw_detector_dealloc(d, q->seq, cap * sizeof *q->seq);
    q->value = NULL;
    q->seq = NULL;
}

/* ---- the detector ------------------------------------------------- */

static void calibrate_destroy(mw_detector *d)
{
    calibrate_state *c = d->state;
    size_t cap = c->win.cap;
    mw_detector_dealloc(d, c->sorted, cap * sizeof *c->sorted);
    c->sorted = NULL;
    deque_free(&c->max, d, cap);
    deque_free(&c->min, d, cap);
    mw_window_free(&c->win, d);
}

static mw_status calibrate_init(mw_detector *d, char *err)
{
    calibrate_state *c = d->state;
    size_t window = (size_t)d->params[P_WINDOW];
    c->method = (int)d->params[P_METHOD];
    c->min_periods = (size_t)d->params[P_MIN_PERIODS];
    if (c->min_periods > window) {
        snprintf(err, MW_DETECT_ERRLEN, "min_periods (%zu) must not exceed window (%zu)",
                 c->min_periods, window);
        return MW_EINVAL;
    }
    if (window > SIZE_MAX / 2 / sizeof(uint64_t))
        return MW_ENOMEM;
    mw_status status = mw_window_init(&c->win, d, window);
    if (status == MW_OK && c->method == METHOD_ECDF) {
        c->sorted = mw_detector_alloc(d, window * sizeof *c->sorted);
        status = c->sorted != NULL ? MW_OK : MW_ENOMEM;
    } else if (status == MW_OK && c->method == METHOD_MINMAX) {
        status = deque_init(&c->max, d, window);
        if (status == MW_OK)
            status = deque_init(&c->min, d, window);
    }
    if (status != MW_OK && d->alloc->last_error != MW_OK)
        status = d->alloc->last_error;
    if (status != MW_OK)
        calibrate_destroy(d);
    return status;
}

static void calibrate_reset(mw_detector *d)
{
    calibrate_state *c = d->state;
    mw_window_clear(&c->win);
    deque_clear(&c->max);
    deque_clear(&c->min);
    c->seq = 0;
}

/* The standard normal CDF. */
static inline double calibrate_phi(double z)
{
    return 0.5 * erfc(-z * 0.70710678118654752440);
}

/* The ecdf's rank of x among the window's n sorted values, whose lower
 * and upper bounds are below and above. */
static inline double calibrate_rank(size_t below, size_t above, size_t n)
{
    return ((double)below + 0.5 * (double)(above - below)) / (double)n;
}

static inline double calibrate_map(const calibrate_state *c, double x)
{
    const mw_window *w = &c->win;
    if (w->count < c->min_periods)
        return 0.0;
    if (c->method == METHOD_ECDF)
        return calibrate_rank(sorted_lower(c->sorted, w->count, x),
                              sorted_upper(c->sorted, w->count, x), w->count);
    if (c->method == METHOD_GAUSSIAN) {
        double dev = x - w->mean;
        double z = mw_detect_standard_score(dev, sqrt(mw_window_var(w)), w->mean,
                                            MW_SIDE_BOTH);
        return calibrate_phi(dev < 0.0 ? -z : z);
    }
    double lo = c->min.value[c->min.head], hi = c->max.value[c->max.head];
    if (!(hi > lo))
        return x > hi ? 1.0 : x < lo ? 0.0 : 0.5;
    double range = hi - lo;
    double v = isfinite(range) ? (x - lo) / range : (x / 2 - lo / 2) / (hi / 2 - lo / 2);
    return v < 0.0 ? 0.0 : v > 1.0 ? 1.0 : v;
}

/* The ecdf's step: the upper bound found for the rank is where x goes. */
static inline double calibrate_ecdf_step(calibrate_state *c, double x)
{
    mw_window *w = &c->win;
    size_t n = w->count;
    /* The upper bound by a scan from the lower one: ties are few, and
     * when they are many the memmove below is as long. */
    size_t below = sorted_lower(c->sorted, n, x), above = below;
    while (above < n && c->sorted[above] <= x)
        above++;
    double out = n < c->min_periods ? 0.0 : calibrate_rank(below, above, n);
    if (n == w->cap)
        sorted_replace(c->sorted, n, w->data[w->head], above, x);
    else
        sorted_insert(c->sorted, n, above, x);
    mw_window_push(w, x);
    return out;
}

static inline double calibrate_step(calibrate_state *c, double x)
{
    if (c->method == METHOD_ECDF)
        return calibrate_ecdf_step(c, x);
    double out = calibrate_map(c, x);
    if (c->method == METHOD_MINMAX) {
        deque_push(&c->max, c->win.cap, c->seq, x, 1);
        deque_push(&c->min, c->win.cap, c->seq, x, 0);
        c->seq++;
    }
    mw_window_push(&c->win, x);
    return out;
}

static double calibrate_update(mw_detector *d, double x, double t)
{
    (void)t;
    return calibrate_step(d->state, x);
}

static double calibrate_score(const mw_detector *d, double x, double t)
{
    (void)t;
    return calibrate_map(d->state, x);
}

static void calibrate_run(mw_detector *d, const double *x, const double *t, size_t n,
                          double *out)
{
    (void)t;
    calibrate_state *c = d->state;
    for (size_t i = 0; i < n; i++)
        out[i] = x[i] - x[i] == 0.0 ? calibrate_step(c, x[i]) : NAN;
}

static void calibrate_save(const mw_detector *d, mw_blob_writer *w)
{
    const calibrate_state *c = d->state;
    mw_window_save(&c->win, w);
}

/* Rebuilds the sorted copy or the deques from the loaded window, oldest
 * value first: the same contents as the uninterrupted detector has (the
 * deques' positions are relative, so restarting them at 0 changes
 * nothing). */
static int calibrate_load(mw_detector *d, mw_blob_reader *r)
{
    calibrate_state *c = d->state;
    if (mw_window_load(&c->win, r) != 0)
        return 1;
    size_t count = c->win.count;
    for (size_t i = 0; i < count; i++) {
        double x = mw_window_back(&c->win, count - 1 - i);
        if (c->method == METHOD_ECDF) {
            sorted_insert(c->sorted, i, sorted_upper(c->sorted, i, x), x);
        } else if (c->method == METHOD_MINMAX) {
            deque_push(&c->max, c->win.cap, c->seq, x, 1);
            deque_push(&c->min, c->win.cap, c->seq, x, 0);
            c->seq++;
        }
    }
    return 0;
}

const mw_detector_type mw_detect_thresh_calibrate_type = {
    .name = "thresh.calibrate",
    .role = MW_ROLE_THRESHOLD,
    .summary = "the score mapped to [0, 1] against the last window of scores",
    .params = calibrate_params,
    .n_params = sizeof calibrate_params / sizeof calibrate_params[0],
    .state_size = sizeof(calibrate_state),
    .init = calibrate_init,
    .destroy = calibrate_destroy,
    .reset = calibrate_reset,
    .update = calibrate_update,
    .score = calibrate_score,
    .run = calibrate_run,
    .save = calibrate_save,
    .load = calibrate_load,
};
