/*
 * Reading chunks into batches, and chunk planning (key_range, key_after).
 *
 * Keys are compared in barge's binary order: every key column is COLLATE
 * BINARY (a declared NOCASE must not reorder chunks) and NULLs sort first,
 * as in SQLite's ORDER BY. A chunk [lo, hi) is `(k) >= (lo) AND (k) <
 * (hi)`; where a key column may hold NULL, a row whose NULL makes `(k) <
 * (hi)` unknown is below hi in that order, so the upper bound also takes
 * `k IS NULL AND NOT coalesce((k) >= (hi), 0)`. Boundaries never hold
 * NULLs (key_after refuses them), so the chunks of a table partition it.
 * A chunk [lo, hi] (hi_incl, a point chunk when lo == hi) is the same with
 * `<=` and `>` in place of `<` and `>=` in the upper bound.
 */
#include "sqlite_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SQL_CAP (1u << 20)
#define SCRATCH_CAP (64u << 20)

static int use_rowid(const struct barge_table_def *t, int by_rowid)
{
	return by_rowid || t->nkey == 0;
}

int sq_key_list(struct barge_buf *b, const struct barge_table_def *t,
		int by_rowid, int collate)
{
	if (use_rowid(t, by_rowid))
		return barge_buf_adds(b, sq_rowid_name(t));
	return barge_sql_key_list(b, SQ_SQL, t, collate ? " COLLATE BINARY" : NULL);
}

static int key_nullable(const struct barge_table_def *t, int by_rowid)
{
	if (use_rowid(t, by_rowid))
		return 0;
	for (size_t i = 0; i < t->nkey; i++)
		if (!t->cols[t->key[i]].notnull)
			return 1;
	return 0;
}

static void params(struct barge_buf *b, size_t n)
{
	barge_buf_adds(b, "(");
	for (size_t i = 0; i < n; i++)
		barge_buf_adds(b, i ? ", ?" : "?");
	barge_buf_adds(b, ")");
}

static size_t key_width(const struct barge_table_def *t, int by_rowid)
{
	return use_rowid(t, by_rowid) ? 1 : t->nkey;
}

static int check_bound(const struct barge_table_def *t,
		       const struct barge_chunk *chunk, const struct barge_key *k)
{
	if (k && k->n != key_width(t, chunk->by_rowid))
		return barge_error_set(BARGE_EUSAGE,
				       "sqlite: table '%s': a chunk bound of %zu "
				       "values for a key of %zu columns",
				       t->name, k->n, key_width(t, chunk->by_rowid));
	if (use_rowid(t, chunk->by_rowid) && (!t->has_rowid || !sq_rowid_name(t)))
		return barge_error_set(BARGE_EUSAGE,
				       "sqlite: table '%s' has no key and no rowid "
				       "to chunk by", t->name);
	return 0;
}

int sq_range_sql(struct barge_buf *b, const struct barge_table_def *t,
		 const struct barge_chunk *chunk)
{
	int err;
	if (!chunk || (!chunk->lo && !chunk->hi))
		return barge_buf_adds(b, "1");
	if ((err = check_bound(t, chunk, chunk->lo)) ||
	    (err = check_bound(t, chunk, chunk->hi)))
		return err;
	size_t n = key_width(t, chunk->by_rowid);
	if (chunk->lo) {
		barge_buf_adds(b, "(");
		sq_key_list(b, t, chunk->by_rowid, 1);
		barge_buf_adds(b, ") >= ");
		params(b, n);
	}
	if (chunk->hi) {
		if (chunk->lo)
			barge_buf_adds(b, " AND ");
		barge_buf_adds(b, "((");
		sq_key_list(b, t, chunk->by_rowid, 1);
		barge_buf_adds(b, chunk->hi_incl ? ") <= " : ") < ");
		params(b, n);
		if (key_nullable(t, chunk->by_rowid)) {
			barge_buf_adds(b, " OR ((");
			for (size_t i = 0; i < t->nkey; i++) {
				if (i)
					barge_buf_adds(b, " OR ");
				sq_quote(b, t->cols[t->key[i]].name);
				barge_buf_adds(b, " IS NULL");
			}
			barge_buf_adds(b, ") AND NOT coalesce((");
			sq_key_list(b, t, chunk->by_rowid, 1);
			barge_buf_adds(b, chunk->hi_incl ? ") > " : ") >= ");
			params(b, n);
			barge_buf_adds(b, ", 0))");
		}
		barge_buf_adds(b, ")");
	}
	return b->err;
}

