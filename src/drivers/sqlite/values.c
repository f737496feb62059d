/*
 * Value conversion between SQLite's storage classes and barge's logical
 * types, both ways, exact or not at all: a value that does not fit is
 * BARGE_EDATA, never a silent change (docs/sqlite.md lists the rules).
 */
#include "sqlite_int.h"
#include "civil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define US_PER_DAY INT64_C(86400000000)
#define DECIMAL_TEXT_MAX (1u << 20) /* longest decimal text accepted */

/* ---- Dates and times (the calendar and the text reader are in src/lib/civil.c) ---- */

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static void put_fraction(char *out, size_t n, int64_t us)
{
	if (us == 0)
		out[0] = '\0';
	else if (us % 1000 == 0)
		snprintf(out, n, ".%03d", (int)(us / 1000));
	else
		snprintf(out, n, ".%06d", (int)us);
}

/* Format a DATE/TIME/TIMESTAMP(TZ) slot; -1 if out of 0000-9999. */
static int format_temporal(int type, int64_t v, char *out, size_t n)
{
	int64_t days = v, us = 0, y;
	int m, d;
	char frac[16];

	if (type == BARGE_T_TIME) {
		if (v < 0 || v >= US_PER_DAY)
			return -1;
		put_fraction(frac, sizeof frac, v % 1000000);
		v /= 1000000;
		snprintf(out, n, "%02d:%02d:%02d%s", (int)(v / 3600),
			 (int)(v / 60 % 60), (int)(v % 60), frac);
		return 0;
	}
	if (type != BARGE_T_DATE) {
		/* keep clear of overflow in the day arithmetic */
		if (v < INT64_MIN / 2 || v > INT64_MAX / 2)
			return -1;
		days = floor_div(v, US_PER_DAY);
		us = v - days * US_PER_DAY;
	}
	if (days < -800000 || days > 3000000)
		return -1;
	barge_civil_from_days(days, &y, &m, &d);
	if (y < 0 || y > 9999)
		return -1;
	if (type == BARGE_T_DATE) {
		snprintf(out, n, "%04d-%02d-%02d", (int)y, m, d);
		return 0;
	}
	put_fraction(frac, sizeof frac, us % 1000000);
	us /= 1000000;
	snprintf(out, n, "%04d-%02d-%02d %02d:%02d:%02d%s%s", (int)y, m, d,
		 (int)(us / 3600), (int)(us / 60 % 60), (int)(us % 60), frac,
		 type == BARGE_T_TIMESTAMPTZ ? "+00:00" : "");
	return 0;
}

/* ---- Decimals ---------------------------------------------------------------
 * A decimal is built from a digit string and the position of the point
 * (digits before it, may be <= 0 or past the end) into plain notation:
 * -?digits[.digits], leading zeros dropped, no "-0".
 */
static int plain_decimal(struct barge_buf *b, int neg, const char *dg,
			 size_t nd, int64_t point)
{
	int allzero = 1;
	for (size_t i = 0; i < nd; i++)
		if (dg[i] != '0')
			allzero = 0;
	if (neg && !allzero)
		barge_buf_add(b, "-", 1);
	if (point <= 0) {
		barge_buf_add(b, "0", 1);
		if (nd) {
			barge_buf_add(b, ".", 1);
			for (int64_t i = point; i < 0; i++)
				barge_buf_add(b, "0", 1);
			barge_buf_add(b, dg, nd);
		}
		return b->err;
	}
	/* integer part: skip leading zeros but keep one digit */
	size_t ip = (size_t)point < nd ? (size_t)point : nd;
	size_t s = 0;
	while (s < ip && dg[s] == '0')
		s++;
	if (s == ip) {
		barge_buf_add(b, "0", 1); /* an all-zero integer part */
	} else {
		barge_buf_add(b, dg + s, ip - s);
		for (int64_t i = (int64_t)nd; i < point; i++)
			barge_buf_add(b, "0", 1);
	}
	if ((size_t)point < nd) {
		barge_buf_add(b, ".", 1);
		barge_buf_add(b, dg + point, nd - (size_t)point);
	}
	return b->err;
}

