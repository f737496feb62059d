/*
 * The SQLite driver against real files under $BARGE_TEST_TMP: the type
 * mapping, exact round trips of every value class, keyset walking in
 * binary order, keyless tables by rowid, write modes, errors, snapshots.
 */
#include "barge/barge.h"
#include "canon.h"
#include "harness.h"

#include <math.h>
#include <sqlite3.h>
#include <stdint.h>
#include <unistd.h>

extern const struct barge_driver barge_sqlite_driver;
static const struct barge_driver *D = &barge_sqlite_driver;

static struct barge_conn *open_db(const char *path, unsigned flags)
{
	char text[1200];
	struct barge_url *u = NULL;
	struct barge_conn *c = NULL;
	snprintf(text, sizeof text, "sqlite:%s", path);
	CHECK_OK(barge_url_parse(&u, text));
	if (u)
		CHECK_OK(D->open(&c, u, flags));
	barge_url_free(u);
	return c;
}

/* Run SQL on a file directly, as another program would. */
static void raw_exec(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	char *msg = NULL;
	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK)
		fprintf(stderr, "raw_exec: %s\n", msg ? msg : "?");
	CHECK(rc == SQLITE_OK);
	sqlite3_free(msg);
	sqlite3_close(db);
}

static int same_value(const struct barge_value *a, const struct barge_value *b)
{
	if (a->null || b->null)
		return a->null == b->null;
	if (a->type != b->type)
		return 0;
	if (a->type == BARGE_T_FLOAT64)
		return memcmp(&a->f, &b->f, sizeof a->f) == 0;
	if (barge_type_is_varlen(a->type))
		return a->n == b->n && (a->n == 0 || memcmp(a->p, b->p, a->n) == 0);
	return a->i == b->i;
}

/* Read a whole table (or chunk) into one batch of the given columns. */
static struct barge_batch *read_all(struct barge_conn *c,
				    const struct barge_table_def *t,
				    const struct barge_chunk *chunk, int with_rowid,
				    int *err)
{
	size_t cols[32], n = t->ncols;
	int types[33];
	struct barge_reader *r = NULL;
	struct barge_batch *b = NULL, *part = NULL;
	for (size_t i = 0; i < n; i++) {
		cols[i] = i;
		types[i] = t->cols[i].type;
	}
	types[n] = BARGE_T_INT64;
	struct barge_read_req req = {.table = t, .chunk = chunk, .ncols = n,
				     .cols = cols, .with_rowid = with_rowid,
				     .order_by_key = 1};
	*err = D->read_open(&r, c, &req);
	if (*err)
		return NULL;
	/* a small batch, so read_next is called several times */
	barge_batch_new(&part, n + (with_rowid ? 1 : 0), types, 2);
	barge_batch_new(&b, n + (with_rowid ? 1 : 0), types, 100);
	for (;;) {
		if ((*err = D->read_next(r, part)))
			break;
		if (part->nrows == 0)
			break;
		for (size_t row = 0; row < part->nrows; row++) {
			for (size_t col = 0; col < part->ncols; col++) {
				struct barge_value v;
				barge_batch_get(part, col, row, &v);
				barge_batch_put_value(b, col, &v);
			}
			barge_batch_end_row(b);
		}
	}
	D->read_close(r);
	barge_batch_free(part);
	if (*err) {
		barge_batch_free(b);
		return NULL;
	}
	return b;
}

/* Write b through a new writer for wr, in the transaction the caller
 * began: the write must return `want`, and a failure's message must hold
 * `says` and `says2` (either may be NULL). Then the writer is closed and
 * the transaction committed (want 0) or rolled back. */
static void write_expect(struct barge_conn *c, const struct barge_write_req *wr,
			 struct barge_batch *b, int want, const char *says,
			 const char *says2)
{
	struct barge_writer *w = NULL;
	CHECK_OK(D->write_open(&w, c, wr));
	if (w && want == 0) {
		CHECK_OK(D->write_batch(w, b));
	} else if (w) {
		CHECK(D->write_batch(w, b) == want);
		if (says)
			CHECK(strstr(barge_error_last(), says) != NULL);
		if (says2)
			CHECK(strstr(barge_error_last(), says2) != NULL);
	}
	D->write_close(w);
	CHECK_OK(want == 0 ? D->commit(c) : D->rollback(c));
}

/* ---- the type mapping ---- */

