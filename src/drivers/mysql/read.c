/*
 * Reading: value literals, chunk ranges, chunk planning (key_range,
 * key_after) and the reader, which streams `SELECT ... WHERE <chunk>`
 * with mysql_use_result (rows come as the batches take them: memory is
 * one batch, whatever the table's size) and decodes the text protocol
 * into batches.
 *
 * Keys are compared in barge's binary order: a text key column whose
 * collation is not a NO PAD binary one is compared as its UTF-8 bytes
 * (then MySQL cannot use its index for the range: such a table is slower
 * to chunk, never wrong). Tables without a primary key are one chunk.
 */
#include "my_int.h"
#include "civil.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void hex(struct barge_buf *b, const char *p, size_t n)
{
	char tmp[512];
	barge_buf_adds(b, "X'");
	while (n) {
		size_t k = n > sizeof tmp / 2 ? sizeof tmp / 2 : n;
		barge_hex_encode(tmp, p, k);
		barge_buf_add(b, tmp, 2 * k);
		p += k;
		n -= k;
	}
	barge_buf_adds(b, "'");
}

/* 'YYYY-MM-DD', 'HH:MM:SS.ffffff', 'YYYY-MM-DD HH:MM:SS.ffffff' */
static int temporal(struct barge_buf *b, int type, int64_t v)
{
	int64_t days = 0, us = v, y;
	int m, d;
	if (type == BARGE_T_DATE) {
		days = v;
		us = 0;
	} else if (type != BARGE_T_TIME) {
		days = v / (86400 * INT64_C(1000000));
		us = v % (86400 * INT64_C(1000000));
		if (us < 0) {
			us += 86400 * INT64_C(1000000);
			days--;
		}
	}
	if (type != BARGE_T_TIME) {
		barge_civil_from_days(days, &y, &m, &d);
		if (y < 1 || y > 9999)
			return barge_error_set(BARGE_EDATA, "mysql: a date in year %" PRId64
					       " (MySQL holds years 1 to 9999)", y);
		barge_buf_printf(b, "%04d-%02d-%02d", (int)y, m, d);
	}
	if (type == BARGE_T_DATE)
		return b->err;
	if (us < 0 || us >= 86400 * INT64_C(1000000))
		return barge_error_set(BARGE_EDATA, "mysql: a time outside the day");
	int64_t s = us / 1000000;
	return barge_buf_printf(b, "%s%02d:%02d:%02d.%06d", type == BARGE_T_TIME ? "" : " ",
				(int)(s / 3600), (int)(s / 60 % 60), (int)(s % 60),
				(int)(us % 1000000));
}

int my_literal(struct barge_buf *b, const struct barge_value *v)
{
	char tmp[64];
	if (v->null)
		return barge_buf_adds(b, "NULL");
	switch (v->type) {
	case BARGE_T_BOOL:
	case BARGE_T_INT64:
		return barge_buf_printf(b, "%" PRId64, v->i);
	case BARGE_T_FLOAT64:
		if (!isfinite(v->f) || (v->f == 0 && signbit(v->f)))
			return barge_error_set(BARGE_EDATA, "mysql: a float MySQL "
					       "cannot hold (NaN, Infinity or -0)");
		snprintf(tmp, sizeof tmp, "%.17g", v->f);
		/* a double literal, never a decimal one */
		return barge_buf_printf(b, "%s%s", tmp, strpbrk(tmp, "eE") ? "" : "e0");
	case BARGE_T_DECIMAL:
		for (size_t i = 0; i < v->n; i++)
			if (!strchr("-.0123456789", v->p[i]))
				return barge_error_set(BARGE_EDATA, "mysql: decimal "
						       "'%.*s' is not a number MySQL "
						       "holds", (int)(v->n > 40 ? 40 : v->n),
						       v->p);
		return barge_buf_add(b, v->p, v->n);
	case BARGE_T_TEXT:
	case BARGE_T_JSON:
		barge_buf_adds(b, "_utf8mb4 ");
		hex(b, v->p, v->n);
		return b->err;
	case BARGE_T_BYTES:
	case BARGE_T_UUID:
		hex(b, v->p, v->n);
		return b->err;
	case BARGE_T_DATE:
	case BARGE_T_TIME:
	case BARGE_T_TIMESTAMP:
	case BARGE_T_TIMESTAMPTZ:
		barge_buf_adds(b, "'");
		if (temporal(b, v->type, v->i))
			return BARGE_EDATA;
		return barge_buf_adds(b, "'");
	default:
		return barge_error_set(BARGE_EDATA, "mysql: a %s value has no MySQL "
				       "literal", barge_type_name(v->type));
	}
}

