/*
 * ring.c: fixed-capacity windows with running mean and variance (see
 * ring.h).
 */
#include "types/ring.h"

#include <math.h>

static size_t ring_varsize(const mw_object *self)
{
    const mw_ring *r = (const mw_ring *)(const void *)self;
    return sizeof(mw_ring) + r->cap * sizeof(double);
}

const mw_type mw_ring_type = {
    .name = "ring",
    .size = sizeof(mw_ring),
    .varsize = ring_varsize,
};

mw_ring *mw_ring_new(mw_heap *heap, size_t cap)
{
    if (cap == 0 || cap > (SIZE_MAX - sizeof(mw_ring)) / sizeof(double) / 2) {
        mw_heap_fail(heap, MW_EINVAL);
        return NULL;
    }
    mw_object *o = mw_object_new_var(heap, &mw_ring_type,
                                     sizeof(mw_ring) + cap * sizeof(double));
    if (o == NULL)
        return NULL;
    mw_ring *r = mw_ring_cast(o);
    r->cap = cap;
    return r;
}

static void ring_add(mw_ring *r, double x)
{
    if (isnan(x))
        return;
    r->n_valid++;
    double d = x - r->mean;
    r->mean += d / (double)r->n_valid;
    r->m2 += d * (x - r->mean);
}

static void ring_remove(mw_ring *r, double x)
{
    if (isnan(x))
        return;
    if (r->n_valid <= 1) {
        r->n_valid = 0;
        r->mean = 0;
        r->m2 = 0;
        return;
    }
    double mean_without = (r->mean * (double)r->n_valid - x) / (double)(r->n_valid - 1);
    r->m2 -= (x - r->mean) * (x - mean_without);
    if (r->m2 < 0)
        r->m2 = 0;
    r->mean = mean_without;
    r->n_valid--;
}

/* Mean and m2 from the window itself, two passes. */
static void ring_recompute(mw_ring *r)
{
    double sum = 0;
    size_t n = 0;
    for (size_t i = 0; i < r->count; i++) {
        double x = mw_ring_get(r, i);
        if (!isnan(x)) {
            sum += x;
            n++;
        }
    }
    double mean = n > 0 ? sum / (double)n : 0, m2 = 0;
    for (size_t i = 0; i < r->count; i++) {
        double x = mw_ring_get(r, i);
        if (!isnan(x))
            m2 += (x - mean) * (x - mean);
    }
    r->n_valid = n;
    r->mean = mean;
    r->m2 = m2;
    r->since_exact = 0;
}

int mw_ring_push(mw_ring *r, double x, double *evicted)
{
    int full = r->count == r->cap;
    if (full) {
        double old = r->data[r->head];
        r->data[r->head] = x;
        r->head = (r->head + 1) % r->cap;
        *evicted = old;
        ring_remove(r, old);
        ring_add(r, x);
        if (++r->since_exact >= r->cap)
            ring_recompute(r);
        return 1;
    }
    r->data[(r->head + r->count) % r->cap] = x;
    r->count++;
    ring_add(r, x);
    return 0;
}

double mw_ring_var(const mw_ring *r, size_t ddof)
{
    if (r->n_valid <= ddof)
        return NAN;
    return r->m2 / (double)(r->n_valid - ddof);
}

void mw_ring_clear(mw_ring *r)
{
    r->count = 0;
    r->head = 0;
    r->n_valid = 0;
    r->since_exact = 0;
    r->mean = 0;
    r->m2 = 0;
}
