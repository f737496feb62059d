/*
 * The private header of verify (verify.h), shared by its pieces and by
 * nothing else: verify.c (entry point, work, workers, phases, progress),
 * verify_table.c (tables, how they are digested, opening both sides),
 * verify_diff.c (one side of a range, differences, merging, localization),
 * verify_keyless.c, verify_bucket.c, verify_invariants.c, verify_report.c
 * (results), verify_fix.c and verify_state.c (--against-state).
 *
 * Threads: barge_verify runs phases; in each, `jobs` workers (struct
 * vworker) take work (struct vwork) from vctx until none is left, and the
 * main thread joins them before the next phase. What is "set before the
 * workers" below is written by the main thread only while no worker runs,
 * and only read while they do.
 */
#ifndef BARGE_VERIFY_INT_H
#define BARGE_VERIFY_INT_H

#include "verify.h"
#include "verify_map.h"
#include "binding.h"
#include "canon.h"
#include "chunker.h"
#include "drv.h"
#include "transform.h"
#include "util.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define BATCH_ROWS 2000
#define ENC_CAP ((size_t)1 << 30)

/* ---- What the pieces share ------------------------------------------------ */

/* One table as compared: the columns on both sides, in the source's order
 * minus skipped columns (the order `barge run` digests). */
/*
 * Locking: everything but rows_read, bd and *res is set before the
 * workers (vt_resolve, vts_through_run, the chunk or bucket planning) and
 * read-only after. rows_read is atomic (the progress thread reads it).
 * bd[0] and bd[1] are written by the phase-1 W_PASS workers without a
 * lock: each (part, side) covers its own buckets of its own array; they
 * are read between the phases and in phase 2. `lock` guards *res (the
 * counts, equal, seconds, diffs) while workers run; between and after the
 * phases the main thread writes *res without it.
 */
struct vt {
	const struct barge_job_table *jt;
	struct barge_table_def *sdef; /* key = the chunking key */
	struct barge_table_def *ddef; /* key = the same columns, target names */
	size_t ncols;
	size_t *scols, *dcols;
	int *stypes, *dtypes;
	/* The plan's mapping (docs/verify.md, "Through the mapping"), NULL =
	 * compared as read. With it the source is read whole (rd_*), each
	 * batch is mapped like `barge run` maps it and the mapped batch (the
	 * target's columns, stypes) is compared; scols is then unused. */
	struct barge_xf *xf;
	size_t rd_ncols;
	size_t *rd_cols;
	int *rd_types;
	struct barge_rejected *rej;   /* the run's rejects: expected absent */
	struct barge_vfeeds *feeds;   /* new keys from barge_keymap, or NULL */
	int keyed;
	size_t nkey;
	size_t *kpos;                 /* batch column of each key column */
	int fast;                     /* chunk digests in the fast-path form */
	int sdb, ddb;                 /* ... made in the database on that side */
	int native;                   /* ... by the same driver on both sides */
	struct barge_chunk_list chunks;
	/* Bucketed comparison (a single integer key, streamed digests): the
	 * key space from kmin on is cut into nb buckets of kw keys (the first
	 * open below, the last open above); each side is read whole, in
	 * nparts key ranges, each row summed into its key's bucket (bd[0]
	 * source, bd[1] target); then only the differing buckets are
	 * localized. Other tables go chunk by chunk (chunks). */
	int bucketed;
	int64_t kmin;
	uint64_t kw;
	size_t nb, nparts;
	struct barge_digest *bd[2];
	/* progress: rows read by the first pass (both sides), of about
	 * est_rows (twice the source's count; -1 unknown) */
	atomic_llong rows_read;
	int64_t est_rows;
	struct barge_verify_table *res;
	pthread_mutex_t lock;
	int lock_init;
};

/* One piece of work for a worker. */
enum {
	W_CHUNK,   /* a planned chunk of a keyed table: digests, localization */
	W_KEYLESS, /* a keyless table, whole */
	W_PASS,    /* one side of one part of a bucketed table: bucket digests */
	W_BUCKET,  /* a bucket of a bucketed table whose digests differ */
};

struct vwork {
	size_t table;
	int kind;
	int side;   /* W_PASS: 0 source, 1 target */
	size_t idx; /* the chunk, the part or the bucket */
};

/*
 * Locking: o, src, dst, stoken, dtoken, vts, nvts, owned, max_diffs and
 * leaf_rows are set before the workers and read-only after. slead and
 * dlead are the main thread's connections, never used by a worker (each
 * has its own, struct vworker). work and nwork are filled by the main
 * thread between phases; next_work is guarded by qlock. failed is atomic;
 * errmsg and errcode are written once under qlock (by the first worker
 * that fails) and read by the main thread after the join.
 */
