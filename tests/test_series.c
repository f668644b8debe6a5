/*
 * test_series.c: series, frames and rings from C: sharing between slices,
 * growth, exact sizes, and allocation failure at every point.
 */
#include <math.h>
#include <stdio.h>

#include "heap_fixture.h"

#include "types/frame.h"
#include "types/ring.h"
#include "types/series.h"

static void test_series_exact_size(void **state)
{
    fixture *f = *state;
    size_t before = mw_heap_type_stats(f->heap, &mw_buffer_type)->bytes;
    mw_series *s = mw_series_new(f->heap, 1000, 0, 1);
    assert_non_null(s);
    assert_int_equal(mw_heap_type_stats(f->heap, &mw_buffer_type)->bytes - before,
                     1000 * sizeof(double) + mw_pool_block_size(sizeof(mw_buffer)));
    assert_true(mw_series_values(s)[999] == 0.0);
    mw_decref(f->heap, &s->ob);
    assert_int_equal(native_bytes(f), f->base);
}

/* A slice outlives its base and sees the base's writes. */
static void test_slices_share_and_outlive(void **state)
{
    fixture *f = *state;
    mw_series *base = mw_series_new(f->heap, 10, 1, 0);
    for (int i = 0; i < 10; i++) {
        mw_series_values(base)[i] = i;
        mw_series_stamps(base)[i] = 1000 * i;
    }
    mw_series *v = mw_series_slice(f->heap, base, 2, 5);
    mw_series *vv = mw_series_slice(f->heap, v, 1, 2);
    assert_int_equal(vv->len, 2);
    assert_true(mw_series_values(vv)[0] == 3.0);
    assert_int_equal(mw_series_stamps(vv)[1], 4000);
    mw_series_values(base)[3] = -3;
    assert_true(mw_series_values(vv)[0] == -3.0);
    assert_false(mw_series_owns_buffers(v));
    assert_int_equal(mw_series_append(f->heap, v, 1, 0), MW_EINVAL);
    assert_null(mw_series_slice(f->heap, v, 4, 2));
    assert_int_equal(f->alloc.last_error, MW_ERANGE);
    mw_decref(f->heap, &base->ob);
    mw_decref(f->heap, &v->ob);
    assert_true(mw_series_values(vv)[1] == 4.0);
    mw_decref(f->heap, &vv->ob);
    assert_int_equal(native_bytes(f), f->base);
}

/* Appending to a base moves its buffer; its slices still read right. */
static void test_append_grows_under_slices(void **state)
{
    fixture *f = *state;
    mw_series *s = mw_series_new(f->heap, 0, 0, 0);
    mw_series_append(f->heap, s, 7, 0);
    mw_series *v = mw_series_slice(f->heap, s, 0, 1);
    for (int i = 0; i < 10000; i++)
        assert_int_equal(mw_series_append(f->heap, s, i, 0), MW_OK);
    assert_int_equal(s->len, 10001);
    assert_true(mw_series_values(v)[0] == 7.0);
    mw_decref(f->heap, &v->ob);
    mw_decref(f->heap, &s->ob);
}

static void test_series_failure_sweep(void **state)
{
    fixture *f = *state;
    int completed = 0;
    for (uint64_t n = 1; !completed; n++) {
        mw_alloc_fail_nth(&f->alloc, n, 0);
        mw_series *s = mw_series_new(f->heap, 4, 1, 1);
        mw_series *v = s ? mw_series_slice(f->heap, s, 1, 2) : NULL;
        mw_series *c = v ? mw_series_copy(f->heap, v) : NULL;
        mw_status st = MW_OK;
        size_t appended = 0;
        for (int i = 0; c != NULL && i < 100 && st == MW_OK; i++) {
            st = mw_series_append(f->heap, c, i, i);
            if (st == MW_OK)
                appended++;
        }
        mw_alloc_fail_nth(&f->alloc, 0, 0);
        if (c != NULL) {
            assert_int_equal(c->len, 2 + appended);
            completed = st == MW_OK;
        }
        if (c) mw_decref(f->heap, &c->ob);
        if (v) mw_decref(f->heap, &v->ob);
        if (s) mw_decref(f->heap, &s->ob);
        assert_int_equal(native_bytes(f), f->base);
        assert_true(n < 100);
    }
}

