/*
 * detect.c: what all detectors share (see detect.h): the registry,
 * parameter checking, creation, the batch loop, the batch test's entry,
 * and the saved-state container.
 *
 * The container, little-endian (blob.h):
 *
 *   "MWDS"  u8 version (1)  u8 name length  name
 *   u8 parameter count  f64 parameters (in the kind's order)
 *   u64 values learned  the kind's own state (its save/load)
 *   u64 checksum of everything before it
 *
 * A composite (chain) saves each child as a whole container inside its
 * own state, so every level is checked the same way.
 */
#include "detect/detect.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define DETECT_MAGIC "MWDS"
#define DETECT_FORMAT 1
/* Values per call of a kind's run: 32 KiB of input, in L1 or L2. */
#define RUN_CHUNK 4096

const char *const mw_detect_side_choices[] = {"both", "up", "down", NULL};

/* ---- the registry -------------------------------------------------- */

extern const mw_detector_type mw_detect_zscore_type;
extern const mw_detector_type mw_detect_ewma_type;
extern const mw_detector_type mw_detect_mad_type;
extern const mw_detector_type mw_detect_quantile_type;
extern const mw_detector_type mw_detect_iqr_type;
extern const mw_detector_type mw_detect_cusum_type;
extern const mw_detector_type mw_detect_page_hinkley_type;
extern const mw_detector_type mw_detect_level_shift_type;
extern const mw_detector_type mw_detect_volatility_shift_type;
extern const mw_detector_type mw_detect_holt_winters_type;
extern const mw_detector_type mw_detect_esd_type;
extern const mw_detector_type mw_detect_shesd_type;
extern const mw_detector_type mw_detect_bocpd_type;
extern const mw_detector_type mw_detect_range_type;
extern const mw_detector_type mw_detect_hst_type;
extern const mw_detector_type mw_detect_rrcf_type;
extern const mw_detector_type mw_detect_iforest_type;
extern const mw_detector_type mw_detect_hbos_type;
extern const mw_detector_type mw_detect_loda_type;
extern const mw_detector_type mw_detect_knn_type;
extern const mw_detector_type mw_detect_lof_type;
extern const mw_detector_type mw_detect_chain_type;
extern const mw_detector_type mw_detect_thresh_constant_type;
extern const mw_detector_type mw_detect_thresh_quantile_type;
extern const mw_detector_type mw_detect_thresh_likelihood_type;
extern const mw_detector_type mw_detect_thresh_calibrate_type;
extern const mw_detector_type mw_detect_thresh_rest_type;

static const mw_detector_type *const detect_types[] = {
    &mw_detect_zscore_type,
    &mw_detect_ewma_type,
    &mw_detect_mad_type,
    &mw_detect_quantile_type,
    &mw_detect_iqr_type,
    &mw_detect_cusum_type,
    &mw_detect_page_hinkley_type,
    &mw_detect_level_shift_type,
    &mw_detect_volatility_shift_type,
    &mw_detect_holt_winters_type,
    &mw_detect_esd_type,
    &mw_detect_shesd_type,
    &mw_detect_bocpd_type,
    &mw_detect_range_type,
    &mw_detect_hst_type,
    &mw_detect_rrcf_type,
    &mw_detect_iforest_type,
    &mw_detect_hbos_type,
    &mw_detect_loda_type,
    &mw_detect_knn_type,
    &mw_detect_lof_type,
    &mw_detect_chain_type,
    &mw_detect_thresh_constant_type,
    &mw_detect_thresh_quantile_type,
    &mw_detect_thresh_likelihood_type,
    &mw_detect_thresh_calibrate_type,
    &mw_detect_thresh_rest_type,
};

const mw_detector_type *const *mw_detect_types(size_t *n)
{
    *n = sizeof detect_types / sizeof detect_types[0];
    return detect_types;
}

