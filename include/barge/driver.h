/*
 * The driver interface. A driver is a const struct of function pointers
 * with a name, a version and capability flags (like SQLite's sqlite3_vfs).
 * The engine calls drivers only through the wrappers in src/lib/drv.c,
 * where tests inject faults.
 *
 * Conventions: every function returns 0 or a negative barge_errcode with
 * the error slot set (barge_error_set) where the failure was found.
 * Transient faults (SQLITE_BUSY, a lost connection) are BARGE_ERETRY; a
 * value that cannot be carried exactly is BARGE_EDATA. A connection is
 * used by one thread at a time. NULL in an optional slot means "cannot".
 */
#ifndef BARGE_DRIVER_H
#define BARGE_DRIVER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct barge_batch;
struct barge_url;
struct barge_value;

/* ---- Schema description ------------------------------------------------ */

struct barge_column_def {
	char *name;
	char *engine_type; /* as declared in the engine, e.g. "VARCHAR(20)" */
	int type;          /* enum barge_type */
	int notnull;
	int key_pos;       /* 1-based position in the primary key, 0 if none */
	int precision;     /* DECIMAL p / TEXT max length; 0 = unbounded */
	int scale;         /* DECIMAL s; -1 = unconstrained */
};

struct barge_fk_def {
	size_t ncols;
	char **cols;      /* in this table */
	char *ref_table;
	char **ref_cols;  /* in ref_table; same count */
};

/* A secondary index on plain columns (not the primary key; indexes on
 * expressions and partial ones are left out). */
struct barge_index_def {
	char *name;
	int unique;
	size_t ncols;
	char **cols;      /* in this table, in index order */
};

struct barge_table_def {
	char *name;
	size_t ncols;
	struct barge_column_def *cols;
	size_t nkey;
	size_t *key;      /* column indices of the primary key, in key order */
	int has_rowid;    /* the engine has a row address usable for chunking */
	int64_t rows;     /* row count, -1 when not counted */
	size_t nfks;
	struct barge_fk_def *fks;
	size_t nindexes;
	struct barge_index_def *indexes;
	size_t nwarnings;
	char **warnings;  /* one-line problems: no key, unmappable type, ... */
};

/* Deep-copy / free. barge_table_def_free accepts NULL. */
int barge_table_def_dup(struct barge_table_def **out,
			const struct barge_table_def *t);
