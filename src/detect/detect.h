/*
 * detect.h: detectors, one vtable for all.
 *
 * A detector turns a stream of values into a stream of scores, higher
 * meaning more anomalous. Each kind is one file (zscore.c, ewma.c, ...)
 * that fills an mw_detector_type: its parameters (with defaults and
 * ranges), how to learn a value and score it, and how to write and read
 * its state. Everything else lives here, once: parameter checking,
 * skipping of non-finite input, the batch loop, the versioned state
 * format, and the registry of kinds.
 *
 * Thresholders and calibrators (thresh_*.c) are detectors too: their
 * input is a score and their output a [0, 1] value or a 0/1 decision, so
 * they share the protocol and can be chained (chain.c).
 *
 * Invariants:
 * - A detector never sees a non-finite input: mw_detector_update and
 *   mw_detector_score return NaN for one and leave the state as it was,
 *   so a NaN cannot poison later scores.
 * - mw_detector_run gives exactly the numbers of mw_detector_update
 *   called in a loop (a kind's own run must do the same arithmetic in
 *   the same order).
 * - After load(save(d)), the copy continues exactly as d would.
 * - All memory comes from the detector's mw_alloc (domain NATIVE); the
 *   module never touches Lua and holds no global mutable state.
 */
#ifndef MW_DETECT_H
#define MW_DETECT_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "core/alloc.h"
#include "detect/blob.h"

#define MW_DETECT_MAX_PARAMS 16
#define MW_DETECT_ERRLEN 256
#define MW_DETECT_MAX_DIMS 4096  /* values in a row of a multivariate kind */

typedef enum mw_param_kind {
    MW_PARAM_INT,            /* an integer in [min, max] */
    MW_PARAM_FLOAT,          /* a finite number in [min, max] */
    MW_PARAM_BOOL,           /* 0 or 1 */
    MW_PARAM_CHOICE          /* an index into `choices`, given as a name */
} mw_param_kind;

typedef struct mw_param_spec {
    const char *name;
    mw_param_kind kind;
    double def;              /* default value (a choice's index) */
    double min, max;         /* inclusive bounds (INT and FLOAT) */
    int min_open;            /* non-zero: min itself is not allowed */
    const char *const *choices; /* NULL-terminated names (CHOICE) */
    const char *doc;         /* one line for errors and docs */
} mw_param_spec;

typedef enum mw_detector_role {
    MW_ROLE_DETECTOR,        /* mw.detect.<name> */
    MW_ROLE_THRESHOLD        /* mw.thresh.<name> */
} mw_detector_role;

typedef struct mw_detector mw_detector;

typedef struct mw_detector_type {
    const char *name;
    mw_detector_role role;
    const char *summary;     /* what the score means, one line */
    const mw_param_spec *params;
    size_t n_params;
    size_t state_size;       /* bytes of d->state, zeroed before init */
    /* Allocates what the parameters call for (may be NULL). On failure
     * returns the status and sets err; destroy is not called then, so
     * init frees what it took. */
    mw_status (*init)(mw_detector *d, char *err);
    /* Frees what init allocated (may be NULL). */
    void (*destroy)(mw_detector *d);
    /* Back to the state init left, keeping the allocations. */
    void (*reset)(mw_detector *d);
    /* Learns finite x (t: timestamp in ms, NaN if none) and returns its
     * score, computed before learning it. */
    double (*update)(mw_detector *d, double x, double t);
    /* The score update would return, without learning. */
    double (*score)(const mw_detector *d, double x, double t);
    /* Optional batch path: out[i] = update(x[i], t ? t[i] : NaN), the
     * same numbers, for finite x[i]; non-finite x[i] give NaN and are
     * skipped. NULL: the generic loop over update. */
    void (*run)(mw_detector *d, const double *x, const double *t, size_t n,
                double *out);
    /* Writes the learned state (not the parameters) to w. */
    void (*save)(const mw_detector *d, mw_blob_writer *w);
    /* Reads what save wrote into a detector fresh from init; on failure
     * sets r's error (mw_blob_fail) and returns non-zero. */
    int (*load)(mw_detector *d, mw_blob_reader *r);
    /* Optional batch test: scores every value of x[0..n) against the
     * whole sample at once (not the streaming scores of run), with the
     * detector's parameters; the learned state is neither read nor
     * changed. Non-finite values get NaN and are left out of the sample.
     * Scratch memory comes from d->alloc (mw_detector_scratch) and is
     * freed before returning. Returns MW_OK, or an error status (with a
     * message in err for MW_EINVAL) and out untouched. NULL: the kind
     * has none. */
    mw_status (*test)(const mw_detector *d, const double *x, size_t n, double *out,
                      char *err);
    /* Children of a composite detector (chain), else NULL. */
    size_t (*children)(const mw_detector *d, mw_detector *const **out);

    /* ---- multivariate kinds: rows of d->dims values --------------- */
    /* A kind that scores rows sets update_row (and set_dims, score_row);
     * its update/score/run may be mw_detect_row_update and friends, which
     * take a single value as a row of one. Rows reach it finite only (a
     * row with a NaN or an infinity scores NaN and changes nothing) and
     * always of d->dims values. */
    /* Fixes the row width (d->dims is set by the caller) and allocates
     * what it calls for; called once, before the first row is learned,
     * fitted or loaded. On failure returns the status and sets err; the
     * detector stays usable and the call may be retried. */
    mw_status (*set_dims)(mw_detector *d, char *err);
    /* Learns row (d->dims values) and returns its score, computed before
     * learning it. */
    double (*update_row)(mw_detector *d, const double *row, double t);
    /* The score update_row would return, without learning. */
    double (*score_row)(const mw_detector *d, const double *row, double t);
    /* Optional: out[i] = update_row(rows + i * dims, t ? t[i] : NaN) for
     * n finite rows (row-major), the same numbers. */
    void (*run_rows)(mw_detector *d, const double *rows, const double *t, size_t n,
                     double *out);
    /* Optional batch training on n finite rows (row-major): replaces what
     * was learned. Scratch memory as for test. Returns MW_OK, or the
     * status with err set and the detector as before. */
    mw_status (*fit)(mw_detector *d, const double *rows, size_t n, char *err);
    /* Optional batch test of rows, as test is for values: out[i] scores
     * row i of n finite rows against the other n - 1 (the sample's own
     * outlier scores, as scikit-learn's negative_outlier_factor_), with
     * the detector's parameters; the learned state is neither read nor
     * changed. Scratch and errors as for test. */
    mw_status (*test_rows)(const mw_detector *d, const double *rows, size_t n, double *out,
                           char *err);
} mw_detector_type;

