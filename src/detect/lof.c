/*
 * lof.c: the Local Outlier Factor (Breunig, Kriegel, Ng and Sander, "LOF:
 * identifying density-based local outliers", SIGMOD 2000).
 *
 * With N_k(p) the k nearest neighbours of p among the reference rows,
 * k-dist(o) the distance from o to its own k-th nearest neighbour (o
 * left out), and Euclidean distances d:
 *   reach-dist(p, o) = max(d(p, o), k-dist(o))
 *   lrd(p)           = 1 / (mean over o in N_k(p) of reach-dist(p, o) + 1e-10)
 *   LOF(p)           = mean over o in N_k(p) of lrd(o) / lrd(p)
 * about 1 inside a cluster, well above 1 for a row in a sparser place
 * than its neighbours. The 1e-10 is scikit-learn's: duplicates give a
 * large, finite density. The score is LOF(p) itself: scikit-learn's
 * score_samples (novelty=True) and negative_outlier_factor_ are -LOF.
 *
 * Each reference row keeps its k-dist and lrd, so scoring a new row is
 * one neighbour search (O(window * dims)) and O(k) arithmetic.
 * - fit(rows): the reference set is those rows (k < n <= window); their
 *   k-dist and lrd are exact (each row's neighbours among the others),
 *   and scoring a new row is scikit-learn's LocalOutlierFactor with
 *   novelty=True. The set is frozen: update, score and run learn nothing
 *   until reset. The batch test (test_rows) gives each row's LOF among
 *   the rows given: negative_outlier_factor_, negated.
 * - streaming: the last `window` rows. This is an approximation, not the
 *   exact LOF of the window: a row's k-dist and lrd are computed once,
 *   when it arrives, against the rows then in the window, and kept until
 *   it leaves (incremental LOF, Pokrajac et al. 2007, would also update
 *   the rows whose neighbourhoods the new row enters or a leaving row
 *   vacates). While the window fills, all the values are recomputed
 *   exactly among the rows held when it first holds k + 1 rows, then
 *   each time their number doubles, and when it is full (O(window^2 *
 *   dims) in all, once); the score is 0 until it holds k + 1 rows.
 *
 * Memory: (window * dims + 2 * window) doubles, allocated when the first
 * row fixes dims.
 */
#include "detect/detect.h"

#include <math.h>
#include <stdio.h>

#include "detect/neighbours.h"

/* scikit-learn's guard in lrd: duplicates give 1e10, not infinity. */
#define LOF_EPS 1e-10

enum { P_K, P_WINDOW };

static const mw_param_spec lof_params[] = {
    {"k", MW_PARAM_INT, 20, 1, MW_NN_MAX_K, 0, NULL,
     "neighbours of each row (scikit-learn's n_neighbors)"},
    {"window", MW_PARAM_INT, 1000, 2, 1e7, 0, NULL,
     "reference rows kept: the last rows learned, or the most fit takes"},
};

typedef struct lof_state {
    size_t k;
    int fitted;              /* the rows came from fit: frozen */
    mw_nn_rows ref;
    double *kdist;           /* per slot: the row's k-distance */
    double *lrd;             /* per slot: its local reachability density */
} lof_state;

static mw_status lof_init(mw_detector *d, char *err)
{
    lof_state *s = d->state;
    s->k = (size_t)d->params[P_K];
    s->ref.cap = (size_t)d->params[P_WINDOW];
    if (s->ref.cap <= s->k) {
        snprintf(err, MW_DETECT_ERRLEN, "window must be more than k (%zu), got %zu", s->k,
                 s->ref.cap);
        return MW_EINVAL;
    }
    return MW_OK;
}

static void lof_destroy(mw_detector *d)
{
    lof_state *s = d->state;
    mw_detector_dealloc(d, s->ref.rows, mw_nn_rows_bytes(s->ref.cap, s->ref.dims));
    mw_detector_dealloc(d, s->kdist, s->ref.cap * sizeof(double));
    mw_detector_dealloc(d, s->lrd, s->ref.cap * sizeof(double));
}

