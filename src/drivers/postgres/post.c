/*
 * After the data: the rest of a table barge created, built once every
 * chunk of the run is done (an index or a foreign key maintained row by row
 * during the copy costs more than one built at the end):
 *
 *   phase 1  sequences and identity columns (set past the copied values),
 *            column defaults, secondary indexes, unique, exclusion and
 *            check constraints
 *   phase 2  foreign keys (they need the referenced unique indexes)
 *
 * The statements of a phase run on up to `jobs` connections at once, each
 * in its own transaction; everything is idempotent (IF NOT EXISTS, or
 * skipped when the target has a constraint of that name), so a run that
 * stops half way finishes on the next one. From a PostgreSQL source the
 * definitions are the source's own (pg_get_indexdef, pg_get_constraintdef,
 * pg_get_expr); from another engine nothing is made yet.
 */
#include "pg_int.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_JOBS 16

struct stmt {
	char *sql;
	const char *table;
	int phase;
};

struct stmts {
	struct stmt *v;
	size_t n, cap;
};

static int stmt_add(struct stmts *s, const char *table, int phase,
		    struct barge_buf *sql)
{
	if (sql->err)
		return sql->err;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct stmt *v = realloc(s->v, cap * sizeof *v);
		if (!v)
			return barge_error_set(BARGE_ENOMEM, "out of memory");
		s->v = v;
		s->cap = cap;
	}
	if (!(s->v[s->n].sql = strdup(sql->p)))
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	s->v[s->n].table = table;
	s->v[s->n++].phase = phase;
	barge_buf_clear(sql);
	return 0;
}

static void stmts_dispose(struct stmts *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i].sql);
	free(s->v);
	memset(s, 0, sizeof *s);
}

/* A string literal (standard_conforming_strings is on: only quotes
 * are doubled). */
static int quote_lit(struct barge_buf *b, const char *s)
{
	barge_buf_add(b, "'", 1);
	for (; *s; s++) {
		if (*s == '\'')
			barge_buf_add(b, "'", 1);
		barge_buf_add(b, s, 1);
	}
	return barge_buf_add(b, "'", 1);
}

/* Does the target table have a constraint of this name already? */
static int has_constraint(struct barge_conn *c, const char *qtable,
			  const char *name, int *out)
{
	PGresult *res = NULL;
	const char *params[2] = {qtable, name};
	int err = pg_query(c,
			   "SELECT 1 FROM pg_constraint WHERE conrelid = "
			   "$1::regclass AND conname = $2",
			   2, params, 0, NULL, &res);
	if (!err)
		*out = PQntuples(res) > 0;
	PQclear(res);
	return err;
}

/* Does the target's schema have this table? */
static int has_table(struct barge_conn *c, const char *table, int *out)
{
	PGresult *res = NULL;
	const char *params[2] = {c->schema, table};
	int err = pg_query(c,
			   "SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = "
			   "c.relnamespace WHERE n.nspname = $1 AND c.relname = $2",
			   2, params, 0, NULL, &res);
	if (!err)
		*out = PQntuples(res) > 0;
	PQclear(res);
	return err;
}

/*
 * pg_get_indexdef() names the source table ("ON public.orders USING");
 * put the target's name there and IF NOT EXISTS after INDEX.
 */
static int index_sql(struct barge_buf *b, const char *def, const char *srcq,
		     const char *dstq)
{
	const char *ix = strstr(def, "INDEX ");
	struct barge_buf on;
	const char *at;

	barge_buf_init(&on, 4096);
	barge_buf_printf(&on, " ON %s USING ", srcq);
	at = on.p ? strstr(def, on.p) : NULL;
	if (!at) {
		barge_buf_clear(&on);
		barge_buf_printf(&on, " ON ONLY %s USING ", srcq);
		at = on.p ? strstr(def, on.p) : NULL;
	}
	if (!ix || !at || ix > at) {
		barge_buf_dispose(&on);
		return barge_error_set(BARGE_ERROR, "postgres: cannot read the index "
				       "definition: %s", def);
	}
	barge_buf_add(b, def, (size_t)(ix - def) + 6);
	barge_buf_adds(b, "IF NOT EXISTS ");
	barge_buf_add(b, ix + 6, (size_t)(at - ix - 6));
	barge_buf_printf(b, " ON %s USING ", dstq);
	barge_buf_adds(b, at + on.len);
	barge_buf_dispose(&on);
	return b->err;
}

