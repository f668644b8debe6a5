/*
 * test_plot.c: detection plots (report/plot.c) and the drawing pieces
 * they share with the line charts (report/draw.c): a well-formed
 * document, a marker per anomaly, two bands per labelled window, calendar
 * ticks for known spans that do not overlap, NaN gaps, the score panel
 * only when scores are given, and long series reduced to a bounded size
 * with their peaks kept. Set MW_PLOT_OUT to a path to keep the chart of
 * the first test for a look (rsvg-convert makes a PNG).
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

#include "report/plot.h"

#define T_2014_04_10 1397088000000.0   /* 2014-04-10 00:00:00 UTC, epoch ms */
#define MINUTE 60000.0
#define DAY 86400000.0


static text_buf render(const mw_plot *p)
{
    text_buf b = {0};
    assert_int_equal(mw_plot_write(p, buf_sink, &b), 0);
    assert_non_null(b.data);
    return b;
}


/* Occurrences of needle between the first `from` and the next `to`. */
static size_t count_in(const char *hay, const char *from, const char *to, const char *needle)
{
    const char *start = strstr(hay, from);
    if (start == NULL)
        return 0;
    const char *end = strstr(start, to);
    size_t n = 0;
    for (const char *p = strstr(start, needle); p != NULL && p < end; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* Whether every element is closed in order, every attribute quoted
 * and every & starts an entity: enough XML for rsvg to read it. */
static int well_formed(const char *s)
{
    char stack[32][16];
    int depth = 0, seen_root = 0;
    for (const char *p = s; *p != '\0'; p++) {
        if (*p == '&') {
            if (strncmp(p, "&amp;", 5) != 0 && strncmp(p, "&lt;", 4) != 0 &&
                strncmp(p, "&gt;", 4) != 0 && strncmp(p, "&quot;", 6) != 0)
                return 0;
            continue;
        }
        if (*p != '<')
            continue;
        int closing = p[1] == '/';
        const char *name = p + 1 + closing;
        size_t len = strcspn(name, " />\n");
        if (len == 0 || len >= sizeof stack[0])
            return 0;
        const char *end = name + len;
        int quotes = 0;
        while (*end != '\0' && (*end != '>' || quotes % 2 == 1))
            quotes += *end++ == '"';
        if (*end != '>')
            return 0;
        if (closing) {
            if (depth == 0 || strlen(stack[depth - 1]) != len ||
                strncmp(stack[depth - 1], name, len) != 0)
                return 0;
            depth--;
        } else if (end[-1] != '/') {
            if (depth == 32 || (depth == 0 && seen_root))
                return 0;
            memcpy(stack[depth], name, len);
            stack[depth++][len] = '\0';
            seen_root = 1;
        }
        p = end;
    }
    return depth == 0 && seen_root;
}

/* The x of every x tick label, in order, and their count. */
static size_t xtick_positions(const char *s, double *xs, size_t cap, char labels[][24])
{
    size_t n = 0;
    for (const char *p = strstr(s, "class=\"xtick\" x=\""); p != NULL && n < cap;
         p = strstr(p + 1, "class=\"xtick\" x=\"")) {
        xs[n] = strtod(p + strlen("class=\"xtick\" x=\""), NULL);
        const char *text = strchr(p, '>') + 1;
        size_t len = (size_t)(strchr(text, '<') - text);
        snprintf(labels[n], 24, "%.*s", (int)len, text);
        n++;
    }
    return n;
}

#define N_DETECT 2880        /* two days, a row a minute */

static void test_detection_plot(void **state)
{
    (void)state;
    static double t[N_DETECT], v[N_DETECT], score[N_DETECT], flag[N_DETECT];
    for (size_t i = 0; i < N_DETECT; i++) {
        t[i] = T_2014_04_10 + (double)i * MINUTE;
        v[i] = 50.0 + 10.0 * sin((double)i / 200.0);
        score[i] = i < 100 ? NAN : fabs(sin((double)i / 37.0));   /* warm-up */
        flag[i] = 0.0;
    }
    score[1500] = NAN;                     /* a second gap */
    static const size_t rows[] = {300, 900, 1700, 2500};
    for (size_t k = 0; k < 4; k++) {
        flag[rows[k]] = 1.0;
        v[rows[k]] = 95.0;
        score[rows[k]] = 6.0;
    }
    flag[2000] = NAN;                      /* not an anomaly */
    flag[2100] = 1.0;                      /* on a NaN value: not drawn */
    v[2100] = NAN;
    double windows[] = {
        T_2014_04_10 + 280 * MINUTE, T_2014_04_10 + 320 * MINUTE,   /* inside */
        T_2014_04_10 - DAY, T_2014_04_10 + 10 * MINUTE,              /* clipped at the start */
        T_2014_04_10 + 5 * DAY, T_2014_04_10 + 6 * DAY,              /* outside: not drawn */
    };
    mw_plot p = {
        .title = "cpu <host \"a\"> & co",
        .n = N_DETECT,
        .value = v,
        .time = t,
        .score = score,
        .anomaly = flag,
        .threshold = 4.5,
        .windows = windows,
        .n_windows = 3,
    };
    text_buf b = render(&p);
    assert_true(well_formed(b.data));
    assert_true(strncmp(b.data, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"1000\" "
                                "height=\"520\"", 60) == 0);
    assert_non_null(strstr(b.data, ">cpu &lt;host &quot;a&quot;&gt; &amp; co</text>"));
    /* a marker per anomaly with a value, none for NaN flags or values */
    assert_int_equal(count_in(b.data, "<g class=\"anomalies\"", "</g>", "<circle"), 4);
    /* two windows in range, a band in each panel */
    assert_int_equal(count(b.data, "<rect class=\"window\""), 4);
    const char *clipped = strstr(strstr(b.data, "<rect class=\"window\"") + 1,
                                 "<rect class=\"window\"");
    assert_true(strncmp(clipped, "<rect class=\"window\" x=\"72.0\"", 29) == 0);   /* clipped */
    /* both panels, the threshold labelled, the legend complete */
    assert_int_equal(count(b.data, "<path class=\"value\""), 1);
    assert_int_equal(count(b.data, "<path class=\"score\""), 1);
    assert_non_null(strstr(b.data, ">threshold 4.5</text>"));
    assert_int_equal(count(b.data, "class=\"threshold\""), 1);
    assert_non_null(strstr(b.data, ">labelled window</text>"));
    assert_non_null(strstr(b.data, ">anomaly</text>"));
    assert_non_null(strstr(b.data, ">time (UTC)</text>"));
    /* the score line in two pieces: from the end of the warm-up, and after
     * the NaN at row 1501 */
    const char *score_path = strstr(b.data, "<path class=\"score\"");
    const char *score_end = strstr(score_path, "/>");
    size_t pieces = 0;
    for (const char *q = strstr(score_path, "M"); q != NULL && q < score_end;
         q = strstr(q + 1, "M"))
        pieces++;
    assert_int_equal(pieces, 2);          /* the warm-up is before the first M */
    /* two days, 904 pixels: labels every 6 hours, from 00:00 to 00:00 */
    double xs[32];
    char labels[32][24];
    size_t n_ticks = xtick_positions(b.data, xs, 32, labels);
    assert_int_equal(n_ticks, 8);
    assert_string_equal(labels[0], "04-10 00:00");
    assert_string_equal(labels[1], "04-10 06:00");
    assert_string_equal(labels[4], "04-11 00:00");
    assert_string_equal(labels[7], "04-11 18:00");
    for (size_t k = 1; k < n_ticks; k++)   /* 11 characters at 12 px apart */
        assert_true(xs[k] - xs[k - 1] >= 11 * 0.6 * 12);
    const char *keep = getenv("MW_PLOT_OUT");
    if (keep != NULL) {
        FILE *out = fopen(keep, "w");
        if (out != NULL) {
            fwrite(b.data, 1, b.len, out);
            fclose(out);
        }
    }
    free(b.data);
}

/* The labels of a plot of n rows, a step apart from start. */
static size_t labels_for(double start, double step, size_t n, char labels[][24], double *xs)
{
    double *t = malloc(n * sizeof *t), *v = malloc(n * sizeof *v);
    assert_non_null(t);
    assert_non_null(v);
    for (size_t i = 0; i < n; i++) {
        t[i] = start + (double)i * step;
        v[i] = (double)(i % 7);
    }
    mw_plot p = {.n = n, .value = v, .time = t, .threshold = NAN};
    text_buf b = render(&p);
    assert_true(well_formed(b.data));
    size_t n_ticks = xtick_positions(b.data, xs, 64, labels);
    free(b.data);
    free(t);
    free(v);
    return n_ticks;
}

static void test_calendar_ticks(void **state)
{
    (void)state;
    char labels[64][24];
    double xs[64];
    /* two weeks (NAB's AWS files): every other day, as dates */
    size_t n = labels_for(T_2014_04_10 + 4 * MINUTE, 5 * MINUTE, 4032, labels, xs);
    assert_true(n >= 6 && n <= 8);
    assert_string_equal(labels[0], "2014-04-12");
    assert_string_equal(labels[1], "2014-04-14");
    /* an hour of seconds: ten-minute steps */
    n = labels_for(T_2014_04_10 + 3 * 3600000.0, 1000.0, 3601, labels, xs);
    assert_int_equal(n, 7);
    assert_string_equal(labels[0], "04-10 03:00");
    assert_string_equal(labels[1], "04-10 03:10");
    assert_string_equal(labels[n - 1], "04-10 04:00");
    /* two years, by the day: every other month from January */
    n = labels_for(T_2014_04_10, DAY, 730, labels, xs);
    assert_int_equal(n, 12);
    assert_string_equal(labels[0], "2014-05");
    assert_string_equal(labels[1], "2014-07");
    assert_string_equal(labels[4], "2015-01");
    /* a minute: ten-second steps */
    n = labels_for(T_2014_04_10 + 59 * MINUTE, 1000.0, 61, labels, xs);
    assert_int_equal(n, 7);
    assert_string_equal(labels[0], "00:59:00");
    assert_string_equal(labels[1], "00:59:10");
    assert_string_equal(labels[n - 1], "01:00:00");
    /* no label ever overlaps the previous one */
    for (size_t k = 1; k < n; k++)
        assert_true(xs[k] - xs[k - 1] >= 8 * 0.6 * 12);
}

static void test_time_steps(void **state)
{
    (void)state;
    char text[32];
    /* weeks start on Monday: 2014-04-14 */
    mw_time_step week = {MW_TIME_WEEK, 1};
    double t = mw_draw_time_ceil(week, T_2014_04_10);
    mw_draw_time_text(text, sizeof text, t, week);
    assert_string_equal(text, "2014-04-14");
    /* months: the first of the next month, quarters on Jan/Apr/Jul/Oct */
    mw_time_step quarter = {MW_TIME_MONTH, 3};
    t = mw_draw_time_ceil(quarter, T_2014_04_10);
    mw_draw_time_text(text, sizeof text, t, quarter);
    assert_string_equal(text, "2014-07");
    t = mw_draw_time_ceil(quarter, mw_draw_time_ceil(quarter, T_2014_04_10) + 1.0);
    mw_draw_time_text(text, sizeof text, t, quarter);
    assert_string_equal(text, "2014-10");
    /* a tick exactly on a boundary is that tick */
    mw_time_step month = {MW_TIME_MONTH, 1};
    double first_may = 1398902400000.0;    /* 2014-05-01 */
    assert_true(mw_draw_time_ceil(month, first_may) == first_may);
    /* before 1970 and leap days */
    mw_time_step day = {MW_TIME_DAY, 1};
    mw_draw_time_text(text, sizeof text, -86400000.0, day);
    assert_string_equal(text, "1969-12-31");
    mw_draw_time_text(text, sizeof text, 951782400000.0, day);   /* 2000-02-29 */
    assert_string_equal(text, "2000-02-29");
    mw_time_step years = {MW_TIME_YEAR, 5};
    t = mw_draw_time_ceil(years, 951782400000.0);
    mw_draw_time_text(text, sizeof text, t, years);
    assert_string_equal(text, "2005");
    /* the step grows with the span and shrinks with the width */
    mw_time_step s = mw_draw_time_step(0, 14 * DAY, 900, 7.2);
    assert_int_equal(s.unit, MW_TIME_DAY);
    assert_int_equal(s.count, 2);
    s = mw_draw_time_step(0, 14 * DAY, 300, 7.2);
    assert_int_equal(s.unit, MW_TIME_WEEK);
    s = mw_draw_time_step(0, 40 * 365.25 * DAY, 900, 7.2);
    assert_int_equal(s.unit, MW_TIME_YEAR);
    assert_int_equal(s.count, 5);
}

static void test_numbers(void **state)
{
    (void)state;
    char text[32];
    mw_draw_tick_text(text, sizeof text, 250000, 50000, 250000, 0);
    assert_string_equal(text, "250k");
    mw_draw_tick_text(text, sizeof text, 1.5e6, 5e5, 2e6, 0);
    assert_string_equal(text, "1.5M");
    mw_draw_tick_text(text, sizeof text, 2e6, 5e5, 2e6, 0);
    assert_string_equal(text, "2.0M");
    mw_draw_tick_text(text, sizeof text, 0.30000000000000004, 0.1, 1, 0);
    assert_string_equal(text, "0.3");
    mw_draw_tick_text(text, sizeof text, -1e-17, 0.5, 2, 0);
    assert_string_equal(text, "0.0");
    mw_draw_tick_text(text, sizeof text, 40000, 10000, 90000, 0);
    assert_string_equal(text, "40000");
    mw_draw_tick_text(text, sizeof text, 3 * 1048576.0, 1048576.0, 1e7, 1);
    assert_string_equal(text, "3 MiB");
    mw_draw_number(text, sizeof text, 4.5);
    assert_string_equal(text, "4.5");
    mw_draw_number(text, sizeof text, 1234567);
    assert_string_equal(text, "1.235M");
    assert_true(mw_draw_step(100, 5, 0) == 20.0);
    assert_true(mw_draw_step(0.7, 4, 0) == 0.2);
}

#define N_LONG 200000

static void test_long_series(void **state)
{
    (void)state;
    static double v[N_LONG], score[N_LONG], flag[N_LONG];
    for (size_t i = 0; i < N_LONG; i++) {
        v[i] = sin((double)i / 3000.0) + 0.1 * sin((double)i * 1.3);
        score[i] = fabs(cos((double)i * 0.7));
        flag[i] = i % 5000 == 0;          /* 40 anomalies */
    }
    v[123457] = 25.0;                     /* one peak */
    mw_plot p = {.n = N_LONG, .value = v, .score = score, .anomaly = flag, .threshold = 0.9};
    text_buf b = render(&p);
    assert_true(well_formed(b.data));
    assert_true(b.len < 300 * 1024);
    /* at most 4 points per pixel column (904 of them) per line */
    size_t points = count(b.data, " L") + count(b.data, "M");
    assert_true(points < 2 * 4 * 910);
    /* the peak survives: the value axis goes up to 30 (without it, 2) */
    assert_non_null(strstr(b.data, ">30</text>"));
    assert_int_equal(count_in(b.data, "<g class=\"anomalies\"", "</g>", "<circle"), 40);
    /* every row an anomaly: at most two markers a pixel column */
    for (size_t i = 0; i < N_LONG; i++)
        flag[i] = 1.0;
    free(b.data);
    b = render(&p);
    size_t dense = count_in(b.data, "<g class=\"anomalies\"", "</g>", "<circle");
    assert_true(dense > 904 && dense <= 2 * 905);
    assert_true(b.len < 300 * 1024);
    /* rows on x, with compact labels */
    assert_non_null(strstr(b.data, ">row</text>"));
    assert_non_null(strstr(b.data, ">100k</text>"));
    free(b.data);
}

static void test_no_score(void **state)
{
    (void)state;
    double v[5] = {1, 2, NAN, 4, 5};
    double windows[2] = {2, 3};
    mw_plot p = {.n = 5, .value = v, .threshold = 3.5, .windows = windows, .n_windows = 1,
                 .width = 10, .height = 10};
    text_buf b = render(&p);
    assert_true(well_formed(b.data));
    /* one panel: one band per window, no score, the threshold in the value panel */
    assert_int_equal(count(b.data, "<rect class=\"window\""), 1);
    assert_null(strstr(b.data, "class=\"score\""));
    assert_non_null(strstr(b.data, ">threshold 3.5</text>"));
    assert_null(strstr(b.data, "class=\"anomalies\""));
    /* the minimum size */
    assert_non_null(strstr(b.data, "width=\"300\" height=\"200\""));
    /* the NaN breaks the line: two pieces */
    const char *path = strstr(b.data, "<path class=\"value\"");
    assert_int_equal(count_in(path, "d=\"", "\"/>", "M"), 2);
    free(b.data);
    /* values too far apart for a round step still end, with a bounded
     * number of ticks */
    double huge[3] = {1e308, -1e308, 0};
    mw_plot wide = {.n = 3, .value = huge, .score = huge, .threshold = 1e308};
    b = render(&wide);
    assert_true(well_formed(b.data));
    assert_true(count(b.data, "class=\"ytick\"") <= 2 * MW_DRAW_MAX_TICKS);
    free(b.data);
    /* no rows at all is still a picture */
    mw_plot empty = {.n = 0, .value = v, .threshold = NAN};
    b = render(&empty);
    assert_true(well_formed(b.data));
    free(b.data);
}

static int failing_sink(void *ud, const char *text, size_t len)
{
    (void)text;
    (void)len;
    return ++*(int *)ud >= 5 ? 9 : 0;
}

static void test_sink_stops(void **state)
{
    (void)state;
    double v[3] = {1, 2, 3};
    mw_plot p = {.n = 3, .value = v, .threshold = NAN};
    int calls = 0;
    assert_int_equal(mw_plot_write(&p, failing_sink, &calls), 9);
    assert_int_equal(calls, 5);            /* nothing written after the failure */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_detection_plot),
        cmocka_unit_test(test_calendar_ticks),
        cmocka_unit_test(test_time_steps),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_long_series),
        cmocka_unit_test(test_no_score),
        cmocka_unit_test(test_sink_stops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