void barge_table_def_free(struct barge_table_def *t);
/* Index of a column by name, or -1. */
int barge_table_def_find(const struct barge_table_def *t, const char *name);
/* Add a warning (formatted) to a table definition. */
int barge_table_def_warn(struct barge_table_def *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/*
 * Where t's key columns stand among cols[0..ncols) (indices into t->cols):
 * the position of each one found, in key order, goes to pos[] (room for
 * t->nkey). Returns how many were found; *missing (when not NULL) is the
 * first key column not among them (an index into t->cols), or -1.
 */
size_t barge_table_def_key_positions(const struct barge_table_def *t,
				     const size_t *cols, size_t ncols,
				     size_t *pos, int *missing);
/*
 * For a driver's describe: append a foreign key to `ref_table` (or an
 * index), then add its columns one by one; a column goes to the last one
 * added. ref_col may be NULL (not known yet). 0 or BARGE_ENOMEM; t keeps
 * what was added before and barge_table_def_free frees it all.
 */
int barge_table_def_add_fk(struct barge_table_def *t, const char *ref_table);
int barge_table_def_add_fk_col(struct barge_table_def *t, const char *col,
			       const char *ref_col);
int barge_table_def_add_index(struct barge_table_def *t, const char *name,
			      int unique);
int barge_table_def_add_index_col(struct barge_table_def *t, const char *col);

/* ---- Keys and chunks ---------------------------------------------------- */

/*
 * A key tuple: one value per key column (or one INT64 for a row address).
 * It owns its bytes. Serialized as a JSON array for the state store.
 */
struct barge_key {
	size_t n;
	struct barge_value *v; /* v[i].p points into `buf` */
	char *buf;
};

int barge_key_new(struct barge_key **out, size_t n,
		  const struct barge_value *vals); /* copies the values */
void barge_key_free(struct barge_key *k);
int barge_key_cmp(const struct barge_key *a, const struct barge_key *b);
/* JSON array text, e.g. [42] or ["abc",3]; BYTES/UUID as hex strings. */
int barge_key_to_json(char **out, const struct barge_key *k);
/* Parse back, with the key columns' logical types. */
int barge_key_from_json(struct barge_key **out, const char *json,
			size_t n, const int *types);

/*
 * One unit of work: a table's key range [lo, hi); lo == NULL is unbounded
 * below, hi == NULL unbounded above. With hi_incl the range is [lo, hi],
 * hi included: lo == hi is a point chunk, that one key (a one-row run,
 * a row barge fix copies again), so no key needs a "successor". With
 * by_rowid the "key" is the engine's row address (one INT64).
 */
struct barge_chunk {
	int64_t unit_id;   /* id in the state store, 0 when not stored */
	int64_t seq;       /* 0-based chunk number within its table */
	struct barge_key *lo;
	struct barge_key *hi;
	int hi_incl;       /* [lo, hi]: hi included; lo == hi is one key */
	int by_rowid;
};

/* ---- Reading and writing ------------------------------------------------ */

struct barge_read_req {
	const struct barge_table_def *table;
	const struct barge_chunk *chunk; /* NULL = the whole table */
	size_t ncols;                    /* columns to read, in batch order */
	const size_t *cols;              /* indices into table->cols */
	int with_rowid;   /* append the row address as a last INT64 column */
	const char *where; /* extra filter in the source's SQL, or NULL */
	int order_by_key; /* rows in key order (needed for verify/keyset) */
};

enum barge_mode {
	BARGE_MODE_INSERT = 0, /* fail on a key conflict */
	BARGE_MODE_UPSERT,     /* merge on the key */
	BARGE_MODE_REPLACE,    /* delete the chunk's key range, then insert */
	BARGE_MODE_TRUNCATE,   /* empty the table once, then insert */
};

struct barge_write_req {
	const struct barge_table_def *table; /* the target table */
	size_t ncols;
	const size_t *cols; /* target column index for each batch column */
	int with_rowid;     /* the batch's last column is the row address */
	int mode;           /* enum barge_mode */
	/* the transaction emptied the table (truncate mode, a table of one
	 * chunk): rows may be written frozen (PostgreSQL's COPY FREEZE) */
	int freeze;
};

/*
 * The positions of the target's key columns among the columns a write
 * request writes (barge_table_def_key_positions) into pos (room for the
 * key), *npos of them; an upsert that does not write every key column is
 * a usage error naming `driver`.
 */
int barge_write_req_keys(const struct barge_write_req *req, const char *driver,
			 size_t *pos, size_t *npos);

/* A record a reader refused (a file's malformed line): where it is
 * ("orders.csv line 12"), what it held (a prefix, UTF-8 or escaped) and
 * why. The engine keeps it as one of the chunk's rejects. Owned by the
 * caller of read_rejects, which frees the three strings. */
struct barge_read_reject {
	char *where;
	char *record;
	char *why;
};

struct barge_conn;
struct barge_reader;
struct barge_writer;

enum barge_open_flags {
	BARGE_OPEN_READ = 1,   /* a source: read-only, never create */
	BARGE_OPEN_WRITE = 2,  /* a target */
	BARGE_OPEN_CREATE = 4, /* a target that may be created */
};

/*
 * What a driver can do. The engine checks the flags (and the optional
 * slots a job needs) before any data moves, in one place (src/lib/caps.c):
 * a job that needs what an endpoint lacks is refused with one line naming
 * the table, the driver and what is missing (docs/architecture.md, "The
 * driver contract").
 */
enum barge_caps {
	BARGE_CAP_ROWID = 1,    /* row addresses: chunk and write by rowid */
	BARGE_CAP_SNAPSHOT = 2, /* workers can share one consistent snapshot;
				 * without it a job of more than one worker
				 * (--jobs N) is refused: it would read each
				 * chunk at another moment */
	BARGE_CAP_UPSERT = 4,   /* native merge on key (--mode upsert) */
	BARGE_CAP_TXN = 8,      /* transactions: begin, commit, rollback,
				 * delete_range; one chunk = one transaction.
				 * A target without it writes each chunk as a
				 * part (part_begin, part_commit, part_abort) */
	BARGE_CAP_PARALLEL_WRITE = 16, /* concurrent write transactions; without
					* it the engine hands out one write turn
					* at a time (readers still run ahead) */
	BARGE_CAP_SQL = 32,     /* the `where` arguments (read_open,
				 * count_rows, digest_range, aggregate) are
				 * this engine's SQL: a plan's `where:` and an
				 * invariant's filter need it */
	BARGE_CAP_PATH = 64,    /* its URLs name a local file or folder
				 * (scheme:path, scheme:///abs/path), not a
				 * server (scheme://user@host:port/db) */
};

/* One line of the type mapping table that `barge inspect` prints. */
struct barge_typemap {
	const char *engine; /* engine type (or pattern) */
	int type;           /* logical type */
	const char *note;   /* how values are carried, or NULL */
};

/* finish_tables: what to make */
enum {
	BARGE_FINISH_TABLE = 1u << 0,
	BARGE_FINISH_FKS = 1u << 1,
};

/* A lookup in a target table (the `lookup` slot). */
struct barge_lookup {
	const char *table;
	const char *column;       /* compared with the batch's values */
	const char *eq_column;    /* optional: and eq_column = eq_value */
	const char *eq_value;
	const char *value_column; /* optional: its value in the row found */
};

/*
 * The version of this interface. A driver sets `version` to the one it was
 * written for (a number, not this macro); the registry refuses a driver
 * whose version differs. Raise it when a slot changes meaning or place.
 */
#define BARGE_DRIVER_VERSION 1

struct barge_driver {
	const char *name; /* "sqlite" */
	int version;      /* the interface it was written for: 1 */
	unsigned caps;    /* enum barge_caps */
	/* NULL-terminated URL schemes: the only list of them (url.c asks the
	 * registry). The first is the canonical name that struct barge_url's
	 * `scheme` is set to ("postgres://" parses as "postgresql"). */
	const char *const *schemes;

	int (*open)(struct barge_conn **out, const struct barge_url *url,
		    unsigned flags);
	void (*close)(struct barge_conn *c); /* accepts NULL */

	/*
	 * Consistent reads. snapshot_begin opens a read snapshot on this
	 * connection and may return a token (free()d by the caller) that other
	 * connections pass to snapshot_join to read the same snapshot.
	 */
	int (*snapshot_begin)(struct barge_conn *c, char **token);
	int (*snapshot_join)(struct barge_conn *c, const char *token);
	int (*snapshot_end)(struct barge_conn *c);
	/*
	 * Optional: for an engine whose connections each take their own
	 * snapshot (MySQL), which agree only if nothing commits between
	 * them. snapshot_hold, on the leader's connection before
	 * snapshot_begin, stops commits on the server (MySQL: FLUSH TABLES
	 * WITH READ LOCK, with a short wait timeout); the engine then opens
	 * and joins every worker's connection and calls snapshot_release on
	 * the leader at once (src/lib/drv.c, barge_drv_snapshot_group).
	 * BARGE_ENOTFOUND: it cannot hold (no privilege, the lock did not
	 * come in time; the driver said so on stderr): the joins prove what
	 * they can. NULL: snapshots are shared (PostgreSQL) or there is one
	 * reader (SQLite).
	 */
	int (*snapshot_hold)(struct barge_conn *c);
	int (*snapshot_release)(struct barge_conn *c);

	/* Schema. list_tables: names in a NULL-terminated array, caller frees
	 * each and the array. describe: ENOTFOUND if the table does not exist. */
	int (*list_tables)(struct barge_conn *c, char ***names);
	int (*describe)(struct barge_conn *c, const char *table,
			struct barge_table_def **out);
	int (*count_rows)(struct barge_conn *c, const struct barge_table_def *t,
			  const char *where, int64_t *out);

	/*
	 * Chunk planning. key_range: min, max and count of a single integer
	 * key (or the row address when by_rowid); ENOTFOUND when the table is
	 * empty. The count only sizes the chunks: it may be an estimate
	 * (PostgreSQL's pg_class.reltuples). key_after: the key of the row `skip` rows after `from` (from
	 * included, NULL = first row) in binary key order; ENOTFOUND when there
	 * are fewer rows.
	 */
	int (*key_range)(struct barge_conn *c, const struct barge_table_def *t,
			 int by_rowid, int64_t *min, int64_t *max,
			 int64_t *count);
	int (*key_after)(struct barge_conn *c, const struct barge_table_def *t,
			 const struct barge_key *from, int64_t skip,
			 struct barge_key **out);

	/* Read a chunk into batches: read_next fills `b` (after resetting it)
	 * and leaves b->nrows == 0 at the end. */
	int (*read_open)(struct barge_reader **out, struct barge_conn *c,
			 const struct barge_read_req *req);
	int (*read_next)(struct barge_reader *r, struct barge_batch *b);
	void (*read_close)(struct barge_reader *r); /* accepts NULL */

	/* Target schema: create the table (its own types chosen from the
	 * logical ones, primary key kept) when it does not exist. */
	int (*create_table)(struct barge_conn *c,
			    const struct barge_table_def *t);

	/* Target transactions (BARGE_CAP_TXN): one chunk = one transaction. */
	int (*begin)(struct barge_conn *c);
	int (*commit)(struct barge_conn *c);
	int (*rollback)(struct barge_conn *c);
	/* Delete the rows of [chunk->lo, chunk->hi) ([lo, hi] with
	 * chunk->hi_incl) by the table's key (or by row address when
	 * chunk->by_rowid), inside the open transaction. */
	int (*delete_range)(struct barge_conn *c,
			    const struct barge_table_def *t,
			    const struct barge_chunk *chunk);
	/* Empty the table. With BARGE_CAP_TXN it runs in a transaction;
	 * without, it removes every part of the table (and any temporary
	 * one), e.g. empties the table's folder. */
	int (*truncate)(struct barge_conn *c, const struct barge_table_def *t);

	/*
	 * Parts: how a target without BARGE_CAP_TXN (files) makes a chunk
	 * idempotent. part_begin opens the part of `chunk` of table `t` under
	 * a temporary name (a temporary file an earlier attempt left is
	 * removed first); the writes that follow on this connection go
	 * there. part_commit makes it visible atomically (flush, fsync,
	 * rename over the chunk's older part if there is one, fsync the
	 * folder): a part is named by the chunk (table and chunk->seq), so a
	 * re-run replaces it and never appends. part_abort removes the
	 * temporary part; close() with a part open aborts it. The engine
	 * records the unit done only after part_commit returned 0, and never
	 * calls delete_range for such a target: the part is the chunk.
	 * One part at a time on a connection.
	 */
	int (*part_begin)(struct barge_conn *c, const struct barge_table_def *t,
			  const struct barge_chunk *chunk);
	int (*part_commit)(struct barge_conn *c);
	int (*part_abort)(struct barge_conn *c);

	int (*write_open)(struct barge_writer **out, struct barge_conn *c,
			  const struct barge_write_req *req);
	int (*write_batch)(struct barge_writer *w, const struct barge_batch *b);
	void (*write_close)(struct barge_writer *w); /* accepts NULL */

	/* Optional: scan a table's data for problems `barge inspect` reports
	 * (values that do not fit the column's logical type, invalid UTF-8,
	 * NULLs in key columns); each becomes a warning on `t`. */
	int (*audit)(struct barge_conn *c, struct barge_table_def *t);

	/*
	 * Optional, target side: called once every chunk of the run is done,
	 * for the tables barge created (src_defs[i] the source's, dst_defs[i]
	 * the target's): secondary indexes, constraints and foreign keys,
	 * sequences and identity columns set past the copied values. `src` is
	 * the source's planning connection (in its snapshot) when the source
	 * has the same driver, else NULL (then only what the definitions
	 * hold). The driver may use up to `jobs` connections at once. Must be
	 * idempotent: a run stopped half way calls it again. `what`: the
	 * tables' own indexes, constraints and sequences (BARGE_FINISH_TABLE;
	 * the engine asks for it as soon as a table's chunks are done, other
	 * tables may still be loading) and/or their foreign keys
	 * (BARGE_FINISH_FKS: every table they reference is finished).
	 */
	int (*finish_tables)(struct barge_conn *c, struct barge_conn *src,
			     size_t n, const struct barge_table_def *const *src_defs,
			     const struct barge_table_def *const *dst_defs,
			     int jobs, unsigned what);

	/*
	 * Optional, target side (replace and truncate re-runs): the foreign
	 * keys that reference one of `tables` whose rows the run deletes
	 * (emptied[i]: 1 by range, 2 all of them). Each one from another of `tables` goes to save(arg,
	 * sql) as an idempotent statement that makes it again, and is then
	 * dropped (after every save succeeded); one from a table outside the
	 * list into a table the run truncates is BARGE_EUSAGE before
	 * anything changes. fks_attach runs one saved statement.
	 */
	int (*fks_detach)(struct barge_conn *c, size_t n,
			  const char *const *tables, const int *emptied,
			  int (*save)(void *arg, const char *sql), void *arg);
	int (*fks_attach)(struct barge_conn *c, const char *sql);

	/* The type mapping table for `barge inspect`: engine -> logical. */
	const struct barge_typemap *(*typemap)(size_t *n);

	/*
	 * Optional, the verify fast path (docs/verify.md, "The in-database
	 * digest"): digest_range counts the rows of `chunk` (NULL = the whole
	 * table; `where` an extra filter in the engine's SQL, or NULL) and sums
	 * their fast-path row hashes (src/lib/canon.h, barge_canon_fast_*) mod
	 * 2^128 into *lo, *hi inside the engine. digest_able says whether the
	 * engine can produce that encoding exactly for these columns (1) or
	 * not (0). With `native` the other side is this same driver running
	 * the same SQL, so a type with no exact canonical form in the engine
	 * (JSON) may be hashed in the engine's own form: equal digests must
	 * still mean canonically equal rows (never the reverse is needed:
	 * verify re-checks differing pieces row by row in canonical form).
	 */
	int (*digest_able)(struct barge_conn *c, const struct barge_table_def *t,
			   size_t ncols, const size_t *cols, int native);
	int (*digest_range)(struct barge_conn *c,
			    const struct barge_table_def *t,
			    const struct barge_chunk *chunk, const char *where,
			    size_t ncols, const size_t *cols, int native,
			    int64_t *count, uint64_t *lo, uint64_t *hi);

	/*
	 * Optional, target side (a plan's `references` rules and key
	 * remapping need it, struct barge_lookup): for each row of `b`, is
	 * there a row of q->table whose q->column equals the value of batch
	 * column `col` (and, with q->eq_column, whose eq_column is the text
	 * q->eq_value)? found[row] = 1 or 0 (0 for NULL, and for a value the
	 * column's type cannot hold). With q->value_column, one row per row
	 * of `b` is appended to `out` (one text column): that column of the
	 * row found, as text, or NULL. It runs on the connection's open
	 * transaction, so it sees the rows committed before it and the ones
	 * this transaction wrote. It takes names, not SQL. Key remapping
	 * also writes barge_keymap/barge_keyseq in the chunk's transaction,
	 * so it needs BARGE_CAP_TXN besides this slot.
	 */
	int (*lookup)(struct barge_conn *c, const struct barge_lookup *q,
		      const struct barge_batch *b, size_t col, uint8_t *found,
		      struct barge_batch *out);

	/*
	 * Optional (a plan's invariants, verify: without it, verify refuses a
	 * plan with invariants): agg([DISTINCT] column) over the rows
	 * matching `where` (SQL, BARGE_CAP_SQL; NULL = all); column NULL means
	 * count(*). agg is count, sum, min, max or avg. The value as the
	 * engine writes it in *out (malloc'd), NULL for SQL NULL.
	 */
	int (*aggregate)(struct barge_conn *c, const struct barge_table_def *t,
			 const char *agg, int distinct, const char *column,
			 const char *where, char **out);

	/*
	 * Optional, source side: the records the reader refused since the
	 * last call (malformed lines of a file), handed to the caller (*v
	 * malloc'd, each string too; *n = 0 when none). The rows read and
	 * the chunk's digest leave them out; the engine stores them as the
	 * chunk's rejects, under the table's error budget.
	 */
	int (*read_rejects)(struct barge_reader *r,
			    struct barge_read_reject **v, size_t *n);

	/*
	 * Optional, source side, a table chunked by row address: the
	 * source's own chunk bounds instead of equal ranges of key_range
	 * (files: each file, and a large uncompressed one cut into byte
	 * ranges at record boundaries). (*bounds)[0..*n) ascending row
	 * addresses, each the first of a chunk after the first (malloc'd,
	 * the caller frees); chunk_rows 0 is auto for `jobs` workers.
	 * *rows: the rows counted.
	 */
	int (*rowid_splits)(struct barge_conn *c, const struct barge_table_def *t,
			    int64_t chunk_rows, int jobs, int64_t **bounds,
			    size_t *n, int64_t *rows);
};

/*
 * Drivers compiled in, looked up by URL scheme (static: nothing to free).
 * barge_driver_find: 0, or BARGE_EUSAGE with a one-line error for a scheme
 * no driver has, or one whose driver has another BARGE_DRIVER_VERSION.
 * barge_driver_for_scheme: the same, NULL on failure (error slot set).
 */
int barge_driver_find(const struct barge_driver **out, const char *scheme);
const struct barge_driver *barge_driver_for_scheme(const char *scheme);
const struct barge_driver *const *barge_drivers(void); /* NULL-terminated */
/*
 * Add a driver that is not compiled in (a test's, a plugin's); it is then
 * listed and looked up like the others. `d` must outlive every job. Not
 * thread-safe: call it before any job runs. BARGE_EUSAGE when a scheme of
 * `d` is taken, a slot every driver needs is missing, or the list is full.
 */
int barge_driver_register(const struct barge_driver *d);

#ifdef __cplusplus
}
#endif

#endif