/* The statements that finish one table from a PostgreSQL source. */
static int plan_from_pg(struct barge_conn *dst, struct barge_conn *src,
			const struct barge_table_def *sd,
			const struct barge_table_def *dd, struct stmts *out)
{
	struct barge_buf srcq, dstq, sql;
	PGresult *res = NULL;
	const char *params[1];
	char *spelled = NULL;
	int err;

	barge_buf_init(&srcq, 4096);
	barge_buf_init(&dstq, 4096);
	barge_buf_init(&sql, PG_SQL_CAP);
	pg_table(&srcq, src, sd->name);
	pg_table(&dstq, dst, dd->name);
	if ((err = srcq.err) || (err = dstq.err))
		goto out;
	params[0] = srcq.p;
	/* pg_get_indexdef() names the table as quote_ident() spells it */
	if ((err = pg_query(src, "SELECT quote_ident(n.nspname) || '.' || "
				 "quote_ident(c.relname) FROM pg_class c JOIN "
				 "pg_namespace n ON n.oid = c.relnamespace WHERE "
				 "c.oid = $1::regclass",
			    1, params, 0, sd->name, &res)))
		goto out;
	spelled = strdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	res = NULL;
	if (!spelled) {
		err = barge_error_set(BARGE_ENOMEM, "out of memory");
		goto out;
	}

	/* Sequences owned by a column (serial) and identity columns: made on
	 * the target and set to the source's position, or past the largest
	 * value copied when that is further. Then the columns' defaults. */
	if ((err = pg_query(src,
			    "SELECT a.attname, a.attidentity, s.seqrelid::regclass::text, "
			    "  format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement, "
			    "  s.seqmin, s.seqmax, s.seqcache, s.seqcycle, "
			    "  (SELECT last_value FROM pg_sequences q WHERE "
			    "   q.schemaname = n.nspname AND q.sequencename = sc.relname), "
			    "  sc.relname "
			    "FROM pg_attribute a "
			    "JOIN pg_depend d ON d.refobjid = a.attrelid AND "
			    "  d.refobjsubid = a.attnum AND d.classid = 'pg_class'::regclass "
			    "  AND d.deptype IN ('a', 'i') "
			    "JOIN pg_sequence s ON s.seqrelid = d.objid "
			    "JOIN pg_class sc ON sc.oid = s.seqrelid "
			    "JOIN pg_namespace n ON n.oid = sc.relnamespace "
			    "WHERE a.attrelid = $1::regclass ORDER BY a.attnum",
			    1, params, 0, sd->name, &res)))
		goto out;
	for (int i = 0; i < PQntuples(res); i++) {
		const char *col = PQgetvalue(res, i, 0);
		const char *ident = PQgetvalue(res, i, 1);
		int di = barge_table_def_find(dd, col);
		if (di < 0)
			continue; /* not copied */
		const char *tcol = dd->cols[di].name;
		/* CREATE SEQUENCE ... and the setval in one statement (one
		 * transaction): the column's largest value on the target. */
		if (ident[0] == 'a' || ident[0] == 'd') {
			barge_buf_adds(&sql, "DO $barge$ BEGIN IF NOT EXISTS (SELECT 1 "
				       "FROM pg_attribute WHERE attrelid = ");
			quote_lit(&sql, dstq.p);
			barge_buf_adds(&sql, "::regclass AND attname = ");
			quote_lit(&sql, tcol);
			barge_buf_adds(&sql, " AND attidentity <> '') THEN ALTER TABLE ");
			barge_buf_adds(&sql, dstq.p);
			barge_buf_adds(&sql, " ALTER COLUMN ");
			pg_quote(&sql, tcol);
			barge_buf_printf(&sql, " ADD GENERATED %s AS IDENTITY (INCREMENT %s "
					 "MINVALUE %s MAXVALUE %s START %s CACHE %s%s); END IF; "
					 "END $barge$; ",
					 ident[0] == 'a' ? "ALWAYS" : "BY DEFAULT",
					 PQgetvalue(res, i, 5), PQgetvalue(res, i, 6),
					 PQgetvalue(res, i, 7), PQgetvalue(res, i, 4),
					 PQgetvalue(res, i, 8),
					 PQgetvalue(res, i, 9)[0] == 't' ? " CYCLE" : "");
			barge_buf_adds(&sql, "SELECT setval(pg_get_serial_sequence(");
			quote_lit(&sql, dstq.p);
			barge_buf_adds(&sql, ", ");
			quote_lit(&sql, tcol);
			barge_buf_adds(&sql, "), ");
		} else {
			/* A serial's sequence keeps its name, in the target's
			 * schema; the default (nextval) comes with the others. */
			struct barge_buf seq;
			barge_buf_init(&seq, 4096);
			pg_table(&seq, dst, PQgetvalue(res, i, 11));
			barge_buf_printf(&sql, "CREATE SEQUENCE IF NOT EXISTS %s AS %s "
					 "INCREMENT %s MINVALUE %s MAXVALUE %s START %s "
					 "CACHE %s%s OWNED BY %s.",
					 seq.p, PQgetvalue(res, i, 3), PQgetvalue(res, i, 5),
					 PQgetvalue(res, i, 6), PQgetvalue(res, i, 7),
					 PQgetvalue(res, i, 4), PQgetvalue(res, i, 8),
					 PQgetvalue(res, i, 9)[0] == 't' ? " CYCLE" : "",
					 dstq.p);
			pg_quote(&sql, tcol);
			barge_buf_adds(&sql, "; SELECT setval(");
			quote_lit(&sql, seq.p ? seq.p : "");
			barge_buf_adds(&sql, ", ");
			err = seq.err;
			barge_buf_dispose(&seq);
			if (err)
				goto out;
		}
		/* The source's position, or the largest copied value when it
		 * is further (a source whose sequence lags its data). */
		const char *last = PQgetisnull(res, i, 10) ? NULL : PQgetvalue(res, i, 10);
		barge_buf_adds(&sql, "greatest(");
		barge_buf_adds(&sql, last ? last : "NULL");
		barge_buf_adds(&sql, ", (SELECT max(");
		pg_quote(&sql, tcol);
		barge_buf_printf(&sql, ") FROM %s)), ", dstq.p);
		/* is_called: false only when nothing was ever taken and no
		 * row holds a value */
		barge_buf_printf(&sql, "%s OR EXISTS (SELECT 1 FROM %s))",
				 last ? "true" : "false", dstq.p);
		barge_buf_adds(&sql, " WHERE greatest(");
		barge_buf_adds(&sql, last ? last : "NULL");
		barge_buf_adds(&sql, ", (SELECT max(");
		pg_quote(&sql, tcol);
		barge_buf_printf(&sql, ") FROM %s)) IS NOT NULL", dstq.p);
		if ((err = stmt_add(out, dd->name, 1, &sql)))
			goto out;
	}
	PQclear(res);
	res = NULL;

	if ((err = pg_query(src,
			    "SELECT a.attname, pg_get_expr(d.adbin, d.adrelid) "
			    "FROM pg_attrdef d JOIN pg_attribute a ON a.attrelid = "
			    "d.adrelid AND a.attnum = d.adnum WHERE d.adrelid = "
			    "$1::regclass AND a.attgenerated = '' ORDER BY a.attnum",
			    1, params, 0, sd->name, &res)))
		goto out;
	for (int i = 0; i < PQntuples(res); i++) {
		int di = barge_table_def_find(dd, PQgetvalue(res, i, 0));
		if (di < 0)
			continue;
		barge_buf_printf(&sql, "ALTER TABLE %s ALTER COLUMN ", dstq.p);
		pg_quote(&sql, dd->cols[di].name);
		barge_buf_printf(&sql, " SET DEFAULT %s", PQgetvalue(res, i, 1));
		/* after the sequence a nextval() default names */
		if ((err = stmt_add(out, dd->name, 2, &sql)))
			goto out;
	}
	PQclear(res);
	res = NULL;

	/* Indexes that are not the primary key and not a constraint's. */
	if ((err = pg_query(src,
			    "SELECT pg_get_indexdef(x.indexrelid) FROM pg_index x "
			    "WHERE x.indrelid = $1::regclass AND NOT x.indisprimary "
			    "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE "
			    "c.conindid = x.indexrelid AND c.conrelid = x.indrelid) "
			    "ORDER BY x.indexrelid",
			    1, params, 0, sd->name, &res)))
		goto out;
	for (int i = 0; i < PQntuples(res); i++)
		if ((err = index_sql(&sql, PQgetvalue(res, i, 0), spelled, dstq.p)) ||
		    (err = stmt_add(out, dd->name, 1, &sql)))
			goto out;
	PQclear(res);
	res = NULL;

	/* Constraints: unique, exclusion and check now, foreign keys after. */
	if ((err = pg_query(src,
			    "SELECT conname, contype, pg_get_constraintdef(oid), "
			    "  (SELECT relname FROM pg_class WHERE oid = confrelid) "
			    "FROM pg_constraint WHERE conrelid = $1::regclass AND "
			    "contype IN ('u', 'x', 'c', 'f') AND conislocal "
			    "ORDER BY contype = 'f', conname COLLATE \"C\"",
			    1, params, 0, sd->name, &res)))
		goto out;
	for (int i = 0; i < PQntuples(res); i++) {
		int have = 0;
		if ((err = has_constraint(dst, dstq.p, PQgetvalue(res, i, 0), &have)))
			goto out;
		/* a foreign key to a table the target does not have (not
		 * copied) is left out */
		if (!have && PQgetvalue(res, i, 1)[0] == 'f' &&
		    (err = has_table(dst, PQgetvalue(res, i, 3), &have)) == 0)
			have = !have;
		if (err)
			goto out;
		if (have)
			continue;
		barge_buf_printf(&sql, "ALTER TABLE %s ADD CONSTRAINT ", dstq.p);
		pg_quote(&sql, PQgetvalue(res, i, 0));
		barge_buf_printf(&sql, " %s", PQgetvalue(res, i, 2));
		if ((err = stmt_add(out, dd->name,
				    PQgetvalue(res, i, 1)[0] == 'f' ? 3 : 1, &sql)))
			goto out;
	}
out:
	free(spelled);
	PQclear(res);
	barge_buf_dispose(&srcq);
	barge_buf_dispose(&dstq);
	barge_buf_dispose(&sql);
	return err;
}

