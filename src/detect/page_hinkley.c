/*
 * page_hinkley.c: the Page-Hinkley test for a change of the mean, as
 * River's drift.PageHinkley (river 0.15 and later, with its `mode`).
 *
 * With n the values since the last reset, mean their running mean
 * (x included) and dev = x - mean:
 *   sum_up   = alpha * sum_up   + dev - delta,  min_up   = min(min_up, sum_up)
 *   sum_down = alpha * sum_down + dev + delta,  max_down = max(max_down, sum_down)
 *   PH_up = sum_up - min_up,  PH_down = max_down - sum_down
 * alpha < 1 slowly forgets old deviations; delta is the magnitude of
 * change tolerated. Once n >= min_instances, a statistic above
 * `threshold` (in the units of x) is a drift: then everything, the mean
 * included, starts again from nothing, as River does on the update after
 * a detection.
 *
 * Score: PH / threshold, PH being PH_up, PH_down or their maximum as
 * `mode` says: a score above 1 is a detection (River's test is strict:
 * PH > threshold), and the detector restarts after returning it. As for
 * cusum.c, the statistic accumulates, so the score of x is the statistic
 * x would produce from the state before it; score(x) computes it without
 * learning and update(x) returns the same number, then keeps the new
 * state. Score 0 while n (x included) is below min_instances, also
 * after each restart.
 *
 * Differences from River, none of which changes a result for ordinary
 * input: River's Mean multiplies by 1/n where we divide by n (the last
 * bit may differ); River starts max_down at -1, we start it at the first
 * sum_down (identical, as that is delta >= 0). A mean update that would
 * overflow is done in a form that does not, and the sums are capped at
 * PH_CAP, so that no finite input makes the state or the score infinite.
 */
#include "detect/detect.h"

#include <math.h>

#define PH_CAP 1e300

enum { P_MIN_INSTANCES, P_DELTA, P_THRESHOLD, P_ALPHA, P_MODE };

static const mw_param_spec ph_params[] = {
    {"min_instances", MW_PARAM_INT, 30, 1, 1e9, 0, NULL,
     "values since the last reset before a drift can be detected (River: 30)"},
    {"delta", MW_PARAM_FLOAT, 0.005, 0, 1e300, 0, NULL,
     "magnitude of change tolerated, in the units of x (River: 0.005)"},
    {"threshold", MW_PARAM_FLOAT, 50, 0, 1e300, 1, NULL,
     "the statistic above which a drift is detected (River's lambda: 50)"},
    {"alpha", MW_PARAM_FLOAT, 1 - 0.0001, 0, 1, 1, NULL,
     "forgetting factor of the sums, in (0, 1] (River: 1 - 0.0001)"},
    {"mode", MW_PARAM_CHOICE, MW_SIDE_BOTH, 0, 0, 0, mw_detect_side_choices,
     "changes that count: both, up (the mean increases), down"},
};

typedef struct ph_state {
    uint64_t n;              /* values since the last reset */
    double mean;
    double sum_up, min_up;   /* min_up and max_down: meaningful once n >= 1 */
    double sum_down, max_down;
    /* Parameters, unpacked. */
    uint64_t min_instances;
    double delta, threshold, alpha;
    int mode;
} ph_state;

static void ph_restart(ph_state *p)
{
    p->n = 0;
    p->mean = 0.0;
    p->sum_up = 0.0;
    p->min_up = 0.0;
    p->sum_down = 0.0;
    p->max_down = 0.0;
}

static void ph_reset(mw_detector *d)
{
    ph_restart(d->state);
}

static mw_status ph_init(mw_detector *d, char *err)
{
    (void)err;
    ph_state *p = d->state;
    p->min_instances = (uint64_t)d->params[P_MIN_INSTANCES];
    p->delta = d->params[P_DELTA];
    p->threshold = d->params[P_THRESHOLD];
    p->alpha = d->params[P_ALPHA];
    p->mode = (int)d->params[P_MODE];
    ph_restart(p);
    return MW_OK;
}

static inline double ph_clamp(double v)
{
    return v < -PH_CAP ? -PH_CAP : v > PH_CAP ? PH_CAP : v;
}

/* The state after learning x, in *next, and the statistic PH x gets
 * (0 before min_instances). */
