/*
 * gc.c: the cycle collector (the algorithm and its invariants are in gc.h).
 *
 * Lists are circular and doubly linked through the mw_gchead in front of
 * each container, so moving an object between lists is O(1) and an object
 * freed in the middle of a collection simply unlinks itself from whatever
 * list it is on. The collector never allocates.
 */
#include "core/gc.h"

#include <time.h>

#include "core/heap.h"

/* The passes walk linked lists, one cache miss per object; asking for
 * the next object while working on this one overlaps two of them. */
#if defined(__GNUC__) || defined(__clang__)
#define GC_PREFETCH(p) __builtin_prefetch((p), 1)
#else
#define GC_PREFETCH(p) ((void)(p))
#endif

#define GC_DEFAULT_THRESHOLD0 700
#define GC_DEFAULT_THRESHOLD1 10
#define GC_DEFAULT_THRESHOLD2 10

static void gc_list_init(mw_gchead *list)
{
    list->next = list->prev = list;
}

static int gc_list_is_empty(const mw_gchead *list)
{
    return list->next == list;
}

static void gc_list_remove(mw_gchead *g)
{
    g->prev->next = g->next;
    g->next->prev = g->prev;
    g->next = g->prev = NULL;
}

static void gc_list_append(mw_gchead *list, mw_gchead *g)
{
    g->prev = list->prev;
    g->next = list;
    list->prev->next = g;
    list->prev = g;
}

static void gc_list_move(mw_gchead *list, mw_gchead *g)
{
    g->prev->next = g->next;
    g->next->prev = g->prev;
    gc_list_append(list, g);
}

void mw_gc_list_merge(mw_gchead *dst, mw_gchead *src)
{
    if (gc_list_is_empty(src) || dst == src)
        return;
    mw_gchead *first = src->next, *last = src->prev;
    first->prev = dst->prev;
    dst->prev->next = first;
    last->next = dst;
    dst->prev = last;
    gc_list_init(src);
}

static size_t gc_list_length(const mw_gchead *list)
{
    size_t n = 0;
    for (const mw_gchead *g = list->next; g != list; g = g->next)
        n++;
    return n;
}

static mw_object *gc_obj(mw_gchead *g)
{
    return mw_gchead_object(g);
}

void mw_gc_init(mw_gc *gc)
{
    for (int i = 0; i < MW_GC_NGEN; i++) {
        gc_list_init(&gc->gens[i].head);
        gc->gens[i].count = 0;
    }
    gc->gens[0].threshold = GC_DEFAULT_THRESHOLD0;
    gc->gens[1].threshold = GC_DEFAULT_THRESHOLD1;
    gc->gens[2].threshold = GC_DEFAULT_THRESHOLD2;
    gc_list_init(&gc->permanent);
    gc_list_init(&gc->uncollectable);
    gc->long_lived_total = 0;
    gc->long_lived_pending = 0;
    gc->enabled = 1;
    gc->collecting = 0;
    gc->finalizers_run = 0;
    gc->debug_fn = NULL;
    gc->debug_ud = NULL;
    for (int i = 0; i < MW_GC_NGEN; i++)
        gc->stats[i] = (mw_gc_stats){0, 0, 0, 0, 0};
}

mw_gchead *mw_gc_list(mw_gc *gc, unsigned which)
{
    if (which < MW_GC_NGEN)
        return &gc->gens[which].head;
    if (which == MW_GC_PERMANENT)
        return &gc->permanent;
    return &gc->uncollectable;
}

size_t mw_gc_list_size(mw_gc *gc, unsigned which)
{
    return gc_list_length(mw_gc_list(gc, which));
}

int mw_gc_is_tracked(mw_object *o)
{
    return (o->flags & MW_GC_TRACKED) != 0;
}

int mw_gc_set_threshold(mw_gc *gc, int generation, size_t threshold)
{
    if (generation < 0 || generation >= MW_GC_NGEN)
        return MW_EINVAL;
    gc->gens[generation].threshold = threshold;
    return MW_OK;
}

void mw_gc_freeze(mw_gc *gc)
{
    /* As CPython's gc.freeze: only generation 0's counter restarts. */
    for (unsigned i = 0; i < MW_GC_NGEN; i++)
        mw_gc_list_merge(&gc->permanent, &gc->gens[i].head);
    gc->gens[0].count = 0;
}

void mw_gc_unfreeze(mw_gc *gc)
{
    mw_gc_list_merge(&gc->gens[MW_GC_NGEN - 1].head, &gc->permanent);
}

static uint64_t gc_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- the collection proper ------------------------------------------- */

/* gc_refs := refcount, for every object of the set being collected. */
static void gc_update_refs(mw_gchead *set)
{
    for (mw_gchead *g = set->next; g != set; g = g->next) {
        mw_object *o = gc_obj(g);
        GC_PREFETCH(g->next);
        g->gc_refs = (intptr_t)o->refcount;
        o->flags |= MW_GC_COLLECTING;
    }
}

