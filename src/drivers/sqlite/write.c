/*
 * Writing batches into a target table (one prepared INSERT per writer),
 * and the deletes that make re-runs idempotent (delete_range, truncate).
 */
#include "sqlite_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SQL_CAP (1u << 20)

/* Rows per multi-row INSERT: one statement step per group of rows saves
 * most of the per-row VDBE overhead (parameters stay well under SQLite's
 * limit of 32766). */
#define MULTI_ROWS 64
#define MULTI_MAX_PARAMS 30000

struct barge_writer {
	sqlite3 *db;
	sqlite3_stmt *st;       /* one row */
	sqlite3_stmt *stn;      /* nmulti rows, or NULL */
	size_t nmulti;
	char *table;
	size_t ncols;           /* batch columns expected */
	enum sq_affinity *aff;  /* target affinity of each batch column */
	char **names;           /* target column name of each batch column */
	size_t nkeyb;           /* batch columns that name a row in messages */
	size_t *keyb;
	int mode;
};

void sq_write_close(struct barge_writer *w)
{
	if (!w)
		return;
	sqlite3_finalize(w->st);
	sqlite3_finalize(w->stn);
	for (size_t i = 0; w->names && i < w->ncols; i++)
		free(w->names[i]);
	free(w->names);
	free(w->aff);
	free(w->keyb);
	free(w->table);
	free(w);
}

/* The declared types of the target as it is on disk: the affinity decides
 * what SQLite would silently change, whatever def the engine passed. */
static int load_affinity(struct barge_writer *w)
{
	struct barge_buf sql;
	sqlite3_stmt *st = NULL;
	int err, rc;

	barge_buf_init(&sql, SQL_CAP);
	barge_buf_adds(&sql, "SELECT name, type FROM pragma_table_info(?)");
	if ((err = sq_prepare(w->db, sql.p, &st, w->table)))
		goto out;
	sqlite3_bind_text(st, 1, w->table, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		const char *type = (const char *)sqlite3_column_text(st, 1);
		for (size_t i = 0; name && i < w->ncols; i++)
			if (strcmp(w->names[i], name) == 0)
				w->aff[i] = sq_affinity_of(type);
	}
	if (rc != SQLITE_DONE)
		err = sq_fail(w->db, rc, w->table, "reading the target's columns");
out:
	sqlite3_finalize(st);
	barge_buf_dispose(&sql);
	return err;
}

/* INSERT INTO t (cols) VALUES (?, ...) x nrows [ON CONFLICT ... DO UPDATE]. */
static int insert_sql(struct barge_buf *sql, const struct barge_writer *w,
		      const struct barge_write_req *req, const char *rowid,
		      size_t nrows)
{
	const struct barge_table_def *t = req->table;
	barge_buf_adds(sql, req->mode == BARGE_MODE_UPSERT && !t->nkey
				    ? "INSERT OR REPLACE INTO "
				    : "INSERT INTO ");
	sq_quote(sql, t->name);
	barge_buf_adds(sql, " (");
	for (size_t i = 0; i < w->ncols; i++) {
		if (i)
			barge_buf_adds(sql, ", ");
		if (req->with_rowid && i == req->ncols)
			barge_buf_adds(sql, rowid);
		else
			sq_quote(sql, w->names[i]);
	}
	barge_buf_adds(sql, ") VALUES ");
	for (size_t r = 0; r < nrows; r++) {
		barge_buf_adds(sql, r ? ", (" : "(");
		for (size_t i = 0; i < w->ncols; i++)
			barge_buf_adds(sql, i ? ", ?" : "?");
		barge_buf_adds(sql, ")");
	}
	if (req->mode == BARGE_MODE_UPSERT && t->nkey) {
		int set = 0;
		barge_buf_adds(sql, " ON CONFLICT (");
		for (size_t k = 0; k < t->nkey; k++) {
			if (k)
				barge_buf_adds(sql, ", ");
			sq_quote(sql, t->cols[t->key[k]].name);
		}
		barge_buf_adds(sql, ") DO ");
		for (size_t i = 0; i < req->ncols; i++) {
			if (t->cols[req->cols[i]].key_pos)
				continue;
			barge_buf_adds(sql, set++ ? ", " : "UPDATE SET ");
			sq_quote(sql, w->names[i]);
			barge_buf_adds(sql, " = excluded.");
			sq_quote(sql, w->names[i]);
		}
		if (!set)
			barge_buf_adds(sql, "NOTHING");
	}
	return sql->err;
}

