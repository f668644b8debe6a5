/*
 * synth.h: synthetic series with known anomalies, for tests, examples and
 * benchmarks.
 *
 * A series is level + trend * i + amplitude * sin(2 pi i / period) plus
 * Gaussian noise, with anomalies injected at given positions:
 *   - spike: one sample moved by `size` (in units of the noise's standard
 *     deviation, or absolute when noise is 0);
 *   - level: from `at` on for `len` samples (to the end if len is 0), the
 *     level moves by `size` (same units);
 *   - variance: for `len` samples the noise is multiplied by `size`.
 * Deterministic for a given seed.
 */
#ifndef MW_SYNTH_H
#define MW_SYNTH_H

#include <stddef.h>
#include <stdint.h>

typedef enum mw_synth_kind {
    MW_SYNTH_SPIKE,
    MW_SYNTH_LEVEL,
    MW_SYNTH_VARIANCE
} mw_synth_kind;

typedef struct mw_synth_anomaly {
    mw_synth_kind kind;
    size_t at;               /* 0-based start */
    size_t len;              /* samples affected (spike: 1) */
    double size;
} mw_synth_anomaly;

typedef struct mw_synth_params {
    size_t n;
    double level;
    double trend;            /* added per sample */
    double amplitude;
    double period;           /* samples; 0: no seasonality */
    double noise;            /* standard deviation */
    uint64_t seed;
} mw_synth_params;

/* The name of a kind ("spike", "level", "variance"). */
const char *mw_synth_kind_name(mw_synth_kind kind);

/* Writes p->n values into out, with the anomalies (positions past the end
 * are ignored). */
void mw_synth_fill(const mw_synth_params *p, const mw_synth_anomaly *anomalies,
                   size_t n_anomalies, double *out);

#endif /* MW_SYNTH_H */
