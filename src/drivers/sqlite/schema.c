/*
 * Schema: list tables, describe one (columns, key, rowid, foreign keys),
 * count rows, create a target table, and audit a table's values.
 */
#include "sqlite_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SQL_CAP (1u << 20)

int sq_list_tables(struct barge_conn *c, char ***names)
{
	sqlite3_stmt *st = NULL;
	char **v = NULL;
	size_t n = 0, cap = 0;
	int err = 0, rc;

	*names = NULL;
	if ((err = sq_prepare(c->rd,
			      "SELECT name FROM sqlite_schema WHERE type = 'table' "
			      "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
			      "ORDER BY name COLLATE BINARY",
			      &st, NULL)))
		return err;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char **nv = barge_grow(v, &cap, n + 1, sizeof *nv, 16);
		if (!nv)
			goto nomem;
		v = nv;
		if (!(v[n] = strdup((const char *)sqlite3_column_text(st, 0))))
			goto nomem;
		v[++n] = NULL;
	}
	if (rc != SQLITE_DONE) {
		err = sq_fail(c->rd, rc, NULL, "listing tables");
		goto out;
	}
	if (!v && !(v = calloc(1, sizeof *v)))
		goto nomem;
	*names = v;
	v = NULL;
	goto out;
nomem:
	err = barge_error_set(BARGE_ENOMEM, "out of memory");
out:
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
	sqlite3_finalize(st);
	return err;
}

/* Column i as text, "" for NULL; valid until the next step. */
static const char *col_text(sqlite3_stmt *st, int i)
{
	const char *s = (const char *)sqlite3_column_text(st, i);
	return s ? s : "";
}

static char *dup_text(sqlite3_stmt *st, int i, int *err)
{
	const char *s = (const char *)sqlite3_column_text(st, i);
	char *d = strdup(s ? s : "");
	if (!d)
		*err = barge_error_set(BARGE_ENOMEM, "out of memory");
	return d;
}

/* The primary key column names of `table`, in key order (for a foreign
 * key that names no parent columns). NULL entries when unknown. */
static int parent_key(sqlite3 *db, const char *table, char **out, size_t n)
{
	sqlite3_stmt *st = NULL;
	int err = 0;
	if ((err = sq_prepare(db, "SELECT name, pk FROM pragma_table_info(?) "
				  "WHERE pk > 0", &st, table)))
		return err;
	sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	while (!err && sqlite3_step(st) == SQLITE_ROW) {
		int pk = sqlite3_column_int(st, 1);
		if (pk >= 1 && (size_t)pk <= n && !out[pk - 1])
			out[pk - 1] = dup_text(st, 0, &err);
	}
	sqlite3_finalize(st);
	return err;
}

static int load_fks(sqlite3 *db, struct barge_table_def *t)
{
	sqlite3_stmt *st = NULL;
	int err, rc;

	if ((err = sq_prepare(db, "SELECT id, seq, \"table\", \"from\", \"to\" "
				  "FROM pragma_foreign_key_list(?) ORDER BY id, seq",
			      &st, t->name)))
		return err;
	sqlite3_bind_text(st, 1, t->name, -1, SQLITE_STATIC);
	int64_t last = -1;
	while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);
		if (id != last && (err = barge_table_def_add_fk(t, col_text(st, 2))))
			break;
		last = id;
		/* no parent column: the parent's primary key, found below */
		err = barge_table_def_add_fk_col(t, col_text(st, 3),
						 sqlite3_column_type(st, 4) == SQLITE_NULL
							 ? NULL : col_text(st, 4));
	}
	if (!err && rc != SQLITE_DONE)
		err = sq_fail(db, rc, t->name, "reading foreign keys");
	sqlite3_finalize(st);
	/* No parent column list means the parent's primary key. */
	for (size_t i = 0; !err && i < t->nfks; i++) {
		struct barge_fk_def *f = &t->fks[i];
		if (f->ref_cols[0])
			continue;
		err = parent_key(db, f->ref_table, f->ref_cols, f->ncols);
		for (size_t k = 0; !err && k < f->ncols; k++)
			if (!f->ref_cols[k] && !(f->ref_cols[k] = strdup("rowid")))
				err = barge_error_set(BARGE_ENOMEM, "out of memory");
	}
	return err;
}

static void index_drop_last(struct barge_table_def *t)
{
	struct barge_index_def *p = &t->indexes[--t->nindexes];
	free(p->name);
	for (size_t k = 0; k < p->ncols; k++)
		free(p->cols[k]);
	free(p->cols);
}

/* Secondary indexes on plain columns (from CREATE INDEX or UNIQUE, not
 * the primary key's, not partial, none on an expression). */
