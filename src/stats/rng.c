/*
 * rng.c: xoshiro256** (Blackman and Vigna, 2018), seeded with splitmix64
 * so that nearby seeds give unrelated streams.
 */
#include "stats/rng.h"

#include <math.h>

static uint64_t rng_rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t rng_splitmix(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void mw_rng_seed(mw_rng *r, uint64_t seed)
{
    uint64_t state = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = rng_splitmix(&state);
    r->has_spare = 0;
    r->spare = 0;
}

uint64_t mw_rng_next(mw_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rng_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rng_rotl(s[3], 45);
    return result;
}

double mw_rng_uniform(mw_rng *r)
{
    return (double)(mw_rng_next(r) >> 11) * 0x1.0p-53;
}

uint64_t mw_rng_below(mw_rng *r, uint64_t n)
{
    /* Rejection of the top partial range (Lemire's bound is not needed
     * for our rates): unbiased for every n. */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do {
        x = mw_rng_next(r);
    } while (x >= limit);
    return x % n;
}

double mw_rng_normal(mw_rng *r)
{
    if (r->has_spare) {
        r->has_spare = 0;
        return r->spare;
    }
    double u, v, s;
    do {
        u = 2.0 * mw_rng_uniform(r) - 1.0;
        v = 2.0 * mw_rng_uniform(r) - 1.0;
        s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    double m = sqrt(-2.0 * log(s) / s);
    r->spare = v * m;
    r->has_spare = 1;
    return u * m;
}
