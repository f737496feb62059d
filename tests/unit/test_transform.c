/* The transform stage: value functions, each step and rule alone and
 * chained, through barge_xf_new/barge_xf_row on one-row batches. */
#include "barge/barge.h"
#include "harness.h"
#include "transform.h"
#include "tz.h"

/* A source table of one column `c` of type `type`. */
static struct barge_table_def *one_col(int type)
{
	static struct barge_column_def col;
	static struct barge_table_def t;
	memset(&col, 0, sizeof col);
	memset(&t, 0, sizeof t);
	col.name = "c";
	col.type = type;
	col.scale = -1;
	t.name = "t";
	t.ncols = 1;
	t.cols = &col;
	return &t;
}

/*
 * Map text `in` (NULL = NULL) through column options `opts` (declared type
 * `type` or NULL). Returns the output's text form ("NULL" for NULL) or
 * "reject:RULE"; "usage" when the options do not compile.
 */
static const char *run1(const char *opts, const char *type, const char *in)
{
	static char res[600];
	struct barge_table_def *t = one_col(BARGE_T_TEXT);
	struct barge_xf *xf = NULL;
	struct barge_xf_run *r = NULL;
	struct barge_batch *b = NULL, *o = NULL;
	struct barge_xf_reject rej;
	size_t src = 0;
	const char *names[] = {"c"}, *types[] = {type}, *op[] = {opts};
	struct barge_xf_spec spec = {"t", 1, &src, names, types, op, NULL};
	int tt = BARGE_T_TEXT;

	if (barge_xf_new(&xf, t, &spec) < 0) {
		snprintf(res, sizeof res, "usage");
		return res;
	}
	int ot = barge_xf_col(xf, 0)->type;
	barge_batch_new(&b, 1, &tt, 4);
	barge_batch_new(&o, 1, &ot, 4);
	barge_xf_run_new(&r);
	if (in)
		barge_batch_put_bytes(b, 0, in, strlen(in));
	else
		barge_batch_put_null(b, 0);
	barge_batch_end_row(b);
	int rc = barge_xf_row(r, xf, b, 0, o, &rej);
	if (rc == 1) {
		snprintf(res, sizeof res, "reject:%s", rej.rule);
	} else if (rc < 0) {
		snprintf(res, sizeof res, "error");
	} else {
		struct barge_value v;
		struct barge_buf tb;
		barge_batch_get(o, 0, 0, &v);
		barge_buf_init(&tb, 1 << 20);
		if (v.null)
			barge_buf_adds(&tb, "NULL");
		else
			barge_value_text(&tb, &v);
		snprintf(res, sizeof res, "%s", tb.p ? tb.p : "");
		barge_buf_dispose(&tb);
	}
	barge_batch_free(b);
	barge_batch_free(o);
	barge_xf_run_free(r);
	barge_xf_free(xf);
	return res;
}

static const char *rnd(const char *in, int places)
{
	static char out[200];
	struct barge_buf b;
	barge_buf_init(&b, 1 << 16);
	if (barge_decimal_round(&b, in, strlen(in), places) < 0)
		snprintf(out, sizeof out, "EDATA");
	else
		snprintf(out, sizeof out, "%s", b.p);
	barge_buf_dispose(&b);
	return out;
}

static void test_round(void)
{
	CHECK_STR(rnd("2.345", 2), "2.35");   /* half away from zero */
	CHECK_STR(rnd("-2.345", 2), "-2.35");
	CHECK_STR(rnd("2.344999", 2), "2.34");
	CHECK_STR(rnd("0.5", 0), "1");
	CHECK_STR(rnd("-0.5", 0), "-1");
	CHECK_STR(rnd("0.4999", 0), "0");
	CHECK_STR(rnd("-0.004", 2), "0.00"); /* no negative zero */
	CHECK_STR(rnd("9.995", 2), "10.00");  /* carry into the integer part */
	CHECK_STR(rnd("1.015", 2), "1.02");   /* a double would say 1.01 */
	CHECK_STR(rnd("1.5", 2), "1.5");
	CHECK_STR(rnd("1e-3", 2), "0.00");
	CHECK_STR(rnd("abc", 2), "EDATA");
	CHECK_STR(run1("{round: 2}", "decimal(14,2)", "12.345"), "12.35");
	CHECK_STR(run1(NULL, "decimal(14,2)", "12.345"), "reject:type");
	CHECK_STR(run1("{round: 1}", NULL, "x"), "reject:round");
}

