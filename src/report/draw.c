/*
 * draw.c: the shared pieces of the SVG charts (see draw.h).
 *
 * Text is formatted into a small stack buffer and handed to the sink, so
 * nothing is allocated. Calendar ticks convert between days since the
 * epoch and civil dates with stats/calendar.h (no tables, no time zone).
 */
#include "report/draw.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

#include "stats/calendar.h"

void mw_draw_printf(mw_draw *d, const char *fmt, ...)
{
    if (d->status != 0)
        return;
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (len < 0)
        return;
    size_t n = (size_t)len < sizeof buf ? (size_t)len : sizeof buf - 1;
    d->status = d->sink(d->ud, buf, n);
}

void mw_draw_text(mw_draw *d, const char *s)
{
    /* Runs of plain bytes go out in one call; a sink call per byte made
     * a long title cost as much as a line of data. */
    const char *run = s;
    for (; s != NULL && d->status == 0; s++) {
        const char *esc = NULL;
        switch (*s) {
        case '&': esc = "&amp;"; break;
        case '<': esc = "&lt;"; break;
        case '>': esc = "&gt;"; break;
        case '"': esc = "&quot;"; break;
        case '\0': break;
        default: continue;
        }
        if (s > run)
            d->status = d->sink(d->ud, run, (size_t)(s - run));
        if (esc == NULL)
            return;
        mw_draw_printf(d, "%s", esc);
        run = s + 1;
    }
}

/* ---- numbers --------------------------------------------------------- */

