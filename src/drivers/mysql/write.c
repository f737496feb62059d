/*
 * Writing. Each batch is one `LOAD DATA LOCAL INFILE` whose "file" is the
 * batch, encoded in memory and handed to the client library through
 * mysql_set_local_infile_handler: no file, no extra copy. Upsert, and any
 * write once the server refused local_infile (with one notice), go as
 * multi-row `INSERT` statements (`... ON DUPLICATE KEY UPDATE` for
 * upsert). Values MySQL would round or clip are refused here or, for
 * LOAD DATA (whose LOCAL form turns errors into warnings), by reading the
 * warnings back: any warning fails the batch with its message.
 * Also the deletes that make re-runs idempotent (delete_range, truncate).
 */
#include "my_int.h"

#include <errmsg.h>
#include <inttypes.h>
#include <math.h>
#include <mysqld_error.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INSERT_FLUSH (4u << 20)
#define OUT_CAP ((size_t)2 * BARGE_BATCH_HARD_BYTES)

struct wcol {
	char *name;
	enum my_kind kind;
	int scale;        /* decimal(p,s): s */
	int convert;      /* a text column of another charset: via a variable */
};

struct barge_writer {
	struct barge_conn *c;
	const struct barge_table_def *t;
	size_t ncols;
	struct wcol *cols;
	int mode;
	struct barge_buf load_sql; /* the LOAD DATA statement */
	struct barge_buf out;      /* the batch as LOAD DATA's input */
	size_t sent;               /* bytes of `out` the server has read */
};

void my_write_close(struct barge_writer *w)
{
	if (!w)
		return;
	for (size_t i = 0; w->cols && i < w->ncols; i++)
		free(w->cols[i].name);
	free(w->cols);
	barge_buf_dispose(&w->load_sql);
	barge_buf_dispose(&w->out);
	free(w);
}

/* The target's own column types (whatever definition the engine passed). */
static int load_columns(struct barge_writer *w, const struct barge_write_req *req)
{
	struct barge_conn *c = w->c;
	struct barge_buf sql;
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	int err;

	barge_buf_init(&sql, 1 << 16);
	barge_buf_adds(&sql, "SELECT COLUMN_NAME, COLUMN_TYPE, COLUMN_COMMENT, "
		       "CHARACTER_SET_NAME, NUMERIC_SCALE FROM "
		       "information_schema.COLUMNS WHERE TABLE_SCHEMA = ");
	my_quote_lit(&sql, c->db, strlen(c->db));
	barge_buf_adds(&sql, " AND TABLE_NAME = ");
	my_quote_lit(&sql, w->t->name, strlen(w->t->name));
	if ((err = sql.err) || (err = my_query(c, sql.p, w->t->name, &res)))
		goto out;
	for (size_t i = 0; i < req->ncols; i++) {
		struct wcol *wc = &w->cols[i];
		const char *cname = w->t->cols[req->cols[i]].name;
		int type, p, s, found = 0;
		mysql_data_seek(res, 0);
		while (!found && (row = mysql_fetch_row(res))) {
			if (strcmp(row[0], cname) != 0)
				continue;
			found = 1;
			my_map_type(row[1], row[2], 0, &type, &p, &s, &wc->kind);
			wc->scale = row[4] ? (int)strtol(row[4], NULL, 10) : -1;
			wc->convert = wc->kind == MYK_TEXT && row[3] &&
				      strcmp(row[3], "utf8mb4") != 0;
		}
		if (!found) {
			err = barge_error_set(BARGE_ENOTFOUND, "mysql: table '%s' has no "
					      "column %s", w->t->name, cname);
			goto out;
		}
		if (wc->kind == MYK_GEOMETRY) {
			err = barge_error_set(BARGE_EUSAGE, "mysql: table '%s': column %s "
					      "is a geometry, which barge does not "
					      "write yet", w->t->name, cname);
			goto out;
		}
		if (!(wc->name = strdup(cname))) {
			err = barge_error_set(BARGE_ENOMEM, "out of memory");
			goto out;
		}
	}
out:
	mysql_free_result(res);
	barge_buf_dispose(&sql);
	return err;
}

