/*
 * svg.c: line charts as SVG text (see svg.h).
 *
 * Layout: a plot area inside margins (left for the y ticks, bottom for the
 * x ticks and label), a title above, the legend along the top right
 * inside the plot. The pieces (output, ticks, reduced lines) are
 * report/draw.h's, shared with the detection plot; nothing is allocated.
 */
#include "report/svg.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *const svg_palette[MW_SVG_MAX_LINES] = {
    "#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#17becf",
};

/* A tick's text: bytes in the unit of the step, else a short number and,
 * for seconds, " s". */
static void svg_tick_text(char *buf, size_t cap, double v, double step, double mag,
                          int bytes, int seconds)
{
    mw_draw_tick_text(buf, cap, v, step, mag, bytes);
    if (seconds) {
        size_t len = strlen(buf);
        snprintf(buf + len, cap - len, " s");
    }
}

/* The range of every finite y, and of the reference line. */
static void svg_y_range(const mw_svg_chart *c, double *lo, double *hi)
{
    *lo = INFINITY;
    *hi = -INFINITY;
    for (size_t k = 0; k < c->n_lines; k++)
        for (size_t i = 0; i < c->n; i++) {
            double y = c->lines[k].y[i];
            if (isfinite(y)) {
                if (y < *lo)
                    *lo = y;
                if (y > *hi)
                    *hi = y;
            }
        }
    if (isfinite(c->ref_y)) {
        if (c->ref_y < *lo)
            *lo = c->ref_y;
        if (c->ref_y > *hi)
            *hi = c->ref_y;
    }
    if (!isfinite(*lo)) {
        *lo = 0.0;
        *hi = 1.0;
    }
    if (c->y_bytes && *lo > 0.0)
        *lo = 0.0;           /* memory charts start at zero */
    if (*hi <= *lo)
        *hi = *lo + (c->y_bytes ? 1024.0 : 1.0);
}

/* A line as a path, reduced to a few points per pixel column. */
static void svg_line(mw_draw *o, const mw_svg_chart *c, const mw_draw_frame *f, size_t k)
{
    const char *color = c->lines[k].color != NULL ? c->lines[k].color : svg_palette[k];
    mw_draw_printf(o, "<path fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" d=\"", color);
    mw_draw_polyline(o, f, c->x, c->lines[k].y, c->n);
    mw_draw_printf(o, "\"/>\n");
}

