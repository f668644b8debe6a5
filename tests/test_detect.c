/*
 * test_detect.c: what all detectors share, from C: the blob fields, the
 * saved-state container (every corruption and truncation is an error,
 * never a crash), parameter checking, allocation failures at every point
 * (clean NULL, no leak), the memory budget, and run == update for every
 * registered kind on the same data; the batch test (mw_detector_test):
 * the same numbers as mw_gesd_score value by value, the state untouched,
 * allocation failures.
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/blob.h"
#include "detect/chain.h"
#include "detect/detect.h"
#include "detect/gesd.h"
#include "stats/rng.h"

#define TEST_N 4000


/* Seeded data with a few spikes, like a real series. */
static void test_data(double *x, size_t n, uint64_t seed)
{
    mw_rng rng;
    mw_rng_seed(&rng, seed);
    for (size_t i = 0; i < n; i++)
        x[i] = 10.0 + sin((double)i / 8.0) + 0.3 * mw_rng_normal(&rng) +
               (i % 997 == 500 ? 5.0 : 0.0);
}

/* Defaults, with what some kinds require. */
static void test_params(const mw_detector_type *type, double *values)
{
    mw_detect_param_defaults(type, values);
    int period = mw_detect_param_index(type, "period");
    if (period >= 0 && values[period] == 0.0)   /* shesd requires one */
        values[period] = 50;
}

static mw_detector *test_new(mw_alloc *a, const char *name)
{
    const mw_detector_type *type = mw_detect_find(name);
    assert_non_null(type);
    double values[MW_DETECT_MAX_PARAMS];
    test_params(type, values);
    mw_status status;
    char err[MW_DETECT_ERRLEN];
    mw_detector *d = mw_detector_new(a, type, values, &status, err);
    assert_non_null(d);
    return d;
}

/* ---- blob ------------------------------------------------------------- */

static void test_blob_roundtrip(void **state)
{
    mw_alloc *a = *state;
    mw_blob_writer w;
    mw_blob_writer_init(&w, a);
    double values[3] = {1.5, -0.0, 1e300};
    mw_blob_put_u8(&w, 200);
    mw_blob_put_u32(&w, 0xdeadbeefu);
    mw_blob_put_u64(&w, UINT64_MAX - 1);
    mw_blob_put_f64(&w, -2.25);
    mw_blob_put_f64s(&w, values, 3);
    mw_blob_put_bytes(&w, "abc", 3);
    for (int i = 0; i < 1000; i++)       /* growth */
        mw_blob_put_u64(&w, (uint64_t)i);
    assert_int_equal(w.status, MW_OK);
    assert_int_equal(w.len, 1 + 4 + 8 + 8 + 24 + 3 + 8000);
    assert_int_equal(w.data[1], 0xef);   /* little-endian on every host */

    mw_blob_reader r;
    mw_blob_reader_init(&r, w.data, w.len);
    assert_int_equal(mw_blob_get_u8(&r), 200);
    assert_int_equal(mw_blob_get_u32(&r), 0xdeadbeefu);
    assert_true(mw_blob_get_u64(&r) == UINT64_MAX - 1);
    assert_true(mw_blob_get_f64(&r) == -2.25);
    double back[3];
    mw_blob_get_f64s(&r, back, 3);
    assert_memory_equal(back, values, sizeof values);
    assert_memory_equal(mw_blob_get_bytes(&r, 3), "abc", 3);
    for (uint64_t i = 0; i < 1000; i++)
        assert_true(mw_blob_get_count(&r, 999, "i") == i);
    assert_false(r.failed);
    assert_int_equal(mw_blob_get_u8(&r), 0);    /* past the end */
    assert_true(r.failed);
    assert_non_null(strstr(r.err, "truncated"));
    mw_blob_writer_free(&w);
}

