/*
 * bench_feed.c: how fast a host feeds samples through the C API.
 *
 *     scripts/bench bench_feed
 *
 * The default pipeline on a noisy daily pattern (5-minute samples, as the
 * NAB series): samples pushed one at a time (mw_runtime_push) into 1 and
 * into 100 series, and pushed as arrays (mw_runtime_push_array) of 1,000
 * and 65,536; plus mw_runtime_call of a one-line Lua function, the
 * per-entry cost every push pays. Reports samples (or calls) per second
 * and the runtime's peak memory. Wall time, best of 3.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "moonwatch.h"

#define N_SAMPLES 200000

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double t[N_SAMPLES], x[N_SAMPLES];

static void fill(void)
{
    uint64_t state = 42;
    for (size_t i = 0; i < N_SAMPLES; i++) {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        double noise = (double)(state >> 11) / 9007199254740992.0 - 0.5;
        t[i] = 1.4e9 + 300.0 * (double)i;
        x[i] = 50.0 + 10.0 * sin((double)i * 2.0 * 3.14159265358979 / 288.0) + 3.0 * noise;
    }
}

static void anomaly(void *ud, const mw_anomaly *a)
{
    (void)a;
    (*(size_t *)ud)++;
}

/* Pushes N_SAMPLES samples into `series` series in chunks of `chunk`
 * (0: one mw_runtime_push each). Returns samples per second. */
static double run(int series, size_t chunk, size_t *peak, size_t *found)
{
    mw_runtime *rt = mw_runtime_new(NULL);
    if (rt == NULL)
        exit(1);
    mw_runtime_on_anomaly(rt, anomaly, found);
    char names[100][16];
    for (int s = 0; s < series; s++)
        snprintf(names[s], sizeof names[s], "host-%d", s);
    double t0 = now();
    if (chunk == 0) {
        for (size_t i = 0; i < N_SAMPLES; i++)
            if (mw_runtime_push(rt, names[i % (size_t)series], t[i], x[i], NULL) != MW_OK)
                exit(2);
    } else {
        for (size_t i = 0; i < N_SAMPLES; i += chunk) {
            size_t n = N_SAMPLES - i < chunk ? N_SAMPLES - i : chunk;
            if (mw_runtime_push_array(rt, names[(i / chunk) % (size_t)series], t + i, x + i, n,
                                      NULL) != MW_OK)
                exit(3);
        }
    }
    double rate = N_SAMPLES / (now() - t0);
    mw_memory mem;
    mw_runtime_memory(rt, &mem);
    *peak = mem.peak;
    mw_runtime_free(rt);
    return rate;
}

int main(void)
{
    fill();
    printf("bench_feed: %d samples, default pipeline, best of 3 (wall)\n", N_SAMPLES);
    static const struct { const char *what; int series; size_t chunk; } cases[] = {
        {"mw_runtime_push, 1 series", 1, 0},
        {"mw_runtime_push, 100 series", 100, 0},
        {"mw_runtime_push_array of 1000", 1, 1000},
        {"mw_runtime_push_array of 65536", 1, 65536},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        double best = 0.0;
        size_t peak = 0, found = 0;
        for (int rep = 0; rep < 3; rep++) {
            found = 0;
            double r = run(cases[c].series, cases[c].chunk, &peak, &found);
            if (r > best)
                best = r;
        }
        printf("  %-34s %10.0f samples/s  peak %6.1f MiB  %zu anomalies\n", cases[c].what, best,
               (double)peak / 1048576.0, found);
    }
    mw_runtime *rt = mw_runtime_new(NULL);
    if (rt == NULL || mw_runtime_load_string(rt, "function f(v) return v + 1 end", NULL) != MW_OK)
        return 4;
    double best = 0.0;
    for (int rep = 0; rep < 3; rep++) {
        double t0 = now(), v = 1.0, r;
        for (int i = 0; i < N_SAMPLES; i++)
            if (mw_runtime_call(rt, "f", &v, 1, &r) != MW_OK)
                return 5;
        double rate = N_SAMPLES / (now() - t0);
        if (rate > best)
            best = rate;
    }
    printf("  %-34s %10.0f calls/s\n", "mw_runtime_call (v + 1)", best);
    mw_runtime_free(rt);
    return 0;
}