static int load_indexes(sqlite3 *db, struct barge_table_def *t)
{
	sqlite3_stmt *st = NULL;
	int err, rc = SQLITE_DONE, skip = 0;
	const char *last = NULL;

	if ((err = sq_prepare(db, "SELECT l.name, l.\"unique\", i.name "
				  "FROM pragma_index_list(?) l, "
				  "pragma_index_info(l.name) i "
				  "WHERE l.origin <> 'pk' AND l.partial = 0 "
				  "ORDER BY l.name, i.seqno",
			      &st, t->name)))
		return err;
	sqlite3_bind_text(st, 1, t->name, -1, SQLITE_STATIC);
	while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		if (!name)
			continue;
		if (!last || strcmp(last, name) != 0) {
			if (skip) /* the previous one had an expression */
				index_drop_last(t);
			skip = 0;
			if ((err = barge_table_def_add_index(t, name,
							     sqlite3_column_int(st, 1) != 0)))
				break;
			last = t->indexes[t->nindexes - 1].name;
		}
		if (sqlite3_column_type(st, 2) == SQLITE_NULL)
			skip = 1;
		else
			err = barge_table_def_add_index_col(t, col_text(st, 2));
	}
	if (!err && rc != SQLITE_DONE)
		err = sq_fail(db, rc, t->name, "reading indexes");
	if (!err && skip)
		index_drop_last(t);
	sqlite3_finalize(st);
	return err;
}

int sq_describe(struct barge_conn *c, const char *table,
		struct barge_table_def **out)
{
	struct barge_table_def *t = NULL;
	sqlite3_stmt *st = NULL;
	int err = 0, rc, kind = 0, without_rowid = 0;

	*out = NULL;
	/* pragma table_list: is it a table or a view, and WITHOUT ROWID? */
	if ((err = sq_prepare(c->rd, "SELECT type, wr FROM pragma_table_list(?) "
				     "WHERE schema = 'main'", &st, table)))
		return err;
	sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *type = (const char *)sqlite3_column_text(st, 0);
		kind = type && strcmp(type, "table") == 0 ? 1
		       : type && strcmp(type, "view") == 0 ? 2 : 0;
		without_rowid = sqlite3_column_int(st, 1);
	} else if (rc != SQLITE_DONE) {
		err = sq_fail(c->rd, rc, table, "describing");
	}
	sqlite3_finalize(st);
	st = NULL;
	if (err)
		return err;
	if (!kind)
		return barge_error_set(BARGE_ENOTFOUND, "no table '%s' in %s", table,
				       c->path);

	t = calloc(1, sizeof *t);
	if (!t || !(t->name = strdup(table)))
		goto nomem;
	t->rows = -1;
	t->has_rowid = kind == 1 && !without_rowid;
	if ((err = sq_prepare(c->rd, "SELECT name, type, \"notnull\", pk "
				     "FROM pragma_table_info(?) ORDER BY cid",
			      &st, table)))
		goto out;
	sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct barge_column_def *nc =
			realloc(t->cols, (t->ncols + 1) * sizeof *nc);
		if (!nc)
			goto nomem;
		t->cols = nc;
		struct barge_column_def *cd = &t->cols[t->ncols++];
		memset(cd, 0, sizeof *cd);
		cd->name = dup_text(st, 0, &err);
		cd->engine_type = dup_text(st, 1, &err);
		if (err)
			goto out;
		sq_map_type(cd->engine_type, &cd->type, &cd->precision, &cd->scale);
		cd->notnull = sqlite3_column_int(st, 2) != 0;
		cd->key_pos = sqlite3_column_int(st, 3);
		if (cd->key_pos)
			t->nkey++;
	}
	if (rc != SQLITE_DONE) {
		err = sq_fail(c->rd, rc, table, "reading columns");
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (t->nkey) {
		if (!(t->key = calloc(t->nkey, sizeof *t->key)))
			goto nomem;
		for (size_t i = 0; i < t->ncols; i++)
			if (t->cols[i].key_pos >= 1 &&
			    (size_t)t->cols[i].key_pos <= t->nkey)
				t->key[t->cols[i].key_pos - 1] = i;
	}
	/* An INTEGER PRIMARY KEY is the rowid: never NULL. A WITHOUT ROWID
	 * table enforces NOT NULL on its key. */
	for (size_t k = 0; k < t->nkey; k++) {
		struct barge_column_def *cd = &t->cols[t->key[k]];
		if ((t->nkey == 1 && t->has_rowid &&
		     strcasecmp(cd->engine_type, "INTEGER") == 0) ||
		    without_rowid)
			cd->notnull = 1;
	}
	if ((err = load_fks(c->rd, t)) || (err = load_indexes(c->rd, t)))
		goto out;

	if (!t->nkey && t->has_rowid)
		err = barge_table_def_warn(t, "no primary key: chunked by rowid");
	else if (!t->nkey)
		err = barge_table_def_warn(t, "no primary key and no rowid: read "
					      "in one chunk");
	for (size_t k = 0; !err && k < t->nkey; k++)
		if (!t->cols[t->key[k]].notnull)
			err = barge_table_def_warn(t, "key column %s may hold NULL",
						   t->cols[t->key[k]].name);
	for (size_t i = 0; !err && i < t->ncols; i++)
		if (t->cols[i].type == BARGE_T_ANY && t->cols[i].engine_type[0])
			err = barge_table_def_warn(
				t, "column %s: declared type '%s' has no logical "
				   "type: values keep their storage class (any)",
				t->cols[i].name, t->cols[i].engine_type);
	if (err)
		goto out;
	*out = t;
	t = NULL;
	goto out;
nomem:
	err = barge_error_set(BARGE_ENOMEM, "out of memory");
out:
	sqlite3_finalize(st);
	barge_table_def_free(t);
	return err;
}

