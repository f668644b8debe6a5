/*
 * parse.h: field parsers for text sources: numbers, timestamps, and a
 * guess at what kind of value a field holds.
 *
 * Every parser takes a (pointer, length) pair, so it works on a field of
 * a CSV row in place (no NUL terminator needed, no copy), and returns a
 * mw_parse_result. Leading and trailing blanks (space, tab) are ignored;
 * everything else must be consumed, so "12abc" is invalid, not 12.
 *
 * Missing values: a field that is empty, blank, or one of the spellings
 * NA, N/A, #N/A, <NA>, NaN, -NaN, +NaN, null, None (case-insensitive) is
 * MW_PARSE_MISSING, never a number and never invalid. mw_parse_number
 * stores NaN for it; mw_parse_time leaves its output untouched.
 *
 * Nothing here allocates, keeps state or depends on the C locale: the
 * decimal point is always '.', whatever setlocale says.
 */
#ifndef MW_PARSE_H
#define MW_PARSE_H

#include <stddef.h>
#include <stdint.h>

typedef enum mw_parse_result {
    MW_PARSE_OK = 0,     /* a value, stored in the output */
    MW_PARSE_MISSING,    /* a missing-value spelling (see above) */
    MW_PARSE_INVALID     /* not a value of this kind; output untouched */
} mw_parse_result;

/* What a field looks like, for type inference and header detection. */
typedef enum mw_field_kind {
    MW_FIELD_MISSING = 0,
    MW_FIELD_NUMBER,
    MW_FIELD_TIME,
    MW_FIELD_STRING
} mw_field_kind;

/* Parses a decimal number: optional sign, digits with an optional '.'
 * (at least one digit on either side), optional exponent (e/E, optional
 * sign, digits). "inf" and "infinity" (any case, optional sign) give
 * infinities; a finite spelling out of range gives an infinity or zero,
 * as strtod does. Hexadecimal, thousands separators and a ',' decimal
 * point are invalid. The result is correctly rounded (bit-identical to
 * strtod in the C locale).
 * Returns MW_PARSE_OK with *out set, MW_PARSE_MISSING with *out = NaN,
 * or MW_PARSE_INVALID with *out untouched. */
mw_parse_result mw_parse_number(const char *s, size_t len, double *out);

/* A size in bytes: a number (a fraction allowed) with an optional unit,
 * K, M, G or T (powers of 1024; "KB", "KiB", "k" too, case-insensitive)
 * or B, such as "256M", "1.5GiB", "4096". The result is rounded down and
 * must fit in a size_t; no missing spellings. */
mw_parse_result mw_parse_size(const char *s, size_t len, size_t *out);

/* Parses a timestamp into milliseconds since 1970-01-01T00:00:00Z:
 *   YYYY-MM-DD
 *   YYYY-MM-DD{T| }HH:MM[:SS[{.|,}fraction]][offset]
 * where the offset is Z, +hh:mm, -hh:mm, +hhmm or +hh (a 't' or 'z' in
 * lower case is accepted too). Without an offset the time is UTC.
 * Fraction digits past milliseconds are dropped (rounding toward the
 * earlier instant). Dates are checked (month 1-12, the day within its
 * month, leap years by the Gregorian rule), as are hours 0-23, minutes
 * and seconds 0-59 (no leap second) and offsets up to 23:59.
 * Returns MW_PARSE_OK with *epoch_ms set, MW_PARSE_MISSING or
 * MW_PARSE_INVALID with *epoch_ms untouched. */
mw_parse_result mw_parse_time(const char *s, size_t len, int64_t *epoch_ms);

/* Writes epoch_ms as "YYYY-MM-DD HH:MM:SS" (UTC), with ".mmm" when it has
 * milliseconds, into buf (at least MW_TIME_TEXT bytes). Years outside
 * 0..9999 are written as they are. Returns the text's length. */
#define MW_TIME_TEXT 40
size_t mw_format_time(int64_t epoch_ms, char *buf);

/* Returns 1 if the field is one of the missing-value spellings above
 * (blanks around it ignored), else 0. */
int mw_parse_is_missing(const char *s, size_t len);

/* Says what the field holds, checked in this order: missing, number,
 * timestamp, else string. */
mw_field_kind mw_parse_infer(const char *s, size_t len);

#endif /* MW_PARSE_H */
