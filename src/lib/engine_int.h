/*
 * The engine's private header: the state of a job (struct ctx), of each of
 * its tables (struct tbl) and of each worker thread (struct worker), shared
 * by the files the engine is split into, one job each:
 *
 *   engine.c          barge_job_run: validate, pick or resume the run,
 *                     plan, run the workers, collect the result
 *   engine_bind.c     binding a plan's table to both sides, validation
 *   engine_refs.c     load order, `references` rules, key maps
 *   pipeline.c        one chunk: reader thread -> map -> write, rejects
 *   worker.c          workers, retries, circuit breaker, error budget
 *   snapshot.c        joining and renewing the source snapshot
 *   target.c          preparing the target, planning, finishing tables
 *   dryrun.c          the dry run and one-row runs
 *
 * Not API (engine.h is). Who may touch what once the workers run is said
 * above each struct: "before the workers" fields are written by the main
 * thread only while no worker thread exists (validate, prepare_target,
 * plan_tables, count_open, budget_load, estimate_rows) and only read after;
 * the rest are atomics or name the mutex that guards them.
 */
#ifndef BARGE_ENGINE_INT_H
#define BARGE_ENGINE_INT_H

#include "engine.h"
#include "binding.h"
#include "canon.h"
#include "chunker.h"
#include "drv.h"
#include "state.h"
#include "transform.h"
#include "util.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define KEYSEQ_TABLE "barge_keyseq"
#define REJECTS_MAX_BYTES (256u << 20) /* a chunk's rejects held in memory */

/* SIGINT/SIGTERM: the running chunks finish, then the workers stop. */
extern atomic_int engine_stop_requested;

/* A `references: table.column` rule of a mapped column. Set before the
 * workers (resolve_refs), read-only after. */
struct tref {
	size_t scol;          /* the column in the read batch (source order) */
	size_t xcol;          /* the target column, for the reject */
	char *spec;           /* "customers.id", for messages */
	char *table, *column; /* what to look up in the target */
	long parent;          /* the parent's index in the job, or -1 */
	int fed;              /* rewritten to the parent's sequence key, looked
			       * up in barge_keymap (table_name = `table`) */
	int self;             /* the parent is this table */
	int to_key;           /* ... and the column its one-column key */
};

/*
 * One table of the job. Locking:
 *  - binding and plan (jt .. exists below, and est_rows, nunits): set
 *    before the workers, read-only while they run;
 *  - runtime counters: atomics, read and written by any worker;
 *  - seq_lock: held by the worker whose chunk hands out sequence numbers,
 *    from reading the last one in barge_keyseq to its chunk's commit, so
 *    one chunk of the table numbers at a time (the numbers themselves are
 *    in that worker's struct worker);
 *  - finish_err: written by the one worker that saw open_units reach 0
 *    (finish_early), read by the main thread after the workers joined.
 */
struct tbl {
	/* binding: set before the workers (engine_bind.c, engine_refs.c) */
	const struct barge_job_table *jt;
	char *target_name;
	struct barge_table_def *src;  /* source def, key = the chunking key */
	struct barge_table_def *dst;  /* target def (NULL until known) */
	struct barge_table_def *want; /* the target as barge would create it */
	size_t ncols;
	size_t *src_cols;             /* batch column -> source column */
	char **dst_names;             /* batch column -> target column name */
	size_t *dst_cols;             /* batch column -> target column */
	int *types;                   /* batch column types (+ rowid) */
	/* What the reader reads: the copied columns, or every source column
	 * when the table has a mapping (the transform stage needs them all:
	 * keys and whole rows for rejects, `from:` of added columns). */
	size_t rd_ncols;
	size_t *rd_cols;
	int *rd_types;                /* (+ rowid) */
	struct barge_xf *xf;          /* the mapping, NULL = copy as read */
	/* `references` rules: checked per batch in the target, before mapping */
	size_t nrefs;
	struct tref *refs;
	/* key remapping: the key was replaced by an `add:` uuid_v5 of it, so
	 * each written row also goes to barge_keymap (mapped batch columns) */
	int keymap;
	size_t km_legacy, km_new;
	/* the new key is an `add:` sequence: numbers handed out in each
	 * chunk's transaction after the last one in barge_keyseq, one chunk
	 * of the table at a time (seq_lock) */
	int seq;
	int64_t seq_start;
	/* a `references` rule to itself: rows whose parent is not in the
	 * target yet are held to the end of their chunk, and chunks left
	 * with such rejects run again once the table's others are done
	 * (selfref_rounds); its error budget is checked from then on, when
	 * the rejects are final */
	int selfref;
	/* --jobs > 1: the tables (indices in the job, earlier in the load
	 * order) whose chunks must all be finished before this one's start */
	size_t ngates;
	size_t *gates;
	int how;                      /* enum barge_chunking */
	int with_rowid;
	int created;
	int exists;                   /* the target table exists already */

