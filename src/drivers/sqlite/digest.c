/*
 * The verify fast path in SQLite (driver.h digest_able/digest_range,
 * docs/verify.md "The in-database digest"): an aggregate function
 * registered from C on each of barge's handles,
 *
 *   SELECT count(*), barge_digest(?1, "c1", "c2", ...) FROM t WHERE range
 *
 * converts each argument exactly as the reader does (values.c
 * sq_value_conv: the column's logical type from its declared type, the
 * value's storage class), encodes it with barge's own encoder
 * (barge_canon_encode_value) and sums the row hashes mod 2^128. So the
 * in-database encoding is the C encoding by construction, JSON included.
 *
 * ?1 is a blob: byte 0 the form (0 canonical: little-endian frames and
 * XXH3, 1 fast-path: big-endian frames and MD5, comparable with
 * PostgreSQL's SQL), then one logical type per column. With `native` (both
 * sides SQLite) the canonical form is used: it is exact and cheaper.
 */
#include "sqlite_int.h"
#include "canon.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SQL_CAP (1u << 20)
#define ENC_CAP (1u << 30)
#define MAX_ARGS 126 /* below SQLite's default SQLITE_MAX_FUNCTION_ARG */

/* A value that does not fit its column's type fails the statement with
 * this message (and the column's position); digest_range names it. */
#define EDATA_MSG "barge_digest: value does not fit column "

struct dg_state {
	int init;
	int64_t rows;
	struct barge_digest d;
	struct barge_buf enc, scratch;
};

static void dg_step(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct dg_state *s = sqlite3_aggregate_context(ctx, sizeof *s);
	if (!s) {
		sqlite3_result_error_nomem(ctx);
		return;
	}
	const unsigned char *spec = sqlite3_value_blob(argv[0]);
	int nspec = sqlite3_value_bytes(argv[0]);
	if (argc < 1 || !spec || nspec != argc) {
		sqlite3_result_error(ctx, "barge_digest: bad column spec", -1);
		return;
	}
	if (!s->init) {
		barge_buf_init(&s->enc, ENC_CAP);
		barge_buf_init(&s->scratch, ENC_CAP);
		s->init = 1;
	}
	int fast = spec[0] != 0;
	barge_buf_clear(&s->enc);
	for (int i = 1; i < argc; i++) {
		struct barge_value v;
		int err = sq_value_conv(argv[i], spec[i], &v, &s->scratch);
		if (err == BARGE_EDATA) {
			char msg[64];
			snprintf(msg, sizeof msg, EDATA_MSG "%d", i - 1);
			sqlite3_result_error(ctx, msg, -1);
			return;
		}
		if (err < 0) {
			sqlite3_result_error(ctx, barge_error_last(), -1);
			return;
		}
		if (v.null && v.type == BARGE_T_ANY)
			v.type = BARGE_T_NULL; /* as a batch tags it */
		if (barge_canon_encode_value(&s->enc, &v, fast) < 0) {
			sqlite3_result_error_nomem(ctx);
			return;
		}
	}
	uint64_t lo, hi;
	if (fast)
		barge_canon_fast_hash(&s->enc, &lo, &hi);
	else
		barge_canon_hash(&s->enc, &lo, &hi);
	barge_digest_add(&s->d, lo, hi);
}

static void dg_final(sqlite3_context *ctx)
{
	struct dg_state *s = sqlite3_aggregate_context(ctx, 0);
	unsigned char out[16] = {0};
	if (s) {
		for (int i = 0; i < 8; i++) {
			out[i] = (unsigned char)(s->d.hi >> (56 - 8 * i));
			out[8 + i] = (unsigned char)(s->d.lo >> (56 - 8 * i));
		}
		if (s->init) {
			barge_buf_dispose(&s->enc);
			barge_buf_dispose(&s->scratch);
		}
	}
	sqlite3_result_blob(ctx, out, sizeof out, SQLITE_TRANSIENT);
}

