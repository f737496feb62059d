/*
 * verify: prove a copy exact, and name every differing row
 * (docs/verify.md). Counts and order-independent digests per chunk on both
 * sides, then the chunks that differ are narrowed down to the keys:
 * missing (source only), extra (target only) or changed (with the columns).
 *
 * Ownership: struct barge_verify_opts is the caller's and only read during
 * the call. struct barge_verify_result is the caller's struct, filled by
 * the library; everything it points to (tables, diffs, keys, strings)
 * belongs to it and is released by barge_verify_result_dispose. Strings
 * documented as constants are never freed.
 */
#ifndef BARGE_VERIFY_H
#define BARGE_VERIFY_H

#include "barge/driver.h" /* struct barge_key */
#include "barge/job.h"    /* struct barge_job_table */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

enum barge_diff_kind {
	BARGE_DIFF_MISSING = 0, /* in the source, not in the target */
	BARGE_DIFF_EXTRA,       /* in the target only */
	BARGE_DIFF_CHANGED,     /* same key, other values */
	BARGE_DIFF_CHUNK,       /* --against-state: a chunk's digest differs */
};
const char *barge_diff_kind_name(int kind); /* "missing", ... (a constant) */

struct barge_verify_diff {
	int kind;
	struct barge_key *key; /* key values (keyed tables) or the whole row
				* (keyless tables); NULL for CHUNK */
	char *columns;         /* CHANGED: JSON array of column names */
	char *lo, *hi;         /* CHUNK: the chunk's bounds (JSON or NULL) */
	int64_t seq;           /* CHUNK: the chunk number */
};

/* A plan invariant (docs/plan.md): its text and each side's value (NULL =
 * SQL NULL); equal also when both are one number written two ways. */
struct barge_verify_invariant {
	char *text;
	char *source, *target;
	int equal;
};

struct barge_verify_table {
	char *table;          /* source table (as in the plan) */
	char *target;         /* target table */
	int keyed;            /* compared by key (else as a multiset) */
	size_t nfields;
	char **fields;        /* names of the key's values (or of the row's) */
	int equal;
	int64_t source_rows, target_rows;
	int64_t chunks, chunks_differing;
	int64_t missing, extra, changed; /* all found, listed or not */
	size_t ndiffs;                   /* listed: at most max_diffs */
	struct barge_verify_diff *diffs;
	double seconds;
	const char *digests;  /* how chunk digests were made (a constant):
			       * "in-database", "streamed", ... */
	size_t ninvariants;   /* the plan's invariants, each side's value */
	struct barge_verify_invariant *invariants;
};

struct barge_verify_result {
	size_t ntables;
	struct barge_verify_table *tables;
	double seconds;
	int equal; /* every table equal */
};
/* Free what a result holds (not the struct itself, which is the caller's). */
void barge_verify_result_dispose(struct barge_verify_result *r);

/* All zero means the defaults. Every pointer is borrowed for the call. */
struct barge_verify_opts {
	const char *source;     /* URL (unused with against_state) */
	const char *target;     /* URL; with against_state NULL = the run's */
	size_t ntables;         /* 0 = every table of the source */
	const struct barge_job_table *tables; /* mapping (renames, skips) */
	int64_t chunk_rows;     /* rows per chunk, 0 = 10000 */
	int64_t leaf_rows;      /* split differing chunks down to this, 0 = 1000 */
	int64_t max_diffs;      /* differences listed per table, 0 = 1000 */
	int jobs;               /* worker threads, 0 = 1 */
	const char *state_path; /* where results are stored (NULL = nowhere) */
	int against_state;      /* check the target against the digests the
				 * run in state_path recorded */
	int in_database;        /* chunk digests made in the databases that
				 * can (the driver's digest_range slot) */
	int progress;           /* 1 = live progress lines (rows read of
				 * both sides per table) */
	FILE *progress_out;     /* where (NULL = stderr) */
};

/*
 * Verify. Returns 0 when the comparison ran (res->equal says the
 * outcome), or a negative code with the error slot set when it could not.
 * The caller disposes `res` either way.
 */
int barge_verify(const struct barge_verify_opts *o,
		 struct barge_verify_result *res);

/*
 * Re-copy the differences listed in `res` (from barge_verify with the same
 * options) from the source to the target: each differing key (the point
 * chunk [key, key]) is deleted in the target and copied again, one target
 * transaction per table. Keyless tables: missing rows are inserted; extra
 * rows cannot be deleted without a key and are counted in *unfixable.
 * `res` stays the caller's (it is only read).
 */
int barge_verify_fix(const struct barge_verify_opts *o,
		     const struct barge_verify_result *res, int64_t *fixed,
		     int64_t *unfixable);

/* The JSON report: {"tables":[{"table":..,"equal":..,...}]}, malloc'd in
 * *out: the caller free()s it. */
int barge_verify_report_json(char **out, const struct barge_verify_result *res);

#ifdef __cplusplus
}
#endif

#endif
