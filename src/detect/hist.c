/*
 * hist.c: banks of static-width histograms (see hist.h).
 */
#include "detect/hist.h"

#include <string.h>

mw_status mw_hist_init(mw_hist *h, mw_detector *d, size_t m, size_t bins)
{
    memset(h, 0, sizeof *h);
    h->m = m;
    h->bins = bins;
    if (bins > 0 && m > SIZE_MAX / sizeof(uint64_t) / bins)
        return MW_ENOMEM;
    h->lo = mw_detector_alloc(d, m * sizeof *h->lo);
    h->hi = mw_detector_alloc(d, m * sizeof *h->hi);
    h->inv_width = mw_detector_alloc(d, m * sizeof *h->inv_width);
    h->peak = mw_detector_alloc(d, m * sizeof *h->peak);
    h->counts = mw_detector_alloc(d, m * bins * sizeof *h->counts);
    if (h->lo == NULL || h->hi == NULL || h->inv_width == NULL || h->peak == NULL
        || h->counts == NULL) {
        mw_hist_free(h, d);
        return d->alloc->last_error != MW_OK ? d->alloc->last_error : MW_ENOMEM;
    }
    mw_hist_clear(h);
    return MW_OK;
}

void mw_hist_free(mw_hist *h, mw_detector *d)
{
    if (h->lo != NULL)
        mw_detector_dealloc(d, h->lo, h->m * sizeof *h->lo);
    if (h->hi != NULL)
        mw_detector_dealloc(d, h->hi, h->m * sizeof *h->hi);
    if (h->inv_width != NULL)
        mw_detector_dealloc(d, h->inv_width, h->m * sizeof *h->inv_width);
    if (h->peak != NULL)
        mw_detector_dealloc(d, h->peak, h->m * sizeof *h->peak);
    if (h->counts != NULL)
        mw_detector_dealloc(d, h->counts, h->m * h->bins * sizeof *h->counts);
    memset(h, 0, sizeof *h);
}

void mw_hist_clear(mw_hist *h)
{
    for (size_t k = 0; k < h->m; k++) {
        h->lo[k] = h->hi[k] = h->inv_width[k] = 0.0;
        h->peak[k] = 0;
    }
    memset(h->counts, 0, h->m * h->bins * sizeof *h->counts);
    h->rows = 0;
}

void mw_hist_set_range(mw_hist *h, size_t k, double lo, double hi)
{
    h->lo[k] = lo;
    h->hi[k] = hi;
    double width = hi - lo;  /* may overflow to inf: then every value is in bin 0 */
    h->inv_width[k] = width > 0.0 ? (double)h->bins / width : 0.0;
}

void mw_hist_save(const mw_hist *h, mw_blob_writer *w)
{
    mw_blob_put_u64(w, h->rows);
    for (size_t k = 0; k < h->m; k++) {
        mw_blob_put_f64(w, h->lo[k]);
        mw_blob_put_f64(w, h->hi[k]);
    }
    for (size_t i = 0; i < h->m * h->bins; i++)
        mw_blob_put_u64(w, h->counts[i]);
}

void mw_hist_load(mw_hist *h, mw_blob_reader *r)
{
    h->rows = mw_blob_get_u64(r);
    for (size_t k = 0; k < h->m && !r->failed; k++) {
        double lo = mw_blob_get_finite(r, "histogram range");
        double hi = mw_blob_get_finite(r, "histogram range");
        if (!r->failed && !(lo <= hi))
            mw_blob_fail(r, "histogram range reversed");
        if (!r->failed)
            mw_hist_set_range(h, k, lo, hi);
    }
    for (size_t k = 0; k < h->m && !r->failed; k++) {
        h->peak[k] = 0;
        for (size_t b = 0; b < h->bins; b++) {
            uint64_t c = mw_blob_get_count(r, h->rows, "histogram count");
            h->counts[k * h->bins + b] = c;
            if (c > h->peak[k])
                h->peak[k] = c;
        }
    }
}

mw_status mw_hist_warmup_init(mw_hist_warmup *w, mw_detector *d, size_t window)
{
    memset(w, 0, sizeof *w);
    if (d->dims == 0 || window > SIZE_MAX / sizeof(double) / d->dims)
        return MW_ENOMEM;
    w->rows = mw_detector_alloc(d, window * d->dims * sizeof *w->rows);
    if (w->rows == NULL)
        return d->alloc->last_error != MW_OK ? d->alloc->last_error : MW_ENOMEM;
    w->window = window;
    w->dims = d->dims;
    return MW_OK;
}

void mw_hist_warmup_free(mw_hist_warmup *w, mw_detector *d)
{
    if (w->rows != NULL)
        mw_detector_dealloc(d, w->rows, w->window * w->dims * sizeof *w->rows);
    w->rows = NULL;
}

void mw_hist_warmup_save(const mw_hist_warmup *w, mw_blob_writer *out)
{
    mw_blob_put_u8(out, (uint8_t)w->ready);
    if (!w->ready) {
        mw_blob_put_u64(out, w->count);
        mw_blob_put_f64s(out, w->rows, w->count * w->dims);
    }
}

int mw_hist_warmup_load(mw_hist_warmup *w, mw_blob_reader *r)
{
    int ready = mw_blob_get_u8(r);
    if (!r->failed && ready > 1)
        mw_blob_fail(r, "bad ready flag");
    if (r->failed)
        return -1;
    if (ready) {
        w->count = 0;
        return 1;
    }
    w->count = (size_t)mw_blob_get_count(r, w->window - 1, "buffered rows");
    mw_blob_get_f64s(r, w->rows, r->failed ? 0 : w->count * w->dims);
    for (size_t i = 0; !r->failed && i < w->count * w->dims; i++)
        if (w->rows[i] - w->rows[i] != 0.0)
            mw_blob_fail(r, "buffered value %zu is not finite", i);
    w->ready = 0;
    return r->failed ? -1 : 0;
}