int sq_digest_register(sqlite3 *db)
{
	int rc = sqlite3_create_function_v2(db, "barge_digest", -1, SQLITE_UTF8,
					    NULL, NULL, dg_step, dg_final, NULL);
	return rc == SQLITE_OK ? 0 : sq_fail(db, rc, NULL, "registering barge_digest");
}

int sq_digest_able(struct barge_conn *c, const struct barge_table_def *t,
		   size_t ncols, const size_t *cols, int native)
{
	(void)c;
	(void)native;
	if (ncols > MAX_ARGS)
		return 0;
	for (size_t i = 0; i < ncols; i++) {
		int ty = t->cols[cols[i]].type;
		if (ty <= BARGE_T_NULL || ty > BARGE_T_ANY)
			return 0;
	}
	return 1;
}

int sq_digest_range(struct barge_conn *c, const struct barge_table_def *t,
		    const struct barge_chunk *chunk, const char *where,
		    size_t ncols, const size_t *cols, int native,
		    int64_t *count, uint64_t *lo, uint64_t *hi)
{
	struct barge_buf sql;
	sqlite3_stmt *st = NULL;
	unsigned char spec[MAX_ARGS + 1];
	int err, rc;

	*count = 0;
	*lo = *hi = 0;
	if (!sq_digest_able(c, t, ncols, cols, native))
		return barge_error_set(BARGE_EUSAGE, "sqlite: table '%s': no "
						     "in-database digest of these columns",
				       t->name);
	spec[0] = native ? 0 : 1;
	for (size_t i = 0; i < ncols; i++)
		spec[1 + i] = (unsigned char)t->cols[cols[i]].type;
	barge_buf_init(&sql, SQL_CAP);
	barge_buf_adds(&sql, "SELECT count(*), barge_digest(?1");
	if (ncols)
		barge_buf_adds(&sql, ", ");
	barge_sql_columns(&sql, SQ_SQL, t, cols, ncols, NULL);
	barge_buf_adds(&sql, ") FROM ");
	sq_quote(&sql, t->name);
	barge_buf_adds(&sql, " WHERE ");
	if ((err = sq_range_sql(&sql, t, chunk)))
		goto out;
	if (where)
		barge_buf_printf(&sql, " AND (%s)", where);
	if ((err = sql.err) || (err = sq_prepare(c->rd, sql.p, &st, t->name)))
		goto out;
	if ((rc = sqlite3_bind_blob(st, 1, spec, (int)ncols + 1, SQLITE_STATIC)) != SQLITE_OK) {
		err = sq_fail(c->rd, rc, t->name, "binding");
		goto out;
	}
	if ((err = sq_range_bind(st, 2, t, chunk)))
		goto out;
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		const char *m = sqlite3_errmsg(c->rd);
		size_t ml = strlen(EDATA_MSG);
		if (m && strncmp(m, EDATA_MSG, ml) == 0) {
			size_t col = (size_t)strtoul(m + ml, NULL, 10);
			const struct barge_column_def *cd =
				&t->cols[cols[col < ncols ? col : 0]];
			err = barge_error_set(BARGE_EDATA,
					      "%s: column %s (%s) holds a value that "
					      "does not fit its type (barge inspect "
					      "lists such values)", t->name, cd->name,
					      barge_type_name(cd->type));
		} else
			err = sq_fail(c->rd, rc, t->name, "digesting");
		goto out;
	}
	*count = sqlite3_column_int64(st, 0);
	const unsigned char *h = sqlite3_column_blob(st, 1);
	if (!h || sqlite3_column_bytes(st, 1) != 16) {
		err = barge_error_set(BARGE_ERROR, "sqlite: table '%s': barge_digest "
						   "gave no digest", t->name);
		goto out;
	}
	for (int i = 0; i < 8; i++) {
		*hi = *hi << 8 | h[i];
		*lo = *lo << 8 | h[8 + i];
	}
out:
	sqlite3_finalize(st);
	barge_buf_dispose(&sql);
	return err;
}