static int bind_key(sqlite3_stmt *st, int *idx, const struct barge_key *k,
		    const char *table)
{
	for (size_t i = 0; i < k->n; i++) {
		const char *why = NULL;
		int rc = sq_bind_value(st, (*idx)++, &k->v[i], SQ_AFF_BLOB, 1, &why);
		if (rc < 0)
			return barge_error_set(BARGE_EDATA,
					       "sqlite: table '%s': a chunk bound "
					       "cannot be bound: %s", table, why);
		if (rc != SQLITE_OK)
			return sq_fail(sqlite3_db_handle(st), rc, table,
				       "binding a chunk bound");
	}
	return 0;
}

int sq_range_bind(sqlite3_stmt *st, int first, const struct barge_table_def *t,
		  const struct barge_chunk *chunk)
{
	int idx = first, err;
	if (!chunk)
		return 0;
	if (chunk->lo && (err = bind_key(st, &idx, chunk->lo, t->name)))
		return err;
	if (chunk->hi && (err = bind_key(st, &idx, chunk->hi, t->name)))
		return err;
	if (chunk->hi && key_nullable(t, chunk->by_rowid) &&
	    (err = bind_key(st, &idx, chunk->hi, t->name)))
		return err;
	return 0;
}

/* ---- The reader ------------------------------------------------------------ */

struct barge_reader {
	sqlite3_stmt *st;
	pthread_mutex_t *lock; /* the shared handle's lock, or NULL */
	char *table;
	size_t ncols;        /* batch columns (requested + rowid) */
	int *types;          /* logical type of each batch column, for messages */
	char **names;        /* column name of each batch column */
	size_t ndiag;        /* result columns that name a row in messages */
	int *diag;
	char **diag_names;
	int done;
	int64_t rows;        /* rows read so far, for keyless messages */
	struct barge_buf scratch;
};

pthread_mutex_t *sq_reader_lock(struct barge_reader *r)
{
	return r ? r->lock : NULL;
}

void sq_read_close(struct barge_reader *r)
{
	if (!r)
		return;
	sqlite3_finalize(r->st);
	free(r->table);
	free(r->types);
	free(r->names);
	free(r->diag);
	free(r->diag_names);
	barge_buf_dispose(&r->scratch);
	free(r);
}

int sq_read_open(struct barge_reader **out, struct barge_conn *c,
		 const struct barge_read_req *req)
{
	const struct barge_table_def *t = req->table;
	const char *rowid = sq_rowid_name(t);
	struct barge_reader *r = NULL;
	struct barge_buf sql;
	int err = 0, nsel;

	*out = NULL;
	barge_buf_init(&sql, SQL_CAP);
	if (req->with_rowid && (err = sq_rowid_check(t, "read")))
		return err;
	r = calloc(1, sizeof *r);
	if (!r)
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	barge_buf_init(&r->scratch, SCRATCH_CAP);
	r->ncols = req->ncols + (req->with_rowid ? 1 : 0);
	r->table = strdup(t->name);
	r->types = calloc(r->ncols + 1, sizeof *r->types);
	r->names = calloc(r->ncols + 1, sizeof *r->names);
	r->diag = calloc(t->nkey + 1, sizeof *r->diag);
	r->diag_names = calloc(t->nkey + 1, sizeof *r->diag_names);
	if (!r->table || !r->types || !r->names || !r->diag || !r->diag_names) {
		err = barge_error_set(BARGE_ENOMEM, "out of memory");
		goto out;
	}

	barge_buf_adds(&sql, "SELECT ");
	for (size_t i = 0; i < req->ncols; i++) {
		const struct barge_column_def *cd = &t->cols[req->cols[i]];
		if (i)
			barge_buf_adds(&sql, ", ");
		sq_quote(&sql, cd->name);
		r->types[i] = cd->type;
		r->names[i] = cd->name;
	}
	nsel = (int)req->ncols;
	if (req->with_rowid) {
		barge_buf_printf(&sql, "%s%s", nsel ? ", " : "", rowid);
		r->types[req->ncols] = BARGE_T_INT64;
		r->names[req->ncols] = (char *)rowid;
		nsel++;
	}
	/* The columns that name a row in an error message: the key, else the
	 * rowid; selected once more unless already read. */
	if (t->nkey) {
		for (size_t k = 0; k < t->nkey; k++) {
			int at = -1;
			for (size_t i = 0; i < req->ncols; i++)
				if (req->cols[i] == t->key[k])
					at = (int)i;
			if (at < 0) {
				barge_buf_adds(&sql, nsel ? ", " : "");
				sq_quote(&sql, t->cols[t->key[k]].name);
				at = nsel++;
			}
			r->diag[r->ndiag] = at;
			r->diag_names[r->ndiag++] = t->cols[t->key[k]].name;
		}
	} else if (t->has_rowid && rowid) {
		if (!req->with_rowid) {
			barge_buf_printf(&sql, "%s%s", nsel ? ", " : "", rowid);
			nsel++;
		}
		r->diag[0] = req->with_rowid ? (int)req->ncols : nsel - 1;
		r->diag_names[0] = (char *)rowid;
		r->ndiag = 1;
	}
	if (nsel == 0)
		barge_buf_adds(&sql, "1");
	barge_buf_adds(&sql, " FROM ");
	sq_quote(&sql, t->name);
	barge_buf_adds(&sql, " WHERE ");
	if ((err = sq_range_sql(&sql, t, req->chunk)))
		goto out;
	if (req->where)
		barge_buf_printf(&sql, " AND (%s)", req->where);
	if (req->order_by_key && (t->nkey || (t->has_rowid && rowid))) {
		barge_buf_adds(&sql, " ORDER BY ");
		sq_key_list(&sql, t, 0, 1);
	}
	if ((err = sql.err))
		goto out;
	r->lock = c->rd_lock;
	if ((err = sq_prepare(c->rd, sql.p, &r->st, t->name)))
		goto out;
	if ((err = sq_range_bind(r->st, 1, t, req->chunk)))
		goto out;
	*out = r;
	r = NULL;
out:
	barge_buf_dispose(&sql);
	sq_read_close(r);
	return err;
}

