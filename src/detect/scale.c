/*
 * scale.c: streaming min-max and standard scaling of rows (see scale.h).
 */
#include "detect/scale.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define SCALE_MAGIC "MWSC"
#define SCALE_FORMAT 1
#define SCALE_FLAGS (MW_SCALE_CLIP | MW_SCALE_NO_MEAN | MW_SCALE_NO_STD)

const char *mw_scale_kind_name(mw_scale_kind kind)
{
    return kind == MW_SCALE_MINMAX ? "minmax" : "standard";
}

mw_scaler *mw_scaler_new(mw_alloc *alloc, mw_scale_kind kind, uint64_t min_periods,
                         unsigned flags, mw_status *status)
{
    mw_scaler *s = mw_alloc_malloc(alloc, MW_DOMAIN_NATIVE, sizeof *s);
    if (s == NULL) {
        *status = alloc->last_error != MW_OK ? alloc->last_error : MW_ENOMEM;
        return NULL;
    }
    memset(s, 0, sizeof *s);
    s->alloc = alloc;
    s->kind = kind;
    s->flags = flags & SCALE_FLAGS;
    s->min_periods = min_periods > 0 ? min_periods : 1;
    s->bytes = sizeof *s;
    *status = MW_OK;
    return s;
}

void mw_scaler_free(mw_scaler *s)
{
    if (s == NULL)
        return;
    if (s->a != NULL)
        mw_alloc_free(s->alloc, MW_DOMAIN_NATIVE, s->a, 2 * s->dims * sizeof(double));
    mw_alloc_free(s->alloc, MW_DOMAIN_NATIVE, s, sizeof *s);
}

mw_status mw_scaler_set_dims(mw_scaler *s, size_t dims, char *err)
{
    if (dims == s->dims)
        return MW_OK;
    if (dims == 0 || dims > MW_SCALE_MAX_DIMS) {
        snprintf(err, MW_SCALE_ERRLEN, "rows must have 1 to %d values (got %zu)",
                 MW_SCALE_MAX_DIMS, dims);
        return MW_EINVAL;
    }
    if (s->dims != 0) {
        snprintf(err, MW_SCALE_ERRLEN, "rows of %zu value%s, but this scaler scales rows of %zu",
                 dims, dims == 1 ? "" : "s", s->dims);
        return MW_EINVAL;
    }
    double *arrays = mw_alloc_malloc(s->alloc, MW_DOMAIN_NATIVE, 2 * dims * sizeof(double));
    if (arrays == NULL) {
        mw_status status = s->alloc->last_error != MW_OK ? s->alloc->last_error : MW_ENOMEM;
        snprintf(err, MW_SCALE_ERRLEN, "%s", mw_strerror(status));
        return status;
    }
    s->dims = dims;
    s->a = arrays;
    s->b = arrays + dims;
    s->bytes += 2 * dims * sizeof(double);
    mw_scaler_reset(s);
    return MW_OK;
}

void mw_scaler_reset(mw_scaler *s)
{
    s->count = 0;
    if (s->dims > 0) {
        memset(s->a, 0, s->dims * sizeof(double));
        memset(s->b, 0, s->dims * sizeof(double));
    }
}

/* Whether all of the row's values are finite. */
static int scale_finite(const double *row, size_t dims)
{
    double acc = 0.0;
    for (size_t k = 0; k < dims; k++)
        acc += row[k] - row[k];
    return acc == 0.0;
}

void mw_scaler_update(mw_scaler *s, const double *row, double *out)
{
    if (scale_finite(row, s->dims)) {
        uint64_t n = ++s->count;
        if (s->kind == MW_SCALE_MINMAX) {
            for (size_t k = 0; k < s->dims; k++) {
                if (n == 1 || row[k] < s->a[k])
                    s->a[k] = row[k];
                if (n == 1 || row[k] > s->b[k])
                    s->b[k] = row[k];
            }
        } else {
            double inv_n = 1.0 / (double)n;
            for (size_t k = 0; k < s->dims; k++) {
                double delta = row[k] - s->a[k];
                s->a[k] += delta * inv_n;
                s->b[k] += delta * (row[k] - s->a[k]);
            }
        }
    }
    mw_scaler_transform(s, row, out);
}

void mw_scaler_transform(const mw_scaler *s, const double *row, double *out)
{
    size_t dims = s->dims;
    if (s->count < s->min_periods) {
        for (size_t k = 0; k < dims; k++)
            out[k] = NAN;
        return;
    }
    if (s->kind == MW_SCALE_MINMAX) {
        int clip = (s->flags & MW_SCALE_CLIP) != 0;
        for (size_t k = 0; k < dims; k++) {
            double range = s->b[k] - s->a[k];
            double y = (row[k] - s->a[k]) / (range > 0.0 ? range : 1.0);
            if (clip)
                y = y < 0.0 ? 0.0 : y > 1.0 ? 1.0 : y;
            out[k] = y;
        }
        return;
    }
    double inv_n = 1.0 / (double)s->count;
    for (size_t k = 0; k < dims; k++) {
        double mean = s->a[k];
        double y = s->flags & MW_SCALE_NO_MEAN ? row[k] : row[k] - mean;
        if (!(s->flags & MW_SCALE_NO_STD)) {
            double std = sqrt(s->b[k] * inv_n);
            double floor = 1e-12 * (fabs(mean) > 1.0 ? fabs(mean) : 1.0);
            if (std >= floor)
                y /= std;
        }
        out[k] = y;
    }
}