/* The key column as compared and ordered: text as its UTF-8 bytes unless
 * its collation already is. */
static int key_expr(struct barge_buf *b, const struct barge_conn *c,
		    const struct barge_table_def *t, const struct barge_column_def *cd)
{
	if (cd->type != BARGE_T_TEXT || my_binary_text(c, t->name, cd))
		return my_quote(b, cd->name);
	barge_buf_adds(b, "CAST(CONVERT(");
	my_quote(b, cd->name);
	return barge_buf_adds(b, " USING utf8mb4) AS BINARY)");
}

static int key_list(struct barge_buf *b, const struct barge_conn *c,
		    const struct barge_table_def *t)
{
	for (size_t i = 0; i < t->nkey; i++) {
		if (i)
			barge_buf_adds(b, ", ");
		key_expr(b, c, t, &t->cols[t->key[i]]);
	}
	return b->err;
}

static int bound(struct barge_buf *b, const struct barge_conn *c,
		 const struct barge_table_def *t,
		 const struct barge_key *k, const char *op)
{
	int err;
	if (k->n != t->nkey)
		return barge_error_set(BARGE_EUSAGE, "mysql: table '%s': a chunk bound "
				       "of %zu values for a key of %zu columns",
				       t->name, k->n, t->nkey);
	barge_buf_adds(b, t->nkey > 1 ? "(" : "");
	key_list(b, c, t);
	barge_buf_printf(b, "%s %s %s", t->nkey > 1 ? ")" : "", op,
			 t->nkey > 1 ? "(" : "");
	for (size_t i = 0; i < k->n; i++) {
		if (i)
			barge_buf_adds(b, ", ");
		if ((err = my_literal(b, &k->v[i])))
			return err;
	}
	return barge_buf_adds(b, t->nkey > 1 ? ")" : "");
}

int my_range_sql(struct barge_buf *b, const struct barge_conn *c,
		 const struct barge_table_def *t,
		 const struct barge_chunk *chunk)
{
	int err;
	if (!chunk || (!chunk->lo && !chunk->hi))
		return barge_buf_adds(b, "TRUE");
	if (chunk->by_rowid || !t->nkey)
		return barge_error_set(BARGE_EUSAGE, "mysql: table '%s' has no key to "
				       "chunk by (MySQL rows have no stable address)",
				       t->name);
	if (chunk->lo && (err = bound(b, c, t, chunk->lo, ">=")))
		return err;
	if (chunk->lo && chunk->hi)
		barge_buf_adds(b, " AND ");
	if (chunk->hi && (err = bound(b, c, t, chunk->hi, chunk->hi_incl ? "<=" : "<")))
		return err;
	return b->err;
}

/*
 * Decode one text-protocol field of column `cd` into *v (bytes point at
 * the field, or at `scratch`). BARGE_EDATA with *why set and no error
 * set; a zero date with ?zero-dates=null is *is_null.
 */
