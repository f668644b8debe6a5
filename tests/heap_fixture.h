/*
 * heap_fixture.h: the cmocka fixture shared by the heap tests: a fresh
 * allocator and heap per test, and a teardown that fails the test unless
 * destroying the heap returns every byte and finds no leaked object.
 */
#ifndef MW_TEST_HEAP_FIXTURE_H
#define MW_TEST_HEAP_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "core/heap.h"

typedef struct fixture {
    mw_alloc alloc;
    mw_heap *heap;
    size_t base;             /* native bytes of the empty heap */
} fixture;

static int fixture_setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    mw_alloc_init(&f->alloc);
    f->heap = mw_heap_new(&f->alloc);
    if (f->heap == NULL)
        return -1;
    f->base = f->alloc.domain_bytes[MW_DOMAIN_NATIVE];
    *state = f;
    return 0;
}

static int fixture_teardown(void **state)
{
    fixture *f = *state;
    size_t leaked = mw_heap_destroy(f->heap);
    size_t left = f->alloc.current;
    free(f);
    if (leaked != 0 || left != 0) {
        print_error("heap teardown: %zu objects leaked, %zu bytes left\n", leaked, left);
        return -1;
    }
    return 0;
}

/* Bytes of live native objects and buffers (pool pages' free part, which
 * outlives the objects, is not included). */
static inline size_t native_bytes(const fixture *f)
{
    return f->alloc.domain_bytes[MW_DOMAIN_NATIVE];
}

/* Live objects of type t in the heap. */
static inline size_t live_count(mw_heap *heap, const mw_type *t)
{
    return mw_heap_type_stats(heap, t)->count;
}

#endif /* MW_TEST_HEAP_FIXTURE_H */