static void test_uuid(void)
{
	unsigned char ns[16], u[16];
	char s[37];
	barge_uuid_parse(ns, "6ba7b810-9dad-11d1-80b4-00c04fd430c8", 36);
	barge_uuid_v5(u, ns, "python.org", 10);
	barge_uuid_format(s, u);
	CHECK_STR(s, "886313e1-3b8a-5372-9b90-0c9aee199e5d");
	barge_uuid_parse(ns, "6ba7b811-9dad-11d1-80b4-00c04fd430c8", 36);
	barge_uuid_v5(u, ns, "42", 2);
	barge_uuid_format(s, u);
	CHECK_STR(s, "5c2b23de-4bad-58ee-a4b3-f22f3b9cfd7d");

	/* through an added column: id 42 hashes the name "42" */
	struct barge_column_def col = {.name = "id", .type = BARGE_T_INT64, .scale = -1};
	struct barge_table_def t = {.name = "t", .ncols = 1, .cols = &col};
	size_t src = 0;
	const char *names[] = {"id"};
	struct barge_xf_spec spec = {"t", 1, &src, names, NULL, NULL,
		"{key: {uuid_v5: {namespace: 6ba7b811-9dad-11d1-80b4-00c04fd430c8, from: id}}}"};
	struct barge_xf *xf = NULL;
	struct barge_xf_run *r = NULL;
	struct barge_batch *b = NULL, *o = NULL;
	struct barge_xf_reject rej;
	int it = BARGE_T_INT64;
	CHECK(barge_xf_needed(&spec));
	CHECK_OK(barge_xf_new(&xf, &t, &spec));
	if (!xf)
		return;
	CHECK(barge_xf_ncols(xf) == 2);
	CHECK(barge_xf_col(xf, 1)->type == BARGE_T_UUID);
	int ot[2] = {BARGE_T_INT64, BARGE_T_UUID};
	barge_batch_new(&b, 1, &it, 2);
	barge_batch_new(&o, 2, ot, 2);
	barge_xf_run_new(&r);
	barge_batch_put_i64(b, 0, 42);
	barge_batch_end_row(b);
	CHECK(barge_xf_row(r, xf, b, 0, o, &rej) == 0);
	size_t n;
	const char *p = barge_batch_bytes_at(o, 1, 0, &n);
	barge_uuid_format(s, (const unsigned char *)p);
	CHECK_STR(s, "5c2b23de-4bad-58ee-a4b3-f22f3b9cfd7d");
	barge_batch_free(b);
	barge_batch_free(o);
	barge_xf_run_free(r);
	barge_xf_free(xf);
}

/* `add: {sequence: ...}` and remapping fed from barge_keymap: the engine
 * feeds the numbers; unfed (a dry run) they are NULL. */
