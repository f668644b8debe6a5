/*
 * test_gc.c: the cycle collector: cycles found and freed (and only
 * then), survivors kept and promoted, finalizers that resurrect, the
 * uncollectable, automatic triggering, freezing, and statistics.
 */
#include "heap_fixture.h"

#include "types/list.h"
#include "types/map.h"
#include "types/str.h"

static mw_value obj(mw_list *l)
{
    return mw_objval(MW_TOBJECT, &l->ob);
}

/* Builds a ring of n lists, each holding the next, and returns a new
 * reference to the first (the others are held by the ring only). */
static mw_list *make_ring(mw_heap *heap, int n)
{
    mw_list *first = mw_list_new(heap, 1);
    mw_list *cur = first;
    for (int i = 1; i < n; i++) {
        mw_list *next = mw_list_new(heap, 1);
        assert_int_equal(mw_list_append(heap, cur, obj(next)), MW_OK);
        mw_decref(heap, &next->ob);
        cur = next;
    }
    assert_int_equal(mw_list_append(heap, cur, obj(first)), MW_OK);
    return first;
}

static void test_two_object_cycle(void **state)
{
    fixture *f = *state;
    mw_list *a = mw_list_new(f->heap, 0);
    mw_list *b = mw_list_new(f->heap, 0);
    mw_list_append(f->heap, a, obj(b));
    mw_list_append(f->heap, b, obj(a));
    /* Held from outside: a collection finds nothing. */
    assert_int_equal(mw_gc_collect(f->heap, 2), 0);
    assert_int_equal(live_count(f->heap, &mw_list_type), 2);
    mw_decref(f->heap, &a->ob);
    mw_decref(f->heap, &b->ob);
    /* Counting alone cannot free them: not before the collector runs. */
    assert_int_equal(live_count(f->heap, &mw_list_type), 2);
    assert_int_equal(mw_gc_collect(f->heap, 2), 2);
    assert_int_equal(live_count(f->heap, &mw_list_type), 0);
    assert_int_equal(native_bytes(f), f->base);
    assert_int_equal(f->heap->gc.stats[2].collected, 2);
    assert_int_equal(f->heap->gc.stats[2].uncollectable, 0);
}

static void test_self_cycle_and_map_cycle(void **state)
{
    fixture *f = *state;
    mw_list *a = mw_list_new(f->heap, 0);
    mw_list_append(f->heap, a, obj(a));
    mw_map *m = mw_map_new(f->heap, 0);
    mw_map_set_lstr(f->heap, m, "self", 4, mw_objval(MW_TOBJECT, &m->ob));
    mw_map_set_lstr(f->heap, m, "list", 4, obj(a));
    mw_decref(f->heap, &a->ob);
    mw_decref(f->heap, &m->ob);
    assert_int_equal(mw_gc_collect(f->heap, 0), 2);
    assert_int_equal(native_bytes(f), f->base);
}

static void test_thousand_object_cycle(void **state)
{
    fixture *f = *state;
    mw_list *ring = make_ring(f->heap, 1000);
    assert_int_equal(live_count(f->heap, &mw_list_type), 1000);
    assert_int_equal(mw_gc_collect(f->heap, 2), 0);
    mw_decref(f->heap, &ring->ob);
    assert_int_equal(live_count(f->heap, &mw_list_type), 1000);
    assert_int_equal(mw_gc_collect(f->heap, 2), 1000);
    assert_int_equal(live_count(f->heap, &mw_list_type), 0);
    assert_int_equal(native_bytes(f), f->base);
}

/* A cycle reachable from a live object survives any number of
 * collections; once that object goes, the cycle is garbage. */
static void test_cycle_reachable_from_live_survives(void **state)
{
    fixture *f = *state;
    mw_list *root = mw_list_new(f->heap, 0);
    mw_list *ring = make_ring(f->heap, 100);
    mw_list_append(f->heap, root, obj(ring));
    mw_decref(f->heap, &ring->ob);
    for (int g = 0; g < 3; g++)
        assert_int_equal(mw_gc_collect(f->heap, g), 0);
    assert_int_equal(live_count(f->heap, &mw_list_type), 101);
    mw_decref(f->heap, &root->ob);
    assert_int_equal(live_count(f->heap, &mw_list_type), 100);
    assert_int_equal(mw_gc_collect(f->heap, 2), 100);
    assert_int_equal(native_bytes(f), f->base);
}

