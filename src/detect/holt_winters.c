/*
 * holt_winters.c: additive Holt-Winters forecasting (level, trend and a
 * seasonal component of `period` values), scored by the one-step error.
 *
 * Score of x: |x - forecast| / scale (folded by `side`), where forecast =
 * level + trend + season[phase] comes from the values before x, and scale
 * is the root of an exponentially weighted mean of the squared one-step
 * errors before x (weight scale_alpha on the newest), floored as
 * mw_detect_standard_score floors it (1e-9 * |forecast|, at least 1e-12;
 * a constant series scores 0). Then x is learned, in statsmodels'
 * ExponentialSmoothing(trend="add", seasonal="add") form (Hyndman and
 * Athanasopoulos, 7.3), with base = level + trend before x:
 *
 *   level'  = alpha (x - season[phase]) + (1 - alpha) base
 *   trend'  = beta (level' - level) + (1 - beta) trend
 *   season' = gamma (x - base) + (1 - gamma) season[phase]
 *   scale^2 = (1 - scale_alpha) scale^2 + scale_alpha (x - forecast)^2
 *
 * Defaults alpha 0.1, beta 0.0035, gamma 0.1 are RRDtool's (Brutlag 2000,
 * the Holt-Winters aberrant-behaviour detector of network monitoring:
 * its documented example, and gamma = alpha by default). statsmodels has
 * no defaults (it fits them, a batch job), and for anomaly detection slow
 * smoothing is the point: a forecast that chases the last values learns
 * the anomalies and forecasts noise. On mw.synth spikes of 4 noise
 * deviations at period 24 (or 288), these defaults rank 0.88 (0.84) of
 * them above the 99th percentile of the other scores; alpha 0.5, beta
 * 0.05, gamma 0.1 only 0.73 (0.70).
 *
 * Warm-up (score 0): with period m >= 2, the first 2m values; with
 * period 0 (find it) or 1 (no season), the first detect_len values. Then
 * the classic initialisation (statsmodels' "simple", Hyndman and
 * Athanasopoulos 7.6): level = mean of the first block, trend = (mean of
 * the second block - level) / block, season = first period - level, with
 * block = m (block = detect_len / 2 without a season); the recursion then
 * runs over all the warm-up values (so the live forecasts are
 * statsmodels' fitted values with that initialisation, to rounding), and
 * scale^2 starts as the mean squared error of that pass after the first
 * block (whose errors the initialisation makes artificially small).
 *
 * Finding the period (period 0), on the detect_len warm-up values, with
 * threshold = acf_threshold:
 *   1. remove the least-squares line (a trend would make every lag look
 *      correlated); nothing left but rounding: no season;
 *   2. autocorrelation r(k), k = 1 .. max_period + 1, adjusted estimator
 *      (statsmodels' acf(adjusted=True): the mean product at each lag,
 *      so the peaks at multiples of a period are as high as the first);
 *   3. clear peaks: a hill opens where r reaches the threshold having
 *      risen by the threshold above its lowest since the last hill (so
 *      the slow decay of an AR(1) process or a trend is none), and
 *      closes when r falls the threshold below the hill's highest lag,
 *      its top (so the wiggles of a noisy top are not peaks). The first
 *      clear peak within 90% of the highest is taken, the first of its
 *      multiples; a top at max_period + 1 may belong to a longer period
 *      and does not count. No clear peak: no season;
 *   4. refinement: the autocorrelation's top is a few lags off in noisy
 *      data (at period 288 in noise 0.3, r moves by 2e-4 a lag), and the
 *      second multiple can top the first: among the periods within 10%
 *      of the peak, or of the peak / j (j = 2 .. 10), take the one
 *      whose seasonal profile (per-phase means) explains the most
 *      variance, corrected for its p - 1 free values (between - (p - 1)
 *      within / (n - p)), preferring the shortest j within 90% of the
 *      best;
 *   5. that profile must explain the threshold's share of the variance,
 *      else no season (a random walk's swings make hills, but folding at
 *      their spacing explains nothing).
 * No season: period 1 (Holt's linear method). Cost: O(detect_len *
 * max_period) once, at the end of the warm-up (max_period is at most
 * 2e4 for that reason). The warm-up buffer is saved with the state until
 * the model starts, then the period found is.
 *
 * Phases count values, not timestamps: a skipped (NaN) value does not
 * advance the season.
 *
 * Cost: O(1) a value (25 ns measured, release build); memory: the
 * warm-up buffer and the seasonal values (and max_period + 2 doubles of
 * autocorrelation for period 0).
 */
