/*
 * neighbours.c: brute-force k-nearest-neighbour search (see neighbours.h).
 */
#include "detect/neighbours.h"

#include <math.h>
#include <string.h>

/* The squared distance of a and b, or a partial sum of it once that sum
 * reaches bound (the caller rejects anything >= bound, so the rest of
 * the sum would not change its decision). The order of the additions is
 * the same whether or not it stops early. */
static inline double nn_dist2(const double *a, const double *b, size_t dims, double bound)
{
    double acc = 0.0;
    size_t j = 0;
    for (; j + 4 <= dims; j += 4) {
        double d0 = a[j] - b[j], d1 = a[j + 1] - b[j + 1];
        double d2 = a[j + 2] - b[j + 2], d3 = a[j + 3] - b[j + 3];
        acc += (d0 * d0 + d1 * d1) + (d2 * d2 + d3 * d3);
        if (acc >= bound)
            return acc;
    }
    for (; j < dims; j++) {
        double d = a[j] - b[j];
        acc += d * d;
    }
    return acc;
}

size_t mw_nn_nearest(const double *rows, size_t n, size_t dims, const double *q, size_t k,
                     size_t skip, double *dist2, uint32_t *idx)
{
    size_t found = 0;
    double worst = INFINITY;   /* the k-th distance once k are found */
    for (size_t i = 0; i < n; i++) {
        if (i == skip)
            continue;
        double d = nn_dist2(rows + i * dims, q, dims, worst);
        /* Until k are found every row counts, even one whose squared
         * distance overflowed to infinity (finite rows 1e300 apart):
         * callers read k neighbours whenever n - (skip < n) >= k. */
        if (found == k ? !(d < worst) : isnan(d))
            continue;
        /* Insert d into the sorted list, dropping the k-th if full. */
        size_t at = found < k ? found++ : k - 1;
        while (at > 0 && dist2[at - 1] > d) {
            dist2[at] = dist2[at - 1];
            if (idx != NULL)
                idx[at] = idx[at - 1];
            at--;
        }
        dist2[at] = d;
        if (idx != NULL)
            idx[at] = (uint32_t)i;
        if (found == k)
            worst = dist2[k - 1];
    }
    return found;
}

size_t mw_nn_rows_bytes(size_t cap, size_t dims)
{
    if (cap == 0 || dims == 0 || cap > SIZE_MAX / sizeof(double) / dims)
        return 0;
    return cap * dims * sizeof(double);
}

size_t mw_nn_rows_push(mw_nn_rows *w, const double *row)
{
    size_t slot = w->next;
    memcpy(w->rows + slot * w->dims, row, w->dims * sizeof *row);
    w->next = slot + 1 == w->cap ? 0 : slot + 1;
    if (w->count < w->cap)
        w->count++;
    return slot;
}

void mw_nn_rows_save(const mw_nn_rows *w, mw_blob_writer *b)
{
    mw_blob_put_u64(b, w->count);
    mw_blob_put_u64(b, w->next);
    mw_blob_put_f64s(b, w->rows, w->count * w->dims);
}

int mw_nn_rows_load(mw_nn_rows *w, mw_blob_reader *r)
{
    w->count = mw_blob_get_count(r, w->cap, "window count");
    w->next = mw_blob_get_count(r, w->cap - 1, "window position");
    if (!r->failed && w->count < w->cap && w->next != w->count)
        mw_blob_fail(r, "window position %zu with %zu rows held", w->next, w->count);
    if (r->failed)
        return 1;
    size_t n = w->count * w->dims;
    mw_blob_get_f64s(r, w->rows, n);
    for (size_t i = 0; i < n && !r->failed; i++)
        if (!isfinite(w->rows[i]))
            mw_blob_fail(r, "row %zu holds a non-finite value", i / w->dims);
    return r->failed;
}
