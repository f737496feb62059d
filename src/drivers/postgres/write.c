/*
 * Writing: each batch is one binary `COPY ... FROM STDIN`, straight into
 * the target table, or into a temporary staging table when the write needs
 * SQL after it: upsert (`INSERT ... SELECT ... ON CONFLICT (key) DO
 * UPDATE`) and columns carried as text (cast back to the column's type:
 * intervals, arrays, enums, domains). Values are encoded for the target
 * column's own type and checked first: what PostgreSQL would round, clip
 * or refuse is BARGE_EDATA naming table, key and column.
 * Also the deletes that make re-runs idempotent (delete_range, truncate).
 */
#include "pg_int.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FLUSH_BYTES (1u << 20)
#define OUT_CAP ((size_t)2 * BARGE_BATCH_HARD_BYTES)

struct wcol {
	char *name;   /* target column */
	char *fmt;    /* its type, as format_type() writes it */
	enum pg_kind kind;
	int typmod;
	int precision, scale; /* numeric(p,s); char/varchar n as precision */
	int cast;     /* travels as text, cast in SQL */
};

struct barge_writer {
	struct barge_conn *c;
	char *table;
	size_t ncols;
	struct wcol *cols;
	size_t nkeyb;        /* batch columns of the key, for messages/upsert */
	size_t *keyb;
	int mode;
	int freeze;          /* COPY ... FREEZE (the table emptied in this txn) */
	int ready;           /* the first batch set the writer up */
	int staged;
	char stage[48];
	struct barge_buf copy_sql;
	struct barge_buf merge_sql;
	struct barge_buf out;
};

void pg_write_close(struct barge_writer *w)
{
	if (!w)
		return;
	/* an open COPY stays for COMMIT to end (pg_copy_end) */
	if (w->c && w->c->copy_owner == w)
		w->c->copy_owner = NULL;
	for (size_t i = 0; w->cols && i < w->ncols; i++) {
		free(w->cols[i].name);
		free(w->cols[i].fmt);
	}
	free(w->cols);
	free(w->keyb);
	free(w->table);
	barge_buf_dispose(&w->copy_sql);
	barge_buf_dispose(&w->merge_sql);
	barge_buf_dispose(&w->out);
	free(w);
}

int pg_write_open(struct barge_writer **out, struct barge_conn *c,
		  const struct barge_write_req *req)
{
	const struct barge_table_def *t = req->table;
	struct barge_writer *w = NULL;
	struct barge_buf name;
	PGresult *res = NULL;
	int err = 0;

	*out = NULL;
	barge_buf_init(&name, 4096);
	if (req->with_rowid)
		return barge_error_set(BARGE_EUSAGE,
				       "postgres: table '%s' has no row address to "
				       "write", t->name);
	if (req->mode == BARGE_MODE_UPSERT && !t->nkey)
		return barge_error_set(BARGE_EUSAGE,
				       "postgres: table '%s' has no primary key to "
				       "upsert on; use mode replace or truncate",
				       t->name);
	w = calloc(1, sizeof *w);
	if (!w)
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	barge_buf_init(&w->copy_sql, PG_SQL_CAP);
	barge_buf_init(&w->merge_sql, PG_SQL_CAP);
	barge_buf_init(&w->out, OUT_CAP);
	w->c = c;
	w->mode = req->mode;
	w->freeze = req->freeze;
	w->ncols = req->ncols;
	w->table = strdup(t->name);
	w->cols = calloc(req->ncols + 1, sizeof *w->cols);
	w->keyb = calloc(t->nkey + 1, sizeof *w->keyb);
	if (!w->table || !w->cols || !w->keyb)
		goto nomem;
	if ((err = barge_write_req_keys(req, "postgres", w->keyb, &w->nkeyb)))
		goto out;
	/* The target's own column types, whatever def the engine passed. */
	pg_table(&name, c, t->name);
	if ((err = name.err))
		goto out;
	const char *params[1] = {name.p};
	if ((err = pg_query(c,
			    "SELECT attname, atttypid, atttypmod, "
			    "format_type(atttypid, atttypmod) FROM pg_attribute "
			    "WHERE attrelid = $1::regclass AND attnum > 0 AND "
			    "NOT attisdropped",
			    1, params, 0, t->name, &res)))
		goto out;
	for (size_t i = 0; i < req->ncols; i++) {
		struct wcol *wc = &w->cols[i];
		const char *cname = t->cols[req->cols[i]].name;
		int row = -1;
		for (int r = 0; r < PQntuples(res) && row < 0; r++)
			if (strcmp(PQgetvalue(res, r, 0), cname) == 0)
				row = r;
		if (row < 0) {
			err = barge_error_set(BARGE_ENOTFOUND,
					      "postgres: table '%s' has no column %s",
					      t->name, cname);
			goto out;
		}
		int type;
		wc->typmod = (int)strtol(PQgetvalue(res, row, 2), NULL, 10);
		pg_map_type((unsigned)strtoul(PQgetvalue(res, row, 1), NULL, 10),
			    wc->typmod, &type, &wc->precision, &wc->scale, &wc->kind);
		if (!(wc->name = strdup(cname)) ||
		    !(wc->fmt = strdup(PQgetvalue(res, row, 3))))
			goto nomem;
	}
	*out = w;
	w = NULL;
	goto out;
nomem:
	err = barge_error_set(BARGE_ENOMEM, "out of memory");
out:
	PQclear(res);
	barge_buf_dispose(&name);
	pg_write_close(w);
	return err;
}

