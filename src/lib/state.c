/*
 * The state store on SQLite (state.h). docs/state.md documents the schema
 * for users who query the file with sqlite3.
 *
 * Every public function takes the handle's lock and runs its statements in
 * one transaction through state_tx(): writes use BEGIN IMMEDIATE so two
 * processes never both read and then race to write (which is what makes
 * claiming atomic), and a transaction that meets SQLITE_BUSY is rolled back
 * and run again with a short backoff until the busy limit, then fails with
 * BARGE_ERETRY. Strings always go in as bound parameters.
 */
#include "state.h"

#include "barge/barge.h"
#include "util.h"

#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* PRAGMA user_version of the schema this code writes; see migrate(). */
#define STATE_SCHEMA_VERSION 3
/* PRAGMA application_id: "BRGE", so a foreign SQLite file is refused. */
#define STATE_APP_ID 0x42524745
/* How long a write keeps retrying a locked store, unless overridden by
 * BARGE_STATE_BUSY_TIMEOUT (seconds). */
#define STATE_BUSY_LIMIT 60.0

struct barge_state {
	sqlite3 *db;
	char *path;
	double busy_limit; /* seconds */
	pthread_mutex_t lock;
};

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

#define UNIT_COLUMNS                                                          \
	"id, run, table_name, seq, lo, hi, by_rowid, status, attempts,"      \
	" rows_read, rows_written, rows_rejected, bytes, digest, started,"   \
	" finished, last_error"

static const char *const unit_status_names[] = {
	[BARGE_UNIT_PENDING] = "pending",
	[BARGE_UNIT_RUNNING] = "running",
	[BARGE_UNIT_DONE] = "done",
	[BARGE_UNIT_FAILED] = "failed",
};

const char *barge_unit_status_name(int status)
{
	if (status < 0 || status > BARGE_UNIT_FAILED)
		return "unknown";
	return unit_status_names[status];
}

static int unit_status_parse(const char *s)
{
	for (int i = 0; i <= BARGE_UNIT_FAILED; i++)
		if (s && strcmp(s, unit_status_names[i]) == 0)
			return i;
	/* the CHECK constraint keeps other values out of the table */
	return BARGE_UNIT_FAILED;
}

/* ---- SQLite helpers: each sets the error slot where it fails ------------- */

/* Map a SQLite failure: busy and locked are transient (the caller's retry
 * loop runs the transaction again), everything else is an error. */
static int db_fail(struct barge_state *st, int src, const char *what)
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

static int exec_sql(struct barge_state *st, const char *sql)
{
	int src = sqlite3_exec(st->db, sql, NULL, NULL, NULL);
	if (src != SQLITE_OK)
		return db_fail(st, src, sql);
	return 0;
}

static int prep(struct barge_state *st, sqlite3_stmt **out, const char *sql)
{
	int src = sqlite3_prepare_v2(st->db, sql, -1, out, NULL);
	if (src != SQLITE_OK) {
		*out = NULL;
		return db_fail(st, src, "prepare");
	}
	return 0;
}

/* Step once: 1 for a row, 0 when done, negative on failure. */
static int step(struct barge_state *st, sqlite3_stmt *s)
{
	int src = sqlite3_step(s);
	if (src == SQLITE_ROW)
		return 1;
	if (src == SQLITE_DONE)
		return 0;
	return db_fail(st, src, "step");
}

/* Bind helpers: a failing bind (out of range, no memory) shows up as an
 * error from the next step, so their results need no check here. */
static void bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s, i);
}

static int col_dup(sqlite3_stmt *s, int i, char **out)
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

enum tx_mode { TX_NONE, TX_READ, TX_WRITE };

typedef int (*tx_fn)(struct barge_state *st, void *arg);

/*
 * Run fn in one transaction under the handle's lock. fn may run several
 * times (after SQLITE_BUSY), so it must undo or free whatever a previous
 * attempt left in arg. Returns fn's result, or BARGE_ERETRY once the busy
 * limit has passed.
 */
