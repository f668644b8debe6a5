/*
 * loda.c: Lightweight On-line Detector of Anomalies (Pevny, "Loda:
 * lightweight on-line detector of anomalies", Machine Learning 102,
 * 2016), a multivariate kind: it scores rows.
 *
 * `projections` sparse random projections z_j = w_j . x, each w_j with
 * round(sqrt(dims)) non-zero weights drawn N(0, 1) on features chosen at
 * random (the rest zero, as the paper recommends), and a histogram of
 * each projection: `bins` bins of equal width over its [min, max]. With
 * count_j the rows in z_j's bin, n the rows counted and width_j the bin
 * width, the density is p_j = count_j / (n width_j) and
 *
 *   score(x) = (1 / k) sum_j -log p_j(w_j . x)
 *
 * An empty bin, or a value outside the range, counts as half a row; a
 * projection that was constant on the rows that set its range has one
 * bin of width 1. The projections depend only on seed and the row width,
 * so they are drawn again (not saved) when a state is loaded.
 *
 * Streaming, in bounded memory: the first `window` rows are buffered
 * (scored 0) and set the ranges; from then on the bins are fixed and
 * each row is scored, then counted (online = true, the paper's on-line
 * histograms) or not (false: frozen). d:fit(rows) sets the ranges and
 * counts from all its rows at once. Memory: k (12 round(sqrt(dims)) +
 * 8 bins + 32) bytes plus 8 window dims for the buffer.
 */
#include "detect/detect.h"
#include "detect/hist.h"
#include "stats/rng.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

enum { P_PROJECTIONS, P_BINS, P_WINDOW, P_ONLINE, P_SEED };

static const mw_param_spec loda_params[] = {
    {"projections", MW_PARAM_INT, 100, 1, 10000, 0, NULL, "random projections (histograms)"},
    {"bins", MW_PARAM_INT, 10, 1, 100000, 0, NULL, "bins per projection, of equal width"},
    {"window", MW_PARAM_INT, 256, 1, 1e7, 0, NULL,
     "rows whose range sets the bins of a stream (scored 0 meanwhile)"},
    {"online", MW_PARAM_BOOL, 1, 0, 1, 0, NULL,
     "keep counting the rows learned once the bins are set (false: frozen)"},
    {"seed", MW_PARAM_INT, 42, 0, 9007199254740991.0, 0, NULL, "random seed (the projections)"},
};

typedef struct loda_state {
    size_t k, bins, window;
    int online;
    uint64_t seed;
    /* Known from the row width (set_dims). */
    size_t nnz;              /* non-zero weights per projection */
    uint32_t *feature;       /* k * nnz */
    double *weight;          /* k * nnz */
    mw_hist hist;            /* one per projection */
    double *log_width;       /* k: log of the bin width */
    mw_hist_warmup warm;     /* the first window's rows */
} loda_state;

static mw_status loda_init(mw_detector *d, char *err)
{
    (void)err;
    loda_state *l = d->state;
    l->k = (size_t)d->params[P_PROJECTIONS];
    l->bins = (size_t)d->params[P_BINS];
    l->window = (size_t)d->params[P_WINDOW];
    l->online = d->params[P_ONLINE] != 0.0;
    l->seed = (uint64_t)d->params[P_SEED];
    return MW_OK;
}

static void loda_free_dims(mw_detector *d)
{
    loda_state *l = d->state;
    mw_hist_free(&l->hist, d);
    if (l->feature != NULL)
        mw_detector_dealloc(d, l->feature, l->k * l->nnz * sizeof *l->feature);
    if (l->weight != NULL)
        mw_detector_dealloc(d, l->weight, l->k * l->nnz * sizeof *l->weight);
    if (l->log_width != NULL)
        mw_detector_dealloc(d, l->log_width, l->k * sizeof *l->log_width);
    mw_hist_warmup_free(&l->warm, d);
    l->feature = NULL;
    l->weight = NULL;
    l->log_width = NULL;
}

