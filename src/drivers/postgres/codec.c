/*
 * PostgreSQL's binary wire formats for the values whose form is not just
 * bytes (numeric, date, timestamp), and SQL literals for chunk bounds.
 * See pg_codec.h; PostgreSQL's numeric.c and timestamp.h for the formats.
 */
#include "pg_codec.h"
#include "civil.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NUMERIC_POS 0x0000
#define NUMERIC_NEG 0x4000
#define NUMERIC_NAN 0xC000
#define NUMERIC_PINF 0xD000
#define NUMERIC_NINF 0xF000
#define NUMERIC_MAX_DSCALE 0x3FFF
#define NUMERIC_MAX_INT_DIGITS 131072
#define NBASE 10000

/* PostgreSQL's limits (datatype/timestamp.h): dates from julian day 0 to
 * 2147483494, timestamps from 4714-11-24 BC to 294277-01-01, both
 * relative to 2000-01-01 here. */
#define PG_DATE_MIN (-INT64_C(2451545))
#define PG_DATE_END (INT64_C(2147483494) - INT64_C(2451545))
#define PG_TS_MIN (-INT64_C(211813488000000000))
#define PG_TS_END INT64_C(9223371331200000000)

/* A NBASE digit (0..9999) as four decimal digits ("%04u" without the
 * cost of printf, which showed in verify's profile). Returns 4. */
static size_t group4(char *g, unsigned v)
{
	g[0] = (char)('0' + v / 1000);
	g[1] = (char)('0' + v / 100 % 10);
	g[2] = (char)('0' + v / 10 % 10);
	g[3] = (char)('0' + v % 10);
	return 4;
}

int pgc_numeric_to_text(struct barge_buf *out, const unsigned char *p,
			size_t n, const char **why)
{
	char grp[8];
	if (n < 8) {
		*why = "a numeric shorter than its header";
		return BARGE_EDATA;
	}
	unsigned nd = pgc_get16(p);
	int weight = (int16_t)pgc_get16(p + 2);
	unsigned sign = pgc_get16(p + 4);
	unsigned dscale = pgc_get16(p + 6);
	const unsigned char *dg = p + 8;

	if (sign == NUMERIC_NAN)
		return barge_buf_adds(out, "NaN");
	if (sign == NUMERIC_PINF)
		return barge_buf_adds(out, "Infinity");
	if (sign == NUMERIC_NINF)
		return barge_buf_adds(out, "-Infinity");
	if ((sign != NUMERIC_POS && sign != NUMERIC_NEG) ||
	    dscale > NUMERIC_MAX_DSCALE || n != 8 + 2 * (size_t)nd) {
		*why = "a malformed numeric";
		return BARGE_EDATA;
	}
	for (unsigned i = 0; i < nd; i++)
		if (pgc_get16(dg + 2 * i) >= NBASE) {
			*why = "a numeric digit out of range";
			return BARGE_EDATA;
		}
	if (sign == NUMERIC_NEG)
		barge_buf_adds(out, "-");
	if (weight < 0) {
		barge_buf_adds(out, "0");
	} else {
		for (int d = 0; d <= weight; d++) {
			unsigned v = (unsigned)d < nd ? pgc_get16(dg + 2 * d) : 0;
			size_t k = group4(grp, v);
			if (d == 0) /* the first group without leading zeros */
				barge_buf_add(out, grp + (v >= 1000 ? 0 : v >= 100 ? 1
							  : v >= 10 ? 2 : 3),
					      v >= 1000 ? 4 : v >= 100 ? 3 : v >= 10 ? 2 : 1);
			else
				barge_buf_add(out, grp, k);
		}
	}
	if (dscale > 0) {
		barge_buf_adds(out, ".");
		unsigned done = 0;
		for (long d = (long)weight + 1; done < dscale; d++) {
			unsigned v = d >= 0 && (unsigned long)d < nd
					     ? pgc_get16(dg + 2 * d) : 0;
			unsigned take = dscale - done < 4 ? dscale - done : 4;
			group4(grp, v);
			barge_buf_add(out, grp, take);
			done += take;
		}
	}
	return out->err;
}

