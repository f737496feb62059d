/*
 * The MySQL / MariaDB endpoint driver (on MariaDB Connector/C): the driver
 * table, connections (URL options, the password), error classes, the
 * consistent snapshot and its proof, target transactions. Schema, reading
 * and writing live in schema.c, read.c and write.c (my_int.h).
 */
#include "my_int.h"

#include <errmsg.h>
#include <mysqld_error.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/*
 * Every session: UTC for TIMESTAMP columns, strict values (a value MySQL
 * would clip or round is an error, not a warning), no backslash escapes
 * in literals (only quotes are doubled: my_quote_lit), 0 kept in an
 * AUTO_INCREMENT column, and long network timeouts (a reader's result is
 * streamed as fast as the writer takes it).
 */
#define MY_SESSION                                                            \
	"SET SESSION time_zone = '+00:00', "                                  \
	"sql_mode = 'STRICT_ALL_TABLES,NO_AUTO_VALUE_ON_ZERO,"               \
	"NO_ENGINE_SUBSTITUTION,NO_BACKSLASH_ESCAPES', "                     \
	"net_write_timeout = 3600, net_read_timeout = 3600"

int my_errcode(unsigned e)
{
	switch (e) {
	case CR_SERVER_GONE_ERROR:
	case CR_SERVER_LOST:
	case CR_CONN_HOST_ERROR:
	case CR_CONNECTION_ERROR:
	case ER_LOCK_DEADLOCK:
	case ER_LOCK_WAIT_TIMEOUT:
	case ER_SERVER_SHUTDOWN:
	case ER_CON_COUNT_ERROR:
	case ER_QUERY_INTERRUPTED:
	case 1927: /* ER_CONNECTION_KILLED (MariaDB) */
	case 4031: /* the server closed an idle connection (MySQL 8) */
		return BARGE_ERETRY;
	case ER_DUP_ENTRY:
	case ER_DUP_ENTRY_WITH_KEY_NAME:
		return BARGE_ECONFLICT;
	case ER_WARN_DATA_OUT_OF_RANGE:
	case WARN_DATA_TRUNCATED:
	case ER_TRUNCATED_WRONG_VALUE_FOR_FIELD:
	case ER_TRUNCATED_WRONG_VALUE:
	case ER_DATA_TOO_LONG:
	case ER_BAD_NULL_ERROR:
	case ER_NO_DEFAULT_FOR_FIELD:
	case ER_ILLEGAL_VALUE_FOR_TYPE:
	case ER_DATETIME_FUNCTION_OVERFLOW:
	case ER_DATA_OUT_OF_RANGE:
	case ER_NO_REFERENCED_ROW_2:
	case ER_ROW_IS_REFERENCED_2:
	case ER_WARN_NULL_TO_NOTNULL:
	case ER_CANT_CREATE_GEOMETRY_OBJECT:
	case 4025: /* CHECK constraint failed (MariaDB: json_valid) */
	case 3140: /* invalid JSON text (MySQL) */
	case 3819: /* check constraint violated (MySQL) */
		return BARGE_EDATA;
	default:
		return BARGE_ERROR;
	}
}

int my_fail(struct barge_conn *c, const char *table, const char *what)
{
	unsigned e = mysql_errno(c->my);
	int code = my_errcode(e);
	const char *tail = code == BARGE_ERETRY ? " (will retry)" : "";
	if (table)
		return barge_error_set(code, "mysql: table '%s': %s: %s [%u]%s",
				       table, what, mysql_error(c->my), e, tail);
	return barge_error_set(code, "mysql: %s: %s [%u]%s", what,
			       mysql_error(c->my), e, tail);
}

/* The start of a statement, for messages (never values: a statement
 * may carry rows). */
static const char *what_of(const char *sql, char *buf, size_t n)
{
	size_t len = strcspn(sql, "(");
	if (len > 60)
		len = 60;
	snprintf(buf, n, "%.*s", (int)len, sql);
	return buf;
}

int my_exec(struct barge_conn *c, const char *sql, const char *table)
{
	char what[64];
	if (mysql_real_query(c->my, sql, strlen(sql)) != 0)
		return my_fail(c, table, what_of(sql, what, sizeof what));
	/* a statement that returned rows (SHOW ...): discard them */
	do {
		MYSQL_RES *res = mysql_store_result(c->my);
		mysql_free_result(res);
	} while (mysql_next_result(c->my) == 0);
	if (mysql_errno(c->my))
		return my_fail(c, table, what_of(sql, what, sizeof what));
	return 0;
}

