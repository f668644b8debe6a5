/*
 * knn.c: distance to the k nearest neighbours (Ramaswamy, Rastogi and
 * Shim, "Efficient algorithms for mining outliers from large data sets",
 * SIGMOD 2000; Angiulli and Pizzuti 2002 for the mean), as PyOD's KNN.
 *
 * With d_1 <= ... <= d_k the Euclidean distances from a row x to its k
 * nearest reference rows, the score is
 *   largest:  d_k                      (Ramaswamy et al.'s D^k)
 *   mean:     (d_1 + ... + d_k) / k
 *   median:   the median of d_1..d_k   (the mean of the middle two for even k)
 * in the units of the data: scale the features first (mw.scale) when
 * their units differ.
 *
 * Reference rows:
 * - streaming: the last `window` rows learned, a ring. update scores a
 *   row against the window, then adds it (evicting the oldest). The score
 *   is 0 until the window holds k rows.
 * - fit(rows): the reference set is those rows (at most `window` of
 *   them), and it is frozen: update, score and run score against it and
 *   learn nothing until reset. A training row scored this way finds
 *   itself at distance 0 among its neighbours (PyOD's decision_function
 *   does the same); the batch test (test_rows) leaves each row out of its
 *   own neighbours, as PyOD's decision_scores_ do.
 *
 * Cost per row O(window * dims) (neighbours.c: one pass, partial
 * selection of the k smallest, no sort); memory window * dims doubles,
 * allocated when the first row fixes dims.
 */
#include "detect/detect.h"

#include <math.h>
#include <stdio.h>

#include "detect/neighbours.h"

enum { P_K, P_METHOD, P_WINDOW };
enum { KNN_LARGEST, KNN_MEAN, KNN_MEDIAN };

static const char *const knn_methods[] = {"largest", "mean", "median", NULL};

static const mw_param_spec knn_params[] = {
    {"k", MW_PARAM_INT, 5, 1, MW_NN_MAX_K, 0, NULL, "neighbours the score looks at"},
    {"method", MW_PARAM_CHOICE, KNN_LARGEST, 0, 0, 0, knn_methods,
     "the distance to the k-th neighbour (largest), or the mean or median of the k"},
    {"window", MW_PARAM_INT, 1000, 1, 1e7, 0, NULL,
     "reference rows kept: the last rows learned, or the most fit takes"},
};

typedef struct knn_state {
    size_t k;
    int method;
    int fitted;              /* the rows came from fit: frozen */
    mw_nn_rows ref;
} knn_state;

static mw_status knn_init(mw_detector *d, char *err)
{
    knn_state *s = d->state;
    s->k = (size_t)d->params[P_K];
    s->method = (int)d->params[P_METHOD];
    s->ref.cap = (size_t)d->params[P_WINDOW];
    if (s->ref.cap < s->k) {
        snprintf(err, MW_DETECT_ERRLEN, "window must be at least k (%zu), got %zu", s->k,
                 s->ref.cap);
        return MW_EINVAL;
    }
    return MW_OK;
}

static mw_status knn_set_dims(mw_detector *d, char *err)
{
    (void)err;
    knn_state *s = d->state;
    size_t bytes = mw_nn_rows_bytes(s->ref.cap, d->dims);
    double *rows = bytes != 0 ? mw_detector_alloc(d, bytes) : NULL;
    if (rows == NULL)
        return bytes != 0 ? mw_detector_scratch_status(d) : MW_ENOMEM;
    s->ref.rows = rows;
    s->ref.dims = d->dims;
    return MW_OK;
}

static void knn_destroy(mw_detector *d)
{
    knn_state *s = d->state;
    if (s->ref.rows != NULL)
        mw_detector_dealloc(d, s->ref.rows, mw_nn_rows_bytes(s->ref.cap, s->ref.dims));
}

static void knn_reset(mw_detector *d)
{
    knn_state *s = d->state;
    s->ref.count = s->ref.next = 0;
    s->fitted = 0;
}

