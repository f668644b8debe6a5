/*
 * svg.h: line charts as SVG text, for memory timelines and detection
 * plots.
 *
 * A chart is one x axis (seconds, or plain numbers), one y axis (bytes,
 * shown in KiB/MiB/GiB, or plain numbers), up to eight lines, an optional
 * horizontal reference line (a memory budget, a threshold), a title and a
 * legend. Ticks fall on round values (1, 2, 5 times a power of ten, or of
 * 1024 for bytes). Lines of more points than the plot has pixels are
 * reduced to each pixel column's first, lowest, highest and last points,
 * so peaks survive and the file stays small. NaN points break a line.
 *
 * The writer allocates nothing: text goes out through a callback.
 */
#ifndef MW_REPORT_SVG_H
#define MW_REPORT_SVG_H

#include <stddef.h>

#include "report/draw.h"

#define MW_SVG_MAX_LINES 8

typedef struct mw_svg_line {
    const char *label;
    const double *y;         /* n values (borrowed) */
    const char *color;       /* "#rrggbb", or NULL for the palette's */
} mw_svg_line;

typedef struct mw_svg_chart {
    const char *title;
    const char *x_label;     /* e.g. "time" */
    const char *y_label;     /* e.g. "memory" */
    int x_seconds;           /* x is seconds: ticks say "s" */
    int y_bytes;             /* y is bytes: ticks in KiB, MiB, GiB */
    const double *x;         /* n values, ascending (borrowed) */
    size_t n;
    mw_svg_line lines[MW_SVG_MAX_LINES];
    size_t n_lines;
    double ref_y;            /* a horizontal reference line, NaN for none */
    const char *ref_label;   /* e.g. "budget" */
    int width, height;       /* pixels; 0 for 900 x 420 */
} mw_svg_chart;

/* The sink (mw_svg_sink, in report/draw.h) receives the text. */
/* Writes the chart; returns 0, or the sink's non-zero result. */
int mw_svg_write(const mw_svg_chart *chart, mw_svg_sink sink, void *ud);

#endif /* MW_REPORT_SVG_H */
