/*
 * thresh_quantile.c: a threshold at a running quantile of the scores
 * (mw.thresh.quantile), estimated with the P-square algorithm.
 *
 * Output: 1 if the score is above the current estimate of the q-quantile
 * of the scores learned before it, else 0; 0 until min_periods scores are
 * learned. Over a long stream about a fraction 1 - q of the outputs are 1.
 *
 * P-square (Jain and Chlamtac, "The P-Square Algorithm for Dynamic
 * Calculation of Percentiles and Histograms without Storing
 * Observations", CACM 28(10), 1985) keeps five markers: the minimum, the
 * q/2-, q- and (1+q)/2-quantiles and the maximum. Each marker has a height
 * (its value) and a position (the rank it stands at, 1-based). A new
 * value moves the positions of the markers above it; a middle marker
 * that is one or more ranks away from where it should be (its desired
 * position, 1 + (n - 1) * its fraction) moves one rank toward it, its
 * height predicted by the parabola through it and its neighbours, or by
 * the line to the neighbour on that side when the parabola would leave
 * the interval between them. Memory is constant: no score is stored.
 *
 * One change from the paper: the desired positions are computed from the
 * count each time instead of being accumulated by increments, which
 * drifts by rounding over long streams (Akinshin, "P2 quantile estimator
 * rounding issue", 2021). The first five values are the markers' heights,
 * sorted, at positions 1 to 5.
 *
 * Invariants (checked on load): with n >= 5 values learned, the heights
 * are finite and non-decreasing, the positions are integers, strictly
 * increasing, the first 1 and the last n.
 */
#include "detect/detect.h"

#include <math.h>
#include <stdio.h>

enum { P_Q, P_MIN_PERIODS };

#define PSQ_MARKERS 5

static const mw_param_spec quantile_params[] = {
    {"q", MW_PARAM_FLOAT, 0.99, 0, 1, 1, NULL,
     "the quantile of the past scores that a score must exceed, in (0, 1)"},
    /* P-square needs 5 values; 100 leaves the markers time to spread. */
    {"min_periods", MW_PARAM_INT, 100, PSQ_MARKERS, 1e9, 0, NULL,
     "scores to learn before deciding (0 until then; at least 5)"},
};

typedef struct quantile_state {
    double fraction[PSQ_MARKERS]; /* of each marker: 0, q/2, q, (1+q)/2, 1 */
    uint64_t min_periods;
    uint64_t count;               /* scores learned */
    double height[PSQ_MARKERS];   /* the first scores, until there are 5 */
    double pos[PSQ_MARKERS];      /* 1-based ranks (exact integers) */
} quantile_state;

static mw_status quantile_init(mw_detector *d, char *err)
{
    quantile_state *s = d->state;
    double q = d->params[P_Q];
    if (q >= 1.0) {
        snprintf(err, MW_DETECT_ERRLEN, "q must be below 1 (got %.17g)", q);
        return MW_EINVAL;
    }
    s->fraction[0] = 0.0;
    s->fraction[1] = q / 2.0;
    s->fraction[2] = q;
    s->fraction[3] = (1.0 + q) / 2.0;
    s->fraction[4] = 1.0;
    s->min_periods = (uint64_t)d->params[P_MIN_PERIODS];
    return MW_OK;
}

static void quantile_reset(mw_detector *d)
{
    quantile_state *s = d->state;
    s->count = 0;
    for (int i = 0; i < PSQ_MARKERS; i++) {
        s->height[i] = 0.0;
        s->pos[i] = 0.0;
    }
}

static inline double quantile_decide(const quantile_state *s, double x)
{
    if (s->count < s->min_periods)
        return 0.0;
    return x > s->height[2] ? 1.0 : 0.0;
}

/* The height of marker i moved by dir (+1 or -1) ranks along the line to
 * its neighbour on that side. Written as a convex combination when the
 * difference of heights overflows, so it stays between the two. */
static double psq_linear(const quantile_state *s, int i, int dir)
{
    double h = s->height[i], other = s->height[i + dir];
    double t = (double)dir / (s->pos[i + dir] - s->pos[i]);
    double moved = h + t * (other - h);
    if (!isfinite(moved))
        moved = (1.0 - t) * h + t * other;
    return moved;
}

/* The height of marker i moved by dir ranks along the parabola through
 * it and its two neighbours (the paper's piecewise-parabolic formula). */
static double psq_parabolic(const quantile_state *s, int i, int dir)
{
    const double *h = s->height, *n = s->pos;
    double d = dir;
    return h[i] + d / (n[i + 1] - n[i - 1]) *
                      ((n[i] - n[i - 1] + d) * (h[i + 1] - h[i]) / (n[i + 1] - n[i]) +
                       (n[i + 1] - n[i] - d) * (h[i] - h[i - 1]) / (n[i] - n[i - 1]));
}

