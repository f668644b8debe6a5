/*
 * neighbours.h: exact k-nearest-neighbour search by brute force, for the
 * neighbour kinds (knn.c, lof.c).
 *
 * Rows are row-major arrays of `dims` doubles; distances are Euclidean,
 * computed and compared squared (the square root only for the k kept).
 * A search is one pass over the rows with a sorted list of the k best so
 * far: a row farther than the current k-th is rejected after one
 * comparison, often before all its dims are summed (the partial sum is
 * checked every 4 values), so the cost is O(n * dims) with no sort of
 * the n distances.
 *
 * Ties go to the earlier row (a strict comparison), so a search is
 * deterministic for a given order of rows. Nothing here allocates.
 *
 * mw_nn_rows is the window both kinds keep: a ring of `cap` rows. While
 * it is not full, rows sit in slots 0..count-1 and next == count; once
 * full, next is the oldest row's slot, overwritten by the next push.
 */
#ifndef MW_NEIGHBOURS_H
#define MW_NEIGHBOURS_H

#include <stddef.h>
#include <stdint.h>

#include "detect/blob.h"

/* Neighbours a search returns at most: callers keep them on the stack. */
#define MW_NN_MAX_K 1000

/* The k nearest of rows[0..n) to q, leaving out row `skip` (pass n or
 * more to leave out none): their squared distances in ascending order in
 * dist2[0..found) and their indices in idx[0..found) (idx may be NULL).
 * Returns found = min(k, rows considered). k <= MW_NN_MAX_K. */
size_t mw_nn_nearest(const double *rows, size_t n, size_t dims, const double *q, size_t k,
                     size_t skip, double *dist2, uint32_t *idx);

typedef struct mw_nn_rows {
    double *rows;            /* cap * dims values (the detector's memory) */
    size_t cap, dims;
    size_t count;            /* rows held, at most cap */
    size_t next;             /* the slot the next push writes */
} mw_nn_rows;

/* Bytes of a window of cap rows of dims values, or 0 if that overflows. */
size_t mw_nn_rows_bytes(size_t cap, size_t dims);

/* Stores row (w->dims values) in the next slot, evicting the oldest row
 * when full; returns the slot. */
size_t mw_nn_rows_push(mw_nn_rows *w, const double *row);

/* Writes count and next, then the rows held (slots 0..count-1). */
void mw_nn_rows_save(const mw_nn_rows *w, mw_blob_writer *b);

/* Reads what mw_nn_rows_save wrote into w (its rows allocated, cap and
 * dims set), checking count and next against cap and the invariant
 * above, and every value finite; returns r->failed. */
int mw_nn_rows_load(mw_nn_rows *w, mw_blob_reader *r);

#endif /* MW_NEIGHBOURS_H */
