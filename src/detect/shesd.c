/*
 * shesd.c: seasonal hybrid ESD (Hochenbaum, Vallis and Kejariwal 2017,
 * Twitter's AnomalyDetection) over a sliding window.
 *
 * Score of x: x joins the last `window` values (the oldest leaves a full
 * window); each value is reduced to its residual, its value minus the
 * median of the window's values at the same phase (position in the
 * stream modulo `period`); the robust generalised ESD test (median and
 * MAD, at most max_anoms * n outliers, level alpha) runs on the n
 * residuals, and x scores as gesd.h describes: above 1 exactly when the
 * test declares x's residual an outlier. Until the window holds two
 * periods (x included), the score is 0. As in esd.c, the sample is the
 * window after learning x, and score() builds it without changing the
 * state.
 *
 * The decomposition. Twitter's S-H-ESD takes the seasonal component S
 * from STL (loess on each cycle-subseries, s.window = "periodic", which
 * makes S the per-phase mean of the detrended data, smoothed), and the
 * residual x - S - median(window): the median instead of STL's trend (the
 * "hybrid"), so that anomalies do not pull the trend. Here S is the
 * per-phase median minus the window's median, so the residual, x - S -
 * median, is x minus its phase's median. The differences: no detrending
 * before the per-phase step (a trend inside the window biases each phase
 * by its position; a window of a few periods keeps that small), and
 * medians where STL has loess means (robust to the anomalies themselves,
 * but noisier with few periods per window, and no smoothing across
 * neighbouring phases). Phases count values, not timestamps: a skipped
 * (NaN) value does not advance the phase, so gaps should be filled
 * beforehand when the season is tied to the clock.
 *
 * The batch test (d:test) runs the same decomposition and test once on a
 * whole series (shesd_test): phases by position, each phase's median
 * over the series.
 *
 * State: the window in arrival order (a ring), each phase's values
 * sorted, and all residuals sorted (the sample of the test). A new value
 * changes one phase (two when the window is not a multiple of the period:
 * the leaving value's phase loses one), so only those phases' medians and
 * residuals change: the update drops their old residuals from the sorted
 * residuals and inserts the new ones (O(window) in a few memory moves),
 * then runs the robust test (O(max_anoms * window) plus O(log window) a
 * scale, see gesd.h). Measured (release build): 0.48 us a value at period
 * 24 (window 96), 1.4 to 1.9 us at period 288 (window 1152). Memory: about 5
 * doubles a window value. Scratch buffers hold the next state; score()
 * writes only those.
 */
#include "detect/detect.h"
#include "detect/gesd.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

enum { P_PERIOD, P_WINDOW, P_MAX_ANOMS, P_ALPHA };

static const mw_param_spec shesd_params[] = {
    {"period", MW_PARAM_INT, 0, 0, 1e6, 0, NULL,
     "values per season (required, >= 2)"},
    {"window", MW_PARAM_INT, 0, 0, 1e8, 0, NULL,
     "values in the sliding window, at least 2 periods; 0: 4 periods"},
    {"max_anoms", MW_PARAM_FLOAT, 0.10, 0, 0.5, 1, NULL,
     "most outliers the test looks for, as a fraction of the window"},
    {"alpha", MW_PARAM_FLOAT, 0.05, 0, 0.5, 1, NULL, "significance level of the test"},
};

/* Scratch lists, each with room for two phases' values. */
enum { S_NEW_A, S_NEW_B, S_OLD_RES_A, S_OLD_RES_B, S_RES_A, S_RES_B, S_COUNT };

typedef struct shesd_state {
    size_t period;
    size_t cap;              /* window */
    size_t per_phase;        /* most values of one phase in the window */
    double max_anoms;
    double *ring;            /* the window in arrival order */
    size_t count, head;
    size_t next_phase;       /* phase of the next value */
    double *phase_values;    /* period rows of per_phase: each phase sorted */
    size_t *phase_count;
    double *resid;           /* the count residuals, sorted */
    double *resid_next;      /* scratch: the next ones */
    double *scratch[S_COUNT];
    mw_gesd gesd;
} shesd_state;

static size_t shesd_scratch_len(const shesd_state *s)
{
    return 2 * s->per_phase + 2;
}

static void shesd_destroy(mw_detector *d)
{
    shesd_state *s = d->state;
    mw_detector_dealloc(d, s->ring, s->cap * sizeof(double));
    mw_detector_dealloc(d, s->phase_values, s->period * s->per_phase * sizeof(double));
    mw_detector_dealloc(d, s->phase_count, s->period * sizeof(size_t));
    mw_detector_dealloc(d, s->resid, s->cap * sizeof(double));
    mw_detector_dealloc(d, s->resid_next, s->cap * sizeof(double));
    for (int i = 0; i < S_COUNT; i++)
        mw_detector_dealloc(d, s->scratch[i], shesd_scratch_len(s) * sizeof(double));
    mw_gesd_free(&s->gesd, d);
    s->ring = s->phase_values = s->resid = s->resid_next = NULL;
    s->phase_count = NULL;
    for (int i = 0; i < S_COUNT; i++)
        s->scratch[i] = NULL;
}

