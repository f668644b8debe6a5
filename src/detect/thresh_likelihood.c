/*
 * thresh_likelihood.c: Numenta's anomaly likelihood (mw.thresh.likelihood).
 *
 * The algorithm of NuPIC's AnomalyLikelihood (nupic/algorithms/
 * anomaly_likelihood.py, also in htm.core), which NAB's Numenta detectors
 * apply to the raw HTM anomaly score, done value by value in bounded
 * memory with the same arithmetic:
 *
 * - For the first learning_period + estimation_samples scores (the
 *   probation) the output is 0.5.
 * - At the end of the probation and then whenever the count of scores
 *   learned is a multiple of reestimation_period, a normal distribution is
 *   fitted to the moving averages (over averaging_window scores) of the
 *   last historic_window scores, the averages restarted at the oldest
 *   one, skipping the first ones still inside the learning period
 *   (NuPIC's _calcSkipRecords). Its mean is floored at 0.03 and its
 *   variance at 0.0003; with nothing left after the skip, the broad "null"
 *   distribution (mean 0.5, std 1000) is used. The moving-average window
 *   and its running total restart from those last scores too, as in
 *   NuPIC.
 * - Each score after the probation enters the moving average; the raw
 *   likelihood is the normal tail probability of that average, folded
 *   about the mean: 0.5 * erfc(|z| / 1.4142) (NuPIC's constant). Two raw
 *   values in a row at or below 1 - 0.99999 make the second one
 *   1 - 0.999 (the filter of _filterLikelihoods). The output is
 *   1 - that filtered value: near 1 for an average far from the usual.
 * - output = "log" gives log(1.0000000001 - L) / log(1e-10) instead, the
 *   scale NAB reports (0.5 maps to 0.0301, 0.99999 to 0.5).
 *
 * Differences from NuPIC: it never sees the metric's raw value, so the
 * check that reports a flat metric as the null distribution (variance of
 * the values below 1.5e-5) is not done, as NuPIC skips it for non-numeric
 * values; inputs are clamped to +-1e150, which keeps every sum and
 * variance finite (anomaly scores are in [0, 1]).
 *
 * Memory: the last historic_window scores and averaging_window scores in
 * rings, and historic_window doubles of workspace for a fit's moving
 * averages. A fit costs O(historic_window), every reestimation_period
 * updates.
 */
#include "detect/detect.h"

#include <math.h>
#include <stdio.h>

enum {
    P_LEARNING_PERIOD,
    P_ESTIMATION_SAMPLES,
    P_HISTORIC_WINDOW,
    P_REESTIMATION_PERIOD,
    P_AVERAGING_WINDOW,
    P_OUTPUT
};
enum { OUTPUT_LIKELIHOOD, OUTPUT_LOG };

static const char *const likelihood_outputs[] = {"likelihood", "log", NULL};

/* NuPIC's defaults (AnomalyLikelihood.__init__ and
 * estimateAnomalyLikelihoods). */
static const mw_param_spec likelihood_params[] = {
    {"learning_period", MW_PARAM_INT, 288, 0, 1e9, 0, NULL,
     "scores to leave out of the first fits while the detector learns"},
    {"estimation_samples", MW_PARAM_INT, 100, 0, 1e9, 0, NULL,
     "scores after the learning period before the first fit"},
    {"historic_window", MW_PARAM_INT, 8640, 1, 1e9, 0, NULL,
     "past scores the distribution is fitted to"},
    {"reestimation_period", MW_PARAM_INT, 100, 1, 1e9, 0, NULL,
     "scores between two fits"},
    {"averaging_window", MW_PARAM_INT, 10, 1, 1e9, 0, NULL,
     "scores in the moving average that is compared with the distribution"},
    {"output", MW_PARAM_CHOICE, OUTPUT_LIKELIHOOD, 0, 0, 0, likelihood_outputs,
     "likelihood (in [0, 1]) or log (NAB's log scale)"},
};

/* NuPIC's constants. */
#define LIK_RED (1.0 - 0.99999)     /* a raw likelihood this low is red */
#define LIK_YELLOW (1.0 - 0.999)    /* what a second red in a row becomes */
#define LIK_MIN_MEAN 0.03
#define LIK_MIN_VARIANCE 0.0003
#define LIK_NULL_MEAN 0.5
#define LIK_NULL_STDEV 1e3
#define LIK_CLAMP 1e150

/* What the next output depends on besides the rings. */
typedef struct lik_fit {
    double mean, stdev;      /* the fitted normal */
    double total;            /* running sum of the averaging window */
    size_t avg_count;        /* scores in the averaging window */
    double last_raw;         /* the previous raw tail probability */
} lik_fit;

