/*
 * test_rows.c: the framework's rows for multivariate kinds (detect.h):
 * the width fixed once by the first row (and its errors), rows with a NaN
 * or an infinity skipped, run_rows == update_row in a loop around skipped
 * rows, fit, a single value as a row of one, univariate kinds taking rows
 * of one, and an allocation failure while the width is fixed (nothing
 * changes, the call can be retried). A small kind made here, unregistered:
 * its score is the distance of the row's sum from the mean of the sums
 * learned, its state one double a column (the last row).
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

typedef struct sum_state {
    double *last;            /* dims values: the last row learned */
    double total;            /* sum of the row sums learned */
    uint64_t rows;
    int set_dims_calls;
    int fitted;
} sum_state;

static mw_status sum_set_dims(mw_detector *d, char *err)
{
    (void)err;
    sum_state *s = d->state;
    s->last = mw_detector_alloc(d, d->dims * sizeof(double));
    if (s->last == NULL)
        return mw_detector_scratch_status(d);
    s->set_dims_calls++;
    return MW_OK;
}

static void sum_destroy(mw_detector *d)
{
    sum_state *s = d->state;
    mw_detector_dealloc(d, s->last, s->last != NULL ? d->dims * sizeof(double) : 0);
}

static double row_sum(const mw_detector *d, const double *row)
{
    double t = 0;
    for (size_t k = 0; k < d->dims; k++)
        t += row[k];
    return t;
}

static double sum_score_row(const mw_detector *d, const double *row, double t)
{
    (void)t;
    const sum_state *s = d->state;
    return s->rows == 0 ? 0.0 : fabs(row_sum(d, row) - s->total / (double)s->rows);
}

static double sum_update_row(mw_detector *d, const double *row, double t)
{
    sum_state *s = d->state;
    double score = sum_score_row(d, row, t);
    memcpy(s->last, row, d->dims * sizeof(double));
    s->total += row_sum(d, row);
    s->rows++;
    return score;
}

static mw_status sum_fit(mw_detector *d, const double *rows, size_t n, char *err)
{
    sum_state *s = d->state;
    if (n == 0) {
        strcpy(err, "fit needs rows");
        return MW_EINVAL;
    }
    s->total = 0;
    s->rows = 0;
    for (size_t i = 0; i < n; i++) {
        s->total += row_sum(d, rows + i * d->dims);
        s->rows++;
    }
    s->fitted = 1;
    return MW_OK;
}

static const mw_detector_type sum_type = {
    .name = "test.sum",
    .role = MW_ROLE_DETECTOR,
    .summary = "distance of the row sum from the mean sum",
    .state_size = sizeof(sum_state),
    .destroy = sum_destroy,
    .update = mw_detect_row_update,
    .score = mw_detect_row_score,
    .set_dims = sum_set_dims,
    .update_row = sum_update_row,
    .score_row = sum_score_row,
    .fit = sum_fit,
};


static mw_detector *new_sum(mw_alloc *a)
{
    mw_status status;
    char err[MW_DETECT_ERRLEN];
    mw_detector *d = mw_detector_new(a, &sum_type, NULL, &status, err);
    assert_non_null(d);
    return d;
}

