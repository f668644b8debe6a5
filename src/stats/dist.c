/*
 * dist.c: the incomplete beta function, the normal quantile and Student's
 * t distribution (see dist.h).
 *
 * - I_x(a, b): the continued fraction of the incomplete beta function
 *   (DLMF 8.17.22), evaluated by the modified Lentz method, on the side
 *   where it converges fast: for x > (a + 1) / (a + b + 2) the symmetry
 *   I_x(a, b) = 1 - I_{1-x}(b, a) is used. The caller may pass 1 - x
 *   exactly (dist_beta_inc), which keeps tails of t precise.
 * - ln B(a, b): from lgamma when both arguments are small, else from
 *   Stirling's series, in a form that never subtracts two large lgamma
 *   values (at a = 5e6, lgamma(a) is 7e7 and loses 1e-8 in absolute
 *   terms; the series form keeps 1e-15).
 * - Normal quantile: Wichura's AS 241 (PPND16), rational approximations
 *   good to about 1e-16.
 * - t tail: P(T > t) = I_{df/(df+t^2)}(df/2, 1/2) / 2 for t >= 0.
 * - t quantile: a starting value from Hill's algorithm 396 (CACM 13(10),
 *   1970; about 6 digits), then Newton steps on the tail, kept inside a
 *   bracket (bisection when a step leaves it), so that it converges for
 *   any df > 0 even from a poor start. df 1 and 2 have closed forms; for
 *   large df, the Cornish-Fisher expansion about the normal quantile
 *   (Abramowitz and Stegun 26.7.5, four terms) is exact to rounding.
 *
 * The tail itself loses accuracy for very large df (the fraction's terms
 * cancel): 1e-12 relative at df = 1e6, 1e-9 at df = 1e8.
 */
#include "stats/dist.h"

#include <float.h>
#include <math.h>

#define DIST_PI 3.14159265358979323846
#define DIST_LN_SQRT_2PI 0.91893853320467274178
/* Lentz's method replaces a zero denominator by this (it only has to be
 * far below any real partial value). */
#define DIST_TINY 1e-300
/* Continued-fraction terms before giving up; it needs O(sqrt(max(a, b)))
 * terms near the switch point, so this covers a, b up to about 1e9. */
#define DIST_CF_MAX_TERMS 200000
/* Newton steps before the quantile settles for its current value. */
#define DIST_NEWTON_MAX 100
/* From this many degrees of freedom on (and for upper tails down to
 * DIST_EXPANSION_MIN_Q) the t quantile comes from its asymptotic
 * expansion: its first omitted term is below 1e-15 relative there (3e-15
 * at the smallest tail), while the continued fraction loses digits as df
 * grows (about 1e-12 at df = 1e6 and 5e-10 at 1e8: its terms cancel when
 * x = df / (df + t^2) is near 1). */
#define DIST_DF_EXPANSION 1e4
#define DIST_EXPANSION_MIN_Q 1e-19

/* ---- the beta function ---------------------------------------------- */

/* lgamma(x) - [(x - 1/2) ln x - x + ln sqrt(2 pi)] for x >= 10: Stirling's
 * series, B_2k / (2k (2k - 1) x^(2k - 1)), to the x^-11 term (the next
 * is below 1e-15 at x = 10). */
static double dist_stirling_tail(double x)
{
    double r = 1.0 / (x * x);
    return (1.0 / 12.0 +
            r * (-1.0 / 360.0 +
                 r * (1.0 / 1260.0 +
                      r * (-1.0 / 1680.0 + r * (1.0 / 1188.0 + r * (-691.0 / 360360.0)))))) /
           x;
}

double mw_dist_lbeta(double a, double b)
{
    if (!(a > 0.0) || !(b > 0.0))
        return NAN;
    if (a < b) {
        double swap = a;
        a = b;
        b = swap;
    }
    if (a < 10.0)
        return lgamma(a) + lgamma(b) - lgamma(a + b);
    double sum = a + b;
    double tails = dist_stirling_tail(a) - dist_stirling_tail(sum);
    if (b < 10.0)
        /* lgamma(a) - lgamma(a + b) by the series, the large parts
         * cancelled analytically. */
        return lgamma(b) - (a - 0.5) * log1p(b / a) - b * log(sum) + b + tails;
    return DIST_LN_SQRT_2PI - (a - 0.5) * log1p(b / a) + (b - 0.5) * log(b / sum) -
           0.5 * log(sum) + dist_stirling_tail(b) + tails;
}

