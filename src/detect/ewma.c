/*
 * ewma.c: exponentially weighted mean and variance.
 *
 * With weight alpha on the newest value, before learning x:
 *   score = |x - mean| / sqrt(var)   (folded by `side`)
 * then, with diff = x - mean:
 *   mean += alpha * diff
 *   var   = (1 - alpha) * (var + alpha * diff^2)
 * (West's recursion; pandas' ewm(alpha, adjust=False) mean and bias=True
 * variance). The first value starts the mean with variance 0; the score
 * is 0 until min_periods values are learned.
 */
#include "detect/detect.h"
#include "detect/zblock.h"

#include <math.h>

enum { P_ALPHA, P_MIN_PERIODS, P_SIDE };

static const mw_param_spec ewma_params[] = {
    {"alpha", MW_PARAM_FLOAT, 0.02, 0, 1, 1, NULL,
     "weight of the newest value, in (0, 1]"},
    {"min_periods", MW_PARAM_INT, 30, 1, 1e9, 0, NULL,
     "values to learn before scoring (score 0 until then)"},
    {"side", MW_PARAM_CHOICE, MW_SIDE_BOTH, 0, 0, 0, mw_detect_side_choices,
     "deviations that count: both, up (above the mean), down"},
};

typedef struct ewma_state {
    uint64_t count;
    double mean, var;
    double alpha;
    uint64_t min_periods;
    int side;
    double inv_scale;        /* derived after each value: 1 / floored std */
} ewma_state;

static mw_status ewma_init(mw_detector *d, char *err)
{
    (void)err;
    ewma_state *e = d->state;
    e->alpha = d->params[P_ALPHA];
    e->min_periods = (uint64_t)d->params[P_MIN_PERIODS];
    e->side = (int)d->params[P_SIDE];
    e->inv_scale = mw_detect_inv_scale(0.0, 0.0);
    return MW_OK;
}

static void ewma_reset(mw_detector *d)
{
    ewma_state *e = d->state;
    e->count = 0;
    e->mean = 0.0;
    e->var = 0.0;
    e->inv_scale = mw_detect_inv_scale(0.0, 0.0);
}

static inline double ewma_score_of(const ewma_state *e, double x)
{
    if (e->count < e->min_periods)
        return 0.0;
    return mw_detect_fold(x - e->mean, e->inv_scale, e->side);
}

/* Learns x, without deriving the scale for the next value. */
static inline void ewma_learn(ewma_state *e, double x)
{
    if (e->count++ == 0) {
        e->mean = x;
        e->var = 0.0;
    } else {
        double diff = x - e->mean;
        double incr = e->alpha * diff;
        e->mean += incr;
        e->var = (1.0 - e->alpha) * (e->var + diff * incr);
    }
}

static inline double ewma_step(ewma_state *e, double x)
{
    double score = ewma_score_of(e, x);
    ewma_learn(e, x);
    e->inv_scale = mw_detect_inv_scale(sqrt(e->var), e->mean);
    return score;
}

static double ewma_update(mw_detector *d, double x, double t)
{
    (void)t;
    return ewma_step(d->state, x);
}

static double ewma_score(const mw_detector *d, double x, double t)
{
    (void)t;
    return ewma_score_of(d->state, x);
}

/* Blocks, as zscore's run: learn each value recording the mean and
 * variance it is scored against, then score the block (zblock.h). */
static void ewma_run(mw_detector *d, const double *x, const double *t, size_t n,
                     double *out)
{
    (void)t;
    /* A local copy: stores to it cannot alias the input, so its fields
     * stay in registers across the loop. */
    ewma_state local = *(ewma_state *)d->state, *e = &local;
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
            what[i] = e->count >= e->min_periods ? MW_ZBLOCK_SCORE : MW_ZBLOCK_WARMUP;
            centre[i] = e->mean;
            var[i] = e->var;
            ewma_learn(e, xb[i]);
        }
        mw_zblock_scores(xb, centre, var, what, m, e->side, out + start);
    }
    e->inv_scale = mw_detect_inv_scale(sqrt(e->var), e->mean);
    *(ewma_state *)d->state = local;
}

static void ewma_save(const mw_detector *d, mw_blob_writer *w)
{
    const ewma_state *e = d->state;
    mw_blob_put_u64(w, e->count);
    mw_blob_put_f64(w, e->mean);
    mw_blob_put_f64(w, e->var);
}

static int ewma_load(mw_detector *d, mw_blob_reader *r)
{
    ewma_state *e = d->state;
    e->count = mw_blob_get_u64(r);
    e->mean = mw_blob_get_f64(r);
    e->var = mw_blob_get_f64(r);
    e->inv_scale = mw_detect_inv_scale(sqrt(e->var), e->mean);
    return r->failed;
}

const mw_detector_type mw_detect_ewma_type = {
    .name = "ewma",
    .role = MW_ROLE_DETECTOR,
    .summary = "|x - mean| / std with exponentially weighted mean and variance",
    .params = ewma_params,
    .n_params = sizeof ewma_params / sizeof ewma_params[0],
    .state_size = sizeof(ewma_state),
    .init = ewma_init,
    .reset = ewma_reset,
    .update = ewma_update,
    .score = ewma_score,
    .run = ewma_run,
    .save = ewma_save,
    .load = ewma_load,
};
