/*
 * test_sorted.c: the order-statistics window of the robust detectors
 * (src/detect/sorted.c) against references.
 *
 * References: a naive window (the last values in a plain array, sorted
 * afresh with qsort at every step), mw_stats_quantile and mw_stats_mad on
 * a copy of the window, and a naive MAD (sort the distances, take their
 * 0.5-quantile). Order statistics pick elements of the input and
 * interpolate with numpy's formula, and the MAD's distances are computed
 * as the same subtractions, so everything but the mean absolute deviation
 * must agree to the bit: compared with ==, or bit patterns.
 *
 * Data: seeded uniform values, and tie-heavy small integers with -0 among
 * the zeros (evicting one of many equal values, and the sign of zero, are
 * where a sorted window goes wrong), over capacities 1, 2, 3, 7, 100 and
 * 1000 and more pushes than the capacity (the ring wraps).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "detect/sorted.h"
#include "stats/stats.h"

#define TEST_MAX_CAP 1000

static const double test_quantiles[] = {0.0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 1.0};
#define TEST_N_QUANTILES (sizeof test_quantiles / sizeof test_quantiles[0])

/* ---- fixture: an allocator and a detector to charge ------------------- */

/* mw_detector_alloc only needs the detector's allocator and byte count, so
 * a bare struct stands in for a detector. */
typedef struct fixture {
    mw_alloc alloc;
    mw_detector owner;
    double naive[TEST_MAX_CAP];      /* the window, oldest first */
    double scratch[TEST_MAX_CAP];
    double sorted[TEST_MAX_CAP];
} fixture;

static int fixture_setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    mw_alloc_init(&f->alloc);
    f->owner.alloc = &f->alloc;
    *state = f;
    return 0;
}

static int fixture_teardown(void **state)
{
    fixture *f = *state;
    size_t left = f->alloc.current, charged = f->owner.bytes;
    free(f);
    if (left != 0 || charged != 0) {
        print_error("teardown: %zu bytes left, %zu still charged\n", left, charged);
        return -1;
    }
    return 0;
}

/* ---- data --------------------------------------------------------------- */

/* splitmix64: seeded, so every failure reproduces. */
typedef struct {
    uint64_t state;
} test_rng;

