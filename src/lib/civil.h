/*
 * The proleptic Gregorian calendar as day numbers (days since 1970-01-01),
 * after Howard Hinnant's civil-date algorithms: exact for every int64 year
 * the callers use. Shared by the drivers, the transforms and time zones.
 */
#ifndef BARGE_CIVIL_H
#define BARGE_CIVIL_H

#include <stddef.h>
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

/* barge_iso_temporal flags */
#define BARGE_ISO_NAIVE 1 /* a timestamp with no offset mark at all */

/*
 * The whole text p[0..n) as a value of logical type `type` (BARGE_T_DATE:
 * days; BARGE_T_TIME: µs since midnight; BARGE_T_TIMESTAMP(TZ): µs since
 * 1970 UTC). The one reader of date/time text: SQLite's TEXT values and the
 * plan's casts both come here. Accepted, so that what SQLite's date
 * functions and ISO 8601 write reads back:
 *   date         YYYY-MM-DD
 *   time         HH:MM[:SS[.f...]]                 (no offset)
 *   timestamp    YYYY-MM-DD[( |T)HH:MM[:SS[.f...]]][Z|+00|+0000|+00:00]
 *   timestamptz  the same with any offset Z, ±HH, ±HHMM, ±HH:MM (to UTC);
 *                no offset means UTC
 * A naive timestamp takes a zero offset (a UTC mark, which SQLite's
 * strftime('...Z') writes) as its clock reading; any other offset would
 * shift its clock and is refused, as is any mark at all with
 * BARGE_ISO_NAIVE (the timezone step, which reads wall time in a named
 * zone). Fraction digits past µs must be zeros. Returns 0 or BARGE_EDATA
 * (no error message set: the caller names the value).
 */
int barge_iso_temporal(int64_t *out, int type, const char *p, size_t n,
		       int flags);

#endif