/* The shortest decimal text that reads back as `d`, in plain notation. */
static int decimal_from_double(struct barge_buf *b, double d)
{
	char sci[40], dg[24];
	size_t nd = 0;

	if (isnan(d))
		return barge_buf_adds(b, "NaN");
	if (isinf(d))
		return barge_buf_adds(b, d < 0 ? "-Infinity" : "Infinity");
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(sci, sizeof sci, "%.*e", prec - 1, d);
		if (strtod(sci, NULL) == d)
			break;
	}
	const char *p = sci;
	int neg = *p == '-';
	if (neg)
		p++;
	for (; *p && *p != 'e'; p++)
		if (*p != '.')
			dg[nd++] = *p;
	long e = *p == 'e' ? strtol(p + 1, NULL, 10) : 0;
	while (nd > 1 && dg[nd - 1] == '0')
		nd--;
	return plain_decimal(b, neg, dg, nd, (int64_t)e + 1);
}

/*
 * A decimal literal [+-]digits[.digits][e[+-]digits] (or NaN, Infinity)
 * into plain notation; -1 if it is not one. Trailing zeros are kept: they
 * carry the scale.
 */
static int decimal_from_text(struct barge_buf *b, const char *p, size_t n)
{
	const char *end = p + n, *dg0;
	int neg = 0;
	int64_t point, exp = 0;
	size_t nd = 0;
	struct barge_buf d;
	int err;

	if ((n == 3 && memcmp(p, "NaN", 3) == 0) ||
	    (n == 8 && memcmp(p, "Infinity", 8) == 0) ||
	    (n == 9 && memcmp(p, "-Infinity", 9) == 0))
		return barge_buf_add(b, p, n);
	if (n > DECIMAL_TEXT_MAX)
		return -1;
	if (p < end && (*p == '-' || *p == '+'))
		neg = *p++ == '-';
	barge_buf_init(&d, n + 1);
	dg0 = p;
	for (; p < end && *p >= '0' && *p <= '9'; p++)
		barge_buf_add(&d, p, 1);
	point = (int64_t)(p - dg0);
	if (p < end && *p == '.')
		for (p++; p < end && *p >= '0' && *p <= '9'; p++)
			barge_buf_add(&d, p, 1);
	nd = d.len;
	if (p < end && (*p == 'e' || *p == 'E')) {
		int eneg = 0, ed = 0;
		p++;
		if (p < end && (*p == '-' || *p == '+'))
			eneg = *p++ == '-';
		for (; p < end && *p >= '0' && *p <= '9'; p++, ed++)
			if (exp < 100000)
				exp = exp * 10 + (*p - '0');
		if (!ed)
			nd = 0;
		exp = eneg ? -exp : exp;
	}
	/* a bounded result: 1e99999 is a literal, not a value we can spell */
	if (nd == 0 || p != end || d.err || exp > 4096 || exp < -4096) {
		barge_buf_dispose(&d);
		return -1;
	}
	err = plain_decimal(b, neg, d.p, nd, point + exp);
	barge_buf_dispose(&d);
	return err;
}

/* Would a NUMERIC/INTEGER/REAL column keep this decimal's value? It takes
 * an integer in int64 range as INTEGER and anything else as a double,
 * exact for up to 15 significant digits. */