static mw_status shesd_init(mw_detector *d, char *err)
{
    shesd_state *s = d->state;
    s->period = (size_t)d->params[P_PERIOD];
    s->max_anoms = d->params[P_MAX_ANOMS];
    if (s->period < 2) {
        snprintf(err, MW_DETECT_ERRLEN,
                 "period is required: the number of values per season, at least 2 (got %zu)",
                 s->period);
        return MW_EINVAL;
    }
    size_t window = (size_t)d->params[P_WINDOW];
    if (window == 0)
        window = 4 * s->period;
    if (window < 2 * s->period) {
        snprintf(err, MW_DETECT_ERRLEN, "window (%zu) must hold at least 2 periods (%zu)",
                 window, 2 * s->period);
        return MW_EINVAL;
    }
    s->cap = window;
    s->per_phase = (window + s->period - 1) / s->period;
    int ok = (s->ring = mw_detector_alloc(d, s->cap * sizeof(double))) != NULL &&
             (s->phase_values =
                  mw_detector_alloc(d, s->period * s->per_phase * sizeof(double))) != NULL &&
             (s->phase_count = mw_detector_alloc(d, s->period * sizeof(size_t))) != NULL &&
             (s->resid = mw_detector_alloc(d, s->cap * sizeof(double))) != NULL &&
             (s->resid_next = mw_detector_alloc(d, s->cap * sizeof(double))) != NULL;
    for (int i = 0; ok && i < S_COUNT; i++)
        ok = (s->scratch[i] = mw_detector_alloc(d, shesd_scratch_len(s) * sizeof(double))) != NULL;
    mw_status status = ok ? mw_gesd_init(&s->gesd, d, s->cap, d->params[P_ALPHA]) : MW_ENOMEM;
    if (status != MW_OK) {
        shesd_destroy(d);
        return d->alloc->last_error != MW_OK ? d->alloc->last_error : status;
    }
    for (size_t q = 0; q < s->period; q++)
        s->phase_count[q] = 0;
    return MW_OK;
}

static void shesd_reset(mw_detector *d)
{
    shesd_state *s = d->state;
    s->count = 0;
    s->head = 0;
    s->next_phase = 0;
    for (size_t q = 0; q < s->period; q++)
        s->phase_count[q] = 0;
}

static double *shesd_phase(const shesd_state *s, size_t q)
{
    return s->phase_values + q * s->per_phase;
}

/* The median of n >= 1 ascending values (the mean of the middle two for
 * even n, as R's median). */
static double shesd_median(const double *a, size_t n)
{
    size_t mid = (n - 1) / 2;
    return n % 2 ? a[mid] : 0.5 * a[mid] + 0.5 * a[mid + 1];
}

/* res[i] = values[i] - median(values), ascending like values. */
static void shesd_residuals(const double *values, size_t n, double *res)
{
    if (n == 0)
        return;
    double med = shesd_median(values, n);
    for (size_t i = 0; i < n; i++)
        res[i] = values[i] - med;
}

/* Copies the ascending src to dst without the values of the ascending
 * list drop (a sub-multiset of src, a few values): the runs between the
 * dropped places are copied whole. Returns the count. */
static size_t shesd_drop(const double *src, size_t n, const double *drop, size_t n_drop,
                         double *dst)
{
    size_t from = 0, kept = 0;
    for (size_t i = 0; i < n_drop; i++) {
        /* The i-th of equal values to drop is the i-th equal one in src. */
        size_t at = mw_gesd_lower_bound(src + from, n - from, drop[i]) + from;
        memcpy(dst + kept, src + from, (at - from) * sizeof *src);
        kept += at - from;
        from = at + 1;
    }
    memcpy(dst + kept, src + from, (n - from) * sizeof *src);
    return kept + n - from;
}

/* Inserts the ascending add (a few values) into the ascending dst[0..n),
 * which has room for them, from the largest down: each moves the run
 * above its place up at once. */
static void shesd_insert(double *dst, size_t n, const double *add, size_t n_add)
{
    size_t end = n;
    for (size_t i = n_add; i > 0; i--) {
        size_t at = mw_gesd_lower_bound(dst, end, add[i - 1]);
        memmove(dst + at + i, dst + at, (end - at) * sizeof *dst);
        dst[at + i - 1] = add[i - 1];
        end = at;
    }
}

