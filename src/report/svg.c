/*
 * svg.c: line charts as SVG text (see svg.h).
 *
 * Layout: a plot area inside margins (left for the y ticks, bottom for the
 * x ticks and label), a title above, the legend along the top right
 * inside the plot. Everything is written with printf-style pieces into a
 * small stack buffer and handed to the sink, so nothing is allocated.
 */
#include "report/svg.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const svg_palette[MW_SVG_MAX_LINES] = {
    "#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#17becf",
};

typedef struct svg_out {
    mw_svg_sink sink;
    void *ud;
    int status;
} svg_out;

static void svg_printf(svg_out *o, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void svg_printf(svg_out *o, const char *fmt, ...)
{
    if (o->status != 0)
        return;
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (len < 0)
        return;
    size_t n = (size_t)len < sizeof buf ? (size_t)len : sizeof buf - 1;
    o->status = o->sink(o->ud, buf, n);
}

/* Text for SVG: &, < and > escaped. */
static void svg_text(svg_out *o, const char *s)
{
    for (; s != NULL && *s != '\0' && o->status == 0; s++) {
        switch (*s) {
        case '&': o->status = o->sink(o->ud, "&amp;", 5); break;
        case '<': o->status = o->sink(o->ud, "&lt;", 4); break;
        case '>': o->status = o->sink(o->ud, "&gt;", 4); break;
        default:  o->status = o->sink(o->ud, s, 1); break;
        }
    }
}

/* A round step (1, 2 or 5 times a power of `base`'s decade) that cuts
 * span into about `want` parts. For bytes, the power is of 1024 and the
 * multiplier of ten inside it (1, 2, 5, 10, 20, 50, 100, 200, 500 KiB). */
static double svg_step(double span, int want, int bytes)
{
    if (!(span > 0.0))
        return 1.0;
    double raw = span / want;
    double unit = 1.0;
    if (bytes)
        while (unit * 1024.0 <= raw)
            unit *= 1024.0;
    double scaled = raw / unit;
    double decade = pow(10.0, floor(log10(scaled)));
    double m = scaled / decade;
    double nice = m <= 1.0 ? 1.0 : m <= 2.0 ? 2.0 : m <= 5.0 ? 5.0 : 10.0;
    return nice * decade * unit;
}

/* A tick's text: bytes in the unit of the step, else a short number. */
static void svg_tick_text(char *buf, size_t cap, double v, double step, int bytes,
                          int seconds)
{
    if (bytes) {
        static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
        int u = 0;
        double scale = 1.0;
        while (u < 4 && step >= scale * 1024.0) {
            scale *= 1024.0;
            u++;
        }
        double shown = v / scale;
        snprintf(buf, cap, shown == floor(shown) ? "%.0f %s" : "%.1f %s", shown, units[u]);
        return;
    }
    snprintf(buf, cap, "%.6g%s", fabs(v) < step * 1e-9 ? 0.0 : v, seconds ? " s" : "");
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

typedef struct svg_frame {
    double x0, x1, y0, y1;   /* data ranges */
    double left, top, w, h;  /* plot area in pixels */
} svg_frame;

static double svg_px(const svg_frame *f, double x)
{
    return f->left + (x - f->x0) / (f->x1 - f->x0) * f->w;
}

static double svg_py(const svg_frame *f, double y)
{
    return f->top + f->h - (y - f->y0) / (f->y1 - f->y0) * f->h;
}

/* One point of a polyline ("M" starts a piece, "L" continues it). */
static void svg_point(svg_out *o, const svg_frame *f, double x, double y, int *drawing)
{
    svg_printf(o, "%c%.1f,%.1f ", *drawing ? 'L' : 'M', svg_px(f, x), svg_py(f, y));
    *drawing = 1;
}

/* A line as a path; more points than pixel columns are reduced to each
 * column's first, lowest, highest and last. */
static void svg_line(svg_out *o, const mw_svg_chart *c, const svg_frame *f, size_t k)
{
    const double *y = c->lines[k].y;
    const char *color = c->lines[k].color != NULL ? c->lines[k].color : svg_palette[k];
    svg_printf(o, "<path fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" d=\"", color);
    int drawing = 0;
    size_t i = 0;
    while (i < c->n) {
        if (!isfinite(y[i]) || !isfinite(c->x[i])) {
            drawing = 0;
            i++;
            continue;
        }
        long column = lround(svg_px(f, c->x[i]));
        size_t j = i, lo = i, hi = i;
        while (j + 1 < c->n && isfinite(y[j + 1]) && isfinite(c->x[j + 1]) &&
               lround(svg_px(f, c->x[j + 1])) == column) {
            j++;
            if (y[j] < y[lo])
                lo = j;
            if (y[j] > y[hi])
                hi = j;
        }
        size_t order[4] = {i, lo < hi ? lo : hi, lo < hi ? hi : lo, j};
        for (int p = 0; p < 4; p++)
            if (p == 0 || order[p] != order[p - 1])
                svg_point(o, f, c->x[order[p]], y[order[p]], &drawing);
        i = j + 1;
    }
    svg_printf(o, "\"/>\n");
}

int mw_svg_write(const mw_svg_chart *c, mw_svg_sink sink, void *ud)
{
    svg_out o = {sink, ud, 0};
    int width = c->width > 0 ? c->width : 900;
    int height = c->height > 0 ? c->height : 420;
    svg_frame f;
    f.left = 90;
    f.top = 40;
    f.w = width - f.left - 30;
    f.h = height - f.top - 60;
    f.x0 = c->n > 0 ? c->x[0] : 0.0;
    f.x1 = c->n > 0 ? c->x[c->n - 1] : 1.0;
    if (!(f.x1 > f.x0))
        f.x1 = f.x0 + 1.0;
    svg_y_range(c, &f.y0, &f.y1);
    double ystep = svg_step(f.y1 - f.y0, 6, c->y_bytes);
    f.y0 = floor(f.y0 / ystep) * ystep;
    f.y1 = ceil(f.y1 / ystep) * ystep;
    if (f.y1 <= f.y0)
        f.y1 = f.y0 + ystep;
    double xstep = svg_step(f.x1 - f.x0, 8, 0);

    svg_printf(&o, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                   "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n",
               width, height, width, height);
    svg_printf(&o, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
    svg_printf(&o, "<text x=\"%.1f\" y=\"24\" font-size=\"15\" font-weight=\"bold\">",
               f.left);
    svg_text(&o, c->title);
    svg_printf(&o, "</text>\n");

    /* grid and ticks */
    char tick[48];
    for (double v = f.y0; v <= f.y1 + ystep * 1e-9; v += ystep) {
        double py = svg_py(&f, v);
        svg_printf(&o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                       "stroke=\"#e5e5e5\"/>\n", f.left, py, f.left + f.w, py);
        svg_tick_text(tick, sizeof tick, v, ystep, c->y_bytes, 0);
        svg_printf(&o, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
                   f.left - 8, py + 4, tick);
    }
    for (double v = ceil(f.x0 / xstep) * xstep; v <= f.x1 + xstep * 1e-9; v += xstep) {
        double px = svg_px(&f, v);
        svg_printf(&o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                       "stroke=\"#e5e5e5\"/>\n", px, f.top, px, f.top + f.h);
        svg_tick_text(tick, sizeof tick, v, xstep, 0, c->x_seconds);
        svg_printf(&o, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n", px,
                   f.top + f.h + 18, tick);
    }
    svg_printf(&o, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" "
                   "stroke=\"#444\"/>\n", f.left, f.top, f.w, f.h);
    svg_printf(&o, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">", f.left + f.w / 2,
               height - 14);
    svg_text(&o, c->x_label);
    svg_printf(&o, "</text>\n<text transform=\"translate(18 %.1f) rotate(-90)\" "
                   "text-anchor=\"middle\">", f.top + f.h / 2);
    svg_text(&o, c->y_label);
    svg_printf(&o, "</text>\n");

    /* the reference line, then the data */
    if (isfinite(c->ref_y)) {
        double py = svg_py(&f, c->ref_y);
        svg_printf(&o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#d62728\" "
                       "stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/>\n",
                   f.left, py, f.left + f.w, py);
        svg_printf(&o, "<text x=\"%.1f\" y=\"%.1f\" fill=\"#d62728\">", f.left + 6,
                   py - 6);
        svg_text(&o, c->ref_label);
        svg_printf(&o, "</text>\n");
    }
    for (size_t k = 0; k < c->n_lines && k < MW_SVG_MAX_LINES; k++)
        svg_line(&o, c, &f, k);

    /* the legend, on a white box at the top right */
    if (c->n_lines > 0)
        svg_printf(&o, "<rect x=\"%.1f\" y=\"%.1f\" width=\"146\" height=\"%.1f\" "
                       "fill=\"white\" fill-opacity=\"0.85\" stroke=\"#ccc\"/>\n",
                   f.left + f.w - 158, f.top + 4, 18.0 * (double)c->n_lines + 6);
    for (size_t k = 0; k < c->n_lines && k < MW_SVG_MAX_LINES; k++) {
        double ly = f.top + 16 + 18.0 * (double)k;
        double lx = f.left + f.w - 150;
        const char *color = c->lines[k].color != NULL ? c->lines[k].color : svg_palette[k];
        svg_printf(&o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                       "stroke-width=\"3\"/>\n", lx, ly - 4, lx + 22, ly - 4, color);
        svg_printf(&o, "<text x=\"%.1f\" y=\"%.1f\">", lx + 28, ly);
        svg_text(&o, c->lines[k].label);
        svg_printf(&o, "</text>\n");
    }
    svg_printf(&o, "</svg>\n");
    return o.status;
}
