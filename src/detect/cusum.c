/*
 * cusum.c: the two-sided tabular CUSUM (Page 1954, in the tabular form of
 * Montgomery's "Introduction to Statistical Quality Control", ch. 9).
 *
 * Each value is standardised against a reference, z = (x - target) /
 * sigma, and two one-sided sums gather the evidence of a shift:
 *   S_hi = max(0, S_hi + z - k)     (the mean moved up)
 *   S_lo = max(0, S_lo - z - k)     (the mean moved down)
 * k is the allowance (half the shift worth detecting, in sigmas) and h
 * the decision interval: the chart signals when a sum exceeds h.
 *
 * Score: max(S_hi, S_lo) (or the one sum `side` asks for), in sigmas, as
 * it stands once x is added. A statistic that accumulates cannot be
 * "the score of x before learning x" in the zscore sense, so the score of
 * x is the statistic x would produce from the state before it: score(x)
 * computes exactly that without changing anything, and update(x) returns
 * the same number, then keeps the new sums. A score above h is an alarm;
 * with `restart` (the default) both sums then go back to 0, the usual
 * alarm-and-restart scheme, so the next alarm needs fresh evidence.
 *
 * The reference: target and sigma are either given (learn_target or
 * learn_sigma false) or learned as the mean and sample std (ddof 1) of
 * the first `warmup` values, which score 0 and feed no sum. The
 * reference is fixed after that: a restart clears the sums, not the
 * reference. The default warm-up is 100 values, not the 30 of the
 * other kinds: a CUSUM's false alarms are very sensitive to an error in
 * the reference (with 30 values the in-control run length, 465 with the
 * true reference, had a median of 240 over 40 series, and 58 for one in
 * ten; with 100, 400 and 150). Asking for learning and giving a value as well is an error,
 * so a given target or sigma is never silently ignored.
 *
 * A zero sigma (given constant data) is floored as in
 * mw_detect_standard_score. z, the sums and the warm-up's sum of squares
 * are capped at CUSUM_CAP so that no finite input makes them overflow
 * and the state stays finite (savable): data beyond about 1e150 in
 * magnitude gets finite scores, not meaningful ones.
 */
#include "detect/detect.h"

#include <math.h>
#include <stdio.h>

/* Far above any useful score, far enough below DBL_MAX that a sum of two
 * capped terms is still finite. */
#define CUSUM_CAP 1e300

enum {
    P_K, P_H, P_WARMUP, P_LEARN_TARGET, P_LEARN_SIGMA, P_TARGET, P_SIGMA, P_SIDE,
    P_RESTART
};

static const mw_param_spec cusum_params[] = {
    {"k", MW_PARAM_FLOAT, 0.5, 0, 1e6, 0, NULL,
     "allowance in sigmas: half the shift to detect (Montgomery: 0.5)"},
    {"h", MW_PARAM_FLOAT, 5, 0, 1e6, 1, NULL,
     "decision interval in sigmas: a score above h is an alarm (Montgomery: 5)"},
    {"warmup", MW_PARAM_INT, 100, 2, 1e9, 0, NULL,
     "values that learn the reference (score 0 until then)"},
    {"learn_target", MW_PARAM_BOOL, 1, 0, 1, 0, NULL,
     "learn the target as the mean of the warm-up values; false: use `target`"},
    {"learn_sigma", MW_PARAM_BOOL, 1, 0, 1, 0, NULL,
     "learn sigma as the std of the warm-up values; false: use `sigma`"},
    {"target", MW_PARAM_FLOAT, 0, -1e300, 1e300, 0, NULL,
     "the in-control mean, when learn_target is false"},
    {"sigma", MW_PARAM_FLOAT, 1, 0, 1e300, 1, NULL,
     "the in-control standard deviation, when learn_sigma is false"},
    {"side", MW_PARAM_CHOICE, MW_SIDE_BOTH, 0, 0, 0, mw_detect_side_choices,
     "shifts that count: both, up (S_hi only), down (S_lo only)"},
    {"restart", MW_PARAM_BOOL, 1, 0, 1, 0, NULL,
     "reset both sums to 0 after a score above h"},
};

