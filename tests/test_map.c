/*
 * test_map.c: maps: keys of each kind, deletion and tombstones, growth,
 * iteration, and allocation failure at every point of set.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "heap_fixture.h"

#include "types/map.h"
#include "types/str.h"

static void test_string_and_number_keys(void **state)
{
    fixture *f = *state;
    mw_map *m = mw_map_new(f->heap, 0);
    assert_int_equal(mw_map_set_lstr(f->heap, m, "a", 1, mw_int(1)), MW_OK);
    assert_int_equal(mw_map_set(f->heap, m, mw_int(7), mw_int(2)), MW_OK);
    assert_int_equal(mw_map_set(f->heap, m, mw_float(2.5), mw_int(3)), MW_OK);
    assert_int_equal(m->count, 3);
    assert_int_equal(mw_map_get_lstr(f->heap, m, "a", 1).u.i, 1);
    assert_int_equal(mw_map_get_lstr(f->heap, m, "b", 1).tag, MW_TNIL);
    mw_value out;
    /* 7.0 and 7 are the same key, as in Lua. */
    assert_int_equal(mw_map_get(f->heap, m, mw_float(7.0), &out), MW_OK);
    assert_int_equal(out.u.i, 2);
    assert_int_equal(mw_map_get(f->heap, m, mw_float(2.5), &out), MW_OK);
    assert_int_equal(out.u.i, 3);
    /* A string key given as a str value finds the same entry. */
    mw_str *k = mw_str_new(f->heap, "a", 1);
    assert_int_equal(mw_map_get(f->heap, m, mw_objval(MW_TSTRING, &k->ob), &out), MW_OK);
    assert_int_equal(out.u.i, 1);
    assert_int_equal(mw_map_set(f->heap, m, mw_objval(MW_TSTRING, &k->ob), mw_int(10)), MW_OK);
    assert_int_equal(m->count, 3);
    assert_int_equal(mw_map_get_lstr(f->heap, m, "a", 1).u.i, 10);
    mw_decref(f->heap, &k->ob);
    mw_decref(f->heap, &m->ob);
}

static void test_bad_keys(void **state)
{
    fixture *f = *state;
    mw_map *m = mw_map_new(f->heap, 0);
    mw_value out;
    assert_int_equal(mw_map_set(f->heap, m, mw_nil(), mw_int(1)), MW_EKEY);
    assert_int_equal(mw_map_set(f->heap, m, mw_float(NAN), mw_int(1)), MW_EKEY);
    assert_int_equal(mw_map_set(f->heap, m, mw_bool(1), mw_int(1)), MW_ETYPE);
    assert_int_equal(mw_map_set(f->heap, m, mw_objval(MW_TOBJECT, &m->ob), mw_int(1)), MW_ETYPE);
    assert_int_equal(mw_map_get(f->heap, m, mw_nil(), &out), MW_EKEY);
    assert_int_equal(m->count, 0);
    mw_decref(f->heap, &m->ob);
}

static void test_many_keys_delete_and_grow(void **state)
{
    fixture *f = *state;
    mw_map *m = mw_map_new(f->heap, 0);
    char key[32];
    for (int i = 0; i < 10000; i++) {
        int len = snprintf(key, sizeof key, "k%d", i);
        assert_int_equal(mw_map_set_lstr(f->heap, m, key, (size_t)len, mw_int(i)), MW_OK);
        assert_int_equal(mw_map_set(f->heap, m, mw_int(i), mw_int(-i)), MW_OK);
    }
    assert_int_equal(m->count, 20000);
    assert_true(m->cap * 3 >= m->used * 4);
    /* Delete the even ones (setting nil). */
    for (int i = 0; i < 10000; i += 2) {
        int len = snprintf(key, sizeof key, "k%d", i);
        assert_int_equal(mw_map_set_lstr(f->heap, m, key, (size_t)len, mw_nil()), MW_OK);
        assert_int_equal(mw_map_set(f->heap, m, mw_int(i), mw_nil()), MW_OK);
    }
    assert_int_equal(m->count, 10000);
    for (int i = 0; i < 10000; i++) {
        int len = snprintf(key, sizeof key, "k%d", i);
        mw_value v = mw_map_get_lstr(f->heap, m, key, (size_t)len);
        mw_value w;
        mw_map_get(f->heap, m, mw_int(i), &w);
        if (i % 2) {
            assert_int_equal(v.u.i, i);
            assert_int_equal(w.u.i, -i);
        } else {
            assert_int_equal(v.tag, MW_TNIL);
            assert_int_equal(w.tag, MW_TNIL);
        }
    }
    /* Churn: insert and delete repeatedly; tombstones never fill the table. */
    size_t cap = m->cap;
    for (int round = 0; round < 100000; round++) {
        mw_map_set(f->heap, m, mw_int(1000000 + round), mw_int(1));
        mw_map_set(f->heap, m, mw_int(1000000 + round), mw_nil());
    }
    assert_int_equal(m->count, 10000);
    assert_int_equal(m->cap, cap);
    mw_decref(f->heap, &m->ob);
    assert_int_equal(native_bytes(f), f->base);
}