static void loda_destroy(mw_detector *d)
{
    loda_state *l = d->state;
    if (l->warm.rows != NULL)
        loda_free_dims(d);
}

/* Draws the projections: for each, nnz distinct features (a partial
 * Fisher-Yates shuffle of perm) with N(0, 1) weights. */
static void loda_draw(loda_state *l, size_t dims, uint32_t *perm)
{
    mw_rng rng;
    mw_rng_seed(&rng, l->seed);
    for (size_t k = 0; k < dims; k++)
        perm[k] = (uint32_t)k;
    for (size_t j = 0; j < l->k; j++) {
        for (size_t i = 0; i < l->nnz; i++) {
            size_t at = i + (size_t)mw_rng_below(&rng, dims - i);
            uint32_t swap = perm[i];
            perm[i] = perm[at];
            perm[at] = swap;
            l->feature[j * l->nnz + i] = perm[i];
            l->weight[j * l->nnz + i] = mw_rng_normal(&rng);
        }
    }
}

static mw_status loda_set_dims(mw_detector *d, char *err)
{
    (void)err;
    loda_state *l = d->state;
    size_t dims = d->dims;
    l->nnz = (size_t)floor(sqrt((double)dims) + 0.5);
    mw_status status = mw_hist_init(&l->hist, d, l->k, l->bins);
    if (status != MW_OK)
        return status;
    status = mw_hist_warmup_init(&l->warm, d, l->window);
    if (status != MW_OK) {
        mw_hist_free(&l->hist, d);
        return status;
    }
    l->feature = mw_detector_alloc(d, l->k * l->nnz * sizeof *l->feature);
    l->weight = mw_detector_alloc(d, l->k * l->nnz * sizeof *l->weight);
    l->log_width = mw_detector_alloc(d, l->k * sizeof *l->log_width);
    uint32_t *perm = mw_detector_scratch(d, dims * sizeof *perm);
    if (l->feature == NULL || l->weight == NULL || l->log_width == NULL || perm == NULL) {
        status = perm == NULL ? mw_detector_scratch_status(d)
                 : d->alloc->last_error != MW_OK ? d->alloc->last_error : MW_ENOMEM;
        if (perm != NULL)
            mw_detector_scratch_free(d, perm, dims * sizeof *perm);
        loda_free_dims(d);
        return status;
    }
    loda_draw(l, dims, perm);
    mw_detector_scratch_free(d, perm, dims * sizeof *perm);
    for (size_t j = 0; j < l->k; j++)
        l->log_width[j] = 0.0;
    return MW_OK;
}

static void loda_reset(mw_detector *d)
{
    loda_state *l = d->state;
    l->warm.count = 0;
    l->warm.ready = 0;
    if (l->warm.rows != NULL)
        mw_hist_clear(&l->hist);
}

static inline double loda_project(const loda_state *l, size_t j, const double *row)
{
    const uint32_t *feature = l->feature + j * l->nnz;
    const double *weight = l->weight + j * l->nnz;
    double z = 0.0;
    for (size_t i = 0; i < l->nnz; i++)
        z += weight[i] * row[feature[i]];
    return z;
}

static inline double loda_score_of(const loda_state *l, const double *row)
{
    if (!l->warm.ready)
        return 0.0;
    double log_n = log((double)l->hist.rows), sum = 0.0;
    for (size_t j = 0; j < l->k; j++) {
        double c = mw_hist_count(&l->hist, j, loda_project(l, j, row));
        sum += log_n + l->log_width[j] - log(c);
    }
    return sum / (double)l->k;
}

static inline void loda_count(loda_state *l, const double *row)
{
    for (size_t j = 0; j < l->k; j++)
        mw_hist_add(&l->hist, j, loda_project(l, j, row));
    l->hist.rows++;
}

