/*
 * After the data: the rest of a table barge created, built once its data
 * is in (an index or a foreign key maintained row by row during the copy
 * costs more than one built at the end). The engine asks for a table's
 * own part (BARGE_FINISH_TABLE) as soon as that table's chunks are done,
 * while other tables may still load, and for the foreign keys
 * (BARGE_FINISH_FKS) once every table is:
 *
 *   phase 1  sequences and identity columns (set past the copied values),
 *            secondary indexes, unique, exclusion and check constraints
 *   phase 2  column defaults (after the sequences nextval() names), and
 *            ANALYZE: the new table's statistics, for the foreign keys'
 *            checks (a parallel hash join instead of a guess) and for the
 *            first queries on the target
 *   phase 3  foreign keys (they need the referenced unique indexes)
 *
 * The statements of a phase run on up to `jobs` connections at once, each
 * in its own transaction; everything is idempotent (IF NOT EXISTS, or
 * skipped when the target has a constraint of that name), so a run that
 * stops half way finishes on the next one. From a PostgreSQL source the
 * definitions are the source's own (pg_get_indexdef, pg_get_constraintdef,
 * pg_get_expr); from another engine, its secondary indexes on plain
 * columns (barge_table_def.indexes), not its foreign keys.
 */
#include "pg_int.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_JOBS 16
/* maintenance_work_mem of a finishing connection, unless set by the user */
#define PG_FINISH_MWM "1GB"
#define PG_FINISH_MWM_KB "1048576"
/* tries of a statement cut by a transient fault, 0.05 s, 0.1 s, ... apart */
#define FINISH_RETRIES 6

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
	struct stmt *v = barge_grow(s->v, &s->cap, s->n, sizeof *v, 16);
	if (!v)
		return BARGE_ENOMEM;
	s->v = v;
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

/* Does the catalog query with parameters $1, $2 find a row? */
static int exists2(struct barge_conn *c, const char *sql, const char *p1,
		   const char *p2, int *out)
{
	PGresult *res = NULL;
	const char *params[2] = {p1, p2};
	int err = pg_query(c, sql, 2, params, 0, NULL, &res);
	if (!err)
		*out = PQntuples(res) > 0;
	PQclear(res);
	return err;
}

/* Does the target table have a constraint of this name already? */
static int has_constraint(struct barge_conn *c, const char *qtable,
			  const char *name, int *out)
{
	return exists2(c, "SELECT 1 FROM pg_constraint WHERE conrelid = "
			  "$1::regclass AND conname = $2", qtable, name, out);
}

