/*
 * bocpd.c: Bayesian online change-point detection (Adams & MacKay 2007,
 * "Bayesian Online Changepoint Detection", arXiv 0710.3742).
 *
 * Model. The stream is cut into segments at change points that come with
 * a constant hazard H = 1 / lambda per value; inside a segment the values
 * are Gaussian with a mean and variance of their own, drawn from a
 * Normal-Gamma prior (mu0, kappa0, alpha0, beta0 on the mean and the
 * precision). The detector keeps the posterior over the run length r, the
 * number of values, the newest included, that form the current segment,
 * and for each r the Normal-Gamma posterior of the last r values. The
 * predictive of the next value under run length r is a Student t with
 * 2 alpha_r degrees of freedom, centre mu_r and scale^2
 * beta_r (kappa_r + 1) / (alpha_r kappa_r), where kappa_r = kappa0 + r and
 * alpha_r = alpha0 + r / 2.
 *
 * Recursion, for a new value x (the paper's, with r counting the values
 * of the segment x belongs to, so the run that x starts has length 1):
 *   P(r' = 1)     ~ H     * pred_prior(x)
 *   P(r' = r + 1) ~ (1-H) * P(r) * pred_r(x)      r = 1 .. max_run - 1
 * normalised over the kept run lengths. Run lengths above max_run are
 * dropped and the rest renormalised (the truncation of NAB's detector),
 * which bounds memory and time to O(max_run).
 *
 * Score. In the paper's indexing P(r_t = 0 | x_1..t) equals H whatever
 * the data (a known pitfall), so it scores nothing. Ours is
 *   score(x) = P(r' <= lag | x_1 .. x),
 * the posterior probability, once x is seen, that the current segment
 * began at one of the last `lag` values (x included): the probability
 * that a change happened within the last lag steps. It is in [0, 1] and
 * needs no threshold to read. score(x) is what learning x would give,
 * computed without learning it; update returns the same number and then
 * learns x. A change at x keeps being counted for lag values, so the
 * score of a shift usually peaks a few values after it, once the new
 * level is confirmed.
 *
 * Scale. With `standardize` (the default) the first min_periods values
 * are buffered; once they are in, their mean and standard deviation fix
 * the units, and the model works on z = (x - mean) / std with the prior
 * given in those units. The buffered values are then replayed, so the
 * state is exactly that of a detector given this scaling from the start.
 * Without `standardize`, z = x and the prior is in the data's units. A
 * constant warm-up has no spread: the scale is floored at 1e-9 of the
 * mean's magnitude (DBL_MIN for zeros). Unlike mw_detect_standard_score
 * there is no absolute floor, which would make tiny-valued data look
 * constant: the scores are the same at any scale. z is clamped to +-Z_LIMIT so that squares never overflow; with
 * the parameter ranges this keeps every beta in (0, 1e300] and every
 * log-density finite, so finite input never gives NaN or inf.
 *
 * Warm-up: the score is 0 for the first min_periods values.
 *
 * Numerics. Weights are kept as logarithms. A step computes every run
 * length's term (log weight + log predictive) and their maximum, then
 * sums exp(term - max) from run length 1 up, so the sum is at least 1
 * and the score's part is a prefix of it, and renormalises. No weight
 * underflows to a dead 0 and nothing divides by 0. The Student t's
 * lgamma terms depend on r only and are tabulated at init; log(beta_r)
 * is carried along (the predictive computes the next one anyway), so a
 * run length costs one log and one exp per value.
 */
#include "detect/detect.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

enum {
    P_LAMBDA, P_LAG, P_MAX_RUN, P_MIN_PERIODS, P_STANDARDIZE,
    P_MU0, P_KAPPA0, P_ALPHA0, P_BETA0
};

/* Standardised values are clamped to this magnitude: (2 Z_LIMIT)^2 times
 * max_run still fits in a double many times over. */
#define Z_LIMIT 1e100
/* Bounds a valid state keeps (checked on load): means are averages of
 * clamped values and mu0, betas grow by at most 2e200 per value. */