int sq_write_open(struct barge_writer **out, struct barge_conn *c,
		  const struct barge_write_req *req)
{
	const struct barge_table_def *t = req->table;
	const char *rowid = sq_rowid_name(t);
	struct barge_writer *w = NULL;
	struct barge_buf sql;
	int err = 0;

	*out = NULL;
	barge_buf_init(&sql, SQL_CAP);
	if (req->with_rowid && (err = sq_rowid_check(t, "write")))
		return err;
	if (req->mode == BARGE_MODE_UPSERT && !t->nkey && !req->with_rowid)
		return barge_error_set(BARGE_EUSAGE,
				       "sqlite: table '%s' has no key to upsert on; "
				       "use mode replace or truncate", t->name);
	w = calloc(1, sizeof *w);
	if (!w)
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	w->db = c->db;
	w->mode = req->mode;
	w->ncols = req->ncols + (req->with_rowid ? 1 : 0);
	w->table = strdup(t->name);
	w->aff = calloc(w->ncols + 1, sizeof *w->aff);
	w->names = calloc(w->ncols + 1, sizeof *w->names);
	w->keyb = calloc(t->nkey + 1, sizeof *w->keyb);
	if (!w->table || !w->aff || !w->names || !w->keyb)
		goto nomem;
	for (size_t i = 0; i < req->ncols; i++)
		if (!(w->names[i] = strdup(t->cols[req->cols[i]].name)))
			goto nomem;
	if (req->with_rowid) {
		if (!(w->names[req->ncols] = strdup(rowid)))
			goto nomem;
		w->aff[req->ncols] = SQ_AFF_INTEGER;
	}
	if ((err = barge_write_req_keys(req, "sqlite", w->keyb, &w->nkeyb)))
		goto out;
	if (!t->nkey && req->with_rowid)
		w->keyb[w->nkeyb++] = req->ncols;
	if ((err = load_affinity(w)))
		goto out;

	if ((err = insert_sql(&sql, w, req, rowid, 1)) ||
	    (err = sq_prepare(c->db, sql.p, &w->st, t->name)))
		goto out;
	w->nmulti = MULTI_ROWS;
	while (w->nmulti > 1 && w->nmulti * w->ncols > MULTI_MAX_PARAMS)
		w->nmulti /= 2;
	if (w->nmulti > 1) {
		barge_buf_clear(&sql);
		if ((err = insert_sql(&sql, w, req, rowid, w->nmulti)) ||
		    (err = sq_prepare(c->db, sql.p, &w->stn, t->name)))
			goto out;
	}
	*out = w;
	w = NULL;
	goto out;
nomem:
	err = barge_error_set(BARGE_ENOMEM, "out of memory");
out:
	barge_buf_dispose(&sql);
	sq_write_close(w);
	return err;
}

/* "orders id=17" or "t rowid=5" or "t row 3 of the batch". */
static void row_name(const struct barge_writer *w, const struct barge_batch *b,
		     size_t row, struct barge_buf *out)
{
	barge_buf_printf(out, "%s ", w->table);
	if (!w->nkeyb) {
		barge_buf_printf(out, "row %zu of the batch", row + 1);
		return;
	}
	for (size_t i = 0; i < w->nkeyb; i++) {
		struct barge_value v;
		barge_batch_get(b, w->keyb[i], row, &v);
		barge_buf_printf(out, "%s%s=", i ? ", " : "", w->names[w->keyb[i]]);
		sq_value_text(out, &v);
	}
}

static int row_error(const struct barge_writer *w, const struct barge_batch *b,
		     size_t row, int code, const char *what)
{
	struct barge_buf m;
	barge_buf_init(&m, 2048);
	row_name(w, b, row, &m);
	barge_error_set(code, "%s: %s", m.p ? m.p : w->table, what);
	barge_buf_dispose(&m);
	return code;
}

