/*
 * parse.c: number and timestamp parsers for fields (see parse.h).
 *
 * Numbers take a fast path that is exact by construction (Clinger's): when
 * the decimal significand has at most 19 significant digits and fits in 53
 * bits, and the power of ten is at most 22, both are exact doubles and one
 * IEEE multiply or divide rounds the result correctly. Every other spelling
 * is rewritten as "<digits>e<exponent>", with no decimal point so the C
 * locale cannot change its meaning, and handed to strtod, which rounds
 * correctly too. Typical sensor values ("0.0819647350000", "20.0") never
 * leave the fast path; strtod costs about four times as much.
 *
 * Timestamps are converted with stats/calendar.h's days-from-civil
 * computation (proleptic Gregorian calendar), never timegm or mktime, so
 * neither the time zone nor the locale of the process matters.
 *
 * Invariant: a parser writes its output only when it returns MW_PARSE_OK
 * (or MW_PARSE_MISSING, for mw_parse_number's NaN).
 */
#include "iter/parse.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats/calendar.h"

/* Significand digits kept for strtod on the slow path. 768 is the most a
 * double's exact halfway point can need; digits past it only matter
 * through whether any is non-zero, which a final '1' stands for. */
#define PARSE_MAX_DIGITS 768

/* Exponents are clamped here while accumulating: far past the range of a
 * double (1e-400 is already 0, 1e400 already inf), far from int64 limits. */
#define PARSE_EXPONENT_CLAMP 1000000

/* 2^53: the largest significand every double can represent exactly. */
#define PARSE_EXACT_SIGNIFICAND ((uint64_t)1 << 53)

/* The fast path relies on each operation rounding once to double; a build
 * that evaluates in extended precision (x87) would round twice. */
#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD == 0
#define PARSE_FAST_PATH 1
#else
#define PARSE_FAST_PATH 0
#endif

/* Significant digits the fast path takes: 10^19 - 1 fits in 64 bits. */
#define PARSE_FAST_DIGITS 19

static const double parse_exact_powers[] = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

static inline int parse_is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static inline int parse_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static inline void parse_trim(const char **begin, const char **end)
{
    const char *p = *begin, *e = *end;
    while (p < e && parse_is_blank(*p))
        p++;
    while (e > p && parse_is_blank(e[-1]))
        e--;
    *begin = p;
    *end = e;
}

/* Case-insensitive comparison of [p, e) with a lower-case ASCII word. */
static int parse_equals_word(const char *p, const char *e, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(e - p) != n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != word[i])
            return 0;
    }
    return 1;
}

static const char *const parse_missing_words[] = {
    "na", "n/a", "#n/a", "<na>", "nan", "-nan", "+nan", "null", "none",
};

/* Is the trimmed field [p, e) a missing-value spelling? */
static int parse_missing_trimmed(const char *p, const char *e)
{
    if (p == e)
        return 1;
    /* A quick rejection: every spelling starts with one of these. */
    char c = *p;
    if (c != 'n' && c != 'N' && c != '#' && c != '<' && c != '-' && c != '+')
        return 0;
    for (size_t i = 0; i < sizeof parse_missing_words / sizeof parse_missing_words[0]; i++)
        if (parse_equals_word(p, e, parse_missing_words[i]))
            return 1;
    return 0;
}

int mw_parse_is_missing(const char *s, size_t len)
{
    const char *p = s, *e = s + len;
    parse_trim(&p, &e);
    return parse_missing_trimmed(p, e);
}

/* Reads the decimal digits at p, adding the first `room` of them to
 * *significand; returns where the digits end. The limit is set once, so
 * the loop does no per-digit counting. */
static inline const char *parse_digits(const char *p, const char *e, uint64_t *significand,
                                       size_t room)
{
    const char *limit = (size_t)(e - p) < room ? e : p + room;
    uint64_t value = *significand;
    for (; p < limit && parse_is_digit(*p); p++)
        value = value * 10 + (unsigned)(*p - '0');
    *significand = value;
    while (p < e && parse_is_digit(*p))
        p++;
    return p;
}

