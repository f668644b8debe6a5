/*
 * test_svg.c: SVG line charts: a well-formed document with the title,
 * labels and legend escaped, byte ticks in round binary units, the
 * reference line, NaN gaps, and long lines reduced to a few points per
 * pixel column with their extremes kept. Set MW_SVG_OUT to a path to keep
 * the chart of the first test for a look (rsvg-convert makes a PNG).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "text_sink.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/svg.h"



#define N_POINTS 200000

static void test_memory_chart(void **state)
{
    (void)state;
    static double x[N_POINTS], lua[N_POINTS], native[N_POINTS], total[N_POINTS];
    for (size_t i = 0; i < N_POINTS; i++) {
        x[i] = (double)i * 0.001;                          /* 200 s */
        lua[i] = 2e6 + 1e6 * sin((double)i / 5000.0);
        native[i] = (i % 50000) * 2000.0;                  /* saw teeth to 100 MB */
        total[i] = lua[i] + native[i];
    }
    native[123457] = 3e8;                                  /* one peak */
    total[123457] = lua[123457] + native[123457];
    mw_svg_chart c = {
        .title = "memory of <job> & co",
        .x_label = "time",
        .y_label = "memory",
        .x_seconds = 1,
        .y_bytes = 1,
        .x = x,
        .n = N_POINTS,
        .lines = {{"Lua", lua, NULL}, {"native", native, NULL}, {"total", total, "#000000"}},
        .n_lines = 3,
        .ref_y = 256.0 * 1048576.0,
        .ref_label = "budget 256 MiB",
    };
    text_buf b = {0};
    assert_int_equal(mw_svg_write(&c, buf_sink, &b), 0);
    assert_true(strncmp(b.data, "<svg xmlns=\"http://www.w3.org/2000/svg\"", 39) == 0);
    assert_non_null(strstr(b.data, "</svg>\n"));
    assert_non_null(strstr(b.data, "memory of &lt;job&gt; &amp; co"));
    assert_non_null(strstr(b.data, ">budget 256 MiB<"));
    assert_non_null(strstr(b.data, " MiB</text>"));     /* byte ticks */
    assert_non_null(strstr(b.data, "50 s</text>"));     /* second ticks */
    assert_int_equal(count(b.data, "<path"), 3);
    /* at most 4 points per pixel column: ~840 columns, 3 lines */
    size_t points = count(b.data, " L") + count(b.data, "\"M");
    assert_true(points < 3 * 4 * 900);
    /* the single peak survives the reduction: its y is the top of a tick
     * range above 256 MiB (300 MB is about 286 MiB: axis to 300 MiB) */
    assert_non_null(strstr(b.data, ">300 MiB</text>"));
    const char *keep = getenv("MW_SVG_OUT");
    if (keep != NULL) {
        FILE *out = fopen(keep, "w");
        if (out != NULL) {
            fwrite(b.data, 1, b.len, out);
            fclose(out);
        }
    }
    free(b.data);
}

static void test_gaps_and_degenerate(void **state)
{
    (void)state;
    double x[6] = {0, 1, 2, 3, 4, 5};
    double y[6] = {1, 2, NAN, 4, 5, 6};
    mw_svg_chart c = {.title = "t", .x = x, .n = 6, .lines = {{"y", y, NULL}},
                      .n_lines = 1, .ref_y = NAN};
    text_buf b = {0};
    assert_int_equal(mw_svg_write(&c, buf_sink, &b), 0);
    assert_int_equal(count(b.data, "\"M") + count(b.data, " M"), 2);   /* a gap: two pieces */
    free(b.data);
    /* no points, a constant line: still a chart */
    double flat[3] = {5, 5, 5};
    mw_svg_chart d = {.title = "flat", .x = x, .n = 3, .lines = {{"c", flat, NULL}},
                      .n_lines = 1, .ref_y = NAN};
    text_buf e = {0};
    assert_int_equal(mw_svg_write(&d, buf_sink, &e), 0);
    assert_non_null(strstr(e.data, "</svg>"));
    free(e.data);
    mw_svg_chart empty = {.title = "empty", .x = x, .n = 0, .ref_y = NAN};
    text_buf g = {0};
    assert_int_equal(mw_svg_write(&empty, buf_sink, &g), 0);
    assert_non_null(strstr(g.data, "</svg>"));
    free(g.data);
}

static int failing_sink(void *ud, const char *text, size_t len)
{
    (void)text;
    (void)len;
    return ++*(int *)ud >= 3 ? 7 : 0;
}

static void test_sink_stops(void **state)
{
    (void)state;
    double x[2] = {0, 1}, y[2] = {0, 1};
    mw_svg_chart c = {.title = "t", .x = x, .n = 2, .lines = {{"y", y, NULL}},
                      .n_lines = 1, .ref_y = NAN};
    int calls = 0;
    assert_int_equal(mw_svg_write(&c, failing_sink, &calls), 7);
    assert_int_equal(calls, 3);      /* nothing written after the failure */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_memory_chart),
        cmocka_unit_test(test_gaps_and_degenerate),
        cmocka_unit_test(test_sink_stops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