static int decimal_fits_numeric(const char *p, size_t n)
{
	size_t first = n, last = 0, dot = n;
	if (n && (p[0] == 'N' || p[0] == 'I' || (n > 1 && p[1] == 'I')))
		return 1; /* NaN/Infinity stay TEXT: SQLite does not parse them */
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '.')
			dot = i;
		else if (p[i] >= '1' && p[i] <= '9') {
			if (first == n)
				first = i;
			last = i;
		}
	}
	if (first == n)
		return 1;
	int frac = last > dot && dot < n;
	if (!frac) {
		int64_t v;
		char tmp[32];
		size_t len = dot < n ? dot : n;
		if (len < sizeof tmp) {
			memcpy(tmp, p, len);
			tmp[len] = '\0';
			if (barge_parse_i64(&v, tmp, "decimal") == 0)
				return 1;
			barge_error_clear();
		}
	}
	size_t sig = 0;
	for (size_t i = first; i <= last; i++)
		if (p[i] != '.')
			sig++;
	/* the exponent: integer digits from `first`, or leading fraction zeros */
	int64_t e = first < dot ? (int64_t)(dot - first) : -(int64_t)(first - dot);
	return sig <= 15 && e < 300 && e > -290;
}

/* ---- Reading ---- */

static int double_exact_i64(int64_t i, double *d)
{
	*d = (double)i;
	if (*d >= 9223372036854775808.0 || *d < -9223372036854775808.0)
		return 0;
	return (int64_t)*d == i;
}

int sq_value_conv(sqlite3_value *sv, int type, struct barge_value *v,
		  struct barge_buf *scratch)
{
	int ct = sqlite3_value_type(sv);
	const char *p = NULL;
	size_t n = 0;

	memset(v, 0, sizeof *v);
	v->type = type;
	if (ct == SQLITE_NULL) {
		v->null = 1;
		return 0;
	}
	if (ct == SQLITE_TEXT) {
		p = (const char *)sqlite3_value_text(sv);
		n = (size_t)sqlite3_value_bytes(sv);
	} else if (ct == SQLITE_BLOB) {
		p = sqlite3_value_blob(sv);
		n = (size_t)sqlite3_value_bytes(sv);
		if (!p)
			p = ""; /* an empty blob is a value, not NULL */
	}
	if (n && !p)
		return barge_error_set(BARGE_ENOMEM, "out of memory reading a value");
	if (!p)
		p = "";
	barge_buf_clear(scratch);

	switch (type) {
	case BARGE_T_INT64:
		if (ct != SQLITE_INTEGER)
			return BARGE_EDATA;
		v->i = sqlite3_value_int64(sv);
		return 0;
	case BARGE_T_BOOL:
		if (ct != SQLITE_INTEGER)
			return BARGE_EDATA;
		v->i = sqlite3_value_int64(sv);
		return v->i == 0 || v->i == 1 ? 0 : BARGE_EDATA;
	case BARGE_T_FLOAT64:
		if (ct == SQLITE_FLOAT) {
			v->f = sqlite3_value_double(sv);
			return 0;
		}
		if (ct == SQLITE_INTEGER &&
		    double_exact_i64(sqlite3_value_int64(sv), &v->f))
			return 0;
		return BARGE_EDATA;
	case BARGE_T_TEXT:
		if (ct != SQLITE_TEXT)
			return BARGE_EDATA;
		v->p = p;
		v->n = n;
		return 0;
	case BARGE_T_BYTES:
		if (ct != SQLITE_BLOB)
			return BARGE_EDATA;
		v->p = p;
		v->n = n;
		return 0;
	case BARGE_T_DATE:
	case BARGE_T_TIME:
	case BARGE_T_TIMESTAMP:
	case BARGE_T_TIMESTAMPTZ:
		if (ct != SQLITE_TEXT || barge_iso_temporal(&v->i, type, p, n, 0) < 0)
			return BARGE_EDATA;
		return 0;
	case BARGE_T_DECIMAL:
	case BARGE_T_JSON:
		if (ct == SQLITE_INTEGER)
			barge_buf_printf(scratch, "%lld",
					 (long long)sqlite3_value_int64(sv));
		else if (ct == SQLITE_FLOAT) {
			double d = sqlite3_value_double(sv);
			/* JSON has no spelling for an infinity */
			if (type == BARGE_T_JSON && !isfinite(d))
				return BARGE_EDATA;
			decimal_from_double(scratch, d);
		} else if (ct == SQLITE_TEXT && type == BARGE_T_JSON) {
			v->p = p;
			v->n = n;
			return 0;
		} else if (ct != SQLITE_TEXT || decimal_from_text(scratch, p, n) < 0)
			return BARGE_EDATA;
		if (scratch->err)
			return scratch->err;
		v->p = scratch->p;
		v->n = scratch->len;
		return 0;
	case BARGE_T_UUID: {
		unsigned char u[16];
		if (ct == SQLITE_BLOB && n == 16) {
			v->p = p;
			v->n = 16;
			return 0;
		}
		if (ct != SQLITE_TEXT || barge_uuid_parse(u, p, n) < 0)
			return BARGE_EDATA;
		if (barge_buf_add(scratch, u, 16) < 0)
			return scratch->err;
		v->p = scratch->p;
		v->n = 16;
		return 0;
	}
	case BARGE_T_ANY:
		switch (ct) {
		case SQLITE_INTEGER:
			v->type = BARGE_T_INT64;
			v->i = sqlite3_value_int64(sv);
			break;
		case SQLITE_FLOAT:
			v->type = BARGE_T_FLOAT64;
			v->f = sqlite3_value_double(sv);
			break;
		default:
			v->type = ct == SQLITE_TEXT ? BARGE_T_TEXT : BARGE_T_BYTES;
			v->p = p;
			v->n = n;
		}
		return 0;
	default:
		return barge_error_set(BARGE_EUSAGE, "sqlite: cannot read type %s",
				       barge_type_name(type));
	}
}