struct mw_detector {
    const mw_detector_type *type;
    mw_alloc *alloc;
    double params[MW_DETECT_MAX_PARAMS]; /* in the order of type->params */
    uint64_t n_learned;      /* finite values (rows) learned since init/reset */
    size_t dims;             /* multivariate kinds: the row width, 0 until
                              * the first row fixes it */
    size_t bytes;            /* bytes allocated for the detector, all told */
    void *state;             /* type->state_size bytes, after the struct */
};

/* ---- helpers for kinds -------------------------------------------- */

/* The `side` parameter of Gaussian-style kinds: which deviations count. */
enum { MW_SIDE_BOTH, MW_SIDE_UP, MW_SIDE_DOWN };
extern const char *const mw_detect_side_choices[];

/* The reciprocal of a scale (a standard deviation, a MAD ...), floored:
 * a zero scale (a constant history) counts as a tiny fraction of the
 * centre's magnitude, so that a value equal to the centre scores 0 and
 * any other a large but finite score, never inf or NaN. Kinds compute it
 * when they learn, so that scoring the next value is a multiplication. */
static inline double mw_detect_inv_scale(double scale, double centre)
{
    double floor_scale = 1e-9 * (centre < 0 ? -centre : centre);
    if (floor_scale < 1e-12)
        floor_scale = 1e-12;
    if (!(scale > floor_scale))
        scale = floor_scale;
    return 1.0 / scale;
}

/* dev * inv_scale folded by side: |z|, max(z, 0) or max(-z, 0). */
static inline double mw_detect_fold(double dev, double inv_scale, int side)
{
    double z = dev * inv_scale;
    if (side == MW_SIDE_UP)
        return z > 0.0 ? z : 0.0;
    if (side == MW_SIDE_DOWN)
        return z < 0.0 ? -z : 0.0;
    return z < 0.0 ? -z : z;
}

/* The score of a deviation dev (x minus a centre) against a scale, by the
 * two helpers above. */
static inline double mw_detect_standard_score(double dev, double scale, double centre,
                                              int side)
{
    return mw_detect_fold(dev, mw_detect_inv_scale(scale, centre), side);
}

/* ---- the registry -------------------------------------------------- */

/* The kinds, in a fixed order; *n receives their number. */
const mw_detector_type *const *mw_detect_types(size_t *n);

/* The kind called name with the given role, or NULL. */
const mw_detector_type *mw_detect_find(const char *name);

/* ---- parameters ---------------------------------------------------- */

/* Index of the parameter called name in type, or -1. */
int mw_detect_param_index(const mw_detector_type *type, const char *name);

/* Fills values[] with the type's defaults. */
void mw_detect_param_defaults(const mw_detector_type *type, double *values);

/* Checks number (or, for a CHOICE, text) as parameter i of type and stores
 * it in values[i]. Returns MW_OK, or MW_EINVAL with a message in err such
 * as "window must be an integer in [2, 1e9] (got 1.5)". text may be NULL
 * for a number; number is ignored when text is given. */
mw_status mw_detect_param_set(const mw_detector_type *type, double *values, int i,
                              double number, const char *text, char *err);

/* Writes "valid parameters: a, b, c" for type into err. */
void mw_detect_param_list(const mw_detector_type *type, char *err);

/* The name of choice value v of parameter spec p. */
const char *mw_detect_choice_name(const mw_param_spec *p, double v);

/* ---- detectors ----------------------------------------------------- */

/* Creates a detector of the kind with the parameters values (checked with
 * mw_detect_param_set). Returns a detector the caller owns (free it with
 * mw_detector_free) or NULL with *status and err set. */