/* LOAD DATA LOCAL INFILE ... (cols) SET ...: tab-separated, backslash
 * escapes, \N for NULL, bytes as they are (CHARACTER SET binary). */
static int load_statement(struct barge_writer *w)
{
	struct barge_buf *s = &w->load_sql;
	int any_set = 0;

	barge_buf_adds(s, "LOAD DATA LOCAL INFILE 'barge' INTO TABLE ");
	my_table(s, w->c, w->t->name);
	barge_buf_adds(s, " CHARACTER SET binary FIELDS TERMINATED BY X'09' "
		       "ESCAPED BY X'5c' LINES TERMINATED BY X'0a' (");
	for (size_t i = 0; i < w->ncols; i++) {
		const struct wcol *wc = &w->cols[i];
		if (i)
			barge_buf_adds(s, ", ");
		if (wc->convert || wc->kind == MYK_BIT || wc->kind == MYK_BOOL)
			barge_buf_printf(s, "@v%zu", i);
		else
			my_quote(s, wc->name);
	}
	barge_buf_adds(s, ")");
	for (size_t i = 0; i < w->ncols; i++) {
		const struct wcol *wc = &w->cols[i];
		if (!wc->convert && wc->kind != MYK_BIT && wc->kind != MYK_BOOL)
			continue;
		barge_buf_adds(s, any_set++ ? ", " : " SET ");
		my_quote(s, wc->name);
		if (wc->convert)
			barge_buf_printf(s, " = CONVERT(@v%zu USING utf8mb4)", i);
		else /* bit(n) as hex digits, booleans as 0/1 */
			barge_buf_printf(s, " = IF(@v%zu IS NULL, NULL, CAST(CONV(@v%zu, "
					 "%d, 10) AS UNSIGNED))", i, i,
					 wc->kind == MYK_BIT ? 16 : 10);
	}
	return s->err;
}

int my_write_open(struct barge_writer **out, struct barge_conn *c,
		  const struct barge_write_req *req)
{
	const struct barge_table_def *t = req->table;
	struct barge_writer *w = NULL;
	int err;

	*out = NULL;
	if (req->with_rowid)
		return barge_error_set(BARGE_EUSAGE, "mysql: table '%s' has no row "
				       "address to write", t->name);
	if (req->mode == BARGE_MODE_UPSERT && !t->nkey)
		return barge_error_set(BARGE_EUSAGE, "mysql: table '%s' has no primary "
				       "key to upsert on; use mode replace or "
				       "truncate", t->name);
	if (!(w = calloc(1, sizeof *w)) ||
	    !(w->cols = calloc(req->ncols + 1, sizeof *w->cols))) {
		free(w);
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	}
	barge_buf_init(&w->load_sql, MY_SQL_CAP);
	barge_buf_init(&w->out, OUT_CAP);
	w->c = c;
	w->t = t;
	w->mode = req->mode;
	w->ncols = req->ncols;
	if ((err = load_columns(w, req)) || (err = load_statement(w)))
		goto out;
	*out = w;
	w = NULL;
out:
	my_write_close(w);
	return err;
}

/* ---- Values ------------------------------------------------------------------- */

/* Is the value one the target column holds exactly? (What the server
 * would change without an error: a double into a float, more decimal
 * places than the scale.) */