/* Survivors of a collection move to the next generation; a young
 * collection does not look at older objects. */
static void test_survivors_promoted(void **state)
{
    fixture *f = *state;
    mw_list *a = mw_list_new(f->heap, 0);
    assert_int_equal(mw_gc_list_size(&f->heap->gc, 0), 1);
    mw_gc_collect(f->heap, 0);
    assert_int_equal(mw_gc_list_size(&f->heap->gc, 0), 0);
    assert_int_equal(mw_gc_list_size(&f->heap->gc, 1), 1);
    mw_gc_collect(f->heap, 1);
    assert_int_equal(mw_gc_list_size(&f->heap->gc, 2), 1);
    /* Make it garbage: a generation-0 collection does not see it. */
    mw_list_append(f->heap, a, obj(a));
    mw_decref(f->heap, &a->ob);
    assert_int_equal(mw_gc_collect(f->heap, 0), 0);
    assert_int_equal(mw_gc_collect(f->heap, 1), 0);
    assert_int_equal(mw_gc_collect(f->heap, 2), 1);
    assert_int_equal(native_bytes(f), f->base);
}

/* Allocations trigger collections past threshold 0; disabling stops it. */
static void test_automatic_collection(void **state)
{
    fixture *f = *state;
    mw_gc *gc = &f->heap->gc;
    assert_int_equal(gc->gens[0].threshold, 700);
    assert_int_equal(gc->gens[1].threshold, 10);
    assert_int_equal(gc->gens[2].threshold, 10);
    mw_gc_set_threshold(gc, 0, 50);
    gc->enabled = 0;
    for (int i = 0; i < 200; i++) {
        mw_list *a = mw_list_new(f->heap, 1);
        mw_list_append(f->heap, a, obj(a));
        mw_decref(f->heap, &a->ob);
    }
    assert_int_equal(gc->stats[0].collections, 0);
    assert_int_equal(live_count(f->heap, &mw_list_type), 200);
    gc->enabled = 1;
    for (int i = 0; i < 200; i++) {
        mw_list *a = mw_list_new(f->heap, 1);
        mw_list_append(f->heap, a, obj(a));
        mw_decref(f->heap, &a->ob);
    }
    assert_true(gc->stats[0].collections >= 3);
    /* Each automatic collection found the garbage made since the last. */
    assert_true(live_count(f->heap, &mw_list_type) <= 51);
    mw_gc_collect(f->heap, 2);
    assert_int_equal(live_count(f->heap, &mw_list_type), 0);
}

/* A finalizer that resurrects its object, in a garbage cycle. */
static int node_finalized;
static mw_list *node_keeper;
static int node_resurrect_once;

static void node_finalize(mw_heap *heap, mw_object *self)
{
    node_finalized++;
    if (node_keeper != NULL) {
        mw_list_append(heap, node_keeper, mw_objval(MW_TOBJECT, self));
        if (node_resurrect_once)
            node_keeper = NULL;
    }
}

static void node_traverse(mw_object *self, mw_visit_fn visit, void *arg)
{
    mw_object **child = (mw_object **)(void *)(self + 1);
    if (*child != NULL)
        visit(*child, arg);
}

static void node_clear(mw_heap *heap, mw_object *self)
{
    mw_object **child = (mw_object **)(void *)(self + 1);
    mw_object *c = *child;
    *child = NULL;
    mw_xdecref(heap, c);
}

static const mw_type node_type = {
    .name = "node",
    .size = sizeof(mw_object) + sizeof(mw_object *),
    .flags = MW_TYPE_GC,
    .traverse = node_traverse,
    .clear = node_clear,
    .finalize = node_finalize,
    .free = node_clear,
};

/* A node without clear: cycles of them cannot be broken. */
static const mw_type stubborn_type = {
    .name = "stubborn",
    .size = sizeof(mw_object) + sizeof(mw_object *),
    .flags = MW_TYPE_GC,
    .traverse = node_traverse,
    .clear = NULL,
    .free = node_clear,
};

