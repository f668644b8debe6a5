/*
 * test_timeline.c: memory samples over time: one per interval with the
 * peak inside it, bounded memory (pairs merge and the interval doubles,
 * peaks kept), CSV and SVG output.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/timeline.h"

static void test_one_sample_per_interval(void **state)
{
    (void)state;
    mw_timeline tl;
    assert_int_equal(mw_timeline_init(&tl, 0.5), 0);
    for (int i = 0; i <= 100000; i++) {             /* a change every ms, 100 s */
        double t = i * 0.001;
        double native = i == 50200 ? 1e9 : 1e6;    /* one short peak */
        mw_timeline_note(&tl, t, 1000.0, native, native + 1000.0);
    }
    mw_timeline_flush(&tl);
    assert_int_equal(tl.n, 201);                    /* buckets [0, 0.5) ... [100, 100.5) */
    size_t with_peak = 0;
    for (size_t i = 0; i < tl.n; i++) {
        assert_true(tl.samples[i].total == 1e6 + 1000.0);   /* the end of each bucket */
        if (tl.samples[i].peak == 1e9 + 1000.0) {
            with_peak++;
            assert_true(tl.samples[i].t >= 50.0 && tl.samples[i].t < 50.5);
        }
    }
    assert_int_equal(with_peak, 1);
    mw_timeline_free(&tl);
}

static void test_bounded(void **state)
{
    (void)state;
    mw_timeline tl;
    assert_int_equal(mw_timeline_init(&tl, 1e-6), 0);
    for (int i = 0; i < 1000000; i++) {
        double total = i == 777777 ? 5e9 : (double)(i % 1000);
        mw_timeline_note(&tl, i * 1e-6, 0.0, total, total);
    }
    mw_timeline_flush(&tl);
    assert_true(tl.n <= MW_TIMELINE_MAX);
    assert_true(tl.n > MW_TIMELINE_MAX / 4);
    assert_true(tl.interval > 1e-6);                 /* doubled along the way */
    double highest = 0.0;
    for (size_t i = 0; i < tl.n; i++) {
        if (tl.samples[i].peak > highest)
            highest = tl.samples[i].peak;
        if (i > 0)
            assert_true(tl.samples[i].t > tl.samples[i - 1].t);
    }
    assert_true(highest == 5e9);                     /* the peak survives merging */
    mw_timeline_free(&tl);
}

static int sink_count(void *ud, const char *text, size_t len)
{
    (void)text;
    *(size_t *)ud += len;
    return 0;
}

static void test_outputs(void **state)
{
    (void)state;
    mw_timeline tl;
    assert_int_equal(mw_timeline_init(&tl, 0.1), 0);
    tl.budget = 64.0 * 1048576.0;
    for (int i = 0; i < 50; i++)
        mw_timeline_note(&tl, i * 0.1, 1e5, i * 1e6, 1e5 + i * 1e6);
    mw_timeline_flush(&tl);
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_non_null(out);
    assert_int_equal(mw_timeline_write_csv(&tl, out), 0);
    fclose(out);
    assert_true(strncmp(text, "t_seconds,lua_bytes,native_bytes,total_bytes,peak_bytes\n", 56) == 0);
    size_t lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += text[i] == '\n';
    assert_int_equal(lines, tl.n + 1);
    assert_non_null(strstr(text, "\n4.900000,100000,49000000,49100000,49100000\n"));
    free(text);
    size_t svg_bytes = 0;
    assert_int_equal(mw_timeline_write_svg(&tl, "memory", sink_count, &svg_bytes), 0);
    assert_true(svg_bytes > 1000);
    mw_timeline_free(&tl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_sample_per_interval),
        cmocka_unit_test(test_bounded),
        cmocka_unit_test(test_outputs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