static int check(const struct barge_writer *w, size_t i, const struct barge_value *v)
{
	const struct wcol *wc = &w->cols[i];
	if (v->null)
		return 0;
	if (v->type == BARGE_T_FLOAT64) {
		if (!isfinite(v->f) || (v->f == 0 && signbit(v->f)))
			return barge_error_set(BARGE_EDATA, "mysql: table '%s': column "
					       "%s: MySQL holds no NaN, Infinity or -0",
					       w->t->name, wc->name);
		if (wc->kind == MYK_FLOAT && (double)(float)v->f != v->f)
			return barge_error_set(BARGE_EDATA, "mysql: table '%s': column "
					       "%s is a float: %.17g would be rounded",
					       w->t->name, wc->name, v->f);
	}
	if (v->type == BARGE_T_DECIMAL && wc->kind != MYK_DECTEXT) {
		const char *dot = memchr(v->p, '.', v->n);
		size_t places = dot ? v->n - (size_t)(dot - v->p) - 1 : 0;
		if (v->n && !strchr("-0123456789", v->p[0]))
			return barge_error_set(BARGE_EDATA, "mysql: table '%s': column "
					       "%s: MySQL holds no decimal '%.*s'",
					       w->t->name, wc->name, (int)v->n, v->p);
		if (wc->scale >= 0 && places > (size_t)wc->scale)
			return barge_error_set(BARGE_EDATA, "mysql: table '%s': column "
					       "%s keeps %d places: %.*s would be "
					       "rounded", w->t->name, wc->name,
					       wc->scale, (int)(v->n > 60 ? 60 : v->n),
					       v->p);
	}
	return 0;
}

/* One field of LOAD DATA's input: backslash escapes for the bytes that
 * mean something (tab, newline, backslash, NUL, CR). */
static void field(struct barge_buf *b, const char *p, size_t n)
{
	size_t run = 0;
	for (size_t i = 0; i < n; i++) {
		const char *esc = NULL;
		switch (p[i]) {
		case '\t': esc = "\\t"; break;
		case '\n': esc = "\\n"; break;
		case '\r': esc = "\\r"; break;
		case '\\': esc = "\\\\"; break;
		case '\0': esc = "\\0"; break;
		default: continue;
		}
		barge_buf_add(b, p + run, i - run);
		barge_buf_add(b, esc, 2);
		run = i + 1;
	}
	barge_buf_add(b, p + run, n - run);
}

static int encode_value(struct barge_writer *w, size_t i, const struct barge_value *v)
{
	struct barge_buf *b = &w->out;
	const struct wcol *wc = &w->cols[i];
	char tmp[64];
	int err;

	if ((err = check(w, i, v)))
		return err;
	if (v->null)
		return barge_buf_adds(b, "\\N");
	switch (v->type) {
	case BARGE_T_BOOL:
	case BARGE_T_INT64:
		return barge_buf_printf(b, "%" PRId64, v->i);
	case BARGE_T_FLOAT64:
		snprintf(tmp, sizeof tmp, "%.17g", v->f);
		return barge_buf_adds(b, tmp);
	case BARGE_T_BYTES:
		if (wc->kind == MYK_BIT) {
			char h[3];
			if (!v->n)
				return barge_buf_adds(b, "0");
			for (size_t k = 0; k < v->n; k++) {
				barge_hex_encode(h, v->p + k, 1);
				barge_buf_add(b, h, 2);
			}
			return b->err;
		}
		/* fall through */
	case BARGE_T_DECIMAL:
	case BARGE_T_TEXT:
	case BARGE_T_JSON:
	case BARGE_T_UUID:
		field(b, v->p, v->n);
		return b->err;
	case BARGE_T_DATE:
	case BARGE_T_TIME:
	case BARGE_T_TIMESTAMP:
	case BARGE_T_TIMESTAMPTZ: {
		struct barge_buf lit;
		barge_buf_init(&lit, 128);
		err = my_literal(&lit, v);
		if (!err) /* without the quotes */
			barge_buf_add(b, lit.p + 1, lit.len - 2);
		barge_buf_dispose(&lit);
		if (err)
			return barge_error_wrap(err, "mysql: table '%s': column %s",
						w->t->name, wc->name);
		return b->err;
	}
	default:
		return barge_error_set(BARGE_EDATA, "mysql: table '%s': column %s: "
				       "cannot write a %s value", w->t->name, wc->name,
				       barge_type_name(v->type));
	}
}

/* ---- LOAD DATA LOCAL from memory ---------------------------------------------- */

static int infile_init(void **ptr, const char *name, void *arg)
{
	struct barge_writer *w = arg;
	w->sent = 0;
	*ptr = w;
	return 0;
}

static int infile_read(void *ptr, char *buf, unsigned int len)
{
	struct barge_writer *w = ptr;
	size_t n = w->out.len - w->sent;
	if (n > len)
		n = len;
	memcpy(buf, w->out.p + w->sent, n);
	w->sent += n;
	return (int)n;
}