/* Can a `type` column go into a `kind` column in binary? Else, text
 * columns go as text and are cast; other pairs are refused. */
static int binary_ok(int type, enum pg_kind kind)
{
	switch (kind) {
	case PGK_INT2:
	case PGK_INT4:
	case PGK_INT8: return type == BARGE_T_INT64;
	case PGK_FLOAT4:
	case PGK_FLOAT8: return type == BARGE_T_FLOAT64;
	case PGK_NUMERIC: return type == BARGE_T_DECIMAL || type == BARGE_T_INT64;
	case PGK_TEXT:
	case PGK_JSON:
	case PGK_JSONB: return type == BARGE_T_TEXT || type == BARGE_T_JSON;
	case PGK_BYTEA: return type == BARGE_T_BYTES;
	case PGK_BOOL: return type == BARGE_T_BOOL;
	case PGK_DATE: return type == BARGE_T_DATE;
	case PGK_TIME: return type == BARGE_T_TIME;
	case PGK_TIMESTAMP: return type == BARGE_T_TIMESTAMP;
	case PGK_TIMESTAMPTZ: return type == BARGE_T_TIMESTAMPTZ;
	case PGK_UUID: return type == BARGE_T_UUID;
	default: return 0;
	}
}

/* Build the COPY (and staging) statements for the batch's types. */
static int setup(struct barge_writer *w, const struct barge_batch *b)
{
	struct barge_buf *cs = &w->copy_sql, *ms = &w->merge_sql;
	int err;

	for (size_t i = 0; i < w->ncols; i++) {
		struct wcol *wc = &w->cols[i];
		int type = b->cols[i].type;
		if (wc->kind == PGK_CAST ||
		    (type == BARGE_T_TEXT && !binary_ok(type, wc->kind)))
			wc->cast = 1;
		else if (type != BARGE_T_ANY && !binary_ok(type, wc->kind))
			return barge_error_set(BARGE_EUSAGE,
					       "postgres: table '%s': column %s: %s "
					       "values cannot go into a %s column",
					       w->table, wc->name, barge_type_name(type),
					       wc->fmt);
		if (wc->cast)
			w->staged = 1;
	}
	if (w->mode == BARGE_MODE_UPSERT)
		w->staged = 1;
	if (!w->staged) {
		barge_buf_adds(cs, "COPY ");
		pg_table(cs, w->c, w->table);
		barge_buf_adds(cs, " (");
		for (size_t i = 0; i < w->ncols; i++) {
			if (i)
				barge_buf_adds(cs, ", ");
			pg_quote(cs, w->cols[i].name);
		}
		barge_buf_adds(cs, w->freeze ? ") FROM STDIN (FORMAT binary, FREEZE)"
					     : ") FROM STDIN (FORMAT binary)");
		return cs->err;
	}

	/* A temporary table of the target's types (text where cast), gone
	 * at the end of the chunk's transaction. */
	struct barge_buf create;
	barge_buf_init(&create, PG_SQL_CAP);
	snprintf(w->stage, sizeof w->stage, "barge_stage_%u", ++w->c->stages);
	barge_buf_printf(&create, "CREATE TEMP TABLE %s (", w->stage);
	for (size_t i = 0; i < w->ncols; i++)
		barge_buf_printf(&create, "%ss%zu %s", i ? ", " : "", i,
				 w->cols[i].cast ? "text" : w->cols[i].fmt);
	barge_buf_adds(&create, ") ON COMMIT DROP");
	if ((err = create.err) || (err = pg_exec(w->c, create.p, w->table))) {
		barge_buf_dispose(&create);
		return err;
	}
	barge_buf_dispose(&create);

	barge_buf_printf(cs, "COPY %s FROM STDIN (FORMAT binary)", w->stage);
	barge_buf_adds(ms, "INSERT INTO ");
	pg_table(ms, w->c, w->table);
	barge_buf_adds(ms, " (");
	for (size_t i = 0; i < w->ncols; i++) {
		if (i)
			barge_buf_adds(ms, ", ");
		pg_quote(ms, w->cols[i].name);
	}
	/* an identity GENERATED ALWAYS column takes the copied values too */
	barge_buf_adds(ms, ") OVERRIDING SYSTEM VALUE SELECT ");
	for (size_t i = 0; i < w->ncols; i++) {
		barge_buf_printf(ms, "%ss%zu", i ? ", " : "", i);
		if (w->cols[i].cast)
			barge_buf_printf(ms, "::%s", w->cols[i].fmt);
	}
	barge_buf_printf(ms, " FROM %s", w->stage);
	if (w->mode == BARGE_MODE_UPSERT) {
		int any = 0;
		barge_buf_adds(ms, " ON CONFLICT (");
		for (size_t k = 0; k < w->nkeyb; k++) {
			if (k)
				barge_buf_adds(ms, ", ");
			pg_quote(ms, w->cols[w->keyb[k]].name);
		}
		barge_buf_adds(ms, ") DO UPDATE SET ");
		for (size_t i = 0; i < w->ncols; i++) {
			int is_key = 0;
			for (size_t k = 0; k < w->nkeyb; k++)
				is_key |= w->keyb[k] == i;
			if (is_key)
				continue;
			if (any++)
				barge_buf_adds(ms, ", ");
			pg_quote(ms, w->cols[i].name);
			barge_buf_adds(ms, " = EXCLUDED.");
			pg_quote(ms, w->cols[i].name);
		}
		if (!any) { /* only key columns: nothing to update */
			char *p = strstr(ms->p, " DO UPDATE SET ");
			ms->len = (size_t)(p - ms->p);
			ms->p[ms->len] = '\0';
			barge_buf_adds(ms, " DO NOTHING");
		}
	}
	return cs->err ? cs->err : ms->err;
}