static mw_status lof_set_dims(mw_detector *d, char *err)
{
    (void)err;
    lof_state *s = d->state;
    size_t bytes = mw_nn_rows_bytes(s->ref.cap, d->dims);
    if (bytes == 0)
        return MW_ENOMEM;
    s->ref.dims = d->dims;
    s->ref.rows = mw_detector_alloc(d, bytes);
    s->kdist = s->ref.rows != NULL ? mw_detector_alloc(d, s->ref.cap * sizeof(double)) : NULL;
    s->lrd = s->kdist != NULL ? mw_detector_alloc(d, s->ref.cap * sizeof(double)) : NULL;
    if (s->lrd == NULL) {
        mw_status status = mw_detector_scratch_status(d);
        lof_destroy(d);
        s->ref.rows = s->kdist = NULL;
        s->ref.dims = 0;
        return status;
    }
    return MW_OK;
}

static void lof_reset(mw_detector *d)
{
    lof_state *s = d->state;
    s->ref.count = s->ref.next = 0;
    s->fitted = 0;
}

/* The neighbours of row i of rows[0..n) among the others: from the
 * table nbr/nd (k per row) when there is one, else searched again. */
static size_t lof_row_neighbours(const double *rows, size_t n, size_t dims, size_t k,
                                 size_t i, const uint32_t *nbr, const double *nd,
                                 uint32_t *idx, double *dist)
{
    if (nbr != NULL) {
        for (size_t j = 0; j < k; j++) {
            idx[j] = nbr[i * k + j];
            dist[j] = nd[i * k + j];
        }
        return k;
    }
    mw_nn_nearest(rows, n, dims, rows + i * dims, k, i, dist, idx);
    for (size_t j = 0; j < k; j++)
        dist[j] = sqrt(dist[j]);
    return k;
}

/* The exact k-dist and lrd of each of n > k rows among the others, and
 * (out not NULL) each one's LOF. With nbr and nd (n * k each) the
 * neighbours are searched once and kept there; without, searched again
 * in each pass (no memory, twice or three times the time). */
static void lof_exact(const double *rows, size_t n, size_t dims, size_t k, double *kdist,
                      double *lrd, double *out, uint32_t *nbr, double *nd)
{
    uint32_t idx[MW_NN_MAX_K];
    double dist[MW_NN_MAX_K];
    for (size_t i = 0; i < n; i++) {
        mw_nn_nearest(rows, n, dims, rows + i * dims, k, i, dist, idx);
        kdist[i] = sqrt(dist[k - 1]);
        if (nbr != NULL) {
            for (size_t j = 0; j < k; j++) {
                nbr[i * k + j] = idx[j];
                nd[i * k + j] = sqrt(dist[j]);
            }
        }
    }
    for (size_t i = 0; i < n; i++) {
        lof_row_neighbours(rows, n, dims, k, i, nbr, nd, idx, dist);
        double reach = 0.0;
        for (size_t j = 0; j < k; j++)
            reach += fmax(dist[j], kdist[idx[j]]);
        lrd[i] = 1.0 / (reach / (double)k + LOF_EPS);
    }
    for (size_t i = 0; out != NULL && i < n; i++) {
        lof_row_neighbours(rows, n, dims, k, i, nbr, nd, idx, dist);
        double sum = 0.0;
        for (size_t j = 0; j < k; j++)
            sum += lrd[idx[j]];
        out[i] = sum / (double)k / lrd[i];
    }
}

/* The LOF of row against the reference rows, and its k-dist and lrd
 * (for update to keep); 0 (and nothing in the outputs) until the
 * reference rows have their values (more than k of them). */