typedef struct lik_ring {
    double *data;            /* cap values (owned) */
    size_t cap, count, head; /* head: where the next value goes */
} lik_ring;

typedef struct likelihood_state {
    uint64_t learning_period, probation, reestimation_period;
    int log_output;
    uint64_t iteration;      /* scores learned */
    lik_ring hist;           /* the last historic_window scores */
    lik_ring avg;            /* the averaging window */
    lik_fit fit;             /* valid once iteration > probation */
    /* Workspace of historic_window doubles for a fit's moving averages:
     * not state (never saved), written by score's fit too. */
    double *scratch;
} likelihood_state;

/* ---- rings ---------------------------------------------------------- */

static mw_status ring_init(lik_ring *r, mw_detector *d, size_t cap)
{
    r->data = mw_detector_alloc(d, cap * sizeof *r->data);
    if (r->data == NULL)
        return d->alloc->last_error != MW_OK ? d->alloc->last_error : MW_ENOMEM;
    r->cap = cap;
    return MW_OK;
}

static void ring_free(lik_ring *r, mw_detector *d)
{
    mw_detector_dealloc(d, r->data, r->cap * sizeof *r->data);
    r->data = NULL;
}

static inline void ring_push(lik_ring *r, double x)
{
    r->data[r->head] = x;
    if (++r->head == r->cap)
        r->head = 0;
    if (r->count < r->cap)
        r->count++;
}

/* The value i places back (0: the newest); i < count. */
static inline double ring_back(const lik_ring *r, size_t i)
{
    return r->data[r->head >= i + 1 ? r->head - i - 1 : r->head + r->cap - i - 1];
}

/* The oldest value (count > 0). */
static inline double ring_oldest(const lik_ring *r)
{
    return ring_back(r, r->count - 1);
}

/* ---- the algorithm -------------------------------------------------- */

/* The moving average after x enters a window of count values (of cap)
 * summing to *total, oldest the value that leaves a full one; *total
 * becomes the new sum. NuPIC's MovingAverage.compute, to the operation. */
static inline double lik_average(double *total, size_t count, size_t cap, double oldest,
                                 double x)
{
    if (count == cap)
        *total -= oldest;
    *total += x;
    return *total / (double)(count == cap ? cap : count + 1);
}

/* NuPIC's tailProbability: the normal tail beyond x, folded about the
 * mean, with its 1.4142 for sqrt(2). */
static inline double lik_tail(double x, double mean, double stdev)
{
    if (x < mean)
        x = 2.0 * mean - x;
    double z = (x - mean) / stdev;
    return 0.5 * erfc(z / 1.4142);
}

/* The sum of a[0..m), or of the squared deviations from centre when
 * squares is set, in four interleaved partial sums (numpy sums pairwise;
 * either way the rounding is a few ulps). */
static inline double lik_sum(const double *a, size_t m, double centre, int squares)
{
    double part[4] = {0.0, 0.0, 0.0, 0.0};
    size_t i = 0;
    for (; i + 4 <= m; i += 4)
        for (int k = 0; k < 4; k++) {
            double v = a[i + (size_t)k] - centre;
            part[k] += squares ? v * v : v;
        }
    for (; i < m; i++) {
        double v = a[i] - centre;
        part[0] += squares ? v * v : v;
    }
    return (part[0] + part[1]) + (part[2] + part[3]);
}

/* Fits the distribution to the history as estimateAnomalyLikelihoods
 * does when AnomalyLikelihood re-estimates, into *fit: mean and stdev,
 * the averaging window's total and count restarted from the history, and
 * the raw likelihood of the last average. The moving averages go to the
 * scratch buffer, then mean and variance (numpy.var, ddof 0, around the
 * mean) are taken over them in two passes. */
static void lik_estimate(const likelihood_state *s, lik_fit *fit)
{
    size_t n = s->hist.count, cap = s->avg.cap;
    uint64_t shifted_out = s->iteration > s->hist.cap ? s->iteration - s->hist.cap : 0;
    uint64_t skip = s->learning_period > shifted_out ? s->learning_period - shifted_out : 0;
    if (skip > s->iteration)
        skip = s->iteration;

    /* The history oldest first, walked with the index of the value that
     * leaves the averaging window (cap places behind). */
    const double *h = s->hist.data;
    size_t hist_cap = s->hist.cap;
    size_t at = n == hist_cap ? s->hist.head : 0, leaving = at;
    double *averages = s->scratch, total = 0.0;
    for (size_t i = 0; i < n; i++) {
        double oldest = 0.0;
        if (i >= cap) {
            oldest = h[leaving];
            if (++leaving == hist_cap)
                leaving = 0;
        }
        averages[i] = lik_average(&total, i < cap ? i : cap, cap, oldest, h[at]);
        if (++at == hist_cap)
            at = 0;
    }
    fit->total = total;
    fit->avg_count = n < cap ? n : cap;
    if (n <= skip) {
        fit->mean = LIK_NULL_MEAN;
        fit->stdev = LIK_NULL_STDEV;
    } else {
        size_t m = n - (size_t)skip;
        const double *a = averages + skip;
        double mean = lik_sum(a, m, 0.0, 0) / (double)m;
        double variance = lik_sum(a, m, mean, 1) / (double)m;
        fit->mean = mean < LIK_MIN_MEAN ? LIK_MIN_MEAN : mean;
        fit->stdev = sqrt(variance < LIK_MIN_VARIANCE ? LIK_MIN_VARIANCE : variance);
    }
    fit->last_raw = lik_tail(averages[n - 1], fit->mean, fit->stdev);
}