int sq_count_rows(struct barge_conn *c, const struct barge_table_def *t,
		  const char *where, int64_t *out)
{
	struct barge_buf sql;
	sqlite3_stmt *st = NULL;
	int err, rc;

	barge_buf_init(&sql, SQL_CAP);
	if ((err = barge_sql_count(&sql, SQ_SQL, NULL, t->name, where)) ||
	    (err = sq_prepare(c->rd, sql.p, &st, t->name)))
		goto out;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	else
		err = sq_fail(c->rd, rc, t->name, "counting rows");
out:
	sqlite3_finalize(st);
	barge_buf_dispose(&sql);
	return err;
}

int sq_aggregate(struct barge_conn *c, const struct barge_table_def *t,
		 const char *agg, int distinct, const char *column,
		 const char *where, char **out)
{
	struct barge_buf sql;
	sqlite3_stmt *st = NULL;
	int err, rc;

	*out = NULL;
	barge_buf_init(&sql, SQL_CAP);
	if ((err = barge_sql_aggregate(&sql, SQ_SQL, NULL, t->name, agg, distinct,
				       column, where)) ||
	    (err = sq_prepare(c->rd, sql.p, &st, t->name)))
		goto out;
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		err = sq_fail(c->rd, rc, t->name, "computing an invariant");
		goto out;
	}
	if (sqlite3_column_type(st, 0) != SQLITE_NULL &&
	    !(*out = strdup((const char *)sqlite3_column_text(st, 0))))
		err = barge_error_set(BARGE_ENOMEM, "out of memory");
out:
	sqlite3_finalize(st);
	barge_buf_dispose(&sql);
	return err;
}

int sq_create_table(struct barge_conn *c, const struct barge_table_def *t)
{
	struct barge_buf sql;
	int err;

	barge_buf_init(&sql, SQL_CAP);
	barge_buf_adds(&sql, "CREATE TABLE IF NOT EXISTS ");
	sq_quote(&sql, t->name);
	barge_buf_adds(&sql, " (");
	for (size_t i = 0; i < t->ncols; i++) {
		const struct barge_column_def *cd = &t->cols[i];
		size_t before;
		if (i)
			barge_buf_adds(&sql, ", ");
		sq_quote(&sql, cd->name);
		barge_buf_adds(&sql, " ");
		before = sql.len;
		if ((err = sq_create_type(&sql, cd)))
			goto out;
		if (sql.len == before) /* no declared type: drop the blank */
			sql.len--;
		if (cd->notnull)
			barge_buf_adds(&sql, " NOT NULL");
	}
	if (t->nkey) {
		barge_buf_adds(&sql, ", PRIMARY KEY (");
		for (size_t k = 0; k < t->nkey; k++) {
			if (k)
				barge_buf_adds(&sql, ", ");
			sq_quote(&sql, t->cols[t->key[k]].name);
		}
		barge_buf_adds(&sql, ")");
	}
	barge_buf_adds(&sql, ")");
	if ((err = sql.err))
		goto out;
	err = sq_exec(c->db, sql.p, t->name);
out:
	barge_buf_dispose(&sql);
	return err;
}

/* ---- Audit ---------------------------------------------------------------- */

static const char *const class_names[] = {"?", "INTEGER", "REAL", "TEXT",
					  "BLOB", "NULL"};

