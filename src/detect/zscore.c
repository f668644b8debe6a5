/*
 * zscore.c: the windowed Gaussian detector.
 *
 * Score: |x - mean| / std (folded by `side`), where mean and std (ddof 1)
 * are those of the last `window` values learned before x, or of all of
 * them when window is 0. Until min_periods values are learned the score is
 * 0 (by default 30, or the window if smaller, and at least 2). This is Numenta's "windowed Gaussian" baseline with a sliding window
 * instead of its fixed probation window.
 */
#include "detect/detect.h"
#include "detect/window.h"
#include "detect/zblock.h"

#include <math.h>
#include <stdio.h>

enum { P_WINDOW, P_MIN_PERIODS, P_SIDE };

static const mw_param_spec zscore_params[] = {
    {"window", MW_PARAM_INT, 1000, 0, 1e9, 0, NULL,
     "values in the sliding window; 0: all history"},
    {"min_periods", MW_PARAM_INT, 0, 0, 1e9, 0, NULL,
     "values to learn before scoring (score 0 until then); 0: min(30, window)"},
    {"side", MW_PARAM_CHOICE, MW_SIDE_BOTH, 0, 0, 0, mw_detect_side_choices,
     "deviations that count: both, up (above the mean), down"},
};

typedef struct zscore_state {
    mw_window win;           /* window > 0 */
    uint64_t count;          /* window == 0: Welford over all history */
    double mean, m2;
    size_t min_periods;
    int side;
    int windowed;
    /* Derived after each value learned, so that scoring is a subtraction
     * and a multiplication: whether min_periods are in, the mean, and
     * the reciprocal of the floored std. Not saved: load recomputes. */
    int ready;
    double centre, inv_scale;
    double inv_full;         /* 1 / (window - 1): a full window's divisor */
} zscore_state;

/* The figures the next value is scored against: the mean, the variance
 * (ddof 1), and whether min_periods values are in. */
static inline int zscore_figures(const zscore_state *z, double *mean, double *var)
{
    size_t n = z->windowed ? z->win.count : (size_t)z->count;
    double m2 = z->windowed ? z->win.m2 : z->m2;
    *mean = z->windowed ? z->win.mean : z->mean;
    *var = 0.0;
    if (n > 1 && m2 > 0.0)
        *var = z->windowed && n == z->win.cap ? m2 * z->inv_full : m2 / (double)(n - 1);
    return n >= z->min_periods;
}

/* Recomputes the derived figures from the learned state. */
static inline void zscore_derive(zscore_state *z)
{
    double mean, var;
    z->ready = zscore_figures(z, &mean, &var);
    z->centre = mean;
    z->inv_scale = mw_detect_inv_scale(sqrt(var), mean);
}

static mw_status zscore_init(mw_detector *d, char *err)
{
    zscore_state *z = d->state;
    size_t window = (size_t)d->params[P_WINDOW];
    z->min_periods = (size_t)d->params[P_MIN_PERIODS];
    if (z->min_periods == 0)
        z->min_periods = window > 0 && window < 30 ? (window > 2 ? window : 2) : 30;
    z->side = (int)d->params[P_SIDE];
    z->windowed = window > 0;
    if (window == 1) {
        snprintf(err, MW_DETECT_ERRLEN,
                 "window must be 0 (all history) or at least 2 (a std needs two values)");
        return MW_EINVAL;
    }
    if (window > 0 && z->min_periods > window) {
        snprintf(err, MW_DETECT_ERRLEN, "min_periods (%zu) must not exceed window (%zu)",
                 z->min_periods, window);
        return MW_EINVAL;
    }
    z->inv_full = window > 1 ? 1.0 / (double)(window - 1) : 0.0;
    mw_status status = window > 0 ? mw_window_init(&z->win, d, window) : MW_OK;
    zscore_derive(z);
    return status;
}

static void zscore_destroy(mw_detector *d)
{
    zscore_state *z = d->state;
    if (z->windowed)
        mw_window_free(&z->win, d);
}