int sq_write_batch(struct barge_writer *w, const struct barge_batch *b)
{
	char what[768];
	int rc;

	if (b->ncols != w->ncols)
		return barge_error_set(BARGE_EUSAGE,
				       "sqlite: table '%s': a batch of %zu columns "
				       "for a writer of %zu", w->table, b->ncols,
				       w->ncols);
	size_t row = 0;
	/* Whole groups through the multi-row statement. A group that fails
	 * (a value SQLite would alter, a conflict) left nothing behind (the
	 * statement is undone) and goes again row by row, which names the row. */
	while (w->stn && b->nrows - row >= w->nmulti) {
		int ok = 1;
		for (size_t r = 0; ok && r < w->nmulti; r++)
			for (size_t i = 0; ok && i < w->ncols; i++) {
				struct barge_value v;
				const char *why = NULL;
				barge_batch_get(b, i, row + r, &v);
				if (sq_bind_value(w->stn, (int)(r * w->ncols + i) + 1, &v,
						  w->aff[i], 0, &why) != SQLITE_OK)
					ok = 0;
			}
		if (ok) {
			rc = sqlite3_step(w->stn);
			sqlite3_reset(w->stn);
			if (rc == SQLITE_DONE) {
				row += w->nmulti;
				continue;
			}
			if ((rc & 0xff) != SQLITE_CONSTRAINT)
				return sq_fail(w->db, rc, w->table, "inserting");
		}
		sqlite3_clear_bindings(w->stn);
		break;
	}
	for (; row < b->nrows; row++) {
		for (size_t i = 0; i < w->ncols; i++) {
			struct barge_value v;
			const char *why = NULL;
			barge_batch_get(b, i, row, &v);
			rc = sq_bind_value(w->st, (int)i + 1, &v, w->aff[i], 0, &why);
			if (rc < 0) {
				snprintf(what, sizeof what,
					 "column %s (%s) cannot be stored: %s",
					 w->names[i], barge_type_name(v.type), why);
				return row_error(w, b, row, BARGE_EDATA, what);
			}
			if (rc != SQLITE_OK)
				return sq_fail(w->db, rc, w->table, "binding a value");
		}
		rc = sqlite3_step(w->st);
		sqlite3_reset(w->st);
		if (rc == SQLITE_DONE)
			continue;
		if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE ||
		    rc == SQLITE_CONSTRAINT_ROWID) {
			snprintf(what, sizeof what,
				 "the key already exists in the target (%s)",
				 sqlite3_errmsg(w->db));
			return row_error(w, b, row, BARGE_ECONFLICT, what);
		}
		if ((rc & 0xff) == SQLITE_CONSTRAINT) {
			snprintf(what, sizeof what, "rejected by the target: %s",
				 sqlite3_errmsg(w->db));
			return row_error(w, b, row, BARGE_EDATA, what);
		}
		return sq_fail(w->db, rc, w->table, "inserting");
	}
	return 0;
}

static int run_delete(struct barge_conn *c, const struct barge_table_def *t,
		      const struct barge_chunk *chunk)
{
	struct barge_buf sql;
	sqlite3_stmt *st = NULL;
	int err, rc;

	barge_buf_init(&sql, SQL_CAP);
	barge_buf_adds(&sql, "DELETE FROM ");
	sq_quote(&sql, t->name);
	if (chunk) {
		barge_buf_adds(&sql, " WHERE ");
		if ((err = sq_range_sql(&sql, t, chunk)))
			goto out;
	}
	if ((err = sql.err) || (err = sq_prepare(c->db, sql.p, &st, t->name)) ||
	    (err = sq_range_bind(st, 1, t, chunk)))
		goto out;
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		err = sq_fail(c->db, rc, t->name, "deleting");
out:
	sqlite3_finalize(st);
	barge_buf_dispose(&sql);
	return err;
}

int sq_delete_range(struct barge_conn *c, const struct barge_table_def *t,
		    const struct barge_chunk *chunk)
{
	return run_delete(c, t, chunk);
}

int sq_truncate(struct barge_conn *c, const struct barge_table_def *t)
{
	return run_delete(c, t, NULL);
}

/*
 * Lookups (`references` checks, barge_keymap): one prepared "SELECT v
 * FROM t WHERE c = ? [AND e = ?] LIMIT 1" per batch, stepped per row on
 * the writer's connection (inside the chunk's transaction). With an index
 * on the column (a parent's primary key) each probe is a b-tree lookup.
 * The value is bound as it is: SQLite applies the column's affinity to the
 * comparison, so text '42' finds integer 42.
 */
int sq_lookup(struct barge_conn *c, const struct barge_lookup *q,
	      const struct barge_batch *b, size_t col, uint8_t *found,
	      struct barge_batch *out)
{
	struct barge_buf sql;
	sqlite3_stmt *st = NULL;
	int err = 0, rc;