static double lof_score_of(const lof_state *s, const double *row, double *kdist, double *lrd)
{
    size_t k = s->k;
    if (s->ref.count <= k)
        return 0.0;
    uint32_t idx[MW_NN_MAX_K];
    double dist2[MW_NN_MAX_K];
    mw_nn_nearest(s->ref.rows, s->ref.count, s->ref.dims, row, k, SIZE_MAX, dist2, idx);
    double reach = 0.0, neighbour_lrd = 0.0;
    for (size_t j = 0; j < k; j++) {
        reach += fmax(sqrt(dist2[j]), s->kdist[idx[j]]);
        neighbour_lrd += s->lrd[idx[j]];
    }
    double own_lrd = 1.0 / (reach / (double)k + LOF_EPS);
    *kdist = sqrt(dist2[k - 1]);
    *lrd = own_lrd;
    return neighbour_lrd / (double)k / own_lrd;
}

static double lof_score_row(const mw_detector *d, const double *row, double t)
{
    (void)t;
    double kdist, lrd;
    return lof_score_of(d->state, row, &kdist, &lrd);
}

static double lof_update_row(mw_detector *d, const double *row, double t)
{
    (void)t;
    lof_state *s = d->state;
    double kdist = 0.0, lrd = 0.0;
    double score = lof_score_of(s, row, &kdist, &lrd);
    if (s->fitted)
        return score;
    int full = s->ref.count == s->ref.cap;
    size_t slot = mw_nn_rows_push(&s->ref, row);
    s->kdist[slot] = kdist;
    s->lrd[slot] = lrd;
    /* While the window grows, each row's values were computed against
     * fewer rows than it will be scored against; recomputing all of them
     * each time the count doubles, and when the window fills, keeps them
     * within a factor 2 of the window's size, for O(window * dims) per
     * row amortised. The rows are in slots 0..count-1 then. */
    size_t count = s->ref.count, base = s->k + 1;
    if (!full && (count == s->ref.cap
                  || (count % base == 0 && ((count / base) & (count / base - 1)) == 0)))
        lof_exact(s->ref.rows, count, s->ref.dims, s->k, s->kdist, s->lrd, NULL, NULL, NULL);
    return score;
}

/* Scratch for lof_exact's neighbour table of n rows; NULL and a status
 * when the allocator refuses. */
static mw_status lof_table(const mw_detector *d, size_t n, size_t k, uint32_t **nbr,
                           double **nd)
{
    *nbr = NULL;
    *nd = NULL;
    if (n > SIZE_MAX / sizeof(double) / k)
        return MW_ENOMEM;
    *nbr = mw_detector_scratch(d, n * k * sizeof **nbr);
    *nd = *nbr != NULL ? mw_detector_scratch(d, n * k * sizeof **nd) : NULL;
    if (*nd == NULL) {
        mw_status status = mw_detector_scratch_status(d);
        mw_detector_scratch_free(d, *nbr, n * k * sizeof **nbr);
        return status;
    }
    return MW_OK;
}

static void lof_table_free(const mw_detector *d, size_t n, size_t k, uint32_t *nbr, double *nd)
{
    mw_detector_scratch_free(d, nbr, n * k * sizeof *nbr);
    mw_detector_scratch_free(d, nd, n * k * sizeof *nd);
}

static mw_status lof_fit(mw_detector *d, const double *rows, size_t n, char *err)
{
    lof_state *s = d->state;
    if (n <= s->k || n > s->ref.cap) {
        snprintf(err, MW_DETECT_ERRLEN, "fit takes k + 1 (%zu) to window (%zu) rows, got %zu%s",
                 s->k + 1, s->ref.cap, n, n > s->ref.cap ? ": raise window" : "");
        return MW_EINVAL;
    }
    uint32_t *nbr;
    double *nd;
    mw_status status = lof_table(d, n, s->k, &nbr, &nd);
    if (status != MW_OK)
        return status;
    lof_reset(d);
    for (size_t i = 0; i < n; i++)
        mw_nn_rows_push(&s->ref, rows + i * d->dims);
    lof_exact(s->ref.rows, n, d->dims, s->k, s->kdist, s->lrd, NULL, nbr, nd);
    lof_table_free(d, n, s->k, nbr, nd);
    s->fitted = 1;
    return MW_OK;
}

