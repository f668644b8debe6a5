/*
 * hist.h: a bank of m static-width histograms, the model of hbos (one per
 * feature) and loda (one per projection).
 *
 * Histogram k has `bins` bins of equal width over [lo[k], hi[k]], set
 * once (from a first window of rows or a fit) and then fixed: a value
 * outside the range falls in no bin. A constant range (lo == hi) has one
 * useful bin, 0, holding the value itself. Counts only grow, so each
 * histogram's largest count (peak) is kept as values are added.
 *
 * All memory comes from the detector (mw_detector_alloc).
 */
#ifndef MW_HIST_H
#define MW_HIST_H

#include "detect/detect.h"

typedef struct mw_hist {
    size_t m, bins;
    double *lo, *hi;         /* m ranges */
    double *inv_width;       /* m: bins / (hi - lo), 0 for a constant range */
    uint64_t *counts;        /* m * bins */
    uint64_t *peak;          /* m: the largest count of each histogram */
    uint64_t rows;           /* values added to histogram 0 (rows learned) */
} mw_hist;

/* Allocates m histograms of bins bins (charged to d), ranges [0, 0]. */
mw_status mw_hist_init(mw_hist *h, mw_detector *d, size_t m, size_t bins);
void mw_hist_free(mw_hist *h, mw_detector *d);
/* Zero counts, ranges [0, 0]. */
void mw_hist_clear(mw_hist *h);
/* Sets histogram k's range (lo <= hi, both finite). */
void mw_hist_set_range(mw_hist *h, size_t k, double lo, double hi);

/* Histogram k's bin of x, or -1 when x is outside its range. */
static inline long mw_hist_bin(const mw_hist *h, size_t k, double x)
{
    if (!(x >= h->lo[k] && x <= h->hi[k]))
        return -1;
    size_t b = (size_t)((x - h->lo[k]) * h->inv_width[k]);
    return b < h->bins ? (long)b : (long)h->bins - 1;
}

/* The count of x's bin in histogram k, with an empty bin (or a value
 * outside the range) counting as half a value, so logarithms stay finite. */
static inline double mw_hist_count(const mw_hist *h, size_t k, double x)
{
    long b = mw_hist_bin(h, k, x);
    uint64_t c = b < 0 ? 0 : h->counts[k * h->bins + (size_t)b];
    return c > 0 ? (double)c : 0.5;
}

/* Counts x in histogram k (nothing outside its range). */
static inline void mw_hist_add(mw_hist *h, size_t k, double x)
{
    long b = mw_hist_bin(h, k, x);
    if (b >= 0) {
        uint64_t c = ++h->counts[k * h->bins + (size_t)b];
        if (c > h->peak[k])
            h->peak[k] = c;
    }
}

/* Ranges, counts and rows; load checks every range and recomputes the
 * peaks (on failure r is failed and h may be partly read). */
void mw_hist_save(const mw_hist *h, mw_blob_writer *w);
void mw_hist_load(mw_hist *h, mw_blob_reader *r);

/* The first `window` rows of a stream, buffered until they set the
 * histograms' ranges (hbos and loda score them 0 meanwhile). */
typedef struct mw_hist_warmup {
    double *rows;            /* window * dims values, charged to the detector */
    size_t window, dims;
    size_t count;            /* rows buffered */
    int ready;               /* the ranges are set: buffering is over */
} mw_hist_warmup;

/* Allocates room for window rows of d->dims values (MW_ENOMEM if the size
 * overflows). */
mw_status mw_hist_warmup_init(mw_hist_warmup *w, mw_detector *d, size_t window);
void mw_hist_warmup_free(mw_hist_warmup *w, mw_detector *d);

/* Buffers row; returns 1 when the window is full: the caller then sets
 * the ranges from w->rows and marks the warm-up ready. */
static inline int mw_hist_warmup_add(mw_hist_warmup *w, const double *row)
{
    double *dst = w->rows + w->count * w->dims;
    for (size_t k = 0; k < w->dims; k++)
        dst[k] = row[k];
    return ++w->count == w->window;
}

/* u8 ready, then (not ready) u64 rows buffered and their values. Load
 * returns -1 when r failed, 0 when it read buffered rows, 1 when the
 * warm-up was over (the caller reads its histograms next). */
void mw_hist_warmup_save(const mw_hist_warmup *w, mw_blob_writer *out);
int mw_hist_warmup_load(mw_hist_warmup *w, mw_blob_reader *r);

#endif /* MW_HIST_H */
