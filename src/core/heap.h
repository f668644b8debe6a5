/*
 * heap.h: the native heap: object allocation, per-type accounting, and the
 * collector's state, hanging off one mw_alloc.
 *
 * One heap per runtime; nothing here is global, so several heaps live in
 * one process, each used by one thread at a time. The heap never holds a
 * Lua value.
 *
 * Every block a type allocates, the object itself and its buffers, goes
 * through mw_heap_malloc/realloc/free with the type named, so the figures
 * per type (live objects, bytes) are exact. Objects of up to 256 bytes
 * (with the collector's link) are carved from the heap's pool (pool.h),
 * their size rounded up to 16 bytes; larger ones and buffers come from
 * the allocator directly.
 */
#ifndef MW_HEAP_H
#define MW_HEAP_H

#include <stddef.h>
#include <stdint.h>

#include "core/alloc.h"
#include "core/gc.h"
#include "core/object.h"
#include "core/pool.h"

/* Types beyond this many share the last slot of the statistics. */
#define MW_HEAP_MAX_TYPES 32

typedef struct mw_type_stats {
    const mw_type *type;     /* NULL: slot unused */
    size_t count;            /* live objects */
    size_t bytes;            /* live bytes: objects and their buffers */
} mw_type_stats;

/* A tracer of the heap's blocks (see mw_heap_set_tracer): `born` is 1
 * for a block made, 0 for one freed; `object` is 1 for an object's block,
 * 0 for a buffer charged to type t. */
typedef void (*mw_heap_tracer)(void *ud, const mw_type *t, const void *block, size_t size,
                               int born, int object);

struct mw_heap {
    mw_alloc *alloc;         /* borrowed: outlives the heap */
    mw_heap_tracer tracer;   /* NULL when off */
    void *tracer_ud;
    mw_gc gc;
    mw_pool pool;            /* pages for objects of up to 256 bytes */
    mw_type_stats types[MW_HEAP_MAX_TYPES];
    uint64_t hash_seed;      /* per heap, so hash order differs by run */
    unsigned dealloc_depth;  /* nesting of mw_object_dealloc */
    mw_gchead *trash;        /* containers whose free was deferred */
};

/* Returns a new, empty heap accounted by alloc (borrowed: alloc must
 * outlive it), or NULL if memory runs out. */
mw_heap *mw_heap_new(mw_alloc *alloc);

/* Installs fn (NULL: none) to be told of every object and buffer made
 * and freed from now on (heap snapshots). fn must not use the heap. */
void mw_heap_set_tracer(mw_heap *heap, mw_heap_tracer fn, void *ud);

/* Frees every object still in the heap and the heap itself. Objects still
 * referenced are freed anyway, their owners' references left dangling, so
 * call it only when nothing uses the heap. Returns the number of objects
 * that had to be freed that way (leaked references or uncollectable). */
size_t mw_heap_destroy(mw_heap *heap);

/* Returns a new reference to a zeroed object of type t, with count 1,
 * not yet tracked by the collector, or NULL on allocation failure (the
 * reason in heap->alloc->last_error). */
mw_object *mw_object_new(mw_heap *heap, const mw_type *t);

/* As mw_object_new for a type whose objects vary in size (a varsize type):
 * the object gets `size` bytes (at least t->size), zeroed. */
mw_object *mw_object_new_var(mw_heap *heap, const mw_type *t, size_t size);

/* Allocates, resizes and frees buffers owned by an object of type t,
 * charged to that type. Same contract as mw_alloc_malloc/realloc/free. */
void *mw_heap_malloc(mw_heap *heap, const mw_type *t, size_t size);
void *mw_heap_realloc(mw_heap *heap, const mw_type *t, void *p,
                      size_t old_size, size_t new_size);
void mw_heap_free(mw_heap *heap, const mw_type *t, void *p, size_t size);

/* The statistics slot of type t (created on first use). Never NULL. */
mw_type_stats *mw_heap_type_stats(mw_heap *heap, const mw_type *t);

/* Status of the last failed allocation (MW_ENOMEM or MW_EBUDGET). */
mw_status mw_heap_last_error(const mw_heap *heap);

/* Records a failure found before any allocation was tried (a size that
 * overflows): mw_heap_last_error reports it. Returns status. */
mw_status mw_heap_fail(mw_heap *heap, mw_status status);

#endif /* MW_HEAP_H */
