/*
 * frame.h: named columns of equal length, a batch of records.
 *
 * A frame holds each column as a view (a slice of the whole series given:
 * mw_series_slice) and its name (a str), in insertion order. Columns share
 * their buffers, not copies: writes to a column are writes to the series
 * it came from and back. Being views, columns cannot grow, so every
 * column keeps `nrows` values; adding a column of another length fails.
 * Frames hold only series and strings, which never reference frames, so
 * a frame cannot be part of a cycle and is not tracked by the collector.
 */
#ifndef MW_FRAME_H
#define MW_FRAME_H

#include <stddef.h>

#include "core/heap.h"
#include "types/series.h"
#include "types/str.h"

typedef struct mw_frame {
    mw_object ob;
    size_t ncols;
    size_t cap;
    size_t nrows;
    mw_str **names;          /* owned references */
    mw_series **cols;        /* owned references */
} mw_frame;

extern const mw_type mw_frame_type;

static inline mw_frame *mw_frame_cast(mw_object *o)
{
    return (mw_frame *)(void *)o;
}

/* Returns a new reference to an empty frame, or NULL. */
mw_frame *mw_frame_new(mw_heap *heap);

/* Index of the column named by len bytes at name, or -1. */
long mw_frame_find(const mw_frame *f, const char *name, size_t len);

/* Adds column `name` (or replaces it) as a view of col (borrowed).
 * MW_ERANGE if its length differs from the frame's rows (when the frame
 * has other columns); MW_ENOMEM / MW_EBUDGET leave the frame as it was. */
mw_status mw_frame_set(mw_heap *heap, mw_frame *f, const char *name, size_t len,
                       mw_series *col);

/* Removes column `name`; no-op if absent. */
void mw_frame_remove(mw_heap *heap, mw_frame *f, const char *name, size_t len);

#endif /* MW_FRAME_H */
