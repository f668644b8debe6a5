/*
 * dist.h: distribution functions for statistical tests: the regularised
 * incomplete beta function, the normal quantile and Student's t
 * distribution (cdf, tail and quantiles).
 *
 * Accuracy (relative, checked against mpmath and scipy in
 * tests/test_dist.c): 1e-13 for the t quantiles at any df and the
 * incomplete beta, 1e-16 for the normal quantile, 1e-12 for the t tail up
 * to df = 1e4, degrading to 2e-9 at df = 1e8. Tails are computed
 * directly, never as 1 - cdf, so tiny tail probabilities keep their
 * relative precision; the functions that take an upper-tail probability
 * q (isf) exist for the same reason.
 *
 * Pure functions of their arguments: no allocation, no state (C's
 * lgamma may set the C library's signgam; only positive arguments are
 * passed, whose sign is always +). Arguments out of range give NaN.
 */
#ifndef MW_STATS_DIST_H
#define MW_STATS_DIST_H

/* I_x(a, b) for a, b > 0 and x in [0, 1]. */
double mw_dist_beta_inc(double a, double b, double x);

/* ln B(a, b) = ln(Gamma(a) Gamma(b) / Gamma(a + b)) for a, b > 0,
 * accurate also when one argument is large (no cancellation of two
 * large lgamma values). */
double mw_dist_lbeta(double a, double b);

/* The standard normal quantile of p in (0, 1) (Wichura's algorithm
 * AS 241, PPND16: about 1e-16 relative). 0 and 1 give -inf and inf. */
double mw_dist_norm_ppf(double p);

/* Student's t with df > 0 degrees of freedom. */
double mw_dist_t_cdf(double t, double df);   /* P(T <= t) */
double mw_dist_t_sf(double t, double df);    /* P(T > t) */
/* The t with P(T <= t) = p, p in [0, 1] (0 and 1 give -inf and inf). */
double mw_dist_t_ppf(double p, double df);
/* The t with P(T > t) = q, q in [0, 1]: precise for tiny q. */
double mw_dist_t_isf(double q, double df);

#endif /* MW_STATS_DIST_H */
