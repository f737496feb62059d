/*
 * The state store on SQLite (state.h): the handle, its schema and
 * migrations, the lock, and the statement helpers its pieces share
 * (state_int.h; runs in state_runs.c, units in state_units.c, the log,
 * rejects, progress and verify results in state_log.c). docs/state.md
 * documents the schema for users who query the file with sqlite3.
 *
 * Every public function takes the handle's lock and runs its statements in
 * one transaction through state_tx(): writes use BEGIN IMMEDIATE so two
 * processes never both read and then race to write (which is what makes
 * claiming atomic), and a transaction that meets SQLITE_BUSY is rolled back
 * and run again with a short backoff until the busy limit, then fails with
 * BARGE_ERETRY. Strings always go in as bound parameters.
 */
#include "state_int.h"

#include "barge/barge.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* PRAGMA user_version of the schema this code writes; see migrate(). */
#define STATE_SCHEMA_VERSION 3
/* PRAGMA application_id: "BRGE", so a foreign SQLite file is refused. */
#define STATE_APP_ID 0x42524745
/* How long a write keeps retrying a locked store, unless overridden by
 * BARGE_STATE_BUSY_TIMEOUT (seconds). */
#define STATE_BUSY_LIMIT 60.0

/* Version 3: the index of rejects by unit, put in the schema after
 * version 2 files existed without it. */
#define REJECTS_UNIT_SQL "CREATE INDEX IF NOT EXISTS rejects_unit ON rejects(unit);"
/* Version 2: results of `barge verify` (one row per table per verify). */
#define VERIFY_RESULTS_SQL                                                    \
	"CREATE TABLE IF NOT EXISTS verify_results("                          \
	" id INTEGER PRIMARY KEY,"                                            \
	" at REAL NOT NULL,"                                                  \
	" source TEXT,"                                                       \
	" target TEXT NOT NULL,"                                              \
	" table_name TEXT NOT NULL,"                                          \
	" against_state INTEGER NOT NULL DEFAULT 0,"                          \
	" equal INTEGER NOT NULL,"                                            \
	" source_rows INTEGER, target_rows INTEGER, chunks INTEGER,"          \
	" missing INTEGER, extra INTEGER, changed INTEGER,"                   \
	" seconds REAL,"                                                      \
	" report TEXT);"

static const char *const schema_sql =
	"CREATE TABLE IF NOT EXISTS runs("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" source TEXT NOT NULL,"
	" target TEXT NOT NULL,"
	" tables TEXT NOT NULL DEFAULT '',"
	" config TEXT NOT NULL DEFAULT '{}',"
	" status TEXT NOT NULL DEFAULT 'running',"
	" started REAL NOT NULL,"
	" finished REAL,"
	" pid INTEGER);"
	"CREATE TABLE IF NOT EXISTS units("
	" id INTEGER PRIMARY KEY,"
	" run INTEGER NOT NULL REFERENCES runs(id),"
	" table_name TEXT NOT NULL,"
	" seq INTEGER NOT NULL,"
	" lo TEXT,"
	" hi TEXT,"
	" by_rowid INTEGER NOT NULL DEFAULT 0,"
	" status TEXT NOT NULL DEFAULT 'pending'"
	"  CHECK (status IN ('pending','running','done','failed')),"
	" attempts INTEGER NOT NULL DEFAULT 0,"
	" rows_read INTEGER NOT NULL DEFAULT 0,"
	" rows_written INTEGER NOT NULL DEFAULT 0,"
	" rows_rejected INTEGER NOT NULL DEFAULT 0,"
	" bytes INTEGER NOT NULL DEFAULT 0,"
	" digest TEXT,"
	" started REAL,"
	" finished REAL,"
	" last_error TEXT,"
	" UNIQUE (run, table_name, seq));"
	"CREATE INDEX IF NOT EXISTS units_claim ON units(run, status, id);"
	"CREATE INDEX IF NOT EXISTS units_claim_table"
	" ON units(run, table_name, status, id);"
	"CREATE TABLE IF NOT EXISTS planned("
	" run INTEGER NOT NULL REFERENCES runs(id),"
	" table_name TEXT NOT NULL,"
	" ord INTEGER NOT NULL,"
	" PRIMARY KEY (run, table_name));"
	"CREATE TABLE IF NOT EXISTS log("
	" id INTEGER PRIMARY KEY,"
	" run INTEGER NOT NULL REFERENCES runs(id),"
	" unit INTEGER REFERENCES units(id),"
	" at REAL NOT NULL,"
	" event TEXT NOT NULL,"
	" message TEXT);"
	"CREATE INDEX IF NOT EXISTS log_run ON log(run, id);"
	"CREATE TABLE IF NOT EXISTS flags("
	" run INTEGER NOT NULL REFERENCES runs(id),"
	" key TEXT NOT NULL,"
	" value TEXT,"
	" PRIMARY KEY (run, key));"
	"CREATE TABLE IF NOT EXISTS rejects("
	" id INTEGER PRIMARY KEY,"
	" run INTEGER NOT NULL REFERENCES runs(id),"
	" unit INTEGER REFERENCES units(id),"
	" table_name TEXT NOT NULL,"
	" source_key TEXT,"
	" row_json TEXT,"
	" rule TEXT,"
	" message TEXT,"
	" at REAL NOT NULL);"
	"CREATE INDEX IF NOT EXISTS rejects_run ON rejects(run, table_name);"
	REJECTS_UNIT_SQL
	"CREATE TABLE IF NOT EXISTS audit("
	" id INTEGER PRIMARY KEY,"
	" at REAL NOT NULL,"
	" user TEXT,"
	" host TEXT,"
	" command TEXT,"
	" source TEXT,"
	" target TEXT);"
	VERIFY_RESULTS_SQL;

