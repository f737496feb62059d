/*
 * src/lib/civil.c: the calendar over the PostgreSQL date range, and
 * barge_iso_temporal, the one reader of date/time text that the SQLite
 * driver and the plan's casts share. The cases where their two former
 * copies disagreed are checked through both callers.
 */
#include "barge/barge.h"
#include "civil.h"
#include "harness.h"
#include "transform.h"

#define US INT64_C(1000000)
#define DAY (INT64_C(86400) * US)

static int64_t ts(const char *s, int type, int flags, int *rc)
{
	int64_t v = -1;
	*rc = barge_iso_temporal(&v, type, s, strlen(s), flags);
	return v;
}

static int refused(const char *s, int type)
{
	int64_t v;
	return barge_iso_temporal(&v, type, s, strlen(s), 0) == BARGE_EDATA;
}

/* 2024-01-02 03:04:05 UTC in µs */
static const int64_t T0 = INT64_C(1704164645) * US;

static void test_forms(void)
{
	int rc;
	/* what SQLite's date functions write, and the ISO 8601 forms */
	CHECK(ts("2024-01-02 03:04:05", BARGE_T_TIMESTAMP, 0, &rc) == T0 && rc == 0);
	CHECK(ts("2024-01-02T03:04:05", BARGE_T_TIMESTAMP, 0, &rc) == T0 && rc == 0);
	CHECK(ts("2024-01-02 03:04", BARGE_T_TIMESTAMP, 0, &rc) == T0 - 5 * US && rc == 0);
	CHECK(ts("2024-01-02", BARGE_T_TIMESTAMP, 0, &rc) == T0 - (3 * 3600 + 245) * US && rc == 0);
	CHECK(ts("2024-01-02 03:04:05.123", BARGE_T_TIMESTAMP, 0, &rc) == T0 + 123000 && rc == 0);
	CHECK(ts("2024-01-02 03:04:05.123456000", BARGE_T_TIMESTAMP, 0, &rc) == T0 + 123456 && rc == 0);
	/* finer than µs: not exact */
	CHECK(refused("2024-01-02 03:04:05.1234567", BARGE_T_TIMESTAMP));
	CHECK(refused("2024-01-02 03:04:05.", BARGE_T_TIMESTAMP));
	CHECK(refused("2024-01-02x03:04:05", BARGE_T_TIMESTAMP));
	CHECK(refused("2023-02-29", BARGE_T_DATE));
	CHECK(ts("2024-02-29", BARGE_T_DATE, 0, &rc) == 19782 && rc == 0);
	CHECK(ts("23:59:59.999999", BARGE_T_TIME, 0, &rc) == DAY - 1 && rc == 0);
	/* a time never takes an offset */
	CHECK(refused("12:00:00Z", BARGE_T_TIME));
	CHECK(refused("2024-01-02Z", BARGE_T_DATE));

	/* timestamptz: every offset form, converted to UTC; none = UTC */
	static const char *const tz[] = {
		"2024-01-02 08:34:05+05:30", "2024-01-02 08:34:05+0530",
		"2024-01-02T03:04:05Z",      "2024-01-02 03:04:05",
		"2024-01-01 21:34:05-05:30", "2024-01-02 03:04:05-00:00",
	};
	for (size_t i = 0; i < sizeof tz / sizeof *tz; i++)
		CHECK(ts(tz[i], BARGE_T_TIMESTAMPTZ, 0, &rc) == T0 && rc == 0);
	CHECK(ts("2024-01-02 08:04:05+05", BARGE_T_TIMESTAMPTZ, 0, &rc) == T0 && rc == 0);
	CHECK(refused("2024-01-02 03:04:05+5", BARGE_T_TIMESTAMPTZ));
	CHECK(refused("2024-01-02 03:04:05+05:", BARGE_T_TIMESTAMPTZ));
	CHECK(refused("2024-01-02 03:04:05 +05:00", BARGE_T_TIMESTAMPTZ));
}