static int state_tx(struct barge_state *st, enum tx_mode mode, tx_fn fn,
		    void *arg)
{
	static const char *const begin[] = {NULL, "BEGIN", "BEGIN IMMEDIATE"};
	double deadline = barge_monotonic() + st->busy_limit;
	double pause = 0.002;
	int rc;

	pthread_mutex_lock(&st->lock);
	for (;;) {
		rc = begin[mode] ? exec_sql(st, begin[mode]) : 0;
		if (rc == 0) {
			rc = fn(st, arg);
			if (rc == 0 && mode != TX_NONE)
				rc = exec_sql(st, "COMMIT");
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
	if ((rc = prep(st, &s, "SELECT (SELECT user_version FROM pragma_user_version),"
			       " (SELECT application_id FROM pragma_application_id),"
			       " (SELECT count(*) FROM sqlite_master)")) < 0)
		goto out;
	if ((rc = step(st, s)) < 0)
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
	if ((rc = exec_sql(st, schema_sql)) < 0)
		return rc;
	snprintf(pragma, sizeof pragma,
		 "PRAGMA user_version = %d; PRAGMA application_id = %d;",
		 STATE_SCHEMA_VERSION, STATE_APP_ID);
	return exec_sql(st, pragma);
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
	if (a->need_migrate < 2 && (rc = exec_sql(st, VERIFY_RESULTS_SQL)) < 0)
		return rc;
	if (a->need_migrate < 3 && (rc = exec_sql(st, REJECTS_UNIT_SQL)) < 0)
		return rc;
	snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d;",
		 STATE_SCHEMA_VERSION);
	return exec_sql(st, pragma);
}

static int set_wal(struct barge_state *st, void *varg)
{
	sqlite3_stmt *s = NULL;
	int rc;

	(void)varg;
	if ((rc = prep(st, &s, "PRAGMA journal_mode = WAL")) < 0)
		goto out;
	if ((rc = step(st, s)) < 0)
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
	if ((rc = exec_sql(st, "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON")) < 0)
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

/* ---- Runs ------------------------------------------------------------------ */

void barge_run_free(struct barge_run *r)
{
	if (!r)
		return;
	free(r->source);
	free(r->target);
	free(r->tables);
	free(r->config);
	free(r->status);
	free(r);
}

struct run_arg {
	int64_t id;
	int main_run; /* run_get_fn: the newest whole-copy run */
	const char *source, *target, *tables, *config, *status;
	struct barge_run *out;
};

static int run_create_fn(struct barge_state *st, void *varg)
{
	struct run_arg *a = varg;
	sqlite3_stmt *s = NULL;
	int rc;

	if ((rc = prep(st, &s, "INSERT INTO runs(source, target, tables, config,"
			       " status, started, pid) VALUES (?, ?, ?, ?, 'running', ?, ?)")) < 0)
		goto out;
	bind_text(s, 1, a->source);
	bind_text(s, 2, a->target);
	bind_text(s, 3, a->tables ? a->tables : "");
	bind_text(s, 4, a->config ? a->config : "{}");
	sqlite3_bind_double(s, 5, barge_now());
	sqlite3_bind_int64(s, 6, (int64_t)getpid());
	if ((rc = step(st, s)) < 0)
		goto out;
	a->id = sqlite3_last_insert_rowid(st->db);
out:
	sqlite3_finalize(s);
	return rc;
}

int barge_state_run_create(struct barge_state *st, const char *source,
			   const char *target, const char *tables,
			   const char *config, int64_t *id)
{
	struct run_arg a = {.source = source, .target = target,
			    .tables = tables, .config = config};
	int rc;

	if (!source || !target)
		return barge_error_set(BARGE_EUSAGE, "a run needs a source and a target");
	if ((rc = state_tx(st, TX_WRITE, run_create_fn, &a)) < 0)
		return rc;
	*id = a.id;
	return 0;
}

/*
 * A run's kind is the "kind" member of its config (engine.c writes
 * {"kind":"copy"|"row",...}), read as JSON by SQLite, not searched for
 * in the text (CASE: json_extract fails on text that is not JSON). A
 * config that is missing, not JSON or without a kind is a whole copy's.
 */
#define RUN_IS_MAIN                                                        \
	"CASE WHEN json_valid(config) THEN json_extract(config, '$.kind')" \
	" END IS NOT 'row'"

/* id = 0: the newest run; with main_run, the newest whole-copy run. */
static int run_get_fn(struct barge_state *st, void *varg)
{
	struct run_arg *a = varg;
	struct barge_run *r = NULL;
	sqlite3_stmt *s = NULL;
	int rc;

	barge_run_free(a->out);
	a->out = NULL;
	if ((rc = prep(st, &s, a->id
			       ? "SELECT id, source, target, tables, config, status, started,"
				 " finished, pid FROM runs WHERE id = ?"
			       : a->main_run
			       ? "SELECT id, source, target, tables, config, status, started,"
				 " finished, pid FROM runs WHERE " RUN_IS_MAIN
				 " ORDER BY id DESC LIMIT 1"
			       : "SELECT id, source, target, tables, config, status, started,"
				 " finished, pid FROM runs ORDER BY id DESC LIMIT 1")) < 0)
		goto out;
	if (a->id)
		sqlite3_bind_int64(s, 1, a->id);
	if ((rc = step(st, s)) < 0)
		goto out;
	if (rc == 0) {
		rc = a->id ? barge_error_set(BARGE_ENOTFOUND, "no run %lld in state file '%s'",
					     (long long)a->id, st->path)
			   : barge_error_set(BARGE_ENOTFOUND, "no run in state file '%s'",
					     st->path);
		goto out;
	}
	r = calloc(1, sizeof *r);
	if (!r) {
		rc = barge_error_set(BARGE_ENOMEM, "out of memory");
		goto out;
	}
	r->id = sqlite3_column_int64(s, 0);
	if ((rc = col_dup(s, 1, &r->source)) < 0 || (rc = col_dup(s, 2, &r->target)) < 0 ||
	    (rc = col_dup(s, 3, &r->tables)) < 0 || (rc = col_dup(s, 4, &r->config)) < 0 ||
	    (rc = col_dup(s, 5, &r->status)) < 0)
		goto out;
	r->started = sqlite3_column_double(s, 6);
	r->finished = sqlite3_column_double(s, 7);
	r->pid = sqlite3_column_int(s, 8);
	a->out = r;
	r = NULL;
	rc = 0;
out:
	barge_run_free(r);
	sqlite3_finalize(s);
	return rc;
}

int barge_state_run_latest(struct barge_state *st, struct barge_run **out)
{
	struct run_arg a = {.id = 0};
	int rc;

	*out = NULL;
	if ((rc = state_tx(st, TX_READ, run_get_fn, &a)) < 0) {
		barge_run_free(a.out);
		return rc;
	}
	*out = a.out;
	return 0;
}

int barge_state_run_get(struct barge_state *st, int64_t id,
			struct barge_run **out)
{
	struct run_arg a = {.id = id};
	int rc;

	*out = NULL;
	if (id <= 0)
		return barge_error_set(BARGE_ENOTFOUND, "no run %lld in state file '%s'",
				       (long long)id, st->path);
	if ((rc = state_tx(st, TX_READ, run_get_fn, &a)) < 0) {
		barge_run_free(a.out);
		return rc;
	}
	*out = a.out;
	return 0;
}

static int run_status_fn(struct barge_state *st, void *varg)
{
	struct run_arg *a = varg;
	sqlite3_stmt *s = NULL;
	int rc;

	if ((rc = prep(st, &s, "UPDATE runs SET status = ?1, pid = ?2,"
			       " finished = CASE WHEN ?1 = 'running' THEN NULL ELSE ?3 END"
			       " WHERE id = ?4")) < 0)
		goto out;
	bind_text(s, 1, a->status);
	sqlite3_bind_int64(s, 2, (int64_t)getpid());
	sqlite3_bind_double(s, 3, barge_now());
	sqlite3_bind_int64(s, 4, a->id);
	if ((rc = step(st, s)) < 0)
		goto out;
	if (sqlite3_changes(st->db) == 0)
		rc = barge_error_set(BARGE_ENOTFOUND, "no run %lld in state file '%s'",
				     (long long)a->id, st->path);
out:
	sqlite3_finalize(s);
	return rc;
}

int barge_state_run_set_status(struct barge_state *st, int64_t id,
			       const char *status)
{
	struct run_arg a = {.id = id, .status = status};

	if (!status || !*status)
		return barge_error_set(BARGE_EUSAGE, "a run status cannot be empty");
	return state_tx(st, TX_WRITE, run_status_fn, &a);
}

/* ---- Flags ----------------------------------------------------------------- */

struct flag_arg {
	int64_t run;
	const char *key, *value;
	char *out;
};

static int flag_set_fn(struct barge_state *st, void *varg)
{
	struct flag_arg *a = varg;
	sqlite3_stmt *s = NULL;
	int rc;

	if ((rc = prep(st, &s, "INSERT INTO flags(run, key, value) VALUES (?, ?, ?)"
			       " ON CONFLICT (run, key) DO UPDATE SET value = excluded.value")) < 0)
		goto out;
	sqlite3_bind_int64(s, 1, a->run);
	bind_text(s, 2, a->key);
	bind_text(s, 3, a->value);
	if ((rc = step(st, s)) < 0) {
		if (sqlite3_extended_errcode(st->db) == SQLITE_CONSTRAINT_FOREIGNKEY)
			rc = barge_error_set(BARGE_ENOTFOUND, "no run %lld in state file '%s'",
					     (long long)a->run, st->path);
		goto out;
	}
out:
	sqlite3_finalize(s);
	return rc;
}

int barge_state_flag_set(struct barge_state *st, int64_t run,
			 const char *key, const char *value)
{
	struct flag_arg a = {.run = run, .key = key, .value = value ? value : ""};

	if (!key)
		return barge_error_set(BARGE_EUSAGE, "a flag needs a key");
	return state_tx(st, TX_WRITE, flag_set_fn, &a);
}

static int flag_get_fn(struct barge_state *st, void *varg)
{
	struct flag_arg *a = varg;
	sqlite3_stmt *s = NULL;
	int rc;

	free(a->out);
	a->out = NULL;
	if ((rc = prep(st, &s, "SELECT coalesce(value, '') FROM flags WHERE run = ? AND key = ?")) < 0)
		goto out;
	sqlite3_bind_int64(s, 1, a->run);
	bind_text(s, 2, a->key);
	if ((rc = step(st, s)) < 0)
		goto out;
	if (rc == 0) {
		rc = barge_error_set(BARGE_ENOTFOUND, "flag '%s' is not set in run %lld",
				     a->key, (long long)a->run);
		goto out;
	}
	rc = col_dup(s, 0, &a->out);
out:
	sqlite3_finalize(s);
	return rc;
}

int barge_state_flag_get(struct barge_state *st, int64_t run,
			 const char *key, char **value)
{
	struct flag_arg a = {.run = run, .key = key};
	int rc;

	*value = NULL;
	if (!key)
		return barge_error_set(BARGE_EUSAGE, "a flag needs a key");
	if ((rc = state_tx(st, TX_READ, flag_get_fn, &a)) < 0) {
		free(a.out);
		return rc;
	}
	*value = a.out;
	return 0;
}

/* ---- Units ------------------------------------------------------------------ */

void barge_unit_free(struct barge_unit *u)
{
	if (!u)
		return;
	free(u->table);
	free(u->lo);
	free(u->hi);
	free(u->digest);
	free(u->last_error);
	free(u);
}

/* Read a row selected with UNIT_COLUMNS into a new unit. */
static int unit_from_row(sqlite3_stmt *s, struct barge_unit **out)
{
	struct barge_unit *u = NULL;
	char *status = NULL;
	int rc;

	*out = NULL;
	u = calloc(1, sizeof *u);
	if (!u)
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	u->id = sqlite3_column_int64(s, 0);
	u->run = sqlite3_column_int64(s, 1);
	if ((rc = col_dup(s, 2, &u->table)) < 0)
		goto out;
	u->seq = sqlite3_column_int64(s, 3);
	if ((rc = col_dup(s, 4, &u->lo)) < 0 || (rc = col_dup(s, 5, &u->hi)) < 0)
		goto out;
	u->by_rowid = sqlite3_column_int(s, 6);
	if ((rc = col_dup(s, 7, &status)) < 0)
		goto out;
	u->status = unit_status_parse(status);
	u->attempts = sqlite3_column_int(s, 8);
	u->rows_read = sqlite3_column_int64(s, 9);
	u->rows_written = sqlite3_column_int64(s, 10);
	u->rows_rejected = sqlite3_column_int64(s, 11);
	u->bytes = sqlite3_column_int64(s, 12);
	if ((rc = col_dup(s, 13, &u->digest)) < 0)
		goto out;
	u->started = sqlite3_column_double(s, 14);
	u->finished = sqlite3_column_double(s, 15);
	if ((rc = col_dup(s, 16, &u->last_error)) < 0)
		goto out;
	*out = u;
	u = NULL;
out:
	free(status);
	barge_unit_free(u);
	return rc;
}

static int unit_load(struct barge_state *st, int64_t id, struct barge_unit **out)
{
	sqlite3_stmt *s = NULL;
	int rc;

	*out = NULL;
	if ((rc = prep(st, &s, "SELECT " UNIT_COLUMNS " FROM units WHERE id = ?")) < 0)
		goto out;
	sqlite3_bind_int64(s, 1, id);
	if ((rc = step(st, s)) < 0)
		goto out;
	if (rc == 0) {
		rc = barge_error_set(BARGE_ENOTFOUND, "no unit %lld in state file '%s'",
				     (long long)id, st->path);
		goto out;
	}
	rc = unit_from_row(s, out);
out:
	sqlite3_finalize(s);
	return rc;
}

static int run_exists(struct barge_state *st, int64_t run)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if ((rc = prep(st, &s, "SELECT 1 FROM runs WHERE id = ?")) < 0)
		goto out;
	sqlite3_bind_int64(s, 1, run);
	if ((rc = step(st, s)) < 0)
		goto out;
	if (rc == 0) {
		rc = barge_error_set(BARGE_ENOTFOUND, "no run %lld in state file '%s'",
				     (long long)run, st->path);
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(s);
	return rc;
}

struct units_arg {
	int64_t run;
	const char *table;
	size_t n;
	const struct barge_unit_plan *units;
	int planned;
};

static int is_planned(struct barge_state *st, int64_t run, const char *table,
		      int *planned)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if ((rc = prep(st, &s, "SELECT 1 FROM planned WHERE run = ? AND table_name = ?")) < 0)
		goto out;
	sqlite3_bind_int64(s, 1, run);
	bind_text(s, 2, table);
	if ((rc = step(st, s)) < 0)
		goto out;
	*planned = rc;
	rc = 0;
out:
	sqlite3_finalize(s);
	return rc;
}

static int units_add_fn(struct barge_state *st, void *varg)
{
	struct units_arg *a = varg;
	sqlite3_stmt *s = NULL;
	int rc, planned = 0;

	if ((rc = run_exists(st, a->run)) < 0)
		goto out;
	if ((rc = is_planned(st, a->run, a->table, &planned)) < 0)
		goto out;
	if (planned) {
		rc = barge_error_set(BARGE_EUSAGE, "table '%s' is already planned in run %lld",
				     a->table, (long long)a->run);
		goto out;
	}
	if ((rc = prep(st, &s, "INSERT INTO planned(run, table_name, ord) VALUES (?1, ?2,"
			       " (SELECT coalesce(max(ord), -1) + 1 FROM planned WHERE run = ?1))")) < 0)
		goto out;
	sqlite3_bind_int64(s, 1, a->run);
	bind_text(s, 2, a->table);
	if ((rc = step(st, s)) < 0)
		goto out;
	sqlite3_finalize(s);
	s = NULL;

	if ((rc = prep(st, &s, "INSERT INTO units(run, table_name, seq, lo, hi, by_rowid)"
			       " VALUES (?, ?, ?, ?, ?, ?)")) < 0)
		goto out;
	for (size_t i = 0; i < a->n; i++) {
		sqlite3_reset(s);
		sqlite3_bind_int64(s, 1, a->run);
		bind_text(s, 2, a->table);
		sqlite3_bind_int64(s, 3, (int64_t)i);
		bind_text(s, 4, a->units[i].lo);
		bind_text(s, 5, a->units[i].hi);
		sqlite3_bind_int(s, 6, a->units[i].by_rowid ? 1 : 0);
		if ((rc = step(st, s)) < 0)
			goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(s);
	return rc;
}

int barge_state_units_add(struct barge_state *st, int64_t run,
			  const char *table, size_t n,
			  const struct barge_unit_plan *units)
{
	struct units_arg a = {.run = run, .table = table, .n = n, .units = units};

	if (!table || (n > 0 && !units))
		return barge_error_set(BARGE_EUSAGE, "units_add needs a table and its units");
	return state_tx(st, TX_WRITE, units_add_fn, &a);
}

static int table_planned_fn(struct barge_state *st, void *varg)
{
	struct units_arg *a = varg;
	return is_planned(st, a->run, a->table, &a->planned);
}

int barge_state_table_planned(struct barge_state *st, int64_t run,
			      const char *table, int *planned)
{
	struct units_arg a = {.run = run, .table = table};
	int rc;

	*planned = 0;
	if (!table)
		return barge_error_set(BARGE_EUSAGE, "table_planned needs a table");
	if ((rc = state_tx(st, TX_READ, table_planned_fn, &a)) < 0)
		return rc;
	*planned = a.planned;
	return 0;
}

struct claim_arg {
	int64_t run;
	int64_t unit; /* claim_id / unit_get / by_seq result */
	int64_t seq;
	const char *table;
	const struct barge_unit_result *res;
	const char *error;
	int retry;
	int failed_too;
	struct barge_unit *out;
};

/* Mark unit a->unit running as one more attempt and load it. */
static int claim_unit(struct barge_state *st, struct claim_arg *a)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if ((rc = prep(st, &s, "UPDATE units SET status = 'running',"
			       " attempts = attempts + 1, started = ?, finished = NULL"
			       " WHERE id = ?")) < 0)
		goto out;
	sqlite3_bind_double(s, 1, barge_now());
	sqlite3_bind_int64(s, 2, a->unit);
	if ((rc = step(st, s)) < 0)
		goto out;
	if (sqlite3_changes(st->db) == 0) {
		rc = barge_error_set(BARGE_ENOTFOUND, "no unit %lld in state file '%s'",
				     (long long)a->unit, st->path);
		goto out;
	}
	rc = unit_load(st, a->unit, &a->out);
out:
	sqlite3_finalize(s);
	return rc;
}

/*
 * `table` may name one table or, comma-separated, several (the way
 * runs.tables lists them); an exact match comes first so a name that
 * itself holds a comma still works.
 */
static int claim_fn(struct barge_state *st, void *varg)
{
	struct claim_arg *a = varg;
	sqlite3_stmt *s = NULL;
	int rc;

	barge_unit_free(a->out);
	a->out = NULL;
	if ((rc = prep(st, &s, a->table
			       ? "SELECT id FROM units WHERE run = ?1 AND status = 'pending'"
				 " AND (table_name = ?2 OR instr(',' || ?2 || ',',"
				 " ',' || table_name || ',') > 0) ORDER BY id LIMIT 1"
			       : "SELECT id FROM units WHERE run = ?1 AND status = 'pending'"
				 " ORDER BY id LIMIT 1")) < 0)
		goto out;
	sqlite3_bind_int64(s, 1, a->run);
	if (a->table)
		bind_text(s, 2, a->table);
	if ((rc = step(st, s)) < 0)
		goto out;
	if (rc == 0) {
		rc = barge_error_set(BARGE_ENOTFOUND, "no pending unit in run %lld%s%s",
				     (long long)a->run, a->table ? " for " : "",
				     a->table ? a->table : "");
		goto out;
	}
	a->unit = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	s = NULL;
	rc = claim_unit(st, a);
out:
	sqlite3_finalize(s);
	return rc;
}

/* Run a unit-returning fn and hand its unit to *out. */
static int unit_tx(struct barge_state *st, enum tx_mode mode, tx_fn fn,
		   struct claim_arg *a, struct barge_unit **out)
{
	int rc;

	*out = NULL;
	if ((rc = state_tx(st, mode, fn, a)) < 0) {
		barge_unit_free(a->out);
		return rc;
	}
	*out = a->out;
	return 0;
}

int barge_state_claim(struct barge_state *st, int64_t run, const char *table,
		      struct barge_unit **out)
{
	struct claim_arg a = {.run = run, .table = table};
	return unit_tx(st, TX_WRITE, claim_fn, &a, out);
}

static int claim_id_fn(struct barge_state *st, void *varg)
{
	struct claim_arg *a = varg;
	barge_unit_free(a->out);
	a->out = NULL;
	return claim_unit(st, a);
}

int barge_state_claim_id(struct barge_state *st, int64_t unit,
			 struct barge_unit **out)
{
	struct claim_arg a = {.unit = unit};
	return unit_tx(st, TX_WRITE, claim_id_fn, &a, out);
}

static int unit_get_fn(struct barge_state *st, void *varg)
{
	struct claim_arg *a = varg;
	barge_unit_free(a->out);
	a->out = NULL;
	return unit_load(st, a->unit, &a->out);
}

int barge_state_unit_get(struct barge_state *st, int64_t unit,
			 struct barge_unit **out)
{
	struct claim_arg a = {.unit = unit};
	return unit_tx(st, TX_READ, unit_get_fn, &a, out);
}

static int unit_by_seq_fn(struct barge_state *st, void *varg)
{
	struct claim_arg *a = varg;
	sqlite3_stmt *s = NULL;
	int rc;

	barge_unit_free(a->out);
	a->out = NULL;
	if ((rc = prep(st, &s, "SELECT " UNIT_COLUMNS " FROM units"
			       " WHERE run = ? AND table_name = ? AND seq = ?")) < 0)
		goto out;
	sqlite3_bind_int64(s, 1, a->run);
	bind_text(s, 2, a->table);
	sqlite3_bind_int64(s, 3, a->seq);
	if ((rc = step(st, s)) < 0)
		goto out;
	if (rc == 0) {
		rc = barge_error_set(BARGE_ENOTFOUND, "no chunk %lld of table '%s' in run %lld",
				     (long long)a->seq, a->table, (long long)a->run);
		goto out;
	}
	rc = unit_from_row(s, &a->out);
out:
	sqlite3_finalize(s);
	return rc;
}

int barge_state_unit_by_seq(struct barge_state *st, int64_t run,
			    const char *table, int64_t seq,
			    struct barge_unit **out)
{
	struct claim_arg a = {.run = run, .table = table, .seq = seq};

	if (!table) {
		*out = NULL;
		return barge_error_set(BARGE_EUSAGE, "unit_by_seq needs a table");
	}
	return unit_tx(st, TX_READ, unit_by_seq_fn, &a, out);
}

/* Fail with ENOTFOUND when the last UPDATE touched no unit. */
static int unit_changed(struct barge_state *st, int64_t unit)
{
	if (sqlite3_changes(st->db) == 0)
		return barge_error_set(BARGE_ENOTFOUND, "no unit %lld in state file '%s'",
				       (long long)unit, st->path);
	return 0;
}

static int unit_done_fn(struct barge_state *st, void *varg)
{
	struct claim_arg *a = varg;
	sqlite3_stmt *s = NULL;
	int rc;

	if ((rc = prep(st, &s, "UPDATE units SET status = 'done', rows_read = ?,"
			       " rows_written = ?, rows_rejected = ?, bytes = ?, digest = ?,"
			       " finished = ? WHERE id = ?")) < 0)
		goto out;
	sqlite3_bind_int64(s, 1, a->res->rows_read);
	sqlite3_bind_int64(s, 2, a->res->rows_written);
	sqlite3_bind_int64(s, 3, a->res->rows_rejected);
	sqlite3_bind_int64(s, 4, a->res->bytes);
	bind_text(s, 5, a->res->digest);
	sqlite3_bind_double(s, 6, barge_now());
	sqlite3_bind_int64(s, 7, a->unit);
	if ((rc = step(st, s)) < 0)
		goto out;
	if ((rc = unit_changed(st, a->unit)) < 0)
		goto out;
	/* a re-run chunk's rejects replace those of its earlier attempts */
	sqlite3_finalize(s);
	s = NULL;
	if ((rc = prep(st, &s, "DELETE FROM rejects WHERE unit = ?")) < 0)
		goto out;
	sqlite3_bind_int64(s, 1, a->unit);
	if ((rc = step(st, s)) < 0 || a->res->nrejects == 0)
		goto out;
	sqlite3_finalize(s);
	s = NULL;
	if ((rc = prep(st, &s, "INSERT INTO rejects(run, unit, table_name, source_key,"
			       " row_json, rule, message, at) SELECT run, id, table_name,"
			       " ?, ?, ?, ?, ? FROM units WHERE id = ?")) < 0)
		goto out;
	for (size_t i = 0; i < a->res->nrejects; i++) {
		const struct barge_reject *r = &a->res->rejects[i];
		sqlite3_reset(s);
		bind_text(s, 1, r->key);
		bind_text(s, 2, r->row);
		bind_text(s, 3, r->rule);
		bind_text(s, 4, r->message);
		sqlite3_bind_double(s, 5, barge_now());
		sqlite3_bind_int64(s, 6, a->unit);
		if ((rc = step(st, s)) < 0)
			goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(s);
	return rc;
}

int barge_state_unit_done(struct barge_state *st, int64_t unit,
			  const struct barge_unit_result *res)
{
	static const struct barge_unit_result none = {0};
	struct claim_arg a = {.unit = unit, .res = res ? res : &none};
	return state_tx(st, TX_WRITE, unit_done_fn, &a);
}

static int unit_failed_fn(struct barge_state *st, void *varg)
{
	struct claim_arg *a = varg;
	sqlite3_stmt *s = NULL;
	int rc;

	if ((rc = prep(st, &s, a->retry
			       ? "UPDATE units SET status = 'pending', last_error = ?1,"
				 " finished = NULL WHERE id = ?3"
			       : "UPDATE units SET status = 'failed', last_error = ?1,"
				 " finished = ?2 WHERE id = ?3")) < 0)
		goto out;
	bind_text(s, 1, a->error ? a->error : "unknown error");
	if (!a->retry)
		sqlite3_bind_double(s, 2, barge_now());
	sqlite3_bind_int64(s, 3, a->unit);
	if ((rc = step(st, s)) < 0)
		goto out;
	rc = unit_changed(st, a->unit);
out:
	sqlite3_finalize(s);
	return rc;
}

int barge_state_unit_failed(struct barge_state *st, int64_t unit,
			    const char *error, int retry)
{
	struct claim_arg a = {.unit = unit, .error = error, .retry = retry};
	return state_tx(st, TX_WRITE, unit_failed_fn, &a);
}

static int units_reset_fn(struct barge_state *st, void *varg)
{
	struct claim_arg *a = varg;
	sqlite3_stmt *s = NULL;
	int rc;

	if ((rc = prep(st, &s, "UPDATE units SET status = 'pending', finished = NULL"
			       " WHERE run = ?1 AND (status = 'running'"
			       " OR (?2 AND status = 'failed'))")) < 0)
		goto out;
	sqlite3_bind_int64(s, 1, a->run);
	sqlite3_bind_int(s, 2, a->failed_too ? 1 : 0);
	rc = step(st, s);
out:
	sqlite3_finalize(s);
	return rc < 0 ? rc : 0;
}

int barge_state_units_reset(struct barge_state *st, int64_t run,
			    int failed_too)
{
	struct claim_arg a = {.run = run, .failed_too = failed_too};
	return state_tx(st, TX_WRITE, units_reset_fn, &a);
}

/* ---- The migration log ----------------------------------------------------- */

struct log_arg {
	int64_t run, unit;
	const char *event, *message;
};

static int log_fn(struct barge_state *st, void *varg)
{
	struct log_arg *a = varg;
	sqlite3_stmt *s = NULL;
	int rc;

	if ((rc = prep(st, &s, "INSERT INTO log(run, unit, at, event, message)"
			       " VALUES (?, ?, ?, ?, ?)")) < 0)
		goto out;
	sqlite3_bind_int64(s, 1, a->run);
	if (a->unit)
		sqlite3_bind_int64(s, 2, a->unit);
	else
		sqlite3_bind_null(s, 2);
	sqlite3_bind_double(s, 3, barge_now());
	bind_text(s, 4, a->event);
	bind_text(s, 5, a->message);
	rc = step(st, s);
	if (rc < 0 && sqlite3_extended_errcode(st->db) == SQLITE_CONSTRAINT_FOREIGNKEY)
		rc = barge_error_set(BARGE_ENOTFOUND, "log: no run %lld or unit %lld in state file '%s'",
				     (long long)a->run, (long long)a->unit, st->path);
out:
	sqlite3_finalize(s);
	return rc < 0 ? rc : 0;
}

int barge_state_log(struct barge_state *st, int64_t run, int64_t unit,
		    const char *event, const char *message)
{
	struct log_arg a = {.run = run, .unit = unit, .event = event, .message = message};

	if (!event)
		return barge_error_set(BARGE_EUSAGE, "a log line needs an event");
	return state_tx(st, TX_WRITE, log_fn, &a);
}

/* ---- Progress -------------------------------------------------------------- */

void barge_table_progress_free(struct barge_table_progress *p, size_t n)
{
	if (!p)
		return;
	for (size_t i = 0; i < n; i++) {
		free(p[i].table);
		free(p[i].last_error);
	}
	free(p);
}

struct progress_arg {
	int64_t run;
	struct barge_table_progress *out;
	size_t n;
};

/*
 * Rows and bytes count done units only: a unit re-claimed after it was
 * done keeps its old figures until it is done again, and a failed attempt
 * records none.
 */
static int progress_fn(struct barge_state *st, void *varg)
{
	struct progress_arg *a = varg;
	struct barge_table_progress *p = NULL, *grown;
	size_t n = 0, alloc = 0;
	sqlite3_stmt *s = NULL;
	int rc;

	barge_table_progress_free(a->out, a->n);
	a->out = NULL;
	a->n = 0;
	if ((rc = prep(st, &s,
		       "SELECT p.table_name, count(u.id),"
		       " coalesce(sum(u.status = 'done'), 0),"
		       " coalesce(sum(u.status = 'failed'), 0),"
		       " coalesce(sum(u.status = 'running'), 0),"
		       " coalesce(sum(CASE WHEN u.status = 'done' THEN u.rows_read END), 0),"
		       " coalesce(sum(CASE WHEN u.status = 'done' THEN u.rows_written END), 0),"
		       " coalesce(sum(CASE WHEN u.status = 'done' THEN u.rows_rejected END), 0),"
		       " coalesce(sum(CASE WHEN u.status = 'done' THEN u.bytes END), 0),"
		       " coalesce(sum(CASE WHEN u.status = 'done' THEN u.finished - u.started END), 0),"
		       " coalesce(min(u.started), 0),"
		       " coalesce(max(u.finished), 0),"
		       " (SELECT f.last_error FROM units f WHERE f.run = p.run"
		       "   AND f.table_name = p.table_name AND f.status = 'failed'"
		       "   ORDER BY f.finished DESC, f.id DESC LIMIT 1)"
		       " FROM planned p LEFT JOIN units u"
		       "  ON u.run = p.run AND u.table_name = p.table_name"
		       " WHERE p.run = ? GROUP BY p.ord, p.table_name ORDER BY p.ord")) < 0)
		goto out;
	sqlite3_bind_int64(s, 1, a->run);
	while ((rc = step(st, s)) == 1) {
		if (n == alloc) {
			size_t na = alloc ? alloc * 2 : 8;
			grown = realloc(p, na * sizeof *p);
			if (!grown) {
				rc = barge_error_set(BARGE_ENOMEM, "out of memory");
				goto out;
			}
			p = grown;
			alloc = na;
		}
		struct barge_table_progress *t = &p[n++];
		memset(t, 0, sizeof *t);
		if ((rc = col_dup(s, 0, &t->table)) < 0)
			goto out;
		t->chunks = sqlite3_column_int64(s, 1);
		t->chunks_done = sqlite3_column_int64(s, 2);
		t->chunks_failed = sqlite3_column_int64(s, 3);
		t->chunks_running = sqlite3_column_int64(s, 4);
		t->rows_read = sqlite3_column_int64(s, 5);
		t->rows_written = sqlite3_column_int64(s, 6);
		t->rows_rejected = sqlite3_column_int64(s, 7);
		t->bytes = sqlite3_column_int64(s, 8);
		t->seconds = sqlite3_column_double(s, 9);
		t->first_start = sqlite3_column_double(s, 10);
		t->last_end = sqlite3_column_double(s, 11);
		if ((rc = col_dup(s, 12, &t->last_error)) < 0)
			goto out;
	}
	if (rc < 0)
		goto out;
	a->out = p;
	a->n = n;
	p = NULL;
	rc = 0;
out:
	barge_table_progress_free(p, n);
	sqlite3_finalize(s);
	return rc;
}

int barge_state_progress(struct barge_state *st, int64_t run,
			 struct barge_table_progress **out, size_t *n)
{
	struct progress_arg a = {.run = run};
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = state_tx(st, TX_READ, progress_fn, &a)) < 0) {
		barge_table_progress_free(a.out, a.n);
		return rc;
	}
	*out = a.out;
	*n = a.n;
	return 0;
}

