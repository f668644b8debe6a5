/*
 * draw.h: the pieces every SVG chart of the report layer is made of, in
 * one copy: text out through a sink with a sticky status, escaping, round
 * ticks and their text, calendar ticks for epoch milliseconds, the
 * mapping from data to pixels and reduced polylines.
 *
 * Nothing here allocates, reads a clock or a locale, or keeps state
 * between calls: calendar arithmetic is done on integers (UTC, proleptic
 * Gregorian), not with gmtime, so two runtimes can draw on two threads.
 */
#ifndef MW_REPORT_DRAW_H
#define MW_REPORT_DRAW_H

#include <stddef.h>

/* The callback that receives the text; returns non-zero to stop. */
typedef int (*mw_svg_sink)(void *ud, const char *text, size_t len);

/* An output: once the sink returns non-zero, that result is kept in
 * status and nothing more is written. */
typedef struct mw_draw {
    mw_svg_sink sink;
    void *ud;
    int status;
} mw_draw;

/* Writes printf-style text (a piece of up to 511 bytes). */
void mw_draw_printf(mw_draw *d, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Writes s (NULL: nothing) as SVG text or attribute content: &, <, >
 * and " escaped. */
void mw_draw_text(mw_draw *d, const char *s);

/* The most ticks an axis draws: a range too wide for its step to be
 * represented (values near 1e308) still ends. */
#define MW_DRAW_MAX_TICKS 200

/* A round step (1, 2 or 5 times a power of ten) that cuts span into about
 * `want` parts. For bytes the power is of 1024, with the multiplier of
 * ten inside it (1, 2, 5, 10, 20, 50, 100, 200, 500 KiB). */
double mw_draw_step(double span, int want, int bytes);

/* The text of tick v on an axis of round `step` whose largest magnitude
 * is `mag`: bytes in the step's unit ("512 KiB", "1.5 MiB"), else as many
 * decimals as the step needs, with k, M, G or T for the whole axis when
 * mag reaches 100000 ("250k", "1.5M"), so every tick of an axis reads
 * alike. */
void mw_draw_tick_text(char *buf, size_t cap, double v, double step, double mag, int bytes);

/* A value on its own (a threshold): four significant digits, k/M/G/T
 * from 100000 up. */
void mw_draw_number(char *buf, size_t cap, double v);

/* ---- calendar ticks (UTC) ------------------------------------------ */

typedef enum mw_time_unit {
    MW_TIME_SECOND,
    MW_TIME_MINUTE,
    MW_TIME_HOUR,
    MW_TIME_DAY,
    MW_TIME_WEEK,            /* weeks start on Monday */
    MW_TIME_MONTH,
    MW_TIME_YEAR
} mw_time_unit;

typedef struct mw_time_step {
    mw_time_unit unit;
    long count;              /* units per tick: 1, 2, 5, 15, 30 ... */
} mw_time_step;

/* The finest calendar step (1 s up to 5 min, 1 h up to 12 h, 1 or 2
 * days, 1 or 2 weeks, 1, 2, 3 or 6 months, then 1, 2, 5 times a power of
 * ten years) whose labels, over [t0, t1] epoch milliseconds drawn
 * `width` pixels wide, with `char_px` pixels per character, are at least
 * a label and a gap apart. */
mw_time_step mw_draw_time_step(double t0, double t1, double width, double char_px);

/* The first tick of step s at or after t (epoch ms): ticks fall on round
 * multiples of the step from the epoch (6 h: 00, 06, 12, 18 UTC), on
 * Mondays for weeks, on the first of a month for months (3 months:
 * January, April, July, October), on 1 January for years. */
double mw_draw_time_ceil(mw_time_step s, double t);

/* The label of tick t for step s: "07:05:30" (seconds), "04-10 07:00"
 * (minutes, hours), "2014-04-10" (days, weeks), "2014-04" (months),
 * "2014" (years). Returns its length in characters. */
size_t mw_draw_time_text(char *buf, size_t cap, double t, mw_time_step s);

/* ---- data to pixels ------------------------------------------------ */

typedef struct mw_draw_frame {
    double x0, x1, y0, y1;   /* data ranges (x1 > x0, y1 > y0) */
    double left, top, w, h;  /* plot area in pixels */
} mw_draw_frame;

double mw_draw_px(const mw_draw_frame *f, double x);
double mw_draw_py(const mw_draw_frame *f, double y);

/* Writes the path data of y over x ("M12.0,34.0 L13.0,30.5 ...") for n
 * points; x NULL means the row numbers 1..n. A point whose x or y is not
 * finite breaks the line. A run of points in one pixel column is reduced
 * to its first, lowest, highest and last, so a one-sample peak survives
 * and the size is bounded by the width, not by n. */
void mw_draw_polyline(mw_draw *d, const mw_draw_frame *f, const double *x, const double *y,
                      size_t n);

#endif /* MW_REPORT_DRAW_H */
