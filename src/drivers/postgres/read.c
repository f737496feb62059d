/*
 * Reading: chunk ranges, chunk planning (key_range, key_after) and the
 * reader, which runs `COPY (SELECT ... WHERE <chunk>) TO STDOUT (FORMAT
 * binary)` and decodes the tuples into batches.
 *
 * Every column is selected as the one wire type its logical type travels
 * as (int8, float8, numeric, text, ...), so the decoder needs no OIDs.
 * Keys are compared in barge's binary order: text keys COLLATE "C".
 * Tables without a primary key are read in one chunk (no row address).
 */
#include "pg_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCRATCH_CAP (64u << 20)

static const char copy_signature[11] = "PGCOPY\n\377\r\n";

/* text, varchar, bpchar and name send their bytes as they are; casting
 * bpchar to text would strip its padding. */
static int raw_text(const struct barge_column_def *cd)
{
	const char *e = cd->engine_type ? cd->engine_type : "";
	return strcmp(e, "text") == 0 || strcmp(e, "name") == 0 ||
	       strcmp(e, "bpchar") == 0 || strncmp(e, "character", 9) == 0;
}

int pg_select_expr(struct barge_buf *b, const struct barge_column_def *cd)
{
	static const char *const casts[BARGE_T__COUNT] = {
		[BARGE_T_BOOL] = "::bool",
		[BARGE_T_INT64] = "::int8",
		[BARGE_T_FLOAT64] = "::float8",
		[BARGE_T_DECIMAL] = "::numeric",
		[BARGE_T_TEXT] = "::text",
		[BARGE_T_BYTES] = "::bytea",
		[BARGE_T_DATE] = "::date",
		[BARGE_T_TIME] = "::time",
		[BARGE_T_TIMESTAMP] = "::timestamp",
		[BARGE_T_TIMESTAMPTZ] = "::timestamptz",
		[BARGE_T_UUID] = "::uuid",
		[BARGE_T_JSON] = "::text",
	};
	pg_quote(b, cd->name);
	if (cd->type == BARGE_T_TEXT && raw_text(cd))
		return b->err;
	if (cd->type <= 0 || cd->type >= BARGE_T__COUNT || !casts[cd->type])
		return barge_error_set(BARGE_EUSAGE,
				       "postgres: column %s: cannot read a %s column",
				       cd->name, barge_type_name(cd->type));
	return barge_buf_adds(b, casts[cd->type]);
}

/* The key column as compared and ordered: text in binary order. */
static int key_expr(struct barge_buf *b, const struct barge_column_def *cd)
{
	if (cd->type != BARGE_T_TEXT)
		return pg_quote(b, cd->name);
	pg_select_expr(b, cd);
	return barge_buf_adds(b, " COLLATE \"C\"");
}

static int key_list(struct barge_buf *b, const struct barge_table_def *t)
{
	for (size_t i = 0; i < t->nkey; i++) {
		if (i)
			barge_buf_adds(b, ", ");
		key_expr(b, &t->cols[t->key[i]]);
	}
	return b->err;
}

static int bound(struct barge_buf *b, const struct barge_table_def *t,
		 const struct barge_key *k, const char *op)
{
	int err;
	if (k->n != t->nkey)
		return barge_error_set(BARGE_EUSAGE,
				       "postgres: table '%s': a chunk bound of %zu "
				       "values for a key of %zu columns",
				       t->name, k->n, t->nkey);
	barge_buf_adds(b, "(");
	key_list(b, t);
	barge_buf_printf(b, ") %s (", op);
	for (size_t i = 0; i < k->n; i++) {
		if (i)
			barge_buf_adds(b, ", ");
		if ((err = pgc_literal(b, &k->v[i])))
			return err;
	}
	return barge_buf_adds(b, ")");
}

int pg_range_sql(struct barge_buf *b, const struct barge_table_def *t,
		 const struct barge_chunk *chunk)
{
	int err;
	if (!chunk || (!chunk->lo && !chunk->hi))
		return barge_buf_adds(b, "true");
	if (chunk->by_rowid || !t->nkey)
		return barge_error_set(BARGE_EUSAGE,
				       "postgres: table '%s' has no key to chunk by "
				       "(PostgreSQL tables have no stable row "
				       "address)", t->name);
	if (chunk->lo && (err = bound(b, t, chunk->lo, ">=")))
		return err;
	if (chunk->lo && chunk->hi)
		barge_buf_adds(b, " AND ");
	if (chunk->hi && (err = bound(b, t, chunk->hi, chunk->hi_incl ? "<=" : "<")))
		return err;
	return b->err;
}