#include "detect/detect.h"

#include <math.h>
#include <stdio.h>

enum {
    P_PERIOD, P_ALPHA, P_BETA, P_GAMMA, P_SCALE_ALPHA, P_SIDE, P_MAX_PERIOD, P_DETECT_LEN,
    P_ACF_THRESHOLD
};

static const mw_param_spec hw_params[] = {
    {"period", MW_PARAM_INT, 0, 0, 1e6, 0, NULL,
     "values per season; 0: find it from the warm-up values; 1: no season"},
    {"alpha", MW_PARAM_FLOAT, 0.1, 0, 1, 1, NULL, "level smoothing, in (0, 1]"},
    {"beta", MW_PARAM_FLOAT, 0.0035, 0, 1, 0, NULL, "trend smoothing, in [0, 1]"},
    {"gamma", MW_PARAM_FLOAT, 0.1, 0, 1, 0, NULL, "seasonal smoothing, in [0, 1]"},
    {"scale_alpha", MW_PARAM_FLOAT, 0.02, 0, 1, 1, NULL,
     "weight of the newest squared error in the scale, in (0, 1]"},
    {"side", MW_PARAM_CHOICE, MW_SIDE_BOTH, 0, 0, 0, mw_detect_side_choices,
     "deviations that count: both, up (above the forecast), down"},
    {"max_period", MW_PARAM_INT, 500, 2, 2e4, 0, NULL, "longest period looked for (period 0)"},
    {"detect_len", MW_PARAM_INT, 2000, 2, 1e8, 0, NULL,
     "warm-up values for period 0 or 1 (at least 2 * max_period + 2 for 0)"},
    {"acf_threshold", MW_PARAM_FLOAT, 0.2, 0, 1, 1, NULL,
     "autocorrelation a seasonal peak must reach, and rise by (period 0)"},
};

/* A period is the first clear peak at least this share of the highest. */
#define HW_PEAK_SHARE 0.9
/* The refinement looks at the period found and its fractions down to
 * 1 / HW_MAX_FRACTION (a noisy first peak loses to a later multiple, not
 * to the tenth). */
#define HW_MAX_FRACTION 10
/* Data whose least-squares line leaves less than this share of their
 * variance have no season to find (the rest is rounding). */
#define HW_LINE_ONLY 1e-12

typedef struct hw_state {
    /* parameters */
    size_t period_param;
    size_t max_period;
    size_t warmup;           /* values buffered before the model starts */
    double alpha, beta, gamma, scale_alpha, acf_threshold;
    int side;
    /* memory, owned */
    double *buffer;          /* warmup values */
    double *season;          /* season_cap values */
    size_t season_cap;
    double *acf;             /* max_period + 2 values (period 0 only) */
    /* state */
    int running;             /* the model has started */
    size_t count;            /* values buffered, while warming up */
    size_t period;           /* m; 1: no seasonal component */
    size_t phase;            /* season index of the next value */
    double level, trend;
    double msq;              /* weighted mean of squared one-step errors */
} hw_state;

static void hw_destroy(mw_detector *d)
{
    hw_state *h = d->state;
    mw_detector_dealloc(d, h->buffer, h->warmup * sizeof(double));
    mw_detector_dealloc(d, h->season, h->season_cap * sizeof(double));
    mw_detector_dealloc(d, h->acf, (h->max_period + 2) * sizeof(double));
    h->buffer = h->season = h->acf = NULL;
}

