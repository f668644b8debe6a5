/*
 * heap.c: object allocation and freeing, per-type accounting, and the
 * deferred free that keeps freeing a deep structure off the C stack.
 *
 * Freeing an object drops its references, which may free the objects it
 * held, and so on: a chain of a million nested lists would recurse a
 * million frames deep. Like CPython's trashcan, once mw_object_dealloc is
 * nested MW_HEAP_DEALLOC_DEPTH deep, containers are queued on heap->trash
 * (through their collector links, so no allocation is needed) and freed by
 * the outermost call in a loop.
 */
#include "core/heap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Deep enough that ordinary structures never defer, shallow enough that
 * the C stack used stays a few tens of kilobytes. */
#define MW_HEAP_DEALLOC_DEPTH 64

void mw_object_panic(const mw_object *o, const char *what)
{
    fprintf(stderr, "moonwatch: fatal: %s (%s object at %p, count %u)\n",
            what, o->type ? o->type->name : "?", (const void *)o,
            (unsigned)o->refcount);
    abort();
}

mw_type_stats *mw_heap_type_stats(mw_heap *heap, const mw_type *t)
{
    for (int i = 0; i < MW_HEAP_MAX_TYPES; i++) {
        if (heap->types[i].type == t)
            return &heap->types[i];
        if (heap->types[i].type == NULL) {
            heap->types[i].type = t;
            return &heap->types[i];
        }
    }
    return &heap->types[MW_HEAP_MAX_TYPES - 1];
}

mw_status mw_heap_last_error(const mw_heap *heap)
{
    return heap->alloc->last_error;
}

mw_status mw_heap_fail(mw_heap *heap, mw_status status)
{
    heap->alloc->last_error = status;
    heap->alloc->n_failed++;
    return status;
}

void mw_heap_set_tracer(mw_heap *heap, mw_heap_tracer fn, void *ud)
{
    heap->tracer = fn;
    heap->tracer_ud = ud;
}

void *mw_heap_malloc(mw_heap *heap, const mw_type *t, size_t size)
{
    void *p = mw_alloc_malloc(heap->alloc, MW_DOMAIN_NATIVE, size);
    if (p != NULL) {
        mw_heap_type_stats(heap, t)->bytes += size;
        if (heap->tracer != NULL)
            heap->tracer(heap->tracer_ud, t, p, size, 1, 0);
    }
    return p;
}

void *mw_heap_realloc(mw_heap *heap, const mw_type *t, void *p,
                      size_t old_size, size_t new_size)
{
    if (p == NULL)
        old_size = 0;
    void *q = mw_alloc_realloc(heap->alloc, MW_DOMAIN_NATIVE, p, old_size, new_size);
    if (q != NULL || new_size == 0) {
        mw_type_stats *s = mw_heap_type_stats(heap, t);
        s->bytes = s->bytes - old_size + new_size;
        if (heap->tracer != NULL) {
            if (p != NULL)
                heap->tracer(heap->tracer_ud, t, p, old_size, 0, 0);
            if (q != NULL)
                heap->tracer(heap->tracer_ud, t, q, new_size, 1, 0);
        }
    }
    return q;
}

void mw_heap_free(mw_heap *heap, const mw_type *t, void *p, size_t size)
{
    if (p == NULL)
        return;
    mw_alloc_free(heap->alloc, MW_DOMAIN_NATIVE, p, size);
    mw_heap_type_stats(heap, t)->bytes -= size;
    if (heap->tracer != NULL)
        heap->tracer(heap->tracer_ud, t, p, size, 0, 0);
}

static size_t heap_gchead_size(const mw_type *t)
{
    return (t->flags & MW_TYPE_GC) ? sizeof(mw_gchead) : 0;
}

/* The bytes a block of `size` really takes: pool blocks are rounded up. */
static size_t heap_round(size_t size)
{
    size_t pooled = mw_pool_block_size(size);
    return pooled != 0 ? pooled : size;
}

/* The size of o's block: its object, and the collector's link in front. */
static size_t heap_block_size(const mw_object *o)
{
    const mw_type *t = o->type;
    size_t size = t->varsize != NULL ? t->varsize(o) : t->size;
    return heap_round(size + heap_gchead_size(t));
}

static void *heap_block_alloc(mw_heap *heap, size_t block)
{
    if (mw_pool_block_size(block) != 0)
        return mw_pool_alloc(&heap->pool, heap->alloc, block);
    return mw_alloc_malloc(heap->alloc, MW_DOMAIN_NATIVE, block);
}

static void heap_block_free(mw_heap *heap, void *mem, size_t block)
{
    if (mw_pool_block_size(block) != 0)
        mw_pool_free(&heap->pool, heap->alloc, mem, block);
    else
        mw_alloc_free(heap->alloc, MW_DOMAIN_NATIVE, mem, block);
}

static uint64_t heap_make_seed(const mw_heap *heap)
{
    /* Address and time, mixed: enough that hash order is not predictable
     * from outside, as Lua's luai_makeseed does. */
    struct timespec ts;
    timespec_get(&ts, TIME_UTC);
    uint64_t x = (uint64_t)(uintptr_t)heap ^ ((uint64_t)ts.tv_nsec << 20)
                 ^ (uint64_t)ts.tv_sec;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return x | 1;
}