double mw_draw_step(double span, int want, int bytes)
{
    if (!(span > 0.0) || !isfinite(span) || want < 1)
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

/* The metric suffix for numbers up to mag: none below 100000 (a five
 * digit number reads at a glance), else k, M, G or T. */
static double draw_scale(double mag, const char **suffix)
{
    static const struct { double from, scale; const char *suffix; } scales[] = {
        {1e12, 1e12, "T"}, {1e9, 1e9, "G"}, {1e6, 1e6, "M"}, {1e5, 1e3, "k"},
    };
    for (size_t i = 0; i < sizeof scales / sizeof scales[0]; i++)
        if (mag >= scales[i].from) {
            *suffix = scales[i].suffix;
            return scales[i].scale;
        }
    *suffix = "";
    return 1.0;
}

void mw_draw_tick_text(char *buf, size_t cap, double v, double step, double mag, int bytes)
{
    if (fabs(v) < step * 1e-9)
        v = 0.0;             /* no "-0" or "1e-17" where the axis crosses zero */
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
    const char *suffix;
    double scale = draw_scale(fabs(mag), &suffix);
    /* As many decimals as the step has: 0.5 -> 1, 0.05 -> 2. */
    double scaled_step = step / scale;
    int decimals = 0;
    for (double p = 1.0; decimals < 7; decimals++, p *= 10.0) {
        double units = scaled_step * p;
        if (fabs(units - nearbyint(units)) <= 1e-6 * units)
            break;
    }
    if (decimals > 6)
        snprintf(buf, cap, "%.3g%s", v / scale, suffix);
    else
        snprintf(buf, cap, "%.*f%s", decimals, v / scale, suffix);
}

void mw_draw_number(char *buf, size_t cap, double v)
{
    const char *suffix;
    double scale = draw_scale(fabs(v), &suffix);
    snprintf(buf, cap, "%.4g%s", v / scale, suffix);
}

/* ---- calendar ------------------------------------------------------- */

#define DRAW_MS_PER_DAY 86400000.0
#define DRAW_MONDAY 4        /* 1970-01-05, the first Monday, is day 4 */

static int64_t draw_floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* The length of a tick of a fixed-length unit, in ms. */
static double draw_unit_ms(mw_time_unit u)
{
    switch (u) {
    case MW_TIME_SECOND: return 1000.0;
    case MW_TIME_MINUTE: return 60000.0;
    case MW_TIME_HOUR:   return 3600000.0;
    case MW_TIME_DAY:    return DRAW_MS_PER_DAY;
    case MW_TIME_WEEK:   return 7.0 * DRAW_MS_PER_DAY;
    case MW_TIME_MONTH:  return 30.436875 * DRAW_MS_PER_DAY;   /* on average */
    case MW_TIME_YEAR:   return 365.2425 * DRAW_MS_PER_DAY;
    }
    return 1000.0;
}

/* The length of every label of step s, at most. */
static int draw_time_chars(mw_time_step s)
{
    switch (s.unit) {
    case MW_TIME_SECOND: return 8;
    case MW_TIME_MINUTE:
    case MW_TIME_HOUR:   return 11;
    case MW_TIME_DAY:
    case MW_TIME_WEEK:   return 10;
    case MW_TIME_MONTH:  return 7;
    case MW_TIME_YEAR:   return 5;     /* room for years past 9999 */
    }
    return 11;
}

mw_time_step mw_draw_time_step(double t0, double t1, double width, double char_px)
{
    static const mw_time_step steps[] = {
        {MW_TIME_SECOND, 1}, {MW_TIME_SECOND, 2}, {MW_TIME_SECOND, 5},
        {MW_TIME_SECOND, 10}, {MW_TIME_SECOND, 15}, {MW_TIME_SECOND, 30},
        {MW_TIME_MINUTE, 1}, {MW_TIME_MINUTE, 2}, {MW_TIME_MINUTE, 5},
        {MW_TIME_MINUTE, 10}, {MW_TIME_MINUTE, 15}, {MW_TIME_MINUTE, 30},
        {MW_TIME_HOUR, 1}, {MW_TIME_HOUR, 2}, {MW_TIME_HOUR, 3},
        {MW_TIME_HOUR, 6}, {MW_TIME_HOUR, 12},
        {MW_TIME_DAY, 1}, {MW_TIME_DAY, 2},
        {MW_TIME_WEEK, 1}, {MW_TIME_WEEK, 2},
        {MW_TIME_MONTH, 1}, {MW_TIME_MONTH, 2}, {MW_TIME_MONTH, 3}, {MW_TIME_MONTH, 6},
    };
    double span = t1 - t0;
    if (!(span > 0.0) || !isfinite(span) || !(width > 0.0))
        return steps[0];
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        double px = draw_unit_ms(steps[i].unit) * (double)steps[i].count / span * width;
        if (px >= draw_time_chars(steps[i]) * char_px + 24.0)
            return steps[i];
    }
    mw_time_step years = {MW_TIME_YEAR, 1};
    static const long multipliers[] = {1, 2, 5};
    for (long decade = 1; decade <= 100000000L; decade *= 10)
        for (size_t k = 0; k < 3; k++) {
            years.count = multipliers[k] * decade;
            double px = draw_unit_ms(MW_TIME_YEAR) * (double)years.count / span * width;
            if (px >= draw_time_chars(years) * char_px + 24.0)
                return years;
        }
    return years;
}

double mw_draw_time_ceil(mw_time_step s, double t)
{
    if (!isfinite(t) || fabs(t) > 9e15)   /* beyond +-285000 years: no calendar */
        return INFINITY;
    if (s.unit == MW_TIME_MONTH || s.unit == MW_TIME_YEAR) {
        int64_t months_per_tick = s.unit == MW_TIME_YEAR ? 12 * (int64_t)s.count : s.count;
        int64_t day = (int64_t)floor(t / DRAW_MS_PER_DAY);
        int64_t y;
        int m, d;
        mw_calendar_civil_from_days(day, &y, &m, &d);
        int64_t month = y * 12 + (m - 1);
        if (d != 1 || t > (double)day * DRAW_MS_PER_DAY)
            month++;         /* past the first of this month: the next one */
        month = draw_floor_div(month + months_per_tick - 1, months_per_tick) * months_per_tick;
        int64_t ty = draw_floor_div(month, 12);
        return (double)mw_calendar_days_from_civil(ty, (int)(month - ty * 12) + 1, 1) *
               DRAW_MS_PER_DAY;
    }
    double len = draw_unit_ms(s.unit) * (double)s.count;
    double origin = s.unit == MW_TIME_WEEK ? DRAW_MONDAY * DRAW_MS_PER_DAY : 0.0;
    return ceil((t - origin) / len) * len + origin;
}

