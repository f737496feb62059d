/*
 * The SQLite driver's private header: the connection, the shared helpers
 * of its files (sqlite.c: connection, snapshot, transactions; typemap.c:
 * declared type -> logical type; values.c: value conversion both ways;
 * schema.c: describe, create, audit; read.c: reading and chunk planning;
 * write.c: writing and deleting).
 */
#ifndef BARGE_SQLITE_INT_H
#define BARGE_SQLITE_INT_H

#include "barge/barge.h"
#include "sqlgen.h"
#include "util.h"

#include <pthread.h>
#include <sqlite3.h>

struct barge_conn {
	sqlite3 *db;      /* this connection's own handle */
	sqlite3 *rd;      /* reads go here: db, or a snapshot leader's handle */
	char *path;
	unsigned flags;   /* enum barge_open_flags */
	long snap_id;     /* registry id while leading a snapshot, else 0 */
	long joined_id;   /* registry id while following a snapshot, else 0 */
	/* Handles are opened without SQLite's own mutex (a per-call lock that
	 * cost a third of a copy's time): a handle shared by a snapshot's
	 * leader and followers is guarded by the snapshot's lock instead,
	 * taken once per call of a slot that reads (once per batch). */
	pthread_mutex_t *rd_lock; /* NULL while the handle is not shared */
};

static inline void sq_rd_lock(pthread_mutex_t *l)
{
	if (l)
		pthread_mutex_lock(l);
}

static inline void sq_rd_unlock(pthread_mutex_t *l)
{
	if (l)
		pthread_mutex_unlock(l);
}

/* The lock of the handle a reader reads through (read.c). */
pthread_mutex_t *sq_reader_lock(struct barge_reader *r);

/* Column affinity, by SQLite's rules (datatype3.html section 3.1). */
enum sq_affinity {
	SQ_AFF_BLOB = 0, /* no declared type */
	SQ_AFF_TEXT,
	SQ_AFF_NUMERIC,
	SQ_AFF_INTEGER,
	SQ_AFF_REAL,
};

/* ---- sqlite.c ---- */

/*
 * Set the error slot for a failed SQLite call and return the barge code:
 * BUSY/LOCKED -> BARGE_ERETRY, else BARGE_ERROR. `table` may be NULL.
 */
int sq_fail(sqlite3 *db, int rc, const char *table, const char *what);
/* Prepare `sql` on `db`; on failure the error is set (naming `table`). */
int sq_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **out,
	       const char *table);
/* Run one statement with no result rows. */
int sq_exec(sqlite3 *db, const char *sql, const char *table);
/* SQLite spells identifiers and casts the standard way. */
#define SQ_SQL (&barge_sql_standard)

/* Append `name` as a double-quoted identifier. */
int sq_quote(struct barge_buf *b, const char *name);
/* The name by which to address the rowid ("rowid", "_rowid_" or "oid"):
 * the first that no column of `t` shadows; NULL if all are shadowed. */
const char *sq_rowid_name(const struct barge_table_def *t);
/* 0 when t has a rowid to `what` ("read", "write"), else a usage error. */
int sq_rowid_check(const struct barge_table_def *t, const char *what);

/* ---- typemap.c ---- */

/* Map a declared type to a logical type, with DECIMAL p/s or TEXT n. */
void sq_map_type(const char *decl, int *type, int *precision, int *scale);
enum sq_affinity sq_affinity_of(const char *decl);
/* The declared type create_table writes for column `c` into `b`. */
int sq_create_type(struct barge_buf *b, const struct barge_column_def *c);

/* ---- values.c ---- */

#define SQ_SCRATCH 1024 /* room for any REAL in plain decimal notation */

/*
 * Convert column `i` of the current row of `st` to logical `type`. On
 * success *v views the value (its bytes live in SQLite's row or in
 * `scratch`, until the next step or the next call). A value that does not
 * fit is BARGE_EDATA with no error set: the caller names the row.
 */
int sq_column_value(sqlite3_stmt *st, int i, int type, struct barge_value *v,
		    struct barge_buf *scratch);
/* The same for a value handed to a function (digest.c). */
int sq_value_conv(sqlite3_value *sv, int type, struct barge_value *v,
		  struct barge_buf *scratch);