mw_detector *mw_detector_new(mw_alloc *alloc, const mw_detector_type *type,
                             const double *values, mw_status *status, char *err);

/* Frees d and everything it holds (d may be NULL). */
void mw_detector_free(mw_detector *d);

/* Allocation helpers for kinds: charged to the detector (d->bytes). */
void *mw_detector_alloc(mw_detector *d, size_t size);
void mw_detector_dealloc(mw_detector *d, void *p, size_t size);

/* Scratch for a batch test: from d's allocator, not charged to d->bytes
 * (the detector does not keep it, and a test must not change d). NULL
 * when the allocator refuses: mw_detector_scratch_status says why. */
void *mw_detector_scratch(const mw_detector *d, size_t size);
void mw_detector_scratch_free(const mw_detector *d, void *p, size_t size);
mw_status mw_detector_scratch_status(const mw_detector *d);

/* Learns x (skipped if not finite: returns NaN) and returns its score. */
static inline double mw_detector_update(mw_detector *d, double x, double t)
{
    if (!(x - x == 0.0))     /* NaN or infinite */
        return NAN;
    d->n_learned++;
    return d->type->update(d, x, t);
}

/* Scores x without learning (NaN for a non-finite x). */
static inline double mw_detector_score(const mw_detector *d, double x, double t)
{
    if (!(x - x == 0.0))
        return NAN;
    return d->type->score(d, x, t);
}

/* out[i] = mw_detector_update(d, x[i], t ? t[i] : NaN) for i < n. */
void mw_detector_run(mw_detector *d, const double *x, const double *t, size_t n,
                     double *out);

/* The kind's batch test on x[0..n) (see mw_detector_type.test): out[i]
 * the score of x[i] against the whole sample. Returns MW_OK; MW_EINVAL
 * with "'<name>' has no batch test" in err when the kind has none, or
 * the kind's error (err set for MW_EINVAL); out untouched on failure. */
mw_status mw_detector_test(const mw_detector *d, const double *x, size_t n, double *out,
                           char *err);

/* Back to the state of a new detector with the same parameters. */
void mw_detector_reset(mw_detector *d);

/* Writes d's kind, parameters and state to w (see blob.h for the
 * container). */
void mw_detector_save(const mw_detector *d, mw_blob_writer *w);

/* Reads a detector saved by mw_detector_save from len bytes at data.
 * Returns a new detector the caller owns, or NULL with *status and err
 * set ("truncated", "checksum mismatch", "unknown detector 'x'", ...). */
mw_detector *mw_detector_load(mw_alloc *alloc, const void *data, size_t len,
                              mw_status *status, char *err);

/* A new detector with d's parameters and state (by save and load). */
mw_detector *mw_detector_clone(const mw_detector *d, mw_status *status, char *err);

/* ---- rows (multivariate kinds) -------------------------------------- */

/* Whether d's kind scores rows of several values. */
static inline int mw_detector_is_multi(const mw_detector *d)
{
    return d->type->update_row != NULL;
}

/* Fixes d's row width at dims (the first row does it too): MW_OK if it
 * is d's width already; MW_EINVAL with "rows of 3 values, but this
 * detector scores rows of 10" in err if another; the kind's failure
 * (memory) otherwise. A univariate kind takes rows of one value. */
mw_status mw_detector_set_dims(mw_detector *d, size_t dims, char *err);

/* Learns a row of dims values and sets *score (NaN for a row holding a
 * NaN or an infinity, which changes nothing). Returns MW_OK, or the
 * error of mw_detector_set_dims with *score untouched. */
mw_status mw_detector_update_row(mw_detector *d, const double *row, size_t dims, double t,
                                 double *score, char *err);

/* The score mw_detector_update_row would give, without learning. Before
 * the first row fixes the width, any width is scored (as NaN: nothing is
 * learned yet). */
mw_status mw_detector_score_row(const mw_detector *d, const double *row, size_t dims,
                                double t, double *score, char *err);

/* out[i] for n rows of dims values (row-major), as update_row in a loop. */
mw_status mw_detector_run_rows(mw_detector *d, const double *rows, size_t dims,
                               const double *t, size_t n, double *out, char *err);

/* The kind's batch training on n rows; rows with a NaN or an infinity are
 * left out, and d's count becomes the rows fitted. MW_EINVAL with
 * "'<name>' has no fit" for a kind without one. */
mw_status mw_detector_fit(mw_detector *d, const double *rows, size_t dims, size_t n,
                          char *err);

/* The kind's batch test on n rows of dims values (see test_rows; rows
 * with a NaN or an infinity get NaN and are left out of the sample):
 * MW_EINVAL with "'<name>' has no batch test" for a kind without one, or
 * for rows of another width than the detector's. out untouched on
 * failure. */
mw_status mw_detector_test_rows(const mw_detector *d, const double *rows, size_t dims,
                                size_t n, double *out, char *err);

/* For multivariate kinds' univariate entries: a value is a row of one. */
double mw_detect_row_update(mw_detector *d, double x, double t);
double mw_detect_row_score(const mw_detector *d, double x, double t);

#endif /* MW_DETECT_H */
