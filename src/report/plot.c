/*
 * plot.c: detection plots as SVG (see plot.h).
 *
 * Layout, top to bottom: the title on the left and the legend on the
 * right of one row (the legend takes a row of its own when both do not
 * fit), the value panel, a gap, the score panel (about three fifths and
 * two fifths of the height), the x tick labels and the x axis title. The
 * y tick labels and the axis titles sit in the left margin.
 *
 * Paint order, back to front: the labelled windows' bands, the grid, the
 * lines, the threshold, the anomaly markers, the panels' frames, the
 * legend; so a band never hides data, a dense score line never hides the
 * threshold, and a marker is never under a line.
 *
 * No font is measured: a label's width is estimated from its character
 * count (PLOT_CHAR_EM of the font size per character, an upper bound for
 * digits and most letters of a sans-serif face), which is what keeps x
 * tick labels from overlapping.
 */
#include "report/plot.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define PLOT_VALUE_COLOR "#1f77b4"
#define PLOT_SCORE_COLOR "#7b52ab"
#define PLOT_ANOMALY_COLOR "#d62728"
#define PLOT_THRESHOLD_COLOR "#d62728"
/* Windows: amber, light enough that the lines read through it, distinct
 * from the red of the markers. */
#define PLOT_WINDOW_COLOR "#f5b700"
#define PLOT_WINDOW_OPACITY 0.22
#define PLOT_GRID_COLOR "#e6e6e6"
#define PLOT_TEXT_COLOR "#333333"

#define PLOT_FONT 12         /* ticks, legend, axis titles */
#define PLOT_TITLE_FONT 15
#define PLOT_CHAR_EM 0.6
#define PLOT_MARKER_R 3.5

#define PLOT_LEFT 72.0       /* margins, pixels */
#define PLOT_RIGHT 24.0
#define PLOT_BOTTOM 46.0
#define PLOT_ROW 22.0        /* the title / legend row */
#define PLOT_GAP 24.0        /* between the panels */

static double plot_text_px(size_t chars, int font)
{
    return (double)chars * PLOT_CHAR_EM * font;
}

static double plot_x(const mw_plot *p, size_t i)
{
    return p->time != NULL ? p->time[i] : (double)(i + 1);
}

/* The x range: the finite times (or rows 1..n), widened when empty or a
 * single instant so that the axis still has a span. */
static void plot_x_range(const mw_plot *p, double *x0, double *x1)
{
    *x0 = INFINITY;
    *x1 = -INFINITY;
    for (size_t i = 0; i < p->n; i++) {
        double x = plot_x(p, i);
        if (isfinite(x)) {
            *x0 = x < *x0 ? x : *x0;
            *x1 = x > *x1 ? x : *x1;
        }
    }
    if (!isfinite(*x0)) {
        *x0 = 0.0;
        *x1 = 1.0;
    }
    if (*x1 <= *x0) {
        double half = p->time != NULL ? 60000.0 : 1.0;   /* a minute, a row */
        *x0 -= half;
        *x1 += half;
    }
}

/* The range of the finite y and of `extra` (NaN for none); from zero
 * when asked and nothing is negative (scores). */
static void plot_y_range(const double *y, size_t n, double extra, int from_zero,
                         double *lo, double *hi)
{
    *lo = INFINITY;
    *hi = -INFINITY;
    for (size_t i = 0; i < n; i++)
        if (isfinite(y[i])) {
            *lo = y[i] < *lo ? y[i] : *lo;
            *hi = y[i] > *hi ? y[i] : *hi;
        }
    if (isfinite(extra)) {
        *lo = extra < *lo ? extra : *lo;
        *hi = extra > *hi ? extra : *hi;
    }
    if (!isfinite(*lo)) {
        *lo = 0.0;
        *hi = 1.0;
    }
    if (from_zero && *lo > 0.0)
        *lo = 0.0;
    if (*hi <= *lo) {
        double half = *lo != 0.0 ? fabs(*lo) * 0.05 : 0.5;
        *lo -= half;
        *hi += half;
    }
}

/* Rounds the frame's y range out to round ticks, about one per 45
 * pixels; returns the step. */
static double plot_round_y(mw_draw_frame *f)
{
    int want = (int)(f->h / 45.0);
    double step = mw_draw_step(f->y1 - f->y0, want < 2 ? 2 : want, 0);
    f->y0 = floor(f->y0 / step) * step;
    f->y1 = ceil(f->y1 / step) * step;
    if (f->y1 <= f->y0)
        f->y1 = f->y0 + step;
    return step;
}