static inline void quantile_sort5(double *v)
{
    for (int i = 1; i < PSQ_MARKERS; i++)
        for (int k = i; k > 0 && v[k] < v[k - 1]; k--) {
            double tmp = v[k];
            v[k] = v[k - 1];
            v[k - 1] = tmp;
        }
}

static inline void quantile_learn(quantile_state *s, double x)
{
    if (s->count < PSQ_MARKERS) {
        s->height[s->count++] = x;
        if (s->count == PSQ_MARKERS) {
            quantile_sort5(s->height);
            for (int i = 0; i < PSQ_MARKERS; i++)
                s->pos[i] = i + 1;
        }
        return;
    }
    double *h = s->height;
    int cell;                /* x falls in [h[cell], h[cell + 1]) */
    if (x < h[0]) {
        h[0] = x;
        cell = 0;
    } else if (x < h[1]) {
        cell = 0;
    } else if (x < h[2]) {
        cell = 1;
    } else if (x < h[3]) {
        cell = 2;
    } else {
        if (x > h[4])
            h[4] = x;
        cell = 3;
    }
    for (int i = cell + 1; i < PSQ_MARKERS; i++)
        s->pos[i] += 1.0;
    s->count++;
    double last = (double)(s->count - 1);
    for (int i = 1; i < PSQ_MARKERS - 1; i++) {
        double off = 1.0 + last * s->fraction[i] - s->pos[i];
        if ((off >= 1.0 && s->pos[i + 1] - s->pos[i] > 1.0) ||
            (off <= -1.0 && s->pos[i - 1] - s->pos[i] < -1.0)) {
            int dir = off > 0.0 ? 1 : -1;
            double moved = psq_parabolic(s, i, dir);
            if (!(h[i - 1] < moved && moved < h[i + 1]))
                moved = psq_linear(s, i, dir);
            h[i] = moved;
            s->pos[i] += dir;
        }
    }
}

static inline double quantile_step(quantile_state *s, double x)
{
    double out = quantile_decide(s, x);
    quantile_learn(s, x);
    return out;
}

static double quantile_update(mw_detector *d, double x, double t)
{
    (void)t;
    return quantile_step(d->state, x);
}

static double quantile_score(const mw_detector *d, double x, double t)
{
    (void)t;
    return quantile_decide(d->state, x);
}

static void quantile_run(mw_detector *d, const double *x, const double *t, size_t n,
                         double *out)
{
    (void)t;
    quantile_state *s = d->state;
    for (size_t i = 0; i < n; i++)
        out[i] = x[i] - x[i] == 0.0 ? quantile_step(s, x[i]) : NAN;
}

static void quantile_save(const mw_detector *d, mw_blob_writer *w)
{
    const quantile_state *s = d->state;
    mw_blob_put_u64(w, s->count);
    mw_blob_put_f64s(w, s->height, PSQ_MARKERS);
    mw_blob_put_f64s(w, s->pos, PSQ_MARKERS);
}

static int quantile_load(mw_detector *d, mw_blob_reader *r)
{
    quantile_state *s = d->state;
    /* Positions are doubles: exact integers up to 2^53. */
    s->count = mw_blob_get_count(r, (uint64_t)1 << 53, "count");
    for (int i = 0; i < PSQ_MARKERS; i++)
        s->height[i] = mw_blob_get_finite(r, "marker height");
    for (int i = 0; i < PSQ_MARKERS; i++)
        s->pos[i] = mw_blob_get_finite(r, "marker position");
    if (r->failed || s->count < PSQ_MARKERS)
        return r->failed;
    if (s->pos[0] != 1.0 || s->pos[PSQ_MARKERS - 1] != (double)s->count)
        mw_blob_fail(r, "marker positions do not match the count");
    for (int i = 1; i < PSQ_MARKERS && !r->failed; i++) {
        if (!(s->pos[i] > s->pos[i - 1]) || s->pos[i] != floor(s->pos[i]))
            mw_blob_fail(r, "marker positions out of order");
        else if (!(s->height[i] >= s->height[i - 1]))
            mw_blob_fail(r, "marker heights out of order");
    }
    return r->failed;
}

const mw_detector_type mw_detect_thresh_quantile_type = {
    .name = "thresh.quantile",
    .role = MW_ROLE_THRESHOLD,
    .summary = "1 if the score is above the running q-quantile of past scores (P-square)",
    .params = quantile_params,
    .n_params = sizeof quantile_params / sizeof quantile_params[0],
    .state_size = sizeof(quantile_state),
    .init = quantile_init,
    .reset = quantile_reset,
    .update = quantile_update,
    .score = quantile_score,
    .run = quantile_run,
    .save = quantile_save,
    .load = quantile_load,
};