static void test_typemap(void)
{
	char path[1024];
	static const struct {
		const char *decl;
		int type, prec, scale;
	} cases[] = {
		{"INT", BARGE_T_INT64, 0, -1},
		{"INTEGER", BARGE_T_INT64, 0, -1},
		{"BIGINT", BARGE_T_INT64, 0, -1},
		{"SMALLINT", BARGE_T_INT64, 0, -1},
		{"TINYINT", BARGE_T_INT64, 0, -1},
		{"POINT", BARGE_T_INT64, 0, -1}, /* SQLite's rule: contains INT */
		{"REAL", BARGE_T_FLOAT64, 0, -1},
		{"DOUBLE", BARGE_T_FLOAT64, 0, -1},
		{"double precision", BARGE_T_FLOAT64, 0, -1},
		{"FLOAT", BARGE_T_FLOAT64, 0, -1},
		{"TEXT", BARGE_T_TEXT, 0, -1},
		{"CHAR(5)", BARGE_T_TEXT, 5, -1},
		{"VARCHAR(20)", BARGE_T_TEXT, 20, -1},
		{"CLOB", BARGE_T_TEXT, 0, -1},
		{"NCHAR(3)", BARGE_T_TEXT, 3, -1},
		{"BLOB", BARGE_T_BYTES, 0, -1},
		{"", BARGE_T_ANY, 0, -1},
		{"BOOLEAN", BARGE_T_BOOL, 0, -1},
		{"bool", BARGE_T_BOOL, 0, -1},
		{"DATE", BARGE_T_DATE, 0, -1},
		{"DATETIME", BARGE_T_TIMESTAMP, 0, -1},
		{"TIMESTAMP", BARGE_T_TIMESTAMP, 0, -1},
		{"TIMESTAMPTZ", BARGE_T_TIMESTAMPTZ, 0, -1},
		{"timestamp  with time zone", BARGE_T_TIMESTAMPTZ, 0, -1},
		{"TIME", BARGE_T_TIME, 0, -1},
		{"NUMERIC", BARGE_T_DECIMAL, 0, -1},
		{"DECIMAL(10,2)", BARGE_T_DECIMAL, 10, 2},
		{"DECIMAL_TEXT(12, 3)", BARGE_T_DECIMAL, 12, 3},
		{"UUID", BARGE_T_UUID, 0, -1},
		{"UUID_TEXT", BARGE_T_UUID, 0, -1},
		{"JSON", BARGE_T_JSON, 0, -1},
		{"JSONB", BARGE_T_JSON, 0, -1},
		{"JSON_TEXT", BARGE_T_JSON, 0, -1},
		{"MONEY", BARGE_T_ANY, 0, -1}, /* NUMERIC affinity, unknown name */
	};
	size_t n = sizeof cases / sizeof *cases;
	char sql[4096];
	size_t off = 0;

	harness_path(path, sizeof path, "typemap.db");
	off += (size_t)snprintf(sql + off, sizeof sql - off, "CREATE TABLE t (");
	for (size_t i = 0; i < n; i++)
		off += (size_t)snprintf(sql + off, sizeof sql - off, "%sc%zu %s",
					i ? ", " : "", i, cases[i].decl);
	snprintf(sql + off, sizeof sql - off, ")");
	raw_exec(path, sql);

	struct barge_conn *c = open_db(path, BARGE_OPEN_READ);
	struct barge_table_def *t = NULL;
	if (!c)
		return;
	CHECK_OK(D->describe(c, "t", &t));
	if (t && t->ncols == n) {
		for (size_t i = 0; i < n; i++) {
			if (t->cols[i].type != cases[i].type ||
			    t->cols[i].precision != cases[i].prec ||
			    t->cols[i].scale != cases[i].scale)
				fprintf(stderr, "typemap: '%s' -> %s(%d,%d)\n",
					cases[i].decl,
					barge_type_name(t->cols[i].type),
					t->cols[i].precision, t->cols[i].scale);
			CHECK(t->cols[i].type == cases[i].type);
			CHECK(t->cols[i].precision == cases[i].prec);
			CHECK(t->cols[i].scale == cases[i].scale);
		}
		CHECK(t->nkey == 0 && t->has_rowid == 1);
		CHECK(t->nwarnings >= 1 &&
		      strstr(t->warnings[0], "no primary key") != NULL);
	} else {
		CHECK(0);
	}
	size_t nmap = 0;
	const struct barge_typemap *m = D->typemap(&nmap);
	CHECK(m != NULL && nmap > 10);
	barge_table_def_free(t);
	D->close(c);
}

/* ---- round trip of every value class ---- */

static const char uuid1[16] = "\x12\x34\x56\x78\x9a\xbc\xde\xf0\x00\x11\x22\x33\x44\x55\x66\x77";

