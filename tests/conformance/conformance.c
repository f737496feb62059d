/*
 * The driver conformance suite (docs/conformance.md): one program, run with
 * an endpoint URL, that checks what every driver promises in driver.h:
 * exact round trips of every logical type's edge values (or BARGE_EDATA,
 * never a changed value), keyset chunks that partition a table in binary
 * key order, idempotent re-runs of every write mode, snapshot reads, the
 * in-database digest against the C encoder, and one-line errors.
 *
 * What is checked is decided from the driver's capability flags and its
 * optional slots (NULL = cannot), never from its name. Every table the
 * suite makes has a per-run prefix, so it needs no way to drop tables and
 * can run again against the same database.
 *
 *   conformance URL
 */
#include "barge/barge.h"
#include "canon.h"
#include "chunker.h"
#include "drv.h"
#include "conformance.h"

#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SECRET "Conf0rmanceSecretPw"
#define BIG_BATCH 20000 /* rows a collected read-back holds */

static const char *URL;
static struct barge_ep EP;
static unsigned CAPS;
static char PFX[40]; /* table-name prefix of this run */

/* ---- Helpers ----------------------------------------------------------- */

static void tname(char *buf, size_t n, const char *base)
{
	snprintf(buf, n, "%s%s", PFX, base);
}

static int one_line(const char *m)
{
	return m && m[0] && !strchr(m, '\n') && !strchr(m, '\r');
}

static struct barge_conn *conn_open(unsigned flags)
{
	struct barge_conn *c = NULL;
	if (EXPECT_OK(barge_drv_open(&EP, &c, flags)) != 0)
		return NULL;
	return c;
}

static struct barge_conn *conn_write(void)
{
	return conn_open(BARGE_OPEN_WRITE | BARGE_OPEN_CREATE);
}

struct coldesc {
	const char *name;
	int type;
	int precision, scale;
};

/*
 * Create table `base` (prefixed) with the given columns, the first `nkey`
 * of them the primary key (NOT NULL), through the driver, and describe it
 * back. Returns the described definition (caller frees) or NULL. The
 * described columns must map back to the logical types asked for.
 */
static struct barge_table_def *make_table(struct barge_conn *c, const char *base,
					  const struct coldesc *cols, size_t ncols,
					  size_t nkey)
{
	char name[128];
	struct barge_column_def cd[32];
	size_t key[8];
	struct barge_table_def *got = NULL;

	tname(name, sizeof name, base);
	for (size_t i = 0; i < ncols; i++) {
		cd[i] = (struct barge_column_def){
			.name = (char *)cols[i].name, .type = cols[i].type,
			.notnull = i < nkey, .key_pos = i < nkey ? (int)i + 1 : 0,
			.precision = cols[i].precision,
			.scale = cols[i].scale ? cols[i].scale : -1};
		if (cols[i].type == BARGE_T_DECIMAL && cols[i].precision == 0)
			cd[i].scale = -1;
	}
	for (size_t i = 0; i < nkey; i++)
		key[i] = i;
	struct barge_table_def def = {.name = name, .ncols = ncols, .cols = cd,
				      .nkey = nkey, .key = key, .rows = -1};
	if (EXPECT_OK(barge_drv_create_table(&EP, c, &def)) != 0)
		return NULL;
	if (EXPECT_OK(barge_drv_describe(&EP, c, name, &got)) != 0)
		return NULL;
	EXPECT(got->ncols == ncols, "%s: described %zu columns, made %zu", name,
	       got->ncols, ncols);
	EXPECT(got->nkey == nkey, "%s: described a key of %zu columns, made %zu",
	       name, got->nkey, nkey);
	for (size_t i = 0; i < ncols && i < got->ncols; i++)
		EXPECT(got->cols[i].type == cols[i].type,
		       "%s.%s: created from %s, described as %s (%s)", name,
		       cols[i].name, barge_type_name(cols[i].type),
		       barge_type_name(got->cols[i].type),
		       got->cols[i].engine_type ? got->cols[i].engine_type : "?");
	if (got->ncols != ncols || got->nkey != nkey) {
		barge_table_def_free(got);
		return NULL;
	}
	return got;
}

static struct barge_batch *batch_for(const struct barge_table_def *t,
				     size_t ncols, const size_t *cols, size_t cap)
{
	int types[32];
	struct barge_batch *b = NULL;
	for (size_t i = 0; i < ncols; i++)
		types[i] = cols ? t->cols[cols[i]].type : t->cols[i].type;
	if (EXPECT_OK(barge_batch_new(&b, ncols, types, cap)) != 0)
		return NULL;
	return b;
}

/*
 * One target transaction as the engine makes it: begin, optionally
 * truncate or delete `del`'s range, write `b` (every column, in table
 * order) in `mode`, commit. On a failure: rollback, and the code of the
 * first failing step is returned with the error slot as it set it.
 */
static int64_t next_part_seq; /* write_txn's parts: one chunk number each */

/* A write-only endpoint (a file target): what it wrote is not read here. */
static int write_only(void)
{
	if (EP.drv->read_open)
		return 0;
	conf_skip("no read_open: a write-only endpoint");
	return 1;
}

static int write_txn(struct barge_conn *c, const struct barge_table_def *t,
		     const struct barge_batch *b, int mode, int truncate,
		     const struct barge_chunk *del)
{
	size_t cols[32];
	struct barge_writer *w = NULL;
	int err;

	for (size_t i = 0; i < t->ncols; i++)
		cols[i] = i;
	struct barge_write_req req = {.table = t, .ncols = t->ncols,
				      .cols = cols, .mode = mode};
	/* a driver without transactions writes each chunk as a part (its
	 * own: every write here is a chunk of a new number) */
	int txn = EP.drv->begin != NULL;
	int part = !txn && EP.drv->part_begin != NULL;
	struct barge_chunk pch = {.seq = next_part_seq++};
	if (txn && (err = barge_drv_begin(&EP, c)) < 0)
		return err;
	if (part && (err = barge_drv_part_begin(&EP, c, t, &pch)) < 0)
		return err;
	if (truncate && (err = barge_drv_truncate(&EP, c, t)) < 0)
		goto fail;
	if (del && (err = barge_drv_delete_range(&EP, c, t, del)) < 0)
		goto fail;
	if ((err = barge_drv_write_open(&EP, &w, c, &req)) < 0)
		goto fail;
	if (b && b->nrows)
		err = barge_drv_write_batch(&EP, w, b);
	barge_drv_write_close(&EP, w);
	if (err < 0)
		goto fail;
	if (txn && (err = barge_drv_commit(&EP, c)) < 0)
		goto fail;
	if (part && (err = barge_drv_part_commit(&EP, c)) < 0)
		return err; /* part_commit aborts the part itself */
	return 0;
fail:;
	/* keep the first failure's message: rollback may set its own */
	char msg[1024];
	snprintf(msg, sizeof msg, "%s", barge_error_last());
	if (txn)
		barge_drv_rollback(&EP, c);
	if (part)
		barge_drv_part_abort(&EP, c);
	barge_error_set(err, "%s", msg);
	return err;
}

/*
 * Read `chunk` (NULL = the whole table) of `t`, columns `cols` (NULL = all),
 * ordered by key, into one new batch (caller frees). The read goes through
 * a small batch so that read_next is called many times.
 */
