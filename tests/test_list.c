/*
 * test_list.c: lists: operations, growth, and allocation failure at every
 * point of every function that allocates.
 */
#include "heap_fixture.h"

#include "types/list.h"
#include "types/str.h"

static void test_append_get_set(void **state)
{
    fixture *f = *state;
    mw_list *l = mw_list_new(f->heap, 0);
    assert_int_equal(l->cap, 0);
    for (int i = 0; i < 100; i++)
        assert_int_equal(mw_list_append(f->heap, l, mw_int(i)), MW_OK);
    assert_int_equal(l->len, 100);
    assert_true(l->cap >= 100);
    assert_int_equal(mw_list_get(l, 42).u.i, 42);
    assert_int_equal(mw_list_get(l, 100).tag, MW_TNIL);
    assert_int_equal(mw_list_set(f->heap, l, 42, mw_float(0.5)), MW_OK);
    assert_true(mw_list_get(l, 42).u.f == 0.5);
    assert_int_equal(mw_list_set(f->heap, l, 100, mw_nil()), MW_ERANGE);
    mw_decref(f->heap, &l->ob);
}

static void test_insert_remove(void **state)
{
    fixture *f = *state;
    mw_list *l = mw_list_new(f->heap, 0);
    mw_list_append(f->heap, l, mw_int(1));
    mw_list_append(f->heap, l, mw_int(3));
    assert_int_equal(mw_list_insert(f->heap, l, 1, mw_int(2)), MW_OK);
    assert_int_equal(mw_list_insert(f->heap, l, 0, mw_int(0)), MW_OK);
    assert_int_equal(mw_list_insert(f->heap, l, 4, mw_int(4)), MW_OK);
    assert_int_equal(mw_list_insert(f->heap, l, 6, mw_int(9)), MW_ERANGE);
    for (int i = 0; i < 5; i++)
        assert_int_equal(mw_list_get(l, (size_t)i).u.i, i);
    mw_value v;
    assert_int_equal(mw_list_remove(f->heap, l, 0, &v), MW_OK);
    assert_int_equal(v.u.i, 0);
    assert_int_equal(mw_list_remove(f->heap, l, 9, &v), MW_ERANGE);
    assert_int_equal(l->len, 4);
    assert_int_equal(mw_list_get(l, 0).u.i, 1);
    mw_decref(f->heap, &l->ob);
}

/* Overwriting or removing a string releases it (or hands it over). */
static void test_values_hold_references(void **state)
{
    fixture *f = *state;
    mw_list *l = mw_list_new(f->heap, 0);
    mw_str *s = mw_str_new(f->heap, "s", 1);
    mw_list_append(f->heap, l, mw_objval(MW_TSTRING, &s->ob));
    mw_list_append(f->heap, l, mw_objval(MW_TSTRING, &s->ob));
    assert_int_equal(s->ob.refcount, 3);
    mw_list_set(f->heap, l, 0, mw_nil());
    assert_int_equal(s->ob.refcount, 2);
    mw_value v;
    mw_list_remove(f->heap, l, 1, &v);
    assert_int_equal(s->ob.refcount, 2);   /* now owned by v */
    mw_value_decref(f->heap, v);
    assert_int_equal(s->ob.refcount, 1);
    mw_decref(f->heap, &s->ob);
    mw_decref(f->heap, &l->ob);
    assert_int_equal(native_bytes(f), f->base);
}

/* Fails the n-th allocation for n = 1, 2, ... while filling a list by
 * append and insert: every failure is reported, the list keeps exactly
 * the values added before it, and nothing leaks. */
static void test_allocation_failure_sweep(void **state)
{
    fixture *f = *state;
    int completed = 0;
    for (uint64_t n = 1; !completed; n++) {
        mw_alloc_fail_nth(&f->alloc, n, 0);
        mw_list *l = mw_list_new(f->heap, 0);
        if (l == NULL) {
            assert_int_equal(f->alloc.last_error, MW_ENOMEM);
            assert_int_equal(native_bytes(f), f->base);
            continue;
        }
        size_t added = 0;
        mw_status st = MW_OK;
        for (int i = 0; i < 50 && st == MW_OK; i++) {
            st = (i % 2) ? mw_list_append(f->heap, l, mw_int(i))
                         : mw_list_insert(f->heap, l, 0, mw_int(i));
            if (st == MW_OK)
                added++;
        }
        if (st == MW_OK)
            st = mw_list_reserve(f->heap, l, 1000);
        if (st != MW_OK) {
            assert_int_equal(st, MW_ENOMEM);
            assert_int_equal(l->len, added);
        } else {
            completed = 1;
            assert_int_equal(l->len, 50);
        }
        mw_alloc_fail_nth(&f->alloc, 0, 0);
        mw_decref(f->heap, &l->ob);
        assert_int_equal(native_bytes(f), f->base);
        assert_true(n < 100);
    }
}

/* Over budget, growth fails with MW_EBUDGET and the list is intact. */
static void test_budget(void **state)
{
    fixture *f = *state;
    mw_list *l = mw_list_new(f->heap, 0);
    mw_alloc_set_budget(&f->alloc, f->alloc.current + 1000);
    mw_status st = MW_OK;
    size_t n = 0;
    while ((st = mw_list_append(f->heap, l, mw_int(1))) == MW_OK)
        n++;
    assert_int_equal(st, MW_EBUDGET);
    assert_int_equal(l->len, n);
    assert_true(f->alloc.current <= f->alloc.budget);
    mw_alloc_set_budget(&f->alloc, 0);
    mw_decref(f->heap, &l->ob);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, fixture_setup, fixture_teardown)
    const struct CMUnitTest tests[] = {
        T(test_append_get_set),
        T(test_insert_remove),
        T(test_values_hold_references),
        T(test_allocation_failure_sweep),
        T(test_budget),
    };
    return cmocka_run_group_tests_name("list", tests, NULL, NULL);
}