	barge_buf_init(&sql, 1u << 16);
	barge_buf_adds(&sql, "SELECT ");
	if (q->value_column)
		sq_quote(&sql, q->value_column);
	else
		barge_buf_adds(&sql, "1");
	barge_buf_adds(&sql, " FROM ");
	sq_quote(&sql, q->table);
	barge_buf_adds(&sql, " WHERE ");
	sq_quote(&sql, q->column);
	barge_buf_adds(&sql, " = ?");
	if (q->eq_column) {
		barge_buf_adds(&sql, " AND ");
		sq_quote(&sql, q->eq_column);
		barge_buf_adds(&sql, " = ?");
	}
	barge_buf_adds(&sql, " LIMIT 1");
	if ((err = sql.err) || (err = sq_prepare(c->db, sql.p, &st, q->table)))
		goto out;
	if (q->eq_column &&
	    sqlite3_bind_text(st, 2, q->eq_value, -1, SQLITE_STATIC) != SQLITE_OK) {
		err = sq_fail(c->db, SQLITE_ERROR, q->table, "looking up a key");
		goto out;
	}
	for (size_t row = 0; row < b->nrows; row++) {
		struct barge_value v;
		const char *why = NULL;
		found[row] = 0;
		barge_batch_get(b, col, row, &v);
		rc = SQLITE_DONE;
		if (!v.null) {
			if (sq_bind_value(st, 1, &v, SQ_AFF_BLOB, 0, &why) != SQLITE_OK) {
				err = sq_fail(c->db, SQLITE_ERROR, q->table, "looking up a key");
				goto out;
			}
			rc = sqlite3_step(st);
		}
		if (rc == SQLITE_ROW)
			found[row] = 1;
		else if (rc != SQLITE_DONE) {
			err = sq_fail(c->db, rc, q->table, "looking up a key");
			goto out;
		}
		if (q->value_column && out) {
			if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
				err = barge_batch_put_bytes(out, 0, sqlite3_column_text(st, 0),
							    (size_t)sqlite3_column_bytes(st, 0));
			else
				err = barge_batch_put_null(out, 0);
			if (err < 0)
				goto out;
			barge_batch_end_row(out);
		}
		sqlite3_reset(st);
	}
out:
	sqlite3_finalize(st);
	barge_buf_dispose(&sql);
	return err;
}

/*
 * After the data, for the tables barge created: the source's secondary
 * indexes on plain columns whose columns are all in the target under the
 * same name (CREATE [UNIQUE] INDEX IF NOT EXISTS). A name SQLite keeps for
 * itself (sqlite_autoindex_T_N, a UNIQUE constraint's) becomes T_cols_key.
 * Foreign keys: nothing (SQLite's are part of CREATE TABLE).
 */
int sq_finish_tables(struct barge_conn *c, struct barge_conn *src, size_t n,
		     const struct barge_table_def *const *src_defs,
		     const struct barge_table_def *const *dst_defs, int jobs,
		     unsigned what)
{
	struct barge_buf sql, name;
	int err = 0;

	(void)src;
	(void)jobs;
	if (!(what & BARGE_FINISH_TABLE))
		return 0;
	barge_buf_init(&sql, SQL_CAP);
	barge_buf_init(&name, SQL_CAP);
	for (size_t i = 0; i < n && !err; i++) {
		const struct barge_table_def *sd = src_defs[i], *dd = dst_defs[i];
		for (size_t j = 0; j < sd->nindexes && !err; j++) {
			const struct barge_index_def *x = &sd->indexes[j];
			size_t k = 0;
			while (k < x->ncols && barge_table_def_find(dd, x->cols[k]) >= 0)
				k++;
			if (!x->ncols || k < x->ncols)
				continue;
			barge_buf_clear(&name);
			if (strncmp(x->name, "sqlite_", 7) == 0) {
				barge_buf_adds(&name, dd->name);
				for (k = 0; k < x->ncols; k++)
					barge_buf_printf(&name, "_%s", x->cols[k]);
				barge_buf_adds(&name, "_key");
			} else {
				barge_buf_adds(&name, x->name);
			}
			barge_buf_clear(&sql);
			barge_buf_printf(&sql, "CREATE %sINDEX IF NOT EXISTS ",
					 x->unique ? "UNIQUE " : "");
			sq_quote(&sql, name.p ? name.p : "");
			barge_buf_adds(&sql, " ON ");
			sq_quote(&sql, dd->name);
			barge_buf_adds(&sql, " (");
			for (k = 0; k < x->ncols; k++) {
				if (k)
					barge_buf_adds(&sql, ", ");
				sq_quote(&sql, x->cols[k]);
			}
			barge_buf_adds(&sql, ")");
			if (!(err = name.err) && !(err = sql.err))
				err = sq_exec(c->db, sql.p, dd->name);
		}
	}
	barge_buf_dispose(&sql);
	barge_buf_dispose(&name);
	return err;
}