int mw_svg_write(const mw_svg_chart *c, mw_svg_sink sink, void *ud)
{
    mw_draw o = {sink, ud, 0};
    int width = c->width > 0 ? c->width : 900;
    int height = c->height > 0 ? c->height : 420;
    mw_draw_frame f;
    f.left = 90;
    f.top = 40;
    f.w = width - f.left - 30;
    f.h = height - f.top - 60;
    f.x0 = c->n > 0 ? c->x[0] : 0.0;
    f.x1 = c->n > 0 ? c->x[c->n - 1] : 1.0;
    if (!(f.x1 > f.x0))
        f.x1 = f.x0 + 1.0;
    svg_y_range(c, &f.y0, &f.y1);
    double ystep = mw_draw_step(f.y1 - f.y0, 6, c->y_bytes);
    f.y0 = floor(f.y0 / ystep) * ystep;
    f.y1 = ceil(f.y1 / ystep) * ystep;
    if (f.y1 <= f.y0)
        f.y1 = f.y0 + ystep;
    double xstep = mw_draw_step(f.x1 - f.x0, 8, 0);

    mw_draw_printf(&o, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                   "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n",
                   width, height, width, height);
    mw_draw_printf(&o, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
    mw_draw_printf(&o, "<text x=\"%.1f\" y=\"24\" font-size=\"15\" font-weight=\"bold\">",
                   f.left);
    mw_draw_text(&o, c->title);
    mw_draw_printf(&o, "</text>\n");

    /* grid and ticks */
    char tick[48];
    double ymag = fmax(fabs(f.y0), fabs(f.y1));
    for (long k = 0; k < MW_DRAW_MAX_TICKS &&
                     f.y0 + (double)k * ystep <= f.y1 + ystep * 1e-9; k++) {
        double v = f.y0 + (double)k * ystep;
        double py = mw_draw_py(&f, v);
        mw_draw_printf(&o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                       "stroke=\"#e5e5e5\"/>\n", f.left, py, f.left + f.w, py);
        svg_tick_text(tick, sizeof tick, v, ystep, ymag, c->y_bytes, 0);
        mw_draw_printf(&o, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
                       f.left - 8, py + 4, tick);
    }
    double xfirst = ceil(f.x0 / xstep) * xstep, xmag = fmax(fabs(f.x0), fabs(f.x1));
    for (long k = 0; k < MW_DRAW_MAX_TICKS &&
                     xfirst + (double)k * xstep <= f.x1 + xstep * 1e-9; k++) {
        double v = xfirst + (double)k * xstep;
        double px = mw_draw_px(&f, v);
        mw_draw_printf(&o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                       "stroke=\"#e5e5e5\"/>\n", px, f.top, px, f.top + f.h);
        svg_tick_text(tick, sizeof tick, v, xstep, xmag, 0, c->x_seconds);
        mw_draw_printf(&o, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n", px,
                       f.top + f.h + 18, tick);
    }
    mw_draw_printf(&o, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" "
                   "stroke=\"#444\"/>\n", f.left, f.top, f.w, f.h);
    mw_draw_printf(&o, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">", f.left + f.w / 2,
                   height - 14);
    mw_draw_text(&o, c->x_label);
    mw_draw_printf(&o, "</text>\n<text transform=\"translate(18 %.1f) rotate(-90)\" "
                   "text-anchor=\"middle\">", f.top + f.h / 2);
    mw_draw_text(&o, c->y_label);
    mw_draw_printf(&o, "</text>\n");

    /* the reference line, then the data */
    if (isfinite(c->ref_y)) {
        double py = mw_draw_py(&f, c->ref_y);
        mw_draw_printf(&o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                       "stroke=\"#d62728\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/>\n",
                       f.left, py, f.left + f.w, py);
        mw_draw_printf(&o, "<text x=\"%.1f\" y=\"%.1f\" fill=\"#d62728\">", f.left + 6,
                       py - 6);
        mw_draw_text(&o, c->ref_label);
        mw_draw_printf(&o, "</text>\n");
    }
    for (size_t k = 0; k < c->n_lines && k < MW_SVG_MAX_LINES; k++)
        svg_line(&o, c, &f, k);

    /* the legend, on a white box at the top right */
    if (c->n_lines > 0)
        mw_draw_printf(&o, "<rect x=\"%.1f\" y=\"%.1f\" width=\"146\" height=\"%.1f\" "
                       "fill=\"white\" fill-opacity=\"0.85\" stroke=\"#ccc\"/>\n",
                       f.left + f.w - 158, f.top + 4, 18.0 * (double)c->n_lines + 6);
    for (size_t k = 0; k < c->n_lines && k < MW_SVG_MAX_LINES; k++) {
        double ly = f.top + 16 + 18.0 * (double)k;
        double lx = f.left + f.w - 150;
        const char *color = c->lines[k].color != NULL ? c->lines[k].color : svg_palette[k];
        mw_draw_printf(&o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                       "stroke-width=\"3\"/>\n", lx, ly - 4, lx + 22, ly - 4, color);
        mw_draw_printf(&o, "<text x=\"%.1f\" y=\"%.1f\">", lx + 28, ly);
        mw_draw_text(&o, c->lines[k].label);
        mw_draw_printf(&o, "</text>\n");
    }
    mw_draw_printf(&o, "</svg>\n");
    return o.status;
}
