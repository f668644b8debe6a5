/*
 * gc.h: the generational cycle collector of the native heap.
 *
 * Reference counting frees most objects; this finds what it cannot: groups
 * of containers that reference each other and that nothing outside the
 * group references. It follows CPython's design:
 *
 *   - Every container (MW_TYPE_GC) is linked, from the moment its type
 *     tracks it until it is freed, into exactly one list: generation 0, 1
 *     or 2, the permanent generation (mw_gc_freeze), or the uncollectable
 *     list.
 *   - To collect generation g: merge the younger generations into g, copy
 *     each count to gc_refs, subtract every reference found by traversing
 *     the generation's objects, so what is left counts references from
 *     outside it. Objects left above zero are roots; everything they reach
 *     is alive and moves to generation g+1. The rest is garbage.
 *   - Garbage objects' finalizers run (each at most once, ever). The
 *     garbage is then checked again, because a finalizer may have stored a
 *     new reference to it (resurrection): whatever is referenced from
 *     outside now survives. The remaining objects are cleared (their
 *     references dropped), which frees the cycles through refcounting.
 *     An object that clearing does not free (a type without clear, or one
 *     held by such an object) is uncollectable: it is reported, kept on
 *     the uncollectable list and never freed twice.
 *
 * Triggers, as CPython 3.12: allocations of containers minus their frees
 * count towards generation 0; past threshold 0 it is collected; each
 * collection of generation g counts towards g+1 and past its threshold the
 * older generation is collected too. A full collection additionally waits
 * until the objects waiting for one exceed a quarter of those that
 * survived the last one, which keeps the total work linear in the number
 * of allocations.
 *
 * The collector allocates nothing: the lists it works on are the objects'
 * own links, so it runs even when memory is exhausted.
 */
#ifndef MW_GC_H
#define MW_GC_H

#include <stddef.h>
#include <stdint.h>

#include "core/object.h"

#define MW_GC_NGEN 3

/* Lists by number, for mw_gc_list and mw_gc_list_size. */
#define MW_GC_PERMANENT     3u      /* frozen by mw_gc_freeze */
#define MW_GC_UNCOLLECTABLE 4u      /* garbage that clearing did not free */

/* The collector's bits in mw_object.flags. */
#define MW_GC_TRACKED       0x10u   /* linked into one of the lists */
#define MW_GC_COLLECTING    0x20u   /* in the set being collected now */
#define MW_GC_UNREACHABLE   0x40u   /* tentatively garbage */
#define MW_GC_STATE (MW_GC_TRACKED | MW_GC_COLLECTING | MW_GC_UNREACHABLE)

typedef struct mw_gc_gen {
    mw_gchead head;          /* sentinel of a circular list */
    size_t count;            /* allocations (gen 0) or collections (1, 2) */
    size_t threshold;
} mw_gc_gen;

typedef struct mw_gc_stats {
    uint64_t collections;    /* collections of this generation */
    uint64_t collected;      /* garbage objects found */
    uint64_t uncollectable;  /* garbage objects that could not be freed */
    uint64_t total_pause_ns;
    uint64_t max_pause_ns;
} mw_gc_stats;

/* Debug events: "collectable" and "uncollectable" for each garbage object
 * found, "start" and "done" per collection (o is NULL then). */
typedef void (*mw_gc_debug_fn)(void *ud, const char *event, int generation,
                               const mw_object *o, size_t n);

typedef struct mw_gc {
    mw_gc_gen gens[MW_GC_NGEN];
    mw_gchead permanent;
    mw_gchead uncollectable;
    size_t long_lived_total;     /* survivors of the last full collection */
    size_t long_lived_pending;   /* promoted into gen 2 since then */
    int enabled;
    int collecting;              /* a collection is running: no nesting */
    size_t finalizers_run;       /* finalizers run by collections, ever */
    mw_gc_stats stats[MW_GC_NGEN];
    mw_gc_debug_fn debug_fn;     /* NULL: debug off */
    void *debug_ud;
} mw_gc;

/* Initialises an empty collector: enabled, thresholds 700/10/10. */
void mw_gc_init(mw_gc *gc);

/* Links a fully initialised container into generation 0 (o must not be
 * tracked already) and may run an automatic collection. Borrows o. */
void mw_gc_track(mw_heap *heap, mw_object *o);

/* Unlinks o from whatever list holds it; no-op if o is not tracked. */
void mw_gc_untrack(mw_heap *heap, mw_object *o);

/* Collects generation `generation` (0..2) and all younger ones. Returns
 * the number of garbage objects found (collected plus uncollectable), or 0
 * if a collection is already running. Works with the collector disabled. */
size_t mw_gc_collect(mw_heap *heap, int generation);

/* Sets the thresholds; a threshold 0 for generation 0 stops automatic
 * collection (as disabling does). Returns MW_EINVAL if generation is out
 * of range. */
int mw_gc_set_threshold(mw_gc *gc, int generation, size_t threshold);

/* Moves every tracked object of generations 0..2 to the permanent
 * generation, which is never collected; mw_gc_unfreeze moves them back
 * into generation 2. */
void mw_gc_freeze(mw_gc *gc);
void mw_gc_unfreeze(mw_gc *gc);

/* Number of objects in a list: generation 0..2, MW_GC_PERMANENT or
 * MW_GC_UNCOLLECTABLE. Walks the list: O(n). */
size_t mw_gc_list_size(mw_gc *gc, unsigned which);

/* Moves every object of list src to the end of list dst, in O(1). */
void mw_gc_list_merge(mw_gchead *dst, mw_gchead *src);

/* Checks whether o is tracked by the collector. */
int mw_gc_is_tracked(mw_object *o);

/* Returns the list sentinel for generation 0..2, MW_GC_PERMANENT or
 * MW_GC_UNCOLLECTABLE. */
mw_gchead *mw_gc_list(mw_gc *gc, unsigned which);

#endif /* MW_GC_H */
