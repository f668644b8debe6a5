/*
 * synth.c: synthetic series with injected anomalies (see synth.h).
 *
 * The noise is drawn for every sample in order, whatever the anomalies,
 * so adding an anomaly changes only the samples it covers: two series
 * with the same seed differ exactly where their anomalies differ.
 */
#include "iter/synth.h"

#include <math.h>

#include "stats/rng.h"

const char *mw_synth_kind_name(mw_synth_kind kind)
{
    switch (kind) {
    case MW_SYNTH_SPIKE:    return "spike";
    case MW_SYNTH_LEVEL:    return "level";
    case MW_SYNTH_VARIANCE: return "variance";
    }
    return "?";
}

void mw_synth_fill(const mw_synth_params *p, const mw_synth_anomaly *anomalies,
                   size_t n_anomalies, double *out)
{
    const double two_pi = 6.283185307179586476925;
    double unit = p->noise > 0 ? p->noise : 1.0;
    mw_rng rng;
    mw_rng_seed(&rng, p->seed);
    for (size_t i = 0; i < p->n; i++) {
        double base = p->level + p->trend * (double)i;
        if (p->period > 0)
            base += p->amplitude * sin(two_pi * (double)i / p->period);
        double noise = p->noise * mw_rng_normal(&rng);
        for (size_t k = 0; k < n_anomalies; k++) {
            const mw_synth_anomaly *a = &anomalies[k];
            size_t end = a->kind == MW_SYNTH_SPIKE ? a->at + 1
                       : a->len == 0 ? p->n : a->at + a->len;
            if (i < a->at || i >= end)
                continue;
            if (a->kind == MW_SYNTH_VARIANCE)
                noise *= a->size;
            else
                base += a->size * unit;
        }
        out[i] = base + noise;
    }
}