/* Horizontal grid lines, tick labels and the rotated axis title of one
 * panel. */
static void plot_y_axis(mw_draw *o, const mw_draw_frame *f, double step, const char *title)
{
    char tick[48];
    double mag = fmax(fabs(f->y0), fabs(f->y1));
    for (long k = 0; k < MW_DRAW_MAX_TICKS &&
                     f->y0 + (double)k * step <= f->y1 + step * 1e-9; k++) {
        double v = f->y0 + (double)k * step;
        double py = mw_draw_py(f, v);
        mw_draw_printf(o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", f->left,
                       py, f->left + f->w, py);
        mw_draw_tick_text(tick, sizeof tick, v, step, mag, 0);
        mw_draw_printf(o, "<text class=\"ytick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" "
                       "stroke=\"none\">%s</text>\n", f->left - 7, py + 4, tick);
    }
    mw_draw_printf(o, "<text x=\"0\" y=\"0\" transform=\"translate(16 %.1f) rotate(-90)\" "
                   "text-anchor=\"middle\" stroke=\"none\">", f->top + f->h / 2);
    mw_draw_text(o, title);
    mw_draw_printf(o, "</text>\n");
}

/* One x tick: a grid line through every panel, and its label under the
 * bottom one unless it would run past the picture or into the previous
 * label (*right: where that one ends). */
static void plot_x_tick(mw_draw *o, const mw_draw_frame *top, const mw_draw_frame *bottom,
                        double x, const char *label, int width, double *right)
{
    double px = mw_draw_px(top, x);
    if (px < top->left - 0.5 || px > top->left + top->w + 0.5)
        return;
    mw_draw_printf(o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", px,
                   top->top, px, top->top + top->h);
    if (bottom->top != top->top)   /* a score panel */
        mw_draw_printf(o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", px,
                       bottom->top, px, bottom->top + bottom->h);
    double half = plot_text_px(strlen(label), PLOT_FONT) / 2;
    double center = px;
    if (center - half < 2.0)
        center = 2.0 + half;
    if (center + half > width - 2.0)
        center = width - 2.0 - half;
    if (center - half < *right + 8.0)
        return;
    *right = center + half;
    mw_draw_printf(o, "<text class=\"xtick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
                   "stroke=\"none\">%s</text>\n", center, bottom->top + bottom->h + 17, label);
}

/* The x grid and tick labels: calendar steps for time, round numbers for
 * rows. */
static void plot_x_axis(mw_draw *o, const mw_plot *p, const mw_draw_frame *top,
                        const mw_draw_frame *bottom, int width)
{
    char label[48];
    double right = -INFINITY;
    if (p->time != NULL) {
        mw_time_step s = mw_draw_time_step(top->x0, top->x1, top->w,
                                           PLOT_CHAR_EM * PLOT_FONT);
        double t = mw_draw_time_ceil(s, top->x0);
        for (int k = 0; k < MW_DRAW_MAX_TICKS && t <= top->x1; k++) {
            mw_draw_time_text(label, sizeof label, t, s);
            plot_x_tick(o, top, bottom, t, label, width, &right);
            t = mw_draw_time_ceil(s, t + 1.0);
        }
    } else {
        /* rows: integers, labels about 90 pixels apart */
        int want = (int)(top->w / 90.0);
        double step = mw_draw_step(top->x1 - top->x0, want < 2 ? 2 : want, 0);
        if (step < 1.0)
            step = 1.0;
        double first = ceil(top->x0 / step) * step;
        double mag = fmax(fabs(top->x0), fabs(top->x1));
        for (long k = 0; k < MW_DRAW_MAX_TICKS &&
                         first + (double)k * step <= top->x1 + step * 1e-9; k++) {
            double x = first + (double)k * step;
            mw_draw_tick_text(label, sizeof label, x, step, mag, 0);
            plot_x_tick(o, top, bottom, x, label, width, &right);
        }
    }
}

/* The labelled windows as bands over one panel, clipped to its x range;
 * a window narrower than a pixel is drawn a pixel wide. */
static void plot_windows(mw_draw *o, const mw_plot *p, const mw_draw_frame *f)
{
    for (size_t k = 0; k < p->n_windows; k++) {
        double start = p->windows[2 * k], end = p->windows[2 * k + 1];
        if (!(start <= end) || end < f->x0 || start > f->x1)
            continue;
        double a = mw_draw_px(f, start > f->x0 ? start : f->x0);
        double b = mw_draw_px(f, end < f->x1 ? end : f->x1);
        if (b - a < 1.0) {
            a = (a + b) / 2 - 0.5;
            b = a + 1.0;
        }
        mw_draw_printf(o, "<rect class=\"window\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                       "height=\"%.1f\"/>\n", a, f->top, b - a, f->h);
    }
}

