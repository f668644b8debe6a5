/*
 * ewm.c: exponentially weighted mean and standard deviation, in the
 * recursive form (pandas' adjust=False, bias=True):
 *
 *   mean_t = mean_{t-1} + alpha * (x_t - mean_{t-1}),          mean_0 = x_0
 *   var_t  = (1 - alpha) * (var_{t-1} + alpha * (x_t - mean_{t-1})^2), var_0 = 0
 *
 * The variance update is West's (1979) weighted incremental form, which
 * never subtracts two large sums, so it stays accurate on data far from
 * zero. NaN inputs are skipped: the state carries over and the output
 * repeats the current estimate (NaN until the first value). The state is
 * two doubles on the stack; out may alias x (x[i] is read before out[i]
 * is written). Never allocates.
 */
#include "stats/stats.h"

#include <math.h>

void mw_stats_ewm_mean(const double *x, size_t n, double alpha, double *out)
{
    double mean = NAN;
    int started = 0;
    for (size_t i = 0; i < n; i++) {
        double v = x[i];
        if (v == v) {
            mean = started ? mean + alpha * (v - mean) : v;
            started = 1;
        }
        out[i] = mean;
    }
}

void mw_stats_ewm_std(const double *x, size_t n, double alpha, double *out)
{
    double mean = NAN, var = NAN;
    int started = 0;
    for (size_t i = 0; i < n; i++) {
        double v = x[i];
        if (v == v) {
            if (started) {
                double delta = v - mean;
                mean += alpha * delta;
                var = (1.0 - alpha) * (var + alpha * delta * delta);
            } else {
                mean = v;
                var = 0.0;
                started = 1;
            }
        }
        out[i] = sqrt(var);
    }
}