/* The continued fraction of I_x(a, b) / (x^a (1 - x)^b / (a B(a, b))),
 * for x <= (a + 1) / (a + b + 2), y = 1 - x. */
static double dist_beta_cf(double a, double b, double x, double y)
{
    double c = 1.0;
    /* 1 - (a + b) x / (a + 1): near 0 when x is near 1 and a large (the t
     * tail at large df), where the form in y avoids the cancellation. */
    double d = x > 0.5 ? (1.0 - b + (a + b) * y) / (a + 1.0) : 1.0 - (a + b) * x / (a + 1.0);
    if (fabs(d) < DIST_TINY)
        d = DIST_TINY;
    d = 1.0 / d;
    double h = d;
    for (int m = 1; m <= DIST_CF_MAX_TERMS; m++) {
        double twice = 2.0 * m;
        /* The even and odd terms of the fraction. */
        double term = m * (b - m) * x / ((a - 1.0 + twice) * (a + twice));
        d = 1.0 + term * d;
        if (fabs(d) < DIST_TINY)
            d = DIST_TINY;
        c = 1.0 + term / c;
        if (fabs(c) < DIST_TINY)
            c = DIST_TINY;
        d = 1.0 / d;
        h *= d * c;
        term = -(a + m) * (a + b + m) * x / ((a + twice) * (a + 1.0 + twice));
        d = 1.0 + term * d;
        if (fabs(d) < DIST_TINY)
            d = DIST_TINY;
        c = 1.0 + term / c;
        if (fabs(c) < DIST_TINY)
            c = DIST_TINY;
        d = 1.0 / d;
        double change = d * c;
        h *= change;
        if (fabs(change - 1.0) <= DBL_EPSILON)
            break;
    }
    return h;
}

/* I_x(a, b) with y = 1 - x given separately (exact for the caller). */
static double dist_beta_inc(double a, double b, double x, double y)
{
    if (x <= 0.0)
        return 0.0;
    if (y <= 0.0)
        return 1.0;
    int flipped = x > (a + 1.0) / (a + b + 2.0);
    if (flipped) {
        double swap = a;
        a = b;
        b = swap;
        swap = x;
        x = y;
        y = swap;
    }
    double log_x = x < 0.5 ? log(x) : log1p(-y);
    double log_y = y < 0.5 ? log(y) : log1p(-x);
    double front = exp(a * log_x + b * log_y - mw_dist_lbeta(a, b)) / a;
    double value = front * dist_beta_cf(a, b, x, y);
    return flipped ? 1.0 - value : value;
}

double mw_dist_beta_inc(double a, double b, double x)
{
    if (!(a > 0.0) || !(b > 0.0) || !(x >= 0.0 && x <= 1.0) || isinf(a) || isinf(b))
        return NAN;
    return dist_beta_inc(a, b, x, 1.0 - x);
}

/* ---- the normal quantile -------------------------------------------- */

/* Evaluates the degree-7 polynomial with coefficients c[0..7] at r. */
static double dist_poly7(const double *c, double r)
{
    return ((((((c[7] * r + c[6]) * r + c[5]) * r + c[4]) * r + c[3]) * r + c[2]) * r + c[1]) * r +
           c[0];
}