static mw_object *node_new(mw_heap *heap, const mw_type *t)
{
    mw_object *o = mw_object_new(heap, t);
    assert_non_null(o);
    mw_gc_track(heap, o);
    return o;
}

static void node_link(mw_object *from, mw_object *to)
{
    mw_incref(to);
    *(mw_object **)(void *)(from + 1) = to;
}

static void test_resurrecting_finalizer(void **state)
{
    fixture *f = *state;
    node_finalized = 0;
    node_keeper = mw_list_new(f->heap, 0);
    mw_object *a = node_new(f->heap, &node_type);
    mw_object *b = node_new(f->heap, &node_type);
    node_link(a, b);
    node_link(b, a);
    mw_decref(f->heap, a);
    mw_decref(f->heap, b);
    /* Both finalizers run and store a and b in the keeper: nothing is
     * freed, nothing is freed twice. */
    assert_int_equal(mw_gc_collect(f->heap, 2), 2);
    assert_int_equal(node_finalized, 2);
    assert_int_equal(live_count(f->heap, &node_type), 2);
    assert_int_equal(node_keeper->len, 2);
    assert_int_equal(mw_gc_list_size(&f->heap->gc, MW_GC_UNCOLLECTABLE), 0);
    /* Once the keeper lets go, the cycle is freed without finalizing again. */
    mw_list *keeper = node_keeper;
    node_keeper = NULL;
    mw_list_clear(f->heap, keeper);
    assert_int_equal(mw_gc_collect(f->heap, 2), 2);
    assert_int_equal(node_finalized, 2);
    assert_int_equal(live_count(f->heap, &node_type), 0);
    mw_decref(f->heap, &keeper->ob);
}

/* A finalizer resurrecting one object of a cycle keeps the whole cycle. */
static void test_resurrection_keeps_what_it_reaches(void **state)
{
    fixture *f = *state;
    node_finalized = 0;
    node_keeper = NULL;
    mw_list *keeper = mw_list_new(f->heap, 0);
    mw_object *a = node_new(f->heap, &node_type);
    mw_object *b = node_new(f->heap, &node_type);
    mw_object *c = node_new(f->heap, &node_type);
    node_link(a, b);
    node_link(b, c);
    node_link(c, a);
    mw_decref(f->heap, a);
    mw_decref(f->heap, b);
    mw_decref(f->heap, c);
    /* Only the first finalizer to run stores its node; through it the
     * other two are reachable again, so all three survive. */
    node_keeper = keeper;
    node_resurrect_once = 1;
    assert_int_equal(mw_gc_collect(f->heap, 2), 3);
    node_resurrect_once = 0;
    assert_int_equal(node_finalized, 3);
    assert_int_equal(keeper->len, 1);
    assert_int_equal(live_count(f->heap, &node_type), 3);
    node_keeper = NULL;
    mw_list_clear(f->heap, keeper);
    assert_int_equal(mw_gc_collect(f->heap, 2), 3);
    assert_int_equal(live_count(f->heap, &node_type), 0);
    assert_int_equal(node_finalized, 3);
    mw_decref(f->heap, &keeper->ob);
}

static void test_uncollectable_reported_not_freed_twice(void **state)
{
    (void)state;
    mw_alloc alloc;
    mw_alloc_init(&alloc);
    mw_heap *heap = mw_heap_new(&alloc);
    mw_object *a = node_new(heap, &stubborn_type);
    mw_object *b = node_new(heap, &stubborn_type);
    node_link(a, b);
    node_link(b, a);
    mw_decref(heap, a);
    mw_decref(heap, b);
    assert_int_equal(mw_gc_collect(heap, 2), 2);
    assert_int_equal(heap->gc.stats[2].uncollectable, 2);
    assert_int_equal(heap->gc.stats[2].collected, 0);
    assert_int_equal(mw_gc_list_size(&heap->gc, MW_GC_UNCOLLECTABLE), 2);
    /* They are set aside: later collections do not count them again. */
    assert_int_equal(mw_gc_collect(heap, 2), 0);
    assert_int_equal(live_count(heap, &stubborn_type), 2);
    /* The heap frees them exactly once when it goes. */
    assert_int_equal(mw_heap_destroy(heap), 2);
    assert_int_equal(alloc.current, 0);
}

