/*
 * Lookups in a target table (driver.h `lookup`: `references` checks and
 * barge_keymap): one query per batch, whatever its size,
 *
 *   SELECT u.i [, p.v::text] FROM unnest($1::text[]) WITH ORDINALITY u(k, i)
 *   CROSS JOIN LATERAL (SELECT v FROM t WHERE c = u.k::T [AND e = $2]
 *                       LIMIT 1) p
 *
 * with the batch's values in their text form as one text array, T the
 * column's type without its modifier (a varchar(20) cast would cut a
 * longer value and find its prefix). A value T cannot hold ('abc' for an
 * integer column) would fail the whole statement, and with it the chunk's
 * transaction: such a value is checked here first and is simply not found.
 */
#include "pg_int.h"
#include "transform.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The column's type: OID, and its name without modifier. */
static int column_type(struct barge_conn *c, const char *table,
		       const char *column, unsigned *oid, struct barge_buf *fmt)
{
	struct barge_buf name;
	PGresult *res = NULL;
	int err;

	barge_buf_init(&name, 4096);
	pg_table(&name, c, table);
	if ((err = name.err))
		goto out;
	const char *params[2] = {name.p, column};
	if ((err = pg_query(c, "SELECT a.atttypid, format_type(a.atttypid, NULL) "
			       "FROM pg_attribute a WHERE a.attrelid = $1::regclass "
			       "AND a.attname = $2 AND a.attnum > 0 AND NOT "
			       "a.attisdropped", 2, params, 0, table, &res)))
		goto out;
	if (PQntuples(res) != 1) {
		err = barge_error_set(BARGE_EUSAGE, "postgres: table '%s' has no "
				      "column '%s' to look keys up in", table, column);
		goto out;
	}
	*oid = (unsigned)strtoul(PQgetvalue(res, 0, 0), NULL, 10);
	barge_buf_adds(fmt, PQgetvalue(res, 0, 1));
	err = fmt->err;
out:
	PQclear(res);
	barge_buf_dispose(&name);
	return err;
}

/* Can a column of this type hold the text (p, n)? Only what is sure to
 * fail is refused; the server decides the rest. */
static int fits(unsigned oid, const char *p, size_t n, struct barge_buf *scratch)
{
	int type, prec, scale;
	enum pg_kind kind;
	struct barge_value v;
	const char *why = NULL;

	if (memchr(p, '\0', n))
		return 0;
	pg_map_type(oid, -1, &type, &prec, &scale, &kind);
	if (kind == PGK_CAST || kind == PGK_BYTEA || kind == PGK_JSON ||
	    kind == PGK_JSONB)
		return 1;
	barge_buf_clear(scratch);
	if (barge_cast_text(&v, scratch, p, n, type, 0, -1, &why) < 0) {
		barge_error_clear();
		return 0;
	}
	if (kind == PGK_INT2)
		return v.i >= -32768 && v.i <= 32767;
	if (kind == PGK_INT4)
		return v.i >= INT32_MIN && v.i <= INT32_MAX;
	return 1;
}

/* Append one element of a text array literal: "..." with \ and " escaped. */
static void array_elem(struct barge_buf *b, const char *p, size_t n)
{
	barge_buf_add(b, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '"' || p[i] == '\\')
			barge_buf_add(b, "\\", 1);
		barge_buf_add(b, p + i, 1);
	}
	barge_buf_add(b, "\"", 1);
}

int pg_lookup(struct barge_conn *c, const struct barge_lookup *q,
	      const struct barge_batch *b, size_t col, uint8_t *found,
	      struct barge_batch *out)
{
	struct barge_buf fmt, sql, arr, txt, scratch;
	PGresult *res = NULL;
	unsigned oid = 0;
	size_t sent = 0;
	int err;

	barge_buf_init(&fmt, 4096);
	barge_buf_init(&sql, PG_SQL_CAP);
	barge_buf_init(&arr, (size_t)1 << 30);
	barge_buf_init(&txt, (size_t)1 << 30);
	barge_buf_init(&scratch, (size_t)1 << 30);
	memset(found, 0, b->nrows);
	if ((err = column_type(c, q->table, q->column, &oid, &fmt)))
		goto out;
	/* the array: one element per row, NULL for rows not asked */
	barge_buf_adds(&arr, "{");
	for (size_t row = 0; row < b->nrows; row++) {
		struct barge_value v;
		barge_batch_get(b, col, row, &v);
		if (row)
			barge_buf_adds(&arr, ",");
		barge_buf_clear(&txt);
		if (v.null || barge_value_text(&txt, &v) < 0 ||
		    !fits(oid, txt.p ? txt.p : "", txt.len, &scratch)) {
			barge_error_clear();
			barge_buf_adds(&arr, "NULL");
			continue;
		}
		array_elem(&arr, txt.p ? txt.p : "", txt.len);
		sent++;
	}
	barge_buf_adds(&arr, "}");
	if ((err = arr.err))
		goto out;
	if (sent) {
		barge_buf_adds(&sql, "SELECT u.i, ");
		if (q->value_column) {
			barge_buf_adds(&sql, "p.v::text");
		} else {
			barge_buf_adds(&sql, "NULL");
		}
		barge_buf_adds(&sql, " FROM unnest($1::text[]) WITH ORDINALITY "
			       "AS u(k, i) CROSS JOIN LATERAL (SELECT ");
		if (q->value_column)
			pg_quote(&sql, q->value_column);
		else
			barge_buf_adds(&sql, "1");
		barge_buf_adds(&sql, " AS v FROM ");
		pg_table(&sql, c, q->table);
		barge_buf_adds(&sql, " WHERE ");
		pg_quote(&sql, q->column);
		barge_buf_printf(&sql, " = u.k::%s", fmt.p);
		if (q->eq_column) {
			barge_buf_adds(&sql, " AND ");
			pg_quote(&sql, q->eq_column);
			barge_buf_adds(&sql, " = $2");
		}
		barge_buf_adds(&sql, " LIMIT 1) p WHERE u.k IS NOT NULL");
		if ((err = sql.err))
			goto out;
		const char *params[2] = {arr.p, q->eq_value};
		if ((err = pg_query(c, sql.p, q->eq_column ? 2 : 1, params, 0, q->table,
				    &res)))
			goto out;
	}
	/* rows come back in no promised order: index them by ordinality */
	const char **vals = NULL;
	if (q->value_column && out && res && PQntuples(res) &&
	    !(vals = calloc(b->nrows, sizeof *vals))) {
		err = barge_error_set(BARGE_ENOMEM, "out of memory");
		goto out;
	}
	for (int i = 0; res && i < PQntuples(res); i++) {
		long k = strtol(PQgetvalue(res, i, 0), NULL, 10) - 1;
		if (k < 0 || (size_t)k >= b->nrows)
			continue;
		found[k] = 1;
		if (vals && !PQgetisnull(res, i, 1))
			vals[k] = PQgetvalue(res, i, 1);
	}
	for (size_t row = 0; q->value_column && out && row < b->nrows; row++) {
		err = vals && vals[row]
			      ? barge_batch_put_bytes(out, 0, vals[row], strlen(vals[row]))
			      : barge_batch_put_null(out, 0);
		if (err < 0)
			break;
		barge_batch_end_row(out);
	}
	free(vals);
out:
	PQclear(res);
	barge_buf_dispose(&fmt);
	barge_buf_dispose(&sql);
	barge_buf_dispose(&arr);
	barge_buf_dispose(&txt);
	barge_buf_dispose(&scratch);
	return err;
}