int pg_decode(int type, const unsigned char *p, size_t n,
	      struct barge_value *v, struct barge_buf *scratch,
	      const char **why)
{
	size_t want = 0;
	memset(v, 0, sizeof *v);
	v->type = type;
	switch (type) {
	case BARGE_T_BOOL: want = 1; break;
	case BARGE_T_DATE: want = 4; break;
	case BARGE_T_INT64:
	case BARGE_T_FLOAT64:
	case BARGE_T_TIME:
	case BARGE_T_TIMESTAMP:
	case BARGE_T_TIMESTAMPTZ: want = 8; break;
	case BARGE_T_UUID: want = 16; break;
	default: break;
	}
	if (want && n != want) {
		*why = "a field of the wrong size";
		return BARGE_EDATA;
	}
	switch (type) {
	case BARGE_T_BOOL:
		v->i = p[0] != 0;
		return 0;
	case BARGE_T_INT64:
	case BARGE_T_TIME:
		v->i = (int64_t)pgc_get64(p);
		return 0;
	case BARGE_T_FLOAT64: {
		uint64_t bits = pgc_get64(p);
		memcpy(&v->f, &bits, sizeof v->f);
		return 0;
	}
	case BARGE_T_DATE:
		return pgc_date_from_pg((int32_t)pgc_get32(p), &v->i, why);
	case BARGE_T_TIMESTAMP:
	case BARGE_T_TIMESTAMPTZ:
		return pgc_ts_from_pg((int64_t)pgc_get64(p), &v->i, why);
	case BARGE_T_DECIMAL: {
		int err;
		barge_buf_clear(scratch);
		if ((err = pgc_numeric_to_text(scratch, p, n, why)))
			return err;
		v->p = scratch->p ? scratch->p : "";
		v->n = scratch->len;
		return 0;
	}
	case BARGE_T_TEXT:
	case BARGE_T_JSON:
	case BARGE_T_BYTES:
	case BARGE_T_UUID:
		v->p = (const char *)p;
		v->n = n;
		return 0;
	default:
		*why = "a type the reader cannot decode";
		return BARGE_EDATA;
	}
}

void pg_value_text(struct barge_buf *b, const struct barge_value *v)
{
	if (v->null) {
		barge_buf_adds(b, "NULL");
		return;
	}
	switch (v->type) {
	case BARGE_T_INT64:
	case BARGE_T_BOOL:
		barge_buf_printf(b, "%" PRId64, v->i);
		break;
	case BARGE_T_TEXT:
	case BARGE_T_DECIMAL:
	case BARGE_T_JSON: {
		size_t n = v->n > 64 ? 64 : v->n;
		barge_buf_adds(b, "'");
		for (size_t i = 0; i < n; i++)
			barge_buf_add(b, v->p[i] ? v->p + i : "\\0",
				      v->p[i] ? 1 : 2);
		barge_buf_adds(b, v->n > 64 ? "...'" : "'");
		break;
	}
	default: {
		struct barge_buf tmp;
		barge_buf_init(&tmp, 256);
		if (pgc_literal(&tmp, v) == 0 && tmp.p)
			barge_buf_adds(b, tmp.p);
		else
			barge_buf_printf(b, "(%s)", barge_type_name(v->type));
		barge_buf_dispose(&tmp);
		break;
	}
	}
}

/* ---- Chunk planning ----------------------------------------------------------- */