/* Does the target's schema have this table? */
static int has_table(struct barge_conn *c, const char *table, int *out)
{
	return exists2(c, "SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = "
			  "c.relnamespace WHERE n.nspname = $1 AND c.relname = $2",
		       c->schema, table, out);
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

/* ANALYZE of the target table, in phase 2 (after its indexes). */
static int analyze_stmt(struct barge_conn *dst, const struct barge_table_def *dd,
			struct stmts *out)
{
	struct barge_buf sql;
	barge_buf_init(&sql, PG_SQL_CAP);
	barge_buf_adds(&sql, "ANALYZE ");
	pg_table(&sql, dst, dd->name);
	int err = stmt_add(out, dd->name, 2, &sql);
	barge_buf_dispose(&sql);
	return err;
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
			pg_quote_lit(&sql, dstq.p);
			barge_buf_adds(&sql, "::regclass AND attname = ");
			pg_quote_lit(&sql, tcol);
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
			pg_quote_lit(&sql, dstq.p);
			barge_buf_adds(&sql, ", ");
			pg_quote_lit(&sql, tcol);
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
			pg_quote_lit(&sql, seq.p ? seq.p : "");
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
	if ((err = analyze_stmt(dst, dd, out)))
		goto out;

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

/* From another engine: the source's secondary indexes on plain columns,
 * when every column is in the target under the same name. */
static int plan_from_defs(struct barge_conn *dst, const struct barge_table_def *sd,
			  const struct barge_table_def *dd, struct stmts *out)
{
	struct barge_buf sql;
	int err = 0;

	barge_buf_init(&sql, PG_SQL_CAP);
	for (size_t i = 0; i < sd->nindexes && !err; i++) {
		const struct barge_index_def *x = &sd->indexes[i];
		size_t k = 0;
		while (k < x->ncols && barge_table_def_find(dd, x->cols[k]) >= 0)
			k++;
		if (!x->ncols || k < x->ncols)
			continue; /* a column not copied, or renamed */
		barge_buf_printf(&sql, "CREATE %sINDEX IF NOT EXISTS ",
				 x->unique ? "UNIQUE " : "");
		pg_quote(&sql, x->name);
		barge_buf_adds(&sql, " ON ");
		pg_table(&sql, dst, dd->name);
		barge_buf_adds(&sql, " (");
		for (k = 0; k < x->ncols; k++) {
			if (k)
				barge_buf_adds(&sql, ", ");
			pg_quote(&sql, x->cols[k]);
		}
		barge_buf_adds(&sql, ")");
		err = stmt_add(out, dd->name, 1, &sql);
	}
	barge_buf_dispose(&sql);
	return err ? err : analyze_stmt(dst, dd, out);
}

/* ---- Running the statements on several connections ------------------------ */

struct runner {
	struct barge_conn *conn;
	const char *schema;   /* the target's, for session_setup */
	struct stmts *s;
	int phase;
	size_t *next;
	int *busy;            /* statements running (under lock) */
	int nrunners;         /* runners of the phase */
	int alone;            /* parallel workers allowed on this session */
	pthread_mutex_t *lock;
	int err;
	char msg[1024];
	pthread_t thread;
};

/*
 * A finishing connection's session: index builds sort in memory where the
 * server's setting would spill to disk (as pgcopydb does), unless the user
 * chose a size (the URL's options=-c maintenance_work_mem=..., the role's
 * or the database's); definitions name tables unqualified on the target's
 * schema.
 */
static int session_setup(struct barge_conn *c, const char *schema)
{
	struct barge_buf sp;
	barge_buf_init(&sp, 4096);
	barge_buf_adds(&sp, "SELECT set_config('maintenance_work_mem', '"
		       PG_FINISH_MWM "', false) FROM pg_settings WHERE "
		       "name = 'maintenance_work_mem' AND source IN "
		       "('default', 'configuration file') AND "
		       "setting::bigint < " PG_FINISH_MWM_KB "; ");
	barge_buf_adds(&sp, "SET search_path TO ");
	pg_quote(&sp, schema);
	int err = sp.err ? sp.err : pg_exec(c, sp.p, NULL);
	barge_buf_dispose(&sp);
	return err;
}

/*
 * Statements side by side are the parallelism: each runs without parallel
 * workers of its own (two index builds with two workers each on a 2-core
 * server took 4.4-5.4 s against 3.9-4.4 s without, bench/pg.sh data). A
 * statement that runs alone gets the server's max_parallel_maintenance_workers.
 */
static int set_alone(struct runner *r, int alone)
{
	if (r->alone == alone)
		return 0;
	int err = pg_exec(r->conn, alone ? "RESET max_parallel_maintenance_workers"
					 : "SET max_parallel_maintenance_workers = 0",
			  NULL);
	r->alone = err ? -1 : alone;
	return err;
}

static void *runner_main(void *arg)
{
	struct runner *r = arg;
	for (;;) {
		struct stmt *st = NULL;
		int alone = 0;
		pthread_mutex_lock(r->lock);
		while (*r->next < r->s->n && r->s->v[*r->next].phase != r->phase)
			(*r->next)++;
		if (*r->next < r->s->n) {
			st = &r->s->v[(*r->next)++];
			size_t left = 0;
			for (size_t i = *r->next; i < r->s->n; i++)
				left += r->s->v[i].phase == r->phase;
			alone = *r->busy == 0 && (left == 0 || r->nrunners == 1);
			++*r->busy;
		}
		pthread_mutex_unlock(r->lock);
		if (!st)
			break;
		int err = set_alone(r, alone);
		if (!err)
			err = pg_exec(r->conn, st->sql, st->table);
		/* Transient: two foreign keys of a cycle (a -> b and b -> a)
		 * added at once lock both tables in opposite orders, and the
		 * server kills one as a deadlock; or the connection was lost
		 * (a terminated backend, a restart): reconnect, set the session
		 * up again and run the statement again (each is idempotent, and
		 * one cut short was rolled back). */
		for (int again = 0; err == BARGE_ERETRY && again < FINISH_RETRIES;
		     again++) {
			barge_error_clear();
			barge_sleep(0.05 * (1 << again));
			if (PQstatus(r->conn->pg) != CONNECTION_OK) {
				PQreset(r->conn->pg);
				r->alone = 1;
				if (PQstatus(r->conn->pg) != CONNECTION_OK ||
				    session_setup(r->conn, r->schema) != 0 ||
				    set_alone(r, alone) != 0) {
					err = pg_fail(r->conn, NULL, st->table, "reconnecting");
					continue;
				}
			}
			err = pg_exec(r->conn, st->sql, st->table);
		}
		pthread_mutex_lock(r->lock);
		--*r->busy;
		pthread_mutex_unlock(r->lock);
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
	pg_close(n);
	return err;
}

int pg_finish_tables(struct barge_conn *c, struct barge_conn *src, size_t n,
		     const struct barge_table_def *const *src_defs,
		     const struct barge_table_def *const *dst_defs, int jobs, unsigned what)
{
	struct stmts s = {0};
	struct runner rs[MAX_JOBS];
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	int err = 0, nr = 0;

	memset(rs, 0, sizeof rs);
	/* From another engine: its indexes (not yet its foreign keys: the
	 * data of another engine may not hold to them) */
	for (size_t i = 0; !src && i < n; i++)
		if ((err = plan_from_defs(c, src_defs[i], dst_defs[i], &s)))
			goto out;
	/* FK definitions name other tables unqualified when they are on the
	 * search path: make that path the source's schema (for this
	 * transaction only), and the target's on the target. */
	if (src) {
		const char *params[1] = {src->schema};
		PGresult *res = NULL;
		if ((err = pg_query(src, "SELECT set_config('search_path', "
					 "quote_ident($1), true)",
				    1, params, 0, NULL, &res)))
			goto out;
		PQclear(res);
	}
	for (size_t i = 0; src && i < n; i++) {
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
		rs[r].schema = c->schema;
		rs[r].alone = 1; /* the session's own parallel workers */
		if ((err = session_setup(rs[r].conn, c->schema)))
			goto out;
	}
	for (int phase = 1; phase <= 3 && !err; phase++) {
		size_t next = 0;
		int started = 0, busy = 0;
		if (!(what & (phase == 3 ? BARGE_FINISH_FKS : BARGE_FINISH_TABLE)))
			continue;
		for (int r = 0; r < nr; r++) {
			rs[r].s = &s;
			rs[r].phase = phase;
			rs[r].next = &next;
			rs[r].busy = &busy;
			rs[r].nrunners = nr;
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
		PQclear(PQexec(c->pg, "RESET search_path; RESET maintenance_work_mem; "
				   "RESET max_parallel_maintenance_workers"));
	for (int r = 1; r < nr; r++)
		pg_close(rs[r].conn);
	stmts_dispose(&s);
	return err;
}

/* ---- Foreign keys set aside for replace and truncate -------------------- */

/* A text[] literal of the names ({"a","b"}, " and \ escaped). */
static int name_array(struct barge_buf *b, size_t n, const char *const *names)
{
	barge_buf_adds(b, "{");
	for (size_t i = 0; i < n; i++) {
		barge_buf_adds(b, i ? ",\"" : "\"");
		for (const char *p = names[i]; *p; p++) {
			if (*p == '"' || *p == '\\')
				barge_buf_add(b, "\\", 1);
			barge_buf_add(b, p, 1);
		}
		barge_buf_adds(b, "\"");
	}
	return barge_buf_adds(b, "}");
}

/*
 * The foreign keys that reference one of `tables` (emptied[i]: the run
 * deletes rows of tables[i], 1 by range, 2 all) in the target's schema. Those from another
 * of `tables` are handed to save() as an idempotent statement that makes
 * them again, then dropped, in one transaction. One from a table outside
 * the list into a table the run truncates is an error before anything
 * changes (TRUNCATE would refuse it; barge never cascades into it).
 */
int pg_fks_detach(struct barge_conn *c, size_t n, const char *const *tables,
		  const int *emptied, int (*save)(void *arg, const char *sql),
		  void *arg)
{
	struct barge_buf arr, sql;
	PGresult *res = NULL;
	int err;

	barge_buf_init(&arr, 1u << 20);
	barge_buf_init(&sql, PG_SQL_CAP);
	if ((err = name_array(&arr, n, tables)))
		goto out;
	/* names qualified in the definitions: search_path pg_catalog */
	if ((err = pg_exec(c, "BEGIN", NULL)) ||
	    (err = pg_exec(c, "SET LOCAL search_path TO pg_catalog", NULL)))
		goto out;
	const char *params[2] = {c->schema, arr.p};
	if ((err = pg_query(c,
			    "SELECT k.conname, k.conrelid::regclass::text, "
			    "  pg_get_constraintdef(k.oid), r.relname, "
			    "  (cn.nspname = $1 AND cl.relname = ANY($2::text[])) "
			    "FROM pg_constraint k "
			    "JOIN pg_class r ON r.oid = k.confrelid "
			    "JOIN pg_namespace rn ON rn.oid = r.relnamespace "
			    "JOIN pg_class cl ON cl.oid = k.conrelid "
			    "JOIN pg_namespace cn ON cn.oid = cl.relnamespace "
			    "WHERE k.contype = 'f' AND rn.nspname = $1 AND "
			    "  r.relname = ANY($2::text[]) "
			    "ORDER BY k.conrelid, k.conname COLLATE \"C\"",
			    2, params, 0, NULL, &res)))
		goto rollback;
	for (int i = 0; i < PQntuples(res); i++) {
		const char *name = PQgetvalue(res, i, 0);
		const char *child = PQgetvalue(res, i, 1);
		const char *parent = PQgetvalue(res, i, 3);
		size_t p = 0;
		while (p < n && strcmp(tables[p], parent) != 0)
			p++;
		if (p == n || !emptied[p])
			continue; /* no rows of the parent are deleted */
		if (PQgetvalue(res, i, 4)[0] != 't' && emptied[p] < 2)
			continue; /* replace: PostgreSQL checks the rows it deletes */
		if (PQgetvalue(res, i, 4)[0] != 't') {
			err = barge_error_set(BARGE_EUSAGE,
					      "postgres: table %s references %s "
					      "(constraint %s) and is not in the job: "
					      "truncate mode would have to empty it too; "
					      "add it to the job, drop that constraint "
					      "or use another mode",
					      child, parent, name);
			goto rollback;
		}
		barge_buf_clear(&sql);
		barge_buf_adds(&sql, "DO $barge$ BEGIN IF NOT EXISTS (SELECT 1 FROM "
			       "pg_constraint WHERE conrelid = ");
		pg_quote_lit(&sql, child);
		barge_buf_adds(&sql, "::regclass AND conname = ");
		pg_quote_lit(&sql, name);
		barge_buf_printf(&sql, ") THEN ALTER TABLE %s ADD CONSTRAINT ", child);
		pg_quote(&sql, name);
		barge_buf_printf(&sql, " %s; END IF; END $barge$",
				 PQgetvalue(res, i, 2));
		if ((err = sql.err) || (err = save(arg, sql.p)))
			goto rollback;
		barge_buf_clear(&sql);
		barge_buf_printf(&sql, "ALTER TABLE %s DROP CONSTRAINT ", child);
		pg_quote(&sql, name);
		if ((err = sql.err) || (err = pg_exec(c, sql.p, NULL)))
			goto rollback;
	}
	err = pg_exec(c, "COMMIT", NULL);
	goto out;
rollback:
	if (PQstatus(c->pg) == CONNECTION_OK)
		PQclear(PQexec(c->pg, "ROLLBACK"));
out:
	PQclear(res);
	barge_buf_dispose(&arr);
	barge_buf_dispose(&sql);
	return err;
}

int pg_fks_attach(struct barge_conn *c, const char *sql)
{
	return pg_exec(c, sql, NULL);
}