static void gc_visit_decref(mw_object *child, void *arg)
{
    (void)arg;
    if ((child->flags & MW_GC_COLLECTING) && mw_object_is_gc(child))
        mw_object_gchead(child)->gc_refs--;
}

/* Subtracts the references internal to the set: what remains in gc_refs
 * counts the references from outside it. */
static void gc_subtract_refs(mw_gchead *set)
{
    for (mw_gchead *g = set->next; g != set; g = g->next) {
        mw_object *o = gc_obj(g);
        GC_PREFETCH(g->next);
        o->type->traverse(o, gc_visit_decref, NULL);
    }
}

/* Called on the children of an object known to be reachable. */
static void gc_visit_reachable(mw_object *child, void *arg)
{
    if (!(child->flags & MW_GC_COLLECTING) || !mw_object_is_gc(child))
        return;
    mw_gchead *g = mw_object_gchead(child);
    if (child->flags & MW_GC_UNREACHABLE) {
        /* Scanned already and judged garbage: it is not. Put it back at
         * the end of the set so the scan reaches its children too. */
        child->flags &= ~MW_GC_UNREACHABLE;
        g->gc_refs = 1;
        gc_list_move(arg, g);
    } else if (g->gc_refs == 0) {
        /* Not scanned yet: mark it reachable for when the scan gets there. */
        g->gc_refs = 1;
    }
}

/* Splits set into the objects reachable from outside (left in set, their
 * collection flag cleared) and the rest (moved to unreachable, flagged),
 * as CPython's move_unreachable does: one pass, no allocation, each
 * object's children scanned once. Returns the number of survivors. */
static size_t gc_move_unreachable(mw_gchead *set, mw_gchead *unreachable)
{
    size_t n_reachable = 0;
    mw_gchead *g = set->next;
    while (g != set) {
        mw_object *o = gc_obj(g);
        GC_PREFETCH(g->next);
        if (g->gc_refs > 0) {
            o->flags &= ~MW_GC_COLLECTING;
            o->type->traverse(o, gc_visit_reachable, set);
            n_reachable++;
            g = g->next;
        } else {
            mw_gchead *next = g->next;
            o->flags |= MW_GC_UNREACHABLE;
            gc_list_move(unreachable, g);
            g = next;
        }
    }
    return n_reachable;
}

/* Runs the finalizers of the garbage that has not been finalized yet. A
 * finalizer may free objects of the list (by dropping references) or
 * store new references to them; each object is held while its finalizer
 * runs and the walk never keeps a pointer to an object it does not hold.
 * Returns the number of finalizers run. */
static size_t gc_finalize(mw_heap *heap, mw_gchead *unreachable)
{
    mw_gchead seen;
    gc_list_init(&seen);
    size_t n_run = 0;
    while (!gc_list_is_empty(unreachable)) {
        mw_gchead *g = unreachable->next;
        gc_list_move(&seen, g);
        mw_object *o = gc_obj(g);
        if (o->type->finalize != NULL && !(o->flags & MW_OBJ_FINALIZED)) {
            o->flags |= MW_OBJ_FINALIZED;
            mw_incref(o);
            o->type->finalize(heap, o);
            mw_decref(heap, o);
            n_run++;
        }
    }
    mw_gc_list_merge(unreachable, &seen);
    return n_run;
}

/* Breaks the reference cycles of the garbage: clears each object, which
 * frees it and its group through refcounting. An object is held while it
 * is cleared, and one freed meanwhile unlinks itself from `cleared`. What
 * is still there once every object was cleared is uncollectable. Returns
 * how many objects that was. */
static size_t gc_delete_garbage(mw_heap *heap, mw_gchead *garbage, int generation)
{
    mw_gc *gc = &heap->gc;
    mw_gchead cleared;
    gc_list_init(&cleared);
    while (!gc_list_is_empty(garbage)) {
        mw_gchead *g = garbage->next;
        gc_list_move(&cleared, g);
        mw_object *o = gc_obj(g);
        if (o->type->clear != NULL) {
            mw_incref(o);
            o->type->clear(heap, o);
            mw_decref(heap, o);
        }
    }
    size_t n_uncollectable = 0;
    for (mw_gchead *g = cleared.next; g != &cleared; g = g->next) {
        n_uncollectable++;
        if (gc->debug_fn != NULL)
            gc->debug_fn(gc->debug_ud, "uncollectable", generation, gc_obj(g), 0);
    }
    mw_gc_list_merge(&gc->uncollectable, &cleared);
    return n_uncollectable;
}