static int decode(const struct barge_conn *c, const struct barge_column_def *cd,
		  const char *p, size_t n, struct barge_value *v, int *is_null,
		  const char **why)
{
	const char *e = cd->engine_type ? cd->engine_type : "";
	char tmp[64];
	char *end;

	memset(v, 0, sizeof *v);
	v->type = cd->type;
	*is_null = 0;
	switch (cd->type) {
	case BARGE_T_BOOL:
		if (strncmp(e, "bit", 3) == 0) {
			v->i = n == 1 && p[0] != 0;
			return 0;
		}
		if (n == 1 && (p[0] == '0' || p[0] == '1')) {
			v->i = p[0] == '1';
			return 0;
		}
		*why = "a tinyint(1) other than 0 or 1";
		return BARGE_EDATA;
	case BARGE_T_INT64:
	case BARGE_T_FLOAT64:
		if (n >= sizeof tmp) {
			*why = "a number too long";
			return BARGE_EDATA;
		}
		memcpy(tmp, p, n);
		tmp[n] = '\0';
		if (cd->type == BARGE_T_INT64)
			v->i = strtoll(tmp, &end, 10);
		else if (strncmp(e, "float", 5) == 0)
			v->f = (double)strtof(tmp, &end);
		else
			v->f = strtod(tmp, &end);
		if (*end || !n) {
			*why = "a number that does not parse";
			return BARGE_EDATA;
		}
		return 0;
	case BARGE_T_DATE:
	case BARGE_T_TIME:
	case BARGE_T_TIMESTAMP:
	case BARGE_T_TIMESTAMPTZ:
		if (barge_iso_temporal(&v->i, cd->type == BARGE_T_TIMESTAMPTZ
						      ? BARGE_T_TIMESTAMP : cd->type,
				       p, n, 0) == 0)
			return 0;
		if (cd->type != BARGE_T_TIME &&
		    (strncmp(p, "0000", n < 4 ? n : 4) == 0 || memmem(p, n, "-00", 3))) {
			if (c->zero_dates == MY_ZERO_NULL) {
				*is_null = 1;
				return 0;
			}
			*why = "a zero date (?zero-dates=null reads it as NULL)";
			return BARGE_EDATA;
		}
		*why = cd->type == BARGE_T_TIME ? "a time outside 00:00:00 to "
						  "23:59:59.999999"
						: "a date/time that does not parse";
		return BARGE_EDATA;
	case BARGE_T_UUID:
		if (n != 16) {
			*why = "a uuid that is not 16 bytes";
			return BARGE_EDATA;
		}
		/* fall through */
	default:
		v->p = p;
		v->n = n;
		return 0;
	}
}

/* ---- Chunk planning ----------------------------------------------------------- */

int my_key_range(struct barge_conn *c, const struct barge_table_def *t,
		 int by_rowid, int64_t *min, int64_t *max, int64_t *count)
{
	struct barge_buf sql;
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	int err;

	if (by_rowid || t->nkey != 1 || t->cols[t->key[0]].type != BARGE_T_INT64)
		return barge_error_set(BARGE_EUSAGE, "mysql: table '%s' has no single "
				       "integer key to split by value", t->name);
	/* the count only sizes the chunks: InnoDB's estimate, when it has one */
	barge_buf_init(&sql, 1 << 16);
	barge_buf_adds(&sql, "SELECT MIN(");
	my_quote(&sql, t->cols[t->key[0]].name);
	barge_buf_adds(&sql, "), MAX(");
	my_quote(&sql, t->cols[t->key[0]].name);
	barge_buf_adds(&sql, "), (SELECT TABLE_ROWS FROM information_schema.TABLES "
		       "WHERE TABLE_SCHEMA = ");
	my_quote_lit(&sql, c->db, strlen(c->db));
	barge_buf_adds(&sql, " AND TABLE_NAME = ");
	my_quote_lit(&sql, t->name, strlen(t->name));
	barge_buf_adds(&sql, ") FROM ");
	my_table(&sql, c, t->name);
	if ((err = sql.err) || (err = my_query(c, sql.p, t->name, &res)))
		goto out;
	row = mysql_fetch_row(res);
	if (!row || !row[0]) {
		err = barge_error_set(BARGE_ENOTFOUND, "mysql: table '%s' is empty",
				      t->name);
		goto out;
	}
	*min = strtoll(row[0], NULL, 10);
	*max = strtoll(row[1], NULL, 10);
	*count = row[2] ? strtoll(row[2], NULL, 10) : 0;
	if (*count <= 0)
		err = my_count_rows(c, t, NULL, count);
out:
	mysql_free_result(res);
	barge_buf_dispose(&sql);
	return err;
}