static void test_sequence(void)
{
	struct barge_column_def cols[2] = {
		{.name = "id", .type = BARGE_T_INT64, .scale = -1},
		{.name = "parent", .type = BARGE_T_TEXT, .scale = -1}};
	size_t key[1] = {0};
	struct barge_table_def t = {.name = "t", .ncols = 2, .cols = cols, .nkey = 1,
				    .key = key};
	size_t src[2] = {0, 1};
	const char *names[] = {"legacy_id", "parent"};
	struct barge_xf_spec spec = {"t", 2, src, names, NULL, NULL,
		"{id: {sequence: {from: id, start: 5}}}"};
	struct barge_xf *xf = NULL;
	struct barge_xf_run *r = NULL;
	struct barge_batch *b = NULL, *o = NULL;
	struct barge_xf_reject rej;
	struct barge_value v;
	int64_t start = 0;
	int it[2] = {BARGE_T_INT64, BARGE_T_TEXT};

	CHECK_OK(barge_xf_new(&xf, &t, &spec));
	if (!xf)
		return;
	CHECK(barge_xf_sequence(xf, 2, &start) && start == 5);
	CHECK(!barge_xf_sequence(xf, 0, &start));
	CHECK(barge_xf_col(xf, 2)->type == BARGE_T_INT64);
	CHECK_OK(barge_xf_remap_fed(xf, 1, BARGE_T_INT64, "t.id through barge_keymap"));
	CHECK(barge_xf_remap_fed(xf, 2, BARGE_T_INT64, "x") == BARGE_EUSAGE);
	barge_error_clear();
	int ot[3] = {BARGE_T_INT64, BARGE_T_INT64, BARGE_T_INT64};
	barge_batch_new(&b, 2, it, 4);
	barge_batch_new(&o, 3, ot, 4);
	barge_xf_run_new(&r);
	barge_batch_put_i64(b, 0, 42);
	barge_batch_put_bytes(b, 1, "41", 2);
	barge_batch_end_row(b);
	/* fed: the row's number and its parent's */
	CHECK_OK(barge_xf_run_feed(r, 2, "7", 1));
	CHECK_OK(barge_xf_run_feed(r, 1, "6", 1));
	CHECK(barge_xf_row(r, xf, b, 0, o, &rej) == 0);
	barge_batch_get(o, 2, 0, &v);
	CHECK(!v.null && v.i == 7);
	barge_batch_get(o, 1, 0, &v);
	CHECK(!v.null && v.i == 6);
	/* the parent not in the key map: a references reject */
	barge_xf_run_unfeed(r);
	CHECK_OK(barge_xf_run_feed(r, 2, "8", 1));
	CHECK_OK(barge_xf_run_feed(r, 1, NULL, 0));
	CHECK(barge_xf_row(r, xf, b, 0, o, &rej) == 1);
	CHECK_STR(rej.rule, "references");
	CHECK_STR(rej.message, "column parent: '41' is not in barge_keymap");
	/* nothing fed (a dry run): NULLs */
	barge_xf_run_unfeed(r);
	CHECK(barge_xf_row(r, xf, b, 0, o, &rej) == 0);
	barge_batch_get(o, 2, 1, &v);
	CHECK(v.null);
	barge_batch_get(o, 1, 1, &v);
	CHECK(v.null);
	barge_batch_free(b);
	barge_batch_free(o);
	barge_xf_run_free(r);
	barge_xf_free(xf);

	/* plan errors */
	struct barge_xf_spec bad = spec;
	bad.add = "{id: {sequence: {from: nosuch}}}";
	CHECK(barge_xf_new(&xf, &t, &bad) == BARGE_EUSAGE);
	bad.add = "{id: {sequence: {from: id, step: 2}}}";
	CHECK(barge_xf_new(&xf, &t, &bad) == BARGE_EUSAGE);
	bad.add = "{id: {sequence: {from: id, start: -1}}}";
	CHECK(barge_xf_new(&xf, &t, &bad) == BARGE_EUSAGE);
	barge_error_clear();
}

static void test_casts(void)
{
	CHECK_STR(run1(NULL, "int64", "42"), "42");
	CHECK_STR(run1(NULL, "int64", "abc"), "reject:type");
	CHECK_STR(run1(NULL, "int64", "9223372036854775807"), "9223372036854775807");
	CHECK_STR(run1(NULL, "int64", "9223372036854775808"), "reject:type");
	CHECK_STR(run1(NULL, "int64", "-9223372036854775808"), "-9223372036854775808");
	CHECK_STR(run1(NULL, "int64", "1.5"), "reject:type");
	CHECK_STR(run1(NULL, "int64", "2.00"), "2");
	CHECK_STR(run1(NULL, "float64", "1e999"), "reject:type");
	CHECK_STR(run1(NULL, "float64", "0.25"), "0.25");
	CHECK_STR(run1(NULL, "decimal(4,2)", "99.99"), "99.99");
	CHECK_STR(run1(NULL, "decimal(4,2)", "100"), "reject:type");
	CHECK_STR(run1(NULL, "decimal(4,2)", "1.5"), "1.50");
	CHECK_STR(run1(NULL, "bool", "true"), "true");
	CHECK_STR(run1(NULL, "bool", "0"), "false");
	CHECK_STR(run1(NULL, "bool", "y"), "reject:type");
	CHECK_STR(run1(NULL, "date", "2024-02-29"), "2024-02-29");
	CHECK_STR(run1(NULL, "date", "2023-02-29"), "reject:type"); /* impossible */
	CHECK_STR(run1(NULL, "timestamp", "2024-01-02 03:04:05"), "2024-01-02 03:04:05");
	CHECK_STR(run1(NULL, "timestamp", "2024-01-02 24:00:00"), "reject:type");
	CHECK_STR(run1(NULL, "text(3)", "abc"), "abc");
	CHECK_STR(run1(NULL, "text(3)", "abcd"), "reject:max_length");
	CHECK_STR(run1(NULL, "varchar(3)", "äöü"), "äöü"); /* characters, not bytes */
	CHECK_STR(run1(NULL, "uuid", "not-a-uuid"), "reject:type");
	CHECK_STR(run1(NULL, "nonsense", "x"), "usage");
	CHECK_STR(run1("{default: 'US'}", NULL, NULL), "US");
	CHECK_STR(run1("{default: '7'}", "int64", NULL), "7");
	CHECK_STR(run1(NULL, "int64", NULL), "NULL");
}

