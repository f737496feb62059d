/*
 * The SQLite endpoint driver: the driver table, connections, the shared
 * read snapshot and target transactions. Schema, reading and writing live
 * in schema.c, read.c and write.c (see sqlite_int.h).
 */
#include "sqlite_int.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define BUSY_TIMEOUT_MS 5000

int sq_fail(sqlite3 *db, int rc, const char *table, const char *what)
{
	int prim = rc & 0xff;
	int code = (prim == SQLITE_BUSY || prim == SQLITE_LOCKED) ? BARGE_ERETRY
								  : BARGE_ERROR;
	const char *msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
	if (table)
		return barge_error_set(code, "sqlite: table '%s': %s: %s%s", table,
				       what, msg,
				       code == BARGE_ERETRY ? " (will retry)" : "");
	return barge_error_set(code, "sqlite: %s: %s%s", what, msg,
			       code == BARGE_ERETRY ? " (will retry)" : "");
}

int sq_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **out,
	       const char *table)
{
	int rc = sqlite3_prepare_v2(db, sql, -1, out, NULL);
	if (rc != SQLITE_OK) {
		sqlite3_finalize(*out);
		*out = NULL;
		return sq_fail(db, rc, table, "preparing a statement");
	}
	return 0;
}

int sq_exec(sqlite3 *db, const char *sql, const char *table)
{
	sqlite3_stmt *st = NULL;
	int err = sq_prepare(db, sql, &st, table);
	if (err)
		return err;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		;
	if (rc != SQLITE_DONE)
		err = sq_fail(db, rc, table, sql);
	sqlite3_finalize(st);
	return err;
}

int sq_quote(struct barge_buf *b, const char *name)
{
	return barge_sql_ident(b, SQ_SQL, name);
}

int sq_rowid_check(const struct barge_table_def *t, const char *what)
{
	if (!t->has_rowid || !sq_rowid_name(t))
		return barge_error_set(BARGE_EUSAGE, "sqlite: table '%s' has no rowid to %s",
				       t->name, what);
	return 0;
}

const char *sq_rowid_name(const struct barge_table_def *t)
{
	static const char *const names[] = {"rowid", "_rowid_", "oid"};
	for (size_t i = 0; i < 3; i++) {
		int shadowed = 0;
		for (size_t c = 0; c < t->ncols; c++)
			if (strcasecmp(t->cols[c].name, names[i]) == 0)
				shadowed = 1;
		if (!shadowed)
			return names[i];
	}
	return NULL;
}

/* ---- Connections --------------------------------------------------------- */

static void sqlite_close(struct barge_conn *c);

static int sqlite_open(struct barge_conn **out, const struct barge_url *url,
		       unsigned flags)
{
	struct barge_conn *c = NULL;
	struct stat sb;
	int oflags, rc, err = 0;

	*out = NULL;
	if (!url->path || !url->path[0])
		return barge_error_set(BARGE_EUSAGE,
				       "sqlite URL '%s' names no database file",
				       barge_url_redacted(url));
	/* One handle may serve several snapshot followers at once. */
	if (!sqlite3_threadsafe())
		return barge_error_set(BARGE_ERROR,
				       "libsqlite3 was built without thread safety");
	/* Check existence ourselves: a clear message, and a source is never
	 * created by mistake. */
	if (stat(url->path, &sb) != 0) {
		if (errno != ENOENT)
			return barge_error_set(BARGE_ERROR, "cannot open '%s': %s",
					       url->path, strerror(errno));
		if (!(flags & BARGE_OPEN_CREATE))
			return barge_error_set(BARGE_ENOTFOUND,
					       "%s database '%s' does not exist",
					       (flags & BARGE_OPEN_WRITE) ? "target"
									  : "source",
					       url->path);
	}
	c = calloc(1, sizeof *c);
	if (!c || !(c->path = strdup(url->path))) {
		err = barge_error_set(BARGE_ENOMEM, "out of memory");
		goto out;
	}
	c->flags = flags;
	oflags = SQLITE_OPEN_NOMUTEX;
	if (flags & BARGE_OPEN_WRITE)
		oflags |= SQLITE_OPEN_READWRITE |
			  ((flags & BARGE_OPEN_CREATE) ? SQLITE_OPEN_CREATE : 0);
	else
		oflags |= SQLITE_OPEN_READONLY;
	rc = sqlite3_open_v2(c->path, &c->db, oflags, NULL);
	if (rc != SQLITE_OK) {
		err = sq_fail(c->db, rc, NULL, c->path);
		goto out;
	}
	c->rd = c->db;
	sqlite3_busy_timeout(c->db, BUSY_TIMEOUT_MS);
	sqlite3_extended_result_codes(c->db, 1);
	if ((err = sq_digest_register(c->db)))
		goto out;
	/* Touch the schema now, so that a file that is not a database fails
	 * here and not in the middle of a run. */
	if ((err = sq_exec(c->db, "SELECT count(*) FROM sqlite_schema", NULL)))
		goto out;
	*out = c;
	c = NULL;
out:
	sqlite_close(c);
	return err;
}

