/*
 * verify: prove a copy exact, and name every differing row (issue 4,
 * docs/verify.md).
 *
 *   one integer key: each side read whole, every row's canonical hash
 *   summed into its key's bucket (~leaf_rows / 2 keys); other keys: chunks
 *   planned on the source's key (chunker.c), count and digest per chunk on
 *   both sides (each side read in one snapshot) -> a bucket or chunk that
 *   differs is split 16 ways on the source's keys until the pieces are
 *   small -> the pieces are read in key order on both sides and
 *   merged: missing (source only), extra (target only), changed (with the
 *   columns whose encodings differ). Keyless tables compare as multisets
 *   of row hashes.
 *
 * barge_verify_fix re-copies exactly the differing keys. Everything works
 * through the driver interface (drv.h), so any pair of endpoints.
 */
#ifndef BARGE_VERIFY_H
#define BARGE_VERIFY_H

#include "engine.h"

#include <stdint.h>
#include <stdio.h>

enum barge_diff_kind {
	BARGE_DIFF_MISSING = 0, /* in the source, not in the target */
	BARGE_DIFF_EXTRA,       /* in the target only */
	BARGE_DIFF_CHANGED,     /* same key, other values */
	BARGE_DIFF_CHUNK,       /* --against-state: a chunk's digest differs */
};
const char *barge_diff_kind_name(int kind); /* "missing", ... */

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
void barge_verify_result_dispose(struct barge_verify_result *r);

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
 */
int barge_verify_fix(const struct barge_verify_opts *o,
		     const struct barge_verify_result *res, int64_t *fixed,
		     int64_t *unfixable);

/* The JSON report: {"tables":[{"table":..,"equal":..,...}]} (malloc'd). */
int barge_verify_report_json(char **out, const struct barge_verify_result *res);

#endif
