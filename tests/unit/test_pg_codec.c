/* The PostgreSQL wire codecs (src/drivers/postgres/codec.c): numeric both
 * ways, date and timestamp epochs and infinities, literals. The byte
 * strings are what PostgreSQL 15's numeric_send writes. */
#include "drivers/postgres/pg_codec.h"
#include "civil.h"
#include "harness.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* numeric text -> binary -> text gives back `want` (the same text unless
 * noted). */
static void round_trip(const char *in, const char *want)
{
	struct barge_buf bin, txt;
	const char *why = NULL;
	barge_buf_init(&bin, 1 << 20);
	barge_buf_init(&txt, 1 << 20);
	CHECK_OK(pgc_numeric_from_text(&bin, in, strlen(in), 0, -1, &why));
	CHECK_OK(pgc_numeric_to_text(&txt, (const unsigned char *)bin.p, bin.len,
				     &why));
	CHECK_STR(txt.p ? txt.p : "", want);
	barge_buf_dispose(&bin);
	barge_buf_dispose(&txt);
}

/* Numeric's binary form, the n bytes at p, must decode to `want`. */
static void wire_decodes(struct barge_buf *o, const unsigned char *p, size_t n,
			 const char *want)
{
	const char *why = NULL;
	barge_buf_clear(o);
	CHECK_OK(pgc_numeric_to_text(o, p, n, &why));
	CHECK_STR(o->p, want);
}

static void numeric_wire(void)
{
	/* 1234.5600: ndigits 2, weight 0, pos, dscale 4: 1234 5600 */
	static const unsigned char a[] = {0, 2, 0, 0, 0, 0, 0, 4, 0x04, 0xD2,
					  0x15, 0xE0};
	/* -0.0001: ndigits 1, weight -1, neg, dscale 4: 1 */
	static const unsigned char b[] = {0, 1, 0xFF, 0xFF, 0x40, 0, 0, 4, 0, 1};
	/* NaN, +Infinity, -Infinity */
	static const unsigned char nan[] = {0, 0, 0, 0, 0xC0, 0, 0, 0};
	static const unsigned char pinf[] = {0, 0, 0, 0, 0xD0, 0, 0, 0};
	static const unsigned char ninf[] = {0, 0, 0, 0, 0xF0, 0, 0, 0};
	static const unsigned char bad[] = {0, 1, 0, 0, 0, 0, 0, 0, 0x27, 0x10};
	struct barge_buf o;
	const char *why = NULL;
	barge_buf_init(&o, 1 << 16);
	wire_decodes(&o, a, sizeof a, "1234.5600");
	wire_decodes(&o, b, sizeof b, "-0.0001");
	wire_decodes(&o, nan, sizeof nan, "NaN");
	wire_decodes(&o, pinf, sizeof pinf, "Infinity");
	wire_decodes(&o, ninf, sizeof ninf, "-Infinity");
	barge_buf_clear(&o);
	CHECK(pgc_numeric_to_text(&o, bad, sizeof bad, &why) == BARGE_EDATA);
	CHECK(pgc_numeric_to_text(&o, a, 5, &why) == BARGE_EDATA);
	/* and the encoder writes the same bytes */
	barge_buf_clear(&o);
	CHECK_OK(pgc_numeric_from_text(&o, "1234.5600", 9, 0, -1, &why));
	CHECK(o.len == sizeof a && memcmp(o.p, a, sizeof a) == 0);
	barge_buf_clear(&o);
	CHECK_OK(pgc_numeric_from_text(&o, "-0.0001", 7, 0, -1, &why));
	CHECK(o.len == sizeof b && memcmp(o.p, b, sizeof b) == 0);
	barge_buf_dispose(&o);
}