/* ---- Running the statements on several connections ------------------------ */

struct runner {
	struct barge_conn *conn;
	struct stmts *s;
	int phase;
	size_t *next;
	pthread_mutex_t *lock;
	int err;
	char msg[1024];
	pthread_t thread;
};

static void *runner_main(void *arg)
{
	struct runner *r = arg;
	for (;;) {
		struct stmt *st = NULL;
		pthread_mutex_lock(r->lock);
		while (*r->next < r->s->n && r->s->v[*r->next].phase != r->phase)
			(*r->next)++;
		if (*r->next < r->s->n)
			st = &r->s->v[(*r->next)++];
		pthread_mutex_unlock(r->lock);
		if (!st)
			break;
		int err = pg_exec(r->conn, st->sql, st->table);
		/* two foreign keys of a cycle (a -> b and b -> a) added at once
		 * lock both tables in opposite orders: the server kills one as a
		 * deadlock, which then runs again after the other */
		for (int again = 0; err == BARGE_ERETRY && again < 5 &&
				    PQstatus(r->conn->pg) == CONNECTION_OK; again++) {
			barge_error_clear();
			err = pg_exec(r->conn, st->sql, st->table);
		}
		if (err) {
			r->err = err;
			snprintf(r->msg, sizeof r->msg, "%s", barge_error_last());
			break;
		}
	}
	return NULL;
}

