/*
 * timeline.c: bounded memory samples over time (see timeline.h).
 */
#include "report/timeline.h"

#include <math.h>
#include <stdlib.h>

int mw_timeline_init(mw_timeline *tl, double interval)
{
    tl->interval = interval > 0.0 ? interval : 0.01;
    tl->budget = 0.0;
    tl->n = 0;
    tl->has_open = 0;
    tl->samples = malloc(MW_TIMELINE_MAX * sizeof *tl->samples);
    return tl->samples != NULL ? 0 : -1;
}

void mw_timeline_free(mw_timeline *tl)
{
    free(tl->samples);
    tl->samples = NULL;
    tl->n = 0;
}

/* Halves the samples: each pair becomes its later figures with the higher
 * peak, and the interval doubles. */
static void timeline_halve(mw_timeline *tl)
{
    size_t half = 0;
    for (size_t i = 0; i + 1 < tl->n; i += 2) {
        mw_timeline_sample merged = tl->samples[i + 1];
        if (tl->samples[i].peak > merged.peak)
            merged.peak = tl->samples[i].peak;
        tl->samples[half++] = merged;
    }
    if (tl->n % 2 == 1)
        tl->samples[half++] = tl->samples[tl->n - 1];
    tl->n = half;
    tl->interval *= 2.0;
    if (tl->has_open)
        tl->open_bucket = floor(tl->open.t / tl->interval);
}

static void timeline_close(mw_timeline *tl)
{
    if (!tl->has_open)
        return;
    if (tl->n == MW_TIMELINE_MAX)
        timeline_halve(tl);
    tl->samples[tl->n++] = tl->open;
    tl->has_open = 0;
}

void mw_timeline_note(mw_timeline *tl, double t, double lua, double native, double total)
{
    if (tl->samples == NULL)
        return;
    /* Samples are buckets of `interval` seconds: a change in a later
     * bucket closes the open one, stamped with its last change. */
    double bucket = floor(t / tl->interval);
    if (tl->has_open && bucket != tl->open_bucket)
        timeline_close(tl);
    if (!tl->has_open) {
        tl->open.peak = total;
        tl->open_bucket = floor(t / tl->interval);
        tl->has_open = 1;
    }
    tl->open.t = t;
    tl->open.lua = lua;
    tl->open.native = native;
    tl->open.total = total;
    if (total > tl->open.peak)
        tl->open.peak = total;
}

void mw_timeline_flush(mw_timeline *tl)
{
    timeline_close(tl);
}

int mw_timeline_write_csv(const mw_timeline *tl, FILE *out)
{
    fprintf(out, "t_seconds,lua_bytes,native_bytes,total_bytes,peak_bytes\n");
    for (size_t i = 0; i < tl->n; i++) {
        const mw_timeline_sample *s = &tl->samples[i];
        fprintf(out, "%.6f,%.0f,%.0f,%.0f,%.0f\n", s->t, s->lua, s->native, s->total, s->peak);
    }
    return ferror(out) ? -1 : 0;
}

int mw_timeline_write_svg(const mw_timeline *tl, const char *title, mw_svg_sink sink,
                          void *ud)
{
    size_t n = tl->n;
    double *cols = malloc((n > 0 ? n : 1) * 5 * sizeof *cols);
    if (cols == NULL)
        return -1;
    double *t = cols, *lua = cols + n, *native = cols + 2 * n, *total = cols + 3 * n,
           *peak = cols + 4 * n;
    for (size_t i = 0; i < n; i++) {
        t[i] = tl->samples[i].t;
        lua[i] = tl->samples[i].lua;
        native[i] = tl->samples[i].native;
        total[i] = tl->samples[i].total;
        peak[i] = tl->samples[i].peak;
    }
    mw_svg_chart chart = {
        .title = title,
        .x_label = "time since start",
        .y_label = "memory (exact bytes)",
        .x_seconds = 1,
        .y_bytes = 1,
        .x = t,
        .n = n,
        /* drawn in this order: the total on top */
        .lines = {{"Lua heap", lua, "#1f77b4"}, {"native heap", native, "#ff7f0e"},
                  {"peak in interval", peak, "#bbbbbb"}, {"total", total, "#000000"}},
        .n_lines = 4,
        .ref_y = tl->budget > 0.0 ? tl->budget : NAN,
        .ref_label = "budget",
    };
    int status = mw_svg_write(&chart, sink, ud);
    free(cols);
    return status;
}