static mw_status hw_init(mw_detector *d, char *err)
{
    hw_state *h = d->state;
    h->period_param = (size_t)d->params[P_PERIOD];
    h->alpha = d->params[P_ALPHA];
    h->beta = d->params[P_BETA];
    h->gamma = d->params[P_GAMMA];
    h->scale_alpha = d->params[P_SCALE_ALPHA];
    h->side = (int)d->params[P_SIDE];
    h->max_period = (size_t)d->params[P_MAX_PERIOD];
    h->acf_threshold = d->params[P_ACF_THRESHOLD];
    size_t detect_len = (size_t)d->params[P_DETECT_LEN];
    if (h->period_param == 0 && detect_len < 2 * h->max_period + 2) {
        snprintf(err, MW_DETECT_ERRLEN,
                 "detect_len (%zu) must be at least 2 * max_period + 2 (%zu) to find a period",
                 detect_len, 2 * h->max_period + 2);
        return MW_EINVAL;
    }
    h->warmup = h->period_param >= 2 ? 2 * h->period_param : detect_len;
    h->season_cap = h->period_param >= 2 ? h->period_param
                    : h->period_param == 0 ? h->max_period
                                           : 0;
    int ok = (h->buffer = mw_detector_alloc(d, h->warmup * sizeof(double))) != NULL;
    if (ok && h->season_cap > 0)
        ok = (h->season = mw_detector_alloc(d, h->season_cap * sizeof(double))) != NULL;
    if (ok && h->period_param == 0)
        ok = (h->acf = mw_detector_alloc(d, (h->max_period + 2) * sizeof(double))) != NULL;
    if (!ok) {
        hw_destroy(d);
        return d->alloc->last_error != MW_OK ? d->alloc->last_error : MW_ENOMEM;
    }
    h->period = 1;
    return MW_OK;
}

static void hw_reset(mw_detector *d)
{
    hw_state *h = d->state;
    h->running = 0;
    h->count = 0;
    h->period = 1;
    h->phase = 0;
    h->level = h->trend = h->msq = 0.0;
}

/* ---- the period ----------------------------------------------------- */

/* y minus its least-squares line. */
typedef struct hw_line {
    const double *y;
    double y_mean, t_mean, slope;
} hw_line;

static inline double hw_detrended(const hw_line *line, size_t t)
{
    return line->y[t] - line->y_mean - line->slope * ((double)t - line->t_mean);
}

/* The first clear peak of the autocorrelation (see the top of the file),
 * or 1; acf has room for max_period + 2 values, c0 is the sum of squares
 * of the detrended values and n > 2 * max_period. */
static size_t hw_acf_peak(const hw_line *line, size_t n, double c0, size_t max_period,
                          double threshold, double *acf)
{
    /* Adjusted estimator (statsmodels' acf(adjusted=True)): each lag's
     * mean product, so that the peaks at multiples of the period are as
     * high as the first and the top of each is not pulled to shorter
     * lags by the (n - k) / n factor of the plain one. */
    for (size_t k = 1; k <= max_period + 1; k++) {
        double ck = 0.0;
        for (size_t t = 0; t + k < n; t++)
            ck += hw_detrended(line, t) * hw_detrended(line, t + k);
        acf[k] = ck / (double)(n - k) / (c0 / (double)n);
    }
    /* Hills: one opens where r has risen to the threshold and by the
     * threshold above its lowest since the last hill, and closes once r
     * falls the threshold below the hill's top; its top is its highest
     * lag, so the wiggles of a noisy top are not peaks of their own. The
     * first pass finds the highest top, the second the first top within
     * HW_PEAK_SHARE of it. */
    double highest = -INFINITY;
    for (int pass = 0; pass < 2; pass++) {
        double lowest = acf[1];
        size_t top = 0;
        for (size_t k = 2; k <= max_period + 1; k++) {
            if (top == 0) {
                if (acf[k] < lowest)
                    lowest = acf[k];
                if (acf[k] >= threshold && acf[k] - lowest >= threshold)
                    top = k;
                continue;
            }
            if (acf[k] > acf[top])
                top = k;
            if (acf[top] - acf[k] < threshold && k <= max_period)
                continue;
            /* A top at max_period + 1 may belong to a longer period. */
            if (top <= max_period) {
                if (pass == 0 && acf[top] > highest)
                    highest = acf[top];
                if (pass == 1 && acf[top] >= HW_PEAK_SHARE * highest)
                    return top;
            }
            lowest = acf[k];
            top = 0;
        }
        if (highest == -INFINITY)
            return 1;
    }
    return 1; /* not reached: the highest top qualifies */
}

