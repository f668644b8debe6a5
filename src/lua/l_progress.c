/*
 * l_progress.c: the progress bar of long reads (see l_progress.h).
 */
#include "lua/l_progress.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

/* Inputs smaller than this finish too fast for a bar to help. */
#define PROGRESS_MIN_BYTES ((uint64_t)4 << 20)

static double progress_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void mw_progress_start(mw_progress *p, const char *name, uint64_t total_bytes, int wanted)
{
    p->name = name;
    p->total_bytes = total_bytes;
    p->on = wanted && total_bytes >= PROGRESS_MIN_BYTES && isatty(2);
    p->t_start = p->t_last = progress_now();
}

void mw_progress_update(mw_progress *p, uint64_t bytes_done, uint64_t rows, int final)
{
    if (!p->on)
        return;
    double now = progress_now();
    if (!final && now - p->t_last < 0.25)
        return;
    p->t_last = now;
    double done = (double)bytes_done, total = (double)p->total_bytes;
    double secs = now - p->t_start;
    double rate = secs > 0 ? (double)rows / secs : 0, bps = secs > 0 ? done / secs : 0;
    double eta = bps > 0 && total > done ? (total - done) / bps : 0;
    fprintf(stderr, "\r%s: %.1f / %.1f MB (%3.0f%%), %.0f rows/s, ETA %.0f s   %s",
            p->name, done / 1e6, total / 1e6, total > 0 ? 100 * done / total : 0, rate, eta,
            final ? "\n" : "");
    fflush(stderr);
}

void mw_progress_finish(mw_progress *p, uint64_t bytes_done, uint64_t rows)
{
    mw_progress_update(p, bytes_done, rows, 1);
    p->on = 0;
}