static void plot_threshold(mw_draw *o, const mw_draw_frame *f, double threshold)
{
    char text[48];
    double py = mw_draw_py(f, threshold);
    mw_draw_printf(o, "<line class=\"threshold\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
                   "y2=\"%.1f\" stroke=\"" PLOT_THRESHOLD_COLOR "\" stroke-width=\"1.2\" "
                   "stroke-dasharray=\"6 4\"/>\n", f->left, py, f->left + f->w, py);
    mw_draw_number(text, sizeof text, threshold);
    /* above the line, unless that is above the panel */
    double ty = py - 5 < f->top + 12 ? py + 14 : py - 5;
    mw_draw_printf(o, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" fill=\""
                   PLOT_THRESHOLD_COLOR "\" stroke=\"white\" stroke-width=\"3\" "
                   "paint-order=\"stroke\">threshold %s</text>\n",
                   f->left + f->w - 6, ty, text);
}

static void plot_line(mw_draw *o, const mw_plot *p, const mw_draw_frame *f, const double *y,
                      const char *name, const char *color)
{
    mw_draw_printf(o, "<path class=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"1.3\" "
                   "stroke-linejoin=\"round\" d=\"", name, color);
    mw_draw_polyline(o, f, p->time, y, p->n);
    mw_draw_printf(o, "\"/>\n");
}

static int plot_is_anomaly(const mw_plot *p, size_t i)
{
    return p->anomaly[i] != 0.0 && !isnan(p->anomaly[i]) && isfinite(p->value[i]) &&
           isfinite(plot_x(p, i));
}

static void plot_marker(mw_draw *o, const mw_plot *p, const mw_draw_frame *f, size_t i)
{
    mw_draw_printf(o, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\"/>\n",
                   mw_draw_px(f, plot_x(p, i)), mw_draw_py(f, p->value[i]), PLOT_MARKER_R);
}

/* A red circle at each anomaly's (x, value). Anomalies in one pixel
 * column are drawn as their lowest and highest: the circles are wider
 * than a column, so those between would barely show, and a threshold set
 * too low cannot make the file grow with the series (at most two markers
 * a column). */
static void plot_markers(mw_draw *o, const mw_plot *p, const mw_draw_frame *f)
{
    mw_draw_printf(o, "<g class=\"anomalies\" fill=\"" PLOT_ANOMALY_COLOR "\" "
                   "fill-opacity=\"0.35\" stroke=\"" PLOT_ANOMALY_COLOR "\" "
                   "stroke-width=\"1.5\">\n");
    size_t i = 0;
    while (i < p->n && o->status == 0) {
        if (!plot_is_anomaly(p, i)) {
            i++;
            continue;
        }
        long column = lround(mw_draw_px(f, plot_x(p, i)));
        size_t lo = i, hi = i, j = i + 1;
        for (; j < p->n; j++) {
            double x = plot_x(p, j);
            if (isfinite(x) && lround(mw_draw_px(f, x)) != column)
                break;
            if (plot_is_anomaly(p, j)) {
                lo = p->value[j] < p->value[lo] ? j : lo;
                hi = p->value[j] > p->value[hi] ? j : hi;
            }
        }
        plot_marker(o, p, f, lo);
        if (lround(mw_draw_py(f, p->value[hi])) != lround(mw_draw_py(f, p->value[lo])))
            plot_marker(o, p, f, hi);
        i = j;
    }
    mw_draw_printf(o, "</g>\n");
}

typedef enum plot_swatch { SWATCH_LINE, SWATCH_DOT, SWATCH_BAND } plot_swatch;

typedef struct plot_entry {
    plot_swatch swatch;
    const char *color;
    const char *label;
} plot_entry;

/* The legend's entries, in the order drawn; returns their count. */
static size_t plot_entries(const mw_plot *p, plot_entry entries[4])
{
    size_t n = 0;
    entries[n++] = (plot_entry){SWATCH_LINE, PLOT_VALUE_COLOR, "value"};
    if (p->anomaly != NULL)
        entries[n++] = (plot_entry){SWATCH_DOT, PLOT_ANOMALY_COLOR, "anomaly"};
    if (p->score != NULL)
        entries[n++] = (plot_entry){SWATCH_LINE, PLOT_SCORE_COLOR, "score"};
    if (p->n_windows > 0)
        entries[n++] = (plot_entry){SWATCH_BAND, PLOT_WINDOW_COLOR, "labelled window"};
    return n;
}