/* The slow path: rewrites the validated number [p, e) (sign excluded) as
 * significant digits and a decimal exponent, and lets strtod round it. */
static double parse_number_slow(const char *p, const char *e, int negative,
                                int64_t exponent)
{
    char text[1 + PARSE_MAX_DIGITS + 1 + 32];
    size_t w = 0;
    int64_t scale = 0;          /* value = digits * 10^scale */
    int in_fraction = 0, sticky = 0;

    if (negative)
        text[w++] = '-';
    size_t first_digit = w;
    for (; p < e; p++) {
        char c = *p;
        if (c == '.') {
            in_fraction = 1;
            continue;
        }
        if (!parse_is_digit(c))
            break;              /* the exponent marker */
        if (w == first_digit && c == '0') {
            if (in_fraction)
                scale--;
            continue;
        }
        if (w - first_digit < PARSE_MAX_DIGITS) {
            text[w++] = c;
            if (in_fraction)
                scale--;
        } else {
            sticky |= c != '0';
            if (!in_fraction)
                scale++;
        }
    }
    if (w == first_digit)
        return negative ? -0.0 : 0.0;
    if (sticky) {
        text[w++] = '1';
        scale--;
    }
    scale += exponent;
    if (scale > PARSE_EXPONENT_CLAMP)
        scale = PARSE_EXPONENT_CLAMP;
    if (scale < -PARSE_EXPONENT_CLAMP)
        scale = -PARSE_EXPONENT_CLAMP;
    snprintf(text + w, sizeof text - w, "e%lld", (long long)scale);

    int saved_errno = errno;    /* ERANGE on overflow is not our caller's news */
    double value = strtod(text, NULL);
    errno = saved_errno;
    return value;
}

/* "inf" or "infinity", any case, after the sign. */
static int parse_infinity(const char *p, const char *e, int negative, double *out)
{
    if (!parse_equals_word(p, e, "inf") && !parse_equals_word(p, e, "infinity"))
        return 0;
    *out = negative ? -(double)INFINITY : (double)INFINITY;
    return 1;
}

mw_parse_result mw_parse_number(const char *s, size_t len, double *out)
{
    const char *p = s, *e = s + len;
    parse_trim(&p, &e);
    if (p == e) {
        *out = NAN;
        return MW_PARSE_MISSING;
    }
    const char *start = p;
    int negative = 0;
    if (*p == '+' || *p == '-') {
        negative = *p == '-';
        p++;
    }
    const char *digits_start = p;

    uint64_t significand = 0;
    while (p < e && *p == '0')
        p++;
    const char *first_significant = p;
    p = parse_digits(p, e, &significand, PARSE_FAST_DIGITS);
    size_t n_digits = (size_t)(p - digits_start);
    size_t n_significant = (size_t)(p - first_significant);
    int64_t exponent = 0;       /* value = significand * 10^exponent */
    if (p < e && *p == '.') {
        const char *fraction = ++p;
        if (n_significant == 0)
            while (p < e && *p == '0')
                p++;
        first_significant = p;
        size_t room = n_significant < PARSE_FAST_DIGITS ? PARSE_FAST_DIGITS - n_significant : 0;
        p = parse_digits(p, e, &significand, room);
        n_significant += (size_t)(p - first_significant);
        n_digits += (size_t)(p - fraction);
        exponent = -(int64_t)(p - fraction);
    }
    if (n_digits == 0) {
        if (parse_infinity(digits_start, e, negative, out))
            return MW_PARSE_OK;
        if (parse_missing_trimmed(start, e)) {
            *out = NAN;
            return MW_PARSE_MISSING;
        }
        return MW_PARSE_INVALID;
    }
    const char *mantissa_end = p;
    int64_t written_exponent = 0;   /* the exponent after 'e', clamped */
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        int exp_negative = 0;
        if (p < e && (*p == '+' || *p == '-')) {
            exp_negative = *p == '-';
            p++;
        }
        if (p == e || !parse_is_digit(*p))
            return MW_PARSE_INVALID;
        for (; p < e && parse_is_digit(*p); p++)
            if (written_exponent < PARSE_EXPONENT_CLAMP)
                written_exponent = written_exponent * 10 + (*p - '0');
        if (exp_negative)
            written_exponent = -written_exponent;
        exponent += written_exponent;
    }
    if (p != e)
        return MW_PARSE_INVALID;

    double value;
    if (n_significant == 0) {
        value = 0.0;
    } else if (PARSE_FAST_PATH && n_significant <= PARSE_FAST_DIGITS && significand <= PARSE_EXACT_SIGNIFICAND &&
               exponent >= -22 && exponent <= 22) {
        value = (double)significand;
        if (exponent < 0)
            value /= parse_exact_powers[-exponent];
        else
            value *= parse_exact_powers[exponent];
    } else {
        /* The slow path counts the mantissa's digits itself. */
        *out = parse_number_slow(digits_start, mantissa_end, negative, written_exponent);
        return MW_PARSE_OK;
    }
    *out = negative ? -value : value;
    return MW_PARSE_OK;
}

