/*
 * The chunk planner: splits a table into key ranges of about chunk_rows
 * rows, all planned before any data moves (DESIGN.md "Unit of work").
 */
#ifndef BARGE_CHUNKER_H
#define BARGE_CHUNKER_H

#include "drv.h"
#include "state.h"

enum barge_chunking {
	BARGE_CHUNK_INT = 0, /* one NOT NULL integer key: split by value */
	BARGE_CHUNK_KEYSET,  /* composite or text key: keyset walking */
	BARGE_CHUNK_ROWID,   /* no usable key: the engine's row address */
	BARGE_CHUNK_ONE,     /* no key and no row address: one chunk */
};
const char *barge_chunking_name(int how);

/*
 * How to chunk table `t` (its key as t->key) when the target can (or
 * cannot) write row addresses.
 */
int barge_chunking_for(const struct barge_table_def *t, unsigned target_caps);

/* A planned table: n units whose bounds are JSON key texts (owned). */
struct barge_chunk_list {
	size_t n;
	struct barge_unit_plan *units;
	int64_t rows; /* rows counted while planning */
};
void barge_chunk_list_dispose(struct barge_chunk_list *l);

/*
 * chunk_rows 0 is "auto": barge_chunk_rows_auto of the rows the planner
 * finds, for `jobs` workers.
 */
int barge_chunk_plan(struct barge_chunk_list *out, const struct barge_ep *ep,
		     struct barge_conn *c, const struct barge_table_def *t,
		     int how, int64_t chunk_rows, int jobs);

/*
 * The automatic chunk size of a table of `rows` rows copied by `jobs`
 * workers: about BARGE_CHUNKS_PER_JOB chunks per worker (so the workers
 * end together), never fewer rows than BARGE_CHUNK_ROWS_MIN nor more than
 * BARGE_CHUNK_ROWS_MAX (what one retry re-reads). Every chunk costs a
 * query on each side and a transaction; at 5M rows, 100 chunks of 50000
 * cost about 2 CPU-seconds more than 10 of 500000 (docs/architecture.md).
 */
#define BARGE_CHUNK_ROWS_MIN 50000
#define BARGE_CHUNK_ROWS_MAX 500000
#define BARGE_CHUNKS_PER_JOB 4
int64_t barge_chunk_rows_auto(int64_t rows, int jobs);

/* The logical types of the key columns (or INT64 for a row address). */
void barge_chunk_key_types(int *types, const struct barge_table_def *t,
			   int by_rowid);

/*
 * The chunk of a unit from its JSON bounds (NULL = open), parsed with the
 * types of t's key (or the row address when by_rowid). A unit whose two
 * bounds are one key (a one-row run's: lo == hi) is the point chunk
 * [lo, hi] (hi_incl); planned chunks never have lo == hi. The engine and
 * verify both make their chunks here. The caller frees ch->lo and ch->hi
 * (on a failure nothing is left to free). unit_id and seq are left 0.
 */
int barge_chunk_from_json(struct barge_chunk *ch, const struct barge_table_def *t,
			  int by_rowid, const char *lo, const char *hi);

#endif
