/*
 * window.c: the sliding window of detectors (see window.h).
 */
#include "detect/window.h"

#include <string.h>

mw_status mw_window_init(mw_window *w, mw_detector *d, size_t cap)
{
    memset(w, 0, sizeof *w);
    if (cap == 0 || cap > SIZE_MAX / sizeof(double))
        return MW_EINVAL;
    w->data = mw_detector_alloc(d, cap * sizeof(double));
    if (w->data == NULL)
        return d->alloc->last_error != MW_OK ? d->alloc->last_error : MW_ENOMEM;
    w->cap = cap;
    w->inv_cap = 1.0 / (double)cap;
    return MW_OK;
}

void mw_window_free(mw_window *w, mw_detector *d)
{
    mw_detector_dealloc(d, w->data, w->cap * sizeof(double));
    w->data = NULL;
}

void mw_window_clear(mw_window *w)
{
    w->count = 0;
    w->head = 0;
    w->since_exact = 0;
    w->run = 0;
    w->mean = 0.0;
    w->m2 = 0.0;
}

void mw_window_recompute(mw_window *w)
{
    double sum = 0.0;
    for (size_t i = 0; i < w->count; i++)
        sum += w->data[i];
    double mean = w->count > 0 ? sum / (double)w->count : 0.0;
    double m2 = 0.0;
    for (size_t i = 0; i < w->count; i++) {
        double dev = w->data[i] - mean;
        m2 += dev * dev;
    }
    w->mean = mean;
    w->m2 = m2;
    w->since_exact = 0;
}

void mw_window_save(const mw_window *w, mw_blob_writer *out)
{
    mw_blob_put_u64(out, w->count);
    mw_blob_put_u64(out, w->head);
    mw_blob_put_u64(out, w->since_exact);
    mw_blob_put_f64(out, w->mean);
    mw_blob_put_f64(out, w->m2);
    mw_blob_put_f64s(out, w->data, w->count);
}

int mw_window_load(mw_window *w, mw_blob_reader *r)
{
    w->count = mw_blob_get_count(r, w->cap, "window count");
    w->head = mw_blob_get_count(r, w->cap - 1, "window position");
    w->since_exact = mw_blob_get_count(r, w->cap - 1, "window age");
    w->mean = mw_blob_get_f64(r);
    w->m2 = mw_blob_get_f64(r);
    mw_blob_get_f64s(r, w->data, r->failed ? 0 : w->count);
    if (!r->failed && w->count < w->cap && w->head != w->count)
        mw_blob_fail(r, "window position %zu does not match its count %zu", w->head,
                     w->count);
    for (size_t i = 0; !r->failed && i < w->count; i++)
        if (!(w->data[i] - w->data[i] == 0.0))
            mw_blob_fail(r, "window value %zu is not finite", i);
    if (r->failed) {
        mw_window_clear(w);
        return 1;
    }
    /* The run of equal newest values: derived, so not saved. */
    w->run = w->count > 0;
    while (w->run < w->count && mw_window_back(w, w->run) == mw_window_back(w, 0))
        w->run++;
    return 0;
}