int my_key_after(struct barge_conn *c, const struct barge_table_def *t,
		 const struct barge_key *from, int64_t skip,
		 struct barge_key **out)
{
	struct barge_buf sql;
	struct barge_value *vals = NULL;
	struct barge_chunk range = {.lo = (struct barge_key *)from};
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	int err = 0;

	*out = NULL;
	barge_buf_init(&sql, MY_SQL_CAP);
	if (!t->nkey || skip < 0) {
		err = barge_error_set(BARGE_EUSAGE, "mysql: table '%s' has no key to "
				      "walk", t->name);
		goto out;
	}
	if (!(vals = calloc(t->nkey, sizeof *vals))) {
		err = barge_error_set(BARGE_ENOMEM, "out of memory");
		goto out;
	}
	barge_buf_adds(&sql, "SELECT ");
	for (size_t i = 0; i < t->nkey; i++) {
		if (i)
			barge_buf_adds(&sql, ", ");
		my_quote(&sql, t->cols[t->key[i]].name);
	}
	barge_buf_adds(&sql, " FROM ");
	my_table(&sql, c, t->name);
	barge_buf_adds(&sql, " WHERE ");
	if ((err = my_range_sql(&sql, c, t, &range)))
		goto out;
	barge_buf_adds(&sql, " ORDER BY ");
	key_list(&sql, c, t);
	barge_buf_printf(&sql, " LIMIT 1 OFFSET %" PRId64, skip);
	if ((err = sql.err) || (err = my_query(c, sql.p, t->name, &res)))
		goto out;
	if (!(row = mysql_fetch_row(res))) {
		err = barge_error_set(BARGE_ENOTFOUND, "mysql: table '%s' has fewer "
				      "rows than the next chunk", t->name);
		goto out;
	}
	unsigned long *len = mysql_fetch_lengths(res);
	for (size_t i = 0; i < t->nkey; i++) {
		const struct barge_column_def *cd = &t->cols[t->key[i]];
		const char *why = NULL;
		int is_null = 0;
		if (!row[i] || decode(c, cd, row[i], len[i], &vals[i], &is_null, &why) ||
		    is_null) {
			err = barge_error_set(BARGE_EDATA, "mysql: table '%s': key column "
					      "%s holds %s", t->name, cd->name,
					      why ? why : "NULL");
			goto out;
		}
	}
	err = barge_key_new(out, t->nkey, vals);
out:
	mysql_free_result(res);
	free(vals);
	barge_buf_dispose(&sql);
	return err;
}

/* ---- The reader ------------------------------------------------------------------ */

struct barge_reader {
	struct barge_conn *c;
	const struct barge_table_def *t;
	MYSQL_RES *res;    /* the streamed result (mysql_use_result) */
	size_t ncols;
	const struct barge_column_def **cols;
	int64_t rows;
	int done;
};

void my_read_close(struct barge_reader *r)
{
	if (!r)
		return;
	/* frees what is left of the stream (reading it to its end) */
	if (r->res)
		mysql_free_result(r->res);
	if (r->c && r->c->busy == r)
		r->c->busy = NULL;
	free(r->cols);
	free(r);
}