typedef struct cusum_state {
    /* The reference: learned (Welford over the warm-up) or given. */
    uint64_t warm_seen;      /* warm-up values learned so far */
    double warm_mean, warm_m2;
    double target, sigma;    /* in force once ready */
    int ready;               /* the reference is known: sums run */
    double s_hi, s_lo;
    /* Parameters, unpacked. */
    double k, h;
    uint64_t warmup;
    int learn_target, learn_sigma, side, restart;
} cusum_state;

static void cusum_reset(mw_detector *d)
{
    cusum_state *c = d->state;
    c->warm_seen = 0;
    c->warm_mean = 0.0;
    c->warm_m2 = 0.0;
    c->ready = !c->learn_target && !c->learn_sigma;
    c->target = d->params[P_TARGET];
    c->sigma = d->params[P_SIGMA];
    c->s_hi = 0.0;
    c->s_lo = 0.0;
}

static mw_status cusum_init(mw_detector *d, char *err)
{
    cusum_state *c = d->state;
    c->k = d->params[P_K];
    c->h = d->params[P_H];
    c->warmup = (uint64_t)d->params[P_WARMUP];
    c->learn_target = d->params[P_LEARN_TARGET] != 0.0;
    c->learn_sigma = d->params[P_LEARN_SIGMA] != 0.0;
    c->side = (int)d->params[P_SIDE];
    c->restart = d->params[P_RESTART] != 0.0;
    if (c->learn_target && d->params[P_TARGET] != cusum_params[P_TARGET].def) {
        snprintf(err, MW_DETECT_ERRLEN,
                 "target (%.17g) is given but learn_target is true: set learn_target = "
                 "false to use it",
                 d->params[P_TARGET]);
        return MW_EINVAL;
    }
    if (c->learn_sigma && d->params[P_SIGMA] != cusum_params[P_SIGMA].def) {
        snprintf(err, MW_DETECT_ERRLEN,
                 "sigma (%.17g) is given but learn_sigma is true: set learn_sigma = "
                 "false to use it",
                 d->params[P_SIGMA]);
        return MW_EINVAL;
    }
    cusum_reset(d);
    return MW_OK;
}