/* ---- Verify results ---------------------------------------------------------- */

static int verify_add_fn(struct barge_state *st, void *varg)
{
	const struct barge_verify_record *r = varg;
	sqlite3_stmt *s = NULL;
	int rc;

	if ((rc = prep(st, &s, "INSERT INTO verify_results(at, source, target,"
			       " table_name, against_state, equal, source_rows,"
			       " target_rows, chunks, missing, extra, changed, seconds,"
			       " report) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)")) < 0)
		return rc;
	sqlite3_bind_double(s, 1, barge_now());
	bind_text(s, 2, r->source);
	bind_text(s, 3, r->target);
	bind_text(s, 4, r->table);
	sqlite3_bind_int(s, 5, r->against_state);
	sqlite3_bind_int(s, 6, r->equal);
	sqlite3_bind_int64(s, 7, r->source_rows);
	sqlite3_bind_int64(s, 8, r->target_rows);
	sqlite3_bind_int64(s, 9, r->chunks);
	sqlite3_bind_int64(s, 10, r->missing);
	sqlite3_bind_int64(s, 11, r->extra);
	sqlite3_bind_int64(s, 12, r->changed);
	sqlite3_bind_double(s, 13, r->seconds);
	bind_text(s, 14, r->report);
	rc = step(st, s);
	sqlite3_finalize(s);
	return rc < 0 ? rc : 0;
}