static void test_width(void **state)
{
    mw_detector *d = new_sum(*state);
    sum_state *s = d->state;
    char err[MW_DETECT_ERRLEN];
    double score = -1;
    assert_true(mw_detector_is_multi(d));
    assert_int_equal(d->dims, 0);
    /* Scoring before any row: NaN, any width, nothing fixed. */
    double r3[3] = {1, 2, 3};
    assert_int_equal(mw_detector_score_row(d, r3, 3, NAN, &score, err), MW_OK);
    assert_true(isnan(score));
    assert_int_equal(d->dims, 0);
    /* The first row fixes the width, once. */
    assert_int_equal(mw_detector_update_row(d, r3, 3, NAN, &score, err), MW_OK);
    assert_true(score == 0.0);
    assert_int_equal(d->dims, 3);
    assert_int_equal(s->set_dims_calls, 1);
    double r3b[3] = {2, 2, 2};
    assert_int_equal(mw_detector_update_row(d, r3b, 3, NAN, &score, err), MW_OK);
    assert_true(score == 0.0);   /* 6 against the mean 6 */
    assert_int_equal(s->set_dims_calls, 1);
    assert_int_equal(d->n_learned, 2);
    /* Another width: an error naming both, nothing learned. */
    double r2[2] = {1, 2};
    score = -1;
    assert_int_equal(mw_detector_update_row(d, r2, 2, NAN, &score, err), MW_EINVAL);
    assert_string_equal(err, "rows of 2 values, but this test.sum scores rows of 3");
    assert_true(score == -1);
    assert_int_equal(mw_detector_score_row(d, r2, 2, NAN, &score, err), MW_EINVAL);
    assert_int_equal(d->n_learned, 2);
    /* A single value is a row of one: not this detector's width. */
    assert_true(isnan(mw_detector_update(d, 5.0, NAN)));
    assert_int_equal(d->n_learned, 2);
    /* Widths out of range. */
    mw_detector *e = new_sum(*state);
    assert_int_equal(mw_detector_set_dims(e, 0, err), MW_EINVAL);
    assert_int_equal(mw_detector_set_dims(e, MW_DETECT_MAX_DIMS + 1, err), MW_EINVAL);
    assert_int_equal(e->dims, 0);
    /* A single value on a fresh detector fixes a width of one. */
    assert_true(mw_detector_update(e, 5.0, NAN) == 0.0);
    assert_int_equal(e->dims, 1);
    assert_true(mw_detector_update(e, 7.0, NAN) == 2.0);
    assert_true(mw_detector_score(e, 6.0, NAN) == 0.0);
    mw_detector_free(e);
    mw_detector_free(d);
}

static void test_nonfinite(void **state)
{
    mw_detector *d = new_sum(*state);
    sum_state *s = d->state;
    char err[MW_DETECT_ERRLEN];
    double score;
    double good[2] = {1, 1}, nan_row[2] = {1, NAN}, inf_row[2] = {INFINITY, 1};
    assert_int_equal(mw_detector_update_row(d, good, 2, NAN, &score, err), MW_OK);
    double last = s->last[0];
    assert_int_equal(mw_detector_update_row(d, nan_row, 2, NAN, &score, err), MW_OK);
    assert_true(isnan(score));
    assert_int_equal(mw_detector_update_row(d, inf_row, 2, NAN, &score, err), MW_OK);
    assert_true(isnan(score));
    assert_int_equal(d->n_learned, 1);
    assert_int_equal(s->rows, 1);
    assert_true(s->last[0] == last);
    assert_int_equal(mw_detector_score_row(d, nan_row, 2, NAN, &score, err), MW_OK);
    assert_true(isnan(score));
    mw_detector_free(d);
}

static void test_run_rows(void **state)
{
    enum { N = 50, D = 4 };
    double rows[N * D];
    for (size_t i = 0; i < N * D; i++)
        rows[i] = sin((double)i) * 10;
    rows[7 * D + 2] = NAN;
    rows[30 * D + 0] = -INFINITY;
    mw_detector *a = new_sum(*state), *b = new_sum(*state);
    char err[MW_DETECT_ERRLEN];
    double out[N], want[N];
    assert_int_equal(mw_detector_run_rows(a, rows, D, NULL, N, out, err), MW_OK);
    for (size_t i = 0; i < N; i++)
        assert_int_equal(mw_detector_update_row(b, rows + i * D, D, NAN, &want[i], err), MW_OK);
    for (size_t i = 0; i < N; i++) {
        if (isnan(want[i]))
            assert_true(isnan(out[i]));
        else
            assert_true(out[i] == want[i]);
    }
    assert_true(isnan(out[7]) && isnan(out[30]));
    assert_int_equal(a->n_learned, N - 2);
    assert_int_equal(a->n_learned, b->n_learned);
    /* Rows of another width: refused before anything is learned. */
    assert_int_equal(mw_detector_run_rows(a, rows, D - 1, NULL, 3, out, err), MW_EINVAL);
    assert_int_equal(a->n_learned, N - 2);
    mw_detector_free(a);
    mw_detector_free(b);
}