static size_t utf8_chars(const char *p, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += ((unsigned char)p[i] & 0xC0) != 0x80;
	return k;
}

static int text_ok(const struct barge_value *v, const char **why)
{
	if (memchr(v->p, 0, v->n)) {
		*why = "text with a NUL byte, which PostgreSQL text cannot hold";
		return BARGE_EDATA;
	}
	if (!barge_utf8_valid(v->p, v->n)) {
		*why = "text that is not valid UTF-8";
		return BARGE_EDATA;
	}
	return 0;
}

/* A fractional-second precision p < 6 would round the value. */
static int frac_ok(int64_t us, int typmod, const char **why)
{
	static const int64_t unit[6] = {1000000, 100000, 10000, 1000, 100, 10};
	if (typmod >= 0 && typmod < 6 && us % unit[typmod] != 0) {
		*why = "more fractional digits than the column's precision "
		       "(PostgreSQL would round it)";
		return BARGE_EDATA;
	}
	return 0;
}

/* Append value `v` in the wire form of column `wc` (no length word). */
static int encode(struct barge_buf *o, const struct wcol *wc,
		  const struct barge_value *v, const char **why)
{
	unsigned char b[8];
	int err;

	if (wc->cast) {
		char tmp[64];
		switch (v->type) {
		case BARGE_T_TEXT:
		case BARGE_T_JSON:
			if ((err = text_ok(v, why)))
				return err;
			/* fall through */
		case BARGE_T_DECIMAL:
			return barge_buf_add(o, v->p, v->n);
		case BARGE_T_INT64:
			snprintf(tmp, sizeof tmp, "%" PRId64, v->i);
			return barge_buf_adds(o, tmp);
		default:
			*why = "a value of a type that cannot be cast to the column";
			return BARGE_EDATA;
		}
	}
	if (!binary_ok(v->type, wc->kind)) {
		*why = v->type == BARGE_T_INT64   ? "an integer, not of the column's type"
		       : v->type == BARGE_T_FLOAT64 ? "a float, not of the column's type"
		       : v->type == BARGE_T_BYTES ? "a blob, not of the column's type"
						  : "a value not of the column's type";
		return BARGE_EDATA;
	}
	switch (wc->kind) {
	case PGK_BOOL:
		b[0] = v->i != 0;
		return barge_buf_add(o, b, 1);
	case PGK_INT2:
		if (v->i < INT16_MIN || v->i > INT16_MAX) {
			*why = "an integer out of smallint's range";
			return BARGE_EDATA;
		}
		pgc_put16(b, (uint16_t)(int16_t)v->i);
		return barge_buf_add(o, b, 2);
	case PGK_INT4:
		if (v->i < INT32_MIN || v->i > INT32_MAX) {
			*why = "an integer out of integer's range";
			return BARGE_EDATA;
		}
		pgc_put32(b, (uint32_t)(int32_t)v->i);
		return barge_buf_add(o, b, 4);
	case PGK_INT8:
		pgc_put64(b, (uint64_t)v->i);
		return barge_buf_add(o, b, 8);
	case PGK_FLOAT4: {
		float f = (float)v->f;
		if (!isnan(v->f) && (double)f != v->f) {
			*why = "a double that real cannot hold exactly";
			return BARGE_EDATA;
		}
		uint32_t bits;
		memcpy(&bits, &f, sizeof bits);
		pgc_put32(b, bits);
		return barge_buf_add(o, b, 4);
	}
	case PGK_FLOAT8: {
		uint64_t bits;
		memcpy(&bits, &v->f, sizeof bits);
		pgc_put64(b, bits);
		return barge_buf_add(o, b, 8);
	}
	case PGK_NUMERIC:
		if (v->type == BARGE_T_INT64) {
			char tmp[32];
			snprintf(tmp, sizeof tmp, "%" PRId64, v->i);
			return pgc_numeric_from_text(o, tmp, strlen(tmp), wc->precision,
						     wc->scale, why);
		}
		return pgc_numeric_from_text(o, v->p, v->n, wc->precision, wc->scale,
					     why);
	case PGK_TEXT:
		if ((err = text_ok(v, why)))
			return err;
		if (wc->precision > 0 && utf8_chars(v->p, v->n) > (size_t)wc->precision) {
			*why = "text longer than the column's length";
			return BARGE_EDATA;
		}
		return barge_buf_add(o, v->p, v->n);
	case PGK_JSON:
		if ((err = text_ok(v, why)))
			return err;
		return barge_buf_add(o, v->p, v->n);
	case PGK_JSONB:
		if ((err = text_ok(v, why)))
			return err;
		b[0] = 1; /* jsonb's binary format version */
		barge_buf_add(o, b, 1);
		return barge_buf_add(o, v->p, v->n);
	case PGK_BYTEA:
		return barge_buf_add(o, v->p, v->n);
	case PGK_UUID:
		if (v->n != 16) {
			*why = "a uuid that is not 16 bytes";
			return BARGE_EDATA;
		}
		return barge_buf_add(o, v->p, 16);
	case PGK_DATE: {
		int32_t d;
		if ((err = pgc_date_to_pg(v->i, &d, why)))
			return err;
		pgc_put32(b, (uint32_t)d);
		return barge_buf_add(o, b, 4);
	}
	case PGK_TIME:
		if (v->i < 0 || v->i > INT64_C(86400000000)) {
			*why = "a time of day out of range";
			return BARGE_EDATA;
		}
		if ((err = frac_ok(v->i, wc->typmod, why)))
			return err;
		pgc_put64(b, (uint64_t)v->i);
		return barge_buf_add(o, b, 8);
	case PGK_TIMESTAMP:
	case PGK_TIMESTAMPTZ: {
		int64_t ts;
		if ((err = pgc_ts_to_pg(v->i, &ts, why)))
			return err;
		if (ts != INT64_MAX && ts != INT64_MIN &&
		    (err = frac_ok(ts, wc->typmod, why)))
			return err;
		pgc_put64(b, (uint64_t)ts);
		return barge_buf_add(o, b, 8);
	}
	default:
		*why = "a value of no known wire form";
		return BARGE_EDATA;
	}
}

