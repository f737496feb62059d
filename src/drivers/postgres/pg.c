/*
 * The PostgreSQL endpoint driver (on libpq): the driver table, connections,
 * error classes, the exported snapshot and target transactions. Schema,
 * reading and writing live in schema.c, read.c and write.c (pg_int.h).
 */
#include "pg_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Session settings that make text forms and literals unambiguous: ISO
 * dates, PostgreSQL interval text, UTC for timestamptz text, standard
 * strings (pgc_literal relies on it), shortest-exact floats. */
#define PG_SESSION_OPTIONS                                                    \
	"-c DateStyle=ISO,YMD -c IntervalStyle=postgres -c TimeZone=UTC "      \
	"-c standard_conforming_strings=on -c extra_float_digits=3 "           \
	"-c client_min_messages=warning"

/* One line of libpq's message: no trailing newline, no "ERROR:  " echo. */
static void one_line(char *out, size_t n, const char *msg)
{
	snprintf(out, n, "%s", msg ? msg : "");
	for (char *p = out; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = (p[1] ? ' ' : '\0');
}

int pg_fail(struct barge_conn *c, const PGresult *res, const char *table,
	    const char *what)
{
	char msg[1024];
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	int code = BARGE_ERROR;

	one_line(msg, sizeof msg,
		 res && PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY)
			 ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY)
			 : PQerrorMessage(c->pg));
	if (PQstatus(c->pg) == CONNECTION_BAD)
		code = BARGE_ERETRY;
	else if (state && (strcmp(state, "40001") == 0 ||
			   strcmp(state, "40P01") == 0 ||
			   strncmp(state, "57P", 3) == 0 ||
			   strncmp(state, "08", 2) == 0))
		code = BARGE_ERETRY;
	else if (state && strcmp(state, "23505") == 0)
		code = BARGE_ECONFLICT;
	else if (state && (strncmp(state, "22", 2) == 0 ||
			   strncmp(state, "23", 2) == 0))
		code = BARGE_EDATA;
	const char *tail = code == BARGE_ERETRY ? " (will retry)" : "";
	char st[16] = "";
	if (state)
		snprintf(st, sizeof st, " [%s]", state);
	if (table)
		return barge_error_set(code, "postgres: table '%s': %s: %s%s%s",
				       table, what, msg, st, tail);
	return barge_error_set(code, "postgres: %s: %s%s%s", what, msg, st, tail);
}

int pg_query(struct barge_conn *c, const char *sql, int nparams,
	     const char *const *params, int binary, const char *table,
	     PGresult **out)
{
	PGresult *res;
	int err;
	*out = NULL;
	if ((err = pg_copy_end(c, NULL)))
		return err;
	res = PQexecParams(c->pg, sql, nparams, NULL, params, NULL, NULL, binary);
	if (!res || PQresultStatus(res) != PGRES_TUPLES_OK) {
		err = pg_fail(c, res, table, "query");
		PQclear(res);
		return err;
	}
	*out = res;
	return 0;
}

int pg_exec(struct barge_conn *c, const char *sql, const char *table)
{
	PGresult *res;
	int err = pg_copy_end(c, NULL);
	if (err)
		return err;
	res = PQexec(c->pg, sql);
	ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		err = pg_fail(c, res, table, sql);
	PQclear(res);
	return err;
}

int pg_quote(struct barge_buf *b, const char *name)
{
	return barge_sql_ident(b, PG_SQL, name);
}

/* standard_conforming_strings is on: only quotes are doubled */
int pg_quote_lit(struct barge_buf *b, const char *s)
{
	return barge_sql_literal(b, s);
}

int pg_table(struct barge_buf *b, const struct barge_conn *c,
	     const char *table)
{
	return barge_sql_table(b, PG_SQL, c->schema, table);
}

/* ---- Connections ---------------------------------------------------------- */

void pg_close(struct barge_conn *c)
{
	if (!c)
		return;
	PQfinish(c->pg);
	free(c->schema);
	free(c->where);
	free(c);
}

/* libpq's connection failures that a later attempt may not meet. */
static int transient_connect(const char *msg)
{
	static const char *const words[] = {
		"Connection refused", "starting up", "shutting down",
		"in recovery mode", "too many clients", "timeout expired",
		"server closed the connection",
	};
	for (size_t i = 0; i < sizeof words / sizeof *words; i++)
		if (msg && strstr(msg, words[i]))
			return 1;
	return 0;
}