static int read_rows(struct barge_batch **out, struct barge_conn *c,
		     const struct barge_table_def *t,
		     const struct barge_chunk *chunk, size_t ncols,
		     const size_t *cols)
{
	size_t all[32];
	struct barge_reader *r = NULL;
	struct barge_batch *part = NULL, *b = NULL;
	int err;

	*out = NULL;
	if (!cols) {
		for (size_t i = 0; i < t->ncols; i++)
			all[i] = i;
		cols = all;
		ncols = t->ncols;
	}
	struct barge_read_req req = {.table = t, .chunk = chunk, .ncols = ncols,
				     .cols = cols, .order_by_key = 1};
	part = batch_for(t, ncols, cols, 64);
	b = batch_for(t, ncols, cols, BIG_BATCH);
	if (!part || !b) {
		err = BARGE_ENOMEM;
		goto out;
	}
	if ((err = barge_drv_read_open(&EP, &r, c, &req)) < 0)
		goto out;
	for (;;) {
		if ((err = barge_drv_read_next(&EP, r, part)) < 0 ||
		    part->nrows == 0)
			break;
		for (size_t row = 0; row < part->nrows && err == 0; row++) {
			if (b->nrows >= BIG_BATCH) {
				err = barge_error_set(BARGE_ERROR, "more than %d rows read",
						      BIG_BATCH);
				break;
			}
			for (size_t col = 0; col < ncols && err == 0; col++) {
				struct barge_value v;
				barge_batch_get(part, col, row, &v);
				err = barge_batch_put_value(b, col, &v);
			}
			if (err == 0)
				barge_batch_end_row(b);
		}
		if (err < 0)
			break;
	}
	barge_drv_read_close(&EP, r);
out:
	barge_batch_free(part);
	if (err < 0)
		barge_batch_free(b);
	else
		*out = b;
	return err;
}

/* Exactly the same value: bytes, the int64 slot, or the IEEE bits (any
 * NaN equals any NaN: barge's canonical form has one NaN). */
static int same_value(const struct barge_value *a, const struct barge_value *b)
{
	if (a->null || b->null)
		return a->null == b->null;
	if (a->type != b->type)
		return 0;
	if (a->type == BARGE_T_FLOAT64)
		return memcmp(&a->f, &b->f, sizeof a->f) == 0 ||
		       (isnan(a->f) && isnan(b->f));
	if (barge_type_is_varlen(a->type))
		return a->n == b->n && (a->n == 0 || memcmp(a->p, b->p, a->n) == 0);
	return a->i == b->i;
}

/* A printable form of a test value (test data only, never user data). */
static const char *show(const struct barge_value *v, char *buf, size_t n)
{
	size_t off = 0;
	if (v->null)
		return "NULL";
	if (v->type == BARGE_T_FLOAT64) {
		snprintf(buf, n, "%.17g", v->f);
		return buf;
	}
	if (!barge_type_is_varlen(v->type)) {
		snprintf(buf, n, "%" PRId64, v->i);
		return buf;
	}
	for (size_t i = 0; i < v->n && off + 8 < n; i++) {
		unsigned char ch = (unsigned char)v->p[i];
		if (ch >= 0x20 && ch < 0x7f && ch != '\\')
			buf[off++] = (char)ch;
		else
			off += (size_t)snprintf(buf + off, n - off, "\\x%02x", ch);
		if (i == 60 && v->n > 70) {
			off += (size_t)snprintf(buf + off, n - off, "...(%zu bytes)", v->n);
			break;
		}
	}
	buf[off] = 0;
	return buf;
}

/* Compare two batches of the same columns cell by cell. */
static void expect_same_rows(const char *what, const struct barge_table_def *t,
			     const struct barge_batch *want,
			     const struct barge_batch *got)
{
	int shown = 0;
	EXPECT(got->nrows == want->nrows, "%s: %zu rows read back, %zu expected",
	       what, got->nrows, want->nrows);
	for (size_t row = 0; row < want->nrows && row < got->nrows; row++)
		for (size_t col = 0; col < want->ncols; col++) {
			struct barge_value x, y;
			char bx[256], by[256];
			barge_batch_get(want, col, row, &x);
			barge_batch_get(got, col, row, &y);
			if (same_value(&x, &y) || shown > 20)
				continue;
			shown++;
			EXPECT(0, "%s: row %zu column %s: wrote %s, read %s", what,
			       row, t->cols[col].name, show(&x, bx, sizeof bx),
			       show(&y, by, sizeof by));
		}
}

/* The key of row `row` of a batch holding every column of `t`. */
static int row_key(struct barge_key **out, const struct barge_table_def *t,
		   const struct barge_batch *b, size_t row)
{
	struct barge_value v[8];
	for (size_t i = 0; i < t->nkey; i++)
		barge_batch_get(b, t->key[i], row, &v[i]);
	return barge_key_new(out, t->nkey, v);
}

static struct barge_key *int_key(int64_t i)
{
	struct barge_key *k = NULL;
	struct barge_value v = {.type = BARGE_T_INT64, .i = i};
	barge_key_new(&k, 1, &v);
	return k;
}

/* ---- Case 1: every logical type's edge values ---------------------------- */

enum {
	C_ID, C_BOOL, C_INT, C_FLOAT, C_DEC, C_DECS, C_TEXT, C_BYTES, C_DATE,
	C_TIME, C_TS, C_TSTZ, C_UUID, C_JSON, NCOLS
};

static const struct coldesc type_cols[NCOLS] = {
	{"id", BARGE_T_INT64, 0, 0},
	{"c_bool", BARGE_T_BOOL, 0, 0},
	{"c_int", BARGE_T_INT64, 0, 0},
	{"c_float", BARGE_T_FLOAT64, 0, 0},
	{"c_dec", BARGE_T_DECIMAL, 0, 0},
	{"c_dec_s", BARGE_T_DECIMAL, 30, 6},
	{"c_text", BARGE_T_TEXT, 0, 0},
	{"c_bytes", BARGE_T_BYTES, 0, 0},
	{"c_date", BARGE_T_DATE, 0, 0},
	{"c_time", BARGE_T_TIME, 0, 0},
	{"c_ts", BARGE_T_TIMESTAMP, 0, 0},
	{"c_tstz", BARGE_T_TIMESTAMPTZ, 0, 0},
	{"c_uuid", BARGE_T_UUID, 0, 0},
	{"c_json", BARGE_T_JSON, 0, 0},
};

/* One edge value of one column. `may_refuse`: the logical type has it but
 * an engine may not (then BARGE_EDATA, never a changed value). */
struct edge {
	int col;
	const char *label;
	int may_refuse;
	int64_t i;
	double f;
	const char *p;
	size_t n;
};

#define EI(c, l, v) {c, l, 0, v, 0, NULL, 0}
#define EF(c, l, v) {c, l, 0, 0, v, NULL, 0}
#define EB(c, l, s) {c, l, 0, 0, 0, s, sizeof s - 1}
#define RF(c, l, v) {c, l, 1, 0, v, NULL, 0}
#define RB(c, l, s) {c, l, 1, 0, 0, s, sizeof s - 1}