static void test_fit(void **state)
{
    mw_detector *d = new_sum(*state);
    sum_state *s = d->state;
    char err[MW_DETECT_ERRLEN];
    double rows[6] = {1, 2, 3, 4, 5, 6};
    assert_int_equal(mw_detector_fit(d, rows, 2, 3, err), MW_OK);
    assert_int_equal(d->dims, 2);
    assert_true(s->fitted);
    double score, probe[2] = {7, 0};
    assert_int_equal(mw_detector_score_row(d, probe, 2, NAN, &score, err), MW_OK);
    assert_true(score == 0.0);   /* the mean of 3, 7 and 11 */
    assert_int_equal(d->n_learned, 3);
    /* Rows with a NaN or an infinity are left out of a fit. */
    double mixed[8] = {1, 2, NAN, 0, 3, 4, 5, INFINITY};
    assert_int_equal(mw_detector_fit(d, mixed, 2, 4, err), MW_OK);
    assert_int_equal(d->n_learned, 2);
    assert_int_equal(mw_detector_score_row(d, probe, 2, NAN, &score, err), MW_OK);
    assert_true(score == 2.0);   /* the mean of 3 and 7 is 5 */
    assert_int_equal(mw_detector_fit(d, rows, 3, 2, err), MW_EINVAL);
    assert_string_equal(err, "rows of 3 values, but this test.sum scores rows of 2");
    assert_int_equal(mw_detector_fit(d, rows, 2, 0, err), MW_EINVAL);
    assert_string_equal(err, "fit needs rows");
    /* A kind without fit says so. */
    double params[MW_DETECT_MAX_PARAMS];
    const mw_detector_type *z = mw_detect_find("zscore");
    mw_detect_param_defaults(z, params);
    mw_status status;
    mw_detector *zd = mw_detector_new(*state, z, params, &status, err);
    assert_non_null(zd);
    assert_int_equal(mw_detector_fit(zd, rows, 1, 6, err), MW_EINVAL);
    assert_string_equal(err, "'zscore' has no fit (it learns as it scores)");
    mw_detector_free(zd);
    mw_detector_free(d);
}

/* A univariate kind takes rows of one, with update's numbers. */
static void test_univariate_rows(void **state)
{
    double params[MW_DETECT_MAX_PARAMS];
    const mw_detector_type *z = mw_detect_find("zscore");
    mw_detect_param_defaults(z, params);
    params[0] = 20;
    mw_status status;
    char err[MW_DETECT_ERRLEN];
    mw_detector *a = mw_detector_new(*state, z, params, &status, err);
    mw_detector *b = mw_detector_new(*state, z, params, &status, err);
    assert_non_null(a);
    assert_non_null(b);
    double x[100], out[100];
    for (int i = 0; i < 100; i++)
        x[i] = cos(i * 0.3) + (i == 70 ? 9 : 0);
    assert_int_equal(mw_detector_run_rows(a, x, 1, NULL, 100, out, err), MW_OK);
    for (int i = 0; i < 100; i++) {
        double s;
        assert_int_equal(mw_detector_update_row(b, &x[i], 1, NAN, &s, err), MW_OK);
        assert_true(s == out[i]);
    }
    double two[2] = {1, 2}, s;
    assert_int_equal(mw_detector_update_row(a, two, 2, NAN, &s, err), MW_EINVAL);
    assert_string_equal(err, "rows of 2 values, but this zscore scores rows of 1");
    assert_int_equal(mw_detector_set_dims(a, 1, err), MW_OK);
    mw_detector_free(a);
    mw_detector_free(b);
}

/* The width's allocation fails: the status, no width, nothing leaked;
 * the next row succeeds. */
static void test_width_alloc_failure(void **state)
{
    mw_alloc *a = *state;
    mw_detector *d = new_sum(a);
    char err[MW_DETECT_ERRLEN];
    double row[3] = {1, 2, 3}, score = -1;
    mw_alloc_fail_nth(a, 1, 0);
    assert_int_equal(mw_detector_update_row(d, row, 3, NAN, &score, err), MW_ENOMEM);
    assert_int_equal(d->dims, 0);
    assert_int_equal(d->n_learned, 0);
    assert_true(score == -1);
    assert_int_equal(mw_detector_update_row(d, row, 3, NAN, &score, err), MW_OK);
    assert_int_equal(d->dims, 3);
    /* A saved state carries the width (a row of dims then the kind's). */
    mw_blob_writer w;
    mw_blob_writer_init(&w, a);
    mw_detector_save(d, &w);
    assert_int_equal(w.status, MW_OK);
    mw_blob_writer_free(&w);
    mw_detector_free(d);
}