int pgc_numeric_from_text(struct barge_buf *out, const char *p, size_t n,
			  int precision, int scale, const char **why)
{
	unsigned char hdr[8];
	size_t i = 0, ib, ie, fb, fe;
	int neg = 0;

	if (n > 0 && (p[0] == '-' || p[0] == '+'))
		neg = p[i++] == '-';
	if ((n - i == 3 && memcmp(p + i, "NaN", 3) == 0) ||
	    (n - i == 8 && memcmp(p + i, "Infinity", 8) == 0)) {
		unsigned sign = p[i] == 'N' ? NUMERIC_NAN
				: neg ? NUMERIC_NINF : NUMERIC_PINF;
		if (sign != NUMERIC_NAN && precision > 0) {
			*why = "infinity does not fit a numeric with a precision";
			return BARGE_EDATA;
		}
		memset(hdr, 0, sizeof hdr);
		pgc_put16(hdr + 4, (uint16_t)sign);
		return barge_buf_add(out, hdr, sizeof hdr);
	}
	ib = i;
	while (i < n && p[i] >= '0' && p[i] <= '9')
		i++;
	ie = i;
	fb = fe = i;
	if (i < n && p[i] == '.') {
		fb = ++i;
		while (i < n && p[i] >= '0' && p[i] <= '9')
			i++;
		fe = i;
	}
	if (i != n || (ie == ib && fe == fb)) {
		*why = "text that is not a plain decimal number";
		return BARGE_EDATA;
	}
	while (ib < ie && p[ib] == '0') /* leading zeros carry nothing */
		ib++;
	size_t nint = ie - ib, nfrac = fe - fb, sigfrac = nfrac;
	while (sigfrac > 0 && p[fb + sigfrac - 1] == '0')
		sigfrac--;
	if (nint > NUMERIC_MAX_INT_DIGITS || nfrac > NUMERIC_MAX_DSCALE) {
		*why = "a decimal beyond numeric's range";
		return BARGE_EDATA;
	}
	if (precision > 0 && scale >= 0) {
		if (sigfrac > (size_t)scale) {
			*why = "more decimal places than the column's scale "
			       "(PostgreSQL would round it)";
			return BARGE_EDATA;
		}
		if (nint > (size_t)(precision - scale)) {
			*why = "more integer digits than the column's precision";
			return BARGE_EDATA;
		}
	}
	/* Base-10000 groups aligned on the decimal point. */
	size_t lead = (4 - nint % 4) % 4;
	size_t ngi = (nint + lead) / 4, ngf = (nfrac + 3) / 4;
	size_t ng = ngi + ngf, first = 0, last = ng;
	int weight = (int)ngi - 1;
	uint16_t *g = NULL;
	int err;

	if (ng && !(g = calloc(ng, sizeof *g)))
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	for (size_t k = 0; k < nint; k++) {
		size_t pos = k + lead;
		g[pos / 4] = (uint16_t)(g[pos / 4] * 10 + (p[ib + k] - '0'));
	}
	for (size_t k = 0; k < ngf * 4; k++) {
		int dgt = k < nfrac ? p[fb + k] - '0' : 0;
		g[ngi + k / 4] = (uint16_t)(g[ngi + k / 4] * 10 + dgt);
	}
	while (first < last && g[first] == 0) {
		first++;
		weight--;
	}
	while (last > first && g[last - 1] == 0)
		last--;
	if (first == last) {
		weight = 0;
		neg = 0;
	}
	pgc_put16(hdr, (uint16_t)(last - first));
	pgc_put16(hdr + 2, (uint16_t)(int16_t)weight);
	pgc_put16(hdr + 4, neg ? NUMERIC_NEG : NUMERIC_POS);
	pgc_put16(hdr + 6, (uint16_t)nfrac);
	barge_buf_add(out, hdr, sizeof hdr);
	for (size_t k = first; k < last; k++) {
		unsigned char b2[2];
		pgc_put16(b2, g[k]);
		barge_buf_add(out, b2, 2);
	}
	err = out->err;
	free(g);
	return err;
}

int pgc_date_from_pg(int32_t pg, int64_t *out, const char **why)
{
	(void)why;
	if (pg == INT32_MAX)
		*out = INT64_MAX;
	else if (pg == INT32_MIN)
		*out = INT64_MIN;
	else
		*out = (int64_t)pg + PGC_EPOCH_DAYS;
	return 0;
}

int pgc_date_to_pg(int64_t v, int32_t *out, const char **why)
{
	if (v == INT64_MAX) {
		*out = INT32_MAX;
		return 0;
	}
	if (v == INT64_MIN) {
		*out = INT32_MIN;
		return 0;
	}
	if (v < PG_DATE_MIN + PGC_EPOCH_DAYS || v >= PG_DATE_END + PGC_EPOCH_DAYS) {
		*why = "a date outside PostgreSQL's range (4713 BC to 5874897 AD)";
		return BARGE_EDATA;
	}
	*out = (int32_t)(v - PGC_EPOCH_DAYS);
	return 0;
}

int pgc_ts_from_pg(int64_t pg, int64_t *out, const char **why)
{
	if (pg == INT64_MAX || pg == INT64_MIN) {
		*out = pg;
		return 0;
	}
	if (pg >= INT64_MAX - PGC_EPOCH_USEC) {
		*why = "a timestamp after 294246 AD, past the end of barge's "
		       "microsecond range";
		return BARGE_EDATA;
	}
	*out = pg + PGC_EPOCH_USEC;
	return 0;
}