/* How much of the variance the seasonal profile of period p (the
 * per-phase means of the detrended values) explains, corrected for the
 * profile's p - 1 free values: between - (p - 1) * within / (n - p), an
 * unbiased estimate of the profile's own share (so that no period wins by
 * fitting noise with more phases). sums holds p values. */
static double hw_explained(const hw_line *line, size_t n, double c0, size_t p, double *sums)
{
    for (size_t j = 0; j < p; j++)
        sums[j] = 0.0;
    for (size_t t = 0, j = 0; t < n; t++) {
        sums[j] += hw_detrended(line, t);
        if (++j == p)
            j = 0;
    }
    double between = 0.0;
    for (size_t j = 0; j < p; j++) {
        double count = (double)((n - 1 - j) / p + 1);
        between += sums[j] * sums[j] / count;
    }
    return between - (double)(p - 1) * (c0 - between) / (double)(n - p);
}

/* The period that explains the most (hw_explained) within 10% of guess,
 * or within 10% of guess / j for the largest j = 2 .. HW_MAX_FRACTION
 * whose best explains HW_PEAK_SHARE of that: the autocorrelation's top
 * can be a few lags off (its estimate is noisy across neighbouring lags,
 * while the profile uses every period of the data at once), and in noisy
 * data a multiple of the period can top the period itself, while
 * explaining no more. *explained receives what the period chosen
 * explains. sums holds max_period + 1 values. */
static size_t hw_refine_period(const hw_line *line, size_t n, double c0, size_t guess,
                               size_t max_period, double *sums, double *explained)
{
    double best[HW_MAX_FRACTION + 1];
    size_t best_period[HW_MAX_FRACTION + 1];
    double overall = -INFINITY;
    size_t fractions = 0;
    for (size_t j = 1; j <= HW_MAX_FRACTION && guess / j >= 2; j++) {
        size_t centre = (guess + j / 2) / j;
        size_t lo = centre - centre / 10, hi = centre + centre / 10;
        if (lo < 2)
            lo = 2;
        if (hi > max_period)
            hi = max_period;
        best[j] = -INFINITY;
        best_period[j] = centre;
        for (size_t p = lo; p <= hi; p++) {
            double share = hw_explained(line, n, c0, p, sums);
            if (share > best[j]) {
                best[j] = share;
                best_period[j] = p;
            }
        }
        if (best[j] > overall)
            overall = best[j];
        fractions = j;
    }
    for (size_t j = fractions; j >= 1; j--) {
        if (best[j] >= HW_PEAK_SHARE * overall) {
            *explained = best[j];
            return best_period[j];
        }
    }
    *explained = best[1];
    return best_period[1]; /* not reached: the best qualifies */
}

/* The period of y[0..n) (see the top of the file); acf has room for
 * max_period + 2 values and n > 2 * max_period. */