static inline int lik_refits(const likelihood_state *s)
{
    return s->iteration == s->probation || s->iteration % s->reestimation_period == 0;
}

/* The output for x given fit (which it advances) and the oldest value of
 * the averaging window (used when the window is full). */
static inline double lik_output(const likelihood_state *s, lik_fit *fit, double oldest,
                                double x)
{
    double average = lik_average(&fit->total, fit->avg_count, s->avg.cap, oldest, x);
    if (fit->avg_count < s->avg.cap)
        fit->avg_count++;
    double raw = lik_tail(average, fit->mean, fit->stdev);
    double filtered = raw <= LIK_RED && fit->last_raw <= LIK_RED ? LIK_YELLOW : raw;
    fit->last_raw = raw;
    return 1.0 - filtered;
}

static inline double lik_scale(const likelihood_state *s, double likelihood)
{
    if (!s->log_output)
        return likelihood;
    return log(1.0000000001 - likelihood) / -23.02585084720009;
}

static inline double lik_clamp(double x)
{
    return x > LIK_CLAMP ? LIK_CLAMP : x < -LIK_CLAMP ? -LIK_CLAMP : x;
}

static inline double lik_step(likelihood_state *s, double x)
{
    x = lik_clamp(x);
    double out = 0.5;
    if (s->iteration >= s->probation) {
        if (lik_refits(s)) {
            lik_estimate(s, &s->fit);
            /* The averaging window restarts from the history's end. */
            s->avg.count = 0;
            s->avg.head = 0;
            for (size_t i = s->fit.avg_count; i > 0; i--)
                ring_push(&s->avg, ring_back(&s->hist, i - 1));
        }
        double oldest = s->avg.count == s->avg.cap ? ring_oldest(&s->avg) : 0.0;
        out = lik_output(s, &s->fit, oldest, x);
        ring_push(&s->avg, x);
    }
    ring_push(&s->hist, x);
    s->iteration++;
    return lik_scale(s, out);
}

static double likelihood_update(mw_detector *d, double x, double t)
{
    (void)t;
    return lik_step(d->state, x);
}

static double likelihood_score(const mw_detector *d, double x, double t)
{
    (void)t;
    const likelihood_state *s = d->state;
    x = lik_clamp(x);
    if (s->iteration < s->probation)
        return lik_scale(s, 0.5);
    lik_fit fit = s->fit;
    double oldest;
    if (lik_refits(s)) {
        lik_estimate(s, &fit);
        oldest = fit.avg_count == s->avg.cap ? ring_back(&s->hist, fit.avg_count - 1) : 0.0;
    } else {
        oldest = s->avg.count == s->avg.cap ? ring_oldest(&s->avg) : 0.0;
    }
    return lik_scale(s, lik_output(s, &fit, oldest, x));
}

static void likelihood_run(mw_detector *d, const double *x, const double *t, size_t n,
                           double *out)
{
    (void)t;
    likelihood_state *s = d->state;
    for (size_t i = 0; i < n; i++)
        out[i] = x[i] - x[i] == 0.0 ? lik_step(s, x[i]) : NAN;
}

/* ---- the detector --------------------------------------------------- */

static void likelihood_destroy(mw_detector *d)
{
    likelihood_state *s = d->state;
    if (s->scratch != NULL)
        mw_detector_dealloc(d, s->scratch, s->hist.cap * sizeof *s->scratch);
    s->scratch = NULL;
    ring_free(&s->hist, d);
    ring_free(&s->avg, d);
}

