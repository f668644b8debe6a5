/*
 * test_heap.c: objects, reference counts, per-type accounting, finalizers
 * on refcount death, and freeing deep structures without deep recursion.
 */
#include "heap_fixture.h"

#include "types/list.h"
#include "types/str.h"

static void test_refcount_frees_at_zero(void **state)
{
    fixture *f = *state;
    mw_list *l = mw_list_new(f->heap, 0);
    assert_non_null(l);
    assert_int_equal(l->ob.refcount, 1);
    assert_int_equal(live_count(f->heap, &mw_list_type), 1);
    assert_int_equal(native_bytes(f), f->base + MW_LIST_BASE_BYTES);
    mw_incref(&l->ob);
    mw_decref(f->heap, &l->ob);
    assert_int_equal(live_count(f->heap, &mw_list_type), 1);
    mw_decref(f->heap, &l->ob);
    assert_int_equal(live_count(f->heap, &mw_list_type), 0);
    assert_int_equal(native_bytes(f), f->base);
}

/* Freeing a container drops its references: children die with it. */
static void test_children_freed_with_parent(void **state)
{
    fixture *f = *state;
    mw_list *parent = mw_list_new(f->heap, 0);
    for (int i = 0; i < 10; i++) {
        mw_list *child = mw_list_new(f->heap, 0);
        mw_str *s = mw_str_new(f->heap, "abc", 3);
        assert_int_equal(mw_list_append(f->heap, child, mw_objval(MW_TSTRING, &s->ob)), MW_OK);
        mw_decref(f->heap, &s->ob);
        assert_int_equal(mw_list_append(f->heap, parent, mw_objval(MW_TOBJECT, &child->ob)), MW_OK);
        mw_decref(f->heap, &child->ob);
    }
    assert_int_equal(live_count(f->heap, &mw_list_type), 11);
    assert_int_equal(live_count(f->heap, &mw_str_type), 10);
    mw_decref(f->heap, &parent->ob);
    assert_int_equal(live_count(f->heap, &mw_list_type), 0);
    assert_int_equal(live_count(f->heap, &mw_str_type), 0);
    assert_int_equal(native_bytes(f), f->base);
}

/* A million nested lists are freed by one decref, without a million
 * nested C calls (the deferred free keeps the recursion bounded). */
static void test_deep_nesting_freed_iteratively(void **state)
{
    fixture *f = *state;
    mw_list *outer = mw_list_new(f->heap, 1);
    mw_list *cur = outer;
    for (int i = 0; i < 1000000; i++) {
        mw_list *inner = mw_list_new(f->heap, 1);
        assert_non_null(inner);
        assert_int_equal(mw_list_append(f->heap, cur, mw_objval(MW_TOBJECT, &inner->ob)), MW_OK);
        mw_decref(f->heap, &inner->ob);
        cur = inner;
    }
    assert_int_equal(live_count(f->heap, &mw_list_type), 1000001);
    mw_decref(f->heap, &outer->ob);
    assert_int_equal(live_count(f->heap, &mw_list_type), 0);
    assert_int_equal(f->heap->dealloc_depth, 0);
    assert_null(f->heap->trash);
    assert_int_equal(native_bytes(f), f->base);
}

/* The exact cost of a list of a million values. */
static void test_list_bytes_exact(void **state)
{
    fixture *f = *state;
    size_t before = f->alloc.domain_bytes[MW_DOMAIN_NATIVE];
    mw_list *l = mw_list_new(f->heap, 1000000);
    for (int i = 0; i < 1000000; i++)
        assert_int_equal(mw_list_append(f->heap, l, mw_float(i)), MW_OK);
    size_t expected = MW_LIST_BASE_BYTES + 1000000 * sizeof(mw_value);
    assert_int_equal(sizeof(mw_value), 16);
    assert_int_equal(f->alloc.domain_bytes[MW_DOMAIN_NATIVE] - before, expected);
    assert_int_equal(mw_heap_type_stats(f->heap, &mw_list_type)->bytes, expected);
    mw_decref(f->heap, &l->ob);
    assert_int_equal(f->alloc.domain_bytes[MW_DOMAIN_NATIVE], before);
    assert_int_equal(mw_heap_type_stats(f->heap, &mw_list_type)->bytes, 0);
}

/* A plain (untracked) type with a finalizer that counts its runs and,
 * the first time, resurrects the object by storing it in `keeper`. */
static int probe_finalized;
static mw_list *probe_keeper;

static void probe_finalize(mw_heap *heap, mw_object *self)
{
    probe_finalized++;
    if (probe_keeper != NULL)
        mw_list_append(heap, probe_keeper, mw_objval(MW_TOBJECT, self));
}

static const mw_type probe_type = {
    .name = "probe",
    .size = sizeof(mw_object) + 16,
    .finalize = probe_finalize,
};

