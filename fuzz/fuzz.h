/*
 * fuzz.h: what the fuzz targets share.
 *
 * Each target (fuzz_<name>.c) defines LLVMFuzzerTestOneInput, libFuzzer's
 * entry point: it must accept any bytes, and it aborts (FUZZ_CHECK) when
 * one of its own checks fails, so libFuzzer keeps the input as a crash.
 * Built with -Dfuzz=true (clang, -fsanitize=fuzzer) for fuzzing, and in
 * every build with replay.c's main, which runs the committed corpus and
 * the crash regressions (fuzz/meson.build).
 *
 * A target keeps no state between inputs: everything it makes is freed
 * before it returns, and its allocator's figures must be back to zero.
 */
#ifndef MW_FUZZ_H
#define MW_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                            \
    do {                                                                            \
        if (!(cond)) {                                                              \
            fprintf(stderr, "fuzz check failed: %s (%s:%d)\n", #cond, __FILE__,     \
                    __LINE__);                                                      \
            abort();                                                                \
        }                                                                           \
    } while (0)

/* The budget each input runs under: a parameter or a header asking for
 * gigabytes is refused cleanly instead of exhausting the machine. */
#define FUZZ_BUDGET ((size_t)64 << 20)

#endif /* MW_FUZZ_H */
