/*
 * thresh_constant.c: a fixed threshold (mw.thresh.constant).
 *
 * Output: 1 if the input score is at least `threshold`, else 0. It has no
 * state beyond the count of values seen (kept by the framework), so save
 * writes nothing of its own, there is no warm-up, and update and score
 * give the same number.
 */
#include "detect/detect.h"

#include <float.h>
#include <math.h>

enum { P_THRESHOLD };

static const mw_param_spec constant_params[] = {
    /* 3: the three-sigma rule, for the scores of the z-score detectors. */
    {"threshold", MW_PARAM_FLOAT, 3.0, -DBL_MAX, DBL_MAX, 0, NULL,
     "scores at or above it give 1, the others 0"},
};

static inline double constant_decide(const mw_detector *d, double x)
{
    return x >= d->params[P_THRESHOLD] ? 1.0 : 0.0;
}

static double constant_update(mw_detector *d, double x, double t)
{
    (void)t;
    return constant_decide(d, x);
}

static double constant_score(const mw_detector *d, double x, double t)
{
    (void)t;
    return constant_decide(d, x);
}

static void constant_run(mw_detector *d, const double *x, const double *t, size_t n,
                         double *out)
{
    (void)t;
    for (size_t i = 0; i < n; i++)
        out[i] = x[i] - x[i] == 0.0 ? constant_decide(d, x[i]) : NAN;
}

const mw_detector_type mw_detect_thresh_constant_type = {
    .name = "thresh.constant",
    .role = MW_ROLE_THRESHOLD,
    .summary = "1 if the score is at least threshold, else 0",
    .params = constant_params,
    .n_params = sizeof constant_params / sizeof constant_params[0],
    .state_size = 0,
    .update = constant_update,
    .score = constant_score,
    .run = constant_run,
};