int barge_state_verify_add(struct barge_state *st,
			   const struct barge_verify_record *r)
{
	return state_tx(st, TX_WRITE, verify_add_fn, (void *)r);
}

/* ---- Rejects --------------------------------------------------------------- */

void barge_reject_row_dispose(struct barge_reject_row *r)
{
	free(r->table);
	free(r->key);
	free(r->row);
	free(r->rule);
	free(r->message);
	memset(r, 0, sizeof *r);
}

struct rejects_arg {
	int64_t run;
	const char *table;
	int (*fn)(const struct barge_reject_row *r, void *arg);
	void *arg;
};

static int rejects_fn(struct barge_state *st, void *varg)
{
	struct rejects_arg *a = varg;
	sqlite3_stmt *s = NULL;
	struct barge_reject_row r;
	int rc;

	memset(&r, 0, sizeof r);
	if ((rc = prep(st, &s, "SELECT id, run, unit, table_name, source_key, row_json,"
			       " rule, message, at FROM rejects WHERE run = CASE WHEN"
			       " ?1 > 0 THEN ?1 ELSE (SELECT max(id) FROM runs) END"
			       " AND (?2 IS NULL OR table_name = ?2) ORDER BY id")) < 0)
		return rc;
	sqlite3_bind_int64(s, 1, a->run);
	bind_text(s, 2, a->table);
	while ((rc = step(st, s)) == 1) {
		r.id = sqlite3_column_int64(s, 0);
		r.run = sqlite3_column_int64(s, 1);
		r.unit = sqlite3_column_int64(s, 2);
		r.at = sqlite3_column_double(s, 8);
		if ((rc = col_dup(s, 3, &r.table)) < 0 || (rc = col_dup(s, 4, &r.key)) < 0 ||
		    (rc = col_dup(s, 5, &r.row)) < 0 || (rc = col_dup(s, 6, &r.rule)) < 0 ||
		    (rc = col_dup(s, 7, &r.message)) < 0)
			break;
		rc = a->fn(&r, a->arg);
		barge_reject_row_dispose(&r);
		if (rc)
			break;
	}
	barge_reject_row_dispose(&r);
	sqlite3_finalize(s);
	return rc;
}

int barge_state_rejects(struct barge_state *st, int64_t run, const char *table,
			int (*fn)(const struct barge_reject_row *r, void *arg),
			void *arg)
{
	struct rejects_arg a = {.run = run, .table = table, .fn = fn, .arg = arg};
	return state_tx(st, TX_READ, rejects_fn, &a);
}

/* The newest whole-copy run (state.h). */
int barge_state_run_main(struct barge_state *st, struct barge_run **out)
{
	struct run_arg a = {.main_run = 1};
	int rc;

	*out = NULL;
	rc = state_tx(st, TX_READ, run_get_fn, &a);
	if (rc == BARGE_ENOTFOUND) {
		barge_error_clear();
		return 0;
	}
	if (rc < 0) {
		barge_run_free(a.out);
		return rc;
	}
	*out = a.out;
	return 0;
}