#define PLOT_SWATCH 20.0     /* swatch width, then 6 px, the label, 18 px */

static double plot_entry_px(const plot_entry *e)
{
    return PLOT_SWATCH + 6.0 + plot_text_px(strlen(e->label), PLOT_FONT) + 18.0;
}

/* The width of entries [from, to) as one row. */
static double plot_row_px(const plot_entry *entries, size_t from, size_t to)
{
    double w = 0.0;
    for (size_t i = from; i < to; i++)
        w += plot_entry_px(&entries[i]);
    return w - 18.0;
}

/* Where the row starting at entry `from` ends: as many entries as fit in
 * max_w, at least one. */
static size_t plot_row_end(const plot_entry *entries, size_t n, size_t from, double max_w)
{
    size_t to = from + 1;
    while (to < n && plot_row_px(entries, from, to + 1) <= max_w)
        to++;
    return to;
}

static size_t plot_legend_rows(const plot_entry *entries, size_t n, double max_w)
{
    size_t rows = 0;
    for (size_t from = 0; from < n; from = plot_row_end(entries, n, from, max_w))
        rows++;
    return rows;
}

/* The legend in rows no wider than max_w, each ending at `right` (or
 * starting at the picture's left edge if it is wider), the first row's
 * baseline at y. */
static void plot_legend(mw_draw *o, const plot_entry *entries, size_t n, double right,
                        double max_w, double y)
{
    mw_draw_printf(o, "<g class=\"legend\" stroke=\"none\">\n");
    for (size_t from = 0, to; from < n; from = to, y += PLOT_ROW) {
        to = plot_row_end(entries, n, from, max_w);
        double x = right - plot_row_px(entries, from, to);
        x = x < 4.0 ? 4.0 : x;
        for (size_t i = from; i < to; i++) {
            const plot_entry *e = &entries[i];
            double mid = y - 4.0;
            switch (e->swatch) {
            case SWATCH_LINE:
                mw_draw_printf(o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                               "stroke=\"%s\" stroke-width=\"2.5\"/>\n", x, mid,
                               x + PLOT_SWATCH, mid, e->color);
                break;
            case SWATCH_DOT:
                mw_draw_printf(o, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" fill=\"%s\" "
                               "fill-opacity=\"0.35\" stroke=\"%s\" stroke-width=\"1.5\"/>\n",
                               x + PLOT_SWATCH / 2, mid, PLOT_MARKER_R, e->color, e->color);
                break;
            case SWATCH_BAND:
                mw_draw_printf(o, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"12\" "
                               "fill=\"%s\" fill-opacity=\"%.2f\"/>\n", x, mid - 6.0,
                               PLOT_SWATCH, e->color, PLOT_WINDOW_OPACITY * 1.6);
                break;
            }
            mw_draw_printf(o, "<text x=\"%.1f\" y=\"%.1f\">%s</text>\n",
                           x + PLOT_SWATCH + 6.0, y, e->label);
            x += plot_entry_px(e);
        }
    }
    mw_draw_printf(o, "</g>\n");
}

/* Where everything goes: the picture's size, the header's rows, the two
 * panels (the score panel is the value panel when there are no scores)
 * with their round y ranges. */
typedef struct plot_layout {
    int width, height;
    plot_entry entries[4];
    size_t n_entries;
    double legend_max;       /* the widest legend row */
    double legend_y;         /* its first row's baseline */
    mw_draw_frame value, score;
    double value_step, score_step;
} plot_layout;