double mw_dist_norm_ppf(double p)
{
    /* Wichura (1988), Applied Statistics 37(3), 477-484: three rational
     * approximations, for the centre and for two ranges of the tail
     * variable sqrt(-ln(min(p, 1 - p))). */
    static const double centre_num[8] = {
        3.3871328727963666080e+00, 1.3314166789178437745e+02, 1.9715909503065514427e+03,
        1.3731693765509461125e+04, 4.5921953931549871457e+04, 6.7265770927008700853e+04,
        3.3430575583588128105e+04, 2.5090809287301226727e+03};
    static const double centre_den[8] = {
        1.0,                       4.2313330701600911252e+01, 6.8718700749205790830e+02,
        5.3941960214247511077e+03, 2.1213794301586595867e+04, 3.9307895800092710610e+04,
        2.8729085735721942674e+04, 5.2264952788528545610e+03};
    static const double near_num[8] = {
        1.42343711074968357734e+00, 4.63033784615654529590e+00, 5.76949722146069140550e+00,
        3.64784832476320460504e+00, 1.27045825245236838258e+00, 2.41780725177450611770e-01,
        2.27238449892691845833e-02, 7.74545014278341407640e-04};
    static const double near_den[8] = {
        1.0,                        2.05319162663775882187e+00, 1.67638483018380384940e+00,
        6.89767334985100004550e-01, 1.48103976427480074590e-01, 1.51986665636164571966e-02,
        5.47593808499534494600e-04, 1.05075007164441684324e-09};
    static const double far_num[8] = {
        6.65790464350110377720e+00, 5.46378491116411436990e+00, 1.78482653991729133580e+00,
        2.96560571828504891230e-01, 2.65321895265761230930e-02, 1.24266094738807843860e-03,
        2.71155556874348757815e-05, 2.01033439929228813265e-07};
    static const double far_den[8] = {
        1.0,                        5.99832206555887937690e-01, 1.36929880922735805310e-01,
        1.48753612908506148525e-02, 7.86869131145613259100e-04, 1.84631831751005468180e-05,
        1.42151175831644588870e-07, 2.04426310338993978564e-15};
    if (!(p >= 0.0 && p <= 1.0))
        return NAN;
    double q = p - 0.5;
    if (fabs(q) <= 0.425) {
        double r = 0.180625 - q * q;
        return q * dist_poly7(centre_num, r) / dist_poly7(centre_den, r);
    }
    double tail = q < 0.0 ? p : 1.0 - p;
    if (tail <= 0.0)
        return q < 0.0 ? -INFINITY : INFINITY;
    double r = sqrt(-log(tail));
    double z = r <= 5.0 ? dist_poly7(near_num, r - 1.6) / dist_poly7(near_den, r - 1.6)
                        : dist_poly7(far_num, r - 5.0) / dist_poly7(far_den, r - 5.0);
    return q < 0.0 ? -z : z;
}

/* ---- Student's t ---------------------------------------------------- */

/* P(T > |t|), from the incomplete beta with both x and 1 - x formed
 * without cancellation (and without overflow for huge t). */
static double dist_t_tail(double t, double df)
{
    t = fabs(t);
    double t2 = t * t;
    double x, y;
    if (t2 > df) {
        double s = sqrt(df) / t;
        double r = s * s;
        x = r / (1.0 + r);
        y = 1.0 / (1.0 + r);
    } else {
        double r = t2 / df;
        x = 1.0 / (1.0 + r);
        y = r / (1.0 + r);
    }
    return 0.5 * dist_beta_inc(0.5 * df, 0.5, x, y);
}

/* ln of the t density at t. */
static double dist_t_log_pdf(double t, double df)
{
    double t2 = t * t;
    double log_ratio = t2 > df ? 2.0 * log(fabs(t)) - log(df) + log1p(df / t2) : log1p(t2 / df);
    return -0.5 * (df + 1.0) * log_ratio - 0.5 * log(df) - mw_dist_lbeta(0.5 * df, 0.5);
}

double mw_dist_t_sf(double t, double df)
{
    if (t != t || !(df > 0.0) || isinf(df))
        return NAN;
    double tail = dist_t_tail(t, df);
    return t >= 0.0 ? tail : 1.0 - tail;
}

double mw_dist_t_cdf(double t, double df)
{
    if (t != t || !(df > 0.0) || isinf(df))
        return NAN;
    double tail = dist_t_tail(t, df);
    return t <= 0.0 ? tail : 1.0 - tail;
}

/* Hill's (1970) approximation of the t with P(T > t) = q, q < 0.5, as a
 * starting value (a few digits; its formulas are tuned for df >= 1). */