static void test_blob_checks(void **state)
{
    mw_alloc *a = *state;
    mw_blob_writer w;
    mw_blob_writer_init(&w, a);
    mw_blob_put_u64(&w, 10);
    mw_blob_put_f64(&w, NAN);
    mw_blob_reader r;
    mw_blob_reader_init(&r, w.data, w.len);
    assert_int_equal(mw_blob_get_count(&r, 9, "count"), 0);
    assert_true(r.failed);
    assert_string_equal(r.err, "count out of range (10, at most 9)");
    mw_blob_reader_init(&r, w.data, w.len);
    mw_blob_get_u64(&r);
    mw_blob_get_finite(&r, "mean");
    assert_string_equal(r.err, "mean is not a finite number");
    /* a failed writer stays failed and keeps nothing half-written */
    mw_alloc_fail_nth(a, 1, 1);
    for (int i = 0; i < 100; i++)
        mw_blob_put_u64(&w, 1);
    assert_int_not_equal(w.status, MW_OK);
    mw_alloc_fail_nth(a, 0, 0);
    mw_blob_writer_free(&w);
    /* the checksum sees one flipped bit and a cut */
    unsigned char bytes[64] = {0};
    uint64_t h = mw_blob_checksum(bytes, sizeof bytes);
    bytes[17] ^= 4;
    assert_true(mw_blob_checksum(bytes, sizeof bytes) != h);
    bytes[17] ^= 4;
    assert_true(mw_blob_checksum(bytes, sizeof bytes - 1) != h);
}

/* ---- parameters --------------------------------------------------------- */

static void test_params_checked(void **state)
{
    (void)state;
    const mw_detector_type *z = mw_detect_find("zscore");
    double v[MW_DETECT_MAX_PARAMS];
    char err[MW_DETECT_ERRLEN];
    mw_detect_param_defaults(z, v);
    int window = mw_detect_param_index(z, "window");
    int side = mw_detect_param_index(z, "side");
    assert_true(window >= 0 && side >= 0);
    assert_int_equal(mw_detect_param_index(z, "nope"), -1);
    assert_int_equal(mw_detect_param_set(z, v, window, 2.5, NULL, err), MW_EINVAL);
    assert_string_equal(err, "window must be an integer in [0, 1000000000], got 2.5");
    assert_int_equal(mw_detect_param_set(z, v, window, -1, NULL, err), MW_EINVAL);
    assert_int_equal(mw_detect_param_set(z, v, window, NAN, NULL, err), MW_EINVAL);
    assert_int_equal(mw_detect_param_set(z, v, window, 64, NULL, err), MW_OK);
    assert_true(v[window] == 64);
    assert_int_equal(mw_detect_param_set(z, v, side, 0, "sideways", err), MW_EINVAL);
    assert_string_equal(err, "side must be one of 'both', 'up', 'down' (got 'sideways')");
    assert_int_equal(mw_detect_param_set(z, v, side, 0, "down", err), MW_OK);
    assert_true(v[side] == MW_SIDE_DOWN);
    assert_int_equal(mw_detect_param_set(z, v, window, 0, "ten", err), MW_EINVAL);
    err[0] = '\0';
    mw_detect_param_list(z, err);
    assert_string_equal(err, "valid parameters: window, min_periods, side");
    const mw_detector_type *e = mw_detect_find("ewma");
    mw_detect_param_defaults(e, v);
    int alpha = mw_detect_param_index(e, "alpha");
    assert_int_equal(mw_detect_param_set(e, v, alpha, 0, NULL, err), MW_EINVAL);
    assert_string_equal(err, "alpha must be a number in (0, 1], got 0");
    assert_null(mw_detect_find("no such detector"));
}

/* ---- every kind: run == update, save/load, corruption ------------------ */