/* Reads the two ASCII digits at p (the caller checked they are there). */
static inline int parse_two_digits(const char *p, int *value)
{
    unsigned tens = (unsigned)(unsigned char)p[0] - '0', ones = (unsigned)(unsigned char)p[1] - '0';
    if (tens > 9 || ones > 9)
        return 0;
    *value = (int)(tens * 10 + ones);
    return 1;
}

static int parse_is_leap(int year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static int parse_days_in_month(int year, int month)
{
    static const unsigned char days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return month == 2 && parse_is_leap(year) ? 29 : days[month - 1];
}

/* The UTC offset at p: Z, or a sign, hh and an optional [:]mm. Stores it
 * in minutes east of UTC; returns 0 unless it runs exactly to e. */
static int parse_offset(const char *p, const char *e, int *minutes)
{
    if (e - p == 1 && (*p == 'Z' || *p == 'z')) {
        *minutes = 0;
        return 1;
    }
    if (*p != '+' && *p != '-')
        return 0;
    int sign = *p++ == '-' ? -1 : 1;
    int hours, mins = 0;
    if (e - p < 2 || !parse_two_digits(p, &hours))
        return 0;
    p += 2;
    if (p < e && *p == ':')
        p++;
    if (p < e) {
        if (e - p < 2 || !parse_two_digits(p, &mins))
            return 0;
        p += 2;
    }
    if (p != e || hours > 23 || mins > 59)
        return 0;
    *minutes = sign * (hours * 60 + mins);
    return 1;
}

mw_parse_result mw_parse_time(const char *s, size_t len, int64_t *epoch_ms)
{
    const char *p = s, *e = s + len;
    parse_trim(&p, &e);
    /* No missing-value spelling starts with a digit or is 10 bytes long. */
    if (e - p < 10 || !parse_is_digit(*p))
        return parse_missing_trimmed(p, e) ? MW_PARSE_MISSING : MW_PARSE_INVALID;

    int century, year_of_century, month, day;
    int hour = 0, minute = 0, second = 0, millis = 0, offset = 0;
    if (!parse_two_digits(p, &century) || !parse_two_digits(p + 2, &year_of_century) ||
        p[4] != '-' || !parse_two_digits(p + 5, &month) || p[7] != '-' ||
        !parse_two_digits(p + 8, &day))
        return MW_PARSE_INVALID;
    int year = century * 100 + year_of_century;
    if (month < 1 || month > 12 || day < 1 || day > parse_days_in_month(year, month))
        return MW_PARSE_INVALID;
    p += 10;

    if (p < e) {
        /* {T| }HH:MM */
        if ((*p != 'T' && *p != 't' && *p != ' ') || e - p < 6 ||
            !parse_two_digits(p + 1, &hour) || p[3] != ':' || !parse_two_digits(p + 4, &minute))
            return MW_PARSE_INVALID;
        p += 6;
        if (p < e && *p == ':') {
            if (e - p < 3 || !parse_two_digits(p + 1, &second))
                return MW_PARSE_INVALID;
            p += 3;
            if (p < e && (*p == '.' || *p == ',')) {
                p++;
                if (p == e || !parse_is_digit(*p))
                    return MW_PARSE_INVALID;
                int scale = 100;
                for (; p < e && parse_is_digit(*p); p++, scale /= 10)
                    millis += (*p - '0') * scale;
            }
        }
        if (hour > 23 || minute > 59 || second > 59)
            return MW_PARSE_INVALID;
        if (p < e && !parse_offset(p, e, &offset))
            return MW_PARSE_INVALID;
    }

    int64_t days = mw_calendar_days_from_civil(year, month, day);
    int64_t seconds = days * 86400 + hour * 3600 + minute * 60 + second - (int64_t)offset * 60;
    *epoch_ms = seconds * 1000 + millis;
    return MW_PARSE_OK;
}

size_t mw_format_time(int64_t epoch_ms, char *buf)
{
    /* Floor division, so instants before 1970 land in the right day. */
    int64_t ms = epoch_ms % 1000, secs = epoch_ms / 1000;
    if (ms < 0) {
        ms += 1000;
        secs--;
    }
    int64_t days = secs / 86400, rem = secs % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    int64_t y;
    int m, d;
    mw_calendar_civil_from_days(days, &y, &m, &d);
    int n = snprintf(buf, MW_TIME_TEXT, "%04lld-%02d-%02d %02d:%02d:%02d", (long long)y, m,
                     d, (int)(rem / 3600), (int)(rem % 3600 / 60), (int)(rem % 60));
    if (ms != 0)
        n += snprintf(buf + n, MW_TIME_TEXT - (size_t)n, ".%03d", (int)ms);
    return (size_t)n;
}

mw_field_kind mw_parse_infer(const char *s, size_t len)
{
    double number;
    int64_t stamp;
    switch (mw_parse_number(s, len, &number)) {
    case MW_PARSE_OK:
        return MW_FIELD_NUMBER;
    case MW_PARSE_MISSING:
        return MW_FIELD_MISSING;
    case MW_PARSE_INVALID:
        break;
    }
    return mw_parse_time(s, len, &stamp) == MW_PARSE_OK ? MW_FIELD_TIME : MW_FIELD_STRING;
}

mw_parse_result mw_parse_size(const char *s, size_t len, size_t *out)
{
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    size_t unit_at = len;
    while (unit_at > 0 && ((s[unit_at - 1] >= 'A' && s[unit_at - 1] <= 'Z') ||
                           (s[unit_at - 1] >= 'a' && s[unit_at - 1] <= 'z')))
        unit_at--;
    double number;
    if (unit_at == 0 || mw_parse_number(s, unit_at, &number) != MW_PARSE_OK ||
        !(number >= 0.0))
        return MW_PARSE_INVALID;
    static const struct {
        const char *name;
        double scale;
    } units[] = {
        {"", 1.0}, {"b", 1.0},
        {"k", 1024.0}, {"kb", 1024.0}, {"kib", 1024.0},
        {"m", 1048576.0}, {"mb", 1048576.0}, {"mib", 1048576.0},
        {"g", 1073741824.0}, {"gb", 1073741824.0}, {"gib", 1073741824.0},
        {"t", 1099511627776.0}, {"tb", 1099511627776.0}, {"tib", 1099511627776.0},
    };
    size_t unit_len = len - unit_at;
    for (size_t u = 0; u < sizeof units / sizeof units[0]; u++) {
        if (strlen(units[u].name) != unit_len)
            continue;
        size_t k = 0;
        while (k < unit_len && (s[unit_at + k] | 0x20) == units[u].name[k])
            k++;
        if (k < unit_len)
            continue;
        double bytes = floor(number * units[u].scale);
        if (!(bytes < (double)SIZE_MAX))
            return MW_PARSE_INVALID;
        *out = (size_t)bytes;
        return MW_PARSE_OK;
    }
    return MW_PARSE_INVALID;
}
