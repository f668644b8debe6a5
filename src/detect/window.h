/*
 * window.h: a sliding window of the last `cap` values with their mean and
 * sum of squared deviations, for detectors (plain memory from the
 * detector's allocator, not a heap object).
 *
 * Pushing a value into a full window replaces the oldest with one
 * Welford step for the pair (the mean moves by (x - old) / cap). Rounding
 * would drift over a long stream, so the figures are recomputed exactly
 * from the values once every `cap` replacements: O(1) amortised, and the
 * same numbers whoever drives the window (a detector's update or run).
 * A window whose values are all equal has that mean and a zero m2
 * exactly (the run of equal newest values is counted, as pandas does):
 * the rolling figures alone would keep a residue of the values that went
 * through, 1e-9 of their scale, and a flat stretch after a busy one would
 * divide by it. Only finite values enter a window (the detector layer
 * skips others).
 */
#ifndef MW_DETECT_WINDOW_H
#define MW_DETECT_WINDOW_H

#include <stddef.h>

#include "detect/detect.h"

typedef struct mw_window {
    double *data;            /* cap values, owned (charged to the detector) */
    size_t cap;
    size_t count;            /* values in the window (<= cap) */
    size_t head;             /* where the next value goes */
    size_t since_exact;      /* replacements since the last recompute */
    double inv_cap;          /* 1 / cap */
    size_t run;              /* equal values at the newest end (<= count) */
    double mean;
    double m2;               /* sum of squared deviations from mean */
} mw_window;

/* Allocates a window of cap >= 1 values for d. */
mw_status mw_window_init(mw_window *w, mw_detector *d, size_t cap);
void mw_window_free(mw_window *w, mw_detector *d);
/* Empties the window, keeping its memory. */
void mw_window_clear(mw_window *w);
/* Recomputes mean and m2 exactly from the values. */
void mw_window_recompute(mw_window *w);

/* Pushes x (finite); the oldest value leaves a full window. */
static inline void mw_window_push(mw_window *w, double x)
{
    size_t run = w->count > 0 && x == w->data[w->head > 0 ? w->head - 1 : w->cap - 1]
                     ? w->run + 1 : 1;
    if (w->count < w->cap) {
        w->data[w->head] = x;
        w->count++;
        double delta = x - w->mean;
        w->mean += delta / (double)w->count;
        w->m2 += delta * (x - w->mean);
    } else {
        double old = w->data[w->head];
        w->data[w->head] = x;
        double mean = w->mean + (x - old) * w->inv_cap;
        w->m2 += (x - old) * (x - mean + old - w->mean);
        w->mean = mean;
        if (++w->since_exact == w->cap)
            mw_window_recompute(w);
    }
    w->run = run < w->count ? run : w->count;
    if (w->run == w->count) {
        w->mean = x;
        w->m2 = 0.0;
    }
    if (++w->head == w->cap)
        w->head = 0;
}

/* The value i places back (0: the newest); i < count. */
static inline double mw_window_back(const mw_window *w, size_t i)
{
    size_t at = w->head >= i + 1 ? w->head - i - 1 : w->head + w->cap - i - 1;
    return w->data[at];
}

/* The sample variance (ddof 1) of the window, never negative; 0 for fewer
 * than two values. */
static inline double mw_window_var(const mw_window *w)
{
    if (w->count < 2 || w->m2 <= 0.0)
        return 0.0;
    return w->m2 / (double)(w->count - 1);
}

/* Writes and reads the values (oldest first) and the figures. */
void mw_window_save(const mw_window *w, mw_blob_writer *out);
/* Reads into a window initialised with the same cap; returns non-zero
 * (r failed) on a bad count. */
int mw_window_load(mw_window *w, mw_blob_reader *r);

#endif /* MW_DETECT_WINDOW_H */
