/*
 * feed.c: a C program using moonwatch with no Lua code at all.
 *
 *     feed [PIPELINE [PARAMS]] < samples.csv
 *
 * Reads lines `series,timestamp,value` (or `timestamp,value`, for one
 * series named "value"; timestamps as "YYYY-MM-DD hh:mm:ss" in UTC, or
 * seconds) from standard input, pushes each sample into the runtime,
 * which keeps one pipeline per series (the built-in "default" unless
 * PIPELINE names another, with PARAMS as "name=value,..."), and prints
 * every anomaly as `series,timestamp,value,score` as soon as it is found.
 * Lines without a numeric value (a header) are skipped.
 */
#define _POSIX_C_SOURCE 200809L /* gmtime_r */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <moonwatch.h>

#define FEED_MAX_MEMORY (512u << 20)     /* bytes, for every series' pipeline */

/* Days since 1970-01-01 of a date in the proleptic Gregorian calendar
 * (Howard Hinnant's days_from_civil). */
static long feed_days(long y, long m, long d)
{
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* "2014-04-15 15:44:00" (or ...T...) or a number of seconds. Returns 0
 * for anything else. */
static int feed_time(const char *text, double *out)
{
    int y, mo, d, h, mi, s;
    char sep;
    if (sscanf(text, "%4d-%2d-%2d%c%2d:%2d:%2d", &y, &mo, &d, &sep, &h, &mi, &s) == 7 &&
        (sep == ' ' || sep == 'T')) {
        *out = (double)feed_days(y, mo, d) * 86400.0 + h * 3600.0 + mi * 60.0 + s;
        return 1;
    }
    char *end;
    *out = strtod(text, &end);
    return end != text && *end == '\0';
}

static void feed_print_time(double t)
{
    time_t secs = (time_t)t;
    struct tm tm;
    char text[32];
    gmtime_r(&secs, &tm);
    strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &tm);
    fputs(text, stdout);
}

/* The anomaly callback: runs inside each push that finds one. */
static void feed_report(void *ud, const mw_anomaly *a)
{
    size_t *count = ud;
    printf("%s,", a->series);
    feed_print_time(a->timestamp);
    printf(",%.15g,%.6g\n", a->value, a->score);
    (*count)++;
}

/* Splits line into series, timestamp and value. Returns 0 for a line
 * without them. */
static int feed_parse(char *line, const char **series, double *t, double *value)
{
    line[strcspn(line, "\r\n")] = '\0';
    char *fields[3];
    int n = 0;
    for (char *p = line; n < 3; n++) {
        fields[n] = p;
        p = strchr(p, ',');
        if (p == NULL) {
            n++;
            break;
        }
        *p++ = '\0';
    }
    if (n < 2)
        return 0;
    *series = n == 3 ? fields[0] : "value";
    char *end;
    *value = strtod(fields[n - 1], &end);
    return end != fields[n - 1] && *end == '\0' && feed_time(fields[n - 2], t);
}

int main(int argc, char **argv)
{
    if (argc > 3) {
        fprintf(stderr, "usage: %s [PIPELINE [PARAMS]] < samples.csv\n", argv[0]);
        return 2;
    }
    mw_runtime_config cfg;
    mw_runtime_config_init(&cfg);
    cfg.max_memory = FEED_MAX_MEMORY;
    mw_runtime *rt = mw_runtime_new(&cfg);
    if (rt == NULL) {
        fprintf(stderr, "feed: cannot create the runtime\n");
        return 1;
    }
    size_t anomalies = 0, rows = 0;
    mw_runtime_on_anomaly(rt, feed_report, &anomalies);
    if (argc > 1 && mw_runtime_pipeline(rt, argv[1], argc > 2 ? argv[2] : NULL) != MW_OK) {
        fprintf(stderr, "feed: %s\n", mw_runtime_error(rt));
        mw_runtime_free(rt);
        return 1;
    }
    char line[1024];
    int status = 0;
    while (fgets(line, sizeof line, stdin) != NULL) {
        const char *series;
        double t, value;
        if (!feed_parse(line, &series, &t, &value))
            continue;
        if (mw_runtime_push(rt, series, t, value, NULL) != MW_OK) {
            fprintf(stderr, "feed: %s\n", mw_runtime_error(rt));
            status = 1;
            break;
        }
        rows++;
    }
    mw_memory mem;
    mw_runtime_memory(rt, &mem);
    fprintf(stderr, "feed: %zu samples, %zu anomalies, peak memory %zu bytes\n", rows, anomalies,
            mem.peak);
    mw_runtime_free(rt);
    return status;
}