const mw_detector_type *mw_detect_find(const char *name)
{
    for (size_t i = 0; i < sizeof detect_types / sizeof detect_types[0]; i++)
        if (strcmp(detect_types[i]->name, name) == 0)
            return detect_types[i];
    return NULL;
}

/* ---- parameters ---------------------------------------------------- */

int mw_detect_param_index(const mw_detector_type *type, const char *name)
{
    for (size_t i = 0; i < type->n_params; i++)
        if (strcmp(type->params[i].name, name) == 0)
            return (int)i;
    return -1;
}

void mw_detect_param_defaults(const mw_detector_type *type, double *values)
{
    for (size_t i = 0; i < type->n_params; i++)
        values[i] = type->params[i].def;
}

const char *mw_detect_choice_name(const mw_param_spec *p, double v)
{
    for (size_t i = 0; p->choices != NULL && p->choices[i] != NULL; i++)
        if ((double)i == v)
            return p->choices[i];
    return "?";
}

/* Appends the choices of p, separated by '|', to err (of MW_DETECT_ERRLEN). */
static void detect_list_choices(const mw_param_spec *p, char *err)
{
    for (size_t i = 0; p->choices[i] != NULL; i++) {
        size_t used = strlen(err);
        snprintf(err + used, MW_DETECT_ERRLEN - used, "%s'%s'", i > 0 ? ", " : "",
                 p->choices[i]);
    }
}

mw_status mw_detect_param_set(const mw_detector_type *type, double *values, int i,
                              double number, const char *text, char *err)
{
    const mw_param_spec *p = &type->params[i];
    if (p->kind == MW_PARAM_CHOICE) {
        for (size_t k = 0; text != NULL && p->choices[k] != NULL; k++) {
            if (strcmp(p->choices[k], text) == 0) {
                values[i] = (double)k;
                return MW_OK;
            }
        }
        snprintf(err, MW_DETECT_ERRLEN, "%s must be one of ", p->name);
        detect_list_choices(p, err);
        size_t used = strlen(err);
        if (text != NULL)
            snprintf(err + used, MW_DETECT_ERRLEN - used, " (got '%s')", text);
        return MW_EINVAL;
    }
    if (text != NULL) {
        snprintf(err, MW_DETECT_ERRLEN, "%s must be a %s (got '%s')", p->name,
                 p->kind == MW_PARAM_BOOL ? "boolean" : "number", text);
        return MW_EINVAL;
    }
    if (p->kind == MW_PARAM_BOOL) {
        if (number != 0.0 && number != 1.0) {
            snprintf(err, MW_DETECT_ERRLEN, "%s must be a boolean", p->name);
            return MW_EINVAL;
        }
        values[i] = number;
        return MW_OK;
    }
    int is_int = p->kind == MW_PARAM_INT;
    int ok = isfinite(number) && number >= p->min && number <= p->max &&
             !(p->min_open && number == p->min) && (!is_int || number == floor(number));
    if (!ok) {
        snprintf(err, MW_DETECT_ERRLEN, "%s must be %s in %c%.17g, %.17g], got %.17g",
                 p->name, is_int ? "an integer" : "a number", p->min_open ? '(' : '[',
                 p->min, p->max, number);
        return MW_EINVAL;
    }
    values[i] = number;
    return MW_OK;
}

void mw_detect_param_list(const mw_detector_type *type, char *err)
{
    size_t used = strlen(err);
    snprintf(err + used, MW_DETECT_ERRLEN - used, "valid parameters: ");
    for (size_t i = 0; i < type->n_params; i++) {
        used = strlen(err);
        snprintf(err + used, MW_DETECT_ERRLEN - used, "%s%s", i > 0 ? ", " : "",
                 type->params[i].name);
    }
    if (type->n_params == 0) {
        used = strlen(err);
        snprintf(err + used, MW_DETECT_ERRLEN - used, "none");
    }
}

/* ---- detectors ----------------------------------------------------- */

