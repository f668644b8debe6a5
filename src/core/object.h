/*
 * object.h: the header every native heap object starts with, and the type
 * descriptor that tells the heap how to handle an object.
 *
 * Ownership: an object lives while its reference count is above zero and is
 * freed the moment the count reaches zero (mw_decref), its references to
 * other objects being dropped then too. Every function that returns or
 * stores an object says who owns the reference: "returns a new reference"
 * (the caller must decref it), "borrows" (the caller's reference is not
 * consumed) or "steals" (the callee takes over the caller's reference).
 *
 * Containers (types with MW_TYPE_GC) can form cycles that counting alone
 * never frees. They carry an mw_gchead *before* their mw_object, which
 * links them into the collector's generation lists (see gc.h).
 *
 * A count never goes below zero: decref of an object at zero, or incref
 * past the maximum, is a bug in the caller and panics (as Redis's
 * decrRefCount does) instead of freeing twice.
 */
#ifndef MW_OBJECT_H
#define MW_OBJECT_H

#include <stddef.h>
#include <stdint.h>

typedef struct mw_heap mw_heap;
typedef struct mw_type mw_type;

typedef struct mw_object {
    uint32_t refcount;
    uint32_t flags;          /* MW_OBJ_* */
    const mw_type *type;
} mw_object;

#define MW_OBJ_FINALIZED 0x1u   /* finalize has run; it never runs again */
/* Bits 0x10 and up belong to the collector (gc.h). */

/* The collector's link, in front of each container object. Its state
 * bits (MW_GC_* in gc.h) live in the object's flags, next to the count
 * the collector reads anyway: 24 bytes here, so a list is 64 in all. */
typedef struct mw_gchead {
    struct mw_gchead *next;
    struct mw_gchead *prev;
    intptr_t gc_refs;        /* scratch count during a collection */
} mw_gchead;

/* Called by traverse for each object reference the object holds. */
typedef void (*mw_visit_fn)(mw_object *child, void *arg);

struct mw_type {
    const char *name;        /* "list", "map": shown to users */
    size_t size;             /* bytes of the object, mw_object included */
    unsigned flags;          /* MW_TYPE_* */
    /* Optional, for objects created by mw_object_new_var: the size of this
     * one object (at least `size`), so the heap can free its block. */
    size_t (*varsize)(const mw_object *self);
    /* Calls visit on every object reference held (containers only). */
    void (*traverse)(mw_object *self, mw_visit_fn visit, void *arg);
    /* Drops every object reference held, leaving a valid, empty object: the
     * collector calls it to break cycles (containers only; a container
     * without clear is uncollectable when it ends up in garbage). */
    void (*clear)(mw_heap *heap, mw_object *self);
    /* Optional. Runs at most once, before the object would be freed; it may
     * resurrect the object by storing a new reference to it. */
    void (*finalize)(mw_heap *heap, mw_object *self);
    /* Drops the references still held and releases owned buffers; the heap
     * then frees the object's own block. Optional for plain objects. */
    void (*free)(mw_heap *heap, mw_object *self);
};

#define MW_TYPE_GC 0x1u          /* a container, tracked by the collector */

#define MW_REFCOUNT_MAX UINT32_MAX

/* Reports a reference-count bug and aborts (never returns). */
void mw_object_panic(const mw_object *o, const char *what);

/* Frees o, whose count has just reached zero (runs its finalizer first;
 * if the finalizer resurrected o, o stays alive). */
void mw_object_dealloc(mw_heap *heap, mw_object *o);

static inline void mw_incref(mw_object *o)
{
    if (o->refcount == MW_REFCOUNT_MAX)
        mw_object_panic(o, "reference count overflow");
    o->refcount++;
}

static inline void mw_xincref(mw_object *o)
{
    if (o != NULL)
        mw_incref(o);
}

static inline void mw_decref(mw_heap *heap, mw_object *o)
{
    if (o->refcount == 0)
        mw_object_panic(o, "decref of an object with no references");
    if (--o->refcount == 0)
        mw_object_dealloc(heap, o);
}

static inline void mw_xdecref(mw_heap *heap, mw_object *o)
{
    if (o != NULL)
        mw_decref(heap, o);
}

static inline int mw_object_is_gc(const mw_object *o)
{
    return (o->type->flags & MW_TYPE_GC) != 0;
}

static inline mw_gchead *mw_object_gchead(mw_object *o)
{
    return (mw_gchead *)(void *)((char *)o - sizeof(mw_gchead));
}

static inline mw_object *mw_gchead_object(mw_gchead *g)
{
    return (mw_object *)(void *)((char *)g + sizeof(mw_gchead));
}

#endif /* MW_OBJECT_H */
