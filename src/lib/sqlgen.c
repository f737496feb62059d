/*
 * SQL text the SQL drivers build alike (sqlgen.h): one place for quoting
 * and for the small statements whose shape does not depend on the engine,
 * so a new SQL driver (MySQL, with backticks) brings a dialect, not copies.
 */
#include "sqlgen.h"

const struct barge_sql_dialect barge_sql_standard = {
	.quote = '"',
	.text_type = "TEXT",
};

/* s between q's, each q inside doubled. */
static int quoted(struct barge_buf *b, char q, const char *s)
{
	barge_buf_add(b, &q, 1);
	for (const char *p = s; *p; p++) {
		if (*p == q)
			barge_buf_add(b, &q, 1);
		barge_buf_add(b, p, 1);
	}
	return barge_buf_add(b, &q, 1);
}

int barge_sql_ident(struct barge_buf *b, const struct barge_sql_dialect *d,
		    const char *name)
{
	return quoted(b, d->quote, name);
}

int barge_sql_table(struct barge_buf *b, const struct barge_sql_dialect *d,
		    const char *schema, const char *table)
{
	if (schema) {
		barge_sql_ident(b, d, schema);
		barge_buf_adds(b, ".");
	}
	return barge_sql_ident(b, d, table);
}

int barge_sql_literal(struct barge_buf *b, const char *s)
{
	return quoted(b, '\'', s);
}

int barge_sql_columns(struct barge_buf *b, const struct barge_sql_dialect *d,
		      const struct barge_table_def *t, const size_t *cols,
		      size_t n, const char *suffix)
{
	for (size_t i = 0; i < n; i++) {
		if (i)
			barge_buf_adds(b, ", ");
		barge_sql_ident(b, d, t->cols[cols ? cols[i] : i].name);
		if (suffix)
			barge_buf_adds(b, suffix);
	}
	return b->err;
}

int barge_sql_key_list(struct barge_buf *b, const struct barge_sql_dialect *d,
		       const struct barge_table_def *t, const char *suffix)
{
	return barge_sql_columns(b, d, t, t->key, t->nkey, suffix);
}

int barge_sql_where(struct barge_buf *b, const char *where)
{
	if (where)
		barge_buf_printf(b, " WHERE (%s)", where);
	return b->err;
}

int barge_sql_count(struct barge_buf *b, const struct barge_sql_dialect *d,
		    const char *schema, const char *table, const char *where)
{
	barge_buf_adds(b, "SELECT count(*) FROM ");
	barge_sql_table(b, d, schema, table);
	return barge_sql_where(b, where);
}

int barge_sql_aggregate(struct barge_buf *b, const struct barge_sql_dialect *d,
			const char *schema, const char *table, const char *agg,
			int distinct, const char *column, const char *where)
{
	barge_buf_printf(b, "SELECT CAST(%s(%s", agg, distinct ? "DISTINCT " : "");
	if (column)
		barge_sql_ident(b, d, column);
	else
		barge_buf_adds(b, "*");
	barge_buf_printf(b, ") AS %s) FROM ", d->text_type);
	barge_sql_table(b, d, schema, table);
	return barge_sql_where(b, where);
}