/* "orders id=17" / "t a='x', b=3" / "t rowid=5" / "t row 12". */
static void row_name(struct barge_reader *r, struct barge_buf *b)
{
	barge_buf_adds(b, r->table);
	barge_buf_adds(b, " ");
	if (!r->ndiag) {
		barge_buf_printf(b, "row %lld", (long long)r->rows + 1);
		return;
	}
	for (size_t i = 0; i < r->ndiag; i++) {
		barge_buf_printf(b, "%s%s=", i ? ", " : "", r->diag_names[i]);
		sq_raw_text(b, r->st, r->diag[i]);
	}
}

static int data_error(struct barge_reader *r, size_t col, int type)
{
	struct barge_buf b;
	char found[256];
	barge_buf_init(&b, 2048);
	row_name(r, &b);
	sq_describe_found(r->st, (int)col, found, sizeof found);
	barge_error_set(BARGE_EDATA, "%s: column %s (%s) holds %s",
			b.p ? b.p : r->table, r->names[col], barge_type_name(type),
			found);
	barge_buf_dispose(&b);
	return BARGE_EDATA;
}

int sq_read_next(struct barge_reader *r, struct barge_batch *b)
{
	int rc;

	barge_batch_reset(b);
	if (b->ncols != r->ncols)
		return barge_error_set(BARGE_EUSAGE,
				       "sqlite: table '%s': a batch of %zu columns "
				       "for a read of %zu", r->table, b->ncols,
				       r->ncols);
	while (!r->done && !barge_batch_full(b)) {
		rc = sqlite3_step(r->st);
		if (rc == SQLITE_DONE) {
			r->done = 1;
			break;
		}
		if (rc != SQLITE_ROW)
			return sq_fail(sqlite3_db_handle(r->st), rc, r->table,
				       "reading");
		for (size_t i = 0; i < r->ncols; i++) {
			struct barge_value v;
			int type = b->cols[i].type;
			int st = sqlite3_column_type(r->st, (int)i);
			/* the common exact cases straight into the batch */
			if (st == SQLITE_NULL) {
				barge_batch_put_null(b, i);
				continue;
			}
			if (st == SQLITE_INTEGER && type == BARGE_T_INT64) {
				barge_batch_put_i64(b, i, sqlite3_column_int64(r->st, (int)i));
				continue;
			}
			if (st == SQLITE_FLOAT && type == BARGE_T_FLOAT64) {
				barge_batch_put_f64(b, i, sqlite3_column_double(r->st, (int)i));
				continue;
			}
			int err;
			if (st == SQLITE_TEXT && type == BARGE_T_TEXT) {
				const void *p = sqlite3_column_text(r->st, (int)i);
				size_t n = (size_t)sqlite3_column_bytes(r->st, (int)i);
				err = p || !n ? barge_batch_put_bytes(b, i, p ? p : "", n)
					      : barge_error_set(BARGE_ENOMEM,
								"out of memory reading a value");
				if (err) {
					barge_batch_abandon_row(b);
					return err;
				}
				continue;
			}
			err = sq_column_value(r->st, (int)i, type, &v, &r->scratch);
			if (err == BARGE_EDATA)
				err = data_error(r, i, type);
			if (!err)
				err = barge_batch_put_value(b, i, &v);
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

/* ---- Chunk planning ---------------------------------------------------------- */

int sq_key_range(struct barge_conn *c, const struct barge_table_def *t,
		 int by_rowid, int64_t *min, int64_t *max, int64_t *count)
{
	struct barge_buf sql;
	sqlite3_stmt *st = NULL;
	int err = 0, rc;

	barge_buf_init(&sql, SQL_CAP);
	if (use_rowid(t, by_rowid) ? (!t->has_rowid || !sq_rowid_name(t))
				   : (t->nkey != 1 ||
				      t->cols[t->key[0]].type != BARGE_T_INT64)) {
		err = barge_error_set(BARGE_EUSAGE,
				      "sqlite: table '%s' has no single integer "
				      "key or rowid to split by value", t->name);
		goto out;
	}
	barge_buf_adds(&sql, "SELECT min(k), max(k), count(*) FROM (SELECT ");
	sq_key_list(&sql, t, by_rowid, 0);
	barge_buf_adds(&sql, " AS k FROM ");
	sq_quote(&sql, t->name);
	barge_buf_adds(&sql, ")");
	if ((err = sql.err) || (err = sq_prepare(c->rd, sql.p, &st, t->name)))
		goto out;
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		err = sq_fail(c->rd, rc, t->name, "finding the key range");
		goto out;
	}
	*count = sqlite3_column_int64(st, 2);
	if (*count == 0) {
		err = barge_error_set(BARGE_ENOTFOUND, "sqlite: table '%s' is empty",
				      t->name);
		goto out;
	}
	for (int i = 0; i < 2; i++) {
		if (sqlite3_column_type(st, i) != SQLITE_INTEGER) {
			char found[256];
			sq_describe_found(st, i, found, sizeof found);
			err = barge_error_set(BARGE_EDATA,
					      "%s: the %s key is %s, not an integer",
					      t->name, i ? "largest" : "smallest",
					      found);
			goto out;
		}
	}
	*min = sqlite3_column_int64(st, 0);
	*max = sqlite3_column_int64(st, 1);
out:
	sqlite3_finalize(st);
	barge_buf_dispose(&sql);
	return err;
}

int sq_key_after(struct barge_conn *c, const struct barge_table_def *t,
		 const struct barge_key *from, int64_t skip,
		 struct barge_key **out)
{
	struct barge_buf sql, *scratch = NULL;
	struct barge_value *vals = NULL;
	sqlite3_stmt *st = NULL;
	struct barge_chunk range = {.lo = (struct barge_key *)from};
	size_t n = key_width(t, 0);
	int err = 0, rc;

	*out = NULL;
	barge_buf_init(&sql, SQL_CAP);
	if (skip < 0)
		return barge_error_set(BARGE_EUSAGE, "sqlite: negative key skip");
	vals = calloc(n, sizeof *vals);
	scratch = calloc(n, sizeof *scratch);
	if (!vals || !scratch) {
		err = barge_error_set(BARGE_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		barge_buf_init(&scratch[i], SCRATCH_CAP);
	barge_buf_adds(&sql, "SELECT ");
	sq_key_list(&sql, t, 0, 0);
	barge_buf_adds(&sql, " FROM ");
	sq_quote(&sql, t->name);
	barge_buf_adds(&sql, " WHERE ");
	if ((err = sq_range_sql(&sql, t, &range)))
		goto out;
	barge_buf_adds(&sql, " ORDER BY ");
	sq_key_list(&sql, t, 0, 1);
	barge_buf_adds(&sql, " LIMIT 1 OFFSET ?");
	if ((err = sql.err) || (err = sq_prepare(c->rd, sql.p, &st, t->name)) ||
	    (err = sq_range_bind(st, 1, t, &range)))
		goto out;
	sqlite3_bind_int64(st, from ? (int)n + 1 : 1, skip);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		err = barge_error_set(BARGE_ENOTFOUND,
				      "sqlite: table '%s' has fewer rows than the "
				      "next chunk", t->name);
		goto out;
	}
	if (rc != SQLITE_ROW) {
		err = sq_fail(c->rd, rc, t->name, "walking the key");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		int type = t->nkey ? t->cols[t->key[i]].type : BARGE_T_INT64;
		const char *name = t->nkey ? t->cols[t->key[i]].name : "rowid";
		err = sq_column_value(st, (int)i, type, &vals[i], &scratch[i]);
		if (!err && vals[i].null)
			err = barge_error_set(BARGE_EDATA,
					      "%s: key column %s holds NULL: chunk "
					      "this table by rowid", t->name, name);
		else if (err == BARGE_EDATA) {
			char found[256];
			sq_describe_found(st, (int)i, found, sizeof found);
			err = barge_error_set(BARGE_EDATA,
					      "%s: key column %s (%s) holds %s",
					      t->name, name, barge_type_name(type),
					      found);
		}
		if (err)
			goto out;
	}
	err = barge_key_new(out, n, vals);
out:
	sqlite3_finalize(st);
	for (size_t i = 0; scratch && i < n; i++)
		barge_buf_dispose(&scratch[i]);
	free(scratch);
	free(vals);
	barge_buf_dispose(&sql);
	return err;
}