/* The struct and the kind's state in one block, the state aligned for
 * doubles and pointers. */
static size_t detect_head_size(void)
{
    size_t align = sizeof(double) > sizeof(void *) ? sizeof(double) : sizeof(void *);
    return (sizeof(mw_detector) + align - 1) / align * align;
}

mw_detector *mw_detector_new(mw_alloc *alloc, const mw_detector_type *type,
                             const double *values, mw_status *status, char *err)
{
    double checked[MW_DETECT_MAX_PARAMS];
    for (size_t i = 0; i < type->n_params; i++) {
        const mw_param_spec *p = &type->params[i];
        const char *text = p->kind == MW_PARAM_CHOICE ? mw_detect_choice_name(p, values[i])
                                                      : NULL;
        mw_status s = mw_detect_param_set(type, checked, (int)i, values[i], text, err);
        if (s != MW_OK) {
            *status = s;
            return NULL;
        }
    }
    size_t size = detect_head_size() + type->state_size;
    mw_detector *d = mw_alloc_malloc(alloc, MW_DOMAIN_NATIVE, size);
    if (d == NULL) {
        *status = alloc->last_error != MW_OK ? alloc->last_error : MW_ENOMEM;
        snprintf(err, MW_DETECT_ERRLEN, "%s", mw_strerror(*status));
        return NULL;
    }
    memset(d, 0, size);
    d->type = type;
    d->alloc = alloc;
    if (type->n_params > 0)
        memcpy(d->params, values, type->n_params * sizeof *values);
    d->bytes = size;
    d->state = (char *)d + detect_head_size();
    if (type->init != NULL) {
        err[0] = '\0';
        mw_status s = type->init(d, err);
        if (s != MW_OK) {
            if (err[0] == '\0')
                snprintf(err, MW_DETECT_ERRLEN, "%s", mw_strerror(s));
            mw_alloc_free(alloc, MW_DOMAIN_NATIVE, d, size);
            *status = s;
            return NULL;
        }
    }
    *status = MW_OK;
    return d;
}

void mw_detector_free(mw_detector *d)
{
    if (d == NULL)
        return;
    if (d->type->destroy != NULL)
        d->type->destroy(d);
    mw_alloc_free(d->alloc, MW_DOMAIN_NATIVE, d, detect_head_size() + d->type->state_size);
}

void *mw_detector_alloc(mw_detector *d, size_t size)
{
    void *p = mw_alloc_malloc(d->alloc, MW_DOMAIN_NATIVE, size);
    if (p != NULL)
        d->bytes += size;
    return p;
}

void mw_detector_dealloc(mw_detector *d, void *p, size_t size)
{
    if (p == NULL)
        return;
    mw_alloc_free(d->alloc, MW_DOMAIN_NATIVE, p, size);
    d->bytes -= size;
}

void *mw_detector_scratch(const mw_detector *d, size_t size)
{
    return mw_alloc_malloc(d->alloc, MW_DOMAIN_NATIVE, size);
}

void mw_detector_scratch_free(const mw_detector *d, void *p, size_t size)
{
    if (p != NULL)
        mw_alloc_free(d->alloc, MW_DOMAIN_NATIVE, p, size);
}

mw_status mw_detector_scratch_status(const mw_detector *d)
{
    return d->alloc->last_error != MW_OK ? d->alloc->last_error : MW_ENOMEM;
}

mw_status mw_detector_test(const mw_detector *d, const double *x, size_t n, double *out,
                           char *err)
{
    if (d->type->test == NULL) {
        snprintf(err, MW_DETECT_ERRLEN, "'%s' has no batch test", d->type->name);
        return MW_EINVAL;
    }
    err[0] = '\0';
    mw_status status = d->type->test(d, x, n, out, err);
    if (status != MW_OK && err[0] == '\0')
        snprintf(err, MW_DETECT_ERRLEN, "%s", mw_strerror(status));
    return status;
}