static void plot_lay_out(const mw_plot *p, const char *title, plot_layout *l)
{
    l->width = p->width > 0 ? p->width : MW_PLOT_WIDTH;
    l->height = p->height > 0 ? p->height : MW_PLOT_HEIGHT;
    l->width = l->width < MW_PLOT_MIN_WIDTH ? MW_PLOT_MIN_WIDTH : l->width;
    l->height = l->height < MW_PLOT_MIN_HEIGHT ? MW_PLOT_MIN_HEIGHT : l->height;

    /* The header: the legend beside the title if both fit in a row, else
     * in rows of its own below it. */
    l->n_entries = plot_entries(p, l->entries);
    double plot_w = l->width - PLOT_LEFT - PLOT_RIGHT;
    l->legend_max = l->width - 8.0;
    size_t legend_rows = plot_legend_rows(l->entries, l->n_entries, l->legend_max);
    int beside = title[0] == '\0' ||
                 (legend_rows == 1 && plot_text_px(strlen(title), PLOT_TITLE_FONT) + 24.0 +
                                          plot_row_px(l->entries, 0, l->n_entries) <= plot_w);
    size_t header_rows = beside ? legend_rows : 1 + legend_rows;
    l->legend_y = 14.0 + PLOT_ROW * (beside ? 1 : 2) - 6.0;

    mw_draw_frame *fv = &l->value, *fs = &l->score;
    fv->left = PLOT_LEFT;
    fv->w = plot_w;
    fv->top = 14.0 + PLOT_ROW * (double)header_rows;
    plot_x_range(p, &fv->x0, &fv->x1);
    double panels_h = l->height - fv->top - PLOT_BOTTOM;
    fv->h = p->score != NULL ? floor((panels_h - PLOT_GAP) * 0.6) : panels_h;
    plot_y_range(p->value, p->n, p->score != NULL ? NAN : p->threshold, 0, &fv->y0, &fv->y1);
    l->value_step = l->score_step = plot_round_y(fv);
    *fs = *fv;
    if (p->score != NULL) {
        fs->top = fv->top + fv->h + PLOT_GAP;
        fs->h = panels_h - PLOT_GAP - fv->h;
        plot_y_range(p->score, p->n, p->threshold, 1, &fs->y0, &fs->y1);
        l->score_step = plot_round_y(fs);
    }
}

int mw_plot_write(const mw_plot *p, mw_svg_sink sink, void *ud)
{
    mw_draw o = {sink, ud, 0};
    const char *title = p->title != NULL ? p->title : "";
    plot_layout l;
    plot_lay_out(p, title, &l);
    int has_score = p->score != NULL;
    const mw_draw_frame *fv = &l.value, *fs = &l.score;

    mw_draw_printf(&o, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                   "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"%d\" "
                   "fill=\"" PLOT_TEXT_COLOR "\">\n", l.width, l.height, l.width, l.height,
                   PLOT_FONT);
    mw_draw_printf(&o, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
    if (title[0] != '\0') {
        mw_draw_printf(&o, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"%d\" font-weight=\"bold\">",
                       PLOT_LEFT, 14.0 + PLOT_ROW - 6.0, PLOT_TITLE_FONT);
        mw_draw_text(&o, title);
        mw_draw_printf(&o, "</text>\n");
    }

    if (p->n_windows > 0) {
        mw_draw_printf(&o, "<g class=\"windows\" fill=\"" PLOT_WINDOW_COLOR "\" "
                       "fill-opacity=\"%.2f\">\n", PLOT_WINDOW_OPACITY);
        plot_windows(&o, p, fv);
        if (has_score)
            plot_windows(&o, p, fs);
        mw_draw_printf(&o, "</g>\n");
    }

    mw_draw_printf(&o, "<g class=\"axes\" stroke=\"" PLOT_GRID_COLOR "\">\n");
    plot_y_axis(&o, fv, l.value_step, "value");
    if (has_score)
        plot_y_axis(&o, fs, l.score_step, "score");
    plot_x_axis(&o, p, fv, fs, l.width);
    mw_draw_printf(&o, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" stroke=\"none\">%s"
                   "</text>\n</g>\n", fv->left + fv->w / 2, l.height - 8,
                   p->time != NULL ? "time (UTC)" : "row");

    plot_line(&o, p, fv, p->value, "value", PLOT_VALUE_COLOR);
    if (has_score)
        plot_line(&o, p, fs, p->score, "score", PLOT_SCORE_COLOR);
    if (isfinite(p->threshold))
        plot_threshold(&o, fs, p->threshold);
    if (p->anomaly != NULL)
        plot_markers(&o, p, fv);

    mw_draw_printf(&o, "<g fill=\"none\" stroke=\"#888888\">\n");
    for (int k = 0; k < 1 + has_score; k++) {
        const mw_draw_frame *f = k == 0 ? fv : fs;
        mw_draw_printf(&o, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>\n",
                       f->left, f->top, f->w, f->h);
    }
    mw_draw_printf(&o, "</g>\n");
    plot_legend(&o, l.entries, l.n_entries, fv->left + fv->w, l.legend_max, l.legend_y);
    mw_draw_printf(&o, "</svg>\n");
    return o.status;
}
