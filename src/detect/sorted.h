/*
 * sorted.h: a sliding window of the last `cap` values kept twice, in
 * arrival order (a ring, to know which value leaves next) and in
 * ascending order (to read order statistics in O(1)), for the robust
 * detectors (mad.c, quantile.c, iqr.c). Plain memory from the detector's
 * allocator, not a heap object.
 *
 * A push finds the leaving value and the new value's place by binary
 * search and shifts the values between the two places by one with a
 * single memmove: O(log w + distance moved), at most w doubles, a tiny
 * constant (for fresh values a window of 1e4 moves ~27 KB on average;
 * measured, a whole detector update then takes ~0.35 us, ~0.14 us at
 * 1e3). Fine for windows up to ~1e5; beyond that a tree would pay.
 *
 * Invariants:
 * - sorted[0 .. count) is the ascending rearrangement of the ring's count
 *   values, bit for bit: values are stored with -0 turned into +0, so two
 *   equal values are the same bits, and whichever copy of a repeated value
 *   a push removes leaves the same array. Sorting the ring on load thus
 *   rebuilds exactly the array the saver had.
 * - Only finite values enter (the detector layer skips others).
 * - Quantiles interpolate as numpy's default ('linear') and as
 *   mw_stats_quantile, with the same formula (mw_stats_interpolate), so
 *   they agree with it to the bit; the MAD agrees with mw_stats_mad.
 */
#ifndef MW_DETECT_SORTED_H
#define MW_DETECT_SORTED_H

#include <stddef.h>

#include "detect/detect.h"

typedef struct mw_sorted {
    double *ring;            /* cap values in arrival order, owned */
    double *sorted;          /* the same count values ascending, owned */
    size_t cap;
    size_t count;            /* values in the window (<= cap) */
    size_t head;             /* ring slot of the next value (the oldest when full) */
} mw_sorted;

/* Allocates a window of cap >= 1 values for d (charged to it). On failure
 * returns the status and holds nothing. */
mw_status mw_sorted_init(mw_sorted *s, mw_detector *d, size_t cap);
void mw_sorted_free(mw_sorted *s, mw_detector *d);
/* Empties the window, keeping its memory. */
void mw_sorted_clear(mw_sorted *s);

/* Pushes finite x; the oldest value leaves a full window. */
void mw_sorted_push(mw_sorted *s, double x);

static inline size_t mw_sorted_count(const mw_sorted *s)
{
    return s->count;
}

/* The q-quantile (q in [0, 1]) with linear interpolation between the
 * order statistics around q * (count - 1); NaN for an empty window. */
double mw_sorted_quantile(const mw_sorted *s, double q);

/* The 0.5-quantile (the mean of the two middle values for an even count,
 * by numpy's interpolation formula). */
static inline double mw_sorted_median(const mw_sorted *s)
{
    return mw_sorted_quantile(s, 0.5);
}

/* The median of |x - centre| over the window, in O(log count): the
 * distances of the values below centre, read right to left, and of the
 * others, read left to right, are two ascending sequences, and the two
 * middle order statistics of their union are found by binary search.
 * NaN for an empty window. */
double mw_sorted_median_abs_dev(const mw_sorted *s, double centre);

/* The MAD: the median of |x - median|, unscaled (scipy's
 * median_abs_deviation with scale=1). */
static inline double mw_sorted_mad(const mw_sorted *s)
{
    return mw_sorted_median_abs_dev(s, mw_sorted_median(s));
}

/* The mean of |x - centre| over the window, in O(count); NaN when empty. */
double mw_sorted_mean_abs_dev(const mw_sorted *s, double centre);

/* The score of x against the fences [low, high] for the fence detectors
 * (quantile.c, iqr.c): 0 inside, else the distance beyond the fence it
 * crossed divided by spread, counted only on the sides `side` allows
 * (MW_SIDE_*). A zero spread is floored as in mw_detect_standard_score
 * (relative to the crossed fence), so the score stays finite. */
static inline double mw_sorted_fence_score(double x, double low, double high, double spread,
                                           int side)
{
    if (x > high && side != MW_SIDE_DOWN)
        return mw_detect_standard_score(x - high, spread, high, MW_SIDE_UP);
    if (x < low && side != MW_SIDE_UP)
        return mw_detect_standard_score(x - low, spread, low, MW_SIDE_DOWN);
    return 0.0;
}

/* Writes the values, oldest first. */
void mw_sorted_save(const mw_sorted *s, mw_blob_writer *w);
/* Reads what save wrote into a window initialised with the same cap:
 * checks the count against cap and every value for finiteness, then
 * rebuilds the sorted array. Returns non-zero (r failed, window empty) on
 * bad data. */
int mw_sorted_load(mw_sorted *s, mw_blob_reader *r);

#endif /* MW_DETECT_SORTED_H */