/* Another connection like `c` (PQconninfo keeps the keywords, the
 * password and the options it was opened with). */
static int pg_clone(struct barge_conn **out, struct barge_conn *c)
{
	PQconninfoOption *opts = PQconninfo(c->pg), *o;
	const char *keys[64], *vals[64];
	struct barge_conn *n = NULL;
	size_t k = 0;
	int err = 0;

	*out = NULL;
	if (!opts)
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	for (o = opts; o->keyword && k < 63; o++)
		if (o->val && o->val[0]) {
			keys[k] = o->keyword;
			vals[k++] = o->val;
		}
	keys[k] = vals[k] = NULL;
	n = calloc(1, sizeof *n);
	if (!n || !(n->schema = strdup(c->schema)) || !(n->where = strdup(c->where))) {
		err = barge_error_set(BARGE_ENOMEM, "out of memory");
		goto out;
	}
	n->flags = c->flags;
	n->pg = PQconnectdbParams(keys, vals, 0);
	if (!n->pg || PQstatus(n->pg) != CONNECTION_OK) {
		err = pg_fail(n, NULL, NULL, "connecting");
		goto out;
	}
	*out = n;
	n = NULL;
out:
	PQconninfoFree(opts);
	if (n) {
		PQfinish(n->pg);
		free(n->schema);
		free(n->where);
		free(n);
	}
	return err;
}