static uint64_t rng_next(test_rng *rng)
{
    uint64_t z = (rng->state += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

static double rng_uniform(test_rng *rng)
{
    return (double)(rng_next(rng) >> 11) * 0x1.0p-53;
}

/* Uniform on [-50, 50), or (ties) an integer in [-2, 2], zero more than
 * half the time and then -0 one time in four. */
static double random_value(test_rng *rng, int ties)
{
    if (!ties)
        return -50.0 + 100.0 * rng_uniform(rng);
    if (rng_uniform(rng) < 0.55)
        return rng_uniform(rng) < 0.25 ? -0.0 : 0.0;
    return (double)(int)(rng_next(rng) % 5) - 2.0;
}

/* ---- the naive window --------------------------------------------------- */

static void naive_push(double *naive, size_t *count, size_t cap, double x)
{
    if (*count == cap) {
        memmove(naive, naive + 1, (cap - 1) * sizeof *naive);
        naive[cap - 1] = x;
    } else {
        naive[(*count)++] = x;
    }
}

static int compare_doubles(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

/* The 0.5-quantile of |x - centre| over the values: sort the distances. */
static double naive_median_abs_dev(const double *x, size_t n, double centre, double *scratch)
{
    for (size_t i = 0; i < n; i++)
        scratch[i] = fabs(x[i] - centre);
    qsort(scratch, n, sizeof *scratch, compare_doubles);
    double position = 0.5 * (double)(n - 1);
    size_t k = (size_t)floor(position);
    double t = position - (double)k;
    return t == 0.0 ? scratch[k] : mw_stats_interpolate(scratch[k], scratch[k + 1], t);
}

static int same_bits(double a, double b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

/* Every figure of w against the naive window of count values. */
static void check_window(fixture *f, const mw_sorted *w, size_t count, test_rng *rng)
{
    assert_int_equal(mw_sorted_count(w), count);
    memcpy(f->sorted, f->naive, count * sizeof(double));
    for (size_t i = 0; i < count; i++)
        f->sorted[i] += 0.0;     /* the window keeps zeros as +0 */
    qsort(f->sorted, count, sizeof(double), compare_doubles);
    for (size_t i = 0; i < count; i++)
        assert_true(same_bits(w->sorted[i], f->sorted[i]));
    for (size_t i = 0; i < TEST_N_QUANTILES; i++) {
        double want = mw_stats_quantile(f->naive, count, test_quantiles[i], f->scratch);
        assert_true(mw_sorted_quantile(w, test_quantiles[i]) == want);
    }
    double median = mw_sorted_median(w);
    assert_true(median == mw_stats_median(f->naive, count, f->scratch));
    double mad = mw_sorted_mad(w);
    assert_true(mad == mw_stats_mad(f->naive, count, f->scratch));
    assert_true(mad == naive_median_abs_dev(f->naive, count, median, f->scratch));
    /* About other centres: a window value, a point between, one outside. */
    double centres[] = {f->naive[rng_next(rng) % count], median + 0.37, f->sorted[0] - 1.0,
                        f->sorted[count - 1] + 3.0};
    for (size_t i = 0; i < sizeof centres / sizeof centres[0]; i++) {
        double want = naive_median_abs_dev(f->naive, count, centres[i], f->scratch);
        assert_true(mw_sorted_median_abs_dev(w, centres[i]) == want);
    }
    double sum = 0.0;
    for (size_t i = 0; i < count; i++)
        sum += fabs(f->naive[i] - median);
    double mean_ad = mw_sorted_mean_abs_dev(w, median);
    assert_true(fabs(mean_ad - sum / (double)count) <= 1e-12 * (1.0 + sum / (double)count));
}

/* Pushes 3 cap + 50 values, checking everything after each. */
static void run_random(fixture *f, size_t cap, int ties, uint64_t seed)
{
    test_rng rng = {seed};
    mw_sorted w;
    assert_int_equal(mw_sorted_init(&w, &f->owner, cap), MW_OK);
    assert_int_equal(f->owner.bytes, 2 * cap * sizeof(double));
    size_t count = 0;
    for (size_t i = 0; i < 3 * cap + 50; i++) {
        double x = random_value(&rng, ties);
        mw_sorted_push(&w, x);
        naive_push(f->naive, &count, cap, x);
        check_window(f, &w, count, &rng);
    }
    mw_sorted_free(&w, &f->owner);
}

/* ---- tests ---------------------------------------------------------------- */

static void test_sorted_random(void **state)
{
    static const size_t caps[] = {1, 2, 3, 7, 100, TEST_MAX_CAP};
    for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) {
        run_random(*state, caps[i], 0, 100 + i);
        run_random(*state, caps[i], 1, 200 + i);
    }
}

static void test_sorted_empty(void **state)
{
    fixture *f = *state;
    mw_sorted w;
    assert_int_equal(mw_sorted_init(&w, &f->owner, 4), MW_OK);
    assert_int_equal(mw_sorted_count(&w), 0);
    assert_true(isnan(mw_sorted_quantile(&w, 0.5)));
    assert_true(isnan(mw_sorted_mad(&w)));
    assert_true(isnan(mw_sorted_mean_abs_dev(&w, 0.0)));
    mw_sorted_push(&w, 1.0);
    mw_sorted_clear(&w);
    assert_int_equal(mw_sorted_count(&w), 0);
    assert_true(isnan(mw_sorted_median(&w)));
    mw_sorted_free(&w, &f->owner);
}

static void test_sorted_capacity_one(void **state)
{
    fixture *f = *state;
    mw_sorted w;
    assert_int_equal(mw_sorted_init(&w, &f->owner, 1), MW_OK);
    const double values[] = {3.0, -1.0, -1.0, 7.5, 0.0};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        mw_sorted_push(&w, values[i]);
        assert_int_equal(mw_sorted_count(&w), 1);
        assert_true(mw_sorted_quantile(&w, 0.0) == values[i]);
        assert_true(mw_sorted_quantile(&w, 0.73) == values[i]);
        assert_true(mw_sorted_quantile(&w, 1.0) == values[i]);
        assert_true(mw_sorted_mad(&w) == 0.0);
        assert_true(mw_sorted_median_abs_dev(&w, values[i] + 2.0) == 2.0);
    }
    mw_sorted_free(&w, &f->owner);
}

/* Runs of one value, -0 and +0 mixed: every stored zero is +0, and the
 * order statistics of a constant window are that constant. */
static void test_sorted_duplicates(void **state)
{
    fixture *f = *state;
    mw_sorted w;
    assert_int_equal(mw_sorted_init(&w, &f->owner, 5), MW_OK);
    for (int i = 0; i < 12; i++)
        mw_sorted_push(&w, i % 3 == 0 ? -0.0 : 0.0);
    for (size_t i = 0; i < 5; i++) {
        assert_true(same_bits(w.sorted[i], 0.0));
        assert_true(same_bits(w.ring[i], 0.0));
    }
    assert_true(same_bits(mw_sorted_median(&w), 0.0));
    assert_true(mw_sorted_mad(&w) == 0.0);
    /* Replace the zeros one by one with 2, then with 2 again (x == the
     * leaving value: nothing moves), then with 1. */
    const double expect_median[] = {0.0, 0.0, 2.0, 2.0, 2.0};
    for (size_t i = 0; i < 5; i++) {
        mw_sorted_push(&w, 2.0);
        assert_true(mw_sorted_median(&w) == expect_median[i]);
    }
    for (size_t i = 0; i < 5; i++) {
        mw_sorted_push(&w, 2.0);
        assert_true(mw_sorted_quantile(&w, 0.0) == 2.0 && mw_sorted_quantile(&w, 1.0) == 2.0);
    }
    mw_sorted_push(&w, 1.0);
    mw_sorted_push(&w, 1.0);
    /* {1, 1, 2, 2, 2}: median 2, distances {1, 1, 0, 0, 0}, MAD 0. */
    assert_true(mw_sorted_median(&w) == 2.0);
    assert_true(mw_sorted_mad(&w) == 0.0);
    assert_true(mw_sorted_median_abs_dev(&w, 1.0) == 1.0);
    assert_true(fabs(mw_sorted_mean_abs_dev(&w, 2.0) - 0.4) < 1e-15);
    mw_sorted_free(&w, &f->owner);
}

/* A blob of the given count and values, as mw_sorted_save writes it. */
static void write_blob(mw_blob_writer *out, uint64_t count, const double *values, size_t n)
{
    mw_blob_put_u64(out, count);
    mw_blob_put_f64s(out, values, n);
}

/* Save at every fill level (empty, partial, full with the ring at each
 * slot), load into a fresh window, continue both with the same values:
 * the same sorted arrays and figures, and the loaded window saves the same
 * string. */
static void test_sorted_save_load(void **state)
{
    fixture *f = *state;
    const size_t cap = 7;
    for (size_t cut = 0; cut < 3 * cap; cut++) {
        for (int ties = 0; ties < 2; ties++) {
            test_rng rng = {900 + cut};
            mw_sorted a, b;
            assert_int_equal(mw_sorted_init(&a, &f->owner, cap), MW_OK);
            assert_int_equal(mw_sorted_init(&b, &f->owner, cap), MW_OK);
            for (size_t i = 0; i < cut; i++)
                mw_sorted_push(&a, random_value(&rng, ties));
            mw_blob_writer first, second;
            mw_blob_writer_init(&first, &f->alloc);
            mw_blob_writer_init(&second, &f->alloc);
            mw_sorted_save(&a, &first);
            assert_int_equal(first.status, MW_OK);
            mw_blob_reader r;
            mw_blob_reader_init(&r, first.data, first.len);
            assert_int_equal(mw_sorted_load(&b, &r), 0);
            assert_int_equal(r.pos, first.len);
            mw_sorted_save(&b, &second);
            assert_int_equal(second.len, first.len);
            assert_memory_equal(second.data, first.data, first.len);
            for (size_t i = 0; i < 2 * cap; i++) {
                assert_int_equal(mw_sorted_count(&a), mw_sorted_count(&b));
                assert_memory_equal(a.sorted, b.sorted, a.count * sizeof(double));
                assert_true(same_bits(mw_sorted_mad(&a), mw_sorted_mad(&b)) ||
                            a.count == 0);
                double x = random_value(&rng, ties);
                mw_sorted_push(&a, x);
                mw_sorted_push(&b, x);
            }
            mw_blob_writer_free(&first);
            mw_blob_writer_free(&second);
            mw_sorted_free(&a, &f->owner);
            mw_sorted_free(&b, &f->owner);
        }
    }
}

/* Bad saved windows fail with a reason and leave the window empty. */
static void test_sorted_load_rejects(void **state)
{
    fixture *f = *state;
    mw_sorted w;
    assert_int_equal(mw_sorted_init(&w, &f->owner, 3), MW_OK);
    const double good[] = {1.0, 2.0, 3.0, 4.0};
    const double bad[] = {1.0, INFINITY, 3.0};
    const double not_a_number[] = {NAN};
    struct {
        uint64_t count;
        const double *values;
        size_t n;
        const char *reason;
    } cases[] = {
        {4, good, 4, "window count out of range"},
        {UINT64_MAX, good, 4, "window count out of range"},
        {3, good, 2, "truncated"},
        {3, bad, 3, "window value 1 is not finite"},
        {1, not_a_number, 1, "window value 0 is not finite"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mw_sorted_push(&w, 5.0);
        mw_blob_writer out;
        mw_blob_writer_init(&out, &f->alloc);
        write_blob(&out, cases[i].count, cases[i].values, cases[i].n);
        mw_blob_reader r;
        mw_blob_reader_init(&r, out.data, out.len);
        assert_int_not_equal(mw_sorted_load(&w, &r), 0);
        assert_true(r.failed);
        if (strstr(r.err, cases[i].reason) == NULL)
            fail_msg("case %zu: expected '%s', got '%s'", i, cases[i].reason, r.err);
        assert_int_equal(mw_sorted_count(&w), 0);
        mw_blob_writer_free(&out);
    }
    /* After the failures the window still works. */
    mw_sorted_push(&w, 2.0);
    mw_sorted_push(&w, 4.0);
    assert_true(mw_sorted_median(&w) == 3.0);
    mw_sorted_free(&w, &f->owner);
}

/* Either allocation failing leaves nothing charged. */
static void test_sorted_init_failure(void **state)
{
    fixture *f = *state;
    for (uint64_t nth = 1; nth <= 2; nth++) {
        mw_sorted w;
        mw_alloc_fail_nth(&f->alloc, nth, 0);
        assert_int_equal(mw_sorted_init(&w, &f->owner, 100), MW_ENOMEM);
        assert_int_equal(f->alloc.current, 0);
        assert_int_equal(f->owner.bytes, 0);
        assert_null(w.ring);
        assert_null(w.sorted);
        mw_alloc_fail_nth(&f->alloc, 0, 0);
    }
    mw_sorted w;
    assert_int_equal(mw_sorted_init(&w, &f->owner, 0), MW_EINVAL);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, fixture_setup, fixture_teardown)
    const struct CMUnitTest tests[] = {
        T(test_sorted_random),
        T(test_sorted_empty),
        T(test_sorted_capacity_one),
        T(test_sorted_duplicates),
        T(test_sorted_save_load),
        T(test_sorted_load_rejects),
        T(test_sorted_init_failure),
    };
#undef T
    return cmocka_run_group_tests_name("sorted", tests, NULL, NULL);
}