#define MU_LIMIT (2 * Z_LIMIT)
#define BETA_LIMIT 1e300
/* The smallest scale standardize can set: its inverse stays finite. */
#define SCALE_MIN DBL_MIN
#define LOG_2PI 1.8378770664093454836

static const mw_param_spec bocpd_params[] = {
    {"lambda", MW_PARAM_FLOAT, 250, 1, 1e12, 1, NULL,
     "expected segment length: the hazard of a change is 1 / lambda per value"},
    {"lag", MW_PARAM_INT, 5, 1, 1e6, 0, NULL,
     "score: probability that a change happened within the last lag values"},
    {"max_run", MW_PARAM_INT, 500, 2, 1e6, 0, NULL,
     "longest run length kept (memory and time per value are O(max_run))"},
    {"min_periods", MW_PARAM_INT, 30, 2, 1e6, 0, NULL,
     "values to learn before scoring (score 0 until then); standardize uses them"},
    {"standardize", MW_PARAM_BOOL, 1, 0, 1, 0, NULL,
     "work in units of the first min_periods values' mean and std"},
    {"mu0", MW_PARAM_FLOAT, 0, -1e100, 1e100, 0, NULL,
     "prior mean of a segment's mean"},
    {"kappa0", MW_PARAM_FLOAT, 0.1, 0, 1e6, 1, NULL,
     "prior weight of mu0, in values"},
    {"alpha0", MW_PARAM_FLOAT, 0.1, 0, 1e6, 1, NULL,
     "Gamma prior on a segment's precision: shape"},
    {"beta0", MW_PARAM_FLOAT, 0.1, 0, 1e100, 1, NULL,
     "Gamma prior on a segment's precision: rate (prior variance ~ beta0 / alpha0)"},
};

typedef struct bocpd_state {
    /* From the parameters. */
    double log_growth;       /* log(1 - H) */
    double alpha0;
    size_t lag, max_run, min_periods;
    int standardize;
    /* Tables by run length r in [0, max_run): what depends on r only. */
    double *log_norm;        /* log of the Student t's constant, without beta */
    double *spread;          /* kappa_r / (2 (kappa_r + 1)): beta's increment per d^2 */
    double *gain;            /* 1 / (kappa_r + 1): the mean's step */
    /* By run length r in [0, max_run]; index 0 is the prior (never written). */
    double *log_weight;      /* log P(r); [0] = log H - log(1 - H), see bocpd_init */
    double *mu, *beta, *log_beta;
    double *warm;            /* the first min_periods values */
    size_t block_len;        /* doubles in the one allocation */
    /* Learned. */
    size_t n_warm;           /* values in warm (min_periods once replayed) */
    size_t len;              /* run lengths 1 .. len have a weight */
    double centre, scale, inv_scale;
} bocpd_state;

static void bocpd_clear(bocpd_state *b)
{
    b->n_warm = 0;
    b->len = 0;
    b->centre = 0.0;
    b->scale = 1.0;
    b->inv_scale = 1.0;
}