static size_t hw_find_period(const double *y, size_t n, size_t max_period, double threshold,
                             double *acf)
{
    /* Least-squares line through (t, y_t): slope = sum (t - tc)(y - yc)
     * / sum (t - tc)^2, tc = (n - 1) / 2. */
    hw_line line = {y, 0.0, 0.5 * (double)(n - 1), 0.0};
    double sum = 0.0;
    for (size_t t = 0; t < n; t++)
        sum += y[t];
    line.y_mean = sum / (double)n;
    double cross = 0.0, spread = 0.0;
    for (size_t t = 0; t < n; t++) {
        double dt = (double)t - line.t_mean;
        cross += dt * (y[t] - line.y_mean);
        spread += dt * dt;
    }
    line.slope = cross / spread;
    double c0 = 0.0, total = 0.0;
    for (size_t t = 0; t < n; t++) {
        c0 += hw_detrended(&line, t) * hw_detrended(&line, t);
        total += (y[t] - line.y_mean) * (y[t] - line.y_mean);
    }
    /* Nothing but a line (or a constant): what is left is rounding. */
    if (!(c0 > HW_LINE_ONLY * total))
        return 1;
    size_t peak = hw_acf_peak(&line, n, c0, max_period, threshold, acf);
    if (peak < 2)
        return 1;
    /* The season must also explain the threshold's share of the
     * variance: the swings of a random walk give its autocorrelation
     * hills, but a profile folded at their spacing explains nothing. */
    double explained = 0.0;
    size_t period = hw_refine_period(&line, n, c0, peak, max_period, acf, &explained);
    return explained >= threshold * c0 ? period : 1;
}

/* ---- the model ------------------------------------------------------ */

static inline double hw_forecast(const hw_state *h)
{
    return h->level + h->trend + (h->period > 1 ? h->season[h->phase] : 0.0);
}

static inline void hw_learn(hw_state *h, double x)
{
    double season = h->period > 1 ? h->season[h->phase] : 0.0;
    double base = h->level + h->trend;
    double level = h->alpha * (x - season) + (1.0 - h->alpha) * base;
    h->trend = h->beta * (level - h->level) + (1.0 - h->beta) * h->trend;
    h->level = level;
    if (h->period > 1) {
        h->season[h->phase] = h->gamma * (x - base) + (1.0 - h->gamma) * season;
        if (++h->phase == h->period)
            h->phase = 0;
    }
}

static double hw_mean(const double *x, size_t n)
{
    double sum = 0.0;
    for (size_t i = 0; i < n; i++)
        sum += x[i];
    return sum / (double)n;
}

/* Starts the model from the full warm-up buffer. */
static void hw_start(hw_state *h)
{
    size_t n = h->warmup;
    if (h->period_param >= 2)
        h->period = h->period_param;
    else if (h->period_param == 0)
        h->period = hw_find_period(h->buffer, n, h->max_period, h->acf_threshold, h->acf);
    else
        h->period = 1;
    size_t block = h->period > 1 ? h->period : n / 2;
    double first = hw_mean(h->buffer, block);
    h->level = first;
    h->trend = (hw_mean(h->buffer + block, block) - first) / (double)block;
    for (size_t i = 0; h->period > 1 && i < h->period; i++)
        h->season[i] = h->buffer[i] - first;
    h->phase = 0;
    double squares = 0.0;
    for (size_t t = 0; t < n; t++) {
        double error = h->buffer[t] - hw_forecast(h);
        if (t >= block)
            squares += error * error;
        hw_learn(h, h->buffer[t]);
    }
    h->msq = squares / (double)(n - block);
    h->running = 1;
}

static inline double hw_score_of(const hw_state *h, double x)
{
    if (!h->running)
        return 0.0;
    double forecast = hw_forecast(h);
    return mw_detect_standard_score(x - forecast, sqrt(h->msq), forecast, h->side);
}

static inline double hw_step(hw_state *h, double x)
{
    if (!h->running) {
        h->buffer[h->count++] = x;
        if (h->count == h->warmup)
            hw_start(h);
        return 0.0;
    }
    double forecast = hw_forecast(h);
    double error = x - forecast;
    double score = mw_detect_standard_score(error, sqrt(h->msq), forecast, h->side);
    hw_learn(h, x);
    h->msq = (1.0 - h->scale_alpha) * h->msq + h->scale_alpha * error * error;
    return score;
}