size_t mw_draw_time_text(char *buf, size_t cap, double t, mw_time_step s)
{
    double day_f = floor(t / DRAW_MS_PER_DAY);
    int64_t day = (int64_t)day_f;
    long ms = (long)(t - day_f * DRAW_MS_PER_DAY);
    int64_t y;
    int m, d;
    mw_calendar_civil_from_days(day, &y, &m, &d);
    long hh = ms / 3600000, mm = ms / 60000 % 60, ss = ms / 1000 % 60;
    int len;
    switch (s.unit) {
    case MW_TIME_SECOND:
        len = snprintf(buf, cap, "%02ld:%02ld:%02ld", hh, mm, ss);
        break;
    case MW_TIME_MINUTE:
    case MW_TIME_HOUR:
        len = snprintf(buf, cap, "%02d-%02d %02ld:%02ld", m, d, hh, mm);
        break;
    case MW_TIME_DAY:
    case MW_TIME_WEEK:
        len = snprintf(buf, cap, "%04lld-%02d-%02d", (long long)y, m, d);
        break;
    case MW_TIME_MONTH:
        len = snprintf(buf, cap, "%04lld-%02d", (long long)y, m);
        break;
    default:
        len = snprintf(buf, cap, "%lld", (long long)y);
        break;
    }
    return len < 0 ? 0 : (size_t)len < cap ? (size_t)len : cap > 0 ? cap - 1 : 0;
}

/* ---- data to pixels --------------------------------------------------- */

double mw_draw_px(const mw_draw_frame *f, double x)
{
    return f->left + (x - f->x0) / (f->x1 - f->x0) * f->w;
}

double mw_draw_py(const mw_draw_frame *f, double y)
{
    return f->top + f->h - (y - f->y0) / (f->y1 - f->y0) * f->h;
}

static double draw_x(const double *x, size_t i)
{
    return x != NULL ? x[i] : (double)(i + 1);
}

static int draw_ok(const double *x, const double *y, size_t i)
{
    return isfinite(y[i]) && isfinite(draw_x(x, i));
}

void mw_draw_polyline(mw_draw *d, const mw_draw_frame *f, const double *x, const double *y,
                      size_t n)
{
    int drawing = 0, first = 1;
    size_t i = 0;
    while (i < n && d->status == 0) {
        if (!draw_ok(x, y, i)) {
            drawing = 0;
            i++;
            continue;
        }
        long column = lround(mw_draw_px(f, draw_x(x, i)));
        size_t j = i, lo = i, hi = i;
        while (j + 1 < n && draw_ok(x, y, j + 1) &&
               lround(mw_draw_px(f, draw_x(x, j + 1))) == column) {
            j++;
            if (y[j] < y[lo])
                lo = j;
            if (y[j] > y[hi])
                hi = j;
        }
        size_t order[4] = {i, lo < hi ? lo : hi, lo < hi ? hi : lo, j};
        for (int p = 0; p < 4; p++) {
            if (p > 0 && order[p] == order[p - 1])
                continue;
            mw_draw_printf(d, "%s%c%.1f,%.1f", first ? "" : " ", drawing ? 'L' : 'M',
                           mw_draw_px(f, draw_x(x, order[p])), mw_draw_py(f, y[order[p]]));
            drawing = 1;
            first = 0;
        }
        i = j + 1;
    }
}