#define US INT64_C(1000000)
static const struct edge edges[] = {
	EI(C_BOOL, "false", 0),
	EI(C_BOOL, "true", 1),
	EI(C_INT, "INT64_MIN", INT64_MIN),
	EI(C_INT, "INT64_MAX", INT64_MAX),
	EI(C_INT, "0", 0),
	EI(C_INT, "-1", -1),
	EF(C_FLOAT, "5e-324", 5e-324),
	EF(C_FLOAT, "DBL_MAX", DBL_MAX),
	EF(C_FLOAT, "-DBL_MAX", -DBL_MAX),
	EF(C_FLOAT, "0.1", 0.1),
	EF(C_FLOAT, "0", 0.0),
	EF(C_FLOAT, "-2.2250738585072014e-308", -2.2250738585072014e-308),
	RF(C_FLOAT, "-0.0", -0.0),
	RF(C_FLOAT, "NaN", NAN),
	RF(C_FLOAT, "+Inf", INFINITY),
	RF(C_FLOAT, "-Inf", -INFINITY),
	EB(C_DEC, "40 digits", "123456789012345678901234567890.1234567890"),
	EB(C_DEC, "negative tiny", "-0.000000000000000000001"),
	EB(C_DEC, "negative large", "-98765432109876543210"),
	EB(C_DEC, "0", "0"),
	EB(C_DEC, "own scale 1.50", "1.50"),
	RB(C_DEC, "NaN", "NaN"),
	RB(C_DEC, "Infinity", "Infinity"),
	RB(C_DEC, "-Infinity", "-Infinity"),
	EB(C_DECS, "scale 6", "123456789012345678901234.123456"),
	EB(C_DECS, "-0.000001", "-0.000001"),
	EB(C_DECS, "0.000000", "0.000000"),
	RB(C_DECS, "more places than the scale", "1.1234567"),
	EB(C_TEXT, "empty", ""),
	EB(C_TEXT, "multi-byte", "\xc5\xbc\xc3\xb3\xc5\x82\xc4\x87 \xf0\x9f\x98\x80 \xe4\xb8\xad e\xcc\x81"),
	EB(C_TEXT, "quotes", "it's \"quoted\" `x`"),
	EB(C_TEXT, "backslashes", "back\\slash \\\\ \\N \\x00"),
	EB(C_TEXT, "CR/LF", "cr\r\nlf\n\r"),
	EB(C_TEXT, "tab", "\ttab\t"),
	EB(C_TEXT, "U+10FFFF", "\xf4\x8f\xbf\xbf"),
	RB(C_TEXT, "NUL inside", "nul\0inside"),
	EB(C_BYTES, "NUL", "\0"),
	EB(C_BYTES, "NULs", "\0\x01\0"),
	EB(C_BYTES, "0xff", "\xff\xfe\xff"),
	EB(C_BYTES, "empty", ""),
	EI(C_DATE, "0001-01-01", -719162),
	EI(C_DATE, "9999-12-31", 2932896),
	EI(C_DATE, "1970-01-01", 0),
	EI(C_DATE, "1969-12-31", -1),
	EI(C_TIME, "00:00:00", 0),
	EI(C_TIME, "23:59:59.999999", INT64_C(86399999999)),
	EI(C_TIME, "00:00:00.000001", 1),
	EI(C_TS, "epoch", 0),
	EI(C_TS, "1969-12-31 23:59:59.999999", -1),
	EI(C_TS, "0001-01-01", INT64_C(-62135596800) * US),
	EI(C_TS, "9999-12-31 23:59:59.999999", INT64_C(253402300799) * US + 999999),
	EI(C_TS, "2024-02-29 00:00:00.123456", INT64_C(1709164800123456)),
	EI(C_TSTZ, "epoch", 0),
	EI(C_TSTZ, "1969-12-31 23:59:59.999999Z", -1),
	EI(C_TSTZ, "0001-01-01Z", INT64_C(-62135596800) * US),
	EI(C_TSTZ, "9999-12-31 23:59:59.999999Z", INT64_C(253402300799) * US + 999999),
	EI(C_TSTZ, "1900-03-01 12:00:00.000001Z", INT64_C(-2203847999999999)),
	EB(C_UUID, "nil", "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"),
	EB(C_UUID, "max", "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"),
	EB(C_UUID, "mixed", "\x12\x34\x56\x78\x9a\xbc\xde\xf0\x00\x11\x22\x33\x44\x55\x66\x77"),
	EB(C_JSON, "object", "{\"a\": [1, 2.50, -0, 1e400], \"b\": null, \"\xc5\xbc\": \"\\u0041\"}"),
	EB(C_JSON, "string", "\"\\ud83d\\ude00 \\\" \\\\\""),
	EB(C_JSON, "empty array", "[]"),
	EB(C_JSON, "JSON null", "null"),
};
#define NEDGES (sizeof edges / sizeof *edges)

static struct barge_table_def *types_def; /* kept for the digest case */

static int put_edge(struct barge_batch *b, const struct edge *e)
{
	int type = type_cols[e->col].type;
	if (type == BARGE_T_FLOAT64)
		return barge_batch_put_f64(b, (size_t)e->col, e->f);
	if (barge_type_is_varlen((enum barge_type)type))
		return barge_batch_put_bytes(b, (size_t)e->col, e->p, e->n);
	return barge_batch_put_i64(b, (size_t)e->col, e->i);
}

/* A row with only `id` set (and `e`'s column, when given). */
static void put_row(struct barge_batch *b, int64_t id, const struct edge *e)
{
	barge_batch_put_i64(b, C_ID, id);
	for (int c = 1; c < NCOLS; c++) {
		if (e && e->col == c)
			put_edge(b, e);
		else
			barge_batch_put_null(b, (size_t)c);
	}
	barge_batch_end_row(b);
}

static void case_types(void)
{
	struct barge_conn *c = conn_write();
	struct barge_batch *b = NULL, *want = NULL, *back = NULL;
	char *longtext = NULL;
	size_t nrows = 0;
	int err;

	if (!c)
		return;
	types_def = make_table(c, "types", type_cols, NCOLS, 1);
	if (!types_def)
		goto out;
	b = batch_for(types_def, NCOLS, NULL, 64);
	want = batch_for(types_def, NCOLS, NULL, 64);
	if (!b || !want)
		goto out;

	/* the values every driver must hold: row r holds each column's r-th
	 * such value (NULL past the end); then a row of NULLs; then a long
	 * text of every width of UTF-8 */
	for (size_t r = 0;; r++) {
		int any = 0;
		size_t seen[NCOLS] = {0};
		barge_batch_put_i64(b, C_ID, (int64_t)r + 1);
		for (int col = 1; col < NCOLS; col++) {
			const struct edge *e = NULL;
			for (size_t k = 0; k < NEDGES; k++) {
				if (edges[k].col != col || edges[k].may_refuse)
					continue;
				if (seen[col]++ == r) {
					e = &edges[k];
					break;
				}
			}
			if (e) {
				put_edge(b, e);
				any = 1;
			} else {
				barge_batch_put_null(b, (size_t)col);
			}
		}
		barge_batch_end_row(b); /* the last one is all NULL */
		if (!any)
			break;
	}
	{
		size_t n = 70000, off = 0;
		static const char piece[] = "a\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80";
		longtext = malloc(n);
		if (!longtext)
			goto out;
		while (off + sizeof piece - 1 <= n) {
			memcpy(longtext + off, piece, sizeof piece - 1);
			off += sizeof piece - 1;
		}
		struct edge e = {C_TEXT, "long", 0, 0, 0, longtext, off};
		put_row(b, (int64_t)b->nrows + 1, &e);
	}
	nrows = b->nrows;
	err = write_txn(c, types_def, b, BARGE_MODE_INSERT, 0, NULL);
	EXPECT(err == 0, "writing the edge values: %d: %s", err, barge_error_last());
	for (size_t row = 0; row < nrows; row++) {
		for (size_t col = 0; col < NCOLS; col++) {
			struct barge_value v;
			barge_batch_get(b, col, row, &v);
			barge_batch_put_value(want, col, &v);
		}
		barge_batch_end_row(want);
	}

	/* the values an engine may refuse: each in a transaction of its own;
	 * accepted means kept exactly (checked below with the rest) */
	for (size_t k = 0; k < NEDGES; k++) {
		const struct edge *e = &edges[k];
		if (!e->may_refuse)
			continue;
		int64_t id = 1000 + (int64_t)k;
		barge_batch_reset(b);
		put_row(b, id, e);
		barge_error_clear();
		err = write_txn(c, types_def, b, BARGE_MODE_INSERT, 0, NULL);
		if (err == 0) {
			put_row(want, id, e);
			continue;
		}
		const char *m = barge_error_last();
		EXPECT(err == BARGE_EDATA,
		       "%s %s: refused with %d, not BARGE_EDATA: %s",
		       type_cols[e->col].name, e->label, err, m);
		EXPECT(one_line(m), "%s %s: refused without a one-line message: '%s'",
		       type_cols[e->col].name, e->label, m);
		conf_note("refused %s %s", barge_type_name(type_cols[e->col].type),
			  e->label);
	}

	if (!EP.drv->read_open)
		conf_note("written; not read back: no read_open");
	else if (EXPECT_OK(read_rows(&back, c, types_def, NULL, 0, NULL)) == 0)
		expect_same_rows("edge values", types_def, want, back);
out:
	free(longtext);
	barge_batch_free(b);
	barge_batch_free(want);
	barge_batch_free(back);
	barge_drv_close(&EP, c);
}

/* ---- Case 2: keyset chunking ---------------------------------------------- */