void mw_detector_run(mw_detector *d, const double *x, const double *t, size_t n,
                     double *out)
{
    if (d->type->run != NULL) {
        /* In chunks, so that counting the finite values reads x from the
         * cache the kind's run is about to use, not from memory a second
         * time; a kind's run gives update's numbers, so chunks change
         * nothing. */
        for (size_t start = 0; start < n; start += RUN_CHUNK) {
            size_t m = n - start < RUN_CHUNK ? n - start : RUN_CHUNK;
            const double *xc = x + start;
            size_t finite = 0;
            for (size_t i = 0; i < m; i++)
                finite += xc[i] - xc[i] == 0.0;
            d->type->run(d, xc, t != NULL ? t + start : NULL, m, out + start);
            d->n_learned += finite;
        }
        return;
    }
    for (size_t i = 0; i < n; i++)
        out[i] = mw_detector_update(d, x[i], t != NULL ? t[i] : NAN);
}

void mw_detector_reset(mw_detector *d)
{
    d->n_learned = 0;
    if (d->type->reset != NULL)
        d->type->reset(d);
}

/* ---- rows (multivariate kinds) --------------------------------------- */

/* Whether all dims values of row are finite. */
static int row_finite(const double *row, size_t dims)
{
    double acc = 0.0;
    for (size_t k = 0; k < dims; k++)
        acc += row[k] - row[k];   /* NaN if any is NaN or infinite */
    return acc == 0.0;
}

mw_status mw_detector_set_dims(mw_detector *d, size_t dims, char *err)
{
    size_t have = mw_detector_is_multi(d) ? d->dims : 1;
    if (have == dims && dims > 0)
        return MW_OK;
    if (dims == 0 || dims > MW_DETECT_MAX_DIMS) {
        snprintf(err, MW_DETECT_ERRLEN, "rows must have 1 to %d values (got %zu)",
                 MW_DETECT_MAX_DIMS, dims);
        return MW_EINVAL;
    }
    if (have != 0) {
        snprintf(err, MW_DETECT_ERRLEN, "rows of %zu value%s, but this %s scores rows of %zu",
                 dims, dims == 1 ? "" : "s", d->type->name, have);
        return MW_EINVAL;
    }
    d->dims = dims;
    err[0] = '\0';
    mw_status status = d->type->set_dims != NULL ? d->type->set_dims(d, err) : MW_OK;
    if (status != MW_OK) {
        d->dims = 0;
        if (err[0] == '\0')
            snprintf(err, MW_DETECT_ERRLEN, "%s", mw_strerror(status));
    }
    return status;
}

mw_status mw_detector_update_row(mw_detector *d, const double *row, size_t dims, double t,
                                 double *score, char *err)
{
    mw_status status = mw_detector_set_dims(d, dims, err);
    if (status != MW_OK)
        return status;
    if (!row_finite(row, dims)) {
        *score = NAN;
        return MW_OK;
    }
    if (!mw_detector_is_multi(d)) {
        *score = mw_detector_update(d, row[0], t);
        return MW_OK;
    }
    d->n_learned++;
    *score = d->type->update_row(d, row, t);
    return MW_OK;
}

mw_status mw_detector_score_row(const mw_detector *d, const double *row, size_t dims,
                                double t, double *score, char *err)
{
    if (!mw_detector_is_multi(d) || d->dims != 0) {
        size_t have = mw_detector_is_multi(d) ? d->dims : 1;
        if (dims != have) {
            snprintf(err, MW_DETECT_ERRLEN, "rows of %zu value%s, but this %s scores rows of %zu",
                     dims, dims == 1 ? "" : "s", d->type->name, have);
            return MW_EINVAL;
        }
    } else {
        *score = NAN;        /* nothing learned: no width, no opinion */
        return MW_OK;
    }
    if (!row_finite(row, dims))
        *score = NAN;
    else if (!mw_detector_is_multi(d))
        *score = mw_detector_score(d, row[0], t);
    else
        *score = d->type->score_row(d, row, t);
    return MW_OK;
}