static int flush(struct barge_writer *w)
{
	if (w->out.len && PQputCopyData(w->c->pg, w->out.p, (int)w->out.len) != 1)
		return pg_fail(w->c, NULL, w->table, "sending COPY data");
	barge_buf_clear(&w->out);
	return 0;
}

int pg_copy_end(struct barge_conn *c, const char *abort_msg)
{
	static const unsigned char trailer[2] = {0xff, 0xff}; /* -1 fields */
	PGresult *res;
	int err = 0;

	if (!c->in_copy)
		return 0;
	c->in_copy = 0;
	c->copy_owner = NULL;
	if (!abort_msg && PQputCopyData(c->pg, (const char *)trailer, 2) != 1)
		err = pg_fail(c, NULL, c->copy_table, "sending COPY data");
	if (PQputCopyEnd(c->pg, err ? "barge could not send" : abort_msg) != 1 &&
	    !abort_msg && !err)
		err = pg_fail(c, NULL, c->copy_table, "ending COPY");
	while ((res = PQgetResult(c->pg))) {
		if (!err && !abort_msg && PQresultStatus(res) != PGRES_COMMAND_OK)
			err = pg_fail(c, res, c->copy_table, "COPY FROM");
		PQclear(res);
	}
	if (!err && !abort_msg && PQstatus(c->pg) == CONNECTION_BAD)
		err = pg_fail(c, NULL, c->copy_table, "COPY FROM");
	return err;
}