static int key_qcmp(const void *a, const void *b)
{
	return barge_key_cmp(*(struct barge_key *const *)a,
			     *(struct barge_key *const *)b);
}

static void keys_free(struct barge_key **k, size_t n)
{
	for (size_t i = 0; k && i < n; i++)
		barge_key_free(k[i]);
	free(k);
}

/* Kept for the digest case: the integer-key table and one inner chunk. */
static struct barge_table_def *chunk_int_def;
static struct barge_key *chunk_int_lo, *chunk_int_hi;

/*
 * Plan `t` through the chunker (chunk_rows rows a chunk), read every chunk
 * and check that the chunks hold exactly the keys `want` (sorted), each
 * once, in binary key order, each row inside its chunk's bounds.
 */
static void check_partition(struct barge_conn *c, const struct barge_table_def *t,
			    int want_how, int64_t chunk_rows,
			    struct barge_key **want, size_t nwant, int keep)
{
	struct barge_chunk_list l;
	int types[8];
	size_t got = 0, bad = 0;
	int how = barge_chunking_for(t, CAPS);

	EXPECT(how == want_how, "%s: chunked by %s, expected %s", t->name,
	       barge_chunking_name(how), barge_chunking_name(want_how));
	if (EXPECT_OK(barge_chunk_plan(&l, &EP, c, t, how, chunk_rows, 1)) != 0)
		return;
	if ((size_t)chunk_rows < nwant && how == BARGE_CHUNK_KEYSET)
		EXPECT(l.n >= nwant / (size_t)chunk_rows,
		       "%s: %zu chunks of %" PRId64 " rows for %zu rows", t->name,
		       l.n, chunk_rows, nwant);
	barge_chunk_key_types(types, t, 0);
	for (size_t u = 0; u < l.n; u++) {
		struct barge_chunk ch = {.seq = (int64_t)u};
		struct barge_batch *b = NULL;
		if ((l.units[u].lo && EXPECT_OK(barge_key_from_json(
			     &ch.lo, l.units[u].lo, t->nkey, types)) != 0) ||
		    (l.units[u].hi && EXPECT_OK(barge_key_from_json(
			     &ch.hi, l.units[u].hi, t->nkey, types)) != 0))
			goto next;
		if (EXPECT_OK(read_rows(&b, c, t, &ch, 0, NULL)) != 0)
			goto next;
		for (size_t row = 0; row < b->nrows; row++, got++) {
			struct barge_key *k = NULL;
			if (EXPECT_OK(row_key(&k, t, b, row)) != 0)
				break;
			int inside = (!ch.lo || barge_key_cmp(ch.lo, k) <= 0) &&
				     (!ch.hi || barge_key_cmp(k, ch.hi) < 0);
			char *kj = NULL;
			if (!inside || got >= nwant || barge_key_cmp(k, want[got]) != 0) {
				barge_key_to_json(&kj, k);
				if (bad++ < 10) {
					EXPECT(inside, "%s chunk %zu [%s, %s): row %s outside",
					       t->name, u, l.units[u].lo ? l.units[u].lo : "-",
					       l.units[u].hi ? l.units[u].hi : "-", kj);
					char *wj = NULL;
					if (got < nwant)
						barge_key_to_json(&wj, want[got]);
					EXPECT(got < nwant && barge_key_cmp(k, want[got]) == 0,
					       "%s (chunk_rows %" PRId64 "): row %zu read is %s, "
					       "expected %s", t->name, chunk_rows, got, kj,
					       wj ? wj : "(no more rows)");
					free(wj);
				}
				free(kj);
			}
			barge_key_free(k);
		}
		/* one inner chunk of the integer table for the digest case */
		if (keep && !chunk_int_lo && u == l.n / 2 && ch.lo && ch.hi &&
		    b->nrows > 0) {
			chunk_int_lo = ch.lo;
			chunk_int_hi = ch.hi;
			ch.lo = ch.hi = NULL;
		}
next:
		barge_batch_free(b);
		barge_key_free(ch.lo);
		barge_key_free(ch.hi);
	}
	EXPECT(got == nwant, "%s (chunk_rows %" PRId64 "): %zu rows in %zu chunks, "
	       "%zu written", t->name, chunk_rows, got, l.n, nwant);
	barge_chunk_list_dispose(&l);
}

/*
 * Write `b` (every column of `t`) in one transaction, then `maybe`
 * (values an engine may refuse, BARGE_EDATA) in another; return the
 * written keys sorted.
 */
static struct barge_key **write_keys(struct barge_conn *c,
				     const struct barge_table_def *t,
				     const struct barge_batch *b,
				     const struct barge_batch *maybe, size_t *n)
{
	struct barge_key **k;
	size_t cap = b->nrows + (maybe ? maybe->nrows : 0);
	int err;

	*n = 0;
	if (EXPECT_OK(write_txn(c, t, b, BARGE_MODE_INSERT, 0, NULL)) != 0)
		return NULL;
	if (!(k = calloc(cap ? cap : 1, sizeof *k)))
		return NULL;
	for (size_t r = 0; r < b->nrows; r++)
		row_key(&k[(*n)++], t, b, r);
	if (maybe) {
		err = write_txn(c, t, maybe, BARGE_MODE_INSERT, 0, NULL);
		if (err == 0) {
			for (size_t r = 0; r < maybe->nrows; r++)
				row_key(&k[(*n)++], t, maybe, r);
		} else {
			EXPECT(err == BARGE_EDATA && one_line(barge_error_last()),
			       "%s: keys ending in NUL refused with %d: %s", t->name,
			       err, barge_error_last());
			conf_note("%s refused text keys ending in NUL (lowest: \\x01)",
				  t->name);
		}
	}
	qsort(k, *n, sizeof *k, key_qcmp);
	for (size_t i = 1; i < *n; i++)
		EXPECT(barge_key_cmp(k[i - 1], k[i]) < 0, "test data: duplicate key");
	return k;
}

static void case_chunk_int(void)
{
	static const struct coldesc cols[] = {{"id", BARGE_T_INT64, 0, 0},
					      {"v", BARGE_T_TEXT, 0, 0}};
	struct barge_conn *c = conn_write();
	struct barge_table_def *x = NULL;
	struct barge_batch *b = NULL;
	struct barge_key **k = NULL;
	size_t n = 0;

	if (!c)
		return;
	chunk_int_def = make_table(c, "chunk_int", cols, 2, 1);
	if (!chunk_int_def || !(b = batch_for(chunk_int_def, 2, NULL, 4096)))
		goto out;
	/* 3000 keys with gaps, negative ones too */
	for (int64_t i = 0; i < 3000; i++) {
		int64_t id = i * 3 - 4000 + (i % 7 == 0);
		char v[32];
		snprintf(v, sizeof v, "row %" PRId64, id);
		barge_batch_put_i64(b, 0, id);
		barge_batch_put_bytes(b, 1, v, strlen(v));
		barge_batch_end_row(b);
	}
	if (!(k = write_keys(c, chunk_int_def, b, NULL, &n)))
		goto out;
	check_partition(c, chunk_int_def, BARGE_CHUNK_INT, 1000, k, n, 0);
	check_partition(c, chunk_int_def, BARGE_CHUNK_INT, 7, k, n, 1);
	keys_free(k, n);
	k = NULL;

	/* the ends of int64: range widths must not overflow */
	static const int64_t ends[] = {INT64_MIN, INT64_MIN + 1, -1, 0, 1,
				       INT64_MAX - 1, INT64_MAX};
	if (!(x = make_table(c, "chunk_int_ends", cols, 2, 1)))
		goto out;
	barge_batch_reset(b);
	for (size_t i = 0; i < sizeof ends / sizeof *ends; i++) {
		barge_batch_put_i64(b, 0, ends[i]);
		barge_batch_put_bytes(b, 1, "e", 1);
		barge_batch_end_row(b);
	}
	if (!(k = write_keys(c, x, b, NULL, &n)))
		goto out;
	check_partition(c, x, BARGE_CHUNK_INT, 1, k, n, 0);
	check_partition(c, x, BARGE_CHUNK_INT, 2, k, n, 0);
out:
	keys_free(k, n);
	barge_table_def_free(x);
	barge_batch_free(b);
	barge_drv_close(&EP, c);
}

