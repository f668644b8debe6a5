/*
 * iqr.c: rolling Tukey fences.
 *
 * From the last `window` values learned before x: the quartiles Q1 and Q3
 * (numpy's default linear interpolation, not Tukey's hinges), IQR = Q3 -
 * Q1, and the fences Q1 - k IQR and Q3 + k IQR (Tukey 1977: k = 1.5 for
 * "outside", 3 for "far out"). Score:
 *   0                                if Q1 - k IQR <= x <= Q3 + k IQR
 *   (x - (Q3 + k IQR)) / IQR         above the high fence
 *   ((Q1 - k IQR) - x) / IQR         below the low fence
 * so the score is the distance beyond the nearest fence in IQRs (an IQR
 * is 1.349 standard deviations of Gaussian data, and with k = 1.5 about
 * 0.7% of Gaussian values fall outside). `side` keeps only the high (up)
 * or low (down) fence. A zero IQR (a window mostly of one value) is
 * floored as in mw_detect_standard_score, relative to the crossed fence,
 * so the score stays finite.
 *
 * Warm-up: the score is 0 until min_periods values are in the window.
 * Cost per update: O(1) for the score, plus the sorted window's shift.
 */
#include "detect/detect.h"
#include "detect/sorted.h"

#include <math.h>
#include <stdio.h>

enum { P_WINDOW, P_K, P_MIN_PERIODS, P_SIDE };

static const mw_param_spec iqr_params[] = {
    {"window", MW_PARAM_INT, 1000, 2, 1e7, 0, NULL,
     "values in the sliding window"},
    {"k", MW_PARAM_FLOAT, 1.5, 0, 1e6, 0, NULL,
     "fences at Q1 - k IQR and Q3 + k IQR (Tukey: 1.5, 3 for far out)"},
    {"min_periods", MW_PARAM_INT, 30, 2, 1e7, 0, NULL,
     "values to learn before scoring (score 0 until then)"},
    {"side", MW_PARAM_CHOICE, MW_SIDE_BOTH, 0, 0, 0, mw_detect_side_choices,
     "fences that count: both, up (the high one), down (the low one)"},
};

typedef struct iqr_state {
    mw_sorted win;
    double k;
    size_t min_periods;
    int side;
} iqr_state;

static mw_status iqr_init(mw_detector *d, char *err)
{
    iqr_state *q = d->state;
    size_t window = (size_t)d->params[P_WINDOW];
    q->k = d->params[P_K];
    q->min_periods = (size_t)d->params[P_MIN_PERIODS];
    q->side = (int)d->params[P_SIDE];
    if (q->min_periods > window) {
        snprintf(err, MW_DETECT_ERRLEN, "min_periods (%zu) must not exceed window (%zu)",
                 q->min_periods, window);
        return MW_EINVAL;
    }
    return mw_sorted_init(&q->win, d, window);
}

static void iqr_destroy(mw_detector *d)
{
    iqr_state *q = d->state;
    mw_sorted_free(&q->win, d);
}

static void iqr_reset(mw_detector *d)
{
    iqr_state *q = d->state;
    mw_sorted_clear(&q->win);
}

static inline double iqr_score_of(const iqr_state *q, double x)
{
    if (mw_sorted_count(&q->win) < q->min_periods)
        return 0.0;
    double q1 = mw_sorted_quantile(&q->win, 0.25);
    double q3 = mw_sorted_quantile(&q->win, 0.75);
    double iqr = q3 - q1;
    return mw_sorted_fence_score(x, q1 - q->k * iqr, q3 + q->k * iqr, iqr, q->side);
}

static inline double iqr_step(iqr_state *q, double x)
{
    double score = iqr_score_of(q, x);
    mw_sorted_push(&q->win, x);
    return score;
}

static double iqr_update(mw_detector *d, double x, double t)
{
    (void)t;
    return iqr_step(d->state, x);
}

static double iqr_score(const mw_detector *d, double x, double t)
{
    (void)t;
    return iqr_score_of(d->state, x);
}

static void iqr_run(mw_detector *d, const double *x, const double *t, size_t n,
                    double *out)
{
    (void)t;
    iqr_state *q = d->state;
    for (size_t i = 0; i < n; i++)
        out[i] = x[i] - x[i] == 0.0 ? iqr_step(q, x[i]) : NAN;
}

static void iqr_save(const mw_detector *d, mw_blob_writer *w)
{
    const iqr_state *q = d->state;
    mw_sorted_save(&q->win, w);
}

static int iqr_load(mw_detector *d, mw_blob_reader *r)
{
    iqr_state *q = d->state;
    return mw_sorted_load(&q->win, r);
}

const mw_detector_type mw_detect_iqr_type = {
    .name = "iqr",
    .role = MW_ROLE_DETECTOR,
    .summary = "distance beyond rolling Tukey fences (Q1 - k IQR, Q3 + k IQR), in IQRs",
    .params = iqr_params,
    .n_params = sizeof iqr_params / sizeof iqr_params[0],
    .state_size = sizeof(iqr_state),
    .init = iqr_init,
    .destroy = iqr_destroy,
    .reset = iqr_reset,
    .update = iqr_update,
    .score = iqr_score,
    .run = iqr_run,
    .save = iqr_save,
    .load = iqr_load,
};
