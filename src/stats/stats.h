/*
 * stats.h: numerical kernels on plain arrays of doubles, the batch path of
 * series, frames and detectors.
 *
 * No Lua, no heap, no allocation unless a function says so (scratch space
 * is passed in by the caller). Every function is a C loop over its input,
 * so a script never needs a per-sample Lua loop for batch work.
 *
 * NaN policy (documented per function; the same as pandas' defaults):
 *   - reductions skip NaN ("skipna"): count counts the non-NaN values, sum
 *     of no values is 0, the others return NaN when there is no value;
 *   - element-wise functions propagate NaN (NaN in, NaN out);
 *   - rolling functions use the non-NaN values of each window and give
 *     NaN where the window holds fewer than min_periods of them;
 *   - ewm functions skip NaN inputs (the state carries over; the output
 *     at a NaN input is the current estimate, NaN before the first value).
 *
 * Variance: `ddof` is the delta degrees of freedom (0: population, 1:
 * sample, as numpy's ddof and pandas' default 1).
 * Quantiles: linear interpolation between the closest ranks, numpy's
 * default method ("linear"): position q * (count - 1) in sorted order.
 */
#ifndef MW_STATS_H
#define MW_STATS_H

#include <stddef.h>

/* ---- reductions (skip NaN) --------------------------------------------- */

size_t mw_stats_count(const double *x, size_t n);
double mw_stats_sum(const double *x, size_t n);            /* 0 when empty */
double mw_stats_mean(const double *x, size_t n);           /* NaN when empty */
double mw_stats_var(const double *x, size_t n, size_t ddof); /* NaN if count <= ddof */
double mw_stats_std(const double *x, size_t n, size_t ddof);
double mw_stats_min(const double *x, size_t n);            /* NaN when empty */
double mw_stats_max(const double *x, size_t n);
/* Index of the first minimum / maximum non-NaN value; SIZE_MAX when there
 * is none. */
size_t mw_stats_argmin(const double *x, size_t n);
size_t mw_stats_argmax(const double *x, size_t n);
/* q in [0, 1] (callers check). scratch holds at least n doubles and is
 * overwritten; it may be x itself when the caller no longer needs x in
 * order (the values are then permuted and NaN dropped). NaN when there is
 * no value. Expected O(n) (selection), O(n log n) at worst. */
double mw_stats_quantile(const double *x, size_t n, double q, double *scratch);
double mw_stats_median(const double *x, size_t n, double *scratch);
/* Median absolute deviation from the median, unscaled (scipy's
 * median_abs_deviation with scale=1). scratch: at least n doubles (may be
 * x, as for quantile). */
double mw_stats_mad(const double *x, size_t n, double *scratch);
/* The value at fraction t in [0, 1] of the way from below to above, as
 * numpy's linear quantile interpolates between neighbouring order
 * statistics (exact at both ends, monotone in t). Shared by the quantile
 * reductions and the rolling quantile so the two agree to the bit. */
double mw_stats_interpolate(double below, double above, double t);

/* ---- element-wise and cumulative (propagate NaN) ----------------------- */

/* abs, log, diff, cumsum and fillna: out may alias x (in place). */
void mw_stats_abs(const double *x, size_t n, double *out);
void mw_stats_log(const double *x, size_t n, double *out);
/* out[i] = x[i] - x[i - lag] for i >= lag, NaN for i < lag. */
void mw_stats_diff(const double *x, size_t n, size_t lag, double *out);
/* Running sum skipping NaN (out[i] is NaN where x[i] is NaN, as pandas). */
void mw_stats_cumsum(const double *x, size_t n, double *out);
/* out[i] = x[i - k] (k > 0 shifts later, k < 0 earlier), fill elsewhere.
 * out must not alias x. */
void mw_stats_shift(const double *x, size_t n, long k, double fill, double *out);
/* NaN replaced by value. */
void mw_stats_fillna(const double *x, size_t n, double value, double *out);

/* ---- rolling windows --------------------------------------------------- */

/* out[i] summarises x[i - window + 1 .. i] (fewer at the start); NaN where
 * the window holds fewer than min_periods non-NaN values (min_periods >= 1;
 * pandas' default is min_periods = window; 0 is accepted and gives the
 * statistic of no values where a window is empty: 0 for sum, NaN for the
 * others). out must not alias x. A window of 0 holds nothing.
 * sum/mean: O(n), compensated (Kahan-style, TwoSum) running sums, with
 * infinities counted apart; var/std: O(n), Welford updates with removal,
 * recomputed from the window every `window` steps and when an outlier
 * leaves, so the result matches a two-pass variance to ~1e-11 relative
 * (even at 1e9 + noise), and is exactly 0 on a constant window;
 * min/max: O(n), monotonic deque; median/quantile: O(n log window), NaN
 * never enters the heaps; interpolation as mw_stats_quantile.
 * Functions taking `work` need scratch memory (aligned as malloc's) of the
 * size in bytes reported by the matching *_work_size(window); a window
 * longer than the data behaves as one of length n, so
 * *_work_size(min(window, n)) is enough. *_work_size returns SIZE_MAX when
 * the size does not fit in a size_t. */
void mw_stats_rolling_sum(const double *x, size_t n, size_t window, size_t min_periods, double *out);
void mw_stats_rolling_mean(const double *x, size_t n, size_t window, size_t min_periods, double *out);
void mw_stats_rolling_var(const double *x, size_t n, size_t window, size_t min_periods, size_t ddof, double *out);
void mw_stats_rolling_std(const double *x, size_t n, size_t window, size_t min_periods, size_t ddof, double *out);
size_t mw_stats_rolling_minmax_work_size(size_t window);
void mw_stats_rolling_min(const double *x, size_t n, size_t window, size_t min_periods, void *work, double *out);
void mw_stats_rolling_max(const double *x, size_t n, size_t window, size_t min_periods, void *work, double *out);
size_t mw_stats_rolling_quantile_work_size(size_t window);
void mw_stats_rolling_quantile(const double *x, size_t n, size_t window, size_t min_periods, double q, void *work, double *out);
void mw_stats_rolling_median(const double *x, size_t n, size_t window, size_t min_periods, void *work, double *out);

/* ---- exponentially weighted -------------------------------------------- */

/* alpha in (0, 1] (callers check). out may alias x. Recursive form
 * (pandas' adjust=False, NaN skipped as with ignore_na=True):
 *   mean_t = mean_{t-1} + alpha * (x_t - mean_{t-1}), mean_0 = x_0;
 *   var_t  = (1 - alpha) * (var_{t-1} + alpha * (x_t - mean_{t-1})^2),
 *            var_0 = 0 (West 1979 / Finch 2009, "bias=True");
 * std = sqrt(var). */
void mw_stats_ewm_mean(const double *x, size_t n, double alpha, double *out);
void mw_stats_ewm_std(const double *x, size_t n, double alpha, double *out);

#endif /* MW_STATS_H */