/* ---- The snapshot registry ----------------------------------------------
 * Debian's libsqlite3 has no sqlite3_snapshot API, so a snapshot is shared
 * by sharing the leader's handle: all statements on one handle run in its
 * one read transaction. The registry maps a token to that handle.
 */

struct snap_entry {
	long id;
	sqlite3 *db;
	char *path;
	int followers;
	pthread_mutex_t lock; /* serializes every use of db while shared */
	struct snap_entry *next;
};

static pthread_mutex_t snap_lock = PTHREAD_MUTEX_INITIALIZER;
static struct snap_entry *snap_list;
static long snap_next_id = 1;

#define SNAP_PREFIX "sqlite-snapshot:"

static int sqlite_snapshot_begin(struct barge_conn *c, char **token)
{
	struct snap_entry *e = NULL;
	char buf[64];
	int err;

	*token = NULL;
	if (c->snap_id || c->joined_id)
		return barge_error_set(BARGE_EUSAGE,
				       "sqlite: a snapshot is already open on '%s'",
				       c->path);
	if ((err = sq_exec(c->db, "BEGIN", NULL)))
		return err;
	/* BEGIN is deferred: the read transaction starts with the first read. */
	if ((err = sq_exec(c->db, "SELECT count(*) FROM sqlite_schema", NULL)))
		goto fail;
	e = calloc(1, sizeof *e);
	if (!e || !(e->path = strdup(c->path))) {
		err = barge_error_set(BARGE_ENOMEM, "out of memory");
		goto fail;
	}
	e->db = c->db;
	pthread_mutex_init(&e->lock, NULL);
	pthread_mutex_lock(&snap_lock);
	e->id = snap_next_id++;
	e->next = snap_list;
	snap_list = e;
	pthread_mutex_unlock(&snap_lock);
	c->snap_id = e->id;
	c->rd_lock = &e->lock;
	snprintf(buf, sizeof buf, SNAP_PREFIX "%ld", e->id);
	if (!(*token = strdup(buf)))
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	return 0;
fail:
	if (e)
		free(e->path);
	free(e);
	sq_exec(c->db, "ROLLBACK", NULL);
	return err;
}

static int sqlite_snapshot_join(struct barge_conn *c, const char *token)
{
	long id = 0;
	int found = 0;

	if (strncmp(token, SNAP_PREFIX, strlen(SNAP_PREFIX)) == 0)
		id = strtol(token + strlen(SNAP_PREFIX), NULL, 10);
	pthread_mutex_lock(&snap_lock);
	for (struct snap_entry *e = snap_list; e; e = e->next) {
		if (e->id != id)
			continue;
		found = strcmp(e->path, c->path) == 0 ? 1 : -1;
		if (found == 1) {
			e->followers++;
			c->rd = e->db;
			c->rd_lock = &e->lock;
			c->joined_id = id;
		}
	}
	pthread_mutex_unlock(&snap_lock);
	if (found == 0)
		return barge_error_set(BARGE_EUSAGE,
				       "sqlite: no open snapshot '%s'", token);
	if (found < 0)
		return barge_error_set(BARGE_EUSAGE,
				       "sqlite: snapshot '%s' is of another database "
				       "than '%s'", token, c->path);
	return 0;
}

static int sqlite_snapshot_end(struct barge_conn *c)
{
	struct snap_entry **pp, *e = NULL;

	if (c->joined_id) {
		pthread_mutex_lock(&snap_lock);
		for (e = snap_list; e; e = e->next)
			if (e->id == c->joined_id)
				e->followers--;
		pthread_mutex_unlock(&snap_lock);
		c->joined_id = 0;
		c->rd = c->db;
		c->rd_lock = NULL;
		return 0;
	}
	if (!c->snap_id)
		return 0;
	pthread_mutex_lock(&snap_lock);
	for (pp = &snap_list; *pp; pp = &(*pp)->next) {
		if ((*pp)->id == c->snap_id) {
			e = *pp;
			*pp = e->next;
			break;
		}
	}
	pthread_mutex_unlock(&snap_lock);
	/* The engine closes followers first; a follower left would read
	 * through a handle about to leave its snapshot. */
	assert(!e || e->followers == 0);
	if (e) {
		free(e->path);
		pthread_mutex_destroy(&e->lock);
	}
	free(e);
	c->snap_id = 0;
	c->rd_lock = NULL;
	if (sqlite3_get_autocommit(c->db))
		return 0;
	return sq_exec(c->db, "COMMIT", NULL);
}

static void sqlite_close(struct barge_conn *c)
{
	if (!c)
		return;
	if (c->snap_id || c->joined_id)
		sqlite_snapshot_end(c);
	sqlite3_close_v2(c->db);
	free(c->path);
	free(c);
}

/* ---- Target transactions -------------------------------------------------- */

