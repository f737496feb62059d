/*
 * The state store: a SQLite file (WAL, crash-safe) that holds runs, units
 * (chunks), the per-unit migration log, per-run flags and the run's
 * configuration. Several threads of one process share one handle: every
 * function takes the handle's lock. Several processes may open the same
 * file (`barge status` reads while a run writes); writes retry on
 * SQLITE_BUSY.
 *
 * Strings returned in structs are owned by the struct; free the struct
 * with its _free function (each accepts NULL).
 */
#ifndef BARGE_STATE_H
#define BARGE_STATE_H

#include <stddef.h>
#include <stdint.h>

struct barge_state;

/*
 * Open (create = 1: create the file and schema when missing) the store at
 * `path`. A missing file without create is BARGE_ENOTFOUND.
 */
int barge_state_open(struct barge_state **out, const char *path, int create);
void barge_state_close(struct barge_state *st);

/* ---- Runs ------------------------------------------------------------- */

struct barge_run {
	int64_t id;
	char *source;   /* redacted URL */
	char *target;   /* redacted URL */
	char *tables;   /* comma-separated table names, in load order */
	char *config;   /* JSON text of the run's configuration */
	char *status;   /* "running", "done", "failed", "aborted" */
	double started; /* unix seconds */
	double finished;/* 0 while running */
	int pid;        /* process that last worked on the run */
};
void barge_run_free(struct barge_run *r);

int barge_state_run_create(struct barge_state *st, const char *source,
			   const char *target, const char *tables,
			   const char *config, int64_t *id);
/* The newest run; BARGE_ENOTFOUND when the store has none. */
int barge_state_run_latest(struct barge_state *st, struct barge_run **out);
int barge_state_run_get(struct barge_state *st, int64_t id,
			struct barge_run **out);
/* The newest whole-copy run, the one a `run` resumes (one-row runs of
 * `run --table T --key K` are skipped): 0 with *out NULL when none. */
int barge_state_run_main(struct barge_state *st, struct barge_run **out);
/* Set status (and finished time when not "running") and the pid. */
int barge_state_run_set_status(struct barge_state *st, int64_t id,
			       const char *status);

/* Per-run flags, e.g. "truncated:orders" = "1". get: ENOTFOUND if unset;
 * *value is malloc'd. */
int barge_state_flag_set(struct barge_state *st, int64_t run,
			 const char *key, const char *value);
int barge_state_flag_get(struct barge_state *st, int64_t run,
			 const char *key, char **value);

/* ---- Units -------------------------------------------------------------- */

enum barge_unit_status {
	BARGE_UNIT_PENDING = 0,
	BARGE_UNIT_RUNNING,
	BARGE_UNIT_DONE,
	BARGE_UNIT_FAILED,
};
const char *barge_unit_status_name(int status); /* "pending", ... */

struct barge_unit {
	int64_t id;
	int64_t run;
	char *table;
	int64_t seq;       /* chunk number within the table */
	char *lo;          /* JSON key or NULL (unbounded) */
	char *hi;
	int by_rowid;
	int status;        /* enum barge_unit_status */
	int attempts;      /* times claimed */
	int64_t rows_read;
	int64_t rows_written;
	int64_t rows_rejected;
	int64_t bytes;
	char *digest;      /* 32 hex digits, or NULL */
	double started;    /* unix seconds of the last claim, 0 if never */
	double finished;   /* 0 unless done or failed */
	char *last_error;  /* NULL when none */
};
void barge_unit_free(struct barge_unit *u);

/* What the chunk planner stores for one unit. */
struct barge_unit_plan {
	const char *lo; /* JSON or NULL */
	const char *hi;
	int by_rowid;
};

/*
 * Store a table's planned units in one transaction, with seq 0..n-1, and
 * mark the table planned. Planning a table twice for a run is an error.
 */
int barge_state_units_add(struct barge_state *st, int64_t run,
			  const char *table, size_t n,
			  const struct barge_unit_plan *units);
/* Has the table been planned in this run? */
int barge_state_table_planned(struct barge_state *st, int64_t run,
			      const char *table, int *planned);