/* Texts for keys: every UTF-8 width, the lowest characters, prefixes. */
static const char *const key_atoms[] = {
	"", "a", "b", "z", "A", "Z", "0", " ", "~", "\x7f", "\x01", "\x02",
	"\xc3\xa9", "\xc5\xbc", "\xe4\xb8\xad", "\xef\xbf\xbf", "\xf0\x9f\x98\x80",
	"\xf4\x8f\xbf\xbf", "a\x01", "ab", "|", "'", "\\",
};
#define NATOMS (sizeof key_atoms / sizeof *key_atoms)

/* The i-th text of up to three atoms (i < NATOMS^3; not all distinct). */
static size_t key_text(char *buf, size_t cap, size_t i)
{
	size_t off = 0;
	for (int d = 0; d < 3; d++) {
		const char *a = key_atoms[i % NATOMS];
		size_t n = strlen(a);
		i /= NATOMS;
		if (off + n < cap) {
			memcpy(buf + off, a, n);
			off += n;
		}
	}
	buf[off] = 0;
	return off;
}

/* `want` distinct texts (none with a NUL) spread over the atom
 * sequences; the caller frees each and the array. */
static char **distinct_texts(size_t want)
{
	size_t total = NATOMS * NATOMS * NATOMS, nk = 0;
	char **seen = calloc(want + 1, sizeof *seen);
	for (size_t i = 0; seen && nk < want && i < total; i++) {
		char buf[64];
		key_text(buf, sizeof buf, i * 7919 % total);
		int dup = 0;
		for (size_t j = 0; j < nk && !dup; j++)
			dup = strcmp(seen[j], buf) == 0;
		if (!dup)
			seen[nk++] = strdup(buf);
	}
	return seen;
}

static void texts_free(char **t)
{
	for (size_t i = 0; t && t[i]; i++)
		free(t[i]);
	free(t);
}

/* One text-key table: `texts` in one transaction, then the keys ending in
 * NUL in another (an engine without NUL in text refuses them with
 * BARGE_EDATA); partitioned with each of `rows`. */
static void text_table(struct barge_conn *c, const char *base, char **texts,
		       const int64_t *rows, size_t nrows)
{
	static const struct coldesc cols[] = {{"k", BARGE_T_TEXT, 0, 0},
					      {"v", BARGE_T_INT64, 0, 0}};
	static const char *const nulkeys[] = {"\0", "a\0", "a\x01\0", "ab\0",
					      "\xc5\xbc\0"};
	static const size_t nullens[] = {1, 2, 3, 3, 3};
	struct barge_table_def *t = NULL;
	struct barge_batch *b = NULL, *nul = NULL;
	struct barge_key **k = NULL;
	size_t n = 0;

	if (!(t = make_table(c, base, cols, 2, 1)) ||
	    !(b = batch_for(t, 2, NULL, 4096)) || !(nul = batch_for(t, 2, NULL, 8)))
		goto out;
	for (size_t i = 0; texts[i]; i++) {
		barge_batch_put_bytes(b, 0, texts[i], strlen(texts[i]));
		barge_batch_put_i64(b, 1, (int64_t)i);
		barge_batch_end_row(b);
	}
	for (size_t i = 0; i < sizeof nullens / sizeof *nullens; i++) {
		barge_batch_put_bytes(nul, 0, nulkeys[i], nullens[i]);
		barge_batch_put_i64(nul, 1, -1 - (int64_t)i);
		barge_batch_end_row(nul);
	}
	if (!(k = write_keys(c, t, b, nul, &n)))
		goto out;
	for (size_t i = 0; i < nrows; i++)
		check_partition(c, t, BARGE_CHUNK_KEYSET, rows[i], k, n, 0);
out:
	keys_free(k, n);
	barge_table_def_free(t);
	barge_batch_free(b);
	barge_batch_free(nul);
}

static void case_chunk_text(void)
{
	struct barge_conn *c = conn_write();
	char **many = NULL, **few = NULL;
	static const int64_t big[] = {1000, 7}, small[] = {1, 2, 3};

	if (!c)
		return;
	if ((many = distinct_texts(3000)))
		text_table(c, "chunk_text", many, big, 2);
	/* every atom and pair of atoms: every key a chunk boundary */
	if ((few = calloc(NATOMS * NATOMS + 1, sizeof *few))) {
		size_t nf = 0;
		for (size_t i = 0; i < NATOMS * NATOMS; i++) {
			char buf[64];
			size_t l1 = strlen(key_atoms[i % NATOMS]);
			size_t l2 = strlen(key_atoms[i / NATOMS]);
			memcpy(buf, key_atoms[i % NATOMS], l1);
			memcpy(buf + l1, key_atoms[i / NATOMS], l2);
			buf[l1 + l2] = 0;
			int dup = 0;
			for (size_t j = 0; j < nf && !dup; j++)
				dup = strcmp(few[j], buf) == 0;
			if (!dup && nf < 200)
				few[nf++] = strdup(buf);
		}
		text_table(c, "chunk_text_low", few, small, 3);
	}
	texts_free(many);
	texts_free(few);
	barge_drv_close(&EP, c);
}

static void case_chunk_composite(void)
{
	static const struct coldesc cols[] = {{"a", BARGE_T_TEXT, 0, 0},
					      {"b", BARGE_T_INT64, 0, 0},
					      {"v", BARGE_T_TEXT, 0, 0}};
	struct barge_conn *c = conn_write();
	struct barge_table_def *t = NULL;
	struct barge_batch *b = NULL, *nul = NULL;
	struct barge_key **k = NULL;
	char **texts = NULL;
	size_t n = 0;

	if (!c)
		return;
	if (!(t = make_table(c, "chunk_comp", cols, 3, 2)) ||
	    !(b = batch_for(t, 3, NULL, 4096)) || !(nul = batch_for(t, 3, NULL, 8)))
		goto out;
	/* 60 texts x 50 integers */
	if (!(texts = distinct_texts(60)))
		goto out;
	for (size_t i = 0; texts[i]; i++) {
		for (int64_t j = -25; j < 25; j++) {
			barge_batch_put_bytes(b, 0, texts[i], strlen(texts[i]));
			barge_batch_put_i64(b, 1, j * 1000003);
			barge_batch_put_bytes(b, 2, "x", 1);
			barge_batch_end_row(b);
		}
	}
	barge_batch_put_bytes(nul, 0, "a\0", 2);
	barge_batch_put_i64(nul, 1, 0);
	barge_batch_put_bytes(nul, 2, "nul", 3);
	barge_batch_end_row(nul);
	if (!(k = write_keys(c, t, b, nul, &n)))
		goto out;
	check_partition(c, t, BARGE_CHUNK_KEYSET, 1000, k, n, 0);
	check_partition(c, t, BARGE_CHUNK_KEYSET, 7, k, n, 0);
out:
	texts_free(texts);
	keys_free(k, n);
	barge_table_def_free(t);
	barge_batch_free(b);
	barge_batch_free(nul);
	barge_drv_close(&EP, c);
}

/* ---- Case 3: every write mode re-run over a full target ------------------- */

static const struct coldesc mode_cols[] = {{"id", BARGE_T_INT64, 0, 0},
					   {"v", BARGE_T_TEXT, 0, 0},
					   {"n", BARGE_T_INT64, 0, 0}};

/* Rows lo..hi-1 (every `skip`-th left out when skip > 0), v = tag + id. */
static void mode_rows(struct barge_batch *b, int64_t lo, int64_t hi,
		      const char *tag, int64_t skip)
{
	for (int64_t id = lo; id < hi; id++) {
		char v[32];
		if (skip > 0 && id % skip == 0)
			continue;
		snprintf(v, sizeof v, "%s%" PRId64, tag, id);
		barge_batch_put_i64(b, 0, id);
		barge_batch_put_bytes(b, 1, v, strlen(v));
		barge_batch_put_i64(b, 2, id * 10);
		barge_batch_end_row(b);
	}
}