static double dist_t_isf_start(double q, double n)
{
    double two_sided = 2.0 * q;
    double a = 1.0 / (n - 0.5);
    double b = 48.0 / (a * a);
    double c = ((20700.0 * a / b - 98.0) * a - 16.0) * a + 96.36;
    double d = ((94.5 / (b + c) - 3.0) / b + 1.0) * sqrt(a * DIST_PI / 2.0) * n;
    double y = pow(d * two_sided, 2.0 / n);
    if (y > 0.05 + a) {
        /* Far from the centre: an expansion about the normal quantile. */
        double x = mw_dist_norm_ppf(q);
        y = x * x;
        if (n < 5.0)
            c += 0.3 * (n - 4.5) * (x + 0.6);
        c = (((0.05 * d * x - 5.0) * x - 7.0) * x - 2.0) * x + b + c;
        y = (((((0.4 * y + 6.3) * y + 36.0) * y + 94.5) / c - y - 3.0) / b + 1.0) * x;
        y = expm1(a * y * y);
    } else {
        y = ((1.0 / (((n + 6.0) / (n * y) - 0.089 * d - 0.822) * (n + 2.0) * 3.0) +
              0.5 / (n + 4.0)) * y - 1.0) * (n + 1.0) / (n + 2.0) + 1.0 / y;
    }
    return sqrt(n * y);
}

/* The upper-tail t quantile for large df: z + g1/df + ... + g4/df^4 with
 * z the normal quantile (A&S 26.7.5). */
static double dist_t_isf_expansion(double q, double df)
{
    double z = -mw_dist_norm_ppf(q);
    double z2 = z * z;
    double g1 = (z2 + 1.0) * z / 4.0;
    double g2 = ((5.0 * z2 + 16.0) * z2 + 3.0) * z / 96.0;
    double g3 = (((3.0 * z2 + 19.0) * z2 + 17.0) * z2 - 15.0) * z / 384.0;
    double g4 = ((((79.0 * z2 + 776.0) * z2 + 1482.0) * z2 - 1920.0) * z2 - 945.0) * z / 92160.0;
    return z + (g1 + (g2 + (g3 + g4 / df) / df) / df) / df;
}

double mw_dist_t_isf(double q, double df)
{
    if (!(q >= 0.0 && q <= 1.0) || !(df > 0.0) || isinf(df))
        return NAN;
    if (q > 0.5)
        return -mw_dist_t_isf(1.0 - q, df); /* 1 - q is exact here */
    if (q == 0.5)
        return 0.0;
    if (q == 0.0)
        return INFINITY;
    if (df == 1.0)
        return q < 0.25 ? 1.0 / tan(DIST_PI * q) : tan(DIST_PI * (0.5 - q));
    if (df == 2.0)
        return (1.0 - 2.0 * q) / sqrt(2.0 * q * (1.0 - q));
    if (df >= DIST_DF_EXPANSION && q >= DIST_EXPANSION_MIN_Q)
        return dist_t_isf_expansion(q, df);
    double t = dist_t_isf_start(q, df);
    if (!(t > 0.0 && t < INFINITY))
        t = 1.0;
    /* The tail falls from 1/2 at 0: [lo, hi] brackets the answer. */
    double lo = 0.0, hi = INFINITY;
    for (int i = 0; i < DIST_NEWTON_MAX; i++) {
        double tail = dist_t_tail(t, df);
        if (tail == q)
            return t;
        if (tail > q)
            lo = t;
        else
            hi = t;
        double step = (tail - q) / exp(dist_t_log_pdf(t, df));
        double next = t + step;
        if (!(next > lo && next < hi))
            next = hi == INFINITY ? 2.0 * lo + 1.0 : 0.5 * (lo + hi);
        if (fabs(next - t) <= 1e-15 * t)
            return next;
        t = next;
    }
    return t;
}

double mw_dist_t_ppf(double p, double df)
{
    if (!(p >= 0.0 && p <= 1.0) || !(df > 0.0) || isinf(df))
        return NAN;
    /* By symmetry; isf takes the tail p itself for p < 1/2 and 1 - p
     * (exact) otherwise. */
    double t = mw_dist_t_isf(p, df);
    return t == 0.0 ? 0.0 : -t;
}
