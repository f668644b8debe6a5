/*
 * thresh_rest.c: a rest period after an alarm (mw.thresh.rest).
 *
 * Output: the score itself when it is above every score learned in the
 * last `period` values, else 0. A burst of high scores therefore gives
 * one output at its start and then only the scores that keep rising, so
 * that a corpus-wide threshold counts one alarm per event instead of one
 * per row: NAB charges every row past a window, and CAD OSE and Numenta's
 * detectors both rest after they fire for the same reason. It needs no
 * threshold of its own, which keeps it independent of the one chosen
 * downstream. Until a first score is learned, every score passes.
 *
 * State: the last `period` scores in a ring (slot i % period holds the
 * i-th score learned, 0-based) and the position of their maximum (the
 * latest, among equal ones). The maximum is rescanned only when it leaves
 * the window, so the cost is O(1) amortised on most streams and O(period)
 * at worst per value.
 *
 * Invariants (checked on load): the ring holds min(count, period) finite
 * scores, and max_at is the position of their maximum; load recomputes
 * it from the ring rather than trusting a stored value.
 */
#include "detect/detect.h"

#include <math.h>

enum { P_PERIOD };

static const mw_param_spec rest_params[] = {
    /* 30 rows: CAD OSE's default rest, two and a half hours at 5 minutes. */
    {"period", MW_PARAM_INT, 30, 1, 1e7, 0, NULL,
     "scores after one during which a score must beat the window's maximum to pass"},
};

typedef struct rest_state {
    uint64_t period;
    uint64_t count;          /* scores learned */
    uint64_t max_at;         /* position (0-based) of the window's maximum */
    double max;              /* the window's maximum (count > 0) */
    double *ring;            /* period scores */
} rest_state;

static mw_status rest_init(mw_detector *d, char *err)
{
    (void)err;
    rest_state *s = d->state;
    s->period = (uint64_t)d->params[P_PERIOD];
    s->ring = mw_detector_alloc(d, (size_t)s->period * sizeof(double));
    return s->ring ? MW_OK : MW_ENOMEM;
}

static void rest_destroy(mw_detector *d)
{
    rest_state *s = d->state;
    mw_detector_dealloc(d, s->ring, (size_t)s->period * sizeof(double));
}

static void rest_reset(mw_detector *d)
{
    rest_state *s = d->state;
    s->count = 0;
    s->max_at = 0;
    s->max = 0.0;
}

/* The maximum of the window and its latest position, by a scan. */
static void rest_rescan(rest_state *s)
{
    uint64_t first = s->count > s->period ? s->count - s->period : 0;
    s->max_at = first;
    s->max = s->ring[first % s->period];
    for (uint64_t i = first + 1; i < s->count; i++) {
        double v = s->ring[i % s->period];
        if (v >= s->max) {
            s->max = v;
            s->max_at = i;
        }
    }
}

static inline double rest_decide(const rest_state *s, double x)
{
    return s->count == 0 || x > s->max ? x : 0.0;
}

static inline void rest_learn(rest_state *s, double x)
{
    s->ring[s->count % s->period] = x;
    s->count++;
    if (s->count == 1 || x >= s->max) {
        s->max = x;
        s->max_at = s->count - 1;
    } else if (s->count - s->max_at > s->period) {
        rest_rescan(s);
    }
}

static inline double rest_step(rest_state *s, double x)
{
    double out = rest_decide(s, x);
    rest_learn(s, x);
    return out;
}

static double rest_update(mw_detector *d, double x, double t)
{
    (void)t;
    return rest_step(d->state, x);
}

static double rest_score(const mw_detector *d, double x, double t)
{
    (void)t;
    return rest_decide(d->state, x);
}

static void rest_run(mw_detector *d, const double *x, const double *t, size_t n, double *out)
{
    (void)t;
    rest_state *s = d->state;
    for (size_t i = 0; i < n; i++)
        out[i] = x[i] - x[i] == 0.0 ? rest_step(s, x[i]) : NAN;
}

/* The window's scores, oldest first. */
static void rest_save(const mw_detector *d, mw_blob_writer *w)
{
    const rest_state *s = d->state;
    uint64_t first = s->count > s->period ? s->count - s->period : 0;
    mw_blob_put_u64(w, s->count);
    for (uint64_t i = first; i < s->count; i++)
        mw_blob_put_f64(w, s->ring[i % s->period]);
}

static int rest_load(mw_detector *d, mw_blob_reader *r)
{
    rest_state *s = d->state;
    s->count = mw_blob_get_count(r, UINT64_MAX, "count");
    if (r->failed)
        return 1;
    uint64_t first = s->count > s->period ? s->count - s->period : 0;
    for (uint64_t i = first; i < s->count && !r->failed; i++)
        s->ring[i % s->period] = mw_blob_get_finite(r, "score");
    if (!r->failed && s->count > 0)
        rest_rescan(s);
    return r->failed;
}

const mw_detector_type mw_detect_thresh_rest_type = {
    .name = "thresh.rest",
    .role = MW_ROLE_THRESHOLD,
    .summary = "the score if above every score of the last period values, else 0",
    .params = rest_params,
    .n_params = sizeof rest_params / sizeof rest_params[0],
    .state_size = sizeof(rest_state),
    .init = rest_init,
    .destroy = rest_destroy,
    .reset = rest_reset,
    .update = rest_update,
    .score = rest_score,
    .run = rest_run,
    .save = rest_save,
    .load = rest_load,
};
