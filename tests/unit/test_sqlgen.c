/*
 * sqlgen.c: the SQL text the SQL drivers share, in the standard dialect
 * (SQLite, PostgreSQL) and with backticks (the MySQL driver to come), and
 * the table-definition helpers the drivers' describe and writers use.
 */
#include "barge/barge.h"
#include "harness.h"
#include "sqlgen.h"

#include <string.h>

static const struct barge_sql_dialect backticks = {.quote = '`', .text_type = "CHAR"};

/* Quotes inside a name are doubled, in each dialect's own quote only. */
static void test_quoting(void)
{
	struct barge_buf b;

	barge_buf_init(&b, 1 << 16);
	CHECK_OK(barge_sql_ident(&b, &barge_sql_standard, "we\"ird `name`"));
	CHECK_STR(b.p, "\"we\"\"ird `name`\"");
	barge_buf_clear(&b);
	CHECK_OK(barge_sql_ident(&b, &backticks, "we\"ird `name`"));
	CHECK_STR(b.p, "`we\"ird ``name```");
	barge_buf_clear(&b);
	CHECK_OK(barge_sql_table(&b, &barge_sql_standard, "my schema", "orders"));
	CHECK_STR(b.p, "\"my schema\".\"orders\"");
	barge_buf_clear(&b);
	CHECK_OK(barge_sql_table(&b, &barge_sql_standard, NULL, "orders"));
	CHECK_STR(b.p, "\"orders\"");
	barge_buf_clear(&b);
	CHECK_OK(barge_sql_literal(&b, "it's 'quoted'"));
	CHECK_STR(b.p, "'it''s ''quoted'''");
	barge_buf_dispose(&b);

	/* a buffer past its cap reports it, once, from every later piece */
	barge_buf_init(&b, 8);
	CHECK(barge_sql_ident(&b, &barge_sql_standard, "a name longer than eight") ==
	      BARGE_ENOMEM);
	CHECK(barge_sql_where(&b, "x") == BARGE_ENOMEM);
	barge_buf_dispose(&b);
	barge_error_clear();
}

static void test_statements(void)
{
	struct barge_column_def cols[3];
	size_t key[2] = {2, 0}, some[2] = {1, 2};
	struct barge_table_def t;
	struct barge_buf b;

	memset(cols, 0, sizeof cols);
	cols[0].name = "a";
	cols[1].name = "b\"";
	cols[2].name = "c";
	memset(&t, 0, sizeof t);
	t.name = "t";
	t.ncols = 3;
	t.cols = cols;
	t.nkey = 2;
	t.key = key;

	barge_buf_init(&b, 1 << 16);
	CHECK_OK(barge_sql_columns(&b, &barge_sql_standard, &t, NULL, 3, NULL));
	CHECK_STR(b.p, "\"a\", \"b\"\"\", \"c\"");
	barge_buf_clear(&b);
	CHECK_OK(barge_sql_columns(&b, &backticks, &t, some, 2, NULL));
	CHECK_STR(b.p, "`b\"`, `c`");
	barge_buf_clear(&b);
	CHECK_OK(barge_sql_key_list(&b, &barge_sql_standard, &t, " COLLATE BINARY"));
	CHECK_STR(b.p, "\"c\" COLLATE BINARY, \"a\" COLLATE BINARY");
	barge_buf_clear(&b);
	CHECK_OK(barge_sql_count(&b, &barge_sql_standard, "s", "t", NULL));
	CHECK_STR(b.p, "SELECT count(*) FROM \"s\".\"t\"");
	barge_buf_clear(&b);
	CHECK_OK(barge_sql_count(&b, &backticks, NULL, "t", "a > 1"));
	CHECK_STR(b.p, "SELECT count(*) FROM `t` WHERE (a > 1)");
	barge_buf_clear(&b);
	CHECK_OK(barge_sql_aggregate(&b, &barge_sql_standard, NULL, "t", "sum", 1, "b\"",
				     NULL));
	CHECK_STR(b.p, "SELECT CAST(sum(DISTINCT \"b\"\"\") AS TEXT) FROM \"t\"");
	barge_buf_clear(&b);
	CHECK_OK(barge_sql_aggregate(&b, &backticks, "db", "t", "count", 0, NULL, "c = 2"));
	CHECK_STR(b.p, "SELECT CAST(count(*) AS CHAR) FROM `db`.`t` WHERE (c = 2)");
	barge_buf_dispose(&b);
}

/* Key positions among a request's columns, and the upsert check. */
static void test_key_positions(void)
{
	struct barge_column_def cols[3];
	size_t key[2] = {2, 0}, pos[2] = {9, 9}, npos = 9;
	size_t all[3] = {0, 1, 2}, no_a[2] = {2, 1};
	struct barge_table_def t;
	struct barge_write_req req;
	int missing = 7;

	memset(cols, 0, sizeof cols);
	cols[0].name = "a";
	cols[1].name = "b";
	cols[2].name = "c";
	memset(&t, 0, sizeof t);
	t.name = "t";
	t.ncols = 3;
	t.cols = cols;
	t.nkey = 2;
	t.key = key;

	CHECK(barge_table_def_key_positions(&t, all, 3, pos, &missing) == 2);
	CHECK(pos[0] == 2 && pos[1] == 0 && missing == -1);
	CHECK(barge_table_def_key_positions(&t, no_a, 2, pos, &missing) == 1);
	CHECK(pos[0] == 0 && missing == 0);

	memset(&req, 0, sizeof req);
	req.table = &t;
	req.cols = no_a;
	req.ncols = 2;
	req.mode = BARGE_MODE_REPLACE;
	CHECK_OK(barge_write_req_keys(&req, "x", pos, &npos));
	CHECK(npos == 1);
	req.mode = BARGE_MODE_UPSERT;
	CHECK(barge_write_req_keys(&req, "x", pos, &npos) == BARGE_EUSAGE);
	CHECK(strstr(barge_error_last(), "x: table 't': upsert needs key column a") != NULL);
	barge_error_clear();
}

/* Foreign keys and indexes as a driver's describe adds them. */
static void test_add_fk_index(void)
{
	struct barge_table_def *t = calloc(1, sizeof *t);

	if (!t)
		return;
	CHECK_OK(barge_table_def_add_fk(t, "parent"));
	CHECK_OK(barge_table_def_add_fk_col(t, "p1", "id1"));
	CHECK_OK(barge_table_def_add_fk_col(t, "p2", NULL));
	CHECK_OK(barge_table_def_add_fk(t, "other"));
	CHECK_OK(barge_table_def_add_fk_col(t, "o", "id"));
	CHECK_OK(barge_table_def_add_index(t, "ix", 1));
	CHECK_OK(barge_table_def_add_index_col(t, "p1"));
	CHECK_OK(barge_table_def_add_index_col(t, "o"));
	CHECK(t->nfks == 2 && t->fks[0].ncols == 2 && t->fks[1].ncols == 1);
	CHECK_STR(t->fks[0].ref_table, "parent");
	CHECK_STR(t->fks[0].cols[1], "p2");
	CHECK(t->fks[0].ref_cols[1] == NULL);
	CHECK_STR(t->fks[1].ref_cols[0], "id");
	CHECK(t->nindexes == 1 && t->indexes[0].unique && t->indexes[0].ncols == 2);
	CHECK_STR(t->indexes[0].cols[1], "o");
	barge_table_def_free(t); /* ASan: nothing leaks */
}

int main(void)
{
	test_quoting();
	test_statements();
	test_key_positions();
	test_add_fk_index();
	return harness_done();
}