static void test_frame_columns(void **state)
{
    fixture *f = *state;
    mw_frame *fr = mw_frame_new(f->heap);
    mw_series *a = mw_series_new(f->heap, 3, 0, 1);
    mw_series *b = mw_series_new(f->heap, 3, 0, 1);
    mw_series *c = mw_series_new(f->heap, 4, 0, 1);
    assert_int_equal(mw_frame_set(f->heap, fr, "a", 1, a), MW_OK);
    assert_int_equal(mw_frame_set(f->heap, fr, "b", 1, b), MW_OK);
    assert_int_equal(mw_frame_set(f->heap, fr, "c", 1, c), MW_ERANGE);
    assert_int_equal(fr->ncols, 2);
    assert_int_equal(fr->nrows, 3);
    assert_int_equal(mw_frame_find(fr, "b", 1), 1);
    assert_int_equal(mw_frame_find(fr, "z", 1), -1);
    /* Replacing the only column may change the row count. */
    mw_frame_remove(f->heap, fr, "b", 1);
    assert_int_equal(mw_frame_set(f->heap, fr, "a", 1, c), MW_OK);
    assert_int_equal(fr->nrows, 4);
    assert_int_equal(a->ob.refcount, 1);
    mw_decref(f->heap, &a->ob);
    mw_decref(f->heap, &b->ob);
    mw_decref(f->heap, &c->ob);
    mw_decref(f->heap, &fr->ob);
    assert_int_equal(native_bytes(f), f->base);
}

static void test_frame_failure_sweep(void **state)
{
    fixture *f = *state;
    mw_series *col = mw_series_new(f->heap, 2, 0, 1);
    int completed = 0;
    char name[16];
    for (uint64_t n = 1; !completed; n++) {
        mw_alloc_fail_nth(&f->alloc, n, 0);
        mw_frame *fr = mw_frame_new(f->heap);
        mw_status st = fr ? MW_OK : MW_ENOMEM;
        size_t added = 0;
        for (int i = 0; fr != NULL && i < 9 && st == MW_OK; i++) {
            int len = snprintf(name, sizeof name, "col%d", i);
            st = mw_frame_set(f->heap, fr, name, (size_t)len, col);
            if (st == MW_OK)
                added++;
        }
        mw_alloc_fail_nth(&f->alloc, 0, 0);
        if (fr != NULL) {
            assert_int_equal(fr->ncols, added);
            completed = st == MW_OK;
            mw_decref(f->heap, &fr->ob);
        }
        assert_int_equal(col->ob.refcount, 1);
        assert_true(n < 100);
    }
    mw_decref(f->heap, &col->ob);
    assert_int_equal(native_bytes(f), f->base);
}

static void test_ring_window_and_stats(void **state)
{
    fixture *f = *state;
    mw_ring *r = mw_ring_new(f->heap, 4);
    double out;
    for (int i = 1; i <= 4; i++)
        assert_int_equal(mw_ring_push(r, i, &out), 0);
    assert_int_equal(mw_ring_push(r, 5, &out), 1);
    assert_true(out == 1.0);
    assert_true(mw_ring_get(r, 0) == 2.0);
    assert_true(fabs(r->mean - 3.5) < 1e-12);
    assert_true(fabs(mw_ring_var(r, 1) - 5.0 / 3.0) < 1e-12);
    mw_ring_push(r, NAN, &out);
    assert_int_equal(r->n_valid, 3);
    assert_true(fabs(r->mean - 4.0) < 1e-12);
    assert_null(mw_ring_new(f->heap, 0));
    assert_int_equal(f->alloc.last_error, MW_EINVAL);
    mw_decref(f->heap, &r->ob);
    assert_int_equal(native_bytes(f), f->base);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, fixture_setup, fixture_teardown)
    const struct CMUnitTest tests[] = {
        T(test_series_exact_size),
        T(test_slices_share_and_outlive),
        T(test_append_grows_under_slices),
        T(test_series_failure_sweep),
        T(test_frame_columns),
        T(test_frame_failure_sweep),
        T(test_ring_window_and_stats),
    };
    return cmocka_run_group_tests_name("series", tests, NULL, NULL);
}