struct vctx {
	const struct barge_verify_opts *o;
	struct barge_ep src, dst;
	struct barge_conn *slead, *dlead;
	char *stoken, *dtoken;
	/* worker i's connections, joined with the leaders' snapshots (a
	 * driver with snapshot_hold), taken by the workers as they open;
	 * main thread only */
	struct barge_conn **spre, **dpre;
	size_t npre;
	struct vt *vts;
	size_t nvts;
	struct barge_job_table *owned;
	size_t nowned;
	int64_t max_diffs, leaf_rows;
	/* the work of the current phase (struct vwork), taken in order */
	pthread_mutex_t qlock;
	struct vwork *work;
	size_t nwork, next_work;
	atomic_int failed;
	char errmsg[1024];
	int errcode;
};

/* A range of one side, described once for a worker: per-worker (on its
 * stack, with its connection), single-threaded, borrowing from struct vt. */
struct side {
	const struct barge_ep *ep;
	struct barge_conn *conn;
	const struct barge_table_def *def;
	const size_t *cols;
	const int *types;
	const char *where;
	int fast;   /* digests in the fast-path form ... */
	int db;     /* ... made by the driver in the database */
	int native; /* ... in the driver's own form */
	/* the source through the plan's mapping (struct vt): read rd_*, map */
	const struct barge_xf *xf;
	size_t rd_ncols;
	const size_t *rd_cols;
	const int *rd_types;
	const struct barge_rejected *rej; /* rows to leave out (source side) */
	const struct barge_vfeeds *feeds; /* keys to look up (source side) */
	const struct barge_ep *kep;       /* ... in this target */
};

/* A side's rows as compared: as read, or read whole and mapped.
 * Per-worker, single-threaded. */
struct sread {
	const struct side *s;
	struct barge_reader *rd;
	struct barge_batch *raw;  /* with a mapping: the source batch */
	struct barge_xf_run *xr;
	struct barge_vfeed *fd;   /* its new keys from barge_keymap */
};

/* Ordered rows of one side with each row's hash: per-worker,
 * single-threaded. */
struct cursor {
	const struct side *s;
	struct sread rd;
	struct barge_batch *b;
	size_t row;
	int done;
	uint64_t hlo, hhi; /* the current row's hash */
	struct barge_buf enc;
};

/* One worker thread: its own connections (joined to the snapshots), used
 * by it alone; cx is shared, as struct vctx says. */
struct vworker {
	struct vctx *cx;
	size_t id;  /* 0-based */
	struct barge_conn *sconn, *dconn;
	pthread_t thread;
};

/* ---- verify_table.c -------------------------------------------------------- */

void verify_opts_defaults(struct vctx *cx, const struct barge_verify_opts *o);
/* Open both sides, snapshot both, resolve the tables (res->tables is
 * filled); verify_vctx_close frees what it opened, also after a failure. */
int verify_vctx_open(struct vctx *cx, struct barge_verify_result *res);
void verify_vctx_close(struct vctx *cx);
/* The name a compared column is reported by. */
const char *verify_vt_colname(const struct vt *t, size_t c);

/* ---- verify_diff.c --------------------------------------------------------- */

void verify_side_of(struct side *s, struct vctx *cx, struct vt *t, int target,
		    struct barge_conn *conn);
int verify_sread_open(struct sread *r, const struct side *s, size_t ncols,
		      const struct barge_chunk *ch, int ordered);
int verify_sread_next(struct sread *r, struct barge_batch *b);
void verify_sread_close(struct sread *r);
/* Count and digest of a range on one side (ch NULL: the whole table). */
int verify_side_digest(const struct side *s, size_t ncols,
		       const struct barge_chunk *ch, struct barge_digest *d);
/* Count a difference and list it while under the cap; takes `columns`.
 * Takes t->lock. */
int verify_add_diff(struct vctx *cx, struct vt *t, int kind,
		    const struct barge_batch *b, size_t row, char *columns);
int verify_cursor_open(struct cursor *c, const struct side *s, size_t ncols,
		       const struct barge_chunk *ch, int ordered);
int verify_cursor_next(struct cursor *c, size_t ncols);
void verify_cursor_close(struct cursor *c);
/* A range whose digests differ, down to its differing rows. */
int verify_localize(struct vctx *cx, struct vt *t, const struct side *ss,
		    const struct side *ds, const struct barge_chunk *ch,
		    int64_t src_rows, int depth);

/* ---- verify_keyless.c ------------------------------------------------------ */

int verify_compare_keyless(struct vctx *cx, struct vt *t, const struct side *ss,
			   const struct side *ds);

/* ---- verify_bucket.c ------------------------------------------------------- */

int verify_bucket_able(const struct vt *t);
int verify_plan_buckets(struct vctx *cx, struct vt *t, int jobs);
int verify_do_pass(struct vworker *w, struct vt *t, size_t part, int target);
int verify_do_bucket(struct vworker *w, struct vt *t, size_t i);

/* ---- verify_invariants.c --------------------------------------------------- */

/* After the workers, on the main thread's connections. */
int verify_check_invariants(struct vctx *cx);

/* ---- verify_report.c ------------------------------------------------------- */

int verify_store_results(const struct barge_verify_opts *o, const char *src,
			 const char *dst, const struct barge_verify_result *res);

/* ---- verify_state.c -------------------------------------------------------- */

int verify_against_state(const struct barge_verify_opts *o,
			 struct barge_verify_result *res);

#endif