/* Copies the ascending src without one value equal to old. */
static size_t shesd_remove(const double *src, size_t n, double old, double *dst)
{
    size_t gone = mw_gesd_lower_bound(src, n, old);
    for (size_t i = 0; i < gone; i++)
        dst[i] = src[i];
    for (size_t i = gone + 1; i < n; i++)
        dst[i - 1] = src[i];
    return n - 1;
}

/* Builds the state after x in the scratch buffers and returns x's score;
 * commit: makes it the state. */
static double shesd_step(shesd_state *s, double x, int commit)
{
    double **sc = s->scratch;
    size_t q = s->next_phase;
    int full = s->count == s->cap;
    double old = full ? s->ring[s->head] : 0.0;
    size_t q_old = full ? (q + s->period - s->cap % s->period) % s->period : q;
    int two = full && q_old != q;

    /* The phases' values and residuals, before and after. */
    size_t n_old_a = s->phase_count[q];
    size_t n_a = mw_gesd_sorted_replace(shesd_phase(s, q), n_old_a, full && !two, old, x,
                                        sc[S_NEW_A]);
    shesd_residuals(shesd_phase(s, q), n_old_a, sc[S_OLD_RES_A]);
    shesd_residuals(sc[S_NEW_A], n_a, sc[S_RES_A]);
    double x_res = x - shesd_median(sc[S_NEW_A], n_a);
    size_t n_old_b = 0, n_b = 0;
    if (two) {
        n_old_b = s->phase_count[q_old];
        n_b = shesd_remove(shesd_phase(s, q_old), n_old_b, old, sc[S_NEW_B]);
        shesd_residuals(shesd_phase(s, q_old), n_old_b, sc[S_OLD_RES_B]);
        shesd_residuals(sc[S_NEW_B], n_b, sc[S_RES_B]);
    }

    /* The sample: the other phases' residuals, unchanged, and these. The
     * two phases' lists are merged first (in the first list's spare
     * room) so that each pass over the sample is one. */
    shesd_insert(sc[S_OLD_RES_A], n_old_a, sc[S_OLD_RES_B], n_old_b);
    shesd_insert(sc[S_RES_A], n_a, sc[S_RES_B], n_b);
    size_t kept = shesd_drop(s->resid, s->count, sc[S_OLD_RES_A], n_old_a + n_old_b,
                             s->resid_next);
    shesd_insert(s->resid_next, kept, sc[S_RES_A], n_a + n_b);
    size_t n = kept + n_a + n_b;
    double score = n < 2 * s->period
                       ? 0.0
                       : mw_gesd_score(&s->gesd, s->resid_next, n, x_res,
                                       mw_gesd_steps(n, s->max_anoms), 1);
    if (!commit)
        return score;

    double *values = shesd_phase(s, q);
    for (size_t i = 0; i < n_a; i++)
        values[i] = sc[S_NEW_A][i];
    s->phase_count[q] = n_a;
    if (two) {
        values = shesd_phase(s, q_old);
        for (size_t i = 0; i < n_b; i++)
            values[i] = sc[S_NEW_B][i];
        s->phase_count[q_old] = n_b;
    }
    double *swap = s->resid;
    s->resid = s->resid_next;
    s->resid_next = swap;
    s->ring[s->head] = x;
    if (++s->head == s->cap)
        s->head = 0;
    if (s->count < s->cap)
        s->count++;
    if (++s->next_phase == s->period)
        s->next_phase = 0;
    return score;
}

static double shesd_update(mw_detector *d, double x, double t)
{
    (void)t;
    return shesd_step(d->state, x + 0.0, 1);
}

static double shesd_score(const mw_detector *d, double x, double t)
{
    (void)t;
    return shesd_step(d->state, x + 0.0, 0);
}

static void shesd_run(mw_detector *d, const double *x, const double *t, size_t n, double *out)
{
    (void)t;
    shesd_state *s = d->state;
    for (size_t i = 0; i < n; i++)
        out[i] = x[i] - x[i] == 0.0 ? shesd_step(s, x[i] + 0.0, 1) : NAN;
}

/* The batch test: S-H-ESD once on the whole series. Phase of x[i]: i
 * modulo period, its position (a non-finite value keeps its place, so
 * the season stays aligned across a gap; unlike the stream, where a
 * skipped value does not advance the phase). Residual: x[i] minus the
 * median of the finite values of its phase over the whole series, as
 * shesd_step does over its window; then the robust generalised ESD
 * test on all the residuals, each scored as gesd.h says. Fewer than 4
 * finite values: every score 0. Cost O(n log n). */