int my_query(struct barge_conn *c, const char *sql, const char *table,
	     MYSQL_RES **out)
{
	char what[64];
	*out = NULL;
	if (mysql_real_query(c->my, sql, strlen(sql)) != 0 ||
	    !(*out = mysql_store_result(c->my)))
		return my_fail(c, table, what_of(sql, what, sizeof what));
	return 0;
}

int my_quote(struct barge_buf *b, const char *name)
{
	barge_buf_add(b, "`", 1);
	for (const char *p = name; *p; p++) {
		if (*p == '`')
			barge_buf_add(b, "`", 1);
		barge_buf_add(b, p, 1);
	}
	return barge_buf_add(b, "`", 1);
}

int my_table(struct barge_buf *b, const struct barge_conn *c,
	     const char *table)
{
	my_quote(b, c->db);
	barge_buf_adds(b, ".");
	return my_quote(b, table);
}

/* NO_BACKSLASH_ESCAPES is on: only quotes are doubled. */
int my_quote_lit(struct barge_buf *b, const char *s, size_t n)
{
	barge_buf_add(b, "'", 1);
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\'')
			barge_buf_add(b, "'", 1);
		barge_buf_add(b, s + i, 1);
	}
	return barge_buf_add(b, "'", 1);
}

/* ---- Connections ---------------------------------------------------------- */

static void my_close(struct barge_conn *c)
{
	if (!c)
		return;
	if (c->my)
		mysql_close(c->my);
	free(c->db);
	free(c->where);
	free(c);
}

/* ssl-mode, as MySQL's clients spell it. */
static int set_ssl(struct barge_conn *c, const struct barge_url *url)
{
	const char *mode = barge_url_param(url, "ssl-mode");
	const char *ca = barge_url_param(url, "ssl-ca");
	my_bool yes = 1, no = 0;

	if (ca)
		mysql_optionsv(c->my, MYSQL_OPT_SSL_CA, ca);
	if (!mode || strcasecmp(mode, "DISABLED") == 0) {
		mysql_optionsv(c->my, MYSQL_OPT_SSL_ENFORCE, &no);
		mysql_optionsv(c->my, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &no);
		return 0;
	}
	if (strcasecmp(mode, "PREFERRED") == 0) {
		/* TLS when the server offers it */
		mysql_ssl_set(c->my, NULL, NULL, ca, NULL, NULL);
		mysql_optionsv(c->my, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &no);
		return 0;
	}
	if (strcasecmp(mode, "REQUIRED") == 0) {
		mysql_optionsv(c->my, MYSQL_OPT_SSL_ENFORCE, &yes);
		mysql_optionsv(c->my, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &no);
		return 0;
	}
	if (strcasecmp(mode, "VERIFY_CA") == 0 ||
	    strcasecmp(mode, "VERIFY_IDENTITY") == 0) {
		mysql_optionsv(c->my, MYSQL_OPT_SSL_ENFORCE, &yes);
		mysql_optionsv(c->my, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &yes);
		return 0;
	}
	return barge_error_set(BARGE_EUSAGE, "mysql: ssl-mode=%s: expected "
			       "DISABLED, PREFERRED, REQUIRED, VERIFY_CA or "
			       "VERIFY_IDENTITY", mode);
}

/* The connection failures that a later attempt may not meet. */
static int transient_connect(unsigned e)
{
	return e == CR_CONN_HOST_ERROR || e == CR_CONNECTION_ERROR ||
	       e == CR_SERVER_LOST || e == CR_SERVER_GONE_ERROR ||
	       e == ER_CON_COUNT_ERROR || e == ER_SERVER_SHUTDOWN ||
	       e == 1927;
}

static int check_params(const struct barge_url *url)
{
	static const char *const known[] = {
		"ssl-mode", "ssl-ca", "charset", "socket", "option-file",
		"zero-dates", NULL,
	};
	for (size_t i = 0; i < url->nparams; i++) {
		const char *const *k = known;
		while (*k && strcmp(*k, url->params[i].key) != 0)
			k++;
		if (!*k)
			return barge_error_set(BARGE_EUSAGE, "mysql: unknown URL "
					       "option '%s' (known: ssl-mode, ssl-ca, "
					       "charset, socket, option-file, zero-dates)",
					       url->params[i].key);
	}
	return 0;
}

