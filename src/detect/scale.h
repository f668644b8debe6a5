/*
 * scale.h: streaming feature scaling (mw.scale), for the rows that
 * multivariate detectors score: distances mean something only when the
 * features share a unit.
 *
 * A scaler learns per-feature figures from the rows it sees and maps a
 * row to a scaled row of the same width:
 * - minmax: the running minimum and maximum of each feature;
 *   (x - min) / (max - min), in [0, 1] for the values learned. A
 *   constant feature (max == min) maps to x - min (0 for its value), as
 *   scikit-learn's MinMaxScaler does.
 * - standard: the running mean and variance of each feature (Welford's
 *   recurrence, the population variance, as scikit-learn's
 *   StandardScaler); (x - mean) / std, with a std under 1e-12 times
 *   max(1, |mean|) taken as 1 (a constant feature maps to x - mean).
 *
 * update learns the row, then scales it (as partial_fit then transform:
 * a minmax update is always in [0, 1]); transform scales without
 * learning. Until min_periods rows are learned every output is NaN. A
 * row holding a NaN or an infinity is not learned; it is scaled value by
 * value (NaN stays NaN).
 *
 * Invariants: the width is fixed by the first row (or a load) and every
 * later row must have it; after load(save(s)) the copy continues exactly
 * as s would (the figures are saved bit for bit). All memory comes from
 * the scaler's allocator (domain NATIVE); no Lua, no global state.
 *
 * Saved state, little-endian (blob.h): "MWSC", u8 version (1), u8 kind,
 * u64 min_periods, u8 flags, u64 dims, u64 rows learned, 2 * dims f64
 * (min and max, or mean and the sum of squared deviations), u64 checksum
 * of everything before it.
 */
#ifndef MW_SCALE_H
#define MW_SCALE_H

#include <stddef.h>
#include <stdint.h>

#include "core/alloc.h"
#include "detect/blob.h"

#define MW_SCALE_ERRLEN 256
#define MW_SCALE_MAX_DIMS 4096

typedef enum mw_scale_kind { MW_SCALE_MINMAX, MW_SCALE_STANDARD } mw_scale_kind;

/* Options (flags): which parts of the map apply. */
enum {
    MW_SCALE_CLIP = 1,       /* minmax: transform clips to [0, 1] */
    MW_SCALE_NO_MEAN = 2,    /* standard: do not subtract the mean */
    MW_SCALE_NO_STD = 4      /* standard: do not divide by the std */
};

typedef struct mw_scaler {
    mw_alloc *alloc;
    mw_scale_kind kind;
    unsigned flags;
    uint64_t min_periods;    /* rows to learn before scaling (>= 1) */
    size_t dims;             /* the row width; 0 until the first row */
    uint64_t count;          /* finite rows learned */
    double *a, *b;           /* dims each: min and max, or mean and m2 */
    size_t bytes;            /* all told, the struct included */
} mw_scaler;

/* The name of a kind ("minmax", "standard"). */
const char *mw_scale_kind_name(mw_scale_kind kind);

/* A new scaler the caller owns (free with mw_scaler_free), or NULL with
 * *status set (memory). min_periods >= 1. */
mw_scaler *mw_scaler_new(mw_alloc *alloc, mw_scale_kind kind, uint64_t min_periods,
                         unsigned flags, mw_status *status);

/* Frees s and its arrays (s may be NULL). */
void mw_scaler_free(mw_scaler *s);

/* Fixes the width (MW_OK if it is s's already). MW_EINVAL with a message
 * in err for another width or one outside [1, MW_SCALE_MAX_DIMS]; a
 * memory status if the arrays cannot be had (s unchanged). */
mw_status mw_scaler_set_dims(mw_scaler *s, size_t dims, char *err);

/* Learns row (s->dims values, width set) and writes it scaled to out
 * (which may be row). */
void mw_scaler_update(mw_scaler *s, const double *row, double *out);

/* Writes row scaled with what s has learned to out (may be row). */
void mw_scaler_transform(const mw_scaler *s, const double *row, double *out);

/* Forgets what was learned; keeps the width and the arrays. */
void mw_scaler_reset(mw_scaler *s);

/* Writes s (options and state) to w. */
void mw_scaler_save(const mw_scaler *s, mw_blob_writer *w);

/* The scaler saved in len bytes at data: a new one the caller owns, or
 * NULL with *status and err ("checksum mismatch", ...). */
mw_scaler *mw_scaler_load(mw_alloc *alloc, const void *data, size_t len, mw_status *status,
                          char *err);

#endif /* MW_SCALE_H */