mw_status mw_detector_run_rows(mw_detector *d, const double *rows, size_t dims,
                               const double *t, size_t n, double *out, char *err)
{
    mw_status status = mw_detector_set_dims(d, dims, err);
    if (status != MW_OK)
        return status;
    if (!mw_detector_is_multi(d)) {
        mw_detector_run(d, rows, t, n, out);   /* rows of one: a column */
        return MW_OK;
    }
    size_t start = 0;
    while (start < n) {
        /* Runs of finite rows go to the kind's run_rows in one call. */
        size_t end = start;
        while (end < n && row_finite(rows + end * dims, dims))
            end++;
        if (end > start) {
            if (d->type->run_rows != NULL) {
                d->type->run_rows(d, rows + start * dims, t != NULL ? t + start : NULL,
                                  end - start, out + start);
                d->n_learned += end - start;
            } else {
                for (size_t i = start; i < end; i++) {
                    d->n_learned++;
                    out[i] = d->type->update_row(d, rows + i * dims, t != NULL ? t[i] : NAN);
                }
            }
        }
        if (end < n)
            out[end++] = NAN;
        start = end;
    }
    return MW_OK;
}

mw_status mw_detector_fit(mw_detector *d, const double *rows, size_t dims, size_t n,
                          char *err)
{
    if (d->type->fit == NULL) {
        snprintf(err, MW_DETECT_ERRLEN, "'%s' has no fit (it learns as it scores)", d->type->name);
        return MW_EINVAL;
    }
    mw_status status = mw_detector_set_dims(d, dims, err);
    if (status != MW_OK)
        return status;
    /* Rows with a NaN or an infinity are left out: a compacted copy in
     * scratch memory when there are any. */
    size_t finite = 0;
    for (size_t i = 0; i < n; i++)
        finite += (size_t)row_finite(rows + i * dims, dims);
    double *copy = NULL;
    size_t copy_size = finite * dims * sizeof(double);
    if (finite < n && finite > 0) {
        copy = mw_detector_scratch(d, copy_size);
        if (copy == NULL) {
            status = mw_detector_scratch_status(d);
            snprintf(err, MW_DETECT_ERRLEN, "%s", mw_strerror(status));
            return status;
        }
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if (row_finite(rows + i * dims, dims))
                memcpy(copy + k++ * dims, rows + i * dims, dims * sizeof(double));
        rows = copy;
    }
    err[0] = '\0';
    status = d->type->fit(d, rows, finite, err);
    if (status != MW_OK && err[0] == '\0')
        snprintf(err, MW_DETECT_ERRLEN, "%s", mw_strerror(status));
    if (status == MW_OK)
        d->n_learned = finite;
    mw_detector_scratch_free(d, copy, copy_size);
    return status;
}