int pgc_ts_to_pg(int64_t v, int64_t *out, const char **why)
{
	if (v == INT64_MAX || v == INT64_MIN) {
		*out = v;
		return 0;
	}
	if (v < PG_TS_MIN + PGC_EPOCH_USEC || v >= PG_TS_END) {
		*why = "a timestamp outside PostgreSQL's range (4714 BC to 294276 AD)";
		return BARGE_EDATA;
	}
	*out = v - PGC_EPOCH_USEC;
	return 0;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/* "YYYY-MM-DD" (and " BC" after `tail`) for days since 1970. */
static void put_date(struct barge_buf *out, int64_t days, const char *tail)
{
	int64_t y;
	int m, d;
	barge_civil_from_days(days, &y, &m, &d);
	int bc = y <= 0;
	barge_buf_printf(out, "%04" PRId64 "-%02d-%02d%s%s", bc ? 1 - y : y, m, d,
			 tail, bc ? " BC" : "");
}

static void put_time(struct barge_buf *out, int64_t us)
{
	barge_buf_printf(out, "%02" PRId64 ":%02" PRId64 ":%02" PRId64 ".%06" PRId64,
			 us / INT64_C(3600000000), us / 60000000 % 60,
			 us / 1000000 % 60, us % 1000000);
}

/* A string literal. PostgreSQL text cannot hold NUL: a NUL would end the
 * literal in the middle, so a value with one is refused (BARGE_EDATA). */
static int put_quoted(struct barge_buf *out, const char *p, size_t n)
{
	if (n && memchr(p, '\0', n))
		return barge_error_set(BARGE_EDATA,
				       "postgres: a text value with a NUL byte "
				       "(PostgreSQL text cannot hold NUL)");
	barge_buf_adds(out, "'");
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\'')
			barge_buf_adds(out, "'");
		barge_buf_add(out, p + i, 1);
	}
	return barge_buf_adds(out, "'");
}

int pgc_literal(struct barge_buf *out, const struct barge_value *v)
{
	char hx[37];
	int err;
	if (v->null)
		return barge_buf_adds(out, "NULL");
	switch (v->type) {
	case BARGE_T_BOOL:
		return barge_buf_adds(out, v->i ? "true" : "false");
	case BARGE_T_INT64:
		return barge_buf_printf(out, "'%" PRId64 "'::int8", v->i);
	case BARGE_T_FLOAT64:
		if (isnan(v->f))
			return barge_buf_adds(out, "'NaN'::float8");
		if (isinf(v->f))
			return barge_buf_adds(out, v->f > 0 ? "'Infinity'::float8"
							    : "'-Infinity'::float8");
		return barge_buf_printf(out, "'%.17g'::float8", v->f);
	case BARGE_T_DECIMAL:
		if ((err = put_quoted(out, v->p, v->n)))
			return err;
		return barge_buf_adds(out, "::numeric");
	case BARGE_T_TEXT:
	case BARGE_T_JSON:
		if ((err = put_quoted(out, v->p, v->n)))
			return err;
		return barge_buf_adds(out, "::text");
	case BARGE_T_BYTES:
		barge_buf_adds(out, "'\\x");
		for (size_t i = 0; i < v->n; i++) {
			barge_hex_encode(hx, v->p + i, 1);
			barge_buf_add(out, hx, 2);
		}
		return barge_buf_adds(out, "'::bytea");
	case BARGE_T_UUID:
		if (v->n != 16) /* every reader makes 16 bytes */
			return barge_error_set(BARGE_EDATA, "a uuid value of %zu bytes",
					       v->n);
		barge_uuid_format(hx, (const unsigned char *)v->p);
		return barge_buf_printf(out, "'%s'::uuid", hx);
	case BARGE_T_DATE:
		if (v->i == INT64_MAX || v->i == INT64_MIN)
			return barge_buf_adds(out, v->i > 0 ? "'infinity'::date"
							    : "'-infinity'::date");
		barge_buf_adds(out, "'");
		put_date(out, v->i, "");
		return barge_buf_adds(out, "'::date");
	case BARGE_T_TIME:
		barge_buf_adds(out, "'");
		put_time(out, v->i);
		return barge_buf_adds(out, "'::time");
	case BARGE_T_TIMESTAMP:
	case BARGE_T_TIMESTAMPTZ: {
		int tz = v->type == BARGE_T_TIMESTAMPTZ;
		if (v->i == INT64_MAX || v->i == INT64_MIN)
			return barge_buf_printf(out, "'%sinfinity'::%s",
						v->i > 0 ? "" : "-",
						tz ? "timestamptz" : "timestamp");
		int64_t day = floor_div(v->i, INT64_C(86400000000));
		int64_t us = v->i - day * INT64_C(86400000000);
		struct barge_buf tm;
		barge_buf_init(&tm, 64);
		barge_buf_adds(&tm, " ");
		put_time(&tm, us);
		if (tz)
			barge_buf_adds(&tm, "+00");
		/* 'YYYY-MM-DD HH:MM:SS.ffffff[+00][ BC]' */
		barge_buf_adds(out, "'");
		put_date(out, day, tm.p ? tm.p : "");
		barge_buf_dispose(&tm);
		return barge_buf_printf(out, "'::%s", tz ? "timestamptz" : "timestamp");
	}
	default:
		return barge_error_set(BARGE_EUSAGE,
				       "postgres: a %s value cannot bound a chunk",
				       barge_type_name(v->type));
	}
}