/* The table must hold exactly the rows of `want` (sorted by id). */
static void expect_table(struct barge_conn *c, const struct barge_table_def *t,
			 const struct barge_batch *want, const char *when)
{
	struct barge_batch *got = NULL;
	char what[160];
	snprintf(what, sizeof what, "%s %s", t->name, when);
	if (EXPECT_OK(read_rows(&got, c, t, NULL, 0, NULL)) == 0)
		expect_same_rows(what, t, want, got);
	barge_batch_free(got);
}

struct mode_ctx {
	struct barge_conn *c;
	struct barge_table_def *t;
	struct barge_batch *a, *want;
	struct barge_chunk ch; /* [1, 101) */
};

static int mode_setup(struct mode_ctx *m, const char *base)
{
	memset(m, 0, sizeof *m);
	if (!(m->c = conn_write()))
		return -1;
	if (!(m->t = make_table(m->c, base, mode_cols, 3, 1)) ||
	    !(m->a = batch_for(m->t, 3, NULL, 512)) ||
	    !(m->want = batch_for(m->t, 3, NULL, 512)))
		return -1;
	m->ch.lo = int_key(1);
	m->ch.hi = int_key(101);
	return m->ch.lo && m->ch.hi ? 0 : -1;
}

static void mode_dispose(struct mode_ctx *m)
{
	barge_key_free(m->ch.lo);
	barge_key_free(m->ch.hi);
	barge_batch_free(m->a);
	barge_batch_free(m->want);
	barge_table_def_free(m->t);
	barge_drv_close(&EP, m->c);
}

/* Rows outside the chunk, which range operations must leave alone. */
static void mode_outside(struct mode_ctx *m)
{
	barge_batch_reset(m->a);
	mode_rows(m->a, -5, 1, "out", 0);
	mode_rows(m->a, 101, 106, "out", 0);
	EXPECT_OK(write_txn(m->c, m->t, m->a, BARGE_MODE_INSERT, 0, NULL));
}

/* Rows [lo, 101) tagged `tag` (every `skip`-th left out), written twice
 * in `mode`, deleting `del`'s range first when not NULL: the re-run of a
 * chunk. */
static void mode_write_twice(struct mode_ctx *m, int64_t lo, const char *tag,
			     int64_t skip, int mode,
			     const struct barge_chunk *del)
{
	barge_batch_reset(m->a);
	mode_rows(m->a, lo, 101, tag, skip);
	for (int i = 0; i < 2; i++)
		EXPECT_OK(write_txn(m->c, m->t, m->a, mode, 0, del));
}

/* The table must hold the rows outside the chunk and, inside it, rows
 * tagged `tag` (every `skip`-th left out, as mode_rows). */
static void expect_chunk(struct mode_ctx *m, const char *tag, int64_t skip,
			 const char *when)
{
	barge_batch_reset(m->want);
	mode_rows(m->want, -5, 1, "out", 0);
	mode_rows(m->want, 1, 101, tag, skip);
	mode_rows(m->want, 101, 106, "out", 0);
	expect_table(m->c, m->t, m->want, when);
}

/* The table must hold exactly the chunk's rows tagged `tag` (a parts
 * target: nothing outside was written). */
static void expect_chunk_only(struct mode_ctx *m, const char *tag, int64_t skip)
{
	barge_batch_reset(m->want);
	mode_rows(m->want, 1, 101, tag, skip);
	expect_table(m->c, m->t, m->want, "after parts");
}

static void case_mode_insert(void)
{
	struct mode_ctx m;
	if (mode_setup(&m, "mode_insert") == 0) {
		mode_outside(&m);
		barge_batch_reset(m.a);
		mode_rows(m.a, 1, 101, "a", 0);
		EXPECT_OK(write_txn(m.c, m.t, m.a, BARGE_MODE_INSERT, 0, NULL));
		/* a plain insert over the committed chunk conflicts, and
		 * changes nothing */
		int err = write_txn(m.c, m.t, m.a, BARGE_MODE_INSERT, 0, NULL);
		EXPECT(err == BARGE_ECONFLICT && one_line(barge_error_last()),
		       "insert over existing keys: %d (want BARGE_ECONFLICT): %s",
		       err, barge_error_last());
		/* the re-run after a crash: delete the range first, twice */
		for (int i = 0; i < 2; i++)
			EXPECT_OK(write_txn(m.c, m.t, m.a, BARGE_MODE_INSERT, 0, &m.ch));
		expect_chunk(&m, "a", 0, "after insert re-runs");
	}
	mode_dispose(&m);
}

static void case_mode_upsert(void)
{
	struct mode_ctx m;
	if (!(CAPS & BARGE_CAP_UPSERT)) {
		conf_skip("no BARGE_CAP_UPSERT");
		return;
	}
	if (mode_setup(&m, "mode_upsert") == 0) {
		mode_outside(&m);
		mode_write_twice(&m, 1, "a", 0, BARGE_MODE_UPSERT, NULL);
		expect_chunk(&m, "a", 0, "after the same upsert twice");
		/* changed values, some rows only: merged, twice */
		mode_write_twice(&m, 40, "b", 0, BARGE_MODE_UPSERT, NULL);
		barge_batch_reset(m.want);
		mode_rows(m.want, -5, 1, "out", 0);
		mode_rows(m.want, 1, 40, "a", 0);
		mode_rows(m.want, 40, 101, "b", 0);
		mode_rows(m.want, 101, 106, "out", 0);
		expect_table(m.c, m.t, m.want, "after upserting changed values");
	}
	mode_dispose(&m);
}

static void case_mode_replace(void)
{
	struct mode_ctx m;
	if (mode_setup(&m, "mode_replace") == 0) {
		mode_outside(&m);
		mode_write_twice(&m, 1, "a", 0, BARGE_MODE_REPLACE, &m.ch);
		expect_chunk(&m, "a", 0, "after the same replace twice");
		/* the source changed: every 7th row deleted, values new */
		mode_write_twice(&m, 1, "c", 7, BARGE_MODE_REPLACE, &m.ch);
		expect_chunk(&m, "c", 7, "after replace with deletes");
	}
	mode_dispose(&m);
}

static void case_mode_truncate(void)
{
	struct mode_ctx m;
	struct barge_chunk second = {.seq = 1};
	if (mode_setup(&m, "mode_truncate") == 0 &&
	    (second.lo = int_key(101)) != NULL) {
		/* what an earlier run left, which the truncate removes */
		barge_batch_reset(m.a);
		mode_rows(m.a, 1, 300, "old", 3);
		EXPECT_OK(write_txn(m.c, m.t, m.a, BARGE_MODE_INSERT, 0, NULL));
		/* chunk 0 [-, 101) empties the table once per run */
		struct barge_chunk first = {.hi = m.ch.hi};
		barge_batch_reset(m.a);
		mode_rows(m.a, 1, 101, "a", 0);
		EXPECT_OK(write_txn(m.c, m.t, m.a, BARGE_MODE_TRUNCATE, 1, NULL));
		/* chunk 1 [101, -), then re-run: the range deleted first */
		barge_batch_reset(m.a);
		mode_rows(m.a, 101, 201, "a", 0);
		EXPECT_OK(write_txn(m.c, m.t, m.a, BARGE_MODE_TRUNCATE, 0, NULL));
		for (int i = 0; i < 2; i++)
			EXPECT_OK(write_txn(m.c, m.t, m.a, BARGE_MODE_TRUNCATE, 0,
					    &second));
		/* and chunk 0 re-run too */
		barge_batch_reset(m.a);
		mode_rows(m.a, 1, 101, "a", 0);
		EXPECT_OK(write_txn(m.c, m.t, m.a, BARGE_MODE_TRUNCATE, 0, &first));
		barge_batch_reset(m.want);
		mode_rows(m.want, 1, 201, "a", 0);
		expect_table(m.c, m.t, m.want, "after truncate and re-runs");
	}
	barge_key_free(second.lo);
	mode_dispose(&m);
}