int pg_key_range(struct barge_conn *c, const struct barge_table_def *t,
		 int by_rowid, int64_t *min, int64_t *max, int64_t *count)
{
	struct barge_buf sql, lit;
	PGresult *res = NULL;
	int err;

	if (by_rowid || t->nkey != 1 || t->cols[t->key[0]].type != BARGE_T_INT64)
		return barge_error_set(BARGE_EUSAGE,
				       "postgres: table '%s' has no single integer "
				       "key to split by value", t->name);
	/*
	 * min and max come from the key's index; the row count only sizes
	 * the chunks, so the planner's estimate (pg_class.reltuples, kept by
	 * VACUUM, ANALYZE and CREATE INDEX) is enough when there is one: a
	 * count(*) would read the whole table once more before the copy.
	 */
	barge_buf_init(&sql, PG_SQL_CAP);
	barge_buf_init(&lit, 4096);
	pg_table(&lit, c, t->name);
	barge_buf_adds(&sql, "SELECT min(");
	pg_quote(&sql, t->cols[t->key[0]].name);
	barge_buf_adds(&sql, "), max(");
	pg_quote(&sql, t->cols[t->key[0]].name);
	barge_buf_adds(&sql, "), (SELECT reltuples::int8 FROM pg_class WHERE oid = ");
	pg_quote_lit(&sql, lit.p ? lit.p : "");
	barge_buf_adds(&sql, "::regclass) FROM ");
	pg_table(&sql, c, t->name);
	if ((err = lit.err) || (err = sql.err) ||
	    (err = pg_query(c, sql.p, 0, NULL, 0, t->name, &res)))
		goto out;
	if (PQgetisnull(res, 0, 0)) {
		err = barge_error_set(BARGE_ENOTFOUND, "postgres: table '%s' is empty",
				      t->name);
		goto out;
	}
	*min = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	*max = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	*count = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
	/* never analyzed (-1), or analyzed while empty: count */
	if (*count <= 0)
		err = pg_count_rows(c, t, NULL, count);
out:
	PQclear(res);
	barge_buf_dispose(&lit);
	barge_buf_dispose(&sql);
	return err;
}

int pg_key_after(struct barge_conn *c, const struct barge_table_def *t,
		 const struct barge_key *from, int64_t skip,
		 struct barge_key **out)
{
	struct barge_buf sql, *scratch = NULL;
	struct barge_value *vals = NULL;
	struct barge_chunk range = {.lo = (struct barge_key *)from};
	PGresult *res = NULL;
	int err = 0;