mw_status mw_detector_test_rows(const mw_detector *d, const double *rows, size_t dims,
                                size_t n, double *out, char *err)
{
    if (d->type->test_rows == NULL) {
        snprintf(err, MW_DETECT_ERRLEN, "'%s' has no batch test of rows", d->type->name);
        return MW_EINVAL;
    }
    if (dims == 0 || dims > MW_DETECT_MAX_DIMS || (d->dims != 0 && dims != d->dims)) {
        snprintf(err, MW_DETECT_ERRLEN, "rows of %zu value%s, but this %s scores rows of %zu",
                 dims, dims == 1 ? "" : "s", d->type->name, d->dims);
        return MW_EINVAL;
    }
    /* The finite rows, packed: the kind sees a clean sample. */
    size_t finite = 0;
    for (size_t i = 0; i < n; i++)
        finite += row_finite(rows + i * dims, dims);
    const double *sample = rows;
    double *packed = NULL, *scores = NULL;
    size_t packed_bytes = finite * dims * sizeof(double);
    if (finite < n) {
        packed = mw_detector_scratch(d, packed_bytes + 1);
        scores = mw_detector_scratch(d, finite * sizeof(double) + 1);
        if (packed == NULL || scores == NULL) {
            mw_detector_scratch_free(d, packed, packed_bytes + 1);
            mw_detector_scratch_free(d, scores, finite * sizeof(double) + 1);
            snprintf(err, MW_DETECT_ERRLEN, "%s", mw_strerror(mw_detector_scratch_status(d)));
            return mw_detector_scratch_status(d);
        }
        for (size_t i = 0, j = 0; i < n; i++)
            if (row_finite(rows + i * dims, dims))
                memcpy(packed + dims * j++, rows + i * dims, dims * sizeof(double));
        sample = packed;
    }
    /* The kind reads d->dims: a detector that has seen no row yet takes
     * the sample's width for the call (a copy, so d stays as it was). */
    mw_detector view = *d;
    view.dims = dims;
    err[0] = '\0';
    mw_status status = d->type->test_rows(&view, sample, finite, packed ? scores : out, err);
    if (status == MW_OK && packed != NULL)
        for (size_t i = 0, j = 0; i < n; i++)
            out[i] = row_finite(rows + i * dims, dims) ? scores[j++] : NAN;
    mw_detector_scratch_free(d, packed, packed_bytes + 1);
    mw_detector_scratch_free(d, scores, finite * sizeof(double) + 1);
    if (status != MW_OK && err[0] == '\0')
        snprintf(err, MW_DETECT_ERRLEN, "%s", mw_strerror(status));
    return status;
}

double mw_detect_row_update(mw_detector *d, double x, double t)
{
    char err[MW_DETECT_ERRLEN];
    if (mw_detector_set_dims(d, 1, err) != MW_OK) {
        d->n_learned--;      /* mw_detector_update counted it */
        return NAN;
    }
    return d->type->update_row(d, &x, t);
}

double mw_detect_row_score(const mw_detector *d, double x, double t)
{
    if (d->dims != 1)
        return NAN;
    return d->type->score_row(d, &x, t);
}

/* ---- saved state --------------------------------------------------- */

void mw_detector_save(const mw_detector *d, mw_blob_writer *w)
{
    size_t start = w->len;
    size_t name_len = strlen(d->type->name);
    mw_blob_put_bytes(w, DETECT_MAGIC, 4);
    mw_blob_put_u8(w, DETECT_FORMAT);
    mw_blob_put_u8(w, (uint8_t)name_len);
    mw_blob_put_bytes(w, d->type->name, name_len);
    mw_blob_put_u8(w, (uint8_t)d->type->n_params);
    mw_blob_put_f64s(w, d->params, d->type->n_params);
    mw_blob_put_u64(w, d->n_learned);
    if (mw_detector_is_multi(d))
        mw_blob_put_u64(w, d->dims);
    if (d->type->save != NULL && (!mw_detector_is_multi(d) || d->dims > 0))
        d->type->save(d, w);
    if (w->status == MW_OK)
        mw_blob_put_u64(w, mw_blob_checksum(w->data + start, w->len - start));
}

