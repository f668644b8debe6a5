/*
 * volatility_shift.c: a change of spread between two adjacent windows,
 * the streaming form of ADTK's VolatilityShiftAD (DoubleRollingAggregate
 * with agg "std").
 *
 * The right window holds the newest `window` values, x included; the
 * left one the `window` values before them. With r = std(right) /
 * std(left) (sample std, ddof 1, as pandas' rolling std that ADTK uses),
 * the score is r for direction "increase", 1 / r for "decrease", and
 * max(r, 1 / r) for "both": 1 means the same spread, 2 a spread doubled
 * (or halved). Both stds are floored at a tiny fraction of the windows'
 * mean magnitude (as mw_detect_standard_score floors a scale), so
 * constant data scores 1, and no finite input scores inf or NaN.
 *
 * ADTK scores |std(right) - std(left)| / std(left) = |r - 1| and flags it
 * with an interquartile fence over the history of that score (c = 6); we
 * return the ratio itself, which is scale-free already, and let the user
 * threshold it (e.g. 2 for "the spread doubled"). ADTK's centred window
 * labels the first value after the change; ours (causal) ends at x, so
 * the score peaks about `window` values after it.
 *
 * As every detector, the score of x is computed before x is learned; the
 * windows simply end at x. Until the left window holds min_periods values
 * (the full window by default: 2 * window values learned), the score is 0.
 *
 * State: two sliding windows (window.h), the left one fed by the values
 * leaving the right one, and for each the run of equal newest values (a
 * constant window has std 0 exactly). The score applies the coming
 * change to copies of the windows' figures (one Welford step each, the
 * one mw_window_push makes), so score() changes nothing and costs O(1),
 * as does update().
 */
#include "detect/detect.h"
#include "detect/window.h"

#include <math.h>
#include <stdio.h>

enum { DIR_BOTH, DIR_INCREASE, DIR_DECREASE };
static const char *const volatility_directions[] = {"both", "increase", "decrease", NULL};

/* Scores are capped here, so that overflowing data still scores finite. */
#define VOLATILITY_CAP 1e300

enum { P_WINDOW, P_MIN_PERIODS, P_DIRECTION };

static const mw_param_spec volatility_params[] = {
    {"window", MW_PARAM_INT, 30, 2, 1e9, 0, NULL,
     "values in each of the two windows (ADTK's demo: 30)"},
    {"min_periods", MW_PARAM_INT, 0, 0, 1e9, 0, NULL,
     "values the left window needs before scoring (score 0 until then); 0: window"},
    {"direction", MW_PARAM_CHOICE, DIR_BOTH, 0, 0, 0, volatility_directions,
     "changes that count: both, increase (r), decrease (1 / r)"},
};

typedef struct volatility_state {
    /* Each window counts its run of equal newest values (window.h): a
     * constant window has a std of 0 exactly, where the rolling figures
     * could leave a residue of the values that went through (1e-9 of
     * their scale), enough to make a ratio of two residues look like a
     * change. */
    mw_window right, left;
    size_t min_periods;
    int direction;
} volatility_state;

/* A window's count, mean and sum of squared deviations as they would be
 * after pushing x (see mw_window_push). */
typedef struct window_figures {
    size_t count;
    double mean, m2;
} window_figures;

static inline window_figures volatility_after(const mw_window *w, double x)
{
    window_figures f = {w->count, w->mean, w->m2};
    if (w->count < w->cap) {
        f.count++;
        double delta = x - f.mean;
        f.mean += delta / (double)f.count;
        f.m2 += delta * (x - f.mean);
    } else {
        double old = mw_window_back(w, w->cap - 1);
        double mean = w->mean + (x - old) * w->inv_cap;
        f.m2 += (x - old) * (x - mean + old - w->mean);
        f.mean = mean;
    }
    return f;
}

/* The run of equal newest values of w once x is pushed, from run. */
static inline size_t volatility_run_after(const mw_window *w, size_t run, double x)
{
    size_t kept = w->count < w->cap ? w->count : w->cap - 1;
    if (run > kept)
        run = kept;
    return kept > 0 && x == mw_window_back(w, 0) ? run + 1 : 1;
}

/* The std (ddof 1) of a window's figures, 0 if it is constant. */
static inline double volatility_std(const window_figures *f, size_t run)
{
    if (run >= f->count || !(f->m2 > 0.0))
        return 0.0;
    return sqrt(f->m2 / (double)(f->count - 1));
}