static void pg_unclone(struct barge_conn *c)
{
	if (!c)
		return;
	PQfinish(c->pg);
	free(c->schema);
	free(c->where);
	free(c);
}

int pg_finish_tables(struct barge_conn *c, struct barge_conn *src, size_t n,
		     const struct barge_table_def *const *src_defs,
		     const struct barge_table_def *const *dst_defs, int jobs)
{
	struct stmts s = {0};
	struct runner rs[MAX_JOBS];
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	int err = 0, nr = 0;

	memset(rs, 0, sizeof rs);
	/* From another engine: nothing yet (its foreign keys would make
	 * re-runs in replace and truncate mode fail on the target). */
	if (!src)
		return 0;
	/* FK definitions name other tables unqualified when they are on the
	 * search path: make that path the source's schema (for this
	 * transaction only), and the target's on the target. */
	{
		const char *params[1] = {src->schema};
		PGresult *res = NULL;
		if ((err = pg_query(src, "SELECT set_config('search_path', "
					 "quote_ident($1), true)",
				    1, params, 0, NULL, &res)))
			goto out;
		PQclear(res);
	}
	for (size_t i = 0; i < n; i++) {
		if ((err = plan_from_pg(c, src, src_defs[i], dst_defs[i], &s)))
			goto out;
	}
	if (!s.n)
		goto out;
	if (jobs < 1)
		jobs = 1;
	if (jobs > MAX_JOBS)
		jobs = MAX_JOBS;
	if ((size_t)jobs > s.n)
		jobs = (int)s.n;
	for (nr = 0; nr < jobs; nr++) {
		if (nr == 0)
			rs[nr].conn = c;
		else if ((err = pg_clone(&rs[nr].conn, c)))
			goto out;
	}
	for (int r = 0; r < nr; r++) {
		struct barge_buf sp;
		barge_buf_init(&sp, 4096);
		barge_buf_adds(&sp, "SET search_path TO ");
		pg_quote(&sp, c->schema);
		err = sp.err ? sp.err : pg_exec(rs[r].conn, sp.p, NULL);
		barge_buf_dispose(&sp);
		if (err)
			goto out;
	}
	for (int phase = 1; phase <= 3 && !err; phase++) {
		size_t next = 0;
		int started = 0;
		for (int r = 0; r < nr; r++) {
			rs[r].s = &s;
			rs[r].phase = phase;
			rs[r].next = &next;
			rs[r].lock = &lock;
			if (pthread_create(&rs[r].thread, NULL, runner_main, &rs[r]) != 0) {
				err = barge_error_set(BARGE_ERROR, "cannot start a thread");
				break;
			}
			started++;
		}
		for (int r = 0; r < started; r++)
			pthread_join(rs[r].thread, NULL);
		for (int r = 0; r < started && !err; r++)
			if (rs[r].err)
				err = barge_error_set(rs[r].err, "%s", rs[r].msg);
	}
out:
	if (c->pg && PQstatus(c->pg) == CONNECTION_OK)
		PQclear(PQexec(c->pg, "RESET search_path"));
	for (int r = 1; r < nr; r++)
		pg_unclone(rs[r].conn);
	stmts_dispose(&s);
	return err;
}