static void test_finalizer_runs_once_and_may_resurrect(void **state)
{
    fixture *f = *state;
    probe_finalized = 0;
    probe_keeper = mw_list_new(f->heap, 0);
    mw_object *p = mw_object_new(f->heap, &probe_type);
    assert_non_null(p);
    mw_decref(f->heap, p);
    assert_int_equal(probe_finalized, 1);
    /* Resurrected: the keeper holds it, it is alive with count 1. */
    assert_int_equal(live_count(f->heap, &probe_type), 1);
    assert_int_equal(p->refcount, 1);
    mw_list *keeper = probe_keeper;
    probe_keeper = NULL;
    /* Dropping the last reference again frees it, without a second run. */
    mw_list_clear(f->heap, keeper);
    assert_int_equal(probe_finalized, 1);
    assert_int_equal(live_count(f->heap, &probe_type), 0);
    mw_decref(f->heap, &keeper->ob);
}

static void test_strings(void **state)
{
    fixture *f = *state;
    mw_str *a = mw_str_new(f->heap, "hello\0world", 11);
    mw_str *b = mw_str_new(f->heap, "hello\0world", 11);
    mw_str *c = mw_str_new(f->heap, "hello", 5);
    assert_int_equal(a->len, 11);
    assert_true(mw_str_equal(a, b));
    assert_false(mw_str_equal(a, c));
    assert_int_equal(a->hash, b->hash);
    /* One block each, header and bytes and NUL, rounded to the pool's
     * 16-byte grain. */
    assert_int_equal(mw_heap_type_stats(f->heap, &mw_str_type)->bytes,
                     2 * mw_pool_block_size(sizeof(mw_str) + 12)
                     + mw_pool_block_size(sizeof(mw_str) + 6));
    mw_decref(f->heap, &a->ob);
    mw_decref(f->heap, &b->ob);
    mw_decref(f->heap, &c->ob);
    assert_int_equal(native_bytes(f), f->base);
}

/* Every allocation made while building objects can fail: the caller gets
 * NULL or an error code, and nothing is left half built or leaked. */
static void test_object_new_failure_leaves_nothing(void **state)
{
    fixture *f = *state;
    for (uint64_t n = 1; n <= 3; n++) {
        mw_alloc_fail_nth(&f->alloc, n, 0);
        mw_list *l = mw_list_new(f->heap, 10);   /* object, then storage */
        mw_str *s = mw_str_new(f->heap, "x", 1);
        mw_alloc_fail_nth(&f->alloc, 0, 0);
        if (n <= 2)
            assert_null(l);
        else
            assert_non_null(l);
        if (n == 3)
            assert_null(s);
        else
            assert_non_null(s);
        if (l != NULL)
            mw_decref(f->heap, &l->ob);
        if (s != NULL)
            mw_decref(f->heap, &s->ob);
        assert_int_equal(native_bytes(f), f->base);
        assert_int_equal(live_count(f->heap, &mw_list_type), 0);
    }
}

static void test_heap_new_failure(void **state)
{
    (void)state;
    mw_alloc a;
    mw_alloc_init(&a);
    mw_alloc_fail_nth(&a, 1, 0);
    assert_null(mw_heap_new(&a));
    assert_int_equal(a.last_error, MW_ENOMEM);
    assert_int_equal(a.current, 0);
    mw_heap *h = mw_heap_new(&a);
    assert_non_null(h);
    assert_int_equal(mw_heap_destroy(h), 0);
    assert_int_equal(a.current, 0);
}

/* Destroying a heap frees what callers forgot, and says how much. */
static void test_destroy_reports_leaks(void **state)
{
    (void)state;
    mw_alloc a;
    mw_alloc_init(&a);
    mw_heap *h = mw_heap_new(&a);
    mw_list *l1 = mw_list_new(h, 0);
    mw_list *l2 = mw_list_new(h, 0);
    mw_list_append(h, l1, mw_objval(MW_TOBJECT, &l2->ob));
    mw_list_append(h, l2, mw_objval(MW_TOBJECT, &l1->ob));
    /* Both still referenced from here: leaked when the heap goes. */
    assert_int_equal(mw_heap_destroy(h), 2);
    assert_int_equal(a.current, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_refcount_frees_at_zero, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_children_freed_with_parent, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_deep_nesting_freed_iteratively, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_list_bytes_exact, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_finalizer_runs_once_and_may_resurrect, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_strings, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_object_new_failure_leaves_nothing, fixture_setup, fixture_teardown),
        cmocka_unit_test(test_heap_new_failure),
        cmocka_unit_test(test_destroy_reports_leaks),
    };
    return cmocka_run_group_tests_name("heap", tests, NULL, NULL);
}
