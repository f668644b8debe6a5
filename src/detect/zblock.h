/*
 * zblock.h: standard scores of a block of values, two at a time.
 *
 * Scoring against a scale costs a square root and a division per value
 * (mw_detect_inv_scale), which on their own would cap a detector's run
 * near 80 M values/s. A kind's run can instead walk a block of values
 * twice: first learning them one by one, recording for each the centre
 * and variance it is scored against (cheap, sequential); then scoring the
 * whole block here, where the square roots and divisions of two values
 * go through the unit together (SSE2 on x86-64, scalar elsewhere).
 *
 * The numbers are bit for bit those of mw_detect_inv_scale and
 * mw_detect_fold on each value (the packed instructions round exactly as
 * the scalar ones, and the selects reproduce the scalar comparisons,
 * NaN included), so a run made of blocks still equals update in a loop.
 */
#ifndef MW_DETECT_ZBLOCK_H
#define MW_DETECT_ZBLOCK_H

#include <stddef.h>

/* Values per block: the recorded figures live on the stack. */
#define MW_ZBLOCK 256

/* What each value of a block gets, after the scores are computed. */
enum { MW_ZBLOCK_WARMUP = 0, MW_ZBLOCK_SCORE = 1, MW_ZBLOCK_SKIP = 2 };

/* out[i] = mw_detect_fold(x[i] - centre[i],
 *                         mw_detect_inv_scale(sqrt(var[i]), centre[i]), side)
 * when what[i] is MW_ZBLOCK_SCORE; 0 for MW_ZBLOCK_WARMUP; NaN for
 * MW_ZBLOCK_SKIP. n <= MW_ZBLOCK. */
void mw_zblock_scores(const double *x, const double *centre, const double *var,
                      const unsigned char *what, size_t n, int side, double *out);

#endif /* MW_DETECT_ZBLOCK_H */