/* The score of k squared distances in ascending order. */
static double knn_reduce(const double *dist2, size_t k, int method)
{
    if (method == KNN_LARGEST)
        return sqrt(dist2[k - 1]);
    if (method == KNN_MEDIAN)
        return k % 2 ? sqrt(dist2[k / 2]) : 0.5 * (sqrt(dist2[k / 2 - 1]) + sqrt(dist2[k / 2]));
    double sum = 0.0;
    for (size_t i = 0; i < k; i++)
        sum += sqrt(dist2[i]);
    return sum / (double)k;
}

/* The score of row against the reference rows, leaving out slot skip. */
static double knn_score_of(const knn_state *s, const double *rows, size_t n, size_t dims,
                           const double *row, size_t skip)
{
    double dist2[MW_NN_MAX_K];
    size_t found = mw_nn_nearest(rows, n, dims, row, s->k, skip, dist2, NULL);
    return found < s->k ? 0.0 : knn_reduce(dist2, s->k, s->method);
}

static double knn_score_row(const mw_detector *d, const double *row, double t)
{
    (void)t;
    const knn_state *s = d->state;
    return knn_score_of(s, s->ref.rows, s->ref.count, d->dims, row, SIZE_MAX);
}

static double knn_update_row(mw_detector *d, const double *row, double t)
{
    knn_state *s = d->state;
    double score = knn_score_row(d, row, t);
    if (!s->fitted)
        mw_nn_rows_push(&s->ref, row);
    return score;
}

static mw_status knn_fit(mw_detector *d, const double *rows, size_t n, char *err)
{
    knn_state *s = d->state;
    if (n < s->k || n > s->ref.cap) {
        snprintf(err, MW_DETECT_ERRLEN,
                 "fit takes k (%zu) to window (%zu) rows, got %zu%s", s->k, s->ref.cap, n,
                 n > s->ref.cap ? ": raise window" : "");
        return MW_EINVAL;
    }
    knn_reset(d);
    for (size_t i = 0; i < n; i++)
        mw_nn_rows_push(&s->ref, rows + i * d->dims);
    s->fitted = 1;
    return MW_OK;
}

/* Each row against all the others (itself left out). */
static mw_status knn_test_rows(const mw_detector *d, const double *rows, size_t n,
                               double *out, char *err)
{
    (void)err;
    const knn_state *s = d->state;
    for (size_t i = 0; i < n; i++)
        out[i] = knn_score_of(s, rows, n, d->dims, rows + i * d->dims, i);
    return MW_OK;
}

static void knn_save(const mw_detector *d, mw_blob_writer *w)
{
    const knn_state *s = d->state;
    mw_blob_put_u8(w, (uint8_t)s->fitted);
    mw_nn_rows_save(&s->ref, w);
}

static int knn_load(mw_detector *d, mw_blob_reader *r)
{
    knn_state *s = d->state;
    unsigned fitted = mw_blob_get_u8(r);
    if (!r->failed && fitted > 1)
        mw_blob_fail(r, "fitted flag %u is not 0 or 1", fitted);
    s->fitted = (int)fitted;
    return r->failed || mw_nn_rows_load(&s->ref, r);
}

const mw_detector_type mw_detect_knn_type = {
    .name = "knn",
    .role = MW_ROLE_DETECTOR,
    .summary = "Euclidean distance from a row to its k nearest neighbours (largest, mean or "
               "median) among the window or the rows fitted",
    .params = knn_params,
    .n_params = sizeof knn_params / sizeof knn_params[0],
    .state_size = sizeof(knn_state),
    .init = knn_init,
    .destroy = knn_destroy,
    .reset = knn_reset,
    .update = mw_detect_row_update,
    .score = mw_detect_row_score,
    .save = knn_save,
    .load = knn_load,
    .set_dims = knn_set_dims,
    .update_row = knn_update_row,
    .score_row = knn_score_row,
    .fit = knn_fit,
    .test_rows = knn_test_rows,
};