static mw_status bocpd_init(mw_detector *d, char *err)
{
    bocpd_state *b = d->state;
    double hazard = 1.0 / d->params[P_LAMBDA];
    b->log_growth = log1p(-hazard);
    b->alpha0 = d->params[P_ALPHA0];
    b->lag = (size_t)d->params[P_LAG];
    b->max_run = (size_t)d->params[P_MAX_RUN];
    b->min_periods = (size_t)d->params[P_MIN_PERIODS];
    b->standardize = d->params[P_STANDARDIZE] != 0.0;
    if (b->lag >= b->max_run) {
        snprintf(err, MW_DETECT_ERRLEN, "lag (%zu) must be less than max_run (%zu)", b->lag,
                 b->max_run);
        return MW_EINVAL;
    }
    size_t slots = b->max_run + 1;
    b->block_len = 3 * b->max_run + 4 * slots + b->min_periods;
    double *block = mw_detector_alloc(d, b->block_len * sizeof(double));
    if (block == NULL)
        return d->alloc->last_error != MW_OK ? d->alloc->last_error : MW_ENOMEM;
    b->log_norm = block;
    b->spread = b->log_norm + b->max_run;
    b->gain = b->spread + b->max_run;
    b->log_weight = b->gain + b->max_run;
    b->mu = b->log_weight + slots;
    b->beta = b->mu + slots;
    b->log_beta = b->beta + slots;
    b->warm = b->log_beta + slots;
    memset(block, 0, b->block_len * sizeof(double));

    double kappa0 = d->params[P_KAPPA0];
    for (size_t r = 0; r < b->max_run; r++) {
        double kappa = kappa0 + (double)r;
        double alpha = b->alpha0 + 0.5 * (double)r;
        /* log t-density = log_norm + alpha log(beta) - (alpha + 1/2) log(beta + q)
         * with q = spread d^2: the density of the paper's Student t with
         * 2 alpha degrees of freedom, rewritten around beta. */
        b->log_norm[r] = lgamma(alpha + 0.5) - lgamma(alpha) -
                         0.5 * (LOG_2PI + log((kappa + 1.0) / kappa));
        b->spread[r] = kappa / (2.0 * (kappa + 1.0));
        b->gain[r] = 1.0 / (kappa + 1.0);
    }
    /* The prior as run length 0: its term is log(1 - H) + log_weight[0] +
     * log-density = log H + log-density, the change term (the weights sum
     * to 1), so one loop handles both. */
    b->log_weight[0] = log(hazard) - b->log_growth;
    b->mu[0] = d->params[P_MU0];
    b->beta[0] = d->params[P_BETA0];
    b->log_beta[0] = log(b->beta[0]);
    bocpd_clear(b);
    return MW_OK;
}

static void bocpd_destroy(mw_detector *d)
{
    bocpd_state *b = d->state;
    mw_detector_dealloc(d, b->log_norm, b->block_len * sizeof(double));
}

static void bocpd_reset(mw_detector *d)
{
    bocpd_clear(d->state);
}

/* Below this exp(x) is 0 in doubles: skipping the call gives the same
 * sum and avoids libm's slow path for results that underflow. */
#define EXP_ZERO (-746.0)

static inline double bocpd_exp(double x)
{
    return x > EXP_ZERO ? exp(x) : 0.0;
}

/* The log of the unnormalised posterior of run length r + 1 after z:
 * log(1 - H) + log P(r) + the log predictive density of z under run
 * length r (r = 0: the prior, whose term is the change term). dev is
 * z - mu_r and next_beta beta_r + spread_r dev^2, the posterior beta of
 * run length r + 1, whose log comes out in *log_next_beta. */
static inline double bocpd_term(const bocpd_state *b, size_t r, double next_beta,
                                double *log_next_beta)
{
    *log_next_beta = log(next_beta);
    double alpha = b->alpha0 + 0.5 * (double)r;
    double log_pred = b->log_norm[r] + alpha * b->log_beta[r] - (alpha + 0.5) * *log_next_beta;
    return b->log_growth + b->log_weight[r] + log_pred;
}

static inline double bocpd_next_beta(const bocpd_state *b, size_t r, double dev)
{
    return b->beta[r] + b->spread[r] * dev * dev;
}

/* The term of run length r for z, recomputed from the state. */
static inline double bocpd_term_of(const bocpd_state *b, size_t r, double z)
{
    double log_next_beta;
    return bocpd_term(b, r, bocpd_next_beta(b, r, z - b->mu[r]), &log_next_beta);
}

/* The term of new run length k: stored in terms[k] after a learning pass,
 * else recomputed (it is run length k - 1's). */
static inline double bocpd_new_term(const bocpd_state *b, const double *terms, size_t k,
                                    double z)
{
    return terms != NULL ? terms[k] : bocpd_term_of(b, k - 1, z);
}

/* Sums exp(term_k - max) over the new run lengths k = 1 .. n in that
 * order; *recent receives the partial sum over k <= lag, a prefix of the
 * total, so that their ratio is in [0, 1]. */
