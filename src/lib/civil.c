#include "civil.h"
#include "barge/barge.h"

#define US_PER_DAY INT64_C(86400000000)

int64_t barge_days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void barge_civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

int barge_days_in_month(int64_t y, int m)
{
	static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : dm[m - 1];
}

/* ---- ISO 8601 pieces ---------------------------------------------------- */

/* Read exactly `n` digits at *p; -1 if they are not all digits. */
int64_t barge_iso_digits(const char **p, const char *end, int n)
{
	int64_t v = 0;
	for (int i = 0; i < n; i++, (*p)++) {
		if (*p >= end || **p < '0' || **p > '9')
			return -1;
		v = v * 10 + (**p - '0');
	}
	return v;
}

int barge_iso_date(const char **pp, const char *end, int64_t *days)
{
	const char *p = *pp;
	int64_t y = barge_iso_digits(&p, end, 4);
	if (y < 0 || p >= end || *p++ != '-')
		return -1;
	int64_t m = barge_iso_digits(&p, end, 2);
	if (m < 1 || m > 12 || p >= end || *p++ != '-')
		return -1;
	int64_t d = barge_iso_digits(&p, end, 2);
	if (d < 1 || d > barge_days_in_month(y, (int)m))
		return -1;
	*days = barge_days_from_civil(y, (int)m, (int)d);
	*pp = p;
	return 0;
}

/* HH:MM[:SS[.f...]] -> µs since midnight; digits past µs must be zeros. */
int barge_iso_time(const char **pp, const char *end, int64_t *us)
{
	const char *p = *pp;
	int64_t h = barge_iso_digits(&p, end, 2), mi, s = 0, frac = 0;
	if (h < 0 || h > 23 || p >= end || *p++ != ':')
		return -1;
	mi = barge_iso_digits(&p, end, 2);
	if (mi < 0 || mi > 59)
		return -1;
	if (p < end && *p == ':') {
		p++;
		s = barge_iso_digits(&p, end, 2);
		if (s < 0 || s > 59)
			return -1;
		if (p < end && *p == '.') {
			int nd = 0;
			p++;
			for (; p < end && *p >= '0' && *p <= '9'; p++, nd++) {
				if (nd < 6)
					frac = frac * 10 + (*p - '0');
				else if (*p != '0')
					return -1; /* finer than µs: not exact */
			}
			if (nd == 0)
				return -1;
			for (; nd < 6; nd++)
				frac *= 10;
		}
	}
	*us = ((h * 60 + mi) * 60 + s) * 1000000 + frac;
	*pp = p;
	return 0;
}

/* Z, +HH:MM, +HHMM or +HH -> offset in µs east of UTC. */
int barge_iso_offset(const char **pp, const char *end, int64_t *off)
{
	const char *p = *pp;
	if (p < end && *p == 'Z') {
		*off = 0;
		*pp = p + 1;
		return 0;
	}
	if (p >= end || (*p != '+' && *p != '-'))
		return -1;
	int neg = *p++ == '-';
	int64_t h = barge_iso_digits(&p, end, 2), m = 0;
	if (h < 0 || h > 15)
		return -1;
	if (p < end) {
		if (*p == ':')
			p++;
		m = barge_iso_digits(&p, end, 2);
		if (m < 0 || m > 59)
			return -1;
	}
	*off = (neg ? -1 : 1) * (h * 60 + m) * 60 * 1000000;
	*pp = p;
	return 0;
}

/* ---- whole values --------------------------------------------------------
 * The SQLite reader and the plan's cast each had a copy of this; they
 * differed on a naive timestamp with a zero offset ("...Z", "+00:00"): the
 * reader took it, the cast refused it. Both take it now (docs/sqlite.md,
 * docs/mapping.md): it names the clock reading the value already holds.
 */
int barge_iso_temporal(int64_t *out, int type, const char *p, size_t n,
		       int flags)
{
	const char *end = p + n;
	int64_t days = 0, us = 0, off = 0;
	int marked = 0;

	if (type == BARGE_T_TIME) {
		if (barge_iso_time(&p, end, &us) < 0 || p != end)
			return BARGE_EDATA;
		*out = us;
		return 0;
	}
	if (barge_iso_date(&p, end, &days) < 0)
		return BARGE_EDATA;
	if (type == BARGE_T_DATE) {
		if (p != end)
			return BARGE_EDATA;
		*out = days;
		return 0;
	}
	if (p < end) {
		if (*p != ' ' && *p != 'T')
			return BARGE_EDATA;
		p++;
		if (barge_iso_time(&p, end, &us) < 0)
			return BARGE_EDATA;
		if (p < end) {
			if (barge_iso_offset(&p, end, &off) < 0)
				return BARGE_EDATA;
			marked = 1;
		}
	}
	if (p != end)
		return BARGE_EDATA;
	if (type == BARGE_T_TIMESTAMP &&
	    (off != 0 || (marked && (flags & BARGE_ISO_NAIVE))))
		return BARGE_EDATA;
	*out = days * US_PER_DAY + us - off;
	return 0;
}