void mw_scaler_save(const mw_scaler *s, mw_blob_writer *w)
{
    size_t start = w->len;
    mw_blob_put_bytes(w, SCALE_MAGIC, 4);
    mw_blob_put_u8(w, SCALE_FORMAT);
    mw_blob_put_u8(w, (uint8_t)s->kind);
    mw_blob_put_u64(w, s->min_periods);
    mw_blob_put_u8(w, (uint8_t)s->flags);
    mw_blob_put_u64(w, s->dims);
    mw_blob_put_u64(w, s->count);
    if (s->dims > 0) {
        mw_blob_put_f64s(w, s->a, s->dims);
        mw_blob_put_f64s(w, s->b, s->dims);
    }
    if (w->status == MW_OK)
        mw_blob_put_u64(w, mw_blob_checksum(w->data + start, w->len - start));
}

/* Checks a loaded minmax scaler: finite min <= max once rows are
 * learned (they are values seen). A standard scaler's running figures
 * load as they were: extreme input may have overflowed them. */
static void scale_check(const mw_scaler *s, mw_blob_reader *r)
{
    if (s->count == 0 || s->kind != MW_SCALE_MINMAX)
        return;
    for (size_t k = 0; k < s->dims && !r->failed; k++)
        if (!(isfinite(s->a[k]) && isfinite(s->b[k]) && s->a[k] <= s->b[k]))
            mw_blob_fail(r, "feature %zu: range [%g, %g] is not a finite interval", k + 1,
                         s->a[k], s->b[k]);
}

mw_scaler *mw_scaler_load(mw_alloc *alloc, const void *data, size_t len, mw_status *status,
                          char *err)
{
    mw_blob_reader r;
    mw_blob_reader_init(&r, data, len);
    *status = MW_EINVAL;
    const char *magic = mw_blob_get_bytes(&r, 4);
    if (magic == NULL || memcmp(magic, SCALE_MAGIC, 4) != 0) {
        snprintf(err, MW_SCALE_ERRLEN, "not a saved scaler state");
        return NULL;
    }
    unsigned version = mw_blob_get_u8(&r);
    if (!r.failed && version != SCALE_FORMAT) {
        snprintf(err, MW_SCALE_ERRLEN, "saved in format %u; this moonwatch reads format %d",
                 version, SCALE_FORMAT);
        return NULL;
    }
    if (len < r.pos + 8) {
        snprintf(err, MW_SCALE_ERRLEN, "truncated (%zu bytes)", len);
        return NULL;
    }
    mw_blob_reader tail;
    mw_blob_reader_init(&tail, (const unsigned char *)data + len - 8, 8);
    if (mw_blob_checksum(data, len - 8) != mw_blob_get_u64(&tail)) {
        snprintf(err, MW_SCALE_ERRLEN, "corrupt or truncated (checksum mismatch)");
        return NULL;
    }
    r.len = len - 8;
    unsigned kind = mw_blob_get_u8(&r);
    uint64_t min_periods = mw_blob_get_u64(&r);
    unsigned flags = mw_blob_get_u8(&r);
    size_t dims = mw_blob_get_count(&r, MW_SCALE_MAX_DIMS, "row width");
    uint64_t count = mw_blob_get_u64(&r);
    if (!r.failed && (kind > MW_SCALE_STANDARD || (flags & ~SCALE_FLAGS) != 0
                      || min_periods == 0 || (dims == 0 && count > 0)))
        mw_blob_fail(&r, "kind %u, flags %u, min_periods %llu, %llu rows of width %zu", kind,
                     flags, (unsigned long long)min_periods, (unsigned long long)count, dims);
    if (r.failed) {
        snprintf(err, MW_SCALE_ERRLEN, "%s", r.err);
        return NULL;
    }
    mw_scaler *s = mw_scaler_new(alloc, (mw_scale_kind)kind, min_periods, flags, status);
    if (s == NULL) {
        snprintf(err, MW_SCALE_ERRLEN, "%s", mw_strerror(*status));
        return NULL;
    }
    if (dims > 0) {
        *status = mw_scaler_set_dims(s, dims, err);
        if (*status != MW_OK) {
            mw_scaler_free(s);
            return NULL;
        }
        mw_blob_get_f64s(&r, s->a, dims);
        mw_blob_get_f64s(&r, s->b, dims);
    }
    s->count = count;
    if (!r.failed)
        scale_check(s, &r);
    if (!r.failed && r.pos != r.len)
        mw_blob_fail(&r, "%zu unexpected bytes after the state", r.len - r.pos);
    if (r.failed) {
        snprintf(err, MW_SCALE_ERRLEN, "%s", r.err);
        mw_scaler_free(s);
        *status = MW_EINVAL;
        return NULL;
    }
    *status = MW_OK;
    return s;
}
