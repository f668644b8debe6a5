/*
 * plot.h: detection plots as SVG, made to be read at a glance.
 *
 * Two panels share one x axis: on top the series as a line, with each
 * anomaly found as a red circle at its (time, value); below, when scores
 * are given, the anomaly score as a line and the threshold as a dashed,
 * labelled line. Labelled windows (the ground truth) are light bands
 * across both panels. The x axis shows UTC dates and times at round
 * calendar steps when a time column (epoch milliseconds) is given, row
 * numbers otherwise; y ticks fall on round values. NaN breaks a line
 * (scores are NaN while a detector warms up); lines of more points than
 * the panel has pixel columns are reduced per column (report/draw.h), so
 * peaks survive and a long series stays a small file.
 *
 * The writer allocates nothing and reads only what it is given: text goes
 * out through the sink.
 */
#ifndef MW_REPORT_PLOT_H
#define MW_REPORT_PLOT_H

#include <stddef.h>

#include "report/draw.h"

#define MW_PLOT_WIDTH 1000   /* the default size, in pixels */
#define MW_PLOT_HEIGHT 520
#define MW_PLOT_MIN_WIDTH 300
#define MW_PLOT_MIN_HEIGHT 200

typedef struct mw_plot {
    const char *title;       /* NULL or "" for none */
    size_t n;                /* rows */
    const double *value;     /* n values (borrowed) */
    const double *time;      /* n epoch milliseconds, or NULL: x is the row, 1..n */
    const double *score;     /* n scores, or NULL: no score panel */
    const double *anomaly;   /* n flags, an anomaly where non-zero (NaN is not), or NULL */
    double threshold;        /* NaN for none; in the value panel when there is no score */
    const double *windows;   /* n_windows (start, end) pairs in x's units, or NULL */
    size_t n_windows;
    int width, height;       /* pixels; 0 for the default, raised to the minimum */
} mw_plot;

/* Writes the plot; returns 0, or the sink's non-zero result (nothing is
 * written after it). */
int mw_plot_write(const mw_plot *p, mw_svg_sink sink, void *ud);

#endif /* MW_REPORT_PLOT_H */