static int my_open(struct barge_conn **out, const struct barge_url *url,
		   unsigned flags)
{
	struct barge_conn *c = NULL;
	const char *charset = barge_url_param(url, "charset");
	const char *socket = barge_url_param(url, "socket");
	const char *optfile = barge_url_param(url, "option-file");
	const char *zero = barge_url_param(url, "zero-dates");
	const char *password = url->password;
	unsigned port = 0;
	my_bool yes = 1;
	int err = 0;

	*out = NULL;
	if ((err = check_params(url)))
		return err;
	/* barge's text is UTF-8: the server converts every other column
	 * charset (latin1, which MySQL means as cp1252, included) to it */
	if (charset && strcasecmp(charset, "utf8mb4") != 0)
		return barge_error_set(BARGE_EUSAGE, "mysql: charset=%s: only "
				       "utf8mb4 is supported (the server converts "
				       "each column's own charset to it)", charset);
	if (url->port && url->port[0] &&
	    barge_parse_i64(&(int64_t){0}, url->port, "port") == 0)
		port = (unsigned)strtoul(url->port, NULL, 10);
	else if (url->port && url->port[0])
		return barge_error_set(BARGE_EUSAGE, "mysql: bad port in %s",
				       barge_url_redacted(url));
	if (!url->path || !url->path[0])
		return barge_error_set(BARGE_EUSAGE, "mysql: no database in %s "
				       "(mysql://user@host:port/db)",
				       barge_url_redacted(url));
	c = calloc(1, sizeof *c);
	if (!c || !(c->db = strdup(url->path)) ||
	    !(c->where = strdup(barge_url_redacted(url))) || !(c->my = mysql_init(NULL))) {
		err = barge_error_set(BARGE_ENOMEM, "out of memory");
		goto out;
	}
	c->flags = flags;
	if (zero && strcmp(zero, "null") == 0)
		c->zero_dates = MY_ZERO_NULL;
	else if (zero && strcmp(zero, "error") != 0) {
		err = barge_error_set(BARGE_EUSAGE, "mysql: zero-dates=%s: expected "
				      "error or null", zero);
		goto out;
	}
	if ((err = set_ssl(c, url)))
		goto out;
	mysql_optionsv(c->my, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	mysql_optionsv(c->my, MYSQL_OPT_LOCAL_INFILE, &yes);
	if (optfile) {
		mysql_optionsv(c->my, MYSQL_READ_DEFAULT_FILE, optfile);
		mysql_optionsv(c->my, MYSQL_READ_DEFAULT_GROUP, "client");
	}
	/* the password: the URL's, else MYSQL_PWD, else the option file's */
	if (!password)
		password = getenv("MYSQL_PWD");
	if (!mysql_real_connect(c->my, url->host && url->host[0] ? url->host : NULL,
				url->user, password, c->db, port, socket,
				CLIENT_FOUND_ROWS)) {
		unsigned e = mysql_errno(c->my);
		err = barge_error_set(transient_connect(e) ? BARGE_ERETRY
							   : BARGE_ERROR,
				      "mysql: cannot connect to %s: %s [%u]",
				      c->where, mysql_error(c->my), e);
		goto out;
	}
	c->mariadb = strstr(mysql_get_server_info(c->my), "MariaDB") != NULL;
	if ((err = my_exec(c, MY_SESSION, NULL)) ||
	    (err = my_exec(c, "SET SESSION TRANSACTION ISOLATION LEVEL "
			   "REPEATABLE READ", NULL)))
		goto out;
	if (!(flags & BARGE_OPEN_WRITE) &&
	    (err = my_exec(c, "SET SESSION TRANSACTION READ ONLY", NULL)))
		goto out;
	/* A target loads tables in the plan's order and re-runs chunks
	 * (replace, truncate): foreign keys are not checked while it writes,
	 * as mysqldump's and myloader's loads do not. */
	if ((flags & BARGE_OPEN_WRITE) &&
	    (err = my_exec(c, "SET SESSION foreign_key_checks = 0", NULL)))
		goto out;
	*out = c;
	c = NULL;
out:
	my_close(c);
	return err;
}

/* ---- Snapshots -------------------------------------------------------------- */

/*
 * Each connection opens its own `START TRANSACTION WITH CONSISTENT
 * SNAPSHOT`: MySQL cannot hand one snapshot to another session. The
 * proof that they are the same snapshot is the binary log position each
 * transaction saw (MariaDB's binlog_snapshot_file/_position, taken
 * atomically with the snapshot): the token is the leader's, and a worker
 * whose position differs (a write committed in between) gives its
 * snapshot up with BARGE_ENOTFOUND, so the engine takes a new one and the
 * run says it read more than one. A server without a binary log cannot
 * prove it: the token says so, and each join says so on stderr.
 */
static int snapshot_open(struct barge_conn *c, char *pos, size_t n)
{
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	char file[256] = "", at[64] = "";
	int err;

	if ((err = my_exec(c, "START TRANSACTION WITH CONSISTENT SNAPSHOT, "
			      "READ ONLY", NULL)))
		return err;
	c->snapshot = 1;
	if ((err = my_query(c, "SHOW SESSION STATUS LIKE 'binlog_snapshot_%'",
			    NULL, &res)))
		return err;
	while ((row = mysql_fetch_row(res))) {
		if (strcmp(row[0], "Binlog_snapshot_file") == 0 && row[1])
			snprintf(file, sizeof file, "%s", row[1]);
		else if (strcmp(row[0], "Binlog_snapshot_position") == 0 && row[1])
			snprintf(at, sizeof at, "%s", row[1]);
	}
	mysql_free_result(res);
	if (file[0] && at[0])
		snprintf(pos, n, "binlog:%s:%s", file, at);
	else
		snprintf(pos, n, "nobinlog");
	return 0;
}

static int my_snapshot_begin(struct barge_conn *c, char **token)
{
	char pos[512];
	int err;

	*token = NULL;
	if ((err = snapshot_open(c, pos, sizeof pos)))
		return err;
	if (!(*token = strdup(pos)))
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	return 0;
}

static int my_snapshot_join(struct barge_conn *c, const char *token)
{
	char pos[512];
	int err;

	if ((err = snapshot_open(c, pos, sizeof pos)))
		return err;
	if (strcmp(token, "nobinlog") == 0) {
		fprintf(stderr, "barge: mysql: %s has no binary log: the workers' "
			"snapshots cannot be proved to be one (enable log_bin, or "
			"use --jobs 1)\n", c->where);
		return 0;
	}
	if (strcmp(pos, token) == 0)
		return 0;
	c->snapshot = 0;
	if ((err = my_exec(c, "ROLLBACK", NULL)))
		return err;
	return barge_error_set(BARGE_ENOTFOUND, "mysql: a write committed between "
			       "the run's snapshot (%s) and this worker's (%s)",
			       token, pos);
}

static int my_snapshot_end(struct barge_conn *c)
{
	if (!c->snapshot)
		return 0;
	c->snapshot = 0;
	return my_exec(c, "COMMIT", NULL);
}

/* ---- Target transactions ---------------------------------------------------- */

static int my_begin(struct barge_conn *c)
{
	int err = my_exec(c, "START TRANSACTION", NULL);
	c->in_txn = err == 0;
	return err;
}

static int my_commit(struct barge_conn *c)
{
	c->in_txn = 0;
	return my_exec(c, "COMMIT", NULL);
}

static int my_rollback(struct barge_conn *c)
{
	c->in_txn = 0;
	/* Nothing to undo on a lost connection: the server rolled back. */
	if (mysql_query(c->my, "ROLLBACK") != 0) {
		unsigned e = mysql_errno(c->my);
		if (e == CR_SERVER_GONE_ERROR || e == CR_SERVER_LOST)
			return 0;
		return my_fail(c, NULL, "ROLLBACK");
	}
	return 0;
}

/* ---- The driver table ---------------------------------------------------------- */

static const char *const my_schemes[] = {"mysql", "mariadb", NULL};

const struct barge_driver barge_mysql_driver = {
	.name = "mysql",
	.version = 1,
	.caps = BARGE_CAP_SNAPSHOT | BARGE_CAP_UPSERT | BARGE_CAP_TXN |
		BARGE_CAP_PARALLEL_WRITE | BARGE_CAP_SQL,
	.schemes = my_schemes,
	.open = my_open,
	.close = my_close,
	.snapshot_begin = my_snapshot_begin,
	.snapshot_join = my_snapshot_join,
	.snapshot_end = my_snapshot_end,
	.list_tables = my_list_tables,
	.describe = my_describe,
	.count_rows = my_count_rows,
	.key_range = my_key_range,
	.key_after = my_key_after,
	.read_open = my_read_open,
	.read_next = my_read_next,
	.read_close = my_read_close,
	.create_table = my_create_table,
	.begin = my_begin,
	.commit = my_commit,
	.rollback = my_rollback,
	.delete_range = my_delete_range,
	.truncate = my_truncate,
	.write_open = my_write_open,
	.write_batch = my_write_batch,
	.write_close = my_write_close,
	.finish_tables = my_finish_tables,
	.typemap = my_typemap,
};