#define MAX_KEYWORDS 48

static int pg_open(struct barge_conn **out, const struct barge_url *url,
		   unsigned flags)
{
	const char *keys[MAX_KEYWORDS + 1], *vals[MAX_KEYWORDS + 1];
	struct barge_conn *c = NULL;
	struct barge_buf opts;
	const char *schema = barge_url_param(url, "schema");
	size_t n = 0;
	int err = 0;

	*out = NULL;
	barge_buf_init(&opts, 4096);
	barge_buf_adds(&opts, PG_SESSION_OPTIONS);
	/* A source is read only, whatever the role may do. */
	if (!(flags & BARGE_OPEN_WRITE))
		barge_buf_adds(&opts, " -c default_transaction_read_only=on");
	if (barge_url_param(url, "options")) {
		barge_buf_adds(&opts, " ");
		barge_buf_adds(&opts, barge_url_param(url, "options"));
	}
	if (opts.err) {
		err = opts.err;
		goto out;
	}
#define KV(k, v)                                                              \
	do {                                                                  \
		if ((v) && n < MAX_KEYWORDS) {                                \
			keys[n] = (k);                                        \
			vals[n++] = (v);                                      \
		}                                                             \
	} while (0)
	KV("host", url->host && url->host[0] ? url->host : NULL);
	KV("port", url->port && url->port[0] ? url->port : NULL);
	KV("user", url->user);
	KV("password", url->password);
	KV("dbname", url->path && url->path[0] ? url->path : NULL);
	KV("fallback_application_name", "barge");
	KV("client_encoding", "UTF8");
	KV("options", opts.p);
	/* Every other query parameter is a libpq keyword: sslmode,
	 * sslrootcert, connect_timeout, target_session_attrs, ... */
	for (size_t i = 0; i < url->nparams; i++) {
		const char *k = url->params[i].key;
		if (strcmp(k, "schema") == 0 || strcmp(k, "options") == 0)
			continue;
		if (n >= MAX_KEYWORDS) {
			err = barge_error_set(BARGE_EUSAGE,
					      "postgres: too many URL parameters");
			goto out;
		}
		KV(k, url->params[i].value);
	}
#undef KV
	keys[n] = NULL;
	vals[n] = NULL;

	c = calloc(1, sizeof *c);
	if (!c || !(c->schema = strdup(schema && schema[0] ? schema : "public")) ||
	    !(c->where = strdup(barge_url_redacted(url)))) {
		err = barge_error_set(BARGE_ENOMEM, "out of memory");
		goto out;
	}
	c->flags = flags;
	c->pg = PQconnectdbParams(keys, vals, 0);
	if (!c->pg) {
		err = barge_error_set(BARGE_ENOMEM, "out of memory");
		goto out;
	}
	if (PQstatus(c->pg) != CONNECTION_OK) {
		char msg[1024];
		one_line(msg, sizeof msg, PQerrorMessage(c->pg));
		err = barge_error_set(transient_connect(msg) ? BARGE_ERETRY
							     : BARGE_ERROR,
				      "postgres: cannot connect to %s: %s",
				      c->where, msg);
		goto out;
	}
	*out = c;
	c = NULL;
out:
	barge_buf_dispose(&opts);
	pg_close(c);
	return err;
}

/* ---- Snapshots -------------------------------------------------------------- */

static int pg_snapshot_begin(struct barge_conn *c, char **token)
{
	PGresult *res = NULL;
	int err;

	*token = NULL;
	if ((err = pg_exec(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
			   NULL)))
		return err;
	c->snapshot = 1;
	if ((err = pg_query(c, "SELECT pg_export_snapshot()", 0, NULL, 0, NULL,
			    &res)))
		return err;
	if (PQntuples(res) != 1 || !(*token = strdup(PQgetvalue(res, 0, 0))))
		err = barge_error_set(BARGE_ENOMEM, "out of memory");
	PQclear(res);
	return err;
}