static void test_steps(void)
{
	CHECK_STR(run1("{transform: trim}", NULL, "  a b \t"), "a b");
	CHECK_STR(run1("{transform: trim}", NULL, "   "), "");
	CHECK_STR(run1("{transform: lower}", NULL, "AbC@X.COM"), "abc@x.com");
	CHECK_STR(run1("{transform: upper}", NULL, "de"), "DE");
	CHECK_STR(run1("{transform: [trim, upper]}", NULL, " de "), "DE");
	CHECK_STR(run1("{map: {'Y': true, 'N': false}, type: bool}", "bool", "Y"), "true");
	CHECK_STR(run1("{map: {'Y': true, 'N': false}, type: bool}", "bool", "N"), "false");
	CHECK_STR(run1("{map: {'Y': true, 'N': false}, type: bool}", "bool", "y"), "reject:type");
	CHECK_STR(run1("{map: {'?': ~}}", NULL, "?"), "NULL");
	/* written order: trim, then map */
	CHECK_STR(run1("{transform: [trim, {map: {'Y': true}}], type: bool}", NULL, " Y "), "true");
	CHECK_STR(run1("{transform: trimm}", NULL, "x"), "usage");
	CHECK_STR(run1("{frobnicate: 1}", NULL, "x"), "usage");
	/* encoding: invalid UTF-8 is a reject unless repaired */
	CHECK_STR(run1(NULL, NULL, "caf\xe9"), "reject:encoding");
	CHECK_STR(run1("{encoding: latin1}", NULL, "caf\xe9"), "café");
	CHECK_STR(run1("{encoding: cp1252}", NULL, "\x93hi\x94 \x80"), "“hi” €");
	CHECK_STR(run1("{encoding: cp1252}", NULL, "x\x81"), "reject:encoding");
	CHECK_STR(run1("{encoding: cp1252}", NULL, "café"), "café"); /* valid: kept */
}

static void test_timezone(void)
{
	const char *ny = "{timezone: {from: America/New_York, to: UTC}}";
	CHECK_STR(run1(ny, "timestamp", "2021-07-01 12:00:00"), "2021-07-01 16:00:00");
	CHECK_STR(run1(ny, "timestamp", "2021-01-01 12:00:00.25"), "2021-01-01 17:00:00.250");
	/* far past the file's transitions: the footer rule */
	CHECK_STR(run1(ny, "timestamp", "2045-07-01 12:00:00"), "2045-07-01 16:00:00");
	/* the skipped hour (02:00-03:00 on 2021-03-14) is a reject */
	CHECK_STR(run1(ny, "timestamp", "2021-03-14 02:30:00"), "reject:timezone");
	CHECK_STR(run1(ny, "timestamp", "2021-03-14 01:59:59"), "2021-03-14 06:59:59");
	CHECK_STR(run1(ny, "timestamp", "2021-03-14 03:00:00"), "2021-03-14 07:00:00");
	/* the repeated hour: the first occurrence (daylight time) */
	CHECK_STR(run1(ny, "timestamp", "2021-11-07 01:30:00"), "2021-11-07 05:30:00");
	CHECK_STR(run1(ny, "timestamp", "2021-11-07 02:00:00"), "2021-11-07 07:00:00");
	CHECK_STR(run1("{timezone: {from: UTC, to: Europe/Berlin}}", "timestamp",
		       "2021-03-28 01:00:00"), "2021-03-28 03:00:00");
	CHECK_STR(run1(ny, "timestamp", "yesterday"), "reject:timezone");
	CHECK_STR(run1("{timezone: {from: Mars/Olympus, to: UTC}}", NULL, "x"), "usage");
	CHECK_STR(run1("{timezone: {from: ../../etc/passwd}}", NULL, "x"), "usage");

	struct barge_tz *z = NULL;
	int64_t utc;
	int rep = 0;
	CHECK_OK(barge_tz_load(&z, "America/New_York"));
	if (z) {
		/* 2021-11-07 01:30 local happens twice: 05:30 and 06:30 UTC */
		CHECK(barge_tz_to_utc(z, 1636248600, &utc, &rep) == 0);
		CHECK(utc == 1636263000 && rep == 1);
		/* 2021-03-14 02:30 local never happens */
		CHECK(barge_tz_to_utc(z, 1615689000, &utc, &rep) == BARGE_ENOTFOUND);
		CHECK(barge_tz_offset(z, 1625140800) == -4 * 3600);
		CHECK(barge_tz_offset(z, 1609502400) == -5 * 3600);
	}
	barge_tz_free(z);
}