static inline double ph_advance(const ph_state *p, double x, ph_state *next)
{
    *next = *p;
    next->n = p->n + 1;
    double n = (double)next->n;
    double diff = x - p->mean;
    if (diff - diff == 0.0)
        next->mean = p->mean + diff / n;
    else                     /* x - mean overflowed: both are huge */
        next->mean = p->mean - p->mean / n + x / n;
    double dev = ph_clamp(x - next->mean);
    next->sum_up = ph_clamp(p->alpha * p->sum_up + dev - p->delta);
    next->sum_down = ph_clamp(p->alpha * p->sum_down + dev + p->delta);
    if (p->n == 0 || next->sum_up < p->min_up)
        next->min_up = next->sum_up;
    if (p->n == 0 || next->sum_down > p->max_down)
        next->max_down = next->sum_down;
    if (next->n < p->min_instances)
        return 0.0;
    double up = next->sum_up - next->min_up;
    double down = next->max_down - next->sum_down;
    if (p->mode == MW_SIDE_UP)
        return up;
    if (p->mode == MW_SIDE_DOWN)
        return down;
    return up > down ? up : down;
}

/* PH / threshold, capped (a tiny threshold could overflow it). */
static inline double ph_relative(const ph_state *p, double stat)
{
    double score = stat / p->threshold;
    return score < PH_CAP ? score : PH_CAP;
}

static inline double ph_score_of(const ph_state *p, double x)
{
    ph_state next;
    return ph_relative(p, ph_advance(p, x, &next));
}

static inline double ph_step(ph_state *p, double x)
{
    ph_state next;
    double stat = ph_advance(p, x, &next);
    *p = next;
    if (stat > p->threshold)   /* River's test, on the statistic itself */
        ph_restart(p);
    return ph_relative(p, stat);
}

static double ph_update(mw_detector *d, double x, double t)
{
    (void)t;
    return ph_step(d->state, x);
}

static double ph_score(const mw_detector *d, double x, double t)
{
    (void)t;
    return ph_score_of(d->state, x);
}

static void ph_run(mw_detector *d, const double *x, const double *t, size_t n,
                   double *out)
{
    (void)t;
    ph_state *p = d->state;
    for (size_t i = 0; i < n; i++)
        out[i] = x[i] - x[i] == 0.0 ? ph_step(p, x[i]) : NAN;
}

static void ph_save(const mw_detector *d, mw_blob_writer *w)
{
    const ph_state *p = d->state;
    mw_blob_put_u64(w, p->n);
    mw_blob_put_f64(w, p->mean);
    mw_blob_put_f64(w, p->sum_up);
    mw_blob_put_f64(w, p->min_up);
    mw_blob_put_f64(w, p->sum_down);
    mw_blob_put_f64(w, p->max_down);
}

static int ph_load(mw_detector *d, mw_blob_reader *r)
{
    ph_state *p = d->state;
    /* Any count a stream can reach, but not one whose increment wraps. */
    p->n = mw_blob_get_count(r, (uint64_t)1 << 62, "count");
    p->mean = mw_blob_get_finite(r, "mean");
    p->sum_up = mw_blob_get_finite(r, "upward sum");
    p->min_up = mw_blob_get_finite(r, "upward minimum");
    p->sum_down = mw_blob_get_finite(r, "downward sum");
    p->max_down = mw_blob_get_finite(r, "downward maximum");
    if (!r->failed && p->n > 0 && (p->min_up > p->sum_up || p->max_down < p->sum_down))
        mw_blob_fail(r, "extremes do not bound the sums");
    if (!r->failed && (fabs(p->sum_up) > PH_CAP || fabs(p->sum_down) > PH_CAP))
        mw_blob_fail(r, "sums out of range");
    if (r->failed)
        ph_restart(p);
    return r->failed;
}

const mw_detector_type mw_detect_page_hinkley_type = {
    .name = "page_hinkley",
    .role = MW_ROLE_DETECTOR,
    .summary = "Page-Hinkley statistic / threshold (River's PageHinkley); "
               "above 1 is a drift",
    .params = ph_params,
    .n_params = sizeof ph_params / sizeof ph_params[0],
    .state_size = sizeof(ph_state),
    .init = ph_init,
    .reset = ph_reset,
    .update = ph_update,
    .score = ph_score,
    .run = ph_run,
    .save = ph_save,
    .load = ph_load,
};