/*
 * Where the two copies disagreed: a naive timestamp with a zero offset.
 * The SQLite reader took it, the cast refused it; both take it now, and a
 * nonzero offset is refused by both, as before.
 */
static void test_naive_marks(void)
{
	static const char *const zero[] = {
		"2024-01-02T03:04:05Z", "2024-01-02 03:04:05+00:00",
		"2024-01-02 03:04:05+0000", "2024-01-02 03:04:05+00",
		"2024-01-02 03:04:05-00:00",
	};
	static const char *const shifted[] = {
		"2024-01-02 03:04:05+05", "2024-01-02 03:04:05+0530",
		"2024-01-02 03:04:05+05:30", "2024-01-02 03:04:05-01:00",
	};
	struct barge_buf scratch;
	struct barge_value v;
	const char *why;
	int rc;

	barge_buf_init(&scratch, 1 << 10);
	for (size_t i = 0; i < sizeof zero / sizeof *zero; i++) {
		CHECK(ts(zero[i], BARGE_T_TIMESTAMP, 0, &rc) == T0 && rc == 0);
		/* the plan's cast (it refused these before) */
		CHECK_OK(barge_cast_text(&v, &scratch, zero[i], strlen(zero[i]),
					 BARGE_T_TIMESTAMP, 0, 0, &why));
		CHECK(v.i == T0);
		/* the timezone step reads wall time in its own zone: no mark */
		int64_t us;
		CHECK(barge_timestamp_parse(&us, zero[i], strlen(zero[i])) == BARGE_EDATA);
	}
	for (size_t i = 0; i < sizeof shifted / sizeof *shifted; i++) {
		CHECK(refused(shifted[i], BARGE_T_TIMESTAMP));
		CHECK(barge_cast_text(&v, &scratch, shifted[i], strlen(shifted[i]),
				      BARGE_T_TIMESTAMP, 0, 0, &why) == BARGE_EDATA);
		CHECK(why != NULL);
	}
	int64_t us;
	CHECK_OK(barge_timestamp_parse(&us, "2024-01-02 03:04:05", 19));
	CHECK(us == T0);
	barge_buf_dispose(&scratch);
}

/* Days <-> civil dates across PostgreSQL's whole date range (4713 BC to
 * 5874897 AD) and the proleptic calendar around year 0. */
static void test_calendar(void)
{
	static const struct {
		int64_t days, y;
		int m, d;
	} cases[] = {
		{0, 1970, 1, 1},
		{19782, 2024, 2, 29},
		{-719468, 0, 3, 1},             /* 1 BC */
		{-719469, 0, 2, 29},            /* year 0 is a leap year */
		{-719528, 0, 1, 1},
		{-719529, -1, 12, 31},          /* 2 BC */
		{-2440588, -4713, 11, 24},      /* PostgreSQL's first date, 4714 BC */
		{2932896, 9999, 12, 31},
		{2932897, 10000, 1, 1},
		{2145042905, 5874897, 12, 31},  /* PostgreSQL's last date */
		{INT64_C(-100000000000), -273788731, 4, 20},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		int64_t y;
		int m, d;
		barge_civil_from_days(cases[i].days, &y, &m, &d);
		CHECK(y == cases[i].y && m == cases[i].m && d == cases[i].d);
		CHECK(barge_days_from_civil(cases[i].y, cases[i].m, cases[i].d) ==
		      cases[i].days);
	}
	/* every day of a span across year 0 and one across 5874897 round-trips */
	for (int64_t z = -800000; z < -600000; z++) {
		int64_t y;
		int m, d;
		barge_civil_from_days(z, &y, &m, &d);
		CHECK(d >= 1 && d <= barge_days_in_month(y, m));
		if (barge_days_from_civil(y, m, d) != z) {
			CHECK(!"round trip");
			break;
		}
	}
}

int main(void)
{
	test_forms();
	test_naive_marks();
	test_calendar();
	return harness_done();
}