/* Iteration visits every entry once, also when entries are deleted
 * during the traversal. */
static void test_iteration_with_deletion(void **state)
{
    fixture *f = *state;
    mw_map *m = mw_map_new(f->heap, 0);
    for (int i = 0; i < 1000; i++)
        mw_map_set(f->heap, m, mw_int(i), mw_int(i * 2));
    size_t pos = 0, seen = 0;
    int64_t sum = 0;
    mw_value k, v;
    while (mw_map_next(m, &pos, &k, &v)) {
        assert_int_equal(v.u.i, k.u.i * 2);
        sum += k.u.i;
        seen++;
        assert_int_equal(mw_map_set(f->heap, m, k, mw_nil()), MW_OK);
    }
    assert_int_equal(seen, 1000);
    assert_int_equal(sum, 999 * 1000 / 2);
    assert_int_equal(m->count, 0);
    mw_decref(f->heap, &m->ob);
}

static void test_allocation_failure_sweep(void **state)
{
    fixture *f = *state;
    int completed = 0;
    char key[32];
    for (uint64_t n = 1; !completed; n++) {
        mw_alloc_fail_nth(&f->alloc, n, 0);
        mw_map *m = mw_map_new(f->heap, 0);
        if (m == NULL) {
            assert_int_equal(native_bytes(f), f->base);
            continue;
        }
        size_t added = 0;
        mw_status st = MW_OK;
        for (int i = 0; i < 40 && st == MW_OK; i++) {
            int len = snprintf(key, sizeof key, "key%d", i);
            st = (i % 2) ? mw_map_set_lstr(f->heap, m, key, (size_t)len, mw_int(i))
                         : mw_map_set(f->heap, m, mw_int(i), mw_int(i));
            if (st == MW_OK)
                added++;
        }
        if (st != MW_OK) {
            assert_int_equal(st, MW_ENOMEM);
            assert_int_equal(m->count, added);
            /* What was added before the failure is all still there. */
            for (size_t i = 0; i < added; i++) {
                mw_value v;
                if (i % 2) {
                    int len = snprintf(key, sizeof key, "key%zu", i);
                    v = mw_map_get_lstr(f->heap, m, key, (size_t)len);
                } else {
                    mw_map_get(f->heap, m, mw_int((int64_t)i), &v);
                }
                assert_int_equal(v.u.i, (int64_t)i);
            }
        } else {
            completed = 1;
        }
        mw_alloc_fail_nth(&f->alloc, 0, 0);
        mw_decref(f->heap, &m->ob);
        assert_int_equal(native_bytes(f), f->base);
        assert_true(n < 200);
    }
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, fixture_setup, fixture_teardown)
    const struct CMUnitTest tests[] = {
        T(test_string_and_number_keys),
        T(test_bad_keys),
        T(test_many_keys_delete_and_grow),
        T(test_iteration_with_deletion),
        T(test_allocation_failure_sweep),
    };
    return cmocka_run_group_tests_name("map", tests, NULL, NULL);
}
