/*
 * timeline.h: memory over time, as bounded samples, written as SVG and
 * CSV.
 *
 * The runtime's memory changes only when something is allocated or freed,
 * so the recorder is told of every change (mw_timeline_note) and keeps one
 * sample per `interval` seconds: the figures at the end of the interval
 * and the highest total inside it, so a peak between two samples is never
 * lost. When the samples fill their array, neighbours are merged in pairs
 * (the later figures, the higher peak) and the interval doubles: memory
 * stays bounded (MW_TIMELINE_MAX samples) however long the run.
 *
 * The recorder's own array is plain malloc, outside the accounting
 * allocator, so recording never changes the figures it records and never
 * counts against the budget.
 */
#ifndef MW_REPORT_TIMELINE_H
#define MW_REPORT_TIMELINE_H

#include <stddef.h>
#include <stdio.h>

#include "report/svg.h"

#define MW_TIMELINE_MAX 8192

typedef struct mw_timeline_sample {
    double t;                /* seconds since the start */
    double lua, native, total;
    double peak;             /* highest total inside the interval */
} mw_timeline_sample;

typedef struct mw_timeline {
    double interval;         /* seconds between samples (doubles when full) */
    double budget;           /* bytes, 0 for none: the chart's red line */
    mw_timeline_sample *samples; /* malloc'd, MW_TIMELINE_MAX */
    size_t n;
    mw_timeline_sample open; /* the interval being filled */
    double open_bucket;      /* its index: floor(t / interval) */
    int has_open;
} mw_timeline;

/* Prepares a recorder with samples every `interval` > 0 seconds. Returns
 * 0, or -1 if the array cannot be allocated. */
int mw_timeline_init(mw_timeline *tl, double interval);
void mw_timeline_free(mw_timeline *tl);

/* Records the figures at time t (seconds, non-decreasing). */
void mw_timeline_note(mw_timeline *tl, double t, double lua, double native, double total);

/* Closes the open interval (at the end of a run). */
void mw_timeline_flush(mw_timeline *tl);

/* Writes the samples as CSV: t_seconds,lua_bytes,native_bytes,total_bytes,
 * peak_bytes. Returns 0 or -1 on a write error. */
int mw_timeline_write_csv(const mw_timeline *tl, FILE *out);

/* Writes the chart (Lua, native, total, peak; the budget as a line). */
int mw_timeline_write_svg(const mw_timeline *tl, const char *title, mw_svg_sink sink,
                          void *ud);

#endif /* MW_REPORT_TIMELINE_H */