int sq_column_value(sqlite3_stmt *st, int i, int type, struct barge_value *v,
		    struct barge_buf *scratch)
{
	return sq_value_conv(sqlite3_column_value(st, i), type, v, scratch);
}

/* Append up to 40 bytes of `p` quoted, other than printable ASCII as \xNN. */
static void quoted(struct barge_buf *b, const char *p, size_t n)
{
	barge_buf_add(b, "'", 1);
	for (size_t i = 0; i < n && i < 40; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c >= 0x20 && c < 0x7f && c != '\'')
			barge_buf_add(b, p + i, 1);
		else
			barge_buf_printf(b, "\\x%02x", c);
	}
	if (n > 40)
		barge_buf_adds(b, "...");
	barge_buf_add(b, "'", 1);
}

void sq_raw_text(struct barge_buf *b, sqlite3_stmt *st, int i)
{
	switch (sqlite3_column_type(st, i)) {
	case SQLITE_NULL: barge_buf_adds(b, "NULL"); break;
	case SQLITE_INTEGER:
		barge_buf_printf(b, "%lld", (long long)sqlite3_column_int64(st, i));
		break;
	case SQLITE_FLOAT:
		barge_buf_printf(b, "%.17g", sqlite3_column_double(st, i));
		break;
	case SQLITE_TEXT: {
		const char *p = (const char *)sqlite3_column_text(st, i);
		quoted(b, p ? p : "", (size_t)sqlite3_column_bytes(st, i));
		break;
	}
	default:
		barge_buf_printf(b, "(%d bytes)", sqlite3_column_bytes(st, i));
	}
}

void sq_describe_found(sqlite3_stmt *st, int i, char *out, size_t n)
{
	static const char *const cls[] = {"?", "INTEGER", "REAL", "TEXT", "BLOB",
					  "NULL"};
	struct barge_buf b;
	int ct = sqlite3_column_type(st, i);
	barge_buf_init(&b, 512);
	barge_buf_adds(&b, cls[ct >= 1 && ct <= 5 ? ct : 0]);
	if (ct != SQLITE_NULL) {
		barge_buf_adds(&b, " ");
		sq_raw_text(&b, st, i);
	}
	snprintf(out, n, "%s", b.p ? b.p : "?");
	barge_buf_dispose(&b);
}