static int copy_end(struct barge_writer *w, const char *abort_msg)
{
	return pg_copy_end(w->c, abort_msg);
}

/* Start a COPY FROM and send its header. */
static int copy_start(struct barge_writer *w)
{
	static const unsigned char header[19] = "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0";
	PGresult *res;
	int err;

	if ((err = pg_copy_end(w->c, NULL)))
		return err;
	res = PQexec(w->c->pg, w->copy_sql.p);
	if (!res || PQresultStatus(res) != PGRES_COPY_IN) {
		err = pg_fail(w->c, res, w->table, "starting COPY FROM");
		PQclear(res);
		return err;
	}
	PQclear(res);
	w->c->in_copy = 1;
	w->c->copy_owner = w;
	snprintf(w->c->copy_table, sizeof w->c->copy_table, "%s", w->table);
	barge_buf_add(&w->out, header, sizeof header);
	return 0;
}

static int value_error(struct barge_writer *w, const struct barge_batch *b,
		       size_t row, size_t col, const char *why)
{
	struct barge_buf nm;
	barge_buf_init(&nm, 4096);
	barge_buf_adds(&nm, w->table);
	if (!w->nkeyb)
		barge_buf_printf(&nm, " row %zu of the batch", row + 1);
	for (size_t k = 0; k < w->nkeyb; k++) {
		struct barge_value kv;
		barge_batch_get(b, w->keyb[k], row, &kv);
		barge_buf_printf(&nm, "%s%s=", k ? ", " : " ",
				 w->cols[w->keyb[k]].name);
		pg_value_text(&nm, &kv);
	}
	barge_error_set(BARGE_EDATA, "%s: column %s (%s): %s", nm.p ? nm.p : w->table,
			w->cols[col].name, w->cols[col].fmt, why);
	barge_buf_dispose(&nm);
	return BARGE_EDATA;
}

