/*
 * A job: copy tables from a source endpoint to a target in chunks, each
 * chunk one target transaction, checkpointed in a state store (a SQLite
 * file) so that running the same job again resumes it.
 *
 * Ownership: struct barge_job and its tables are the caller's; the library
 * only reads them during barge_job_run and keeps no pointer into them. A
 * struct barge_job_result is the caller's struct, filled by the library:
 * the caller releases what it holds with barge_job_result_dispose.
 *
 * A minimal copy of every table (see examples/copy_verify.c):
 *
 *   struct barge_job job = {0};
 *   struct barge_job_result res;
 *   job.source = "sqlite:in.db";
 *   job.target = "sqlite:out.db";
 *   job.state_path = "barge-state.db";
 *   barge_settings_builtin(&job.defaults);
 *   if (barge_job_run(&job, &res) < 0)
 *           fprintf(stderr, "%s\n", barge_error_last());
 *   else
 *           ... res.status ..., barge_job_result_dispose(&res);
 */
#ifndef BARGE_JOB_H
#define BARGE_JOB_H

#include "barge/settings.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One table of a job: what to read, where to write it. All strings and
 * arrays are the caller's (the CLI frees what it allocated). */
struct barge_job_table {
	char *name;     /* source table */
	char *target;   /* target table (NULL = same) */
	size_t nkey;
	char **key;     /* chunking key (NULL = the primary key) */
	char *where;    /* extra source filter */
	size_t nskip;
	char **skip;    /* source columns not copied */
	size_t nrename;
	char **rename_from, **rename_to; /* column renames */
	struct barge_settings settings;  /* resolved (no unset fields) */
	/* The mapping (docs/mapping.md), from the plan: per listed column its
	 * declared type and its options as YAML flow text (NULL = none), the
	 * `add:` columns as flow text, and the error budget (-1 = none). */
	size_t nopts;
	char **opt_name, **opt_type, **opt_text;
	char *add;
	int64_t max_rejects;
	double max_reject_ratio;
	/* the plan's invariants (verify; docs/plan.md) */
	size_t ninvariants;
	char **invariants;
};

/* What to do with a job. */
enum barge_job_action {
	BARGE_JOB_COPY = 0, /* the whole job, resuming if possible */
	BARGE_JOB_CHUNK,    /* re-run one chunk (table + seq) */
	BARGE_JOB_ROW,      /* migrate one row (table + key text) */
};

/*
 * One chunk's outcome, passed to barge_job.on_chunk: a chunk done, a
 * transient failure about to be retried, a chunk failed for good, or one
 * skipped (its table is over its error budget). The strings are valid only
 * during the call.
 */
struct barge_chunk_event {
	int64_t run_id;
	const char *table;    /* the source table */
	int64_t chunk;        /* the chunk's number within its table */
	const char *outcome;  /* "done", "retry", "failed" or "skipped" */
	int attempt;          /* 0 the first time, 1 the first retry, ... */
	int64_t rows_read, rows_written, rows_rejected; /* 0 unless done */
	const char *digest;   /* 32 hex digits when done, else NULL */
	double seconds;       /* the attempt's wall time */
	const char *message;  /* why, unless done (then NULL) */
};

/* The job, the caller's: every pointer is borrowed for the call only. */
struct barge_job {
	const char *source;     /* URL */
	const char *target;     /* URL */
	const char *state_path; /* the state store file (required) */
	size_t ntables;         /* 0 = every table of the source */
	struct barge_job_table *tables;
	struct barge_settings defaults; /* resolved (barge_settings_builtin) */
	int restart;
	int dry_run;
	int64_t sample;          /* dry run: rows per table, 0 = all */
	int action;              /* enum barge_job_action */
	const char *only_table;  /* BARGE_JOB_CHUNK / BARGE_JOB_ROW */
	int64_t only_chunk;
	const char *only_key;    /* "42" or "a,b" for a composite key */
	const char *command;     /* for the run's config (audit), may be NULL */
	int progress;            /* 1 = live progress lines on stderr */
	FILE *progress_out;
	/* Called at each chunk's outcome (NULL = not), from the worker
	 * threads, several at a time with --jobs: it must be thread-safe
	 * and quick (it holds up its worker). */
	void (*on_chunk)(const struct barge_chunk_event *ev, void *arg);
	void *on_chunk_arg;
};

/* Per-table figures of a finished job, from the state store. The strings
 * belong to the result (freed by barge_job_result_dispose). */
struct barge_job_table_result {
	char *table;
	int64_t chunks, chunks_done, chunks_failed;
	int64_t rows_read, rows_written, rows_rejected, bytes;
	double seconds; /* wall time from the first chunk start to the last end */
	char *last_error;
	int created;    /* the target table was created by this job */
};

struct barge_job_result {
	int64_t run_id;
	const char *status;  /* "done", "failed", "aborted", "dry-run" (static) */
	int resumed;
	size_t ntables;
	struct barge_job_table_result *tables;
	double seconds;
	char *message;       /* a one-line note (e.g. "nothing to do"), or NULL */
	char *notes;         /* lines for the summary (load order, a dry run's
			      * mapping and sample rejects), or NULL */
	int snapshot_renewals; /* times the source's snapshot was lost and a
				* new one taken: chunks were read in more than
				* one snapshot (each chunk is consistent) */
};
/* Free what a result holds (not the struct itself, which is the caller's). */
void barge_job_result_dispose(struct barge_job_result *r);

/*
 * Run a job. Returns 0 when the job ran (check res->status: a failed chunk
 * is a result, not an error), or a negative code with the error slot set
 * when it could not run at all (bad input: nothing was created or written).
 * The caller disposes `res` after 0; after a failure it holds nothing
 * (disposing it then is harmless).
 */
int barge_job_run(const struct barge_job *job, struct barge_job_result *res);

/* Ask running jobs to stop after their current chunks (signal-safe). */
void barge_job_request_stop(void);

#ifdef __cplusplus
}
#endif

#endif