static int pg_snapshot_join(struct barge_conn *c, const char *token)
{
	struct barge_buf sql;
	int err;

	barge_buf_init(&sql, 1024);
	/* The token is the server's snapshot id: quote it all the same. */
	barge_buf_adds(&sql, "SET TRANSACTION SNAPSHOT '");
	for (const char *p = token; *p; p++)
		barge_buf_add(&sql, p, *p == '\'' ? 0 : 1);
	barge_buf_adds(&sql, "'");
	if ((err = sql.err))
		goto out;
	if ((err = pg_exec(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
			   NULL)))
		goto out;
	c->snapshot = 1;
	err = pg_exec(c, sql.p, NULL);
	/* 22023, invalid snapshot identifier: the transaction that exported
	 * it has ended (its connection lost, the server restarted). The
	 * caller may take a new one: BARGE_ENOTFOUND. */
	if (err == BARGE_EDATA) {
		char msg[1024];
		snprintf(msg, sizeof msg, "%s", barge_error_last());
		barge_error_clear();
		c->snapshot = 0;
		if (pg_exec(c, "ROLLBACK", NULL) == 0)
			err = barge_error_set(BARGE_ENOTFOUND, "%s (the run's snapshot "
					      "is gone with the connection that "
					      "exported it)", msg);
	}
out:
	barge_buf_dispose(&sql);
	return err;
}

static int pg_snapshot_end(struct barge_conn *c)
{
	if (!c->snapshot)
		return 0;
	c->snapshot = 0;
	return pg_exec(c, "COMMIT", NULL);
}

/* ---- Target transactions ---------------------------------------------------- */

static int pg_begin(struct barge_conn *c)
{
	return pg_exec(c, "BEGIN", NULL);
}

static int pg_commit(struct barge_conn *c)
{
	PGresult *res = NULL;
	int err = pg_copy_end(c, NULL);
	if (err)
		return err;
	res = PQexec(c->pg, "COMMIT");
	if (!res || PQresultStatus(res) != PGRES_COMMAND_OK)
		err = pg_fail(c, res, NULL, "COMMIT");
	/* COMMIT of a failed transaction succeeds as a ROLLBACK. */
	else if (strcmp(PQcmdStatus(res), "COMMIT") != 0)
		err = barge_error_set(BARGE_ERROR,
				      "postgres: the transaction had failed and "
				      "was rolled back");
	PQclear(res);
	return err;
}

static int pg_rollback(struct barge_conn *c)
{
	pg_copy_end(c, "barge rolled back");
	/* Nothing to undo on a lost connection: the server rolled back. */
	if (PQstatus(c->pg) != CONNECTION_OK ||
	    PQtransactionStatus(c->pg) == PQTRANS_IDLE)
		return 0;
	return pg_exec(c, "ROLLBACK", NULL);
}

/* ---- The driver table ---------------------------------------------------------- */

static const char *const pg_schemes[] = {"postgresql", "postgres", NULL};

const struct barge_driver barge_postgres_driver = {
	.name = "postgres",
	.version = 1,
	.caps = BARGE_CAP_SNAPSHOT | BARGE_CAP_UPSERT | BARGE_CAP_TXN |
		BARGE_CAP_PARALLEL_WRITE | BARGE_CAP_SQL,
	.schemes = pg_schemes,
	.open = pg_open,
	.close = pg_close,
	.snapshot_begin = pg_snapshot_begin,
	.snapshot_join = pg_snapshot_join,
	.snapshot_end = pg_snapshot_end,
	.list_tables = pg_list_tables,
	.describe = pg_describe,
	.count_rows = pg_count_rows,
	.key_range = pg_key_range,
	.key_after = pg_key_after,
	.read_open = pg_read_open,
	.read_next = pg_read_next,
	.read_close = pg_read_close,
	.create_table = pg_create_table,
	.begin = pg_begin,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.delete_range = pg_delete_range,
	.truncate = pg_truncate,
	.write_open = pg_write_open,
	.write_batch = pg_write_batch,
	.write_close = pg_write_close,
	.finish_tables = pg_finish_tables,
	.fks_detach = pg_fks_detach,
	.fks_attach = pg_fks_attach,
	.typemap = pg_typemap,
	.digest_able = pg_digest_able,
	.digest_range = pg_digest_range,
	.aggregate = pg_aggregate,
	.lookup = pg_lookup,
};