static mw_status lof_test_rows(const mw_detector *d, const double *rows, size_t n, double *out,
                               char *err)
{
    const lof_state *s = d->state;
    size_t k = s->k;
    if (n <= k) {
        snprintf(err, MW_DETECT_ERRLEN, "the batch test needs more than k (%zu) rows, got %zu",
                 k, n);
        return MW_EINVAL;
    }
    uint32_t *nbr = NULL;   /* set by lof_table (NULL here: gcc -O3 cannot tell) */
    double *nd = NULL;
    double *kdist = mw_detector_scratch(d, 2 * n * sizeof(double));
    mw_status status = kdist != NULL ? lof_table(d, n, k, &nbr, &nd)
                                     : mw_detector_scratch_status(d);
    if (status != MW_OK) {
        mw_detector_scratch_free(d, kdist, 2 * n * sizeof(double));
        return status;
    }
    lof_exact(rows, n, d->dims, k, kdist, kdist + n, out, nbr, nd);
    lof_table_free(d, n, k, nbr, nd);
    mw_detector_scratch_free(d, kdist, 2 * n * sizeof(double));
    return MW_OK;
}

static void lof_save(const mw_detector *d, mw_blob_writer *w)
{
    const lof_state *s = d->state;
    mw_blob_put_u8(w, (uint8_t)s->fitted);
    mw_nn_rows_save(&s->ref, w);
    mw_blob_put_f64s(w, s->kdist, s->ref.count);
    mw_blob_put_f64s(w, s->lrd, s->ref.count);
}

static int lof_load(mw_detector *d, mw_blob_reader *r)
{
    lof_state *s = d->state;
    unsigned fitted = mw_blob_get_u8(r);
    if (!r->failed && fitted > 1)
        mw_blob_fail(r, "fitted flag %u is not 0 or 1", fitted);
    s->fitted = (int)fitted;
    if (r->failed || mw_nn_rows_load(&s->ref, r))
        return 1;
    if (s->fitted && s->ref.count <= s->k)
        mw_blob_fail(r, "fitted with %zu rows, k is %zu", s->ref.count, s->k);
    mw_blob_get_f64s(r, s->kdist, s->ref.count);
    mw_blob_get_f64s(r, s->lrd, s->ref.count);
    /* What update can store: a row far from all others (1e300 away, its
     * squares overflowing) has an infinite k-distance and density 0. */
    for (size_t i = 0; i < s->ref.count && !r->failed && s->ref.count > s->k; i++)
        if (!(s->kdist[i] >= 0.0 && s->lrd[i] >= 0.0 && s->lrd[i] < INFINITY))
            mw_blob_fail(r, "row %zu: k-distance %g, density %g", i, s->kdist[i], s->lrd[i]);
    return r->failed;
}

const mw_detector_type mw_detect_lof_type = {
    .name = "lof",
    .role = MW_ROLE_DETECTOR,
    .summary = "Local Outlier Factor: the mean density of a row's k nearest neighbours over "
               "its own (about 1 inside a cluster)",
    .params = lof_params,
    .n_params = sizeof lof_params / sizeof lof_params[0],
    .state_size = sizeof(lof_state),
    .init = lof_init,
    .destroy = lof_destroy,
    .reset = lof_reset,
    .update = mw_detect_row_update,
    .score = mw_detect_row_score,
    .save = lof_save,
    .load = lof_load,
    .set_dims = lof_set_dims,
    .update_row = lof_update_row,
    .score_row = lof_score_row,
    .fit = lof_fit,
    .test_rows = lof_test_rows,
};