static inline double bocpd_sum(const bocpd_state *b, const double *terms, double z,
                               size_t n, double max, double *recent)
{
    size_t n_recent = n < b->lag ? n : b->lag;
    double sum = 0.0;
    for (size_t k = 1; k <= n_recent; k++)
        sum += bocpd_exp(bocpd_new_term(b, terms, k, z) - max);
    *recent = sum;
    for (size_t k = n_recent + 1; k <= n; k++)
        sum += bocpd_exp(bocpd_new_term(b, terms, k, z) - max);
    return sum;
}

/* Learns z: moves run lengths 0 .. top up by one, in place and longest
 * first so that each is read before it is overwritten, normalises, and
 * returns P(r' <= lag). */
static inline double bocpd_learn(bocpd_state *b, double z)
{
    size_t top = b->len < b->max_run ? b->len : b->max_run - 1;
    double max = -INFINITY;
    size_t r = top + 1;
    while (r-- > 0) {
        double dev = z - b->mu[r];
        double next_beta = bocpd_next_beta(b, r, dev);
        double log_next_beta;
        double term = bocpd_term(b, r, next_beta, &log_next_beta);
        max = term > max ? term : max;
        b->log_weight[r + 1] = term;
        b->mu[r + 1] = b->mu[r] + dev * b->gain[r];
        b->beta[r + 1] = next_beta;
        b->log_beta[r + 1] = log_next_beta;
    }
    b->len = top + 1;
    double recent;
    double sum = bocpd_sum(b, b->log_weight, z, b->len, max, &recent);
    double log_total = max + log(sum);
    for (size_t k = 1; k <= b->len; k++)
        b->log_weight[k] -= log_total;
    return recent / sum;
}

/* What bocpd_learn would return for z, the same arithmetic, without
 * writing anything (the terms are computed twice instead of stored). */
static inline double bocpd_peek(const bocpd_state *b, double z)
{
    size_t top = b->len < b->max_run ? b->len : b->max_run - 1;
    double max = -INFINITY;
    size_t r = top + 1;
    while (r-- > 0) {
        double term = bocpd_term_of(b, r, z);
        max = term > max ? term : max;
    }
    double recent;
    double sum = bocpd_sum(b, NULL, z, top + 1, max, &recent);
    return recent / sum;
}

/* x in the model's units, clamped (see the top of the file). */
static inline double bocpd_standard(const bocpd_state *b, double x)
{
    double z = (x - b->centre) * b->inv_scale;
    if (z > Z_LIMIT)
        return Z_LIMIT;
    if (z < -Z_LIMIT)
        return -Z_LIMIT;
    return z;
}

/* Fixes the units from the warm-up values (when standardizing) and runs
 * them through the recursion. */
static void bocpd_start(bocpd_state *b)
{
    if (b->standardize) {
        /* Mean and std of the values divided by the largest magnitude, so
         * nothing overflows whatever their scale. */
        size_t n = b->n_warm;
        double big = 0.0;
        for (size_t i = 0; i < n; i++)
            big = fmax(big, fabs(b->warm[i]));
        double mean = 0.0, m2 = 0.0;
        if (big > 0.0) {
            for (size_t i = 0; i < n; i++)
                mean += b->warm[i] / big;
            mean /= (double)n;
            for (size_t i = 0; i < n; i++) {
                double dev = b->warm[i] / big - mean;
                m2 += dev * dev;
            }
        }
        double centre = mean * big;
        double scale = sqrt(m2 / (double)(n - 1)) * big;
        double floor_scale = fmax(1e-9 * fabs(centre), SCALE_MIN);
        if (!(scale > floor_scale))
            scale = floor_scale;
        b->centre = centre;
        b->scale = fmin(scale, DBL_MAX);
        b->inv_scale = 1.0 / b->scale;
    }
    for (size_t i = 0; i < b->n_warm; i++)
        bocpd_learn(b, bocpd_standard(b, b->warm[i]));
}

static inline double bocpd_step(bocpd_state *b, double x)
{
    if (b->n_warm < b->min_periods) {
        b->warm[b->n_warm++] = x;
        if (b->n_warm == b->min_periods)
            bocpd_start(b);
        return 0.0;
    }
    return bocpd_learn(b, bocpd_standard(b, x));
}