/* ---- Case 4: snapshot reads ------------------------------------------------- */

static int64_t rows_seen(struct barge_conn *c, const struct barge_table_def *t)
{
	struct barge_batch *b = NULL;
	int64_t n = -1;
	if (EXPECT_OK(read_rows(&b, c, t, NULL, 0, NULL)) == 0)
		n = (int64_t)b->nrows;
	barge_batch_free(b);
	return n;
}

static void case_snapshot(void)
{
	const struct barge_driver *d = EP.drv;
	struct barge_conn *w = NULL, *a = NULL, *b = NULL, *f = NULL;
	struct barge_table_def *t = NULL;
	struct barge_batch *rows = NULL;
	char *token = NULL;

	if (!(CAPS & BARGE_CAP_SNAPSHOT) || !d->snapshot_begin || !d->snapshot_join) {
		EXPECT(!(CAPS & BARGE_CAP_SNAPSHOT),
		       "BARGE_CAP_SNAPSHOT without snapshot_begin/snapshot_join");
		conf_skip("no BARGE_CAP_SNAPSHOT");
		return;
	}
	if (!(w = conn_write()) || !(t = make_table(w, "snap", mode_cols, 3, 1)) ||
	    !(rows = batch_for(t, 3, NULL, 16)))
		goto out;
	mode_rows(rows, 1, 4, "s", 0);
	if (EXPECT_OK(write_txn(w, t, rows, BARGE_MODE_INSERT, 0, NULL)) != 0)
		goto out;
	if (!(a = conn_open(BARGE_OPEN_READ)) ||
	    EXPECT_OK(barge_drv_snapshot_begin(&EP, a, &token)) != 0)
		goto out;
	EXPECT(rows_seen(a, t) == 3, "A: not the 3 rows before the write");
	if (!(b = conn_open(BARGE_OPEN_READ)) ||
	    EXPECT_OK(barge_drv_snapshot_join(&EP, b, token)) != 0)
		goto out;
	/* a third connection writes and commits a row. An engine may make
	 * that writer wait for the snapshot instead (SQLite in rollback-journal
	 * mode: docs/sqlite.md): then the commit is a transient fault, and it
	 * goes through once the snapshot ends. */
	barge_batch_reset(rows);
	mode_rows(rows, 4, 5, "new", 0);
	int err = write_txn(w, t, rows, BARGE_MODE_INSERT, 0, NULL);
	int blocked = err == BARGE_ERETRY;
	EXPECT(err == 0 || blocked, "the write during the snapshot: %d: %s", err,
	       barge_error_last());
	if (blocked)
		conf_note("a write waits for the open snapshot (BARGE_ERETRY)");
	int64_t na = rows_seen(a, t), nb = rows_seen(b, t);
	EXPECT(na == 3, "A (snapshot_begin) sees %" PRId64 " rows, not 3", na);
	EXPECT(nb == 3, "B (snapshot_join) sees %" PRId64 " rows, not 3", nb);
	if (!blocked && (f = conn_open(BARGE_OPEN_READ)) != NULL) {
		int64_t nf = rows_seen(f, t);
		EXPECT(nf == 4, "a fresh connection sees %" PRId64 " rows, not 4", nf);
	}
	/* after snapshot_end, A reads the present */
	if (d->snapshot_end && EXPECT_OK(barge_drv_snapshot_end(&EP, b)) == 0 &&
	    EXPECT_OK(barge_drv_snapshot_end(&EP, a)) == 0) {
		if (blocked)
			EXPECT_OK(write_txn(w, t, rows, BARGE_MODE_INSERT, 0, NULL));
		na = rows_seen(a, t);
		EXPECT(na == 4, "A after snapshot_end sees %" PRId64 " rows, not 4", na);
	}
out:
	free(token);
	barge_batch_free(rows);
	barge_table_def_free(t);
	barge_drv_close(&EP, f);
	barge_drv_close(&EP, b);
	barge_drv_close(&EP, a);
	barge_drv_close(&EP, w);
}

/* ---- Case 5: the in-database digest against the C encoder --------------------- */

/* digest_range of `ch` against the fast-path digest in C of the rows
 * read back. */
static void digest_compare(struct barge_conn *c, const struct barge_table_def *t,
			   const struct barge_chunk *ch, size_t ncols,
			   const size_t *cols, const char *what)
{
	struct barge_digest db, cd;
	struct barge_batch *b = NULL;
	struct barge_buf enc;

	barge_digest_init(&db);
	barge_digest_init(&cd);
	barge_buf_init(&enc, (size_t)1 << 28);
	if (EXPECT_OK(barge_drv_digest_range(&EP, c, t, ch, NULL, ncols, cols, 0,
					     &db.rows, &db.lo, &db.hi)) != 0)
		goto out;
	if (EXPECT_OK(read_rows(&b, c, t, ch, ncols, cols)) != 0 ||
	    EXPECT_OK(barge_canon_fast_digest_batch(&cd, &enc, b, ncols)) != 0)
		goto out;
	char hd[33], hc[33];
	barge_digest_hex(&db, hd);
	barge_digest_hex(&cd, hc);
	EXPECT(cd.rows > 0, "%s: no rows to digest", what);
	EXPECT(db.rows == cd.rows && db.lo == cd.lo && db.hi == cd.hi,
	       "%s: in the database %" PRId64 " rows %s, in C %" PRId64 " rows %s",
	       what, db.rows, hd, cd.rows, hc);
out:
	barge_batch_free(b);
	barge_buf_dispose(&enc);
}

static void case_digest(void)
{
	const struct barge_driver *d = EP.drv;
	struct barge_conn *c = NULL;
	size_t cols[NCOLS], n = 0;
	char left[512] = "";

	if (!d->digest_range || !d->digest_able) {
		EXPECT(!d->digest_range && !d->digest_able,
		       "one of digest_range/digest_able without the other");
		conf_skip("no digest_range");
		return;
	}
	if (!types_def || !chunk_int_def) {
		EXPECT(0, "the tables of the earlier cases are missing");
		return;
	}
	if (!(c = conn_open(BARGE_OPEN_READ)))
		return;
	/* every column the driver claims it can digest exactly */
	for (size_t i = 0; i < NCOLS; i++) {
		if (barge_drv_digest_able(&EP, c, types_def, 1, &i, 0) == 1)
			cols[n++] = i;
		else
			snprintf(left + strlen(left), sizeof left - strlen(left),
				 "%s%s", left[0] ? "," : "",
				 barge_type_name(types_def->cols[i].type));
	}
	EXPECT(n > 0 && cols[0] == C_ID, "digest_able refuses an int64 key");
	if (n > 0 && barge_drv_digest_able(&EP, c, types_def, n, cols, 0) != 1)
		EXPECT(0, "digest_able accepts each column alone but not together");
	if (left[0])
		conf_note("not digested in the database: %s", left);
	if (n > 0)
		digest_compare(c, types_def, NULL, n, cols, "edge values, whole table");
	/* the int-key table, whole and one inner chunk */
	size_t ic[2] = {0, 1};
	if (barge_drv_digest_able(&EP, c, chunk_int_def, 2, ic, 0) == 1) {
		digest_compare(c, chunk_int_def, NULL, 2, ic, "chunk_int whole table");
		if (chunk_int_lo) {
			struct barge_chunk ch = {.lo = chunk_int_lo, .hi = chunk_int_hi};
			digest_compare(c, chunk_int_def, &ch, 2, ic, "chunk_int one chunk");
			/* the chunk's digest is not the whole table's */
			struct barge_digest x, y;
			barge_digest_init(&x);
			barge_digest_init(&y);
			if (barge_drv_digest_range(&EP, c, chunk_int_def, &ch, NULL, 2,
						   ic, 0, &x.rows, &x.lo, &x.hi) == 0 &&
			    barge_drv_digest_range(&EP, c, chunk_int_def, NULL, NULL, 2,
						   ic, 0, &y.rows, &y.lo, &y.hi) == 0)
				EXPECT(x.rows < y.rows && (x.lo != y.lo || x.hi != y.hi),
				       "a chunk digests like the whole table");
		} else {
			EXPECT(0, "no inner chunk kept from chunk.int");
		}
	}
	barge_drv_close(&EP, c);
}