static void fill_roundtrip(struct barge_batch *b)
{
	struct barge_value v;
	/* row 1: extremes */
	barge_batch_put_i64(b, 0, 1);
	barge_batch_put_i64(b, 1, INT64_MIN);
	barge_batch_put_f64(b, 2, 5e-324);
	barge_batch_put_bytes(b, 3, "emoji \xf0\x9f\x98\x80 e\xcc\x81 \xe4\xb8\xad", 16);
	barge_batch_put_bytes(b, 4, "\0\x01\0", 3);
	barge_batch_put_i64(b, 5, 19782); /* 2024-02-29 */
	barge_batch_put_i64(b, 6, 1);     /* 00:00:00.000001 */
	barge_batch_put_i64(b, 7, INT64_C(1709164800123000)); /* .123 */
	barge_batch_put_i64(b, 8, INT64_C(1709164800123456));
	barge_batch_put_bytes(b, 9, "-12345678901234567890.1234", 26);
	barge_batch_put_bytes(b, 10, uuid1, 16);
	barge_batch_put_bytes(b, 11, "{\"a\": [1, 2.50]}", 16);
	v = (struct barge_value){.type = BARGE_T_INT64, .i = 7};
	barge_batch_put_tagged(b, 12, &v);
	barge_batch_put_i64(b, 13, 1);
	barge_batch_end_row(b);
	/* row 2: the other ends */
	barge_batch_put_i64(b, 0, 2);
	barge_batch_put_i64(b, 1, INT64_MAX);
	barge_batch_put_f64(b, 2, 1.7976931348623157e308);
	barge_batch_put_bytes(b, 3, "a\0b", 3);
	barge_batch_put_bytes(b, 4, "", 0); /* empty blob, not NULL */
	barge_batch_put_i64(b, 5, -719528); /* 0000-01-01 */
	barge_batch_put_i64(b, 6, INT64_C(86399999999));
	barge_batch_put_i64(b, 7, INT64_C(-1)); /* 1969-12-31 23:59:59.999999 */
	barge_batch_put_i64(b, 8, INT64_C(253402300799000000)); /* 9999-12-31 */
	barge_batch_put_bytes(b, 9, "0.10", 4);
	barge_batch_put_bytes(b, 10, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\xff", 16);
	barge_batch_put_bytes(b, 11, "[]", 2);
	v = (struct barge_value){.type = BARGE_T_FLOAT64, .f = -0.0};
	barge_batch_put_tagged(b, 12, &v);
	barge_batch_put_i64(b, 13, 0);
	barge_batch_end_row(b);
	/* row 3: empty text, blob in `any`, 0.1 */
	barge_batch_put_i64(b, 0, 3);
	barge_batch_put_i64(b, 1, 0);
	barge_batch_put_f64(b, 2, 0.1);
	barge_batch_put_bytes(b, 3, "", 0);
	for (size_t c = 4; c < 12; c++)
		barge_batch_put_null(b, c);
	v = (struct barge_value){.type = BARGE_T_BYTES, .p = "\0\xff", .n = 2};
	barge_batch_put_tagged(b, 12, &v);
	barge_batch_put_null(b, 13);
	barge_batch_end_row(b);
	/* row 4: text in `any` with a NUL, -1.5; row 5: all NULL */
	barge_batch_put_i64(b, 0, 4);
	barge_batch_put_null(b, 1);
	barge_batch_put_f64(b, 2, -1.5);
	barge_batch_put_null(b, 3);
	for (size_t c = 4; c < 12; c++)
		barge_batch_put_null(b, c);
	v = (struct barge_value){.type = BARGE_T_TEXT, .p = "x\0y", .n = 3};
	barge_batch_put_tagged(b, 12, &v);
	barge_batch_put_null(b, 13);
	barge_batch_end_row(b);
	barge_batch_put_i64(b, 0, 5);
	for (size_t c = 1; c < 14; c++)
		barge_batch_put_null(b, c);
	barge_batch_end_row(b);
}

static struct barge_table_def *roundtrip_def(void)
{
	static const struct {
		const char *name;
		int type;
	} cols[] = {
		{"id", BARGE_T_INT64},       {"i", BARGE_T_INT64},
		{"f", BARGE_T_FLOAT64},      {"t", BARGE_T_TEXT},
		{"b", BARGE_T_BYTES},        {"d", BARGE_T_DATE},
		{"tm", BARGE_T_TIME},        {"ts", BARGE_T_TIMESTAMP},
		{"tz", BARGE_T_TIMESTAMPTZ}, {"dec", BARGE_T_DECIMAL},
		{"u", BARGE_T_UUID},         {"j", BARGE_T_JSON},
		{"a", BARGE_T_ANY},          {"bo", BARGE_T_BOOL},
	};
	static struct barge_column_def cd[14];
	static size_t key[1] = {0};
	static struct barge_table_def t;
	for (size_t i = 0; i < 14; i++) {
		cd[i] = (struct barge_column_def){.name = (char *)cols[i].name,
						  .type = cols[i].type,
						  .scale = -1};
	}
	cd[0].notnull = 1;
	cd[0].key_pos = 1;
	cd[9].precision = 30;
	cd[9].scale = 4;
	t = (struct barge_table_def){.name = "vals", .ncols = 14, .cols = cd,
				     .nkey = 1, .key = key, .has_rowid = 1,
				     .rows = -1};
	return &t;
}

static void test_roundtrip(void)
{
	char path[1024];
	struct barge_table_def *src = roundtrip_def(), *t = NULL;
	struct barge_batch *b = NULL, *back = NULL;
	int types[14], err = 0;
	size_t cols[14];

	harness_path(path, sizeof path, "roundtrip.db");
	struct barge_conn *c = open_db(path, BARGE_OPEN_WRITE | BARGE_OPEN_CREATE);
	if (!c)
		return;
	CHECK_OK(D->create_table(c, src));
	CHECK_OK(D->create_table(c, src)); /* IF NOT EXISTS */
	CHECK_OK(D->describe(c, "vals", &t));
	if (!t)
		goto out;
	/* create_table's names map back to the same logical types */
	CHECK(t->ncols == 14);
	for (size_t i = 0; i < 14 && i < t->ncols; i++) {
		if (t->cols[i].type != src->cols[i].type)
			fprintf(stderr, "column %s: %s -> %s\n", t->cols[i].name,
				t->cols[i].engine_type,
				barge_type_name(t->cols[i].type));
		CHECK(t->cols[i].type == src->cols[i].type);
		types[i] = src->cols[i].type;
		cols[i] = i;
	}
	CHECK(t->nkey == 1 && t->key[0] == 0 && t->cols[0].notnull);
	CHECK_STR(t->cols[12].engine_type, "");
	CHECK(t->cols[9].precision == 30 && t->cols[9].scale == 4);

	CHECK_OK(barge_batch_new(&b, 14, types, 16));
	if (!b)
		goto out;
	fill_roundtrip(b);
	struct barge_write_req wr = {.table = t, .ncols = 14, .cols = cols,
				     .mode = BARGE_MODE_INSERT};
	CHECK_OK(D->begin(c));
	write_expect(c, &wr, b, 0, NULL, NULL);

	back = read_all(c, t, NULL, 0, &err);
	CHECK_OK(err);
	CHECK(back && back->nrows == b->nrows);
	for (size_t row = 0; back && row < b->nrows && row < back->nrows; row++) {
		for (size_t col = 0; col < 14; col++) {
			struct barge_value x, y;
			barge_batch_get(b, col, row, &x);
			barge_batch_get(back, col, row, &y);
			if (!same_value(&x, &y))
				fprintf(stderr, "row %zu column %s differs\n", row,
					t->cols[col].name);
			CHECK(same_value(&x, &y));
		}
	}
	/* and what SQLite holds is the documented text */
	{
		sqlite3 *db = NULL;
		sqlite3_stmt *st = NULL;
		sqlite3_open(path, &db);
		sqlite3_prepare_v2(db, "SELECT d, tm, ts, tz, u, typeof(dec), "
				       "typeof(j), typeof(a), typeof(b) FROM vals "
				       "WHERE id = 1", -1, &st, NULL);
		CHECK(sqlite3_step(st) == SQLITE_ROW);
		CHECK_STR((const char *)sqlite3_column_text(st, 0), "2024-02-29");
		CHECK_STR((const char *)sqlite3_column_text(st, 1), "00:00:00.000001");
		CHECK_STR((const char *)sqlite3_column_text(st, 2),
			  "2024-02-29 00:00:00.123");
		CHECK_STR((const char *)sqlite3_column_text(st, 3),
			  "2024-02-29 00:00:00.123456+00:00");
		CHECK_STR((const char *)sqlite3_column_text(st, 4),
			  "12345678-9abc-def0-0011-223344556677");
		CHECK_STR((const char *)sqlite3_column_text(st, 5), "text");
		CHECK_STR((const char *)sqlite3_column_text(st, 6), "text");
		CHECK_STR((const char *)sqlite3_column_text(st, 7), "integer");
		CHECK_STR((const char *)sqlite3_column_text(st, 8), "blob");
		sqlite3_finalize(st);
		sqlite3_close(db);
	}
	/* -0.0 into a REAL column would lose its sign: refused, not changed */
	{
		int ft[14];
		struct barge_batch *z = NULL;
		memcpy(ft, types, sizeof ft);
		barge_batch_new(&z, 14, ft, 1);
		barge_batch_put_i64(z, 0, 9);
		barge_batch_put_null(z, 1);
		barge_batch_put_f64(z, 2, -0.0);
		for (size_t col = 3; col < 14; col++)
			barge_batch_put_null(z, col);
		barge_batch_end_row(z);
		CHECK_OK(D->begin(c));
		write_expect(c, &wr, z, BARGE_EDATA, "column f", "id=9");
		barge_batch_free(z);
	}
out:
	barge_batch_free(b);
	barge_batch_free(back);
	barge_table_def_free(t);
	D->close(c);
}

/* Values as other programs write them into SQLite: converted exactly. */
static void test_read_conversions(void)
{
	char path[1024];
	struct barge_table_def *t = NULL;
	int err = 0;

	harness_path(path, sizeof path, "conv.db");
	raw_exec(path,
		 "CREATE TABLE c (id INTEGER PRIMARY KEY, dec DECIMAL(20,6), "
		 "tz TIMESTAMPTZ, ts DATETIME, f REAL, u UUID);"
		 "INSERT INTO c VALUES (1, 1.5, '2024-01-02T03:04:05.5Z', "
		 "'2024-01-02T03:04:05', 3, 'ABCDEF00-0000-0000-0000-0000000000FF');"
		 "INSERT INTO c VALUES (2, 0.0000001, '2024-01-02 05:04:05+02:00', "
		 "'2024-01-02 03:04', 2.5, NULL);"
		 "INSERT INTO c VALUES (3, 100000000000000000000, NULL, "
		 "'2024-01-02', NULL, NULL);"
		 "INSERT INTO c VALUES (4, 42, NULL, NULL, NULL, NULL);");
	struct barge_conn *c = open_db(path, BARGE_OPEN_READ);
	if (!c)
		return;
	CHECK_OK(D->describe(c, "c", &t));
	struct barge_batch *b = t ? read_all(c, t, NULL, 0, &err) : NULL;
	CHECK_OK(err);
	CHECK(b && b->nrows == 4);
	if (b && b->nrows == 4) {
		struct barge_value v;
		static const char *const dec[] = {"1.5", "0.0000001",
						  "100000000000000000000", "42"};
		for (size_t r = 0; r < 4; r++) {
			barge_batch_get(b, 1, r, &v);
			CHECK(v.n == strlen(dec[r]) && memcmp(v.p, dec[r], v.n) == 0);
		}
		int64_t base = INT64_C(1704164645) * 1000000; /* 03:04:05Z */
		CHECK(barge_batch_i64(b, 2, 0) == base + 500000);
		CHECK(barge_batch_i64(b, 2, 1) == base);
		CHECK(barge_batch_i64(b, 3, 0) == base);
		CHECK(barge_batch_i64(b, 3, 1) == base - 5 * 1000000);
		CHECK(barge_batch_i64(b, 3, 2) == INT64_C(1704153600) * 1000000);
		CHECK(barge_batch_f64(b, 4, 0) == 3.0);
		barge_batch_get(b, 5, 0, &v);
		CHECK(v.n == 16 && (unsigned char)v.p[0] == 0xab &&
		      (unsigned char)v.p[15] == 0xff);
	}
	barge_batch_free(b);
	barge_table_def_free(t);
	D->close(c);
}

/* Date/time TEXT with offset marks, as strftime('...Z') and other programs
 * write them: a naive DATETIME column takes a zero offset (as it always
 * did: the shared reader in civil.c keeps this reader's rule), a shifted
 * one is refused, never moved. */
static void test_read_temporal_marks(void)
{
	char path[1024];
	struct barge_table_def *t = NULL;
	int err = 0;

	harness_path(path, sizeof path, "marks.db");
	raw_exec(path,
		 "CREATE TABLE m (id INTEGER PRIMARY KEY, ts DATETIME, "
		 "tz TIMESTAMPTZ);"
		 "INSERT INTO m VALUES (1, strftime('%Y-%m-%dT%H:%M:%SZ', "
		 "'2024-01-02 03:04:05'), '2024-01-02 08:34:05+0530');"
		 "INSERT INTO m VALUES (2, '2024-01-02 03:04:05+00:00', "
		 "'2024-01-02 08:04:05+05');"
		 "INSERT INTO m VALUES (3, '2024-01-02 03:04:05+00', "
		 "'2024-01-02T03:04:05.000000000');"
		 "CREATE TABLE bad (id INTEGER PRIMARY KEY, ts DATETIME);"
		 "INSERT INTO bad VALUES (1, '2024-01-02 03:04:05+05:30');");
	struct barge_conn *c = open_db(path, BARGE_OPEN_READ);
	if (!c)
		return;
	CHECK_OK(D->describe(c, "m", &t));
	struct barge_batch *b = t ? read_all(c, t, NULL, 0, &err) : NULL;
	CHECK_OK(err);
	CHECK(b && b->nrows == 3);
	int64_t base = INT64_C(1704164645) * 1000000; /* 03:04:05Z */
	for (size_t r = 0; b && r < b->nrows; r++) {
		CHECK(barge_batch_i64(b, 1, r) == base);
		CHECK(barge_batch_i64(b, 2, r) == base);
	}
	barge_batch_free(b);
	barge_table_def_free(t);
	t = NULL;
	CHECK_OK(D->describe(c, "bad", &t));
	b = t ? read_all(c, t, NULL, 0, &err) : NULL;
	CHECK(err == BARGE_EDATA && b == NULL);
	barge_error_clear();
	barge_batch_free(b);
	barge_table_def_free(t);
	D->close(c);
}

/* ---- composite text keys, binary order ---- */

static void test_keyset(void)
{
	char path[1024];
	struct barge_table_def *t = NULL;
	struct barge_key *k1 = NULL, *k2 = NULL, *k3 = NULL, *k4 = NULL;
	int err;

	harness_path(path, sizeof path, "keys.db");
	raw_exec(path,
		 "CREATE TABLE k (a TEXT COLLATE NOCASE NOT NULL, b TEXT NOT NULL, "
		 "v INT, PRIMARY KEY (a, b));"
		 "INSERT INTO k VALUES ('a','1',2), ('B','1',1), ('a|b','1',5), "
		 "('ab','1',4), ('a','2',3), ('\xc3\xa9','1',6);");
	struct barge_conn *c = open_db(path, BARGE_OPEN_READ);
	if (!c)
		return;
	CHECK_OK(D->describe(c, "k", &t));
	if (!t)
		goto out;
	CHECK(t->nkey == 2);
	/* binary order: B < a,1 < a,2 < ab < a|b < é */
	CHECK_OK(D->key_after(c, t, NULL, 0, &k1));
	CHECK(k1 && k1->n == 2 && k1->v[0].n == 1 && k1->v[0].p[0] == 'B');
	if (!k1)
		goto out;
	CHECK_OK(D->key_after(c, t, k1, 2, &k2));
	CHECK(k2 && k2->v[0].n == 1 && k2->v[0].p[0] == 'a' &&
	      k2->v[1].p[0] == '2');
	if (!k2)
		goto out;
	CHECK_OK(D->key_after(c, t, k2, 2, &k3));
	CHECK(k3 && k3->v[0].n == 3 && memcmp(k3->v[0].p, "a|b", 3) == 0);
	if (!k3)
		goto out;
	CHECK(D->key_after(c, t, k3, 2, &k4) == BARGE_ENOTFOUND);
	CHECK(k4 == NULL);

	/* the chunks [-, k2), [k2, k3), [k3, -) hold exactly their rows */
	struct barge_chunk ch[3] = {{.hi = k2}, {.lo = k2, .hi = k3}, {.lo = k3}};
	static const int64_t want[3][2] = {{1, 2}, {3, 4}, {5, 6}};
	for (int i = 0; i < 3; i++) {
		struct barge_batch *b = read_all(c, t, &ch[i], 0, &err);
		CHECK_OK(err);
		CHECK(b && b->nrows == 2);
		if (b && b->nrows == 2) {
			CHECK(barge_batch_i64(b, 2, 0) == want[i][0]);
			CHECK(barge_batch_i64(b, 2, 1) == want[i][1]);
		}
		barge_batch_free(b);
	}
out:
	barge_key_free(k1);
	barge_key_free(k2);
	barge_key_free(k3);
	barge_table_def_free(t);
	D->close(c);
}

/* ---- keyless tables by rowid ---- */

static void test_keyless(void)
{
	char spath[1024], dpath[1024];
	struct barge_table_def *t = NULL, *dt = NULL;
	struct barge_batch *b = NULL, *back = NULL, *part = NULL;
	struct barge_key *lo = NULL, *hi = NULL;
	int err = 0;

	harness_path(spath, sizeof spath, "keyless_src.db");
	harness_path(dpath, sizeof dpath, "keyless_dst.db");
	raw_exec(spath, "CREATE TABLE d (x TEXT, y INT);"
			"INSERT INTO d VALUES ('a',1),('gone',0),('a',1),('b',2);"
			"DELETE FROM d WHERE rowid = 2;");
	struct barge_conn *s = open_db(spath, BARGE_OPEN_READ);
	struct barge_conn *d = open_db(dpath, BARGE_OPEN_WRITE | BARGE_OPEN_CREATE);
	if (!s || !d)
		goto out;
	CHECK_OK(D->describe(s, "d", &t));
	if (!t)
		goto out;
	CHECK(t->nkey == 0 && t->has_rowid);
	CHECK_OK(D->audit(s, t));
	int dup = 0;
	for (size_t i = 0; i < t->nwarnings; i++)
		if (strstr(t->warnings[i], "more than once"))
			dup = 1;
	CHECK(dup);
	int64_t mn = 0, mx = 0, cnt = 0;
	CHECK_OK(D->key_range(s, t, 1, &mn, &mx, &cnt));
	CHECK(mn == 1 && mx == 4 && cnt == 3);

	struct barge_chunk all = {.by_rowid = 1};
	b = read_all(s, t, &all, 1, &err);
	CHECK_OK(err);
	CHECK(b && b->nrows == 3);
	if (!b)
		goto out;
	CHECK(barge_batch_i64(b, 2, 0) == 1 && barge_batch_i64(b, 2, 1) == 3 &&
	      barge_batch_i64(b, 2, 2) == 4);

	/* write with rowids into a table made by create_table */
	CHECK_OK(D->create_table(d, t));
	CHECK_OK(D->describe(d, "d", &dt));
	if (!dt)
		goto out;
	size_t cols[2] = {0, 1};
	struct barge_write_req wr = {.table = dt, .ncols = 2, .cols = cols,
				     .with_rowid = 1, .mode = BARGE_MODE_INSERT};
	CHECK_OK(D->begin(d));
	write_expect(d, &wr, b, 0, NULL, NULL);
	back = read_all(d, dt, NULL, 1, &err);
	CHECK_OK(err);
	CHECK(back && back->nrows == 3);
	for (size_t r = 0; back && r < 3 && r < back->nrows; r++)
		for (size_t col = 0; col < 3; col++) {
			struct barge_value x, y;
			barge_batch_get(b, col, r, &x);
			barge_batch_get(back, col, r, &y);
			CHECK(same_value(&x, &y));
		}
	/* a rowid range [3, 4) */
	struct barge_value v3 = {.type = BARGE_T_INT64, .i = 3};
	struct barge_value v4 = {.type = BARGE_T_INT64, .i = 4};
	barge_key_new(&lo, 1, &v3);
	barge_key_new(&hi, 1, &v4);
	struct barge_chunk ch = {.lo = lo, .hi = hi, .by_rowid = 1};
	part = read_all(d, dt, &ch, 1, &err);
	CHECK_OK(err);
	CHECK(part && part->nrows == 1 && barge_batch_i64(part, 2, 0) == 3);
	/* writing them again conflicts on the rowid */
	CHECK_OK(D->begin(d));
	write_expect(d, &wr, b, BARGE_ECONFLICT, NULL, NULL);
out:
	barge_key_free(lo);
	barge_key_free(hi);
	barge_batch_free(part);
	barge_batch_free(b);
	barge_batch_free(back);
	barge_table_def_free(t);
	barge_table_def_free(dt);
	D->close(s);
	D->close(d);
}

/* ---- write modes: insert conflict, upsert, delete_range ---- */

static void test_modes(void)
{
	char path[1024];
	struct barge_table_def *t = NULL;
	struct barge_batch *b = NULL, *back = NULL;
	struct barge_key *lo = NULL, *hi = NULL;
	int types[2] = {BARGE_T_INT64, BARGE_T_TEXT}, err = 0;
	size_t cols[2] = {0, 1};

	harness_path(path, sizeof path, "modes.db");
	raw_exec(path, "CREATE TABLE m (id INTEGER PRIMARY KEY, s TEXT);"
		       "INSERT INTO m VALUES (1,'one'),(2,'two'),(3,'three'),"
		       "(4,'four'),(5,'five');");
	struct barge_conn *c = open_db(path, BARGE_OPEN_WRITE);
	if (!c)
		return;
	CHECK_OK(D->describe(c, "m", &t));
	if (!t)
		goto out;
	barge_batch_new(&b, 2, types, 4);
	barge_batch_put_i64(b, 0, 2);
	barge_batch_put_bytes(b, 1, "TWO", 3);
	barge_batch_end_row(b);
	barge_batch_put_i64(b, 0, 6);
	barge_batch_put_bytes(b, 1, "six", 3);
	barge_batch_end_row(b);

	struct barge_write_req wr = {.table = t, .ncols = 2, .cols = cols,
				     .mode = BARGE_MODE_INSERT};
	CHECK_OK(D->begin(c));
	write_expect(c, &wr, b, BARGE_ECONFLICT, "m id=2", NULL);

	wr.mode = BARGE_MODE_UPSERT;
	CHECK_OK(D->begin(c));
	write_expect(c, &wr, b, 0, NULL, NULL);
	int64_t n = 0;
	CHECK_OK(D->count_rows(c, t, NULL, &n));
	CHECK(n == 6);
	CHECK_OK(D->count_rows(c, t, "s = 'TWO'", &n));
	CHECK(n == 1);

	/* delete [2, 4): ids 2 and 3 only */
	struct barge_value v2 = {.type = BARGE_T_INT64, .i = 2};
	struct barge_value v4 = {.type = BARGE_T_INT64, .i = 4};
	barge_key_new(&lo, 1, &v2);
	barge_key_new(&hi, 1, &v4);
	struct barge_chunk ch = {.lo = lo, .hi = hi};
	CHECK_OK(D->begin(c));
	CHECK_OK(D->delete_range(c, t, &ch));
	CHECK_OK(D->commit(c));
	back = read_all(c, t, NULL, 0, &err);
	CHECK_OK(err);
	CHECK(back && back->nrows == 4);
	if (back && back->nrows == 4) {
		CHECK(barge_batch_i64(back, 0, 0) == 1);
		CHECK(barge_batch_i64(back, 0, 1) == 4);
		CHECK(barge_batch_i64(back, 0, 2) == 5);
		CHECK(barge_batch_i64(back, 0, 3) == 6);
	}
	int64_t mn, mx, cnt;
	CHECK_OK(D->key_range(c, t, 0, &mn, &mx, &cnt));
	CHECK(mn == 1 && mx == 6 && cnt == 4);
	CHECK_OK(D->begin(c));
	CHECK_OK(D->truncate(c, t));
	CHECK_OK(D->commit(c));
	CHECK(D->key_range(c, t, 0, &mn, &mx, &cnt) == BARGE_ENOTFOUND);
out:
	barge_key_free(lo);
	barge_key_free(hi);
	barge_batch_free(b);
	barge_batch_free(back);
	barge_table_def_free(t);
	D->close(c);
}

/* ---- multi-row inserts ----
 * Batches larger than one multi-row group: every row lands once, and a
 * failure deep inside a group names its exact row and leaves nothing of
 * the failed statement behind. */
static void test_multirow(void)
{
	char path[1024];
	struct barge_table_def *t = NULL;
	struct barge_batch *b = NULL;
	int types[2] = {BARGE_T_INT64, BARGE_T_FLOAT64};
	size_t cols[2] = {0, 1};
	int64_t n = 0;

	harness_path(path, sizeof path, "multirow.db");
	raw_exec(path, "CREATE TABLE mr (id INTEGER PRIMARY KEY, x REAL);"
		       "INSERT INTO mr VALUES (150, 0.5);");
	struct barge_conn *c = open_db(path, BARGE_OPEN_WRITE);
	if (!c)
		return;
	CHECK_OK(D->describe(c, "mr", &t));
	barge_batch_new(&b, 2, types, 300);
	if (!t || !b)
		goto out;
	for (int64_t i = 1; i <= 300; i++) {
		barge_batch_put_i64(b, 0, i);
		barge_batch_put_f64(b, 1, (double)i / 7);
		barge_batch_end_row(b);
	}
	struct barge_write_req wr = {.table = t, .ncols = 2, .cols = cols,
				     .mode = BARGE_MODE_INSERT};
	/* id 150 exists: the conflict is named, in the middle of a group */
	CHECK_OK(D->begin(c));
	write_expect(c, &wr, b, BARGE_ECONFLICT, "mr id=150", NULL);

	/* upsert: all 300 rows, the existing one updated */
	wr.mode = BARGE_MODE_UPSERT;
	CHECK_OK(D->begin(c));
	write_expect(c, &wr, b, 0, NULL, NULL);
	CHECK_OK(D->count_rows(c, t, NULL, &n));
	CHECK(n == 300);
	CHECK_OK(D->count_rows(c, t, "x = 150.0 / 7", &n));
	CHECK(n == 1);

	/* a NaN (SQLite would store NULL) at row 200 of a fresh insert */
	CHECK_OK(D->begin(c));
	CHECK_OK(D->truncate(c, t));
	b->cols[1].fixed[199] = 0x7ff8000000000000LL;
	wr.mode = BARGE_MODE_INSERT;
	write_expect(c, &wr, b, BARGE_EDATA, "mr id=200", NULL);
	CHECK_OK(D->count_rows(c, t, NULL, &n));
	CHECK(n == 300);
out:
	barge_batch_free(b);
	barge_table_def_free(t);
	D->close(c);
}

/* ---- errors ---- */

static void test_errors(void)
{
	char path[1024], text[1200];
	struct barge_url *u = NULL;
	struct barge_conn *c = NULL;
	struct barge_table_def *t = NULL;
	struct stat sb;
	int err = 0;

	harness_path(path, sizeof path, "missing.db");
	snprintf(text, sizeof text, "sqlite:%s", path);
	CHECK_OK(barge_url_parse(&u, text));
	if (u) {
		CHECK(D->open(&c, u, BARGE_OPEN_READ) == BARGE_ENOTFOUND);
		CHECK(strstr(barge_error_last(), "does not exist") != NULL);
		CHECK(stat(path, &sb) != 0); /* not created */
		CHECK(D->open(&c, u, BARGE_OPEN_WRITE) == BARGE_ENOTFOUND);
		CHECK(stat(path, &sb) != 0);
	}
	barge_url_free(u);

	harness_path(path, sizeof path, "bad.db");
	raw_exec(path, "CREATE TABLE orders (id INTEGER PRIMARY KEY, n INTEGER, "
		       "amount DECIMAL(10,2));"
		       "INSERT INTO orders VALUES (1, 1, 2.5), (17, 'abc', 1),"
		       "(18, 2, 'x');");
	c = open_db(path, BARGE_OPEN_READ);
	if (!c)
		return;
	CHECK(D->describe(c, "nope", &t) == BARGE_ENOTFOUND);
	CHECK(strstr(barge_error_last(), "no table 'nope'") != NULL);
	CHECK_OK(D->describe(c, "orders", &t));
	if (t) {
		struct barge_batch *b = read_all(c, t, NULL, 0, &err);
		CHECK(err == BARGE_EDATA && b == NULL);
		CHECK(strstr(barge_error_last(),
			     "orders id=17: column n (int64) holds TEXT 'abc'") != NULL);
		CHECK_OK(D->audit(c, t));
		int seen_n = 0, seen_amount = 0;
		for (size_t i = 0; i < t->nwarnings; i++) {
			if (strstr(t->warnings[i], "column n (INTEGER->int64): 1 TEXT"))
				seen_n = 1;
			if (strstr(t->warnings[i], "column amount") &&
			    strstr(t->warnings[i], "'x'"))
				seen_amount = 1;
		}
		CHECK(seen_n && seen_amount);
	}
	barge_table_def_free(t);
	char **names = NULL;
	CHECK_OK(D->list_tables(c, &names));
	CHECK(names && names[0] && strcmp(names[0], "orders") == 0 && !names[1]);
	for (size_t i = 0; names && names[i]; i++)
		free(names[i]);
	free(names);
	D->close(c);
}

/* ---- one snapshot for leader and follower ---- */

static void test_snapshot(void)
{
	char path[1024];
	struct barge_table_def *t = NULL;
	char *token = NULL;
	int64_t n = 0;
	int err = 0;

	harness_path(path, sizeof path, "snap.db");
	raw_exec(path, "PRAGMA journal_mode=WAL;"
		       "CREATE TABLE s (id INTEGER PRIMARY KEY, v TEXT);"
		       "INSERT INTO s VALUES (1,'a'),(2,'b');");
	struct barge_conn *lead = open_db(path, BARGE_OPEN_READ);
	struct barge_conn *fol = open_db(path, BARGE_OPEN_READ);
	if (!lead || !fol)
		goto out;
	CHECK_OK(D->describe(lead, "s", &t));
	if (!t)
		goto out;
	CHECK_OK(D->snapshot_begin(lead, &token));
	CHECK(token != NULL);
	if (!token)
		goto out;
	CHECK_OK(D->snapshot_join(fol, token));
	CHECK(D->snapshot_join(fol, "sqlite-snapshot:999999") == BARGE_EUSAGE);

	raw_exec(path, "INSERT INTO s VALUES (3,'c');"); /* commits now */

	CHECK_OK(D->count_rows(lead, t, NULL, &n));
	CHECK(n == 2);
	CHECK_OK(D->count_rows(fol, t, NULL, &n));
	CHECK(n == 2);
	struct barge_batch *b = read_all(fol, t, NULL, 0, &err);
	CHECK_OK(err);
	CHECK(b && b->nrows == 2);
	barge_batch_free(b);
	CHECK_OK(D->snapshot_end(fol));
	CHECK_OK(D->count_rows(fol, t, NULL, &n)); /* its own handle again */
	CHECK(n == 3);
	CHECK_OK(D->snapshot_end(lead));
	CHECK_OK(D->count_rows(lead, t, NULL, &n));
	CHECK(n == 3);
out:
	free(token);
	barge_table_def_free(t);
	D->close(fol);
	D->close(lead);
}

/* ---- the in-database digest (barge_digest, digest.c) ---- */

/* Digest of rows [lo, hi) of `t` by the C encoder over what the reader
 * delivers: canonical (XXH3) or fast-path (MD5) form. */
static void c_digest(struct barge_conn *c, const struct barge_table_def *t,
		     const struct barge_chunk *ch, int fast,
		     struct barge_digest *d)
{
	struct barge_buf enc;
	int err = 0;
	barge_digest_init(d);
	barge_buf_init(&enc, 1u << 24);
	struct barge_batch *b = read_all(c, t, ch, 0, &err);
	CHECK_OK(err);
	if (b)
		CHECK_OK(fast ? barge_canon_fast_digest_batch(d, &enc, b, t->ncols)
			      : barge_canon_digest_batch(d, &enc, b, t->ncols));
	barge_batch_free(b);
	barge_buf_dispose(&enc);
}

static void test_digest(void)
{
	char path[1024];
	struct barge_table_def *t = NULL;

	harness_path(path, sizeof path, "digest.db");
	raw_exec(path,
		 "CREATE TABLE d (id INTEGER PRIMARY KEY, i INTEGER, r REAL, "
		 "t TEXT, b BLOB, a, dt DATE, ts DATETIME, tz TIMESTAMPTZ, "
		 "tm TIME, n NUMERIC(12,2), dx DECIMAL_TEXT, u UUID, j JSON, "
		 "bo BOOLEAN);"
		 "INSERT INTO d VALUES (1, NULL, NULL, NULL, NULL, NULL, NULL, "
		 "NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);"
		 "INSERT INTO d VALUES (2, 9223372036854775807, -0.0, '', x'', "
		 "1, '0001-01-01', '1970-01-01 00:00:00.123456', "
		 "'2024-06-01 12:00+05:30', '00:00', -0.01, '-001.50', "
		 "'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', "
		 "'{\"b\":1,\"a\":[1.0,2e3,\"\\u00e9\"]}', 0);"
		 "INSERT INTO d VALUES (3, -9223372036854775808, 3, "
		 "CAST(x'61006263' AS TEXT), x'00ff00', 2.5, '9999-12-31', "
		 "'1969-12-31 23:59:59.999999', '1970-01-01T00:00:00Z', "
		 "'23:59:59.999999', 99999999999.99, '100.000', "
		 "x'ffffffffffffffffffffffffffffffff', 'not json {', 1);"
		 "INSERT INTO d VALUES (4, 0, 4.9406564584124654e-324, ' ', "
		 "zeroblob(3), 'text', NULL, NULL, NULL, NULL, 0, '0', NULL, "
		 "' [1e400, -0, 10e-1] ', NULL);"
		 "INSERT INTO d VALUES (5, -1, 1e308 * 10, 'żółć 😀', NULL, "
		 "x'deadbeef', NULL, NULL, NULL, NULL, 5, NULL, NULL, 7, NULL);"
		 "INSERT INTO d VALUES (6, 1, -1e308 * 10, 'a|b', NULL, -0.0, "
		 "NULL, NULL, NULL, NULL, NULL, NULL, NULL, 1.5, NULL);"
		 "INSERT INTO d VALUES (7, 2, 0.1, 'x', NULL, '', NULL, NULL, "
		 "NULL, NULL, NULL, NULL, NULL, '\"\\ud83d\\ude00\"', NULL);");
	struct barge_conn *c = open_db(path, BARGE_OPEN_READ);
	if (!c)
		return;
	CHECK_OK(D->describe(c, "d", &t));
	if (!t) {
		D->close(c);
		return;
	}
	size_t cols[32];
	for (size_t i = 0; i < t->ncols; i++)
		cols[i] = i;
	CHECK(D->digest_able(c, t, t->ncols, cols, 0) == 1);
	/* every row alone, then the whole table, in both forms */
	for (int64_t id = 1; id <= 8; id++) {
		struct barge_value lo = {.type = BARGE_T_INT64, .i = id};
		struct barge_value hi = {.type = BARGE_T_INT64, .i = id + 1};
		struct barge_chunk ch = {0};
		if (id <= 7) {
			CHECK_OK(barge_key_new(&ch.lo, 1, &lo));
			CHECK_OK(barge_key_new(&ch.hi, 1, &hi));
		}
		for (int native = 0; native <= 1; native++) {
			struct barge_digest want, got;
			barge_digest_init(&got);
			c_digest(c, t, id <= 7 ? &ch : NULL, !native, &want);
			CHECK_OK(D->digest_range(c, t, id <= 7 ? &ch : NULL, NULL,
						 t->ncols, cols, native, &got.rows,
						 &got.lo, &got.hi));
			if (got.rows != want.rows || got.lo != want.lo ||
			    got.hi != want.hi)
				fprintf(stderr, "digest: row %lld native %d differs\n",
					(long long)id, native);
			CHECK(got.rows == want.rows && got.rows == (id <= 7 ? 1 : 7));
			CHECK(got.lo == want.lo && got.hi == want.hi);
		}
		barge_key_free(ch.lo);
		barge_key_free(ch.hi);
	}
	/* a filter, and the two forms differ */
	struct barge_digest a, b2;
	CHECK_OK(D->digest_range(c, t, NULL, "id > 5", t->ncols, cols, 1,
				 &a.rows, &a.lo, &a.hi));
	CHECK(a.rows == 2);
	CHECK_OK(D->digest_range(c, t, NULL, "id > 5", t->ncols, cols, 0,
				 &b2.rows, &b2.lo, &b2.hi));
	CHECK(b2.rows == 2 && (a.lo != b2.lo || a.hi != b2.hi));
	barge_table_def_free(t);
	t = NULL;
	D->close(c);

	/* a value its column cannot hold: BARGE_EDATA naming the column, as
	 * the reader's error does */
	harness_path(path, sizeof path, "digest_bad.db");
	raw_exec(path, "CREATE TABLE b (id INTEGER PRIMARY KEY, d DATE);"
		       "INSERT INTO b VALUES (1, '2024-01-01'), (2, 'nope');");
	c = open_db(path, BARGE_OPEN_READ);
	if (!c)
		return;
	CHECK_OK(D->describe(c, "b", &t));
	if (t) {
		struct barge_digest x;
		CHECK(D->digest_range(c, t, NULL, NULL, t->ncols, cols, 1, &x.rows,
				      &x.lo, &x.hi) == BARGE_EDATA);
		CHECK(strstr(barge_error_last(), "column d") != NULL);
	}
	barge_table_def_free(t);
	D->close(c);
}

int main(void)
{
	test_multirow();
	test_typemap();
	test_roundtrip();
	test_read_conversions();
	test_read_temporal_marks();
	test_keyset();
	test_keyless();
	test_modes();
	test_errors();
	test_snapshot();
	test_digest();
	return harness_done();
}