/* Reads one container of len bytes at data (which must be exactly one). */
mw_detector *mw_detector_load(mw_alloc *alloc, const void *data, size_t len,
                              mw_status *status, char *err)
{
    mw_blob_reader r;
    mw_blob_reader_init(&r, data, len);
    *status = MW_EINVAL;
    const char *magic = mw_blob_get_bytes(&r, 4);
    if (magic == NULL || memcmp(magic, DETECT_MAGIC, 4) != 0) {
        snprintf(err, MW_DETECT_ERRLEN, "not a saved detector state");
        return NULL;
    }
    unsigned version = mw_blob_get_u8(&r);
    if (!r.failed && version != DETECT_FORMAT) {
        snprintf(err, MW_DETECT_ERRLEN,
                 "saved in format %u; this moonwatch reads format %d", version,
                 DETECT_FORMAT);
        return NULL;
    }
    if (len < r.pos + 8) {
        snprintf(err, MW_DETECT_ERRLEN, "truncated (%zu bytes)", len);
        return NULL;
    }
    mw_blob_reader tail;
    mw_blob_reader_init(&tail, (const unsigned char *)data + len - 8, 8);
    if (mw_blob_checksum(data, len - 8) != mw_blob_get_u64(&tail)) {
        snprintf(err, MW_DETECT_ERRLEN, "corrupt or truncated (checksum mismatch)");
        return NULL;
    }
    r.len = len - 8;

    unsigned name_len = mw_blob_get_u8(&r);
    const char *name = mw_blob_get_bytes(&r, name_len);
    char name_buf[256];
    if (name != NULL) {
        memcpy(name_buf, name, name_len);
        name_buf[name_len] = '\0';
    }
    const mw_detector_type *type = name != NULL ? mw_detect_find(name_buf) : NULL;
    if (name != NULL && type == NULL) {
        snprintf(err, MW_DETECT_ERRLEN, "unknown detector '%.64s'", name_buf);
        return NULL;
    }
    unsigned n_params = mw_blob_get_u8(&r);
    if (!r.failed && n_params != type->n_params) {
        snprintf(err, MW_DETECT_ERRLEN, "'%s' saved with %u parameters, expected %zu",
                 type->name, n_params, type->n_params);
        return NULL;
    }
    double values[MW_DETECT_MAX_PARAMS];
    mw_blob_get_f64s(&r, values, r.failed ? 0 : n_params);
    uint64_t n_learned = mw_blob_get_u64(&r);
    if (r.failed) {
        snprintf(err, MW_DETECT_ERRLEN, "%s", r.err);
        return NULL;
    }
    mw_detector *d = mw_detector_new(alloc, type, values, status, err);
    if (d == NULL)
        return NULL;
    d->n_learned = n_learned;
    if (mw_detector_is_multi(d)) {
        size_t dims = mw_blob_get_count(&r, MW_DETECT_MAX_DIMS, "row width");
        if (!r.failed && dims > 0) {
            mw_status s = mw_detector_set_dims(d, dims, err);
            if (s != MW_OK) {
                mw_detector_free(d);
                *status = s;
                return NULL;
            }
        }
        if (!r.failed && dims == 0 && n_learned > 0)
            mw_blob_fail(&r, "%llu rows learned but no row width", (unsigned long long)n_learned);
    }
    if (type->load != NULL && (!mw_detector_is_multi(d) || d->dims > 0) && !r.failed
        && type->load(d, &r) != 0 && !r.failed)
        mw_blob_fail(&r, "invalid state");
    if (!r.failed && r.pos != r.len)
        mw_blob_fail(&r, "%zu unexpected bytes after the state", r.len - r.pos);
    if (r.failed) {
        snprintf(err, MW_DETECT_ERRLEN, "'%.32s': %.200s", type->name, r.err);
        mw_detector_free(d);
        *status = r.status;
        return NULL;
    }
    *status = MW_OK;
    return d;
}

mw_detector *mw_detector_clone(const mw_detector *d, mw_status *status, char *err)
{
    mw_blob_writer w;
    mw_blob_writer_init(&w, d->alloc);
    mw_detector_save(d, &w);
    mw_detector *copy = NULL;
    if (w.status != MW_OK) {
        *status = w.status;
        snprintf(err, MW_DETECT_ERRLEN, "%s", mw_strerror(w.status));
    } else {
        copy = mw_detector_load(d->alloc, w.data, w.len, status, err);
    }
    mw_blob_writer_free(&w);
    return copy;
}
