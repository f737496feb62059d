/*
 * The engine: a job copies tables from a source endpoint to a target in
 * chunks, each one target transaction, checkpointed in the state store.
 *
 *   job_run: validate everything (no side effects) -> open the state store
 *   and target -> create or resume the run -> plan chunks -> N workers,
 *   each a writer with its own reader thread joined by a bounded queue.
 */
#ifndef BARGE_ENGINE_H
#define BARGE_ENGINE_H

#include "barge/barge.h"
#include "plan.h"

#include <stdint.h>
#include <stdio.h>

/* One table of a job: what to read, where to write it. */
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
	/* the plan's invariants (verify; barge_invariant_parse, plan.h) */
	size_t ninvariants;
	char **invariants;
};

/* What to do with a job. */
enum barge_job_action {
	BARGE_JOB_COPY = 0, /* the whole job, resuming if possible */
	BARGE_JOB_CHUNK,    /* re-run one chunk (table + seq) */
	BARGE_JOB_ROW,      /* migrate one row (table + key text) */
};

struct barge_progress;

struct barge_job {
	const char *source;     /* URL */
	const char *target;     /* URL */
	const char *state_path;
	size_t ntables;         /* 0 = every table of the source */
	struct barge_job_table *tables;
	struct barge_settings defaults; /* resolved */
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
};

/* Per-table figures of a finished job, from the state store. */
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
void barge_job_result_dispose(struct barge_job_result *r);

/*
 * Run a job. Returns 0 when the job ran (check res->status: a failed chunk
 * is a result, not an error), or a negative code with the error slot set
 * when it could not run at all (bad input: nothing was created or written).
 */
int barge_job_run(const struct barge_job *job, struct barge_job_result *res);

/* Ask running jobs to stop after their current chunks (signal-safe). */
void barge_job_request_stop(void);

/* The job table list from a plan. */
int barge_job_tables_from_plan(struct barge_job_table **out, size_t *n,
			       const struct barge_plan *plan);
void barge_job_tables_free(struct barge_job_table *t, size_t n);

/* Check a table's skips and renames against its source definition and set
 * the job's chunking key on it; BARGE_EUSAGE naming the column. */
int barge_job_table_apply(struct barge_table_def *d,
			  const struct barge_job_table *jt);

#endif