static void infile_end(void *ptr)
{
}

static int infile_error(void *ptr, char *msg, unsigned int len)
{
	snprintf(msg, len, "barge: no data");
	return 1;
}

/* The first warning of the last statement as the batch's error. */
static int warnings_fail(struct barge_writer *w)
{
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	int err = my_query(w->c, "SHOW WARNINGS LIMIT 1", w->t->name, &res);
	if (err)
		return err;
	if ((row = mysql_fetch_row(res)))
		err = barge_error_set(my_errcode((unsigned)strtoul(row[1], NULL, 10)) ==
					      BARGE_ECONFLICT ? BARGE_ECONFLICT
							      : BARGE_EDATA,
				      "mysql: table '%s': %s [%s]", w->t->name,
				      row[2], row[1]);
	else
		err = barge_error_set(BARGE_EDATA, "mysql: table '%s': the load "
				      "gave a warning", w->t->name);
	mysql_free_result(res);
	return err;
}

static int is_infile_refused(unsigned e)
{
	return e == ER_NOT_ALLOWED_COMMAND || e == CR_UNKNOWN_ERROR ||
	       e == 2068 /* CR_LOAD_DATA_LOCAL_INFILE_REJECTED */ ||
	       e == 3948 /* loading local data is disabled (MySQL 8) */ ||
	       e == 4166 /* local_infile capability disabled (MariaDB) */;
}

/* 1: the server refused LOAD DATA LOCAL (go on with INSERT); 0: loaded. */
static int load_batch(struct barge_writer *w, const struct barge_batch *b,
		      int *refused)
{
	struct barge_conn *c = w->c;
	int err = 0;

	*refused = 0;
	barge_buf_clear(&w->out);
	for (size_t r = 0; r < b->nrows; r++) {
		for (size_t i = 0; i < w->ncols; i++) {
			struct barge_value v;
			barge_batch_get(b, i, r, &v);
			if (i)
				barge_buf_add(&w->out, "\t", 1);
			if ((err = encode_value(w, i, &v)))
				return err;
		}
		barge_buf_add(&w->out, "\n", 1);
	}
	if ((err = w->out.err))
		return err;
	mysql_set_local_infile_handler(c->my, infile_init, infile_read, infile_end,
				       infile_error, w);
	if (mysql_real_query(c->my, w->load_sql.p, w->load_sql.len) != 0) {
		unsigned e = mysql_errno(c->my);
		if (is_infile_refused(e) && mysql_ping(c->my) == 0) {
			*refused = 1;
			return 0;
		}
		return my_fail(c, w->t->name, "LOAD DATA");
	}
	if (mysql_warning_count(c->my))
		return warnings_fail(w);
	if (mysql_affected_rows(c->my) != (my_ulonglong)b->nrows)
		return barge_error_set(BARGE_ERROR, "mysql: table '%s': LOAD DATA "
				       "wrote %llu rows of %zu", w->t->name,
				       (unsigned long long)mysql_affected_rows(c->my),
				       b->nrows);
	return 0;
}

/* ---- Multi-row INSERT --------------------------------------------------------- */

static int insert_head(struct barge_writer *w, struct barge_buf *s)
{
	barge_buf_clear(s);
	barge_buf_adds(s, "INSERT INTO ");
	my_table(s, w->c, w->t->name);
	barge_buf_adds(s, " (");
	for (size_t i = 0; i < w->ncols; i++) {
		if (i)
			barge_buf_adds(s, ", ");
		my_quote(s, w->cols[i].name);
	}
	return barge_buf_adds(s, ") VALUES ");
}