/*
 * Claim the next pending unit of the run (lowest id first; only tables in
 * `table` when not NULL): status -> running, attempts + 1, started = now.
 * BARGE_ENOTFOUND when none is pending.
 */
int barge_state_claim(struct barge_state *st, int64_t run, const char *table,
		      struct barge_unit **out);
/* Claim one given unit whatever its status (for `run --chunk N`). */
int barge_state_claim_id(struct barge_state *st, int64_t unit,
			 struct barge_unit **out);
int barge_state_unit_get(struct barge_state *st, int64_t unit,
			 struct barge_unit **out);
/* A table's unit by seq. */
int barge_state_unit_by_seq(struct barge_state *st, int64_t run,
			    const char *table, int64_t seq,
			    struct barge_unit **out);

/* One rejected row, as the engine hands it to unit_done. */
struct barge_reject {
	char *key;     /* JSON array of the source key, or NULL */
	char *row;     /* JSON object of the source row */
	char *rule;    /* the rule or conversion that failed */
	char *message; /* one line */
};

struct barge_unit_result {
	int64_t rows_read;
	int64_t rows_written;
	int64_t rows_rejected;
	int64_t bytes;
	const char *digest; /* hex, or NULL */
	/* The chunk's rejects, stored in the same transaction that marks the
	 * unit done; the unit's rejects of an earlier attempt are replaced. */
	size_t nrejects;
	const struct barge_reject *rejects;
};
int barge_state_unit_done(struct barge_state *st, int64_t unit,
			  const struct barge_unit_result *res);
/* A failed attempt: `retry` = 1 puts the unit back to pending, 0 marks it
 * failed for good. The error text is stored as last_error. */
int barge_state_unit_failed(struct barge_state *st, int64_t unit,
			    const char *error, int retry);
/* After a crash: the run's units left "running" go back to "pending";
 * with `failed_too`, failed units as well (a resume retries them). */
int barge_state_units_reset(struct barge_state *st, int64_t run,
			    int failed_too);

/* ---- Rejects ------------------------------------------------------------ */

/* A stored reject, for `barge rejects`. */
struct barge_reject_row {
	int64_t id, run, unit;
	char *table, *key, *row, *rule, *message;
	double at;
};
void barge_reject_row_dispose(struct barge_reject_row *r);

/*
 * Call fn for each reject of run `run` (0 = the newest run), only table
 * `table` when not NULL, in the order they were stored. A non-zero return
 * of fn stops the walk and is returned.
 */
int barge_state_rejects(struct barge_state *st, int64_t run, const char *table,
			int (*fn)(const struct barge_reject_row *r, void *arg),
			void *arg);

/* ---- The migration log --------------------------------------------------- */

/* One line for a unit (unit = 0 for run-level events). */
int barge_state_log(struct barge_state *st, int64_t run, int64_t unit,
		    const char *event, const char *message);

/* ---- Progress ------------------------------------------------------------ */

struct barge_table_progress {
	char *table;
	int64_t chunks;
	int64_t chunks_done;
	int64_t chunks_failed;
	int64_t chunks_running;
	int64_t rows_read;
	int64_t rows_written;
	int64_t rows_rejected;
	int64_t bytes;
	double seconds;    /* sum of the done units' durations */
	double first_start;/* earliest unit start, 0 if none */
	double last_end;   /* latest unit finish, 0 if none */
	char *last_error;  /* the newest failed unit's error, or NULL */
};
/* Per-table progress of a run, tables in the order they were planned. */
int barge_state_progress(struct barge_state *st, int64_t run,
			 struct barge_table_progress **out, size_t *n);
void barge_table_progress_free(struct barge_table_progress *p, size_t n);

/* ---- Verify results ------------------------------------------------------ */

/* One table's outcome of `barge verify` (strings are borrowed). */
struct barge_verify_record {
	const char *source; /* redacted URL, NULL with against_state */
	const char *target;
	const char *table;
	int against_state;
	int equal;
	int64_t source_rows, target_rows, chunks;
	int64_t missing, extra, changed;
	double seconds;
	const char *report; /* the table's JSON report, differences listed */
};
int barge_state_verify_add(struct barge_state *st,
			   const struct barge_verify_record *r);

#endif