static mw_status likelihood_init(mw_detector *d, char *err)
{
    likelihood_state *s = d->state;
    size_t estimation = (size_t)d->params[P_ESTIMATION_SAMPLES];
    size_t historic = (size_t)d->params[P_HISTORIC_WINDOW];
    if (historic < estimation) {
        snprintf(err, MW_DETECT_ERRLEN,
                 "estimation_samples (%zu) must not exceed historic_window (%zu)",
                 estimation, historic);
        return MW_EINVAL;
    }
    /* The first fit needs a score to fit to (NuPIC raises then). */
    if (d->params[P_LEARNING_PERIOD] + d->params[P_ESTIMATION_SAMPLES] < 1) {
        snprintf(err, MW_DETECT_ERRLEN,
                 "learning_period + estimation_samples must be at least 1 (got 0)");
        return MW_EINVAL;
    }
    s->learning_period = (uint64_t)d->params[P_LEARNING_PERIOD];
    s->probation = s->learning_period + estimation;
    s->reestimation_period = (uint64_t)d->params[P_REESTIMATION_PERIOD];
    s->log_output = (int)d->params[P_OUTPUT] == OUTPUT_LOG;
    mw_status status = ring_init(&s->hist, d, historic);
    if (status == MW_OK)
        status = ring_init(&s->avg, d, (size_t)d->params[P_AVERAGING_WINDOW]);
    if (status == MW_OK) {
        s->scratch = mw_detector_alloc(d, historic * sizeof *s->scratch);
        if (s->scratch == NULL)
            status = d->alloc->last_error != MW_OK ? d->alloc->last_error : MW_ENOMEM;
    }
    if (status != MW_OK)
        likelihood_destroy(d);
    return status;
}

static void likelihood_reset(mw_detector *d)
{
    likelihood_state *s = d->state;
    s->iteration = 0;
    s->hist.count = s->hist.head = 0;
    s->avg.count = s->avg.head = 0;
    s->fit = (lik_fit){0.0, 0.0, 0.0, 0, 0.0};
}

static void ring_save(const lik_ring *r, mw_blob_writer *w)
{
    mw_blob_put_u64(w, r->count);
    for (size_t i = r->count; i > 0; i--)
        mw_blob_put_f64(w, ring_back(r, i - 1));
}

/* Reads the values oldest first into an empty ring of the same cap. */
static void ring_load(lik_ring *r, mw_blob_reader *rd, const char *what)
{
    size_t count = mw_blob_get_count(rd, r->cap, what);
    r->count = r->head = 0;
    for (size_t i = 0; i < count && !rd->failed; i++) {
        double x = mw_blob_get_finite(rd, what);
        if (!rd->failed && (x > LIK_CLAMP || x < -LIK_CLAMP))
            mw_blob_fail(rd, "%s value out of range", what);
        ring_push(r, x);
    }
}

static void likelihood_save(const mw_detector *d, mw_blob_writer *w)
{
    const likelihood_state *s = d->state;
    mw_blob_put_u64(w, s->iteration);
    ring_save(&s->hist, w);
    ring_save(&s->avg, w);
    mw_blob_put_f64(w, s->fit.mean);
    mw_blob_put_f64(w, s->fit.stdev);
    mw_blob_put_f64(w, s->fit.total);
    mw_blob_put_f64(w, s->fit.last_raw);
}

static int likelihood_load(mw_detector *d, mw_blob_reader *r)
{
    likelihood_state *s = d->state;
    s->iteration = mw_blob_get_u64(r);
    ring_load(&s->hist, r, "history");
    ring_load(&s->avg, r, "averaging window");
    s->fit.avg_count = s->avg.count;
    s->fit.mean = mw_blob_get_finite(r, "mean");
    s->fit.stdev = mw_blob_get_finite(r, "stdev");
    s->fit.total = mw_blob_get_finite(r, "total");
    s->fit.last_raw = mw_blob_get_finite(r, "last likelihood");
    if (r->failed)
        return 1;
    uint64_t expected = s->iteration < s->hist.cap ? s->iteration : s->hist.cap;
    if (s->hist.count != expected)
        mw_blob_fail(r, "history of %zu scores after %llu", s->hist.count,
                     (unsigned long long)s->iteration);
    else if (s->iteration > s->probation && (s->avg.count == 0 || !(s->fit.stdev > 0.0)))
        mw_blob_fail(r, "no fitted distribution after the probation");
    return r->failed;
}

const mw_detector_type mw_detect_thresh_likelihood_type = {
    .name = "thresh.likelihood",
    .role = MW_ROLE_THRESHOLD,
    .summary = "Numenta's anomaly likelihood: tail probability of the averaged score",
    .params = likelihood_params,
    .n_params = sizeof likelihood_params / sizeof likelihood_params[0],
    .state_size = sizeof(likelihood_state),
    .init = likelihood_init,
    .destroy = likelihood_destroy,
    .reset = likelihood_reset,
    .update = likelihood_update,
    .score = likelihood_score,
    .run = likelihood_run,
    .save = likelihood_save,
    .load = likelihood_load,
};
