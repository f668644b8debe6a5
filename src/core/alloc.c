/*
 * alloc.c: the accounting allocator (see alloc.h for the invariants).
 *
 * It wraps the C library's malloc/realloc/free (or the host's allocator,
 * mw_alloc_set_system), keeps the figures exact from
 * the sizes its callers pass back, and refuses growth past the budget or
 * when the fault-injection hook fires. It never aborts and never prints.
 */
#include "core/alloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void mw_alloc_init(mw_alloc *a)
{
    memset(a, 0, sizeof *a);
    a->last_error = MW_OK;
}

/* Decides whether a request growing the live total by `growth` bytes may
 * proceed; counts it and records the reason when it may not. */
static int alloc_admit(mw_alloc *a, size_t growth)
{
    a->n_allocs++;
    if (a->fail_countdown != 0) {
        if (--a->fail_countdown == 0) {
            if (a->fail_sticky)
                a->fail_countdown = 1;
            a->n_failed++;
            a->last_error = MW_ENOMEM;
            a->last_refused = growth;
            return 0;
        }
    }
    if (a->budget != 0 && (growth > a->budget || a->current > a->budget - growth)) {
        a->n_failed++;
        a->last_error = MW_EBUDGET;
        a->last_refused = growth;
        return 0;
    }
    return 1;
}

static void alloc_notify(mw_alloc *a, mw_domain d, ptrdiff_t delta)
{
    for (int i = 0; i < a->n_observers; i++)
        a->observers[i](a->observer_uds[i], d, delta);
}

static void alloc_charge(mw_alloc *a, mw_domain d, size_t old_size, size_t new_size)
{
    a->current = a->current - old_size + new_size;
    a->domain_bytes[d] = a->domain_bytes[d] - old_size + new_size;
    if (a->current > a->peak)
        a->peak = a->current;
    if (a->domain_bytes[d] > a->domain_peak[d])
        a->domain_peak[d] = a->domain_bytes[d];
    if (a->n_observers > 0 && new_size != old_size)
        alloc_notify(a, d,
                     new_size > old_size ? (ptrdiff_t)(new_size - old_size)
                                         : -(ptrdiff_t)(old_size - new_size));
}

void *mw_alloc_malloc(mw_alloc *a, mw_domain d, size_t size)
{
    return mw_alloc_realloc(a, d, NULL, 0, size);
}

void *mw_alloc_realloc(mw_alloc *a, mw_domain d, void *p, size_t old_size,
                       size_t new_size)
{
    if (p == NULL)
        old_size = 0;
    if (new_size == 0) {
        mw_alloc_free(a, d, p, old_size);
        return NULL;
    }
    if (new_size > old_size && !alloc_admit(a, new_size - old_size))
        return NULL;
    void *q = a->sys != NULL ? a->sys(a->sys_ud, p, old_size, new_size) : realloc(p, new_size);
    if (q == NULL) {
        if (new_size <= old_size)
            return p;   /* a shrink the C library refused: keep the block */
        a->n_failed++;
        a->last_error = MW_ENOMEM;
        return NULL;
    }
    alloc_charge(a, d, old_size, new_size);
    return q;
}

void mw_alloc_free(mw_alloc *a, mw_domain d, void *p, size_t size)
{
    if (p == NULL)
        return;
    if (a->sys != NULL)
        a->sys(a->sys_ud, p, size, 0);
    else
        free(p);
    a->n_frees++;
    alloc_charge(a, d, size, 0);
}

void *mw_alloc_lua(void *ud, void *ptr, size_t osize, size_t nsize)
{
    mw_alloc *a = ud;
    /* With ptr NULL, Lua passes the kind of object in osize, not a size. */
    if (ptr == NULL)
        osize = 0;
    if (nsize == 0) {
        mw_alloc_free(a, MW_DOMAIN_LUA, ptr, osize);
        return NULL;
    }
    return mw_alloc_realloc(a, MW_DOMAIN_LUA, ptr, osize, nsize);
}

/* With the host's allocator, an aligned block is carved from a larger
 * one: [start ... | total | start | block], the two words just below the
 * block giving the size taken and where it starts. */