static inline double volatility_score_of(const volatility_state *v, double x)
{
    const mw_window *right = &v->right;
    if (right->count < right->cap)
        return 0.0;          /* the left window is empty still */
    double moved = mw_window_back(right, right->cap - 1);
    window_figures left = volatility_after(&v->left, moved);
    if (left.count < v->min_periods)
        return 0.0;
    window_figures after = volatility_after(right, x);
    size_t left_run = volatility_run_after(&v->left, v->left.run, moved);
    size_t right_run = volatility_run_after(right, right->run, x);
    double centre = fmax(fabs(left.mean), fabs(after.mean));
    double floor_std = 1e-9 * centre > 1e-12 ? 1e-9 * centre : 1e-12;
    double std_right = fmax(volatility_std(&after, right_run), floor_std);
    double std_left = fmax(volatility_std(&left, left_run), floor_std);
    double ratio;
    if (v->direction == DIR_INCREASE)
        ratio = std_right / std_left;
    else if (v->direction == DIR_DECREASE)
        ratio = std_left / std_right;
    else
        ratio = fmax(std_right, std_left) / fmin(std_right, std_left);
    return ratio < VOLATILITY_CAP ? ratio : VOLATILITY_CAP;
}

static inline double volatility_step(volatility_state *v, double x)
{
    double score = volatility_score_of(v, x);
    mw_window *right = &v->right;
    if (right->count == right->cap)
        mw_window_push(&v->left, mw_window_back(right, right->cap - 1));
    mw_window_push(right, x);
    return score;
}

static mw_status volatility_init(mw_detector *d, char *err)
{
    volatility_state *v = d->state;
    size_t window = (size_t)d->params[P_WINDOW];
    size_t min_periods = (size_t)d->params[P_MIN_PERIODS];
    v->direction = (int)d->params[P_DIRECTION];
    if (min_periods == 1) {
        snprintf(err, MW_DETECT_ERRLEN,
                 "min_periods must be 0 (the full window) or at least 2 (got 1)");
        return MW_EINVAL;
    }
    if (min_periods > window) {
        snprintf(err, MW_DETECT_ERRLEN, "min_periods (%zu) must not exceed window (%zu)",
                 min_periods, window);
        return MW_EINVAL;
    }
    v->min_periods = min_periods == 0 ? window : min_periods;
    mw_status s = mw_window_init(&v->right, d, window);
    if (s != MW_OK)
        return s;
    s = mw_window_init(&v->left, d, window);
    if (s != MW_OK)
        mw_window_free(&v->right, d);
    return s;
}

static void volatility_destroy(mw_detector *d)
{
    volatility_state *v = d->state;
    mw_window_free(&v->right, d);
    mw_window_free(&v->left, d);
}

static void volatility_reset(mw_detector *d)
{
    volatility_state *v = d->state;
    mw_window_clear(&v->right);
    mw_window_clear(&v->left);
}

static double volatility_update(mw_detector *d, double x, double t)
{
    (void)t;
    return volatility_step(d->state, x);
}

static double volatility_score(const mw_detector *d, double x, double t)
{
    (void)t;
    return volatility_score_of(d->state, x);
}

static void volatility_run(mw_detector *d, const double *x, const double *t, size_t n,
                           double *out)
{
    (void)t;
    volatility_state *v = d->state;
    for (size_t i = 0; i < n; i++)
        out[i] = x[i] - x[i] == 0.0 ? volatility_step(v, x[i]) : NAN;
}

/* The run of equal newest values in w, from its values. */
static void volatility_save(const mw_detector *d, mw_blob_writer *w)
{
    const volatility_state *v = d->state;
    mw_window_save(&v->right, w);
    mw_window_save(&v->left, w);
}

static int volatility_load(mw_detector *d, mw_blob_reader *r)
{
    volatility_state *v = d->state;
    if (mw_window_load(&v->right, r) != 0 || mw_window_load(&v->left, r) != 0)
        return 1;
    if (v->left.count > 0 && v->right.count < v->right.cap)
        mw_blob_fail(r, "the left window fills only once the right one is full");
    return r->failed;
}

const mw_detector_type mw_detect_volatility_shift_type = {
    .name = "volatility_shift",
    .role = MW_ROLE_DETECTOR,
    .summary = "std(newest window) / std(window before), or its inverse "
               "(ADTK's VolatilityShiftAD); 1: no change",
    .params = volatility_params,
    .n_params = sizeof volatility_params / sizeof volatility_params[0],
    .state_size = sizeof(volatility_state),
    .init = volatility_init,
    .destroy = volatility_destroy,
    .reset = volatility_reset,
    .update = volatility_update,
    .score = volatility_score,
    .run = volatility_run,
    .save = volatility_save,
    .load = volatility_load,
};