/* Append column `i` of the current row for a message: 17, 'abc', ... */
void sq_raw_text(struct barge_buf *b, sqlite3_stmt *st, int i);
/* Describe column `i` of the current row for a message: "TEXT 'abc'". */
void sq_describe_found(sqlite3_stmt *st, int i, char *out, size_t n);
/* Append a value for a message (quoted text, truncated). */
void sq_value_text(struct barge_buf *b, const struct barge_value *v);

/*
 * Bind value `v` (of its own type; ANY resolved) to parameter `idx`, its
 * bytes copied when `copy` (else they must outlive the next step).
 * `aff` is the target column's affinity (SQ_AFF_BLOB when unknown): a
 * value that column would silently alter is BARGE_EDATA with *why set and
 * no error set. Otherwise returns SQLite's code (SQLITE_OK = 0).
 */
int sq_bind_value(sqlite3_stmt *st, int idx, const struct barge_value *v,
		  enum sq_affinity aff, int copy, const char **why);

/* ---- read.c ---- */

/*
 * Append the range condition of `chunk` for table `t` ("(k1,k2) >= (?,?)
 * AND (k1,k2) < (?,?)", text keys COLLATE BINARY) and record how many
 * parameters it takes; "1" when unbounded. sq_range_bind binds them from
 * parameter `first` on.
 */
int sq_range_sql(struct barge_buf *b, const struct barge_table_def *t,
		 const struct barge_chunk *chunk);
int sq_range_bind(sqlite3_stmt *st, int first, const struct barge_table_def *t,
		  const struct barge_chunk *chunk);
/* Append "k1 COLLATE BINARY, k2" (the key in barge's binary order). */
int sq_key_list(struct barge_buf *b, const struct barge_table_def *t,
		int by_rowid, int collate);

/* ---- digest.c ---- */

/* Register barge_digest() on a handle barge opened. */
int sq_digest_register(sqlite3 *db);

/* ---- the driver's slots, by file ---- */

int sq_list_tables(struct barge_conn *c, char ***names);
int sq_describe(struct barge_conn *c, const char *table,
		struct barge_table_def **out);
int sq_aggregate(struct barge_conn *c, const struct barge_table_def *t,
		 const char *agg, int distinct, const char *column,
		 const char *where, char **out);
int sq_count_rows(struct barge_conn *c, const struct barge_table_def *t,
		  const char *where, int64_t *out);
int sq_create_table(struct barge_conn *c, const struct barge_table_def *t);
int sq_audit(struct barge_conn *c, struct barge_table_def *t);
const struct barge_typemap *sq_typemap(size_t *n);
int sq_key_range(struct barge_conn *c, const struct barge_table_def *t,
		 int by_rowid, int64_t *min, int64_t *max, int64_t *count);
int sq_key_after(struct barge_conn *c, const struct barge_table_def *t,
		 const struct barge_key *from, int64_t skip,
		 struct barge_key **out);
int sq_read_open(struct barge_reader **out, struct barge_conn *c,
		 const struct barge_read_req *req);
int sq_read_next(struct barge_reader *r, struct barge_batch *b);
void sq_read_close(struct barge_reader *r);
int sq_delete_range(struct barge_conn *c, const struct barge_table_def *t,
		    const struct barge_chunk *chunk);
int sq_truncate(struct barge_conn *c, const struct barge_table_def *t);
int sq_digest_able(struct barge_conn *c, const struct barge_table_def *t,
		   size_t ncols, const size_t *cols, int native);
int sq_digest_range(struct barge_conn *c, const struct barge_table_def *t,
		    const struct barge_chunk *chunk, const char *where,
		    size_t ncols, const size_t *cols, int native,
		    int64_t *count, uint64_t *lo, uint64_t *hi);
int sq_finish_tables(struct barge_conn *c, struct barge_conn *src, size_t n,
		     const struct barge_table_def *const *src_defs,
		     const struct barge_table_def *const *dst_defs, int jobs,
		     unsigned what);
int sq_write_open(struct barge_writer **out, struct barge_conn *c,
		  const struct barge_write_req *req);
int sq_write_batch(struct barge_writer *w, const struct barge_batch *b);
void sq_write_close(struct barge_writer *w);
int sq_lookup(struct barge_conn *c, const struct barge_lookup *q,
	      const struct barge_batch *b, size_t col, uint8_t *found,
	      struct barge_batch *out);

#endif
