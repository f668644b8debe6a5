/*
 * range.c: values beyond the range of everything seen so far.
 *
 * Before learning x, with lo and hi the smallest and largest values
 * learned:
 *   score = (x - hi) / (hi - lo)   if x > hi
 *           (lo - x) / (hi - lo)   if x < lo
 *           0                      otherwise
 * the excess over the range in units of the range (folded by `side`); a
 * range of 0 (a constant history) counts as 1e-9 of the values'
 * magnitude, so any change from a constant is a large, finite score. The
 * score is 0 until min_periods values are learned.
 *
 * This is the "spatial anomaly" rule of Numenta's NAB detector (a value
 * more than 5% of the range beyond it is anomalous whatever the model
 * says): `mw.detect.range{}:run(s):gt(0.05)`. Memory and time O(1).
 */
#include "detect/detect.h"

#include <math.h>

enum { P_MIN_PERIODS, P_SIDE };

static const mw_param_spec range_params[] = {
    {"min_periods", MW_PARAM_INT, 30, 1, 1e9, 0, NULL,
     "values to learn before scoring (score 0 until then)"},
    {"side", MW_PARAM_CHOICE, MW_SIDE_BOTH, 0, 0, 0, mw_detect_side_choices,
     "excesses that count: both, up (above the maximum), down (below the minimum)"},
};

typedef struct range_state {
    uint64_t count;
    double lo, hi;
    uint64_t min_periods;
    int side;
    double inv_range;        /* derived: 1 / floored (hi - lo) */
} range_state;

static void range_derive(range_state *r)
{
    r->inv_range = mw_detect_inv_scale(r->hi - r->lo, 0.5 * (fabs(r->hi) + fabs(r->lo)));
}

static mw_status range_init(mw_detector *d, char *err)
{
    (void)err;
    range_state *r = d->state;
    r->min_periods = (uint64_t)d->params[P_MIN_PERIODS];
    r->side = (int)d->params[P_SIDE];
    range_derive(r);
    return MW_OK;
}

static void range_reset(mw_detector *d)
{
    range_state *r = d->state;
    r->count = 0;
    r->lo = r->hi = 0.0;
    range_derive(r);
}

static inline double range_score_of(const range_state *r, double x)
{
    if (r->count < r->min_periods)
        return 0.0;
    double dev = x > r->hi ? x - r->hi : x < r->lo ? x - r->lo : 0.0;
    return mw_detect_fold(dev, r->inv_range, r->side);
}

static double range_update(mw_detector *d, double x, double t)
{
    (void)t;
    range_state *r = d->state;
    double score = range_score_of(r, x);
    if (r->count++ == 0) {
        r->lo = r->hi = x;
    } else if (x > r->hi) {
        r->hi = x;
    } else if (x < r->lo) {
        r->lo = x;
    } else {
        return score;        /* the range is unchanged */
    }
    range_derive(r);
    return score;
}

static double range_score(const mw_detector *d, double x, double t)
{
    (void)t;
    return range_score_of(d->state, x);
}

static void range_save(const mw_detector *d, mw_blob_writer *w)
{
    const range_state *r = d->state;
    mw_blob_put_u64(w, r->count);
    mw_blob_put_f64(w, r->lo);
    mw_blob_put_f64(w, r->hi);
}

static int range_load(mw_detector *d, mw_blob_reader *r)
{
    range_state *s = d->state;
    s->count = mw_blob_get_u64(r);
    s->lo = mw_blob_get_f64(r);
    s->hi = mw_blob_get_f64(r);
    if (!r->failed && s->count > 0 && !(s->lo <= s->hi && isfinite(s->lo) && isfinite(s->hi)))
        mw_blob_fail(r, "range [%g, %g] is not a finite interval", s->lo, s->hi);
    range_derive(s);
    return r->failed;
}

const mw_detector_type mw_detect_range_type = {
    .name = "range",
    .role = MW_ROLE_DETECTOR,
    .summary = "excess beyond the range of all values seen, in units of that range",
    .params = range_params,
    .n_params = sizeof range_params / sizeof range_params[0],
    .state_size = sizeof(range_state),
    .init = range_init,
    .reset = range_reset,
    .update = range_update,
    .score = range_score,
    .save = range_save,
    .load = range_load,
};
