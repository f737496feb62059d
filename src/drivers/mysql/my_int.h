/*
 * The MySQL / MariaDB driver's private header (on MariaDB Connector/C):
 * the connection and the helpers its files share. mysql.c: connections,
 * errors, the snapshot and its proof, transactions; schema.c: list,
 * describe, count, create, the type map, indexes and foreign keys after
 * the data; read.c: chunk ranges, planning and the streaming reader;
 * write.c: LOAD DATA LOCAL INFILE from memory, the INSERT fallback,
 * upsert, deletes.
 *
 * Identifiers are quoted with backticks here (my_quote); the shared SQL
 * generator is not used yet.
 */
#ifndef BARGE_MY_INT_H
#define BARGE_MY_INT_H

#include "barge/barge.h"
#include "util.h"

#include <mysql.h>

#define MY_SQL_CAP (256u << 20)

/* What to do with a zero date or a date with a zero in it ('0000-00-00',
 * '2024-00-10'), which no other engine has: ?zero-dates=error|null. */
enum my_zero_dates {
	MY_ZERO_ERROR = 0, /* BARGE_EDATA naming the row (the default) */
	MY_ZERO_NULL,      /* read as NULL */
};

struct barge_conn {
	MYSQL *my;
	unsigned flags;   /* enum barge_open_flags */
	char *db;         /* the database (schema) the tables live in */
	char *where;      /* the redacted URL, for messages */
	int mariadb;      /* the server is MariaDB (else MySQL) */
	int snapshot;     /* a snapshot transaction is open */
	int in_txn;       /* a target transaction is open */
	int no_infile;    /* LOAD DATA LOCAL was refused: multi-row INSERT */
	int zero_dates;   /* enum my_zero_dates */
	const void *busy; /* a reader streaming on the connection */
};

/* How values of one column travel (from the column's MySQL type). */
enum my_kind {
	MYK_INT = 0,  /* integers, year */
	MYK_UINT64,   /* bigint unsigned: as decimal(20,0) */
	MYK_BOOL,     /* tinyint(1), bit(1) */
	MYK_BIT,      /* bit(n), n > 1: big-endian bytes */
	MYK_FLOAT,    /* float: parsed as a float, then widened */
	MYK_DOUBLE,
	MYK_DECIMAL,
	MYK_TEXT,     /* char, varchar, text, enum, set */
	MYK_BYTES,    /* binary, varbinary, blobs */
	MYK_DATE,
	MYK_TIME,
	MYK_DATETIME, /* -> timestamp */
	MYK_TIMESTAMP,/* -> timestamptz (the session is +00:00) */
	MYK_JSON,
	MYK_UUID,     /* binary(16) marked barge:uuid */
	MYK_DECTEXT,  /* varchar marked barge:decimal (no fixed scale) */
	MYK_GEOMETRY, /* refused */
};

/* ---- mysql.c ---- */

/* Set the error slot from the connection's last error and return the
 * barge code: a lost connection, a deadlock or lock wait timeout, a
 * server shutting down are BARGE_ERETRY; a duplicate key
 * BARGE_ECONFLICT; bad values (out of range, truncated, invalid)
 * BARGE_EDATA; else BARGE_ERROR. */
int my_fail(struct barge_conn *c, const char *table, const char *what);
/* The code my_fail would give for a server error number. */
int my_errcode(unsigned errnum);
/* Run a statement and discard any result. */
int my_exec(struct barge_conn *c, const char *sql, const char *table);
/* Run a query; *out holds its rows (mysql_free_result). */
int my_query(struct barge_conn *c, const char *sql, const char *table,
	     MYSQL_RES **out);
/* Append a backquoted identifier / `db`.`table` / a string literal. */
int my_quote(struct barge_buf *b, const char *name);
int my_table(struct barge_buf *b, const struct barge_conn *c,
	     const char *table);
int my_quote_lit(struct barge_buf *b, const char *s, size_t n);

/* ---- schema.c ---- */

/* The logical type of a column from its declared type (information_
 * schema's COLUMN_TYPE, then CHARACTER SET and COLLATE when it has them),
 * its comment and whether a json_valid check holds it. */
void my_map_type(const char *decl, const char *comment, int json,
		 int *type, int *precision, int *scale, enum my_kind *kind);
/* Is a text column compared byte for byte without padding (a NO PAD
 * binary collation), so a key range can use its index as it is? */
int my_binary_text(const struct barge_conn *c, const char *table,
		   const struct barge_column_def *cd);
int my_list_tables(struct barge_conn *c, char ***names);
int my_describe(struct barge_conn *c, const char *table,
		struct barge_table_def **out);
int my_count_rows(struct barge_conn *c, const struct barge_table_def *t,
		  const char *where, int64_t *out);
int my_create_table(struct barge_conn *c, const struct barge_table_def *t);
const struct barge_typemap *my_typemap(size_t *n);
int my_finish_tables(struct barge_conn *c, struct barge_conn *src, size_t n,
		     const struct barge_table_def *const *src_defs,
		     const struct barge_table_def *const *dst_defs, int jobs,
		     unsigned what);

/* ---- read.c ---- */

/* A value as a MySQL literal (for bounds and the INSERT path). */
int my_literal(struct barge_buf *b, const struct barge_value *v);
/* "(k1, k2) >= (lit, lit) AND (...) < (...)", or "TRUE". */
int my_range_sql(struct barge_buf *b, const struct barge_conn *c,
		 const struct barge_table_def *t,
		 const struct barge_chunk *chunk);
int my_key_range(struct barge_conn *c, const struct barge_table_def *t,
		 int by_rowid, int64_t *min, int64_t *max, int64_t *count);
int my_key_after(struct barge_conn *c, const struct barge_table_def *t,
		 const struct barge_key *from, int64_t skip,
		 struct barge_key **out);
int my_read_open(struct barge_reader **out, struct barge_conn *c,
		 const struct barge_read_req *req);
int my_read_next(struct barge_reader *r, struct barge_batch *b);
void my_read_close(struct barge_reader *r);

/* ---- write.c ---- */

int my_delete_range(struct barge_conn *c, const struct barge_table_def *t,
		    const struct barge_chunk *chunk);
int my_truncate(struct barge_conn *c, const struct barge_table_def *t);
int my_write_open(struct barge_writer **out, struct barge_conn *c,
		  const struct barge_write_req *req);
int my_write_batch(struct barge_writer *w, const struct barge_batch *b);
void my_write_close(struct barge_writer *w);

#endif
