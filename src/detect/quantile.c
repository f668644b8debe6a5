/*
 * quantile.c: rolling quantile fences.
 *
 * From the last `window` values learned before x, the fences are the
 * low- and high-quantiles q_low and q_high (numpy's default linear
 * interpolation). Score:
 *   0                                if q_low <= x <= q_high
 *   (x - q_high) / (q_high - q_low)  if x > q_high
 *   (q_low - x) / (q_high - q_low)   if x < q_low
 * so the score is in units of the window's inner range: 1 means one inner
 * range beyond the fence (with the defaults, 0.01 and 0.99, that range is
 * 4.65 standard deviations of Gaussian data). `side` keeps only crossings
 * of the high (up) or low (down) fence. A zero inner range (a window
 * mostly of one value) is floored as in mw_detect_standard_score, relative
 * to the crossed fence, so the score stays finite.
 *
 * By construction about a fraction low + (1 - high) of ordinary values
 * score above 0; the score ranks them by how far out they are, and a
 * threshold (mw.thresh) then cuts.
 *
 * Warm-up: the score is 0 until min_periods values are in the window.
 * Cost per update: O(1) for the score, plus the sorted window's shift.
 */
#include "detect/detect.h"
#include "detect/sorted.h"

#include <math.h>
#include <stdio.h>

enum { P_WINDOW, P_LOW, P_HIGH, P_MIN_PERIODS, P_SIDE };

static const mw_param_spec quantile_params[] = {
    {"window", MW_PARAM_INT, 1000, 2, 1e7, 0, NULL,
     "values in the sliding window"},
    {"low", MW_PARAM_FLOAT, 0.01, 0, 1, 0, NULL,
     "quantile of the low fence, in [0, 1), below high"},
    {"high", MW_PARAM_FLOAT, 0.99, 0, 1, 1, NULL,
     "quantile of the high fence, in (0, 1], above low"},
    {"min_periods", MW_PARAM_INT, 100, 2, 1e7, 0, NULL,
     "values to learn before scoring (score 0 until then)"},
    {"side", MW_PARAM_CHOICE, MW_SIDE_BOTH, 0, 0, 0, mw_detect_side_choices,
     "fences that count: both, up (the high one), down (the low one)"},
};

typedef struct quantile_state {
    mw_sorted win;
    double low, high;
    size_t min_periods;
    int side;
} quantile_state;

static mw_status quantile_init(mw_detector *d, char *err)
{
    quantile_state *q = d->state;
    size_t window = (size_t)d->params[P_WINDOW];
    q->low = d->params[P_LOW];
    q->high = d->params[P_HIGH];
    q->min_periods = (size_t)d->params[P_MIN_PERIODS];
    q->side = (int)d->params[P_SIDE];
    if (!(q->low < q->high)) {
        snprintf(err, MW_DETECT_ERRLEN, "low (%.17g) must be below high (%.17g)", q->low,
                 q->high);
        return MW_EINVAL;
    }
    if (q->min_periods > window) {
        snprintf(err, MW_DETECT_ERRLEN, "min_periods (%zu) must not exceed window (%zu)",
                 q->min_periods, window);
        return MW_EINVAL;
    }
    return mw_sorted_init(&q->win, d, window);
}

static void quantile_destroy(mw_detector *d)
{
    quantile_state *q = d->state;
    mw_sorted_free(&q->win, d);
}

static void quantile_reset(mw_detector *d)
{
    quantile_state *q = d->state;
    mw_sorted_clear(&q->win);
}

static inline double quantile_score_of(const quantile_state *q, double x)
{
    if (mw_sorted_count(&q->win) < q->min_periods)
        return 0.0;
    double low = mw_sorted_quantile(&q->win, q->low);
    double high = mw_sorted_quantile(&q->win, q->high);
    return mw_sorted_fence_score(x, low, high, high - low, q->side);
}

static inline double quantile_step(quantile_state *q, double x)
{
    double score = quantile_score_of(q, x);
    mw_sorted_push(&q->win, x);
    return score;
}

static double quantile_update(mw_detector *d, double x, double t)
{
    (void)t;
    return quantile_step(d->state, x);
}

static double quantile_score(const mw_detector *d, double x, double t)
{
    (void)t;
    return quantile_score_of(d->state, x);
}

static void quantile_run(mw_detector *d, const double *x, const double *t, size_t n,
                         double *out)
{
    (void)t;
    quantile_state *q = d->state;
    for (size_t i = 0; i < n; i++)
        out[i] = x[i] - x[i] == 0.0 ? quantile_step(q, x[i]) : NAN;
}

static void quantile_save(const mw_detector *d, mw_blob_writer *w)
{
    const quantile_state *q = d->state;
    mw_sorted_save(&q->win, w);
}

static int quantile_load(mw_detector *d, mw_blob_reader *r)
{
    quantile_state *q = d->state;
    return mw_sorted_load(&q->win, r);
}

const mw_detector_type mw_detect_quantile_type = {
    .name = "quantile",
    .role = MW_ROLE_DETECTOR,
    .summary = "distance beyond rolling quantile fences, in units of their spread",
    .params = quantile_params,
    .n_params = sizeof quantile_params / sizeof quantile_params[0],
    .state_size = sizeof(quantile_state),
    .init = quantile_init,
    .destroy = quantile_destroy,
    .reset = quantile_reset,
    .update = quantile_update,
    .score = quantile_score,
    .run = quantile_run,
    .save = quantile_save,
    .load = quantile_load,
};