/* ---- Statements: each helper sets the error slot where it fails ---------- */

int state_fail(struct barge_state *st, int src, const char *what)
{
	int prim = src & 0xff;
	if (prim == SQLITE_BUSY || prim == SQLITE_LOCKED)
		return barge_error_set(BARGE_ERETRY,
				       "state file '%s' is locked by another process",
				       st->path);
	if (prim == SQLITE_NOMEM)
		return barge_error_set(BARGE_ENOMEM, "state file '%s': out of memory",
				       st->path);
	return barge_error_set(BARGE_ERROR, "state file '%s': %s: %s", st->path,
			       what, sqlite3_errmsg(st->db));
}

int state_exec(struct barge_state *st, const char *sql)
{
	int src = sqlite3_exec(st->db, sql, NULL, NULL, NULL);
	if (src != SQLITE_OK)
		return state_fail(st, src, sql);
	return 0;
}

/* Bind params to ?1, ?2, ... in order. */
static int state_bind(struct barge_state *st, sqlite3_stmt *s,
		      const struct state_param *params)
{
	int src = SQLITE_OK;

	for (int i = 0; params && params[i].type != SP_END && src == SQLITE_OK; i++) {
		const struct state_param *p = &params[i];
		switch (p->type) {
		case SP_INT:
			src = sqlite3_bind_int64(s, i + 1, p->i);
			break;
		case SP_REAL:
			src = sqlite3_bind_double(s, i + 1, p->d);
			break;
		case SP_TEXT:
			src = p->t ? sqlite3_bind_text(s, i + 1, p->t, -1, SQLITE_TRANSIENT)
				   : sqlite3_bind_null(s, i + 1);
			break;
		case SP_END:
			break;
		}
	}
	return src == SQLITE_OK ? 0 : state_fail(st, src, "bind");
}

int state_prep(struct barge_state *st, sqlite3_stmt **out, const char *sql,
	       const struct state_param *params)
{
	int src = sqlite3_prepare_v2(st->db, sql, -1, out, NULL);
	int rc;

	if (src != SQLITE_OK) {
		*out = NULL;
		return state_fail(st, src, "prepare");
	}
	if ((rc = state_bind(st, *out, params)) < 0) {
		sqlite3_finalize(*out);
		*out = NULL;
	}
	return rc;
}

int state_step(struct barge_state *st, sqlite3_stmt *s)
{
	int src = sqlite3_step(s);
	if (src == SQLITE_ROW)
		return 1;
	if (src == SQLITE_DONE)
		return 0;
	return state_fail(st, src, "step");
}

int state_step_with(struct barge_state *st, sqlite3_stmt *s,
		    const struct state_param *params)
{
	int rc;

	sqlite3_reset(s);
	if ((rc = state_bind(st, s, params)) < 0)
		return rc;
	return state_step(st, s);
}

int state_row(struct barge_state *st, sqlite3_stmt **out, const char *sql,
	      const struct state_param *params)
{
	int rc = state_prep(st, out, sql, params);
	return rc < 0 ? rc : state_step(st, *out);
}

int state_run(struct barge_state *st, const char *sql,
	      const struct state_param *params)
{
	sqlite3_stmt *s = NULL;
	int rc = state_row(st, &s, sql, params);

	if (rc >= 0)
		rc = sqlite3_changes(st->db);
	sqlite3_finalize(s);
	return rc;
}

