/*
 * calendar.h: civil dates and days since 1970-01-01, in the proleptic
 * Gregorian calendar (UTC: no time zones, no leap seconds), for what
 * reads timestamps (iter/parse.c) and what draws time axes
 * (report/draw.c): one copy of the arithmetic.
 *
 * Howard Hinnant's days_from_civil and civil_from_days: years counted
 * from March, so the leap day ends a year, in 400-year eras of 146097
 * days. Integer arithmetic only, with floor division, so days before 1970
 * land right; exact for every year within +-10^15. No tables, no library
 * calls, no state.
 */
#ifndef MW_CALENDAR_H
#define MW_CALENDAR_H

#include <stdint.h>

/* Days from 1970-01-01 to year-month-day (month 1..12, day 1..31, not
 * checked against the month's length). */
int64_t mw_calendar_days_from_civil(int64_t year, int month, int day);

/* The civil date of `days` since 1970-01-01. */
void mw_calendar_civil_from_days(int64_t days, int64_t *year, int *month, int *day);

#endif /* MW_CALENDAR_H */