int my_read_open(struct barge_reader **out, struct barge_conn *c,
		 const struct barge_read_req *req)
{
	const struct barge_table_def *t = req->table;
	struct barge_reader *r = NULL;
	struct barge_buf sql;
	int err = 0;

	*out = NULL;
	if (req->with_rowid)
		return barge_error_set(BARGE_EUSAGE, "mysql: table '%s' has no row "
				       "address to read", t->name);
	barge_buf_init(&sql, MY_SQL_CAP);
	if (!(r = calloc(1, sizeof *r)) ||
	    !(r->cols = calloc(req->ncols + 1, sizeof *r->cols))) {
		err = barge_error_set(BARGE_ENOMEM, "out of memory");
		goto out;
	}
	r->c = c;
	r->t = t;
	r->ncols = req->ncols;
	barge_buf_adds(&sql, "SELECT ");
	for (size_t i = 0; i < req->ncols; i++) {
		const struct barge_column_def *cd = &t->cols[req->cols[i]];
		enum my_kind kind;
		int type, p, s;
		my_map_type(cd->engine_type ? cd->engine_type : "", NULL, 0, &type,
			    &p, &s, &kind);
		if (kind == MYK_GEOMETRY) {
			err = barge_error_set(BARGE_EUSAGE, "mysql: table '%s': column "
					      "%s is a geometry, which barge does not "
					      "carry yet: leave it out of the plan",
					      t->name, cd->name);
			goto out;
		}
		if (i)
			barge_buf_adds(&sql, ", ");
		my_quote(&sql, cd->name);
		r->cols[i] = cd;
	}
	barge_buf_adds(&sql, " FROM ");
	my_table(&sql, c, t->name);
	barge_buf_adds(&sql, " WHERE ");
	if ((err = my_range_sql(&sql, c, t, req->chunk)))
		goto out;
	if (req->where)
		barge_buf_printf(&sql, " AND (%s)", req->where);
	if (req->order_by_key && t->nkey) {
		barge_buf_adds(&sql, " ORDER BY ");
		key_list(&sql, c, t);
	}
	if ((err = sql.err))
		goto out;
	if (mysql_real_query(c->my, sql.p, sql.len) != 0 ||
	    !(r->res = mysql_use_result(c->my))) {
		err = my_fail(c, t->name, "reading");
		goto out;
	}
	c->busy = r;
	*out = r;
	r = NULL;
out:
	barge_buf_dispose(&sql);
	my_read_close(r);
	return err;
}

/* "orders id=17" for a message: the row's key fields. */
static void row_name(struct barge_reader *r, MYSQL_ROW row, unsigned long *len,
		     struct barge_buf *b)
{
	const struct barge_table_def *t = r->t;
	size_t named = 0;
	barge_buf_adds(b, t->name);
	for (size_t k = 0; k < t->nkey; k++)
		for (size_t i = 0; i < r->ncols; i++)
			if (r->cols[i] == &t->cols[t->key[k]] && row[i]) {
				size_t n = len[i] > 40 ? 40 : len[i];
				barge_buf_printf(b, "%s%s=%.*s", named++ ? ", " : " ",
						 r->cols[i]->name, (int)n, row[i]);
			}
	if (!named)
		barge_buf_printf(b, " row %" PRId64, r->rows + 1);
}

int my_read_next(struct barge_reader *r, struct barge_batch *b)
{
	barge_batch_reset(b);
	if (b->ncols != r->ncols)
		return barge_error_set(BARGE_EUSAGE, "mysql: table '%s': a batch of "
				       "%zu columns for a read of %zu", r->t->name,
				       b->ncols, r->ncols);
	while (!r->done && !barge_batch_full(b)) {
		MYSQL_ROW row = mysql_fetch_row(r->res);
		if (!row) {
			r->done = 1;
			if (mysql_errno(r->c->my))
				return my_fail(r->c, r->t->name, "reading");
			break;
		}
		unsigned long *len = mysql_fetch_lengths(r->res);
		for (size_t i = 0; i < r->ncols; i++) {
			struct barge_value v;
			const char *why = NULL;
			int is_null = 0, err;
			if (!row[i] ||
			    (err = decode(r->c, r->cols[i], row[i], len[i], &v,
					  &is_null, &why)) == 0) {
				err = !row[i] || is_null ? barge_batch_put_null(b, i)
							 : barge_batch_put_value(b, i, &v);
			} else {
				struct barge_buf nm;
				barge_buf_init(&nm, 4096);
				row_name(r, row, len, &nm);
				err = barge_error_set(BARGE_EDATA, "mysql: %s: column %s "
						      "(%s) holds %s", nm.p ? nm.p : "",
						      r->cols[i]->name,
						      r->cols[i]->engine_type, why);
				barge_buf_dispose(&nm);
			}
			if (err) {
				barge_batch_abandon_row(b);
				return err;
			}
		}
		barge_batch_end_row(b);
		r->rows++;
	}
	return 0;
}
