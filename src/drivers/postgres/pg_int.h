/*
 * The PostgreSQL driver's private header: the connection and the helpers
 * its files share (pg.c: connections, errors, snapshot, transactions;
 * schema.c: list, describe, count, create, type map; read.c: chunk ranges,
 * planning and the binary COPY reader; write.c: the binary COPY writer,
 * staging and upsert, deletes; codec.c: wire formats, in pg_codec.h).
 */
#ifndef BARGE_PG_INT_H
#define BARGE_PG_INT_H

#include "barge/barge.h"
#include "pg_codec.h"
#include "sqlgen.h"
#include "util.h"

#include <libpq-fe.h>

#define PG_SQL_CAP (4u << 20)

struct barge_conn {
	PGconn *pg;
	unsigned flags;  /* enum barge_open_flags */
	char *schema;    /* tables live here: ?schema=, default "public" */
	char *where;     /* the redacted URL, for messages */
	int snapshot;    /* a snapshot transaction is open */
	unsigned stages; /* staging tables made, for unique names */
	/* A direct COPY FROM left open across batches (one COPY per chunk,
	 * not per batch): ended by pg_copy_end before anything else runs on
	 * the connection (COMMIT, another statement). */
	int in_copy;
	const void *copy_owner; /* the writer sending into it, or NULL */
	char copy_table[256];   /* for messages */
};

/* How values of one column travel on the wire (the types PostgreSQL
 * sends and receives in binary; anything else goes as text). */
enum pg_kind {
	PGK_CAST = 0, /* text form, cast in SQL (interval, arrays, enums...) */
	PGK_BOOL,
	PGK_INT2,
	PGK_INT4,
	PGK_INT8,
	PGK_FLOAT4,
	PGK_FLOAT8,
	PGK_NUMERIC,
	PGK_TEXT,     /* text, varchar, bpchar, name: the bytes */
	PGK_BYTEA,
	PGK_DATE,
	PGK_TIME,
	PGK_TIMESTAMP,
	PGK_TIMESTAMPTZ,
	PGK_UUID,
	PGK_JSON,
	PGK_JSONB,
};

/* ---- pg.c ---- */

/*
 * Set the error slot for a failed command (`res` may be NULL: then the
 * connection's message) and return the barge code: serialization failure,
 * deadlock, admin shutdown, class 08 and a lost connection are
 * BARGE_ERETRY; a unique violation BARGE_ECONFLICT; classes 22 and 23
 * BARGE_EDATA; else BARGE_ERROR.
 */
int pg_fail(struct barge_conn *c, const PGresult *res, const char *table,
	    const char *what);
/* Close a connection of this driver (the `close` slot); accepts NULL. */
void pg_close(struct barge_conn *c);
/* Run a command that returns no rows (or rows to ignore). */
int pg_exec(struct barge_conn *c, const char *sql, const char *table);
/* Run a query with text parameters; *out holds its rows (PQclear it).
 * `binary` asks for binary results. */
int pg_query(struct barge_conn *c, const char *sql, int nparams,
	     const char *const *params, int binary, const char *table,
	     PGresult **out);
/* PostgreSQL spells identifiers, literals and casts the standard way. */
#define PG_SQL (&barge_sql_standard)

/* Append a double-quoted identifier / "schema"."table". */
int pg_quote(struct barge_buf *b, const char *name);
/* Append a string literal ('...'). */
int pg_quote_lit(struct barge_buf *b, const char *s);
int pg_table(struct barge_buf *b, const struct barge_conn *c,
	     const char *table);

/* End an open COPY FROM (the trailer, then its result); `abort_msg`
 * makes the server fail it. 0 when none is open. */
int pg_copy_end(struct barge_conn *c, const char *abort_msg);

/* ---- schema.c ---- */

/* The logical type of a PostgreSQL type (by OID and typmod), with the
 * precision and scale it implies; *kind how its values travel. */
void pg_map_type(unsigned oid, int typmod, int *type, int *precision,
		 int *scale, enum pg_kind *kind);

int pg_list_tables(struct barge_conn *c, char ***names);
int pg_describe(struct barge_conn *c, const char *table,
		struct barge_table_def **out);
int pg_aggregate(struct barge_conn *c, const struct barge_table_def *t,
		 const char *agg, int distinct, const char *column,
		 const char *where, char **out);
int pg_count_rows(struct barge_conn *c, const struct barge_table_def *t,
		  const char *where, int64_t *out);
int pg_create_table(struct barge_conn *c, const struct barge_table_def *t);
const struct barge_typemap *pg_typemap(size_t *n);

/* ---- read.c ---- */

/* The select expression of column `cd` (cast to the type its logical
 * type travels as). */
int pg_select_expr(struct barge_buf *b, const struct barge_column_def *cd);
/* "(k1 COLLATE "C", k2) >= (lit, lit) AND (...) < (...)", or "true". */
int pg_range_sql(struct barge_buf *b, const struct barge_table_def *t,
		 const struct barge_chunk *chunk);
/* Decode one binary field of logical `type` into *v (bytes in `scratch`
 * or the field); EDATA with *why set and no error set. */
int pg_decode(int type, const unsigned char *p, size_t n,
	      struct barge_value *v, struct barge_buf *scratch,
	      const char **why);
/* Append a value for a message (quoted, truncated). */
void pg_value_text(struct barge_buf *b, const struct barge_value *v);

int pg_key_range(struct barge_conn *c, const struct barge_table_def *t,
		 int by_rowid, int64_t *min, int64_t *max, int64_t *count);
int pg_key_after(struct barge_conn *c, const struct barge_table_def *t,
		 const struct barge_key *from, int64_t skip,
		 struct barge_key **out);
int pg_read_open(struct barge_reader **out, struct barge_conn *c,
		 const struct barge_read_req *req);
int pg_read_next(struct barge_reader *r, struct barge_batch *b);
void pg_read_close(struct barge_reader *r);

/* ---- write.c ---- */

int pg_delete_range(struct barge_conn *c, const struct barge_table_def *t,
		    const struct barge_chunk *chunk);
int pg_truncate(struct barge_conn *c, const struct barge_table_def *t);
int pg_write_open(struct barge_writer **out, struct barge_conn *c,
		  const struct barge_write_req *req);
int pg_write_batch(struct barge_writer *w, const struct barge_batch *b);
void pg_write_close(struct barge_writer *w);

/* ---- digest.c: the verify fast path (driver.h) ---- */

int pg_digest_able(struct barge_conn *c, const struct barge_table_def *t,
		   size_t ncols, const size_t *cols, int native);
int pg_digest_range(struct barge_conn *c, const struct barge_table_def *t,
		    const struct barge_chunk *chunk, const char *where,
		    size_t ncols, const size_t *cols, int native,
		    int64_t *count, uint64_t *lo, uint64_t *hi);

/* ---- lookup.c: `references` checks and barge_keymap (driver.h) ---- */

int pg_lookup(struct barge_conn *c, const struct barge_lookup *q,
	      const struct barge_batch *b, size_t col, uint8_t *found,
	      struct barge_batch *out);

/* ---- post.c ---- */

int pg_fks_detach(struct barge_conn *c, size_t n, const char *const *tables,
		  const int *emptied, int (*save)(void *arg, const char *sql),
		  void *arg);
int pg_fks_attach(struct barge_conn *c, const char *sql);
int pg_finish_tables(struct barge_conn *c, struct barge_conn *src, size_t n,
		     const struct barge_table_def *const *src_defs,
		     const struct barge_table_def *const *dst_defs, int jobs, unsigned what);

#endif