static int insert_send(struct barge_writer *w, struct barge_buf *s)
{
	int nonkey = 0;
	if (w->mode == BARGE_MODE_UPSERT) {
		barge_buf_adds(s, " ON DUPLICATE KEY UPDATE ");
		for (size_t i = 0; i < w->ncols; i++) {
			if (w->t->cols[barge_table_def_find(w->t, w->cols[i].name)].key_pos)
				continue;
			barge_buf_adds(s, nonkey++ ? ", " : "");
			my_quote(s, w->cols[i].name);
			barge_buf_adds(s, " = VALUES(");
			my_quote(s, w->cols[i].name);
			barge_buf_adds(s, ")");
		}
		if (!nonkey) { /* only key columns: nothing to merge */
			my_quote(s, w->cols[0].name);
			barge_buf_adds(s, " = ");
			my_quote(s, w->cols[0].name);
		}
	}
	if (s->err)
		return s->err;
	if (mysql_real_query(w->c->my, s->p, s->len) != 0)
		return my_fail(w->c, w->t->name, "INSERT");
	if (mysql_warning_count(w->c->my))
		return warnings_fail(w);
	return 0;
}

static int insert_batch(struct barge_writer *w, const struct barge_batch *b)
{
	struct barge_buf s;
	size_t rows = 0;
	int err = 0;

	barge_buf_init(&s, MY_SQL_CAP);
	insert_head(w, &s);
	for (size_t r = 0; r < b->nrows && !err; r++) {
		barge_buf_adds(&s, rows++ ? ", (" : "(");
		for (size_t i = 0; i < w->ncols && !err; i++) {
			struct barge_value v;
			barge_batch_get(b, i, r, &v);
			if (i)
				barge_buf_adds(&s, ", ");
			if ((err = check(w, i, &v)))
				break;
			if (v.type == BARGE_T_BYTES && w->cols[i].kind == MYK_BIT && !v.null)
				barge_buf_adds(&s, "CAST(");
			if ((err = my_literal(&s, &v)))
				err = barge_error_wrap(err, "mysql: table '%s': column %s",
						       w->t->name, w->cols[i].name);
			if (v.type == BARGE_T_BYTES && w->cols[i].kind == MYK_BIT && !v.null)
				barge_buf_adds(&s, " AS UNSIGNED)");
		}
		barge_buf_adds(&s, ")");
		if (!err && s.len >= INSERT_FLUSH) {
			err = insert_send(w, &s);
			insert_head(w, &s);
			rows = 0;
		}
	}
	if (!err && rows)
		err = insert_send(w, &s);
	barge_buf_dispose(&s);
	return err;
}

int my_write_batch(struct barge_writer *w, const struct barge_batch *b)
{
	int refused = 0, err;
	if (b->ncols != w->ncols)
		return barge_error_set(BARGE_EUSAGE, "mysql: table '%s': a batch of %zu "
				       "columns for a write of %zu", w->t->name,
				       b->ncols, w->ncols);
	if (!b->nrows)
		return 0;
	if (w->mode != BARGE_MODE_UPSERT && !w->c->no_infile) {
		if ((err = load_batch(w, b, &refused)) || !refused)
			return err;
		w->c->no_infile = 1;
		fprintf(stderr, "barge: mysql: %s refused LOAD DATA LOCAL INFILE "
			"(local_infile): writing with multi-row INSERT instead\n",
			w->c->where);
	}
	return insert_batch(w, b);
}

/* ---- Deletes -------------------------------------------------------------------- */

int my_delete_range(struct barge_conn *c, const struct barge_table_def *t,
		    const struct barge_chunk *chunk)
{
	struct barge_buf sql;
	int err;

	barge_buf_init(&sql, MY_SQL_CAP);
	barge_buf_adds(&sql, "DELETE FROM ");
	my_table(&sql, c, t->name);
	barge_buf_adds(&sql, " WHERE ");
	if (!(err = my_range_sql(&sql, c, t, chunk)) && !(err = sql.err))
		err = my_exec(c, sql.p, t->name);
	barge_buf_dispose(&sql);
	return err;
}

/* DELETE, not TRUNCATE TABLE: that one commits the transaction. */
int my_truncate(struct barge_conn *c, const struct barge_table_def *t)
{
	struct barge_buf sql;
	int err;

	barge_buf_init(&sql, 4096);
	barge_buf_adds(&sql, "DELETE FROM ");
	my_table(&sql, c, t->name);
	if (!(err = sql.err))
		err = my_exec(c, sql.p, t->name);
	barge_buf_dispose(&sql);
	return err;
}