static void test_every_kind(void **state)
{
    mw_alloc *a = *state;
    static double x[TEST_N], by_run[TEST_N], by_update[TEST_N], resumed[TEST_N];
    test_data(x, TEST_N, 3);
    size_t n_types;
    const mw_detector_type *const *types = mw_detect_types(&n_types);
    for (size_t k = 0; k < n_types; k++) {
        if (types[k] == &mw_detect_chain_type)
            continue;
        mw_detector *d1 = test_new(a, types[k]->name);
        mw_detector *d2 = test_new(a, types[k]->name);
        mw_detector_run(d1, x, NULL, TEST_N, by_run);
        for (size_t i = 0; i < TEST_N; i++)
            by_update[i] = mw_detector_update(d2, x[i], NAN);
        assert_memory_equal(by_run, by_update, sizeof by_run);

        /* half, save, load, the other half */
        mw_detector *d3 = test_new(a, types[k]->name);
        mw_detector_run(d3, x, NULL, TEST_N / 2, resumed);
        mw_blob_writer w;
        mw_blob_writer_init(&w, a);
        mw_detector_save(d3, &w);
        assert_int_equal(w.status, MW_OK);
        mw_status status;
        char err[MW_DETECT_ERRLEN];
        mw_detector *d4 = mw_detector_load(a, w.data, w.len, &status, err);
        assert_non_null(d4);
        assert_int_equal(d4->bytes, d3->bytes);
        mw_detector_run(d4, x + TEST_N / 2, NULL, TEST_N - TEST_N / 2, resumed + TEST_N / 2);
        assert_memory_equal(resumed, by_run, sizeof by_run);

        /* every flipped byte and every cut is refused: checksum or checks */
        for (size_t at = 0; at < w.len; at += 1 + w.len / 200) {
            w.data[at] ^= 0x5a;
            mw_detector *bad = mw_detector_load(a, w.data, w.len, &status, err);
            assert_null(bad);
            assert_int_equal(status, MW_EINVAL);
            w.data[at] ^= 0x5a;
        }
        for (size_t len = 0; len < w.len; len += 1 + w.len / 100)
            assert_null(mw_detector_load(a, w.data, len, &status, err));
        mw_blob_writer_free(&w);
        mw_detector_free(d1);
        mw_detector_free(d2);
        mw_detector_free(d3);
        mw_detector_free(d4);
    }
}

/* The block path of zscore and ewma (zblock.c: two values per
 * instruction) against update, bit for bit, for every side, all-history
 * and windowed, with NaN and infinities among the values and lengths
 * that end blocks anywhere. */
static void test_block_scores(void **state)
{
    mw_alloc *a = *state;
    static double x[TEST_N], by_run[TEST_N], by_update[TEST_N];
    test_data(x, TEST_N, 5);
    for (size_t i = 7; i < TEST_N; i += 301)
        x[i] = i % 2 ? NAN : -INFINITY;
    x[100] = 1e300;                       /* a value that overflows the sums */
    const char *kinds[] = {"zscore", "ewma"};
    const double windows[] = {0, 2, 50, 1000};
    for (size_t k = 0; k < 2; k++) {
        const mw_detector_type *type = mw_detect_find(kinds[k]);
        for (int side = MW_SIDE_BOTH; side <= MW_SIDE_DOWN; side++) {
            for (size_t w = 0; w < 4; w++) {
                double v[MW_DETECT_MAX_PARAMS];
                mw_detect_param_defaults(type, v);
                v[mw_detect_param_index(type, "side")] = side;
                int window = mw_detect_param_index(type, "window");
                if (window >= 0)
                    v[window] = windows[w];
                mw_status status;
                char err[MW_DETECT_ERRLEN];
                mw_detector *d1 = mw_detector_new(a, type, v, &status, err);
                mw_detector *d2 = mw_detector_new(a, type, v, &status, err);
                assert_non_null(d1);
                assert_non_null(d2);
                for (size_t n = 0; n < TEST_N;) {   /* runs of odd lengths */
                    size_t m = n + 1 + n % 613 < TEST_N ? 1 + n % 613 : TEST_N - n;
                    mw_detector_run(d1, x + n, NULL, m, by_run + n);
                    n += m;
                }
                for (size_t i = 0; i < TEST_N; i++)
                    by_update[i] = mw_detector_update(d2, x[i], NAN);
                assert_memory_equal(by_run, by_update, sizeof by_run);
                mw_detector_free(d1);
                mw_detector_free(d2);
            }
        }
    }
}

