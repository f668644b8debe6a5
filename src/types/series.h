/*
 * series.h: columns of float64 values with optional int64 timestamps,
 * and the shared buffers under them.
 *
 * A buffer is a plain refcounted array of 8-byte elements (doubles for
 * values, int64 for timestamps). A series is a window (offset, length) on
 * a values buffer and, optionally, on a timestamps buffer of the same
 * layout. Slices are series on the same buffers: writes through one are
 * seen by all, and a buffer lives while any series uses it, so releasing
 * the series a slice came from never invalidates the slice.
 *
 * A series always reads its data through its buffer (buffer->data +
 * offset), never through a cached pointer, because appending to the base
 * series may move the buffer. Only a series that spans its whole buffers
 * (not a slice) can grow; growth is by half, so appends are amortised
 * O(1), and constructors allocate exactly n elements: a series of n
 * values costs 8n bytes of buffer plus its fixed headers.
 *
 * Neither type holds a reference that can lead back to itself, so neither
 * is tracked by the cycle collector.
 *
 * Timestamps are integers in the unit the user chose (epoch milliseconds
 * by default for parsed dates; the type does not interpret them).
 */
#ifndef MW_SERIES_H
#define MW_SERIES_H

#include <stddef.h>
#include <stdint.h>

#include "core/heap.h"

typedef struct mw_buffer {
    mw_object ob;
    size_t len;              /* elements in use (the base series' length) */
    size_t cap;              /* elements allocated */
    union {
        double *f;
        int64_t *i;
    } data;
} mw_buffer;

typedef struct mw_series {
    mw_object ob;
    mw_buffer *values;       /* owned reference */
    mw_buffer *stamps;       /* owned reference, or NULL: no timestamps */
    size_t offset;
    size_t len;
    int view;                /* made by mw_series_slice: never grows */
} mw_series;

extern const mw_type mw_buffer_type;
extern const mw_type mw_series_type;

static inline mw_series *mw_series_cast(mw_object *o)
{
    return (mw_series *)(void *)o;
}

static inline int mw_is_series(const mw_object *o)
{
    return o->type == &mw_series_type;
}

/* The values (or timestamps) of s, valid until the next call that may
 * grow the buffer. An empty buffer has no data: NULL then (adding even a
 * zero offset to a null pointer is undefined). */
static inline double *mw_series_values(const mw_series *s)
{
    return s->values->data.f != NULL ? s->values->data.f + s->offset : NULL;
}

static inline int64_t *mw_series_stamps(const mw_series *s)
{
    return s->stamps != NULL && s->stamps->data.i != NULL ? s->stamps->data.i + s->offset
                                                          : NULL;
}

/* Returns a new reference to a series of n values (uninitialised unless
 * zero is set) with timestamps if with_stamps, or NULL when memory runs
 * out. */
mw_series *mw_series_new(mw_heap *heap, size_t n, int with_stamps, int zero);

/* Returns a new reference to the series of elements [start, start + n)
 * of s, sharing its buffers. start + n <= s->len (MW_ERANGE otherwise,
 * reported through mw_heap_last_error). */
mw_series *mw_series_slice(mw_heap *heap, mw_series *s, size_t start, size_t n);

/* Returns a new reference to a copy of s with buffers of its own. */
mw_series *mw_series_copy(mw_heap *heap, const mw_series *s);

/* Checks whether s is not a slice and spans the whole of its buffers (so
 * it may grow). */
int mw_series_owns_buffers(const mw_series *s);

/* Appends a value (and a timestamp, if s has timestamps). MW_EINVAL for
 * a slice, MW_ENOMEM / MW_EBUDGET when memory runs out (s unchanged). */
mw_status mw_series_append(mw_heap *heap, mw_series *s, double value, int64_t stamp);

/* Shortens a series that owns its buffers to n <= len values (the
 * capacity is kept for reuse). MW_EINVAL for a slice or a longer n. */
mw_status mw_series_truncate(mw_series *s, size_t n);

/* Gives back the capacity of s's buffers beyond its length (s owns its
 * buffers). A failure to shrink is harmless: the buffers stay as they
 * were. */
void mw_series_compact(mw_heap *heap, mw_series *s);

/* Adds a timestamps buffer (zeroed) to a series without one. MW_EINVAL
 * for a slice. */
mw_status mw_series_add_stamps(mw_heap *heap, mw_series *s);

#endif /* MW_SERIES_H */
