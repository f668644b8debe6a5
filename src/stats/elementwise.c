/*
 * elementwise.c: element-wise and cumulative transforms of an array of
 * doubles into another of the same length (abs, log, diff, cumsum, shift,
 * fillna).
 *
 * NaN in, NaN out (fillna excepted, which exists to remove it). Every
 * function but shift writes each out[i] after its last read of the input
 * it depends on, so out may be x itself; shift moves with memmove, so it
 * is safe in place too although the header does not promise it.
 *
 * Never allocates; writes exactly out[0..n).
 */
#include "stats/stats.h"

#include <math.h>
#include <string.h>

void mw_stats_abs(const double *x, size_t n, double *out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = fabs(x[i]);
}

/* C's log already has the numpy semantics: log(0) = -inf, log of a
 * negative number NaN, NaN propagates. */
void mw_stats_log(const double *x, size_t n, double *out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = log(x[i]);
}

void mw_stats_diff(const double *x, size_t n, size_t lag, double *out)
{
    size_t head = lag < n ? lag : n;
    /* Backwards, so that in place out[i] is written only after every
     * i + lag that reads x[i] has been computed. */
    for (size_t i = n; i-- > head;)
        out[i] = x[i] - x[i - lag];
    for (size_t i = 0; i < head; i++)
        out[i] = NAN;
}

/* Compensated (Neumaier) running sum: a long cumsum drifts no more than a
 * pairwise sum does, and each step stays O(1). */
void mw_stats_cumsum(const double *x, size_t n, double *out)
{
    double sum = 0.0, compensation = 0.0;
    for (size_t i = 0; i < n; i++) {
        double v = x[i];
        if (v != v) {
            out[i] = v;
            continue;
        }
        double t = sum + v;
        if (fabs(sum) >= fabs(v))
            compensation += (sum - t) + v;
        else
            compensation += (v - t) + sum;
        sum = t;
        /* An infinite sum makes the compensation NaN (inf - inf); the
         * sum is the answer then. */
        out[i] = isfinite(sum) ? sum + compensation : sum;
    }
}

void mw_stats_shift(const double *x, size_t n, long k, double fill, double *out)
{
    /* |k| computed in unsigned arithmetic, so LONG_MIN does not overflow. */
    size_t distance = k >= 0 ? (size_t)k : (size_t)(-(k + 1)) + 1;
    if (distance >= n) {
        for (size_t i = 0; i < n; i++)
            out[i] = fill;
        return;
    }
    size_t kept = n - distance;
    if (k >= 0) {
        memmove(out + distance, x, kept * sizeof *x);
        for (size_t i = 0; i < distance; i++)
            out[i] = fill;
    } else {
        memmove(out, x + distance, kept * sizeof *x);
        for (size_t i = kept; i < n; i++)
            out[i] = fill;
    }
}

void mw_stats_fillna(const double *x, size_t n, double value, double *out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = x[i] != x[i] ? value : x[i];
}