static double bocpd_update(mw_detector *d, double x, double t)
{
    (void)t;
    return bocpd_step(d->state, x);
}

static double bocpd_score(const mw_detector *d, double x, double t)
{
    (void)t;
    const bocpd_state *b = d->state;
    if (b->n_warm < b->min_periods)
        return 0.0;
    return bocpd_peek(b, bocpd_standard(b, x));
}

static void bocpd_run(mw_detector *d, const double *x, const double *t, size_t n,
                      double *out)
{
    (void)t;
    bocpd_state *b = d->state;
    for (size_t i = 0; i < n; i++)
        out[i] = x[i] - x[i] == 0.0 ? bocpd_step(b, x[i]) : NAN;
}

/* State: u64 n_warm, then while warming the n_warm values, else the
 * centre and scale, u64 len and the log-weights, means and betas of run
 * lengths 1 .. len (log(beta) is recomputed: it is log of the saved beta). */
static void bocpd_save(const mw_detector *d, mw_blob_writer *w)
{
    const bocpd_state *b = d->state;
    mw_blob_put_u64(w, b->n_warm);
    if (b->n_warm < b->min_periods) {
        mw_blob_put_f64s(w, b->warm, b->n_warm);
        return;
    }
    mw_blob_put_f64(w, b->centre);
    mw_blob_put_f64(w, b->scale);
    mw_blob_put_u64(w, b->len);
    mw_blob_put_f64s(w, b->log_weight + 1, b->len);
    mw_blob_put_f64s(w, b->mu + 1, b->len);
    mw_blob_put_f64s(w, b->beta + 1, b->len);
}

static int bocpd_load(mw_detector *d, mw_blob_reader *r)
{
    bocpd_state *b = d->state;
    b->n_warm = (size_t)mw_blob_get_count(r, b->min_periods, "warm-up count");
    if (r->failed)
        return 1;
    if (b->n_warm < b->min_periods) {
        for (size_t i = 0; i < b->n_warm && !r->failed; i++)
            b->warm[i] = mw_blob_get_finite(r, "warm-up value");
        return r->failed;
    }
    b->centre = mw_blob_get_finite(r, "centre");
    b->scale = mw_blob_get_finite(r, "scale");
    if (!r->failed && !(b->scale >= SCALE_MIN))
        mw_blob_fail(r, "scale out of range");
    b->inv_scale = 1.0 / b->scale;
    b->len = (size_t)mw_blob_get_count(r, b->max_run, "run lengths");
    if (!r->failed && b->len == 0)
        mw_blob_fail(r, "no run length after the warm-up");
    for (size_t k = 1; k <= b->len && !r->failed; k++)
        b->log_weight[k] = mw_blob_get_finite(r, "log-weight");
    for (size_t k = 1; k <= b->len && !r->failed; k++) {
        b->mu[k] = mw_blob_get_finite(r, "mean");
        if (!r->failed && fabs(b->mu[k]) > MU_LIMIT)
            mw_blob_fail(r, "mean out of range");
    }
    for (size_t k = 1; k <= b->len && !r->failed; k++) {
        b->beta[k] = mw_blob_get_finite(r, "beta");
        if (!r->failed && !(b->beta[k] > 0.0 && b->beta[k] <= BETA_LIMIT))
            mw_blob_fail(r, "beta out of range");
        if (!r->failed)
            b->log_beta[k] = log(b->beta[k]);
    }
    return r->failed;
}

const mw_detector_type mw_detect_bocpd_type = {
    .name = "bocpd",
    .role = MW_ROLE_DETECTOR,
    .summary = "Bayesian online change points: P(a change within the last lag values)",
    .params = bocpd_params,
    .n_params = sizeof bocpd_params / sizeof bocpd_params[0],
    .state_size = sizeof(bocpd_state),
    .init = bocpd_init,
    .destroy = bocpd_destroy,
    .reset = bocpd_reset,
    .update = bocpd_update,
    .score = bocpd_score,
    .run = bocpd_run,
    .save = bocpd_save,
    .load = bocpd_load,
};
