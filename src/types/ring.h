/*
 * ring.h: a fixed-capacity window of doubles, the last `cap` values
 * pushed, with their mean and variance kept as values come and go.
 *
 * The values live in the object's own block (one allocation). Mean and
 * variance use Welford's updates for adding and removing a value; to
 * keep rounding from drifting over a long stream, they are recomputed
 * exactly from the window once every `cap` evictions (O(1) amortised).
 * NaN values are kept in the window but left out of the statistics.
 */
#ifndef MW_RING_H
#define MW_RING_H

#include <stddef.h>

#include "core/heap.h"

typedef struct mw_ring {
    mw_object ob;
    size_t cap;
    size_t count;            /* values in the window (<= cap) */
    size_t head;             /* index of the oldest value */
    size_t n_valid;          /* non-NaN values in the window */
    size_t since_exact;      /* evictions since the last exact recompute */
    double mean;
    double m2;               /* sum of squared deviations from the mean */
    double data[];
} mw_ring;

extern const mw_type mw_ring_type;

static inline mw_ring *mw_ring_cast(mw_object *o)
{
    return (mw_ring *)(void *)o;
}

/* Returns a new reference to an empty ring of capacity cap >= 1, or NULL. */
mw_ring *mw_ring_new(mw_heap *heap, size_t cap);

/* Pushes x; when the ring is full the oldest value leaves: returns 1 and
 * stores it in *evicted, else returns 0. */
int mw_ring_push(mw_ring *r, double x, double *evicted);

/* Value i (0 = oldest) of the window; i < count. */
static inline double mw_ring_get(const mw_ring *r, size_t i)
{
    return r->data[(r->head + i) % r->cap];
}

/* Variance of the non-NaN values with ddof; NaN if n_valid <= ddof. */
double mw_ring_var(const mw_ring *r, size_t ddof);

/* Empties the window. */
void mw_ring_clear(mw_ring *r);

#endif /* MW_RING_H */