	/* plan: set before the workers (target.c, engine.c) */
	int64_t nunits;               /* the run's units of this table */
	int64_t est_rows;

	/* runtime: atomics, any worker */
	atomic_int rounds_done;       /* the self-reference rounds are done */
	atomic_llong open_units;      /* units still open (+ 1 for a
				       * self-reference's rounds) */
	atomic_int failed;            /* this run's failed units */
	atomic_llong rej_total, read_total; /* the run's, for the budget */
	atomic_int over_budget;
	atomic_llong rows_done;
	/* µs (monotonic) when this job first claimed one of the table's units
	 * and when it last finished one: a table's rate is over its own time */
	atomic_llong first_us, last_us;

	pthread_mutex_t seq_lock;     /* initialized only when `seq` */
	char finish_err[512];         /* the early finish failed (finish_early) */
};

/*
 * The job. Locking:
 *  - set before the workers, read-only after: job, src, dst, snapshots,
 *    st (the state store handle locks itself), run, prev_run, tbls, ntbls,
 *    order_note, km_def, km_cols, ks_def, ks_cols, gated;
 *  - leader_lock: leader, token, renewals (renew_snapshot replaces the
 *    token; finishing a table uses the leader);
 *  - lock: consecutive_failures, abort_reason (read by the main thread
 *    after the workers joined);
 *  - atomics: aborted, failed_units;
 *  - write_turn guards no field: it is the one write turn of a target
 *    without BARGE_CAP_PARALLEL_WRITE;
 *  - notes: the main thread only (before and after the workers).
 */
struct ctx {
	const struct barge_job *job;
	struct barge_ep src, dst;
	int snapshots;          /* the source has snapshots */
	struct barge_state *st;
	int64_t run;
	int64_t prev_run;       /* the state file's earlier run (restart), or 0 */
	struct tbl *tbls;
	size_t ntbls;
	char *order_note;       /* "load order: ..." (+ the cycles), for the log */
	struct barge_table_def *km_def; /* barge_keymap in the target, or NULL */
	size_t km_cols[3];
	struct barge_table_def *ks_def; /* barge_keyseq in the target, or NULL */
	size_t ks_cols[2];
	int gated;              /* some table waits for its parents */

	pthread_mutex_t leader_lock;
	struct barge_conn *leader;    /* source: planning + snapshot */
	char *token;            /* the snapshot to join */
	/* worker i's source connection, opened and joined with the leader's
	 * snapshot (a driver with snapshot_hold), taken by worker_open;
	 * main thread only */
	struct barge_conn **pre;
	size_t npre;
	int renewals;           /* new snapshots taken */

	pthread_mutex_t lock;
	int consecutive_failures;
	char abort_reason[256];

	atomic_int aborted;
	atomic_int failed_units;

	pthread_mutex_t write_turn; /* targets without parallel writes */
	struct barge_buf notes; /* lines for the summary (res->notes) */
};

struct held; /* rows held back in a chunk (pipeline.c) */

/*
 * A worker thread and what it owns: its two connections and its batches.
 * Only its own thread touches it (cx is shared, see struct ctx).
 */
