/*
 * The proleptic Gregorian calendar as day numbers (days since 1970-01-01),
 * after Howard Hinnant's civil-date algorithms: exact for every int64 year
 * the callers use. Shared by the drivers, the transforms and time zones.
 */
#ifndef BARGE_CIVIL_H
#define BARGE_CIVIL_H

#include <stdint.h>

int64_t barge_days_from_civil(int64_t y, int m, int d);
void barge_civil_from_days(int64_t z, int64_t *y, int *m, int *d);
int barge_days_in_month(int64_t y, int m); /* m in 1..12 */

/*
 * ISO 8601 pieces, read from *pp (advanced past them) up to `end`; -1 when
 * the text is not that piece. digits: exactly n digits. date: YYYY-MM-DD
 * (a real day) -> days. time: HH:MM[:SS[.f...]] -> µs since midnight (digits
 * past µs must be zeros). offset: Z, +HH:MM, +HHMM or +HH -> µs east of UTC.
 */
int64_t barge_iso_digits(const char **p, const char *end, int n);
int barge_iso_date(const char **pp, const char *end, int64_t *days);
int barge_iso_time(const char **pp, const char *end, int64_t *us);
int barge_iso_offset(const char **pp, const char *end, int64_t *off);

#endif