/* log of histogram j's bin width: 0 (width 1) for a constant range. */
static void loda_derive(loda_state *l)
{
    for (size_t j = 0; j < l->k; j++) {
        double width = (l->hist.hi[j] - l->hist.lo[j]) / (double)l->bins;
        l->log_width[j] = width > 0.0 ? log(width) : 0.0;
    }
}

/* Sets the ranges from the finite rows among n (at least one) and counts
 * them. */
static void loda_build(loda_state *l, const double *rows, size_t n, size_t dims)
{
    mw_hist_clear(&l->hist);
    for (size_t j = 0; j < l->k; j++) {
        double lo = INFINITY, hi = -INFINITY;
        for (size_t i = 0; i < n; i++) {
            double z = loda_project(l, j, rows + i * dims);
            if (z - z != 0.0)
                continue;    /* a non-finite row, or an overflow */
            lo = z < lo ? z : lo;
            hi = z > hi ? z : hi;
        }
        if (!(lo <= hi))
            lo = hi = 0.0;   /* every row overflowed this projection */
        mw_hist_set_range(&l->hist, j, lo, hi);
    }
    loda_derive(l);
    for (size_t i = 0; i < n; i++) {
        double acc = 0.0;
        for (size_t k = 0; k < dims; k++)
            acc += rows[i * dims + k] - rows[i * dims + k];
        if (acc == 0.0)
            loda_count(l, rows + i * dims);
    }
    l->warm.ready = 1;
}

static double loda_update_row(mw_detector *d, const double *row, double t)
{
    (void)t;
    loda_state *l = d->state;
    if (l->warm.ready) {
        double score = loda_score_of(l, row);
        if (l->online)
            loda_count(l, row);
        return score;
    }
    if (mw_hist_warmup_add(&l->warm, row))
        loda_build(l, l->warm.rows, l->window, d->dims);
    return 0.0;
}

static double loda_score_row(const mw_detector *d, const double *row, double t)
{
    (void)t;
    return loda_score_of(d->state, row);
}

static mw_status loda_fit(mw_detector *d, const double *rows, size_t n, char *err)
{
    /* The framework left out rows with a NaN or an infinity, and counts
     * the rest as learned. */
    if (n == 0) {
        snprintf(err, MW_DETECT_ERRLEN, "loda needs at least 1 row to fit (got 0)");
        return MW_EINVAL;
    }
    loda_build(d->state, rows, n, d->dims);
    return MW_OK;
}

/* State: u8 ready; then the buffered rows (u64 count, the values) or the
 * histograms (the projections follow from seed and the row width). */
static void loda_save(const mw_detector *d, mw_blob_writer *w)
{
    const loda_state *l = d->state;
    mw_hist_warmup_save(&l->warm, w);
    if (l->warm.ready)
        mw_hist_save(&l->hist, w);
}

static int loda_load(mw_detector *d, mw_blob_reader *r)
{
    loda_state *l = d->state;
    int ready = mw_hist_warmup_load(&l->warm, r);
    if (ready <= 0)
        return ready < 0;
    mw_hist_load(&l->hist, r);
    if (!r->failed && l->hist.rows == 0)
        mw_blob_fail(r, "empty histograms");
    if (!r->failed)
        loda_derive(l);
    l->warm.ready = !r->failed;
    return r->failed;
}

const mw_detector_type mw_detect_loda_type = {
    .name = "loda",
    .role = MW_ROLE_DETECTOR,
    .summary = "loda: mean -log density of a row over sparse random projections",
    .params = loda_params,
    .n_params = sizeof loda_params / sizeof loda_params[0],
    .state_size = sizeof(loda_state),
    .init = loda_init,
    .destroy = loda_destroy,
    .reset = loda_reset,
    .update = mw_detect_row_update,
    .score = mw_detect_row_score,
    .save = loda_save,
    .load = loda_load,
    .set_dims = loda_set_dims,
    .update_row = loda_update_row,
    .score_row = loda_score_row,
    .fit = loda_fit,
};
