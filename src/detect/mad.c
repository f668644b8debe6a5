/*
 * mad.c: the rolling median and MAD (robust z-score).
 *
 * Score, from the last `window` values learned before x:
 *   |x - median| / (1.482602 * MAD)      (folded by `side`)
 * where MAD is the median of |v - median| over the window, and 1.482602
 * = 1 / Phi^-1(3/4) makes 1.4826 * MAD estimate the standard deviation of
 * Gaussian data (scipy's median_abs_deviation(scale='normal')); so the
 * score reads like a z-score that a few outliers in the window cannot
 * inflate (the median and MAD have a 50% breakdown point, the mean and
 * standard deviation 0%). Iglewicz and Hoaglin's "modified z-score"
 * (0.6745 (x - median) / MAD) is the same number.
 *
 * When more than half the window holds one value, the MAD is 0 and says
 * nothing of the rest; the scale is then sqrt(pi/2) * the mean absolute
 * deviation from the median (which also estimates the standard deviation
 * of Gaussian data; IBM's modified z-score uses it so), and only when that
 * is 0 too (a constant window) does the floor of mw_detect_standard_score
 * apply: the median itself scores 0, any other value a large, finite score.
 *
 * Warm-up: the score is 0 until min_periods values are in the window.
 * Cost per update: O(log window) for the score, plus the sorted window's
 * shift (at most window doubles moved) and O(window) while the MAD is 0.
 */
#include "detect/detect.h"
#include "detect/sorted.h"

#include <math.h>
#include <stdio.h>

/* 1 / Phi^-1(3/4): the MAD of a Gaussian is this fraction of its sigma. */
#define MAD_NORMAL_SCALE 1.482602218505602
/* sqrt(pi / 2): the mean absolute deviation of a Gaussian, likewise. */
#define MEAN_AD_NORMAL_SCALE 1.2533141373155003

enum { P_WINDOW, P_MIN_PERIODS, P_SIDE };

static const mw_param_spec mad_params[] = {
    {"window", MW_PARAM_INT, 1000, 2, 1e7, 0, NULL,
     "values in the sliding window"},
    {"min_periods", MW_PARAM_INT, 30, 2, 1e7, 0, NULL,
     "values to learn before scoring (score 0 until then)"},
    {"side", MW_PARAM_CHOICE, MW_SIDE_BOTH, 0, 0, 0, mw_detect_side_choices,
     "deviations that count: both, up (above the median), down"},
};

typedef struct mad_state {
    mw_sorted win;
    size_t min_periods;
    int side;
} mad_state;

static mw_status mad_init(mw_detector *d, char *err)
{
    mad_state *m = d->state;
    size_t window = (size_t)d->params[P_WINDOW];
    m->min_periods = (size_t)d->params[P_MIN_PERIODS];
    m->side = (int)d->params[P_SIDE];
    if (m->min_periods > window) {
        snprintf(err, MW_DETECT_ERRLEN, "min_periods (%zu) must not exceed window (%zu)",
                 m->min_periods, window);
        return MW_EINVAL;
    }
    return mw_sorted_init(&m->win, d, window);
}

static void mad_destroy(mw_detector *d)
{
    mad_state *m = d->state;
    mw_sorted_free(&m->win, d);
}

static void mad_reset(mw_detector *d)
{
    mad_state *m = d->state;
    mw_sorted_clear(&m->win);
}

static inline double mad_score_of(const mad_state *m, double x)
{
    if (mw_sorted_count(&m->win) < m->min_periods)
        return 0.0;
    double median = mw_sorted_median(&m->win);
    double scale = MAD_NORMAL_SCALE * mw_sorted_median_abs_dev(&m->win, median);
    if (!(scale > 0.0))
        scale = MEAN_AD_NORMAL_SCALE * mw_sorted_mean_abs_dev(&m->win, median);
    return mw_detect_standard_score(x - median, scale, median, m->side);
}

static inline double mad_step(mad_state *m, double x)
{
    double score = mad_score_of(m, x);
    mw_sorted_push(&m->win, x);
    return score;
}

static double mad_update(mw_detector *d, double x, double t)
{
    (void)t;
    return mad_step(d->state, x);
}

static double mad_score(const mw_detector *d, double x, double t)
{
    (void)t;
    return mad_score_of(d->state, x);
}

static void mad_run(mw_detector *d, const double *x, const double *t, size_t n,
                    double *out)
{
    (void)t;
    mad_state *m = d->state;
    for (size_t i = 0; i < n; i++)
        out[i] = x[i] - x[i] == 0.0 ? mad_step(m, x[i]) : NAN;
}

static void mad_save(const mw_detector *d, mw_blob_writer *w)
{
    const mad_state *m = d->state;
    mw_sorted_save(&m->win, w);
}

static int mad_load(mw_detector *d, mw_blob_reader *r)
{
    mad_state *m = d->state;
    return mw_sorted_load(&m->win, r);
}

const mw_detector_type mw_detect_mad_type = {
    .name = "mad",
    .role = MW_ROLE_DETECTOR,
    .summary = "|x - median| / (1.4826 MAD) over a sliding window (robust z-score)",
    .params = mad_params,
    .n_params = sizeof mad_params / sizeof mad_params[0],
    .state_size = sizeof(mad_state),
    .init = mad_init,
    .destroy = mad_destroy,
    .reset = mad_reset,
    .update = mad_update,
    .score = mad_score,
    .run = mad_run,
    .save = mad_save,
    .load = mad_load,
};