#define ALLOC_HEADER (2 * sizeof(void *))

static void *alloc_aligned_sys(mw_alloc *a, mw_domain d, size_t size, size_t align)
{
    if (size > SIZE_MAX - align - ALLOC_HEADER)
        return NULL;
    size_t total = size + align + ALLOC_HEADER;
    if (!alloc_admit(a, total))
        return NULL;
    unsigned char *start = a->sys(a->sys_ud, NULL, 0, total);
    if (start == NULL) {
        a->n_failed++;
        a->last_error = MW_ENOMEM;
        return NULL;
    }
    uintptr_t at = ((uintptr_t)start + ALLOC_HEADER + align - 1) & ~(uintptr_t)(align - 1);
    void **block = (void **)(start + (at - (uintptr_t)start));
    block[-1] = start;
    block[-2] = (void *)(uintptr_t)total;
    alloc_charge(a, d, 0, total);
    return block;
}

void mw_alloc_set_system(mw_alloc *a, mw_alloc_fn fn, void *ud)
{
    a->sys = fn;
    a->sys_ud = fn != NULL ? ud : NULL;
}

void *mw_alloc_aligned(mw_alloc *a, mw_domain d, size_t size, size_t align)
{
    if (size == 0)
        return NULL;
    if (a->sys != NULL)
        return alloc_aligned_sys(a, d, size, align);
    if (!alloc_admit(a, size))
        return NULL;
    void *p = NULL;
    if (posix_memalign(&p, align, size) != 0) {
        a->n_failed++;
        a->last_error = MW_ENOMEM;
        return NULL;
    }
    alloc_charge(a, d, 0, size);
    return p;
}

void mw_alloc_free_aligned(mw_alloc *a, mw_domain d, void *p, size_t size)
{
    if (p != NULL && a->sys != NULL) {
        void **block = p;
        size_t total = (size_t)(uintptr_t)block[-2];
        mw_alloc_free(a, d, block[-1], total);
        return;
    }
    mw_alloc_free(a, d, p, size);
}

int mw_alloc_admit_reserved(mw_alloc *a)
{
    if (!alloc_admit(a, 0))
        return 0;
    if (a->n_observers > 0)
        alloc_notify(a, MW_DOMAIN_NATIVE, 0);
    return 1;
}

void mw_alloc_transfer(mw_alloc *a, mw_domain from, mw_domain to, size_t size)
{
    a->domain_bytes[from] -= size;
    a->domain_bytes[to] += size;
    if (a->domain_bytes[to] > a->domain_peak[to])
        a->domain_peak[to] = a->domain_bytes[to];
}

mw_status mw_alloc_set_budget(mw_alloc *a, size_t budget)
{
    if (budget != 0 && budget < a->current)
        return MW_EINVAL;
    a->budget = budget;
    return MW_OK;
}

void mw_alloc_fail_nth(mw_alloc *a, uint64_t n, int sticky)
{
    a->fail_countdown = n;
    a->fail_sticky = sticky != 0;
}

void mw_alloc_reset_peak(mw_alloc *a)
{
    a->peak = a->current;
    for (int d = 0; d < MW_DOMAIN_COUNT; d++)
        a->domain_peak[d] = a->domain_bytes[d];
}

int mw_alloc_add_observer(mw_alloc *a, mw_alloc_observer fn, void *ud)
{
    if (a->n_observers == MW_ALLOC_MAX_OBSERVERS)
        return -1;
    a->observers[a->n_observers] = fn;
    a->observer_uds[a->n_observers] = ud;
    a->n_observers++;
    return 0;
}

void mw_alloc_remove_observer(mw_alloc *a, mw_alloc_observer fn, void *ud)
{
    for (int i = 0; i < a->n_observers; i++) {
        if (a->observers[i] == fn && a->observer_uds[i] == ud) {
            for (int k = i + 1; k < a->n_observers; k++) {
                a->observers[k - 1] = a->observers[k];
                a->observer_uds[k - 1] = a->observer_uds[k];
            }
            a->n_observers--;
            return;
        }
    }
}