static double hw_update(mw_detector *d, double x, double t)
{
    (void)t;
    return hw_step(d->state, x);
}

static double hw_score(const mw_detector *d, double x, double t)
{
    (void)t;
    return hw_score_of(d->state, x);
}

static void hw_run(mw_detector *d, const double *x, const double *t, size_t n, double *out)
{
    (void)t;
    hw_state *h = d->state;
    for (size_t i = 0; i < n; i++)
        out[i] = x[i] - x[i] == 0.0 ? hw_step(h, x[i]) : NAN;
}

/* u8 running; warming up: u64 count, the values; running: u64 period,
 * u64 phase, f64 level, trend, msq, the season (period > 1). */
static void hw_save(const mw_detector *d, mw_blob_writer *w)
{
    const hw_state *h = d->state;
    mw_blob_put_u8(w, (uint8_t)h->running);
    if (!h->running) {
        mw_blob_put_u64(w, h->count);
        mw_blob_put_f64s(w, h->buffer, h->count);
        return;
    }
    mw_blob_put_u64(w, h->period);
    mw_blob_put_u64(w, h->phase);
    mw_blob_put_f64(w, h->level);
    mw_blob_put_f64(w, h->trend);
    mw_blob_put_f64(w, h->msq);
    if (h->period > 1)
        mw_blob_put_f64s(w, h->season, h->period);
}

static int hw_load(mw_detector *d, mw_blob_reader *r)
{
    hw_state *h = d->state;
    unsigned running = mw_blob_get_u8(r);
    if (!r->failed && running > 1)
        mw_blob_fail(r, "bad running flag %u", running);
    if (!r->failed && !running) {
        size_t count = mw_blob_get_count(r, h->warmup - 1, "warm-up count");
        mw_blob_get_f64s(r, h->buffer, r->failed ? 0 : count);
        for (size_t i = 0; !r->failed && i < count; i++)
            if (!(h->buffer[i] - h->buffer[i] == 0.0))
                mw_blob_fail(r, "warm-up value %zu is not finite", i);
        h->count = count;
    } else if (!r->failed) {
        size_t most = h->period_param == 0 ? h->max_period : h->period_param;
        size_t period = mw_blob_get_count(r, most < 1 ? 1 : most, "period");
        if (!r->failed && (period == 0 || (h->period_param >= 1 && period != h->period_param)))
            mw_blob_fail(r, "period %zu does not match the parameter %zu", period,
                         h->period_param);
        size_t phase = mw_blob_get_count(r, period > 0 ? period - 1 : 0, "phase");
        /* Running figures, loaded as they were: extreme input (values
         * 1e300 apart) overflows them to infinities or NaN, and a state
         * saved then must load and continue alike (blob.h). No index
         * or size depends on them. */
        h->level = mw_blob_get_f64(r);
        h->trend = mw_blob_get_f64(r);
        h->msq = mw_blob_get_f64(r);
        if (!r->failed && h->msq < 0.0)
            mw_blob_fail(r, "negative scale");
        if (!r->failed && period > 1)
            mw_blob_get_f64s(r, h->season, period);
        h->period = period;
        h->phase = phase;
        h->running = 1;
    }
    if (r->failed)
        hw_reset(d);
    return r->failed;
}

const mw_detector_type mw_detect_holt_winters_type = {
    .name = "holt_winters",
    .role = MW_ROLE_DETECTOR,
    .summary = "|x - forecast| / scale with an additive Holt-Winters forecast",
    .params = hw_params,
    .n_params = sizeof hw_params / sizeof hw_params[0],
    .state_size = sizeof(hw_state),
    .init = hw_init,
    .destroy = hw_destroy,
    .reset = hw_reset,
    .update = hw_update,
    .score = hw_score,
    .run = hw_run,
    .save = hw_save,
    .load = hw_load,
};
