/*
 * Private to the state store, shared by its pieces:
 *   state.c        the handle: open, schema and migrations, the lock and
 *                  the transaction runner, the statement helpers below
 *   state_runs.c   runs (create, get, the newest, the newest whole copy,
 *                  status) and per-run flags
 *   state_units.c  units: planning, claiming, done (with the chunk's
 *                  rejects and digest), failed, reset after a crash
 *   state_log.c    what a run leaves to read: the migration log, rejects,
 *                  per-table progress, verify results
 *
 * Who guards what. One handle may be shared by the threads of a process
 * (the engine's workers claim and finish units through it):
 *
 *   struct barge_state
 *     path, busy_limit  set by barge_state_open before the handle is
 *                       returned; read-only after, read without the lock
 *     db                used only inside state_tx(), under `lock`: the
 *                       connection, its statements and what SQLite keeps
 *                       per connection (sqlite3_changes,
 *                       sqlite3_last_insert_rowid, the error message) are
 *                       the lock holder's
 *     lock              held by state_tx() for one whole transaction,
 *                       its busy retries included
 *
 * Between processes SQLite's file locks guard the rows: state_tx() runs a
 * reading function in BEGIN (one consistent view, in WAL) and a writing
 * one in BEGIN IMMEDIATE, which takes the write lock before the first
 * read, so claiming a unit (find the lowest pending id, mark it running)
 * cannot race another process. Every tx_fn therefore runs with `lock`
 * held and inside its transaction; it must never call a public
 * barge_state_* function (the lock is not recursive).
 */
#ifndef BARGE_STATE_INT_H
#define BARGE_STATE_INT_H

#include "state.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>

struct barge_state {
	sqlite3 *db;          /* under lock, inside state_tx() */
	char *path;           /* read-only after open */
	double busy_limit;    /* seconds; read-only after open */
	pthread_mutex_t lock; /* guards db; one transaction at a time */
};

/* ---- Transactions (state.c) ---------------------------------------------- */

enum tx_mode { TX_NONE, TX_READ, TX_WRITE };

typedef int (*tx_fn)(struct barge_state *st, void *arg);

/*
 * Run fn in one transaction under the handle's lock. fn may run several
 * times (after SQLITE_BUSY), so it must undo or free whatever a previous
 * attempt left in arg. Returns fn's result, or BARGE_ERETRY once the busy
 * limit has passed.
 */
int state_tx(struct barge_state *st, enum tx_mode mode, tx_fn fn, void *arg);

/* ---- Statements (state.c): each sets the error slot where it fails ------- */

/* One parameter of a statement; lists end with SP_END. */
struct state_param {
	enum { SP_END, SP_INT, SP_REAL, SP_TEXT } type;
	int64_t i;
	double d;
	const char *t; /* NULL binds NULL */
};
#define SP_I(v) {.type = SP_INT, .i = (int64_t)(v)}
#define SP_D(v) {.type = SP_REAL, .d = (double)(v)}
#define SP_T(v) {.type = SP_TEXT, .t = (v)}
/* STATE_PARAMS(SP_I(run), SP_T(table)): bound to ?1, ?2, ... in order. */
#define STATE_PARAMS(...) \
	((const struct state_param[]){__VA_ARGS__, {.type = SP_END}})

/* Map a SQLite failure: busy and locked are BARGE_ERETRY (state_tx runs
 * the transaction again), everything else an error naming `what`. */
int state_fail(struct barge_state *st, int src, const char *what);
/* Run SQL text without parameters or rows (BEGIN, PRAGMA, the schema). */
int state_exec(struct barge_state *st, const char *sql);
/* Prepare sql and bind params (NULL: none). *out is NULL on failure. */
int state_prep(struct barge_state *st, sqlite3_stmt **out, const char *sql,
	       const struct state_param *params);
/* Step once: 1 for a row, 0 when done, negative on failure. */
int state_step(struct barge_state *st, sqlite3_stmt *s);
/* Reset s, bind params to it again and step once (a statement prepared
 * once and run for each item): as state_step. */
int state_step_with(struct barge_state *st, sqlite3_stmt *s,
		    const struct state_param *params);
/* Prepare, bind and step once: 1 with a row to read from *out, 0 for none,
 * negative on failure. The caller finalizes *out in every case. */
int state_row(struct barge_state *st, sqlite3_stmt **out, const char *sql,
	      const struct state_param *params);
/* A statement without rows: prepare, bind, step, finalize. Returns the
 * number of rows it changed, or negative. */
int state_run(struct barge_state *st, const char *sql,
	      const struct state_param *params);
/* Column i as a malloc'd string, *out NULL for SQL NULL. */
int state_col_dup(sqlite3_stmt *s, int i, char **out);

/* The one-line BARGE_ENOTFOUND errors for a missing run or unit. */
int state_no_run(struct barge_state *st, int64_t run);
int state_no_unit(struct barge_state *st, int64_t unit);

#endif