static int sqlite_begin(struct barge_conn *c)
{
	/* Foreign keys checked at COMMIT, not per row: tables in a cycle load
	 * one after the other (a no-op unless the handle enforces them). It is
	 * reset at each COMMIT, so it is set in every transaction. */
	int err = sq_exec(c->db, "BEGIN IMMEDIATE", NULL);
	return err ? err : sq_exec(c->db, "PRAGMA defer_foreign_keys = ON", NULL);
}

static int sqlite_commit(struct barge_conn *c)
{
	return sq_exec(c->db, "COMMIT", NULL);
}

static int sqlite_rollback(struct barge_conn *c)
{
	/* SQLite may already have rolled back on its own (a full disk, an
	 * interrupted statement); then there is nothing left to undo. */
	if (sqlite3_get_autocommit(c->db))
		return 0;
	return sq_exec(c->db, "ROLLBACK", NULL);
}

/* ---- Slots that read through a possibly shared handle ----------------------
 * Each holds the handle's lock for its whole call; a reader holds it for
 * one batch at a time, so the workers sharing a snapshot take turns.
 */

#define LOCKED(ret, name, params, lock, args)                                  \
	static ret locked_##name params                                        \
	{                                                                      \
		pthread_mutex_t *l_ = (lock);                                  \
		sq_rd_lock(l_);                                                \
		ret r_ = sq_##name args;                                       \
		sq_rd_unlock(l_);                                              \
		return r_;                                                     \
	}

LOCKED(int, list_tables, (struct barge_conn *c, char ***n), c->rd_lock, (c, n))
LOCKED(int, describe, (struct barge_conn *c, const char *t, struct barge_table_def **o),
       c->rd_lock, (c, t, o))
LOCKED(int, count_rows, (struct barge_conn *c, const struct barge_table_def *t,
			 const char *w, int64_t *o), c->rd_lock, (c, t, w, o))
LOCKED(int, aggregate, (struct barge_conn *c, const struct barge_table_def *t,
			const char *a, int d, const char *col, const char *w, char **o),
       c->rd_lock, (c, t, a, d, col, w, o))
LOCKED(int, key_range, (struct barge_conn *c, const struct barge_table_def *t, int by,
			int64_t *mn, int64_t *mx, int64_t *n), c->rd_lock,
       (c, t, by, mn, mx, n))
LOCKED(int, key_after, (struct barge_conn *c, const struct barge_table_def *t,
			const struct barge_key *f, int64_t s, struct barge_key **o),
       c->rd_lock, (c, t, f, s, o))
LOCKED(int, read_open, (struct barge_reader **o, struct barge_conn *c,
			const struct barge_read_req *q), c->rd_lock, (o, c, q))
LOCKED(int, read_next, (struct barge_reader *r, struct barge_batch *b),
       sq_reader_lock(r), (r, b))
LOCKED(int, audit, (struct barge_conn *c, struct barge_table_def *t), c->rd_lock, (c, t))
LOCKED(int, digest_range, (struct barge_conn *c, const struct barge_table_def *t,
			   const struct barge_chunk *ch, const char *w, size_t n,
			   const size_t *cols, int nat, int64_t *cnt, uint64_t *lo,
			   uint64_t *hi),
       c->rd_lock, (c, t, ch, w, n, cols, nat, cnt, lo, hi))

static void locked_read_close(struct barge_reader *r)
{
	pthread_mutex_t *l = sq_reader_lock(r);
	sq_rd_lock(l);
	sq_read_close(r);
	sq_rd_unlock(l);
}

/* ---- The driver table ------------------------------------------------------ */

static const char *const sqlite_schemes[] = {"sqlite", NULL};

const struct barge_driver barge_sqlite_driver = {
	.name = "sqlite",
	.version = 1,
	.caps = BARGE_CAP_ROWID | BARGE_CAP_SNAPSHOT | BARGE_CAP_UPSERT |
		BARGE_CAP_TXN | BARGE_CAP_SQL | BARGE_CAP_PATH,
	.schemes = sqlite_schemes,
	.open = sqlite_open,
	.close = sqlite_close,
	.snapshot_begin = sqlite_snapshot_begin,
	.snapshot_join = sqlite_snapshot_join,
	.snapshot_end = sqlite_snapshot_end,
	.list_tables = locked_list_tables,
	.describe = locked_describe,
	.count_rows = locked_count_rows,
	.aggregate = locked_aggregate,
	.key_range = locked_key_range,
	.key_after = locked_key_after,
	.read_open = locked_read_open,
	.read_next = locked_read_next,
	.read_close = locked_read_close,
	.create_table = sq_create_table,
	.begin = sqlite_begin,
	.commit = sqlite_commit,
	.rollback = sqlite_rollback,
	.delete_range = sq_delete_range,
	.finish_tables = sq_finish_tables,
	.truncate = sq_truncate,
	.write_open = sq_write_open,
	.write_batch = sq_write_batch,
	.write_close = sq_write_close,
	.audit = locked_audit,
	.typemap = sq_typemap,
	.lookup = sq_lookup,
	.digest_able = sq_digest_able,
	.digest_range = locked_digest_range,
};
