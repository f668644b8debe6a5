/*
 * test_neighbours.c: the neighbour search (neighbours.c) against a full
 * sort, and allocation failures at every point of the row kinds (knn,
 * lof: the window, fit, the batch test of rows) and of the scaler
 * (scale.c: creation, width, save, load): each failure is a clean status
 * and leaks nothing; the saved scaler refuses every flipped byte.
 *
 * Each test gets a fresh allocator; the teardown fails the test unless
 * every byte went back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "alloc_fixture.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "detect/detect.h"
#include "detect/neighbours.h"
#include "detect/scale.h"
#include "stats/rng.h"

enum { N = 300, DIMS = 5 };


static void test_rows_data(double *x, size_t n, uint64_t seed)
{
    mw_rng rng;
    mw_rng_seed(&rng, seed);
    for (size_t i = 0; i < n; i++)
        x[i] = round(4.0 * mw_rng_normal(&rng));   /* rounded: many ties */
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The k smallest squared distances are those of a full sort, for every
 * k, with and without a row left out; indices point at rows at those
 * distances, ties going to the earlier row. */
static void test_nearest(void **state)
{
    (void)state;
    static double rows[N * DIMS], all[N];
    double q[DIMS], dist2[64];
    uint32_t idx[64];
    test_rows_data(rows, N * DIMS, 1);
    test_rows_data(q, DIMS, 2);
    for (size_t skip = 0; skip <= N; skip += N / 3) {
        size_t m = 0;
        for (size_t i = 0; i < N; i++) {
            if (i == skip)
                continue;
            double acc = 0.0;
            for (size_t j = 0; j < DIMS; j++)
                acc += (rows[i * DIMS + j] - q[j]) * (rows[i * DIMS + j] - q[j]);
            all[m++] = acc;
        }
        qsort(all, m, sizeof *all, cmp_double);
        for (size_t k = 1; k <= 64; k += 7) {
            size_t found = mw_nn_nearest(rows, N, DIMS, q, k, skip, dist2, idx);
            assert_int_equal(found, k);
            for (size_t j = 0; j < k; j++) {
                assert_true(dist2[j] == all[j]);
                assert_true(idx[j] != skip);
                if (j > 0 && dist2[j] == dist2[j - 1])
                    assert_true(idx[j] > idx[j - 1]);
            }
        }
    }
    /* fewer rows than k */
    assert_int_equal(mw_nn_nearest(rows, 3, DIMS, q, 10, 1, dist2, NULL), 2);
}

/* Every allocation of a row kind's life fails in turn: a clean status. */
static void test_kinds_alloc_failures(void **state)
{
    mw_alloc *a = *state;
    static double rows[N * DIMS], out[N];
    test_rows_data(rows, N * DIMS, 3);
    const char *kinds[] = {"knn", "lof"};
    for (size_t k = 0; k < 2; k++) {
        const mw_detector_type *type = mw_detect_find(kinds[k]);
        assert_non_null(type);
        for (uint64_t nth = 1;; nth++) {
            mw_alloc_fail_nth(a, nth, 0);
            double v[MW_DETECT_MAX_PARAMS];
            mw_detect_param_defaults(type, v);
            mw_status status;
            char err[MW_DETECT_ERRLEN];
            mw_detector *d = mw_detector_new(a, type, v, &status, err);
            if (d == NULL) {
                assert_int_equal(status, MW_ENOMEM);
                continue;
            }
            status = mw_detector_test_rows(d, rows, DIMS, N, out, err);
            if (status == MW_OK)
                status = mw_detector_fit(d, rows, DIMS, N, err);
            if (status == MW_OK)
                status = mw_detector_run_rows(d, rows, DIMS, NULL, N, out, err);
            mw_detector *copy = status == MW_OK ? mw_detector_clone(d, &status, err) : NULL;
            mw_detector_free(d);
            mw_detector_free(copy);
            if (status != MW_OK) {
                assert_int_equal(status, MW_ENOMEM);
                continue;
            }
            mw_alloc_fail_nth(a, 0, 0);
            assert_true(nth > 3);
            break;
        }
    }
}

static void test_scaler(void **state)
{
    mw_alloc *a = *state;
    static double rows[N * DIMS];
    double out[DIMS];
    test_rows_data(rows, N * DIMS, 4);
    for (uint64_t nth = 1;; nth++) {
        mw_alloc_fail_nth(a, nth, 0);
        mw_status status;
        char err[MW_SCALE_ERRLEN];
        mw_scaler *s = mw_scaler_new(a, MW_SCALE_STANDARD, 1, 0, &status);
        if (s == NULL) {
            assert_int_equal(status, MW_ENOMEM);
            continue;
        }
        status = mw_scaler_set_dims(s, DIMS, err);
        if (status != MW_OK) {
            assert_int_equal(status, MW_ENOMEM);
            assert_int_equal(s->dims, 0);
            mw_scaler_free(s);
            continue;
        }
        for (size_t i = 0; i < N; i++)
            mw_scaler_update(s, rows + i * DIMS, out);
        mw_blob_writer w;
        mw_blob_writer_init(&w, a);
        mw_scaler_save(s, &w);
        mw_scaler *back = w.status == MW_OK ? mw_scaler_load(a, w.data, w.len, &status, err)
                                            : NULL;
        if (back == NULL) {
            assert_true(w.status == MW_ENOMEM || status == MW_ENOMEM);
            mw_blob_writer_free(&w);
            mw_scaler_free(s);
            continue;
        }
        mw_alloc_fail_nth(a, 0, 0);
        /* continues exactly */
        double want[DIMS];
        mw_scaler_update(s, rows, want);
        mw_scaler_update(back, rows, out);
        assert_memory_equal(out, want, sizeof want);
        assert_int_equal(back->bytes, s->bytes);
        /* every flipped byte and every cut is refused */
        for (size_t at = 0; at < w.len; at++) {
            w.data[at] ^= 0x21;
            assert_null(mw_scaler_load(a, w.data, w.len, &status, err));
            assert_int_equal(status, MW_EINVAL);
            w.data[at] ^= 0x21;
        }
        for (size_t len = 0; len < w.len; len++)
            assert_null(mw_scaler_load(a, w.data, len, &status, err));
        /* width checks */
        assert_int_equal(mw_scaler_set_dims(s, DIMS + 1, err), MW_EINVAL);
        assert_int_equal(mw_scaler_set_dims(s, DIMS, err), MW_OK);
        mw_blob_writer_free(&w);
        mw_scaler_free(s);
        mw_scaler_free(back);
        assert_true(nth > 3);
        break;
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nearest),
        cmocka_unit_test_setup_teardown(test_kinds_alloc_failures, alloc_setup, alloc_teardown),
        cmocka_unit_test_setup_teardown(test_scaler, alloc_setup, alloc_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