static inline double cusum_clamp(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* z of x against the reference, sigma floored as mw_detect_standard_score
 * floors it, and capped. */
static inline double cusum_z(const cusum_state *c, double x)
{
    double floor_scale = 1e-9 * fabs(c->target);
    if (floor_scale < 1e-12)
        floor_scale = 1e-12;
    double scale = c->sigma > floor_scale ? c->sigma : floor_scale;
    return cusum_clamp((x - c->target) / scale, -CUSUM_CAP, CUSUM_CAP);
}

/* The sums x would produce, and the score they make. */
static inline double cusum_sums(const cusum_state *c, double x, double *hi, double *lo)
{
    double z = cusum_z(c, x);
    *hi = cusum_clamp(c->s_hi + z - c->k, 0.0, CUSUM_CAP);
    *lo = cusum_clamp(c->s_lo - z - c->k, 0.0, CUSUM_CAP);
    if (c->side == MW_SIDE_UP)
        return *hi;
    if (c->side == MW_SIDE_DOWN)
        return *lo;
    return *hi > *lo ? *hi : *lo;
}

static inline double cusum_score_of(const cusum_state *c, double x)
{
    double hi, lo;
    return c->ready ? cusum_sums(c, x, &hi, &lo) : 0.0;
}

/* One warm-up value: Welford, then the reference once warmup are in. */
static void cusum_warm(cusum_state *c, double x)
{
    c->warm_seen++;
    double n = (double)c->warm_seen;
    double delta = x - c->warm_mean;
    if (delta - delta == 0.0) {
        c->warm_mean += delta / n;
        c->warm_m2 += delta * (x - c->warm_mean);
    } else {                 /* x - mean overflowed: both are huge */
        c->warm_mean = c->warm_mean - c->warm_mean / n + x / n;
        c->warm_m2 = CUSUM_CAP;
    }
    if (!(c->warm_m2 < CUSUM_CAP))
        c->warm_m2 = CUSUM_CAP;
    if (c->warm_seen < c->warmup)
        return;
    if (c->learn_target)
        c->target = c->warm_mean;
    if (c->learn_sigma)
        c->sigma = c->warm_m2 > 0.0 ? sqrt(c->warm_m2 / (double)(c->warm_seen - 1)) : 0.0;
    c->ready = 1;
}

static inline double cusum_step(cusum_state *c, double x)
{
    if (!c->ready) {
        cusum_warm(c, x);
        return 0.0;
    }
    double hi, lo;
    double score = cusum_sums(c, x, &hi, &lo);
    if (c->restart && score > c->h) {
        hi = 0.0;
        lo = 0.0;
    }
    c->s_hi = hi;
    c->s_lo = lo;
    return score;
}

static double cusum_update(mw_detector *d, double x, double t)
{
    (void)t;
    return cusum_step(d->state, x);
}

static double cusum_score(const mw_detector *d, double x, double t)
{
    (void)t;
    return cusum_score_of(d->state, x);
}

static void cusum_run(mw_detector *d, const double *x, const double *t, size_t n,
                      double *out)
{
    (void)t;
    cusum_state *c = d->state;
    for (size_t i = 0; i < n; i++)
        out[i] = x[i] - x[i] == 0.0 ? cusum_step(c, x[i]) : NAN;
}

static void cusum_save(const mw_detector *d, mw_blob_writer *w)
{
    const cusum_state *c = d->state;
    mw_blob_put_u8(w, (uint8_t)c->ready);
    mw_blob_put_u64(w, c->warm_seen);
    mw_blob_put_f64(w, c->warm_mean);
    mw_blob_put_f64(w, c->warm_m2);
    mw_blob_put_f64(w, c->target);
    mw_blob_put_f64(w, c->sigma);
    mw_blob_put_f64(w, c->s_hi);
    mw_blob_put_f64(w, c->s_lo);
}

static int cusum_load(mw_detector *d, mw_blob_reader *r)
{
    cusum_state *c = d->state;
    unsigned ready = mw_blob_get_u8(r);
    /* A detector that learns nothing is ready from the start; one that
     * learns is ready exactly when its warm-up is complete. */
    uint64_t warm_max = c->ready ? 0 : c->warmup;
    c->warm_seen = mw_blob_get_count(r, warm_max, "warm-up count");
    c->warm_mean = mw_blob_get_finite(r, "warm-up mean");
    c->warm_m2 = mw_blob_get_finite(r, "warm-up deviations");
    c->target = mw_blob_get_finite(r, "target");
    c->sigma = mw_blob_get_finite(r, "sigma");
    c->s_hi = mw_blob_get_finite(r, "upper sum");
    c->s_lo = mw_blob_get_finite(r, "lower sum");
    if (r->failed)
        return 1;
    int ready_expected = c->ready || c->warm_seen == c->warmup;
    if (ready > 1 || (int)ready != ready_expected)
        mw_blob_fail(r, "ready flag %u does not match the warm-up count %llu", ready,
                     (unsigned long long)c->warm_seen);
    else if (c->warm_m2 < 0.0 || c->sigma < 0.0)
        mw_blob_fail(r, "negative spread");
    else if (c->s_hi < 0.0 || c->s_lo < 0.0 || c->s_hi > CUSUM_CAP || c->s_lo > CUSUM_CAP)
        mw_blob_fail(r, "sums out of range");
    else if (!c->learn_target && c->target != d->params[P_TARGET])
        mw_blob_fail(r, "target does not match the parameter");
    else if (!c->learn_sigma && c->sigma != d->params[P_SIGMA])
        mw_blob_fail(r, "sigma does not match the parameter");
    else
        c->ready = (int)ready;
    return r->failed;
}

const mw_detector_type mw_detect_cusum_type = {
    .name = "cusum",
    .role = MW_ROLE_DETECTOR,
    .summary = "two-sided tabular CUSUM of (x - target) / sigma, in sigmas; "
               "above h is an alarm",
    .params = cusum_params,
    .n_params = sizeof cusum_params / sizeof cusum_params[0],
    .state_size = sizeof(cusum_state),
    .init = cusum_init,
    .reset = cusum_reset,
    .update = cusum_update,
    .score = cusum_score,
    .run = cusum_run,
    .save = cusum_save,
    .load = cusum_load,
};
