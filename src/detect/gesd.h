/*
 * gesd.h: the generalised ESD test (Rosner 1983) on a sorted sample, as a
 * score for one of its values; the core of the esd and shesd detectors.
 *
 * The test, on n values and for at most k outliers: for i = 1 .. k, take
 * the centre c_i and scale s_i of the values still in the sample (mean
 * and standard deviation, or, robust as in Twitter's AnomalyDetection,
 * median and 1.4826 * MAD), remove the value v_i farthest from c_i, and
 * compare R_i = |v_i - c_i| / s_i with the critical value
 *
 *   lambda_i = t (n - i) / sqrt((n - i - 1 + t^2) (n - i + 1)),
 *   t = Student's t quantile of 1 - alpha / (2 (n - i + 1)), n - i - 1 df.
 *
 * The outliers are v_1 .. v_m for the largest m with R_m > lambda_m.
 *
 * The score of a value x of the sample, with ratio_i = R_i / lambda_i:
 *   - if x is removed at step j (the first step removing a value equal to
 *     x): max(ratio_j, ..., ratio_k), the strongest evidence at or after
 *     its removal. It exceeds 1 exactly when the test calls x an outlier
 *     (j <= m), even when R_j itself is below lambda_j (masking: the
 *     NIST example's first outlier has R_1 < lambda_1);
 *   - else (x is still in after k steps): its own studentized deviation
 *     from the remaining values over the next critical value,
 *     |x - c_{k+1}| / s_{k+1} / lambda_{k+1}, capped at ratio_k (the
 *     score of the last value removed) and at 1.
 * So scores never increase along the order of removal, and score > 1
 * if and only if the test declares x an outlier.
 *
 * Because the farthest value from the centre is always the smallest or
 * the largest remaining, the values still in form a contiguous run of the
 * sorted sample: the median is O(1), the MAD O(log n) (a selection in two
 * sorted lists of deviations), mean and variance O(1) by removing one
 * value (recomputed from the run when removal cancels most of the
 * variance). Which value a step removes needs only the centre; scales and
 * ratios are computed only for the steps the score uses (from x's
 * removal on, and the last), so a score costs O(k) plus O(log n) per
 * scale: two scales for a value the test never reaches (the usual case),
 * up to k + 1 for an outlier; plus O(n) for the first mean (classic).
 *
 * Zero scales: a run whose values are all equal has every later R_i = 0
 * (ratio 0). A zero MAD over a run that is not constant (more than half
 * the values equal) falls back to the run's standard deviation, so
 * quantised data are not all outliers; any scale is floored at
 * 1e-9 * |centre| (and 1e-12) as in mw_detect_standard_score.
 *
 * Critical values depend only on the number of values remaining, m =
 * n - i + 1: they are computed once per m and kept in a table.
 */
#ifndef MW_DETECT_GESD_H
#define MW_DETECT_GESD_H

#include <stddef.h>

#include "detect/detect.h"

/* R's mad() constant, which Twitter's robust ESD uses: 1.4826 * MAD
 * estimates the standard deviation of normal data. */
#define MW_GESD_MAD_SCALE 1.4826

typedef struct mw_gesd {
    double alpha;
    size_t cap;              /* largest sample */
    double *critical;        /* critical[m], m <= cap: lambda for m values
                              * remaining, NaN until first needed (a memo
                              * of a pure function: not state) */
} mw_gesd;

/* Prepares the table for samples of up to cap >= 4 values. */
mw_status mw_gesd_init(mw_gesd *g, mw_detector *d, size_t cap, double alpha);
void mw_gesd_free(mw_gesd *g, mw_detector *d);

/* The critical value for a step with m values remaining, 3 <= m <= cap. */
double mw_gesd_critical(mw_gesd *g, size_t m);

/* The steps k of a test on n >= 4 values with at most max_anoms * n
 * outliers: floor(max_anoms * n), at least 1 and at most n - 3 (so that
 * the statistic after the last step still has a degree of freedom). */
size_t mw_gesd_steps(size_t n, double max_anoms);

/* The score of x (one of the n >= 4 values of the ascending `sorted`)
 * after `steps` steps (see above). robust: median and MAD, else mean and
 * standard deviation. */
double mw_gesd_score(mw_gesd *g, const double *sorted, size_t n, double x, size_t steps,
                     int robust);

/* Scores every value of x[0..count) at once against the sample (a batch
 * test): out[i] = mw_gesd_score(g, sorted, n, x[i], steps, robust), the
 * same numbers bit for bit, for x[i] one of the n >= 4 values of the
 * ascending `sorted` (any finite x[i] scores as a value the test never
 * reaches); a non-finite x[i] gives NaN. The removal order does not
 * depend on the value scored, so the steps run once, recording which
 * step removes each position and the suffix maxima of the ratios: O(n +
 * k log n) then O(log n) a value, where a score each would cost O(k)
 * (plus O(n) classic) a value. The critical values and the records are
 * scratch from alloc (not charged to any detector), freed before
 * returning. Returns MW_OK, or the allocator's error with out untouched. */
mw_status mw_gesd_score_batch(mw_alloc *alloc, double alpha, const double *sorted, size_t n,
                              size_t steps, int robust, const double *x, size_t count,
                              double *out);

/* ---- sorted arrays ---------------------------------------------------- */

/* The first i with a[i] >= x (n when there is none). */
size_t mw_gesd_lower_bound(const double *a, size_t n, double x);

/* Writes to dst the n ascending values of src without one value equal to
 * old (when remove; old must be there) and with x added, in order;
 * returns the count written (n + 1 - remove). dst must not overlap src. */
size_t mw_gesd_sorted_replace(const double *src, size_t n, int remove, double old, double x,
                              double *dst);

/* Sorts a[0..n) ascending (for rebuilding a sorted copy on load). */
void mw_gesd_sort(double *a, size_t n);

#endif /* MW_DETECT_GESD_H */
