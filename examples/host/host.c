/*
 * host.c: a small C program embedding moonwatch through its C API.
 *
 *     host PIPELINE.lua < data.csv
 *
 * Reads `timestamp,value` lines (a header line, or any line whose value
 * is not a number, is skipped) or plain numbers from standard input,
 * feeds each value to the global score(x) of the Lua file, and prints
 * the rows whose score reaches the file's threshold() as
 * `timestamp,value,score`. The runtime has a memory budget and an
 * instruction limit per call, as a host serving untrusted scripts would.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <moonwatch.h>

#define HOST_MAX_MEMORY (256u << 20)   /* bytes, Lua and native */
#define HOST_MAX_INSTRUCTIONS 10000000ul /* per call of score() */

/* Splits line into its timestamp (or "" for a plain number) and value.
 * Returns 0 for a line without a numeric value. */
static int host_parse(char *line, const char **stamp, double *value)
{
    line[strcspn(line, "\r\n")] = '\0';
    char *comma = strrchr(line, ',');
    const char *number = line;
    *stamp = "";
    if (comma != NULL) {
        *comma = '\0';
        *stamp = line;
        number = comma + 1;
    }
    char *end;
    *value = strtod(number, &end);
    return end != number && *end == '\0';
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s PIPELINE.lua < data.csv\n", argv[0]);
        return 2;
    }
    mw_runtime_config cfg;
    mw_runtime_config_init(&cfg);
    cfg.max_memory = HOST_MAX_MEMORY;
    cfg.max_instructions = HOST_MAX_INSTRUCTIONS;
    mw_runtime *rt = mw_runtime_new(&cfg);
    if (rt == NULL) {
        fprintf(stderr, "host: cannot create the runtime\n");
        return 1;
    }
    double threshold = 0.0;
    if (mw_runtime_load_file(rt, argv[1]) != MW_OK ||
        mw_runtime_call(rt, "threshold", NULL, 0, &threshold) != MW_OK) {
        fprintf(stderr, "host: %s\n", mw_runtime_error(rt));
        mw_runtime_free(rt);
        return 1;
    }
    char line[512];
    size_t rows = 0, anomalies = 0;
    while (fgets(line, sizeof line, stdin) != NULL) {
        const char *stamp;
        double value, score;
        if (!host_parse(line, &stamp, &value))
            continue;
        if (mw_runtime_call(rt, "score", &value, 1, &score) != MW_OK) {
            fprintf(stderr, "host: %s\n", mw_runtime_error(rt));
            mw_runtime_free(rt);
            return 1;
        }
        rows++;
        if (score >= threshold) {   /* false for NaN: still learning */
            printf("%s,%.15g,%.6g\n", stamp, value, score);
            anomalies++;
        }
    }
    mw_memory mem;
    mw_runtime_memory(rt, &mem);
    fprintf(stderr, "host: %zu rows, %zu anomalies, peak memory %zu bytes\n", rows, anomalies,
            mem.peak);
    mw_runtime_free(rt);
    return 0;
}