struct col_audit {
	int64_t bad[6];   /* by storage class */
	char example[6][160];
	int64_t bad_utf8;
	int64_t key_nulls;
};

int sq_audit(struct barge_conn *c, struct barge_table_def *t)
{
	struct barge_buf sql, scratch;
	struct col_audit *a = NULL;
	sqlite3_stmt *st = NULL;
	int err = 0, rc;

	barge_buf_init(&sql, SQL_CAP);
	barge_buf_init(&scratch, 64u << 20);
	if (!t->ncols)
		goto out;
	if (!(a = calloc(t->ncols, sizeof *a))) {
		err = barge_error_set(BARGE_ENOMEM, "out of memory");
		goto out;
	}
	barge_buf_adds(&sql, "SELECT ");
	for (size_t i = 0; i < t->ncols; i++) {
		if (i)
			barge_buf_adds(&sql, ", ");
		sq_quote(&sql, t->cols[i].name);
	}
	barge_buf_adds(&sql, " FROM ");
	sq_quote(&sql, t->name);
	if ((err = sql.err) || (err = sq_prepare(c->rd, sql.p, &st, t->name)))
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		for (size_t i = 0; i < t->ncols; i++) {
			struct barge_value v;
			int ct = sqlite3_column_type(st, (int)i);
			if (ct == SQLITE_NULL) {
				if (t->cols[i].key_pos)
					a[i].key_nulls++;
				continue;
			}
			int e = sq_column_value(st, (int)i, t->cols[i].type, &v,
						&scratch);
			if (e == BARGE_EDATA) {
				if (a[i].bad[ct]++ == 0) {
					struct barge_buf ex;
					barge_buf_init(&ex, sizeof a[i].example[ct]);
					sq_raw_text(&ex, st, (int)i);
					snprintf(a[i].example[ct],
						 sizeof a[i].example[ct], "%s",
						 ex.p ? ex.p : "");
					barge_buf_dispose(&ex);
				}
			} else if (e) {
				err = e;
				goto out;
			}
			if (ct == SQLITE_TEXT &&
			    !barge_utf8_valid((const char *)sqlite3_column_text(st, (int)i),
					      (size_t)sqlite3_column_bytes(st, (int)i)))
				a[i].bad_utf8++;
		}
	}
	if (rc != SQLITE_DONE) {
		err = sq_fail(c->rd, rc, t->name, "auditing");
		goto out;
	}
	for (size_t i = 0; !err && i < t->ncols; i++) {
		const struct barge_column_def *cd = &t->cols[i];
		for (int ct = 1; !err && ct <= 4; ct++)
			if (a[i].bad[ct])
				err = barge_table_def_warn(
					t, "column %s (%s->%s): %lld %s values that "
					   "do not fit, e.g. %s",
					cd->name, cd->engine_type[0] ? cd->engine_type : "no type",
					barge_type_name(cd->type),
					(long long)a[i].bad[ct], class_names[ct],
					a[i].example[ct]);
		if (!err && a[i].bad_utf8)
			err = barge_table_def_warn(t, "column %s: %lld TEXT values "
						      "that are not valid UTF-8",
						   cd->name, (long long)a[i].bad_utf8);
		if (!err && a[i].key_nulls)
			err = barge_table_def_warn(t, "key column %s: %lld NULLs: "
						      "chunk this table by rowid",
						   cd->name, (long long)a[i].key_nulls);
	}
	/* Duplicate rows make a keyless table ambiguous to verify. */
	if (!err && !t->nkey) {
		sqlite3_finalize(st);
		st = NULL;
		barge_buf_clear(&sql);
		barge_buf_adds(&sql, "SELECT count(*) FROM (SELECT 1 FROM ");
		sq_quote(&sql, t->name);
		barge_buf_adds(&sql, " GROUP BY ");
		barge_sql_columns(&sql, SQ_SQL, t, NULL, t->ncols, NULL);
		barge_buf_adds(&sql, " HAVING count(*) > 1)");
		if ((err = sql.err) || (err = sq_prepare(c->rd, sql.p, &st, t->name)))
			goto out;
		rc = sqlite3_step(st);
		if (rc != SQLITE_ROW)
			err = sq_fail(c->rd, rc, t->name, "counting duplicates");
		else if (sqlite3_column_int64(st, 0) > 0)
			err = barge_table_def_warn(t, "%lld distinct rows appear more "
						      "than once (no key)",
						   (long long)sqlite3_column_int64(st, 0));
	}
out:
	sqlite3_finalize(st);
	free(a);
	barge_buf_dispose(&scratch);
	barge_buf_dispose(&sql);
	return err;
}