mw_heap *mw_heap_new(mw_alloc *alloc)
{
    mw_heap *heap = mw_alloc_malloc(alloc, MW_DOMAIN_NATIVE, sizeof *heap);
    if (heap == NULL)
        return NULL;
    memset(heap, 0, sizeof *heap);
    heap->alloc = alloc;
    mw_gc_init(&heap->gc);
    mw_pool_init(&heap->pool);
    heap->hash_seed = heap_make_seed(heap);
    return heap;
}

mw_object *mw_object_new(mw_heap *heap, const mw_type *t)
{
    return mw_object_new_var(heap, t, t->size);
}

mw_object *mw_object_new_var(mw_heap *heap, const mw_type *t, size_t size)
{
    size_t head = heap_gchead_size(t);
    if (size < t->size || size > SIZE_MAX - head - MW_POOL_GRAIN) {
        mw_heap_fail(heap, MW_ENOMEM);
        return NULL;
    }
    size_t block = heap_round(size + head);
    char *mem = heap_block_alloc(heap, block);
    if (mem == NULL)
        return NULL;
    memset(mem, 0, block);
    mw_object *o = (mw_object *)(void *)(mem + head);
    o->refcount = 1;
    o->type = t;
    mw_type_stats *s = mw_heap_type_stats(heap, t);
    s->count++;
    s->bytes += block;
    if (heap->tracer != NULL)
        heap->tracer(heap->tracer_ud, t, o, block, 1, 1);
    return o;
}

/* Releases what o holds and its block. o is untracked and unreferenced. */
static void heap_destroy_object(mw_heap *heap, mw_object *o)
{
    const mw_type *t = o->type;
    size_t block = heap_block_size(o);
    if (t->free != NULL)
        t->free(heap, o);
    char *mem = (char *)o - heap_gchead_size(t);
    mw_type_stats *s = mw_heap_type_stats(heap, t);
    s->count--;
    s->bytes -= block;
    if (heap->tracer != NULL)
        heap->tracer(heap->tracer_ud, t, o, block, 0, 1);
    heap_block_free(heap, mem, block);
}

void mw_object_dealloc(mw_heap *heap, mw_object *o)
{
    const mw_type *t = o->type;
    if (t->finalize != NULL && !(o->flags & MW_OBJ_FINALIZED)) {
        o->flags |= MW_OBJ_FINALIZED;
        o->refcount = 1;
        t->finalize(heap, o);
        if (--o->refcount != 0)
            return;   /* resurrected: someone stored a new reference */
    }
    if (t->flags & MW_TYPE_GC) {
        mw_gc_untrack(heap, o);
        if (heap->dealloc_depth >= MW_HEAP_DEALLOC_DEPTH) {
            mw_gchead *g = mw_object_gchead(o);
            g->next = heap->trash;
            heap->trash = g;
            return;
        }
    }
    heap->dealloc_depth++;
    heap_destroy_object(heap, o);
    heap->dealloc_depth--;
    while (heap->dealloc_depth == 0 && heap->trash != NULL) {
        mw_gchead *g = heap->trash;
        heap->trash = g->next;
        g->next = NULL;
        heap->dealloc_depth++;
        heap_destroy_object(heap, mw_gchead_object(g));
        heap->dealloc_depth--;
    }
}

size_t mw_heap_destroy(mw_heap *heap)
{
    if (heap == NULL)
        return 0;
    heap->tracer = NULL;   /* the tracer's owner may be gone already */
    mw_gc *gc = &heap->gc;
    mw_gc_unfreeze(gc);
    mw_gc_collect(heap, MW_GC_NGEN - 1);

    /* Whatever is left is still referenced (a leaked reference) or was
     * uncollectable. Give every survivor a count so high that the drops
     * made while freeing the others never reach zero, then free each
     * exactly once. */
    mw_gchead left;
    left.next = left.prev = &left;
    for (unsigned i = 0; i < MW_GC_NGEN; i++)
        mw_gc_list_merge(&left, mw_gc_list(gc, i));
    mw_gc_list_merge(&left, mw_gc_list(gc, MW_GC_UNCOLLECTABLE));
    size_t n_left = 0;
    for (mw_gchead *g = left.next; g != &left; g = g->next) {
        mw_gchead_object(g)->refcount = MW_REFCOUNT_MAX / 2;
        mw_gchead_object(g)->flags = MW_OBJ_FINALIZED;
        n_left++;
    }
    /* Sizes first: a variable-size type's free may clear what its size
     * is computed from. gc_refs is free scratch now. */
    for (mw_gchead *g = left.next; g != &left; g = g->next)
        g->gc_refs = (intptr_t)heap_block_size(mw_gchead_object(g));
    for (mw_gchead *g = left.next; g != &left; g = g->next) {
        mw_object *o = mw_gchead_object(g);
        if (o->type->free != NULL)
            o->type->free(heap, o);
    }
    while (left.next != &left) {
        mw_gchead *g = left.next;
        left.next = g->next;
        mw_object *o = mw_gchead_object(g);
        const mw_type *t = o->type;
        size_t block = (size_t)g->gc_refs;
        mw_type_stats *s = mw_heap_type_stats(heap, t);
        s->count--;
        s->bytes -= block;
        heap_block_free(heap, g, block);
    }
    mw_pool_destroy(&heap->pool, heap->alloc);
    mw_alloc_free(heap->alloc, MW_DOMAIN_NATIVE, heap, sizeof *heap);
    return n_left;
}
