/*
 * nab.h: scoring detections as the Numenta Anomaly Benchmark does.
 *
 * A detector gives one anomaly score per row; a row is a detection when
 * its score is at or above a threshold. The first min(floor(15% of rows),
 * 750) rows are a probationary period and are not scored. Inside a
 * labelled window (rows first..last, width w = last - first + 1), a
 * detection at row i sits at position y = -(last - i + 1) / w (-1 at the
 * window's first row) and earns tp * f(y) / f(-1), with
 * f(y) = 2 / (1 + exp(5y)) - 1 (that is 2 sigmoid(-5y) - 1); only the best
 * (the earliest) detection of a window counts. A window without a
 * detection costs -fn. A detection outside every window costs fp * f(d)
 * (f is negative there), d = (i - last) / (w - 1) measured from the end of
 * the preceding window (last, w its own); f is -1 from d = 3 on, when no
 * window precedes the row, and when the preceding window is one row wide.
 *
 * One threshold for a whole corpus is the one that maximises the summed
 * score: every distinct score is a candidate (the sweep sorts all scored
 * rows once), so the maximum is exact, as NAB's sweeper finds it; among
 * equal sums the highest threshold wins. NaN scores never fire; +inf
 * counts as the largest finite number, so that the threshold INFINITY
 * means "nothing fires".
 *
 * Normalised score: 100 (raw - null) / (perfect - null), with null the
 * score of a detector that never fires (-fn for each window that has a
 * row past the probation) and perfect tp for every labelled window.
 *
 * Windows are row indices here: the caller maps labelled timestamps to
 * rows (NAB requires them to be timestamps of the file).
 */
#ifndef MW_EVAL_NAB_H
#define MW_EVAL_NAB_H

#include <stddef.h>

#include "core/alloc.h"
#include "moonwatch.h"

/* NAB's default probationary fraction. */
#define MW_NAB_PROBATION 0.15

/* A cost profile: the weights of a true positive, a false positive and
 * a false negative (NAB's tnWeight plays no part in the score). */
typedef struct mw_nab_profile {
    const char *name;
    double tp, fp, fn;
} mw_nab_profile;

/* NAB's three profiles: standard, reward_low_FP_rate, reward_low_FN_rate. */
#define MW_NAB_N_PROFILES 3
extern const mw_nab_profile mw_nab_profiles[MW_NAB_N_PROFILES];

/* The profile of that name, or NULL. */
const mw_nab_profile *mw_nab_profile_named(const char *name);

/* A labelled window: rows first..last, inclusive, 0-based. */
typedef struct mw_nab_window {
    size_t first, last;
} mw_nab_window;

/* One series: its scores and its labelled windows (borrowed). */
typedef struct mw_nab_series {
    const double *score;
    size_t n;
    const mw_nab_window *windows;
    size_t n_windows;
} mw_nab_series;

/* What one series scored at a threshold. */
typedef struct mw_nab_result {
    double raw;              /* the summed score */
    double null;             /* what a detector that never fires scores */
    size_t windows;          /* windows with a row past the probation */
    size_t tp;               /* of those, windows with a detection */
    size_t fn;               /* windows without one */
    size_t fp;               /* detections outside every window */
    size_t detections;       /* rows past the probation at or above it */
    size_t probation;        /* rows in the probationary period */
} mw_nab_result;

/* The probationary period of a series of n rows:
 * min(floor(fraction n), fraction 5000). */
size_t mw_nab_probation(size_t n, double fraction);

/* Checks the windows: inside the series, first <= last, in ascending
 * order and disjoint. Returns MW_OK, or MW_ERANGE naming nothing (the
 * caller knows the window it passed: *bad is its index). */
mw_status mw_nab_check(const mw_nab_series *s, size_t *bad);

/* Scores one (checked) series at a threshold. */
void mw_nab_score(const mw_nab_series *s, const mw_nab_profile *p,
                  double fraction, double threshold, mw_nab_result *out);

/* Finds the threshold that maximises the summed score of the (checked)
 * series: *threshold is a score of some row, or INFINITY when no
 * detection at all scores best; *raw is the sum. Working memory (24
 * bytes a scored row) comes from a. Returns MW_OK or the allocator's
 * refusal. */
mw_status mw_nab_optimize(const mw_nab_series *s, size_t n_series,
                          const mw_nab_profile *p, double fraction,
                          mw_alloc *a, double *threshold, double *raw);

/* The weight of a detection at row i of a series (its sweep score), or 0
 * for a probationary row. */
double mw_nab_row_weight(const mw_nab_series *s, const mw_nab_profile *p,
                         double fraction, size_t i);

#endif /* MW_EVAL_NAB_H */
