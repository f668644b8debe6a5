/*
 * hbos.c: Histogram-Based Outlier Score (Goldstein and Dengel, "HBOS: a
 * fast unsupervised anomaly detection algorithm", KI-2012 poster and
 * demo track), a multivariate kind: it scores rows.
 *
 * One histogram per feature, `bins` bins of equal width over the
 * feature's [min, max]; heights normalised so that the fullest bin of
 * each histogram is 1 (the paper's normalisation). With count_k(x) the
 * rows in x's bin of feature k and peak_k the fullest bin's count:
 *
 *   HBOS(x) = sum_k log(1 / hist_k(x_k)) = sum_k log(peak_k / count_k(x_k))
 *
 * An empty bin, or a value outside [min, max], counts as half a row, so
 * the score stays finite. Features are treated as independent: the
 * score is fast and blind to anomalies that only a combination shows.
 *
 * Streaming, in bounded memory: the first `window` rows are buffered
 * (scored 0) and set the ranges; from then on the bins are fixed and
 * each row is scored, then counted (online = true) or not (false: the
 * histograms stay as the window or a fit left them). d:fit(rows) sets
 * the ranges and counts from all its rows at once. Memory: dims (8 bins
 * + 32) bytes for the histograms plus 8 window dims for the buffer.
 */
#include "detect/detect.h"
#include "detect/hist.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

enum { P_BINS, P_WINDOW, P_ONLINE };

static const mw_param_spec hbos_params[] = {
    {"bins", MW_PARAM_INT, 10, 1, 100000, 0, NULL, "bins per feature, of equal width"},
    {"window", MW_PARAM_INT, 256, 1, 1e7, 0, NULL,
     "rows whose range sets the bins of a stream (scored 0 meanwhile)"},
    {"online", MW_PARAM_BOOL, 1, 0, 1, 0, NULL,
     "keep counting the rows learned once the bins are set (false: frozen)"},
};

typedef struct hbos_state {
    size_t bins, window;
    int online;
    mw_hist hist;            /* one per feature (set_dims) */
    mw_hist_warmup warm;     /* the first window's rows */
} hbos_state;

static mw_status hbos_init(mw_detector *d, char *err)
{
    (void)err;
    hbos_state *h = d->state;
    h->bins = (size_t)d->params[P_BINS];
    h->window = (size_t)d->params[P_WINDOW];
    h->online = d->params[P_ONLINE] != 0.0;
    return MW_OK;
}

static void hbos_destroy(mw_detector *d)
{
    hbos_state *h = d->state;
    if (h->warm.rows != NULL) {
        mw_hist_free(&h->hist, d);
        mw_hist_warmup_free(&h->warm, d);
    }
}

static mw_status hbos_set_dims(mw_detector *d, char *err)
{
    (void)err;
    hbos_state *h = d->state;
    mw_status status = mw_hist_init(&h->hist, d, d->dims, h->bins);
    if (status != MW_OK)
        return status;
    status = mw_hist_warmup_init(&h->warm, d, h->window);
    if (status != MW_OK)
        mw_hist_free(&h->hist, d);
    return status;
}

static void hbos_reset(mw_detector *d)
{
    hbos_state *h = d->state;
    h->warm.count = 0;
    h->warm.ready = 0;
    if (h->warm.rows != NULL)
        mw_hist_clear(&h->hist);
}

static inline double hbos_score_of(const hbos_state *h, const double *row)
{
    if (!h->warm.ready)
        return 0.0;
    double score = 0.0;
    for (size_t k = 0; k < h->hist.m; k++)
        score += log((double)h->hist.peak[k] / mw_hist_count(&h->hist, k, row[k]));
    return score;
}

static inline void hbos_count(hbos_state *h, const double *row)
{
    for (size_t k = 0; k < h->hist.m; k++)
        mw_hist_add(&h->hist, k, row[k]);
    h->hist.rows++;
}

/* Sets the ranges from the finite rows among n (at least one) and counts
 * them. */
static void hbos_build(hbos_state *h, const double *rows, size_t n)
{
    size_t dims = h->hist.m;
    mw_hist_clear(&h->hist);
    for (size_t k = 0; k < dims; k++) {
        double lo = INFINITY, hi = -INFINITY;
        for (size_t i = 0; i < n; i++) {
            double x = rows[i * dims + k];
            if (x - x != 0.0)
                continue;
            lo = x < lo ? x : lo;
            hi = x > hi ? x : hi;
        }
        mw_hist_set_range(&h->hist, k, lo, hi);
    }
    for (size_t i = 0; i < n; i++) {
        double acc = 0.0;
        for (size_t k = 0; k < dims; k++)
            acc += rows[i * dims + k] - rows[i * dims + k];
        if (acc == 0.0)
            hbos_count(h, rows + i * dims);
    }
    h->warm.ready = 1;
}

static double hbos_update_row(mw_detector *d, const double *row, double t)
{
    (void)t;
    hbos_state *h = d->state;
    if (h->warm.ready) {
        double score = hbos_score_of(h, row);
        if (h->online)
            hbos_count(h, row);
        return score;
    }
    if (mw_hist_warmup_add(&h->warm, row))
        hbos_build(h, h->warm.rows, h->window);
    return 0.0;
}

static double hbos_score_row(const mw_detector *d, const double *row, double t)
{
    (void)t;
    return hbos_score_of(d->state, row);
}

static mw_status hbos_fit(mw_detector *d, const double *rows, size_t n, char *err)
{
    /* The framework left out rows with a NaN or an infinity, and counts
     * the rest as learned. */
    if (n == 0) {
        snprintf(err, MW_DETECT_ERRLEN, "hbos needs at least 1 row to fit (got 0)");
        return MW_EINVAL;
    }
    hbos_build(d->state, rows, n);
    return MW_OK;
}

/* State: u8 ready; then the buffered rows (u64 count, the values) or the
 * histograms. */
static void hbos_save(const mw_detector *d, mw_blob_writer *w)
{
    const hbos_state *h = d->state;
    mw_hist_warmup_save(&h->warm, w);
    if (h->warm.ready)
        mw_hist_save(&h->hist, w);
}

static int hbos_load(mw_detector *d, mw_blob_reader *r)
{
    hbos_state *h = d->state;
    int ready = mw_hist_warmup_load(&h->warm, r);
    if (ready <= 0)
        return ready < 0;
    mw_hist_load(&h->hist, r);
    for (size_t k = 0; k < h->hist.m && !r->failed; k++)
        if (h->hist.peak[k] == 0)
            mw_blob_fail(r, "empty histogram");
    h->warm.ready = !r->failed;
    return r->failed;
}

const mw_detector_type mw_detect_hbos_type = {
    .name = "hbos",
    .role = MW_ROLE_DETECTOR,
    .summary = "histogram-based outlier score: sum over features of log(1 / bin height)",
    .params = hbos_params,
    .n_params = sizeof hbos_params / sizeof hbos_params[0],
    .state_size = sizeof(hbos_state),
    .init = hbos_init,
    .destroy = hbos_destroy,
    .reset = hbos_reset,
    .update = mw_detect_row_update,
    .score = mw_detect_row_score,
    .save = hbos_save,
    .load = hbos_load,
    .set_dims = hbos_set_dims,
    .update_row = hbos_update_row,
    .score_row = hbos_score_row,
    .fit = hbos_fit,
};