	*out = NULL;
	barge_buf_init(&sql, PG_SQL_CAP);
	if (!t->nkey || skip < 0) {
		err = barge_error_set(BARGE_EUSAGE, "postgres: table '%s' has no "
						    "key to walk", t->name);
		goto out;
	}
	vals = calloc(t->nkey, sizeof *vals);
	scratch = calloc(t->nkey, sizeof *scratch);
	if (!vals || !scratch) {
		err = barge_error_set(BARGE_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < t->nkey; i++)
		barge_buf_init(&scratch[i], SCRATCH_CAP);
	barge_buf_adds(&sql, "SELECT ");
	for (size_t i = 0; i < t->nkey; i++) {
		if (i)
			barge_buf_adds(&sql, ", ");
		if ((err = pg_select_expr(&sql, &t->cols[t->key[i]])))
			goto out;
	}
	barge_buf_adds(&sql, " FROM ");
	pg_table(&sql, c, t->name);
	barge_buf_adds(&sql, " WHERE ");
	if ((err = pg_range_sql(&sql, t, &range)))
		goto out;
	barge_buf_adds(&sql, " ORDER BY ");
	key_list(&sql, t);
	barge_buf_printf(&sql, " LIMIT 1 OFFSET %" PRId64, skip);
	if ((err = sql.err) ||
	    (err = pg_query(c, sql.p, 0, NULL, 1, t->name, &res)))
		goto out;
	if (PQntuples(res) == 0) {
		err = barge_error_set(BARGE_ENOTFOUND,
				      "postgres: table '%s' has fewer rows than the "
				      "next chunk", t->name);
		goto out;
	}
	for (size_t i = 0; i < t->nkey; i++) {
		const struct barge_column_def *cd = &t->cols[t->key[i]];
		const char *why = NULL;
		if (PQgetisnull(res, 0, (int)i)) {
			err = barge_error_set(BARGE_EDATA, "%s: key column %s holds "
							   "NULL", t->name, cd->name);
			goto out;
		}
		if (pg_decode(cd->type, (const unsigned char *)PQgetvalue(res, 0, (int)i),
			      (size_t)PQgetlength(res, 0, (int)i), &vals[i],
			      &scratch[i], &why)) {
			err = barge_error_set(BARGE_EDATA, "%s: key column %s holds %s",
					      t->name, cd->name, why);
			goto out;
		}
	}
	err = barge_key_new(out, t->nkey, vals);
out:
	PQclear(res);
	for (size_t i = 0; scratch && i < t->nkey; i++)
		barge_buf_dispose(&scratch[i]);
	free(scratch);
	free(vals);
	barge_buf_dispose(&sql);
	return err;
}

/* ---- The reader ------------------------------------------------------------------ */

struct barge_reader {
	struct barge_conn *c;
	char *table;
	size_t ncols;
	int *types;
	char **names;      /* borrowed from the table def */
	size_t ndiag;      /* batch columns that name a row in messages */
	size_t *diag;
	int in_copy;       /* the COPY has not ended yet */
	int header;        /* the COPY header was read */
	int done;
	int64_t rows;
	struct barge_buf scratch;
};

/* Finish the COPY: read what is left (cancelling would abort a snapshot
 * transaction the connection still needs), then its results. */
static int copy_finish(struct barge_reader *r, int drain)
{
	PGconn *pg = r->c->pg;
	PGresult *res;
	int err = 0;
	char *buf = NULL;
	int len;

	while (drain && (len = PQgetCopyData(pg, &buf, 0)) >= 0)
		PQfreemem(buf);
	while ((res = PQgetResult(pg))) {
		if (!err && PQresultStatus(res) != PGRES_COMMAND_OK)
			err = pg_fail(r->c, res, r->table, "reading");
		PQclear(res);
	}
	if (!err && PQstatus(pg) == CONNECTION_BAD)
		err = pg_fail(r->c, NULL, r->table, "reading");
	r->in_copy = 0;
	return err;
}

void pg_read_close(struct barge_reader *r)
{
	if (!r)
		return;
	if (r->in_copy)
		copy_finish(r, 1);
	free(r->table);
	free(r->types);
	free(r->names);
	free(r->diag);
	barge_buf_dispose(&r->scratch);
	free(r);
}

int pg_read_open(struct barge_reader **out, struct barge_conn *c,
		 const struct barge_read_req *req)
{
	const struct barge_table_def *t = req->table;
	struct barge_reader *r = NULL;
	struct barge_buf sql;
	PGresult *res = NULL;
	int err = 0;

	*out = NULL;
	if (req->with_rowid)
		return barge_error_set(BARGE_EUSAGE,
				       "postgres: table '%s' has no row address to "
				       "read", t->name);
	barge_buf_init(&sql, PG_SQL_CAP);
	r = calloc(1, sizeof *r);
	if (!r)
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	barge_buf_init(&r->scratch, SCRATCH_CAP);
	r->c = c;
	r->ncols = req->ncols;
	r->table = strdup(t->name);
	r->types = calloc(r->ncols + 1, sizeof *r->types);
	r->names = calloc(r->ncols + 1, sizeof *r->names);
	r->diag = calloc(t->nkey + 1, sizeof *r->diag);
	if (!r->table || !r->types || !r->names || !r->diag) {
		err = barge_error_set(BARGE_ENOMEM, "out of memory");
		goto out;
	}
	barge_buf_adds(&sql, "COPY (SELECT ");
	for (size_t i = 0; i < req->ncols; i++) {
		const struct barge_column_def *cd = &t->cols[req->cols[i]];
		if (i)
			barge_buf_adds(&sql, ", ");
		if ((err = pg_select_expr(&sql, cd)))
			goto out;
		r->types[i] = cd->type;
		r->names[i] = cd->name;
	}
	r->ndiag = barge_table_def_key_positions(t, req->cols, req->ncols, r->diag, NULL);
	barge_buf_adds(&sql, " FROM ");
	pg_table(&sql, c, t->name);
	barge_buf_adds(&sql, " WHERE ");
	if ((err = pg_range_sql(&sql, t, req->chunk)))
		goto out;
	if (req->where)
		barge_buf_printf(&sql, " AND (%s)", req->where);
	if (req->order_by_key && t->nkey) {
		barge_buf_adds(&sql, " ORDER BY ");
		key_list(&sql, t);
	}
	barge_buf_adds(&sql, ") TO STDOUT (FORMAT binary)");
	if ((err = sql.err))
		goto out;
	res = PQexec(c->pg, sql.p);
	if (!res || PQresultStatus(res) != PGRES_COPY_OUT) {
		err = pg_fail(c, res, t->name, "starting COPY TO");
		goto out;
	}
	r->in_copy = 1;
	*out = r;
	r = NULL;
out:
	PQclear(res);
	barge_buf_dispose(&sql);
	pg_read_close(r);
	return err;
}

/* "orders id=17" from the key fields of the row at `row`. */
static void row_name(struct barge_reader *r, const unsigned char *row,
		     size_t len, struct barge_buf *b)
{
	const unsigned char *f[64] = {0};
	int32_t flen[64] = {0};
	size_t off = 2;

	barge_buf_adds(b, r->table);
	if (!r->ndiag) {
		barge_buf_printf(b, " row %" PRId64, r->rows + 1);
		return;
	}
	for (size_t i = 0; i < r->ncols && i < 64 && off + 4 <= len; i++) {
		flen[i] = (int32_t)pgc_get32(row + off);
		off += 4;
		f[i] = row + off;
		if (flen[i] > 0)
			off += (size_t)flen[i];
		if (off > len)
			f[i] = NULL;
	}
	for (size_t k = 0; k < r->ndiag; k++) {
		size_t i = r->diag[k];
		struct barge_value v;
		struct barge_buf s;
		const char *why;
		barge_buf_printf(b, "%s%s=", k ? ", " : " ", r->names[i]);
		barge_buf_init(&s, 1 << 16);
		if (i < 64 && f[i] && flen[i] >= 0 &&
		    pg_decode(r->types[i], f[i], (size_t)flen[i], &v, &s, &why) == 0)
			pg_value_text(b, &v);
		else
			barge_buf_adds(b, "?");
		barge_buf_dispose(&s);
	}
}

/* Decode the tuples of one CopyData message into `b`. */
static int put_tuples(struct barge_reader *r, struct barge_batch *b,
		      const unsigned char *p, size_t len)
{
	size_t off = 0;

	if (!r->header) {
		if (len < 19 || memcmp(p, copy_signature, 11) != 0)
			return barge_error_set(BARGE_ERROR,
					       "postgres: table '%s': not a binary "
					       "COPY stream", r->table);
		size_t ext = pgc_get32(p + 15);
		if (19 + ext > len)
			return barge_error_set(BARGE_ERROR, "postgres: table '%s': "
					       "truncated COPY header", r->table);
		off = 19 + ext;
		r->header = 1;
	}
	while (off < len) {
		const unsigned char *row = p + off;
		if (off + 2 > len)
			goto truncated;
		int16_t nf = (int16_t)pgc_get16(p + off);
		off += 2;
		if (nf == -1)
			continue; /* the trailer */
		if (nf < 0 || (size_t)nf != r->ncols)
			return barge_error_set(BARGE_ERROR,
					       "postgres: table '%s': a COPY row of %d "
					       "fields for %zu columns", r->table, nf,
					       r->ncols);
		for (size_t i = 0; i < r->ncols; i++) {
			struct barge_value v;
			const char *why = NULL;
			int err;
			if (off + 4 > len)
				goto truncated;
			int32_t flen = (int32_t)pgc_get32(p + off);
			off += 4;
			if (flen < 0) {
				err = barge_batch_put_null(b, i);
			} else {
				if ((size_t)flen > len - off)
					goto truncated;
				err = pg_decode(r->types[i], p + off, (size_t)flen, &v,
						&r->scratch, &why);
				off += (size_t)flen;
				if (err == BARGE_EDATA) {
					struct barge_buf nm;
					barge_buf_init(&nm, 4096);
					row_name(r, row, len - (size_t)(row - p), &nm);
					err = barge_error_set(BARGE_EDATA,
							      "%s: column %s (%s) holds %s",
							      nm.p ? nm.p : r->table,
							      r->names[i],
							      barge_type_name(r->types[i]),
							      why);
					barge_buf_dispose(&nm);
				} else if (!err) {
					err = barge_batch_put_value(b, i, &v);
				}
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
truncated:
	barge_batch_abandon_row(b);
	return barge_error_set(BARGE_ERROR, "postgres: table '%s': a truncated "
					    "COPY row", r->table);
}

int pg_read_next(struct barge_reader *r, struct barge_batch *b)
{
	barge_batch_reset(b);
	if (b->ncols != r->ncols)
		return barge_error_set(BARGE_EUSAGE,
				       "postgres: table '%s': a batch of %zu columns "
				       "for a read of %zu", r->table, b->ncols,
				       r->ncols);
	while (!r->done && !barge_batch_full(b)) {
		char *buf = NULL;
		int len = PQgetCopyData(r->c->pg, &buf, 0);
		if (len == -1) {
			r->done = 1;
			return copy_finish(r, 0);
		}
		if (len < 0) {
			r->done = 1;
			int err = pg_fail(r->c, NULL, r->table, "reading");
			copy_finish(r, 0);
			return err;
		}
		int err = put_tuples(r, b, (const unsigned char *)buf, (size_t)len);
		PQfreemem(buf);
		if (err)
			return err;
	}
	return 0;
}