static mw_status shesd_test(const mw_detector *d, const double *x, size_t n, double *out,
                            char *err)
{
    size_t period = (size_t)d->params[P_PERIOD];
    if (n < 2 * period) {
        snprintf(err, MW_DETECT_ERRLEN,
                 "the series (%zu values) must hold at least 2 periods (%zu values)", n,
                 2 * period);
        return MW_EINVAL;
    }
    size_t finite = 0;
    for (size_t i = 0; i < n; i++)
        finite += x[i] - x[i] == 0.0;
    if (finite < 4) {
        for (size_t i = 0; i < n; i++)
            out[i] = x[i] - x[i] == 0.0 ? 0.0 : NAN;
        return MW_OK;
    }
    /* One block: each phase's values (grouped, then sorted), the sorted
     * residuals, each position's residual, the phases' medians. */
    size_t bytes = (2 * finite + n + period) * sizeof(double);
    double *block = mw_detector_scratch(d, bytes);
    if (block == NULL)
        return mw_detector_scratch_status(d);
    double *grouped = block, *sorted = block + finite, *resid = sorted + finite;
    double *median = resid + n;
    size_t used = 0;
    for (size_t q = 0; q < period; q++) {
        size_t from = used;
        for (size_t i = q; i < n; i += period)
            if (x[i] - x[i] == 0.0)
                grouped[used++] = x[i] + 0.0;
        mw_gesd_sort(grouped + from, used - from);
        median[q] = used > from ? shesd_median(grouped + from, used - from) : NAN;
        shesd_residuals(grouped + from, used - from, sorted + from);
    }
    mw_gesd_sort(sorted, finite);
    for (size_t i = 0; i < n; i++)
        resid[i] = x[i] - x[i] == 0.0 ? (x[i] + 0.0) - median[i % period] : NAN;
    mw_status status = mw_gesd_score_batch(d->alloc, d->params[P_ALPHA], sorted, finite,
                                           mw_gesd_steps(finite, d->params[P_MAX_ANOMS]), 1,
                                           resid, n, out);
    mw_detector_scratch_free(d, block, bytes);
    return status;
}

/* The phase of the next value, then the window oldest first. */
static void shesd_save(const mw_detector *d, mw_blob_writer *w)
{
    const shesd_state *s = d->state;
    mw_blob_put_u64(w, s->next_phase);
    mw_blob_put_u64(w, s->count);
    size_t oldest = s->count == s->cap ? s->head : 0;
    mw_blob_put_f64s(w, s->ring + oldest, s->count - oldest);
    mw_blob_put_f64s(w, s->ring, oldest);
}

/* Rebuilds the phases and the residuals from the window: the sorted
 * residuals are one sequence whatever order they were merged in. */
static int shesd_load(mw_detector *d, mw_blob_reader *r)
{
    shesd_state *s = d->state;
    size_t next_phase = mw_blob_get_count(r, s->period - 1, "phase");
    size_t count = mw_blob_get_count(r, s->cap, "window count");
    mw_blob_get_f64s(r, s->ring, r->failed ? 0 : count);
    for (size_t i = 0; !r->failed && i < count; i++) {
        if (!(s->ring[i] - s->ring[i] == 0.0))
            mw_blob_fail(r, "window value %zu is not finite", i);
        s->ring[i] += 0.0;
    }
    /* A window that is not full started at phase 0. */
    if (!r->failed && count < s->cap && next_phase != count % s->period)
        mw_blob_fail(r, "phase %zu does not follow %zu values", next_phase, count);
    if (r->failed) {
        shesd_reset(d);
        return 1;
    }
    s->next_phase = next_phase;
    s->count = count;
    s->head = count == s->cap ? 0 : count;
    size_t q = (next_phase + s->period - count % s->period) % s->period;
    for (size_t i = 0; i < count; i++) {
        shesd_phase(s, q)[s->phase_count[q]++] = s->ring[i];
        if (++q == s->period)
            q = 0;
    }
    size_t n = 0;
    for (q = 0; q < s->period; q++) {
        mw_gesd_sort(shesd_phase(s, q), s->phase_count[q]);
        shesd_residuals(shesd_phase(s, q), s->phase_count[q], s->resid + n);
        n += s->phase_count[q];
    }
    mw_gesd_sort(s->resid, n);
    return 0;
}

const mw_detector_type mw_detect_shesd_type = {
    .name = "shesd",
    .role = MW_ROLE_DETECTOR,
    .summary = "seasonal hybrid ESD (Twitter) over a sliding window; > 1: an outlier at level alpha",
    .params = shesd_params,
    .n_params = sizeof shesd_params / sizeof shesd_params[0],
    .state_size = sizeof(shesd_state),
    .init = shesd_init,
    .destroy = shesd_destroy,
    .reset = shesd_reset,
    .update = shesd_update,
    .score = shesd_score,
    .run = shesd_run,
    .save = shesd_save,
    .load = shesd_load,
    .test = shesd_test,
};