/* Small parameters for every registered multivariate kind, so a sweep
 * over its allocations stays quick: windows, samples and forests shrunk
 * where the kind has them. */
static void small_params(const mw_detector_type *type, double *v)
{
    mw_detect_param_defaults(type, v);
    static const struct { const char *name; double value; } shrink[] = {
        {"n_trees", 3}, {"sample", 32}, {"tree_size", 32}, {"window", 40},
        {"window_size", 40}, {"projections", 5}, {"k", 3}, {"n_neighbors", 3},
    };
    for (size_t i = 0; i < sizeof shrink / sizeof shrink[0]; i++) {
        int at = mw_detect_param_index(type, shrink[i].name);
        if (at >= 0)
            v[at] = shrink[i].value;
    }
}

/* Every multivariate kind, failing its 1st, 2nd, ... allocation through
 * creation, the width, rows, a fit, a save and a load: each failure is a
 * clean status (memory), never a crash, and nothing leaks (the teardown
 * checks every byte); the sweep ends when a whole pass succeeds. */
static void test_kinds_alloc_failures(void **state)
{
    mw_alloc *a = *state;
    enum { N = 120, D = 3 };
    double rows[N * D], out[N];
    for (size_t i = 0; i < N * D; i++)
        rows[i] = sin((double)i * 0.7) * 5 + (i % 7 == 0 ? 3 : 0);
    size_t n_types;
    const mw_detector_type *const *types = mw_detect_types(&n_types);
    int kinds = 0;
    for (size_t k = 0; k < n_types; k++) {
        const mw_detector_type *type = types[k];
        if (type->update_row == NULL)
            continue;
        kinds++;
        double v[MW_DETECT_MAX_PARAMS];
        small_params(type, v);
        uint64_t nth;
        for (nth = 1; nth < 100000; nth++) {
            mw_alloc_fail_nth(a, nth, 0);
            mw_status status;
            char err[MW_DETECT_ERRLEN];
            mw_detector *d = mw_detector_new(a, type, v, &status, err);
            if (d == NULL) {
                assert_true(status == MW_ENOMEM);
                continue;
            }
            status = mw_detector_run_rows(d, rows, D, NULL, N, out, err);
            if (status == MW_OK && type->fit != NULL)
                status = mw_detector_fit(d, rows, D, 30, err);   /* within every window */
            if (status != MW_OK) {
                assert_true(status == MW_ENOMEM);
                mw_detector_free(d);
                continue;
            }
            mw_detector *copy = mw_detector_clone(d, &status, err);
            mw_detector_free(d);
            if (copy == NULL) {
                assert_true(status == MW_ENOMEM);
                continue;
            }
            status = mw_detector_run_rows(copy, rows, D, NULL, 10, out, err);
            mw_detector_free(copy);
            if (status != MW_OK) {
                assert_true(status == MW_ENOMEM);
                continue;
            }
            break;
        }
        mw_alloc_fail_nth(a, 0, 0);
        print_message("%s: %llu allocations failed in turn\n", type->name,
                      (unsigned long long)(nth - 1));
        assert_true(nth > 1);
        assert_true(nth < 100000);
    }
    assert_true(kinds >= 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_width, alloc_setup, alloc_teardown),
        cmocka_unit_test_setup_teardown(test_nonfinite, alloc_setup, alloc_teardown),
        cmocka_unit_test_setup_teardown(test_run_rows, alloc_setup, alloc_teardown),
        cmocka_unit_test_setup_teardown(test_fit, alloc_setup, alloc_teardown),
        cmocka_unit_test_setup_teardown(test_univariate_rows, alloc_setup, alloc_teardown),
        cmocka_unit_test_setup_teardown(test_width_alloc_failure, alloc_setup, alloc_teardown),
        cmocka_unit_test_setup_teardown(test_kinds_alloc_failures, alloc_setup, alloc_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