size_t mw_gc_collect(mw_heap *heap, int generation)
{
    mw_gc *gc = &heap->gc;
    if (gc->collecting)
        return 0;
    if (generation < 0)
        generation = 0;
    if (generation >= MW_GC_NGEN)
        generation = MW_GC_NGEN - 1;
    gc->collecting = 1;
    uint64_t t0 = gc_now_ns();

    /* The counts: younger generations restart, the next one ages. */
    if (generation + 1 < MW_GC_NGEN)
        gc->gens[generation + 1].count++;
    for (int i = 0; i <= generation; i++)
        gc->gens[i].count = 0;

    mw_gchead *young = &gc->gens[generation].head;
    for (int i = 0; i < generation; i++)
        mw_gc_list_merge(young, &gc->gens[i].head);
    int older_index = generation + 1 < MW_GC_NGEN ? generation + 1 : generation;
    mw_gchead *older = &gc->gens[older_index].head;
    if (gc->debug_fn != NULL)
        gc->debug_fn(gc->debug_ud, "start", generation, NULL, gc_list_length(young));

    gc_update_refs(young);
    gc_subtract_refs(young);
    mw_gchead unreachable;
    gc_list_init(&unreachable);
    size_t n_survivors = gc_move_unreachable(young, &unreachable);

    if (generation == MW_GC_NGEN - 2)
        gc->long_lived_pending += n_survivors;
    mw_gc_list_merge(older, young);
    if (generation == MW_GC_NGEN - 1) {
        gc->long_lived_pending = 0;
        gc->long_lived_total = n_survivors;
    }

    /* The garbage loses UNREACHABLE, which only move_unreachable reads.
     * If none of it has a finalizer still to run (the common case), it
     * also loses COLLECTING now and goes straight to deletion, skipping
     * the finalizer pass and the resurrection check. */
    size_t n_garbage = 0, n_to_finalize = 0;
    for (mw_gchead *g = unreachable.next; g != &unreachable; g = g->next) {
        mw_object *o = gc_obj(g);
        if (o->type->finalize != NULL && !(o->flags & MW_OBJ_FINALIZED))
            n_to_finalize++;
        o->flags &= ~(MW_GC_UNREACHABLE | MW_GC_COLLECTING);
        n_garbage++;
        if (gc->debug_fn != NULL)
            gc->debug_fn(gc->debug_ud, "collectable", generation, o, 0);
    }

    mw_gchead *garbage = &unreachable;
    mw_gchead still_garbage;
    gc_list_init(&still_garbage);
    if (n_to_finalize > 0) {
        /* Finalizers run with the garbage flagged, so that nothing
         * mistakes it for part of a generation. */
        for (mw_gchead *g = unreachable.next; g != &unreachable; g = g->next)
            gc_obj(g)->flags |= MW_GC_COLLECTING;
        gc->finalizers_run += gc_finalize(heap, &unreachable);
        /* Resurrection: recount the garbage alone. What a finalizer made
         * reachable from outside, and what that reaches, survives. */
        gc_update_refs(&unreachable);
        gc_subtract_refs(&unreachable);
        gc_move_unreachable(&unreachable, &still_garbage);
        for (mw_gchead *g = still_garbage.next; g != &still_garbage; g = g->next)
            gc_obj(g)->flags &= ~(MW_GC_UNREACHABLE | MW_GC_COLLECTING);
        mw_gc_list_merge(older, &unreachable);
        garbage = &still_garbage;
    }

    size_t n_uncollectable = gc_delete_garbage(heap, garbage, generation);

    uint64_t pause = gc_now_ns() - t0;
    mw_gc_stats *st = &gc->stats[generation];
    st->collections++;
    st->collected += n_garbage - n_uncollectable;
    st->uncollectable += n_uncollectable;
    st->total_pause_ns += pause;
    if (pause > st->max_pause_ns)
        st->max_pause_ns = pause;
    if (gc->debug_fn != NULL)
        gc->debug_fn(gc->debug_ud, "done", generation, NULL, n_garbage);
    gc->collecting = 0;
    return n_garbage;
}

/* Picks the oldest generation whose count passed its threshold and
 * collects it, as CPython's collect_generations does. */
static void gc_collect_generations(mw_heap *heap)
{
    mw_gc *gc = &heap->gc;
    for (int i = MW_GC_NGEN - 1; i >= 0; i--) {
        if (gc->gens[i].threshold == 0 || gc->gens[i].count <= gc->gens[i].threshold)
            continue;
        if (i == MW_GC_NGEN - 1 && gc->long_lived_pending < gc->long_lived_total / 4)
            continue;
        mw_gc_collect(heap, i);
        break;
    }
}

void mw_gc_track(mw_heap *heap, mw_object *o)
{
    mw_gc *gc = &heap->gc;
    mw_gchead *g = mw_object_gchead(o);
    o->flags = (o->flags & ~MW_GC_STATE) | MW_GC_TRACKED;
    g->gc_refs = 0;
    gc_list_append(&gc->gens[0].head, g);
    gc->gens[0].count++;
    if (gc->enabled && !gc->collecting && gc->gens[0].threshold != 0
        && gc->gens[0].count > gc->gens[0].threshold)
        gc_collect_generations(heap);
}

void mw_gc_untrack(mw_heap *heap, mw_object *o)
{
    if (!(o->flags & MW_GC_TRACKED))
        return;
    gc_list_remove(mw_object_gchead(o));
    o->flags &= ~MW_GC_STATE;
    if (heap->gc.gens[0].count > 0)
        heap->gc.gens[0].count--;
}