int state_col_dup(sqlite3_stmt *s, int i, char **out)
{
	const unsigned char *t = sqlite3_column_text(s, i);
	*out = NULL;
	if (!t)
		return 0;
	*out = strdup((const char *)t);
	if (!*out)
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	return 0;
}

int state_no_run(struct barge_state *st, int64_t run)
{
	return barge_error_set(BARGE_ENOTFOUND, "no run %lld in state file '%s'",
			       (long long)run, st->path);
}

int state_no_unit(struct barge_state *st, int64_t unit)
{
	return barge_error_set(BARGE_ENOTFOUND, "no unit %lld in state file '%s'",
			       (long long)unit, st->path);
}

/* ---- Transactions ---------------------------------------------------------- */

int state_tx(struct barge_state *st, enum tx_mode mode, tx_fn fn, void *arg)
{
	static const char *const begin[] = {NULL, "BEGIN", "BEGIN IMMEDIATE"};
	double deadline = barge_monotonic() + st->busy_limit;
	double pause = 0.002;
	int rc;

	pthread_mutex_lock(&st->lock);
	for (;;) {
		rc = begin[mode] ? state_exec(st, begin[mode]) : 0;
		if (rc == 0) {
			rc = fn(st, arg);
			if (rc == 0 && mode != TX_NONE)
				rc = state_exec(st, "COMMIT");
		}
		if (rc != 0 && !sqlite3_get_autocommit(st->db))
			sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		if (rc != BARGE_ERETRY || barge_monotonic() >= deadline)
			break;
		/* sqlite's own busy handler has already waited; this backoff
		 * only spaces out the whole-transaction retries */
		barge_sleep(pause);
		if (pause < 0.1)
			pause *= 2;
	}
	if (rc == BARGE_ERETRY)
		barge_error_set(BARGE_ERETRY,
				"state file '%s' stayed locked by another process for %.0f s;"
				" try again when that process is done",
				st->path, st->busy_limit);
	pthread_mutex_unlock(&st->lock);
	return rc;
}

/* ---- Open and schema ----------------------------------------------------- */

struct open_arg {
	int create;
	int need_create; /* out of the check: an empty file to set up */
	int need_migrate;/* out of the check: the older version to upgrade */
};

/*
 * Check what the file is: a barge store of a version we can read, an empty
 * file (need_create), or something else, which is refused before anything
 * touches it (a --state pointed at a user's database must not change it).
 */
static int schema_check(struct barge_state *st, void *varg)
{
	struct open_arg *a = varg;
	sqlite3_stmt *s = NULL;
	int64_t version = 0, appid = 0, objects = 0;
	int rc;

	a->need_create = 0;
	a->need_migrate = 0;
	if ((rc = state_row(st, &s, "SELECT (SELECT user_version FROM pragma_user_version),"
				    " (SELECT application_id FROM pragma_application_id),"
				    " (SELECT count(*) FROM sqlite_master)", NULL)) < 0)
		goto out;
	version = sqlite3_column_int64(s, 0);
	appid = sqlite3_column_int64(s, 1);
	objects = sqlite3_column_int64(s, 2);
	rc = 0;

	if (version == 0 && objects == 0) {
		if (!a->create)
			rc = barge_error_set(BARGE_EUSAGE,
					     "'%s' is an empty file, not a barge state file",
					     st->path);
		else
			a->need_create = 1;
	} else if (version == 0 || appid != STATE_APP_ID) {
		rc = barge_error_set(BARGE_EUSAGE,
				     "'%s' is not a barge state file; give another --state path",
				     st->path);
	} else if (version > STATE_SCHEMA_VERSION) {
		rc = barge_error_set(BARGE_EUSAGE,
				     "state file '%s' has schema version %lld, newer than this"
				     " barge reads (%d); use a newer barge",
				     st->path, (long long)version, STATE_SCHEMA_VERSION);
	} else if (version < 1) {
		rc = barge_error_set(BARGE_EUSAGE,
				     "state file '%s' has unknown schema version %lld",
				     st->path, (long long)version);
	} else if (version < STATE_SCHEMA_VERSION) {
		a->need_migrate = (int)version; /* migrate() under the write lock */
	}
out:
	sqlite3_finalize(s);
	return rc;
}

/* Create the schema in an empty file; checks again under the write lock,
 * as another process may have created it since. */
static int schema_create(struct barge_state *st, void *varg)
{
	struct open_arg *a = varg;
	char pragma[96];
	int rc;

	if ((rc = schema_check(st, a)) < 0 || !a->need_create)
		return rc;
	if ((rc = state_exec(st, schema_sql)) < 0)
		return rc;
	snprintf(pragma, sizeof pragma,
		 "PRAGMA user_version = %d; PRAGMA application_id = %d;",
		 STATE_SCHEMA_VERSION, STATE_APP_ID);
	return state_exec(st, pragma);
}