struct worker {
	struct ctx *cx;
	int id;
	struct barge_conn *sconn, *tconn;
	struct tbl *batches_for; /* the table the batches are shaped for */
	struct barge_batch **batches;
	size_t nbatches;
	struct barge_batch *mapped;   /* the transform stage's output batch */
	struct barge_xf_run *xrun;    /* its scratch */
	uint8_t *found;               /* references: nrefs x batch_rows */
	struct barge_batch *kmb;      /* barge_keymap rows of a batch */
	/* new keys looked up in barge_keymap: one text batch per reference
	 * (those with `fed`) and one for the table's own sequence key */
	struct barge_batch **lk;
	size_t nlk;
	uint8_t *lkfound;
	struct held *held[2];         /* self-references: rows held in a chunk */
	int64_t seq_last;             /* the chunk's sequence: last number */
	int seq_dirty;                /* handed out numbers in this chunk */
	char seq_txt[24];
	pthread_t thread;
	int err;
};

/* The reader thread of a chunk: it fills `full` from `pool` and digests
 * what it reads. The worker owns it; after the thread is joined, the
 * worker reads rows, bytes, digest, err and msg. */
/* A chunk's rejected rows, in memory until the chunk commits (capped by
 * REJECTS_MAX_BYTES). rejects_dispose frees them. */
struct rejects {
	size_t n, cap, bytes;
	struct barge_reject *v;
};

struct reader {
	struct ctx *cx;
	struct tbl *t;
	struct barge_conn *conn;
	const struct barge_chunk *chunk;
	struct barge_queue *pool, *full;
	struct barge_digest digest;
	int64_t rows, bytes, limit;
	struct rejects rej; /* records the source refused (read_rejects) */
	int err;
	char msg[1024];
};

struct chunk_result {
	int64_t rows_read, rows_written, bytes;
	char digest[33];
	struct rejects rej;
};

/* engine_bind.c */
void tbl_dispose(struct tbl *t);
struct tbl *tbl_find(struct ctx *cx, const char *name);
/* Call fn for each of the job's tables the run has planned, with its
 * progress in the state store (main thread, before the workers). */
int tbl_each_progress(struct ctx *cx,
		      void (*fn)(struct tbl *t, const struct barge_table_progress *p));
int tbl_bind_target(struct tbl *t);
int engine_validate(struct ctx *cx, struct barge_job_table **owned_tables,
		    size_t *nowned);

/* engine_refs.c */
int engine_order_tables(struct ctx *cx);
int resolve_refs(struct ctx *cx);

/* pipeline.c */
void *engine_reader_main(void *arg);
void worker_free_batches(struct worker *w);
int worker_batches(struct worker *w, struct tbl *t);
int engine_unit_chunk(struct barge_chunk *ch, const struct barge_unit *u,
		      const struct tbl *t);
void chunk_dispose(struct barge_chunk *ch);
void rejects_dispose(struct rejects *rs);
int engine_map_batch(struct worker *w, struct tbl *t, const struct barge_batch *b,
		     struct rejects *rs, struct held *held);
char *engine_inflight_key(char *buf, size_t n, int64_t unit);
int engine_copy_chunk(struct worker *w, struct tbl *t,
		      const struct barge_chunk *ch, int rerun,
		      struct chunk_result *res);

/* snapshot.c */
int engine_reconnect_target(struct worker *w);
int engine_join_snapshot(struct worker *w);
int engine_reconnect_source(struct worker *w);
int engine_reopen_leader(struct ctx *cx);

/* target.c */
int engine_restore_fks(struct ctx *cx);
int engine_prepare_target(struct ctx *cx);
int64_t engine_chunk_rows_for(const struct tbl *t);
int engine_plan_tables(struct ctx *cx);
int engine_count_open(struct ctx *cx);
int engine_finish_tables(struct ctx *cx);
int engine_finish_call(struct ctx *cx, struct barge_conn **tc, size_t n,
		       const struct barge_table_def **sd,
		       const struct barge_table_def **dd, int jobs, unsigned what);

/* worker.c */
/* The pause before retry number `attempt` (from 0): exponential, jittered. */
double engine_backoff(int attempt);
int engine_budget_load(struct ctx *cx);
char *engine_budget_note(struct ctx *cx);
int engine_process_unit(struct worker *w, struct barge_unit *u, int was_done);
int worker_open(struct worker *w);
void worker_close(struct worker *w);
int engine_selfref_resume(struct ctx *cx);
int engine_run_workers(struct ctx *cx);

/* dryrun.c */
int engine_plan_one_row(struct ctx *cx, struct tbl **only);
int engine_dry_run(struct ctx *cx, struct barge_job_result *res);
#endif
