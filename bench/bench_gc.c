/*
 * bench_gc.c: the collector alone, from C: a full collection of N lists,
 * half of them in garbage cycles (pairs), built without Lua in between,
 * so the figure is the collector's own cost on densely allocated objects.
 * Also: the cost of creating and freeing one list, from C, for comparison
 * with the handle benchmark (bench/handles.lua).
 *
 *   bench_gc [N] [repeats]
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core/heap.h"
#include "types/list.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    int repeats = argc > 2 ? atoi(argv[2]) : 5;
    double best = 1e9, best_young = 1e9;
    size_t found = 0;
    for (int r = 0; r < repeats; r++) {
        mw_alloc alloc;
        mw_alloc_init(&alloc);
        mw_heap *heap = mw_heap_new(&alloc);
        heap->gc.enabled = 0;
        mw_list *keep = mw_list_new(heap, (size_t)n / 2);
        for (long i = 0; i < n / 4; i++) {
            /* Interleave live and garbage objects, as a real job does. */
            for (int k = 0; k < 2; k++) {
                mw_list *l = mw_list_new(heap, 0);
                mw_list_append(heap, keep, mw_objval(MW_TOBJECT, &l->ob));
                mw_decref(heap, &l->ob);
            }
            mw_list *a = mw_list_new(heap, 1);
            mw_list *b = mw_list_new(heap, 1);
            mw_list_append(heap, a, mw_objval(MW_TOBJECT, &b->ob));
            mw_list_append(heap, b, mw_objval(MW_TOBJECT, &a->ob));
            mw_decref(heap, &a->ob);
            mw_decref(heap, &b->ob);
        }
        double t0 = now();
        found = mw_gc_collect(heap, 2);
        double dt = now() - t0;
        if (dt < best)
            best = dt;
        t0 = now();
        mw_gc_collect(heap, 2);
        dt = now() - t0;
        if (dt < best_young)
            best_young = dt;
        mw_decref(heap, &keep->ob);
        mw_heap_destroy(heap);
    }
    /* Create + free of an empty list, through the pool and the tracker. */
    double best_cf = 1e9;
    for (int r = 0; r < repeats; r++) {
        mw_alloc alloc;
        mw_alloc_init(&alloc);
        mw_heap *heap = mw_heap_new(&alloc);
        double t0 = now();
        for (long i = 0; i < n; i++) {
            mw_list *l = mw_list_new(heap, 0);
            mw_decref(heap, &l->ob);
        }
        double dt = now() - t0;
        if (dt < best_cf)
            best_cf = dt;
        mw_heap_destroy(heap);
    }
    printf("bench_gc: %ld lists, %zu in garbage cycles, best of %d\n", n, found, repeats);
    printf("  full collection with garbage:  %8.2f ms  %6.1f ns/object\n",
           best * 1e3, best * 1e9 / (double)n);
    printf("  full collection, all live:     %8.2f ms  %6.1f ns/object\n",
           best_young * 1e3, best_young * 1e9 / (double)(n / 2 + 1));
    printf("  create + free of one list (C):            %6.1f ns/object\n",
           best_cf * 1e9 / (double)n);
    return found == (size_t)(n / 2) ? 0 : 1;
}