/*
 * Upgrade an older schema in one write transaction (checked again under
 * the lock: another process may have done it). 1 -> 2 adds verify_results,
 * 2 -> 3 the index rejects_unit; nothing else changes, so an older file
 * keeps all its runs.
 */
static int migrate(struct barge_state *st, void *varg)
{
	struct open_arg *a = varg;
	char pragma[64];
	int rc;

	if ((rc = schema_check(st, a)) < 0 || !a->need_migrate)
		return rc;
	if (a->need_migrate < 2 && (rc = state_exec(st, VERIFY_RESULTS_SQL)) < 0)
		return rc;
	if (a->need_migrate < 3 && (rc = state_exec(st, REJECTS_UNIT_SQL)) < 0)
		return rc;
	snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d;",
		 STATE_SCHEMA_VERSION);
	return state_exec(st, pragma);
}

static int set_wal(struct barge_state *st, void *varg)
{
	sqlite3_stmt *s = NULL;
	int rc;

	(void)varg;
	if ((rc = state_row(st, &s, "PRAGMA journal_mode = WAL", NULL)) < 0)
		goto out;
	const char *mode = rc == 1 ? (const char *)sqlite3_column_text(s, 0) : NULL;
	if (!mode || strcmp(mode, "wal") != 0) {
		rc = barge_error_set(BARGE_ERROR,
				     "state file '%s': cannot use WAL journal mode (got %s);"
				     " put the state file on a local file system",
				     st->path, mode ? mode : "nothing");
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(s);
	return rc;
}

static double busy_limit_from_env(void)
{
	const char *e = getenv("BARGE_STATE_BUSY_TIMEOUT");
	char *end = NULL;
	double v;

	if (!e || !*e)
		return STATE_BUSY_LIMIT;
	errno = 0;
	v = strtod(e, &end);
	if (errno || *end || v < 0)
		return STATE_BUSY_LIMIT;
	return v;
}

int barge_state_open(struct barge_state **out, const char *path, int create)
{
	struct barge_state *st = NULL;
	struct open_arg oa = {.create = create};
	struct stat sb;
	int rc = 0, src;

	*out = NULL;
	if (!create && stat(path, &sb) != 0 && errno == ENOENT)
		return barge_error_set(BARGE_ENOTFOUND, "no state file '%s'", path);

	st = calloc(1, sizeof *st);
	if (!st)
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	pthread_mutex_init(&st->lock, NULL);
	st->busy_limit = busy_limit_from_env();
	st->path = strdup(path);
	if (!st->path) {
		rc = barge_error_set(BARGE_ENOMEM, "out of memory");
		goto out;
	}

	/* Without create, SQLite must not create the file either (it could
	 * have been removed since the stat). */
	src = sqlite3_open_v2(path, &st->db,
			      SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0),
			      NULL);
	if (src != SQLITE_OK) {
		if (!create && src == SQLITE_CANTOPEN)
			rc = barge_error_set(BARGE_ENOTFOUND, "no state file '%s'", path);
		else
			rc = barge_error_set(BARGE_ERROR, "cannot open state file '%s': %s",
					     path, st->db ? sqlite3_errmsg(st->db)
							  : sqlite3_errstr(src));
		goto out;
	}
	sqlite3_extended_result_codes(st->db, 1);
	/* SQLite waits this long on a lock itself before state_tx retries */
	sqlite3_busy_timeout(st->db, st->busy_limit < 1 ? (int)(st->busy_limit * 1000) : 1000);

	/* Per-connection settings. FULL: a unit marked done is on disk when
	 * the call returns, since the target already holds that chunk. */
	if ((rc = state_exec(st, "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON")) < 0)
		goto out;
	if ((rc = state_tx(st, TX_READ, schema_check, &oa)) < 0)
		goto out;
	if ((rc = state_tx(st, TX_NONE, set_wal, NULL)) < 0)
		goto out;
	if (oa.need_create && (rc = state_tx(st, TX_WRITE, schema_create, &oa)) < 0)
		goto out;
	if (oa.need_migrate && (rc = state_tx(st, TX_WRITE, migrate, &oa)) < 0)
		goto out;
out:
	if (rc < 0) {
		barge_state_close(st);
		return rc;
	}
	*out = st;
	return 0;
}

void barge_state_close(struct barge_state *st)
{
	if (!st)
		return;
	sqlite3_close_v2(st->db);
	free(st->path);
	pthread_mutex_destroy(&st->lock);
	free(st);
}