void sq_value_text(struct barge_buf *b, const struct barge_value *v)
{
	char tmp[64];
	if (v->null) {
		barge_buf_adds(b, "NULL");
		return;
	}
	switch (v->type) {
	case BARGE_T_FLOAT64: barge_buf_printf(b, "%.17g", v->f); return;
	case BARGE_T_DATE:
	case BARGE_T_TIME:
	case BARGE_T_TIMESTAMP:
	case BARGE_T_TIMESTAMPTZ:
		if (format_temporal(v->type, v->i, tmp, sizeof tmp) == 0) {
			quoted(b, tmp, strlen(tmp));
			return;
		}
		break;
	case BARGE_T_UUID:
		if (v->n == 16) {
			barge_uuid_format(tmp, (const unsigned char *)v->p);
			barge_buf_adds(b, tmp);
			return;
		}
		break;
	case BARGE_T_BYTES: barge_buf_printf(b, "(%zu bytes)", v->n); return;
	default:
		if (barge_type_is_varlen(v->type)) {
			quoted(b, v->p, v->n);
			return;
		}
	}
	barge_buf_printf(b, "%lld", (long long)v->i);
}

/* ---- Writing ---- */

int sq_bind_value(sqlite3_stmt *st, int idx, const struct barge_value *v,
		  enum sq_affinity aff, int copy, const char **why)
{
	sqlite3_destructor_type keep = copy ? SQLITE_TRANSIENT : SQLITE_STATIC;
	char tmp[64];
	int rc;
	int numeric = aff == SQ_AFF_NUMERIC || aff == SQ_AFF_INTEGER ||
		      aff == SQ_AFF_REAL;

	*why = NULL;
	if (v->null)
		return sqlite3_bind_null(st, idx);
	switch (v->type) {
	case BARGE_T_INT64:
	case BARGE_T_BOOL: {
		double d;
		if (aff == SQ_AFF_REAL && !double_exact_i64(v->i, &d)) {
			*why = "a REAL column would round it";
			return BARGE_EDATA;
		}
		return sqlite3_bind_int64(st, idx, v->i);
	}
	case BARGE_T_FLOAT64:
		if (isnan(v->f)) {
			*why = "SQLite stores NaN as NULL";
			return BARGE_EDATA;
		}
		if (v->f == 0 && signbit(v->f) && numeric) {
			*why = "SQLite stores -0.0 as 0 in a column with a numeric "
			       "type; declare it with no type to keep the sign";
			return BARGE_EDATA;
		}
		return sqlite3_bind_double(st, idx, v->f);
	case BARGE_T_DECIMAL:
		if (numeric && !decimal_fits_numeric(v->p, v->n)) {
			*why = "the column's numeric affinity would round it to a "
			       "double; declare the column DECIMAL_TEXT";
			return BARGE_EDATA;
		}
		/* decimals go as text; the column's affinity converts them */
		/* fall through */
	case BARGE_T_TEXT:
	case BARGE_T_JSON:
		return sqlite3_bind_text64(st, idx, v->p ? v->p : "", v->n,
					   keep, SQLITE_UTF8);
	case BARGE_T_BYTES:
		if (v->n == 0)
			return sqlite3_bind_zeroblob(st, idx, 0);
		return sqlite3_bind_blob64(st, idx, v->p, v->n, keep);
	case BARGE_T_UUID:
		if (v->n != 16) {
			*why = "a uuid is not 16 bytes";
			return BARGE_EDATA;
		}
		barge_uuid_format(tmp, (const unsigned char *)v->p);
		return sqlite3_bind_text(st, idx, tmp, 36, SQLITE_TRANSIENT);
	case BARGE_T_DATE:
	case BARGE_T_TIME:
	case BARGE_T_TIMESTAMP:
	case BARGE_T_TIMESTAMPTZ:
		if (format_temporal(v->type, v->i, tmp, sizeof tmp) < 0) {
			*why = v->type == BARGE_T_TIME
				       ? "a time of day out of 00:00:00-23:59:59"
				       : "a year outside 0000-9999";
			return BARGE_EDATA;
		}
		rc = sqlite3_bind_text(st, idx, tmp, -1, SQLITE_TRANSIENT);
		return rc;
	default:
		*why = "a value of no type SQLite can hold";
		return BARGE_EDATA;
	}
}
