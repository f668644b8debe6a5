/*
 * zblock.c: standard scores of a block, two values per instruction where
 * the target has SSE2 (see zblock.h for why and for the exactness rule).
 */
#include "detect/zblock.h"

#include <math.h>

#include "detect/detect.h"

#if defined(__SSE2__)
#include <emmintrin.h>

/* mask ? a : b, lane by lane. */
static inline __m128d zblock_select(__m128d mask, __m128d a, __m128d b)
{
    return _mm_or_pd(_mm_and_pd(mask, a), _mm_andnot_pd(mask, b));
}

/* Two scores at once: the scalar helpers' operations, in their order. */
static inline __m128d zblock_pair(__m128d x, __m128d centre, __m128d var, int side)
{
    const __m128d zero = _mm_setzero_pd();
    const __m128d sign = _mm_set1_pd(-0.0);
    const __m128d tiny = _mm_set1_pd(1e-12);
    /* floor_scale = 1e-9 * (centre < 0 ? -centre : centre) */
    __m128d magnitude = zblock_select(_mm_cmplt_pd(centre, zero), _mm_xor_pd(centre, sign),
                                      centre);
    __m128d floor_scale = _mm_mul_pd(_mm_set1_pd(1e-9), magnitude);
    floor_scale = zblock_select(_mm_cmplt_pd(floor_scale, tiny), tiny, floor_scale);
    __m128d scale = _mm_sqrt_pd(var);
    scale = zblock_select(_mm_cmpgt_pd(scale, floor_scale), scale, floor_scale);
    __m128d inv = _mm_div_pd(_mm_set1_pd(1.0), scale);
    __m128d z = _mm_mul_pd(_mm_sub_pd(x, centre), inv);
    __m128d negative = _mm_cmplt_pd(z, zero);
    __m128d minus_z = _mm_xor_pd(z, sign);
    if (side == MW_SIDE_UP)
        return _mm_and_pd(_mm_cmpgt_pd(z, zero), z);
    if (side == MW_SIDE_DOWN)
        return _mm_and_pd(negative, minus_z);
    return zblock_select(negative, minus_z, z);
}
#endif

void mw_zblock_scores(const double *x, const double *centre, const double *var,
                      const unsigned char *what, size_t n, int side, double *out)
{
    size_t i = 0;
#if defined(__SSE2__)
    for (; i + 2 <= n; i += 2) {
        __m128d z = zblock_pair(_mm_loadu_pd(x + i), _mm_loadu_pd(centre + i),
                                _mm_loadu_pd(var + i), side);
        _mm_storeu_pd(out + i, z);
    }
#endif
    for (; i < n; i++)
        out[i] = mw_detect_fold(x[i] - centre[i],
                                mw_detect_inv_scale(sqrt(var[i]), centre[i]), side);
    for (i = 0; i < n; i++)
        if (what[i] != MW_ZBLOCK_SCORE)
            out[i] = what[i] == MW_ZBLOCK_WARMUP ? 0.0 : NAN;
}
