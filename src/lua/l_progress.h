/*
 * l_progress.h: the progress bar of long reads, on stderr when it is a
 * terminal: "data.csv: 31.1 / 1074.2 MB (3%), 2097151 rows/s, ETA 8 s".
 * Redrawn at most four times a second; nothing at all when stderr is not
 * a terminal, when the size of the input is unknown or small, or when the
 * script turned it off.
 */
#ifndef MW_L_PROGRESS_H
#define MW_L_PROGRESS_H

#include <stdint.h>

typedef struct mw_progress {
    int on;
    uint64_t total_bytes;
    double t_start, t_last;
    const char *name;        /* borrowed: outlives the bar */
} mw_progress;

/* Starts a bar for an input of total_bytes (0: unknown) if wanted and
 * stderr is a terminal. */
void mw_progress_start(mw_progress *p, const char *name, uint64_t total_bytes, int wanted);

/* Redraws the bar if a quarter second has passed (or always, final). */
void mw_progress_update(mw_progress *p, uint64_t bytes_done, uint64_t rows, int final);

/* Draws the last state and ends the line; the bar is off afterwards. */
void mw_progress_finish(mw_progress *p, uint64_t bytes_done, uint64_t rows);

#endif /* MW_L_PROGRESS_H */
