/*
 * rng.h: a small, fast, seedable random number generator (xoshiro256**,
 * seeded through splitmix64), for everything in moonwatch that needs
 * randomness: synthetic data, and detectors' sampling. Runs are
 * deterministic for a given seed on every platform: the generator uses
 * only 64-bit integer arithmetic, and doubles are built from 53 bits.
 *
 * The state is a plain struct owned by its user: no global state.
 */
#ifndef MW_RNG_H
#define MW_RNG_H

#include <stdint.h>

typedef struct mw_rng {
    uint64_t s[4];
    int has_spare;           /* a second normal deviate is waiting */
    double spare;
} mw_rng;

/* Seeds the generator; any seed (0 included) gives a valid state. */
void mw_rng_seed(mw_rng *r, uint64_t seed);

/* The next 64 random bits. */
uint64_t mw_rng_next(mw_rng *r);

/* Uniform in [0, 1), 53 bits of precision. */
double mw_rng_uniform(mw_rng *r);

/* Uniform integer in [0, n) without modulo bias (n >= 1). */
uint64_t mw_rng_below(mw_rng *r, uint64_t n);

/* Standard normal deviate (Marsaglia's polar method). */
double mw_rng_normal(mw_rng *r);

#endif /* MW_RNG_H */
