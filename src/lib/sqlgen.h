/*
 * SQL text the drivers of SQL engines build alike, parametrised by the
 * engine's spelling (a dialect): quoted identifiers and literals, column
 * and key lists, counting rows and aggregates. What differs by engine
 * beyond the dialect (how a chunk's range is compared, how a value is
 * written) stays in the driver.
 *
 * Every function appends to a barge_buf and returns its error state
 * (0, or the buffer's error once it failed: see util.h), so a caller may
 * append several pieces and check once.
 */
#ifndef BARGE_SQLGEN_H
#define BARGE_SQLGEN_H

#include "barge/driver.h"
#include "util.h"

#include <stddef.h>

struct barge_sql_dialect {
	char quote;            /* identifier quote: '"' or, for MySQL, '`' */
	const char *text_type; /* CAST(x AS text_type) makes text: "TEXT", "CHAR" */
};

/* SQLite and PostgreSQL: "name", CAST(x AS TEXT). */
extern const struct barge_sql_dialect barge_sql_standard;

/* `name` as an identifier: in the dialect's quotes, each one inside
 * doubled. */
int barge_sql_ident(struct barge_buf *b, const struct barge_sql_dialect *d,
		    const char *name);
/* A table, qualified by `schema` when not NULL: "schema"."table". */
int barge_sql_table(struct barge_buf *b, const struct barge_sql_dialect *d,
		    const char *schema, const char *table);
/* A string literal, the standard way ('it''s'): right for SQLite and
 * for PostgreSQL with standard_conforming_strings, not for a MySQL
 * server that treats backslashes as escapes. */
int barge_sql_literal(struct barge_buf *b, const char *s);
/*
 * The names of columns cols[0..n) of t (cols NULL: the first n), comma
 * separated, each followed by `suffix` when not NULL (" COLLATE BINARY").
 */
int barge_sql_columns(struct barge_buf *b, const struct barge_sql_dialect *d,
		      const struct barge_table_def *t, const size_t *cols,
		      size_t n, const char *suffix);
/* t's key columns in key order, as barge_sql_columns. */
int barge_sql_key_list(struct barge_buf *b, const struct barge_sql_dialect *d,
		       const struct barge_table_def *t, const char *suffix);
/* " WHERE (where)" when where is not NULL: the engine's own SQL text. */
int barge_sql_where(struct barge_buf *b, const char *where);
/* SELECT count(*) FROM table[ WHERE (where)] */
int barge_sql_count(struct barge_buf *b, const struct barge_sql_dialect *d,
		    const char *schema, const char *table, const char *where);
/* SELECT CAST(agg([DISTINCT ]column) AS text) FROM table[ WHERE (where)];
 * column NULL: agg(*). agg is a function name the caller checked. */
int barge_sql_aggregate(struct barge_buf *b, const struct barge_sql_dialect *d,
			const char *schema, const char *table, const char *agg,
			int distinct, const char *column, const char *where);

#endif