static void test_freeze(void **state)
{
    fixture *f = *state;
    mw_list *ring = make_ring(f->heap, 10);
    mw_decref(f->heap, &ring->ob);
    mw_gc_freeze(&f->heap->gc);
    assert_int_equal(mw_gc_list_size(&f->heap->gc, MW_GC_PERMANENT), 10);
    assert_int_equal(mw_gc_collect(f->heap, 2), 0);
    assert_int_equal(live_count(f->heap, &mw_list_type), 10);
    mw_gc_unfreeze(&f->heap->gc);
    assert_int_equal(mw_gc_list_size(&f->heap->gc, MW_GC_PERMANENT), 0);
    assert_int_equal(mw_gc_collect(f->heap, 2), 10);
    assert_int_equal(native_bytes(f), f->base);
}

/* Garbage holding strings and live objects: the strings are freed, the
 * live objects lose only the garbage's references. */
static void test_garbage_releases_outside_refs(void **state)
{
    fixture *f = *state;
    mw_list *live = mw_list_new(f->heap, 0);
    mw_list *ring = make_ring(f->heap, 3);
    mw_str *s = mw_str_new(f->heap, "payload", 7);
    mw_list_append(f->heap, ring, mw_objval(MW_TSTRING, &s->ob));
    mw_list_append(f->heap, ring, obj(live));
    mw_decref(f->heap, &s->ob);
    mw_decref(f->heap, &ring->ob);
    assert_int_equal(live->ob.refcount, 2);
    assert_int_equal(mw_gc_collect(f->heap, 2), 3);
    assert_int_equal(live->ob.refcount, 1);
    assert_int_equal(live_count(f->heap, &mw_str_type), 0);
    mw_decref(f->heap, &live->ob);
}

static void test_stats_and_pauses(void **state)
{
    fixture *f = *state;
    mw_gc_collect(f->heap, 0);
    mw_gc_collect(f->heap, 1);
    mw_gc_collect(f->heap, 1);
    const mw_gc *gc = &f->heap->gc;
    assert_int_equal(gc->stats[0].collections, 1);
    assert_int_equal(gc->stats[1].collections, 2);
    assert_int_equal(gc->stats[2].collections, 0);
    assert_true(gc->stats[1].max_pause_ns <= gc->stats[1].total_pause_ns);
    /* Generation counters: each young collection ages the next. */
    assert_int_equal(gc->gens[2].count, 2);
    assert_int_equal(gc->gens[1].count, 0);
}

typedef struct debug_log {
    int starts, collectable, done;
} debug_log;

static void debug_record(void *ud, const char *event, int generation,
                         const mw_object *o, size_t n)
{
    debug_log *log = ud;
    (void)generation;
    (void)o;
    (void)n;
    if (event[0] == 's')
        log->starts++;
    else if (event[0] == 'c')
        log->collectable++;
    else if (event[0] == 'd')
        log->done++;
}

static void test_debug_reports_garbage(void **state)
{
    fixture *f = *state;
    debug_log log = {0, 0, 0};
    f->heap->gc.debug_fn = debug_record;
    f->heap->gc.debug_ud = &log;
    mw_list *ring = make_ring(f->heap, 5);
    mw_decref(f->heap, &ring->ob);
    mw_gc_collect(f->heap, 2);
    assert_int_equal(log.starts, 1);
    assert_int_equal(log.collectable, 5);
    assert_int_equal(log.done, 1);
    f->heap->gc.debug_fn = NULL;
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, fixture_setup, fixture_teardown)
    const struct CMUnitTest tests[] = {
        T(test_two_object_cycle),
        T(test_self_cycle_and_map_cycle),
        T(test_thousand_object_cycle),
        T(test_cycle_reachable_from_live_survives),
        T(test_survivors_promoted),
        T(test_automatic_collection),
        T(test_resurrecting_finalizer),
        T(test_resurrection_keeps_what_it_reaches),
        cmocka_unit_test(test_uncollectable_reported_not_freed_twice),
        T(test_freeze),
        T(test_garbage_releases_outside_refs),
        T(test_stats_and_pauses),
        T(test_debug_reports_garbage),
    };
    return cmocka_run_group_tests_name("gc", tests, NULL, NULL);
}