static void zscore_reset(mw_detector *d)
{
    zscore_state *z = d->state;
    if (z->windowed)
        mw_window_clear(&z->win);
    z->count = 0;
    z->mean = 0.0;
    z->m2 = 0.0;
    zscore_derive(z);
}

static inline double zscore_score_of(const zscore_state *z, double x)
{
    return z->ready ? mw_detect_fold(x - z->centre, z->inv_scale, z->side) : 0.0;
}

/* Learns x, without deriving the figures for the next value. */
static inline void zscore_learn(zscore_state *z, double x)
{
    if (z->windowed) {
        mw_window_push(&z->win, x);
    } else {
        z->count++;
        double delta = x - z->mean;
        z->mean += delta / (double)z->count;
        z->m2 += delta * (x - z->mean);
    }
}

static inline double zscore_step(zscore_state *z, double x)
{
    double score = zscore_score_of(z, x);
    zscore_learn(z, x);
    zscore_derive(z);
    return score;
}

static double zscore_update(mw_detector *d, double x, double t)
{
    (void)t;
    return zscore_step(d->state, x);
}

static double zscore_score(const mw_detector *d, double x, double t)
{
    (void)t;
    return zscore_score_of(d->state, x);
}

/* Blocks: learn each value, recording what it is scored against, then
 * score the block at once (zblock.h); the same numbers as zscore_step. */
static void zscore_run(mw_detector *d, const double *x, const double *t, size_t n,
                       double *out)
{
    (void)t;
    /* A local copy: stores to it cannot alias the input, so its fields
     * stay in registers across the loop. */
    zscore_state local = *(zscore_state *)d->state, *z = &local;
    double centre[MW_ZBLOCK], var[MW_ZBLOCK];
    unsigned char what[MW_ZBLOCK];
    for (size_t start = 0; start < n; start += MW_ZBLOCK) {
        size_t m = n - start < MW_ZBLOCK ? n - start : MW_ZBLOCK;
        const double *xb = x + start;
        for (size_t i = 0; i < m; i++) {
            if (!(xb[i] - xb[i] == 0.0)) {
                what[i] = MW_ZBLOCK_SKIP;
                centre[i] = var[i] = 0.0;
                continue;
            }
            what[i] = zscore_figures(z, &centre[i], &var[i]) ? MW_ZBLOCK_SCORE
                                                             : MW_ZBLOCK_WARMUP;
            zscore_learn(z, xb[i]);
        }
        mw_zblock_scores(xb, centre, var, what, m, z->side, out + start);
    }
    zscore_derive(z);
    *(zscore_state *)d->state = local;
}

static void zscore_save(const mw_detector *d, mw_blob_writer *w)
{
    const zscore_state *z = d->state;
    if (z->windowed) {
        mw_window_save(&z->win, w);
    } else {
        mw_blob_put_u64(w, z->count);
        mw_blob_put_f64(w, z->mean);
        mw_blob_put_f64(w, z->m2);
    }
}

static int zscore_load(mw_detector *d, mw_blob_reader *r)
{
    zscore_state *z = d->state;
    if (z->windowed) {
        mw_window_load(&z->win, r);
    } else {
        z->count = mw_blob_get_u64(r);
        z->mean = mw_blob_get_f64(r);
        z->m2 = mw_blob_get_f64(r);
    }
    zscore_derive(z);
    return r->failed;
}

const mw_detector_type mw_detect_zscore_type = {
    .name = "zscore",
    .role = MW_ROLE_DETECTOR,
    .summary = "|x - mean| / std over a sliding window (or all history)",
    .params = zscore_params,
    .n_params = sizeof zscore_params / sizeof zscore_params[0],
    .state_size = sizeof(zscore_state),
    .init = zscore_init,
    .destroy = zscore_destroy,
    .reset = zscore_reset,
    .update = zscore_update,
    .score = zscore_score,
    .run = zscore_run,
    .save = zscore_save,
    .load = zscore_load,
};