static void numeric_text(void)
{
	char big[200];
	round_trip("0", "0");
	round_trip("0.00", "0.00");
	round_trip("-0.00", "0.00"); /* numeric has no negative zero */
	round_trip("1", "1");
	round_trip("10000", "10000");
	round_trip("-99999999.99999999", "-99999999.99999999");
	round_trip("007.5", "7.5");
	round_trip(".5", "0.5");
	round_trip("123456789012345678901234567890.123456789012345678901234567890",
		   "123456789012345678901234567890.123456789012345678901234567890");
	round_trip("-0.000000000000000000000000000001",
		   "-0.000000000000000000000000000001");
	round_trip("NaN", "NaN");
	round_trip("Infinity", "Infinity");
	round_trip("-Infinity", "-Infinity");
	memset(big, '9', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	round_trip(big, big);

	struct barge_buf o;
	const char *why = NULL;
	barge_buf_init(&o, 1 << 16);
	CHECK(pgc_numeric_from_text(&o, "1e5", 3, 0, -1, &why) == BARGE_EDATA);
	CHECK(pgc_numeric_from_text(&o, "", 0, 0, -1, &why) == BARGE_EDATA);
	CHECK(pgc_numeric_from_text(&o, "1.2.3", 5, 0, -1, &why) == BARGE_EDATA);
	/* numeric(5,2): 123.45 fits, 123.450 too; 1.555 would round */
	CHECK_OK(pgc_numeric_from_text(&o, "123.45", 6, 5, 2, &why));
	CHECK_OK(pgc_numeric_from_text(&o, "123.450", 7, 5, 2, &why));
	CHECK(pgc_numeric_from_text(&o, "1.555", 5, 5, 2, &why) == BARGE_EDATA);
	CHECK(pgc_numeric_from_text(&o, "1234.5", 6, 5, 2, &why) == BARGE_EDATA);
	CHECK(pgc_numeric_from_text(&o, "Infinity", 8, 5, 2, &why) == BARGE_EDATA);
	barge_buf_dispose(&o);
}

static void dates_and_times(void)
{
	int64_t v;
	int32_t d;
	int64_t ts;
	const char *why = NULL;
	CHECK_OK(pgc_date_from_pg(0, &v, &why));
	CHECK(v == 10957); /* 2000-01-01 */
	CHECK_OK(pgc_date_from_pg(INT32_MAX, &v, &why));
	CHECK(v == INT64_MAX);
	CHECK_OK(pgc_date_from_pg(INT32_MIN, &v, &why));
	CHECK(v == INT64_MIN);
	CHECK_OK(pgc_date_to_pg(INT64_MAX, &d, &why));
	CHECK(d == INT32_MAX);
	CHECK_OK(pgc_date_to_pg(0, &d, &why));
	CHECK(d == -10957);
	CHECK(pgc_date_to_pg(INT64_C(3000000000), &d, &why) == BARGE_EDATA);
	CHECK_OK(pgc_ts_from_pg(0, &v, &why));
	CHECK(v == INT64_C(946684800000000));
	CHECK_OK(pgc_ts_from_pg(INT64_MIN, &v, &why));
	CHECK(v == INT64_MIN);
	CHECK(pgc_ts_from_pg(INT64_MAX - 1, &v, &why) == BARGE_EDATA);
	CHECK_OK(pgc_ts_to_pg(0, &ts, &why));
	CHECK(ts == -INT64_C(946684800000000));
	CHECK_OK(pgc_ts_to_pg(INT64_MAX, &ts, &why));
	CHECK(ts == INT64_MAX);
	CHECK(pgc_ts_to_pg(INT64_MIN + 1, &ts, &why) == BARGE_EDATA);

	int64_t y;
	int m, dd;
	barge_civil_from_days(0, &y, &m, &dd);
	CHECK(y == 1970 && m == 1 && dd == 1);
	barge_civil_from_days(-719468, &y, &m, &dd); /* 0000-03-01 = 1 BC */
	CHECK(y == 0 && m == 3 && dd == 1);
	barge_civil_from_days(19782, &y, &m, &dd);
	CHECK(y == 2024 && m == 2 && dd == 29);
}

static void literals(void)
{
	struct barge_buf o;
	struct barge_value v;
	barge_buf_init(&o, 1 << 16);
#define LIT(want)                                                              \
	do {                                                                   \
		barge_buf_clear(&o);                                           \
		CHECK_OK(pgc_literal(&o, &v));                                 \
		CHECK_STR(o.p, want);                                          \
	} while (0)
	memset(&v, 0, sizeof v);
	v.type = BARGE_T_INT64;
	v.i = -5;
	LIT("'-5'::int8");
	v.type = BARGE_T_TEXT;
	v.p = "it's";
	v.n = 4;
	LIT("'it''s'::text");
	v.type = BARGE_T_BYTES;
	v.p = "\x00\xff";
	v.n = 2;
	LIT("'\\x00ff'::bytea");
	v.type = BARGE_T_UUID;
	v.p = "\xab\xcd\xef\x00\x00\x00\x40\x00\x80\x00\x00\x00\x00\x00\x00\xff";
	v.n = 16;
	LIT("'abcdef00-0000-4000-8000-0000000000ff'::uuid");
	v.type = BARGE_T_DATE;
	v.i = -719468 - 366; /* 0001-02-29? no: 2 BC, year -1, March 1 */
	LIT("'0002-03-01 BC'::date");
	/* PostgreSQL's first and last dates (Julian day 0 and the day before
	 * 5874898-01-01), far outside 0000-9999, through the shared calendar */
	const char *why = NULL;
	CHECK_OK(pgc_date_from_pg(-2451545, &v.i, &why));
	LIT("'4714-11-24 BC'::date");
	CHECK_OK(pgc_date_from_pg(2147483494 - 2451545 - 1, &v.i, &why));
	LIT("'5874897-12-31'::date");
	CHECK(pgc_date_to_pg(v.i + 1, &(int32_t){0}, &why) == BARGE_EDATA);
	v.i = -719528 - 1; /* the day before 0000-01-01 = 1 BC */
	LIT("'0002-12-31 BC'::date");
	/* the timestamp range's ends: PostgreSQL's first, and barge's last
	 * (µs since 1970 in an int64 end some 30 years before PostgreSQL's) */
	v.type = BARGE_T_TIMESTAMP;
	v.i = INT64_C(9223371331200000000) - 1;
	LIT("'294247-01-01 23:59:59.999999'::timestamp");
	CHECK(pgc_ts_to_pg(v.i + 1, &(int64_t){0}, &why) == BARGE_EDATA);
	v.i = -INT64_C(211813488000000000) + INT64_C(946684800000000);
	LIT("'4714-11-24 00:00:00.000000 BC'::timestamp");
	v.type = BARGE_T_TIMESTAMP;
	v.i = -1;
	LIT("'1969-12-31 23:59:59.999999'::timestamp");
	v.type = BARGE_T_TIMESTAMPTZ;
	v.i = INT64_MAX;
	LIT("'infinity'::timestamptz");
	v.i = 0;
	LIT("'1970-01-01 00:00:00.000000+00'::timestamptz");
	v.type = BARGE_T_FLOAT64;
	v.f = -0.0;
	LIT("'-0'::float8");
	v.f = NAN;
	LIT("'NaN'::float8");
	barge_buf_dispose(&o);
}

int main(void)
{
	numeric_wire();
	numeric_text();
	dates_and_times();
	literals();
	return harness_done();
}