int pg_write_batch(struct barge_writer *w, const struct barge_batch *b)
{
	unsigned char word[4];
	int err = 0;

	if (b->ncols != w->ncols)
		return barge_error_set(BARGE_EUSAGE,
				       "postgres: table '%s': a batch of %zu columns "
				       "for a write of %zu", w->table, b->ncols,
				       w->ncols);
	if (!w->ready) {
		if ((err = setup(w, b)))
			return err;
		w->ready = 1;
	}
	if (b->nrows == 0)
		return 0;
	barge_buf_clear(&w->out);
	/* A direct COPY stays open for the chunk's next batches; a staged one
	 * ends with each batch, for the INSERT that follows it. */
	if ((!w->c->in_copy || w->c->copy_owner != w) && (err = copy_start(w)))
		return err;
	for (size_t r = 0; r < b->nrows; r++) {
		pgc_put16(word, (uint16_t)w->ncols);
		barge_buf_add(&w->out, word, 2);
		for (size_t i = 0; i < w->ncols; i++) {
			struct barge_value v;
			const char *why = NULL;
			barge_batch_get(b, i, r, &v);
			if (v.null) {
				pgc_put32(word, UINT32_MAX);
				barge_buf_add(&w->out, word, 4);
				continue;
			}
			size_t at = w->out.len;
			barge_buf_add(&w->out, word, 4); /* the length, below */
			err = encode(&w->out, &w->cols[i], &v, &why);
			if (err == BARGE_EDATA)
				err = value_error(w, b, r, i, why);
			if (!err && (err = w->out.err))
				barge_error_set(err, "postgres: table '%s': a row too "
						     "large to send", w->table);
			if (err) {
				copy_end(w, "barge refused a value");
				return err;
			}
			pgc_put32((unsigned char *)w->out.p + at,
				  (uint32_t)(w->out.len - at - 4));
		}
		if (w->out.len >= FLUSH_BYTES && (err = flush(w))) {
			copy_end(w, "barge could not send");
			return err;
		}
	}
	if ((err = flush(w))) {
		copy_end(w, "barge could not send");
		return err;
	}
	if (w->staged) {
		if ((err = copy_end(w, NULL)))
			return err;
		char trunc[80];
		if ((err = pg_exec(w->c, w->merge_sql.p, w->table)))
			return err;
		snprintf(trunc, sizeof trunc, "TRUNCATE %s", w->stage);
		if ((err = pg_exec(w->c, trunc, w->table)))
			return err;
	}
	return 0;
}

/* ---- Deletes ------------------------------------------------------------------- */

int pg_delete_range(struct barge_conn *c, const struct barge_table_def *t,
		    const struct barge_chunk *chunk)
{
	struct barge_buf sql;
	int err;

	barge_buf_init(&sql, PG_SQL_CAP);
	barge_buf_adds(&sql, "DELETE FROM ");
	pg_table(&sql, c, t->name);
	barge_buf_adds(&sql, " WHERE ");
	if (!(err = pg_range_sql(&sql, t, chunk)) && !(err = sql.err))
		err = pg_exec(c, sql.p, t->name);
	barge_buf_dispose(&sql);
	return err;
}

int pg_truncate(struct barge_conn *c, const struct barge_table_def *t)
{
	struct barge_buf sql;
	int err;

	barge_buf_init(&sql, PG_SQL_CAP);
	barge_buf_adds(&sql, "TRUNCATE ");
	pg_table(&sql, c, t->name);
	if (!(err = sql.err))
		err = pg_exec(c, sql.p, t->name);
	barge_buf_dispose(&sql);
	return err;
}