static void test_rules(void)
{
	CHECK_STR(run1("{rules: {required: true}}", NULL, NULL), "reject:required");
	CHECK_STR(run1("{rules: {required: true}}", NULL, ""), "");
	CHECK_STR(run1("{default: x, rules: {required: true}}", NULL, NULL), "x");
	CHECK_STR(run1("{rules: {min: 0}}", "decimal(14,2)", "0"), "0.00");
	CHECK_STR(run1("{rules: {min: 0}}", "decimal(14,2)", "-0.01"), "reject:min");
	CHECK_STR(run1("{rules: {max: 10}}", "int64", "10"), "10");
	CHECK_STR(run1("{rules: {max: 10}}", "int64", "11"), "reject:max");
	CHECK_STR(run1("{rules: {min: 2.5}}", "float64", "2.4"), "reject:min");
	CHECK_STR(run1("{rules: {min: '2020-01-01'}}", "date", "2020-01-01"), "2020-01-01");
	CHECK_STR(run1("{rules: {min: '2020-01-01'}}", "date", "2019-12-31"), "reject:min");
	CHECK_STR(run1("{rules: {max: '2020-01-01 00:00:00'}}", "timestamp",
		       "2020-01-01 00:00:01"), "reject:max");
	CHECK_STR(run1("{rules: {min: 1}}", NULL, "x"), "usage"); /* min on text */
	CHECK_STR(run1("{rules: {max_length: 3}}", NULL, "abc"), "abc");
	CHECK_STR(run1("{rules: {max_length: 3}}", NULL, "abcd"), "reject:max_length");
	CHECK_STR(run1("{rules: {max_length: 3}}", NULL, "äöü"), "äöü");
	CHECK_STR(run1("{rules: {in: [US, DE]}}", NULL, "DE"), "DE");
	CHECK_STR(run1("{rules: {in: [US, DE]}}", NULL, "de"), "reject:in");
	CHECK_STR(run1("{rules: {in: [US, DE]}}", NULL, NULL), "NULL"); /* NULL passes */
	const char *re = "{rules: {regex: '^[^@ ]+@[^@ ]+\\.[a-z]+$'}}";
	CHECK_STR(run1(re, NULL, "a@b.com"), "a@b.com");
	CHECK_STR(run1(re, NULL, "a@@b.com"), "reject:regex");
	CHECK_STR(run1(re, NULL, "a.b.com"), "reject:regex");
	CHECK_STR(run1(re, NULL, "A@B.COM"), "reject:regex");
	CHECK_STR(run1("{rules: {regex: '(unclosed'}}", NULL, "x"), "usage");
	CHECK_STR(run1("{rules: {sparkly: true}}", NULL, "x"), "usage");
	/* chained: trim + lower, then the regex on the result */
	CHECK_STR(run1("{transform: [trim, lower], rules: {regex: '^[a-z]+$'}}", NULL,
		       " ABC "), "abc");
	CHECK_STR(run1("{to: full_name, transform: trim, rules: {required: true, max_length: 5}}",
		       NULL, "  abcdef  "), "reject:max_length");
}

int main(void)
{
	test_round();
	test_uuid();
	test_sequence();
	test_casts();
	test_steps();
	test_timezone();
	test_rules();
	return harness_done();
}