/* ---- Case 6: bad URL, missing database, missing table ----------------------- */

/* A one-line message, not empty, without the secret. */
static void expect_clear(const char *what, int err, const char *mention)
{
	const char *m = barge_error_last();
	EXPECT(err < 0, "%s: returned %d, not an error", what, err);
	EXPECT(err == barge_error_code(), "%s: returned %d, error slot says %d",
	       what, err, barge_error_code());
	EXPECT(one_line(m), "%s: message not one non-empty line: '%s'", what, m);
	EXPECT(!strstr(m, SECRET), "%s: the password shows: '%s'", what, m);
	if (mention)
		EXPECT(strstr(m, mention) != NULL, "%s: '%s' does not mention '%s'",
		       what, m, mention);
}

/* The test URL with another path (database or file) and, for an endpoint
 * with a host, a password. */
static void url_variant(char *buf, size_t n, const struct barge_url *u,
			const char *path, const char *port)
{
	if (u->host) {
		snprintf(buf, n, "%s://%s:%s@%s%s%s/%s", u->scheme,
			 u->user ? u->user : "barge", SECRET, u->host,
			 port || u->port ? ":" : "", port ? port : u->port ? u->port : "",
			 path);
	} else {
		snprintf(buf, n, "%s:%s", u->scheme, path);
	}
}

static void case_errors(void)
{
	const struct barge_url *u = EP.url;
	struct barge_ep bad;
	char text[1200], path[600];
	int err;

	/* a malformed URL of this scheme */
	if (u->host)
		url_variant(text, sizeof text, u, "db", "notaport");
	else
		snprintf(text, sizeof text, "%s:", u->scheme);
	memset(&bad, 0, sizeof bad);
	barge_error_clear();
	err = barge_ep_init(&bad, text);
	if (err == 0) {
		struct barge_conn *c = NULL;
		err = barge_drv_open(&bad, &c, BARGE_OPEN_READ);
		barge_drv_close(&bad, c);
	}
	expect_clear("malformed URL", err, NULL);
	barge_ep_dispose(&bad);

	/* a database (file) that does not exist, opened to read */
	snprintf(path, sizeof path, "%s%s", u->path ? u->path : "postgres",
		 "_conformance_missing");
	url_variant(text, sizeof text, u, path, NULL);
	memset(&bad, 0, sizeof bad);
	barge_error_clear();
	if (EXPECT_OK(barge_ep_init(&bad, text)) == 0) {
		struct barge_conn *c = NULL;
		err = barge_drv_open(&bad, &c, BARGE_OPEN_READ);
		expect_clear("missing database", err, path);
		barge_drv_close(&bad, c);
		if (!u->host && access(path, F_OK) == 0) {
			EXPECT(0, "opening '%s' to read created it", path);
			remove(path);
		}
	}
	barge_ep_dispose(&bad);

	/* a missing table */
	struct barge_conn *c = conn_open(BARGE_OPEN_READ);
	struct barge_table_def *t = NULL;
	char name[128];
	tname(name, sizeof name, "no_such_table");
	if (c) {
		barge_error_clear();
		err = barge_drv_describe(&EP, c, name, &t);
		EXPECT(err == BARGE_ENOTFOUND, "describe of a missing table: %d, "
		       "not BARGE_ENOTFOUND", err);
		expect_clear("missing table", err, name);
		barge_table_def_free(t);
	}
	barge_drv_close(&EP, c);
}

/* ---- Case: parts (a target without transactions) ------------------------- */

/* The part slots (driver.h, "Parts"): a chunk written as a part, then
 * again with other rows (it replaces the part, never appends), then a
 * third time aborted (nothing changes); closing a connection with a part
 * open aborts it. Read back when the driver can read. */
static void case_parts(void)
{
	struct mode_ctx m;
	if (CAPS & BARGE_CAP_TXN) {
		conf_skip("transactions: chunks are transactions (mode.*)");
		return;
	}
	if (!EP.drv->part_begin || !EP.drv->part_commit || !EP.drv->part_abort) {
		EXPECT(0, "neither transactions nor part slots: chunks cannot be "
		       "written idempotently");
		return;
	}
	if (mode_setup(&m, "parts") == 0) {
		struct barge_chunk ch = {.seq = 7};
		size_t cols[3] = {0, 1, 2};
		struct barge_write_req req = {.table = m.t, .ncols = 3, .cols = cols};
		const char *tags[3] = {"a", "b", "c"};
		for (int i = 0; i < 3; i++) {
			struct barge_writer *w = NULL;
			barge_batch_reset(m.a);
			mode_rows(m.a, 1, 101, tags[i], i == 1 ? 7 : 0);
			if (EXPECT_OK(barge_drv_part_begin(&EP, m.c, m.t, &ch)) != 0)
				break;
			if (EXPECT_OK(barge_drv_write_open(&EP, &w, m.c, &req)) == 0)
				EXPECT_OK(barge_drv_write_batch(&EP, w, m.a));
			barge_drv_write_close(&EP, w);
			if (i < 2)
				EXPECT_OK(barge_drv_part_commit(&EP, m.c));
			else
				EXPECT_OK(barge_drv_part_abort(&EP, m.c));
		}
		/* a part left open: close aborts it */
		struct barge_conn *c2 = conn_write();
		if (c2 && EXPECT_OK(barge_drv_part_begin(&EP, c2, m.t, &ch)) == 0)
			barge_drv_close(&EP, c2);
		else
			barge_drv_close(&EP, c2);
		if (EP.drv->read_open)
			expect_chunk_only(&m, "b", 7);
		else
			conf_note("written; not read back: no read_open");
	}
	mode_dispose(&m);
}

static void case_read_skip(void)
{
	write_only();
}

static void case_no_txn(void)
{
	conf_skip("no transactions: chunks are parts (case parts)");
}

/* ---- main ------------------------------------------------------------------ */

int main(int argc, char **argv)
{
	if (argc != 2 || !argv[1][0]) {
		fprintf(stderr, "usage: conformance URL\n");
		return 2;
	}
	URL = argv[1];
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (barge_ep_init(&EP, URL) < 0) {
		fprintf(stderr, "conformance: %s\n", barge_error_last());
		return 2;
	}
	CAPS = EP.drv->caps;
	/* a per-run prefix: the suite never needs an empty database */
	snprintf(PFX, sizeof PFX, "cf%ld_%d_", (long)time(NULL) % 100000000,
		 (int)getpid() % 100000);
	printf("driver %s, caps 0x%x, %s, tables %s*\n", EP.drv->name, CAPS,
	       barge_url_redacted(EP.url), PFX);

	run_case("types.roundtrip", case_types);
	int rd = EP.drv->read_open != NULL, txn = (CAPS & BARGE_CAP_TXN) != 0;
	run_case("chunk.int", rd ? case_chunk_int : case_read_skip);
	run_case("chunk.text", rd ? case_chunk_text : case_read_skip);
	run_case("chunk.composite", rd ? case_chunk_composite : case_read_skip);
	run_case("mode.insert", txn ? case_mode_insert : case_no_txn);
	run_case("mode.upsert", txn ? case_mode_upsert : case_no_txn);
	run_case("mode.replace", txn ? case_mode_replace : case_no_txn);
	run_case("mode.truncate", txn ? case_mode_truncate : case_no_txn);
	run_case("parts", case_parts);
	run_case("snapshot", case_snapshot);
	run_case("digest", case_digest);
	run_case("errors", case_errors);

	barge_table_def_free(types_def);
	barge_table_def_free(chunk_int_def);
	barge_key_free(chunk_int_lo);
	barge_key_free(chunk_int_hi);
	barge_ep_dispose(&EP);
	return conf_done();
}