/* A state whose checksum is right but whose contents are not (a window
 * count past the window) is refused by the kind's own checks. */
static void test_checked_contents(void **state)
{
    mw_alloc *a = *state;
    mw_detector *d = test_new(a, "zscore");
    double x[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    mw_detector_run(d, x, NULL, 10, x);
    mw_blob_writer w;
    mw_blob_writer_init(&w, a);
    mw_detector_save(d, &w);
    /* head: 4 magic, 1 version, 1 + 6 name, 1 + 3 * 8 params, 8 learned;
     * then the window's count */
    size_t count_at = 4 + 1 + 1 + 6 + 1 + 3 * 8 + 8;
    w.data[count_at + 3] = 0x7f;
    uint64_t sum = mw_blob_checksum(w.data, w.len - 8);
    for (int b = 0; b < 8; b++)
        w.data[w.len - 8 + (size_t)b] = (unsigned char)(sum >> (8 * b));
    mw_status status;
    char err[MW_DETECT_ERRLEN];
    assert_null(mw_detector_load(a, w.data, w.len, &status, err));
    assert_non_null(strstr(err, "window count out of range"));
    mw_blob_writer_free(&w);
    mw_detector_free(d);
}

/* ---- allocation failures and the budget --------------------------------- */

/* Fails the 1st, 2nd, ... allocation of creating, saving, loading and
 * chaining until the whole sequence succeeds: each failure is a clean
 * NULL or error status, and nothing leaks (the teardown checks). */
static void test_alloc_failures(void **state)
{
    mw_alloc *a = *state;
    double x[100], out[100];
    test_data(x, 100, 9);
    for (uint64_t nth = 1;; nth++) {
        mw_alloc_fail_nth(a, nth, 0);
        mw_status status;
        char err[MW_DETECT_ERRLEN];
        const mw_detector_type *z = mw_detect_find("zscore");
        double v[MW_DETECT_MAX_PARAMS];
        mw_detect_param_defaults(z, v);
        mw_detector *d = mw_detector_new(a, z, v, &status, err);
        if (d == NULL) {
            assert_int_equal(status, MW_ENOMEM);
            continue;
        }
        mw_detector_run(d, x, NULL, 100, out);
        mw_detector *copy = mw_detector_clone(d, &status, err);
        if (copy == NULL) {
            assert_int_equal(status, MW_ENOMEM);
            mw_detector_free(d);
            continue;
        }
        mw_detector *stages[2] = {d, copy};
        mw_detector *chain = mw_detect_chain_new(a, stages, 2, &status, err);
        if (chain == NULL) {             /* the stages were freed */
            assert_int_equal(status, MW_ENOMEM);
            continue;
        }
        mw_detector *back = mw_detector_clone(chain, &status, err);
        mw_detector_free(chain);
        if (back == NULL) {
            assert_int_equal(status, MW_ENOMEM);
            continue;
        }
        mw_detector_free(back);
        mw_alloc_fail_nth(a, 0, 0);
        assert_true(nth > 5);
        break;
    }
}

/* ---- the batch test ------------------------------------------------------ */

/* The batch scores are mw_gesd_score's, bit for bit, value by value: on
 * noise, on quantised values with equal outliers at both ends (a run of
 * ties removed whole from the top: its first removal is at its last
 * position), the same upside down, and on a sample that turns constant
 * before the last step. */
static void test_gesd_batch(void **state)
{
    mw_alloc *a = *state;
    enum { N = 300 };
    static double x[N], sorted[N], batch[N];
    mw_gesd g;
    mw_detector *owner = test_new(a, "esd");
    for (int shape = 0; shape < 4; shape++) {
        test_data(x, N, 11 + (uint64_t)shape);
        for (size_t i = 0; i < N; i++) {
            if (shape == 1 || shape == 3) /* ties, outliers among them at both ends */
                x[i] = i % 61 == 5 ? 20.0 : i % 89 == 7 ? -30.0 : floor(x[i] * 2.0) / 2.0;
            if (shape == 3)     /* the same upside down */
                x[i] = -x[i];
            if (shape == 2)
                x[i] = i % 50 == 0 ? 10.0 + (double)i : 3.0;
        }
        for (size_t i = 0; i < N; i++)
            sorted[i] = x[i];
        mw_gesd_sort(sorted, N);
        for (int robust = 0; robust <= 1; robust++) {
            for (size_t steps = 1; steps <= N - 3; steps += 37) {
                assert_int_equal(mw_gesd_score_batch(a, 0.05, sorted, N, steps, robust, x, N,
                                                     batch),
                                 MW_OK);
                assert_int_equal(mw_gesd_init(&g, owner, N, 0.05), MW_OK);
                for (size_t i = 0; i < N; i++) {
                    double one = mw_gesd_score(&g, sorted, N, x[i], steps, robust);
                    assert_memory_equal(&one, &batch[i], sizeof one);
                }
                mw_gesd_free(&g, owner);
            }
        }
    }
    mw_detector_free(owner);
}

/* Fails the 1st, 2nd, ... allocation of a batch test (esd robust and
 * classic, shesd) until it succeeds: each failure is a clean status with
 * out untouched, the detector's memory figure and state never move, and
 * nothing leaks (the teardown checks). A kind without a test says so. */
static void test_batch_failures(void **state)
{
    mw_alloc *a = *state;
    enum { N = 500 };
    static double x[N], out[N], want[N];
    test_data(x, N, 13);
    x[17] = NAN;
    const char *kinds[] = {"esd", "esd", "shesd"};
    for (size_t k = 0; k < 3; k++) {
        mw_detector *d = test_new(a, kinds[k]);
        if (k == 1)
            d->params[mw_detect_param_index(d->type, "robust")] = 0;
        char err[MW_DETECT_ERRLEN];
        mw_detector_run(d, x, NULL, 100, out);     /* some state, to keep */
        mw_blob_writer before;
        mw_blob_writer_init(&before, a);
        mw_detector_save(d, &before);
        size_t bytes = d->bytes;
        assert_int_equal(mw_detector_test(d, x, N, want, err), MW_OK);
        assert_true(want[17] != want[17]);
        uint64_t nth = 1;
        for (;; nth++) {
            mw_alloc_fail_nth(a, nth, 0);
            for (size_t i = 0; i < N; i++)
                out[i] = -1.0;
            mw_status status = mw_detector_test(d, x, N, out, err);
            mw_alloc_fail_nth(a, 0, 0);
            assert_int_equal(d->bytes, bytes);
            if (status == MW_OK)
                break;
            assert_int_equal(status, MW_ENOMEM);
            for (size_t i = 0; i < N; i++)
                assert_true(out[i] == -1.0);
        }
        assert_true(nth > 1);
        assert_memory_equal(out, want, 17 * sizeof(double));
        assert_memory_equal(out + 18, want + 18, (N - 18) * sizeof(double));
        mw_blob_writer after;
        mw_blob_writer_init(&after, a);
        mw_detector_save(d, &after);
        assert_int_equal(after.len, before.len);
        assert_memory_equal(after.data, before.data, before.len);
        mw_blob_writer_free(&before);
        mw_blob_writer_free(&after);
        mw_detector_free(d);
    }
    mw_detector *z = test_new(a, "zscore");
    char err[MW_DETECT_ERRLEN];
    assert_int_equal(mw_detector_test(z, x, N, out, err), MW_EINVAL);
    assert_string_equal(err, "'zscore' has no batch test");
    mw_detector_free(z);
    mw_detector *s = test_new(a, "shesd");         /* period 50: 100 values at least */
    assert_int_equal(mw_detector_test(s, x, 99, out, err), MW_EINVAL);
    assert_string_equal(err, "the series (99 values) must hold at least 2 periods (100 values)");
    assert_int_equal(mw_detector_test(s, x, 100, out, err), MW_OK);
    mw_detector_free(s);
}

static void test_budget(void **state)
{
    mw_alloc *a = *state;
    assert_int_equal(mw_alloc_set_budget(a, 1 << 20), MW_OK);
    const mw_detector_type *z = mw_detect_find("zscore");
    double v[MW_DETECT_MAX_PARAMS];
    mw_detect_param_defaults(z, v);
    v[mw_detect_param_index(z, "window")] = 1e6;     /* 8 MB of window */
    mw_status status;
    char err[MW_DETECT_ERRLEN];
    assert_null(mw_detector_new(a, z, v, &status, err));
    assert_int_equal(status, MW_EBUDGET);
    assert_int_equal(a->current, 0);
    v[mw_detect_param_index(z, "window")] = 1e4;
    mw_detector *d = mw_detector_new(a, z, v, &status, err);
    assert_non_null(d);
    assert_int_equal(a->current, d->bytes);
    assert_true(d->bytes >= 80000);
    mw_detector_free(d);
    assert_int_equal(mw_alloc_set_budget(a, 0), MW_OK);
}

/* thresh.rest: a score passes only above the last `period` scores; the
 * window's maximum is found again when it leaves (0.9, at the 7th value), and a NaN is skipped without touching the window. */
static void test_rest_window(void **state)
{
    mw_alloc *a = *state;
    const mw_detector_type *type = mw_detect_find("thresh.rest");
    assert_non_null(type);
    double params[MW_DETECT_MAX_PARAMS];
    mw_detect_param_defaults(type, params);
    char err[MW_DETECT_ERRLEN];
    assert_int_equal(mw_detect_param_set(type, params, 0, 3, NULL, err), MW_OK);
    mw_status status;
    mw_detector *d = mw_detector_new(a, type, params, &status, err);
    assert_non_null(d);
    const double x[] = {0.2, 0.9, 0.5, 0.4, 0.45, NAN, 0.3, 0.46, 0.2, 0.3};
    const double want[] = {0.2, 0.9, 0, 0, 0, NAN, 0, 0.46, 0, 0};
    double out[10];
    mw_detector_run(d, x, NULL, 10, out);
    for (size_t i = 0; i < 10; i++) {
        if (isnan(want[i]))
            assert_true(isnan(out[i]));
        else
            assert_true(out[i] == want[i]);
    }
    assert_int_equal(d->n_learned, 9);
    /* the window is now 0.46, 0.2, 0.3 */
    assert_true(mw_detector_score(d, 0.45, NAN) == 0.0);
    assert_true(mw_detector_score(d, 0.47, NAN) == 0.47);
    mw_detector_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_blob_roundtrip, alloc_setup, alloc_teardown),
        cmocka_unit_test_setup_teardown(test_blob_checks, alloc_setup, alloc_teardown),
        cmocka_unit_test_setup_teardown(test_params_checked, alloc_setup, alloc_teardown),
        cmocka_unit_test_setup_teardown(test_every_kind, alloc_setup, alloc_teardown),
        cmocka_unit_test_setup_teardown(test_block_scores, alloc_setup, alloc_teardown),
        cmocka_unit_test_setup_teardown(test_checked_contents, alloc_setup, alloc_teardown),
        cmocka_unit_test_setup_teardown(test_alloc_failures, alloc_setup, alloc_teardown),
        cmocka_unit_test_setup_teardown(test_gesd_batch, alloc_setup, alloc_teardown),
        cmocka_unit_test_setup_teardown(test_batch_failures, alloc_setup, alloc_teardown),
        cmocka_unit_test_setup_teardown(test_budget, alloc_setup, alloc_teardown),
        cmocka_unit_test_setup_teardown(test_rest_window, alloc_setup, alloc_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
