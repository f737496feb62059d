/*
 * Schema: the type map, list tables, describe one (columns, primary key,
 * foreign keys, indexes from information_schema), count rows, create a
 * target table, and its indexes and foreign keys once the data is in.
 *
 * Types MySQL lacks are made of one it has and a column comment that
 * describes them back (`barge:decimal`, `barge:timestamptz`,
 * `barge:uuid`): an unconstrained decimal keeps its own scale as ASCII
 * text, a timestamptz of any year is a DATETIME(6) in UTC (MySQL's
 * TIMESTAMP ends in 2038), a uuid is BINARY(16).
 */
#include "my_int.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* "decimal(30,6)" -> 30, 6; "varchar(20)" -> 20 */
static void parens(const char *s, int *a, int *b)
{
	const char *p = strchr(s, '(');
	*a = 0;
	*b = -1;
	if (!p)
		return;
	*a = (int)strtol(p + 1, NULL, 10);
	if ((p = strchr(p, ',')) && p[1] != '\'')
		*b = (int)strtol(p + 1, NULL, 10);
}

void my_map_type(const char *decl, const char *comment, int json, int *type,
		 int *precision, int *scale, enum my_kind *kind)
{
	static const char *const geo[] = {
		"geometry", "point", "linestring", "polygon", "multipoint",
		"multilinestring", "multipolygon", "geometrycollection", NULL,
	};
	int unsig = strstr(decl, " unsigned") != NULL;
	int a, b;

	*precision = 0;
	*scale = -1;
	*type = BARGE_T_TEXT;
	*kind = MYK_TEXT;
	comment = comment ? comment : "";
	parens(decl, &a, &b);
	if (strcmp(comment, "barge:decimal") == 0) {
		*type = BARGE_T_DECIMAL;
		*kind = MYK_DECTEXT;
	} else if (strcmp(comment, "barge:uuid") == 0 && starts(decl, "binary(16)")) {
		*type = BARGE_T_UUID;
		*kind = MYK_UUID;
	} else if (starts(decl, "tinyint(1)") || strcmp(decl, "bit(1)") == 0) {
		*type = BARGE_T_BOOL;
		*kind = MYK_BOOL;
	} else if (starts(decl, "bit")) {
		*type = BARGE_T_BYTES;
		*kind = MYK_BIT;
	} else if (starts(decl, "bigint") && unsig) {
		/* past INT64_MAX: decimal(20,0) on both ends of a key */
		*type = BARGE_T_DECIMAL;
		*kind = MYK_UINT64;
		*precision = 20;
		*scale = 0;
	} else if (starts(decl, "tinyint") || starts(decl, "smallint") ||
		   starts(decl, "mediumint") || starts(decl, "int") ||
		   starts(decl, "bigint") || starts(decl, "year")) {
		*type = BARGE_T_INT64;
		*kind = MYK_INT;
	} else if (starts(decl, "float")) {
		*type = BARGE_T_FLOAT64;
		*kind = MYK_FLOAT;
	} else if (starts(decl, "double") || starts(decl, "real")) {
		*type = BARGE_T_FLOAT64;
		*kind = MYK_DOUBLE;
	} else if (starts(decl, "decimal") || starts(decl, "numeric")) {
		*type = BARGE_T_DECIMAL;
		*kind = MYK_DECIMAL;
		*precision = a ? a : 10;
		*scale = b >= 0 ? b : 0;
	} else if (starts(decl, "json") || (json && strstr(decl, "text"))) {
		*type = BARGE_T_JSON;
		*kind = MYK_JSON;
	} else if (starts(decl, "binary") || starts(decl, "varbinary") ||
		   strstr(decl, "blob")) {
		*type = BARGE_T_BYTES;
		*kind = MYK_BYTES;
	} else if (starts(decl, "datetime")) {
		*type = strcmp(comment, "barge:timestamptz") == 0
				? BARGE_T_TIMESTAMPTZ : BARGE_T_TIMESTAMP;
		*kind = MYK_DATETIME;
	} else if (starts(decl, "timestamp")) {
		*type = BARGE_T_TIMESTAMPTZ;
		*kind = MYK_TIMESTAMP;
	} else if (starts(decl, "date")) {
		*type = BARGE_T_DATE;
		*kind = MYK_DATE;
	} else if (starts(decl, "time")) {
		*type = BARGE_T_TIME;
		*kind = MYK_TIME;
	} else if (starts(decl, "varchar") || starts(decl, "char")) {
		*precision = a;
	} else {
		for (size_t i = 0; geo[i]; i++)
			if (starts(decl, geo[i])) {
				*type = BARGE_T_BYTES;
				*kind = MYK_GEOMETRY;
			}
	}
}

/*
 * The text columns described with a NO PAD binary utf8mb4 collation, by
 * "db.table.column": their ranges compare the column as it is (and use
 * its index). Process-wide, like PostgreSQL's remembered types: a
 * column definition has no place for a collation, and its engine_type
 * goes to other engines' DDL. A column not listed is compared as its
 * UTF-8 bytes: right, only slower.
 */
#define MAX_BINCOLS 4096

static struct {
	pthread_mutex_t lock;
	size_t n;
	char *name[MAX_BINCOLS];
} bincols = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void col_id(char *out, size_t n, const char *db, const char *table,
		   const char *col)
{
	snprintf(out, n, "%s\x01%s\x01%s", db, table, col);
}

static int note_collation(struct barge_conn *c, const char *table,
			  const char *col, const char *collation)
{
	char id[800];
	int err = 0;
	if (strcmp(collation, "utf8mb4_nopad_bin") != 0 &&
	    strcmp(collation, "utf8mb4_0900_bin") != 0)
		return 0;
	col_id(id, sizeof id, c->db, table, col);
	pthread_mutex_lock(&bincols.lock);
	for (size_t i = 0; i < bincols.n; i++)
		if (strcmp(bincols.name[i], id) == 0)
			goto out;
	if (bincols.n < MAX_BINCOLS && !(bincols.name[bincols.n++] = strdup(id))) {
		bincols.n--;
		err = barge_error_set(BARGE_ENOMEM, "out of memory");
	}
out:
	pthread_mutex_unlock(&bincols.lock);
	return err;
}

int my_binary_text(const struct barge_conn *c, const char *table,
		   const struct barge_column_def *cd)
{
	char id[800];
	int found = 0;
	col_id(id, sizeof id, c->db, table, cd->name);
	pthread_mutex_lock(&bincols.lock);
	for (size_t i = 0; i < bincols.n && !found; i++)
		found = strcmp(bincols.name[i], id) == 0;
	pthread_mutex_unlock(&bincols.lock);
	return found;
}

static const struct barge_typemap mysql_typemap[] = {
	{"tinyint, smallint, mediumint, int, bigint (signed or not), year",
	 BARGE_T_INT64, "range-checked by the server on write (strict mode)"},
	{"bigint unsigned", BARGE_T_DECIMAL,
	 "decimal(20,0): every value up to 2^64-1, and the same type on both "
	 "ends of a foreign key"},
	{"tinyint(1), bit(1)", BARGE_T_BOOL, "a tinyint(1) other than 0 or 1 is "
	 "an error"},
	{"bit(n)", BARGE_T_BYTES, "big-endian bytes"},
	{"decimal(p,s)", BARGE_T_DECIMAL, "text at the column's scale; a value "
	 "it would round is an error"},
	{"float, double", BARGE_T_FLOAT64, "exact (float widened); NaN, "
	 "+-Infinity and -0 refused"},
	{"char, varchar, text, enum, set (any charset)", BARGE_T_TEXT,
	 "UTF-8 (latin1 is cp1252, converted by the server)"},
	{"binary, varbinary, blobs", BARGE_T_BYTES, "bytes exactly"},
	{"date", BARGE_T_DATE, "zero dates: ?zero-dates=error (default) or null"},
	{"time(p)", BARGE_T_TIME, "00:00:00 to 23:59:59.999999; others are an error"},
	{"datetime(p)", BARGE_T_TIMESTAMP, "µs, naive"},
	{"timestamp(p)", BARGE_T_TIMESTAMPTZ, "UTC (the session time zone is "
	 "+00:00)"},
	{"json (MySQL), longtext CHECK (json_valid(...)) (MariaDB)", BARGE_T_JSON,
	 "text as stored"},
	{"varchar COMMENT 'barge:decimal'", BARGE_T_DECIMAL,
	 "a decimal with no fixed scale, made by barge"},
	{"datetime(6) COMMENT 'barge:timestamptz'", BARGE_T_TIMESTAMPTZ,
	 "UTC, any year 1-9999, made by barge"},
	{"binary(16) COMMENT 'barge:uuid'", BARGE_T_UUID, "made by barge"},
	{"geometry types", BARGE_T_BYTES, "refused (not carried yet)"},
};

const struct barge_typemap *my_typemap(size_t *n)
{
	*n = sizeof mysql_typemap / sizeof *mysql_typemap;
	return mysql_typemap;
}

/* ---- Listing and describing -------------------------------------------------- */

/* SELECT ... WHERE TABLE_SCHEMA = <db> [AND TABLE_NAME = <table>] */
static int info_query(struct barge_conn *c, struct barge_buf *sql,
		      const char *table, const char *tail, MYSQL_RES **res)
{
	int err;
	barge_buf_adds(sql, " WHERE TABLE_SCHEMA = ");
	my_quote_lit(sql, c->db, strlen(c->db));
	if (table) {
		barge_buf_adds(sql, " AND TABLE_NAME = ");
		my_quote_lit(sql, table, strlen(table));
	}
	barge_buf_adds(sql, tail);
	if ((err = sql->err))
		return err;
	return my_query(c, sql->p, table, res);
}

int my_list_tables(struct barge_conn *c, char ***names)
{
	struct barge_buf sql;
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	char **v = NULL;
	size_t n = 0;
	int err;

	*names = NULL;
	barge_buf_init(&sql, 1 << 16);
	barge_buf_adds(&sql, "SELECT TABLE_NAME FROM information_schema.TABLES");
	if ((err = info_query(c, &sql, NULL, " AND TABLE_TYPE IN ('BASE TABLE', "
			      "'SYSTEM VERSIONED') ORDER BY BINARY TABLE_NAME", &res)))
		goto out;
	if (!(v = calloc(mysql_num_rows(res) + 1, sizeof *v)))
		goto nomem;
	while ((row = mysql_fetch_row(res)))
		if (!(v[n++] = strdup(row[0])))
			goto nomem;
	*names = v;
	v = NULL;
	goto out;
nomem:
	err = barge_error_set(BARGE_ENOMEM, "out of memory");
out:
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
	mysql_free_result(res);
	barge_buf_dispose(&sql);
	return err;
}

/* Append a copy of `s` to the array *v of *n strings; -1 when out of
 * memory (the array is then as it was). */
static int strv_push(char ***v, size_t *n, const char *s)
{
	char **nv = realloc(*v, (*n + 1) * sizeof *nv);
	if (!nv)
		return -1;
	*v = nv;
	if (!(nv[*n] = strdup(s)))
		return -1;
	(*n)++;
	return 0;
}

static int load_fks(struct barge_conn *c, struct barge_table_def *t)
{
	struct barge_buf sql;
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	char last[256] = "";
	int err;

	barge_buf_init(&sql, 1 << 16);
	barge_buf_adds(&sql, "SELECT CONSTRAINT_NAME, REFERENCED_TABLE_NAME, "
		       "COLUMN_NAME, REFERENCED_COLUMN_NAME FROM "
		       "information_schema.KEY_COLUMN_USAGE");
	if ((err = info_query(c, &sql, t->name, " AND REFERENCED_TABLE_NAME IS NOT "
			      "NULL ORDER BY BINARY CONSTRAINT_NAME, "
			      "ORDINAL_POSITION", &res)))
		goto out;
	while ((row = mysql_fetch_row(res))) {
		struct barge_fk_def *f;
		if (strcmp(last, row[0]) != 0) {
			f = realloc(t->fks, (t->nfks + 1) * sizeof *f);
			if (!f)
				goto nomem;
			t->fks = f;
			f = &t->fks[t->nfks++];
			memset(f, 0, sizeof *f);
			if (!(f->ref_table = strdup(row[1])))
				goto nomem;
			snprintf(last, sizeof last, "%s", row[0]);
		}
		f = &t->fks[t->nfks - 1];
		size_t n = f->ncols;
		if (strv_push(&f->cols, &n, row[2]) ||
		    strv_push(&f->ref_cols, &f->ncols, row[3]))
			goto nomem;
	}
	goto out;
nomem:
	err = barge_error_set(BARGE_ENOMEM, "out of memory");
out:
	mysql_free_result(res);
	barge_buf_dispose(&sql);
	return err;
}

/* Secondary indexes on whole plain columns (no prefix, no expression). */
static int load_indexes(struct barge_conn *c, struct barge_table_def *t)
{
	struct barge_buf sql;
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	char last[256] = "";
	int err;

	barge_buf_init(&sql, 1 << 16);
	barge_buf_adds(&sql, "SELECT INDEX_NAME, NON_UNIQUE, COLUMN_NAME FROM "
		       "information_schema.STATISTICS");
	if ((err = info_query(c, &sql, t->name,
			      " AND INDEX_NAME <> 'PRIMARY' AND INDEX_NAME NOT IN ("
			      "SELECT INDEX_NAME FROM information_schema.STATISTICS s "
			      "WHERE s.TABLE_SCHEMA = TABLE_SCHEMA AND s.TABLE_NAME = "
			      "TABLE_NAME AND (s.SUB_PART IS NOT NULL OR s.COLUMN_NAME "
			      "IS NULL)) ORDER BY BINARY INDEX_NAME, SEQ_IN_INDEX",
			      &res)))
		goto out;
	while ((row = mysql_fetch_row(res))) {
		struct barge_index_def *x;
		if (strcmp(last, row[0]) != 0) {
			x = realloc(t->indexes, (t->nindexes + 1) * sizeof *x);
			if (!x)
				goto nomem;
			t->indexes = x;
			x = &t->indexes[t->nindexes++];
			memset(x, 0, sizeof *x);
			if (!(x->name = strdup(row[0])))
				goto nomem;
			x->unique = strcmp(row[1], "0") == 0;
			snprintf(last, sizeof last, "%s", row[0]);
		}
		x = &t->indexes[t->nindexes - 1];
		if (strv_push(&x->cols, &x->ncols, row[2]))
			goto nomem;
	}
	goto out;
nomem:
	err = barge_error_set(BARGE_ENOMEM, "out of memory");
out:
	mysql_free_result(res);
	barge_buf_dispose(&sql);
	return err;
}

/* Primary key positions: column i's 1-based place in the key. */
static int load_key(struct barge_conn *c, struct barge_table_def *t)
{
	struct barge_buf sql;
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	int err;

	barge_buf_init(&sql, 1 << 16);
	barge_buf_adds(&sql, "SELECT COLUMN_NAME, ORDINAL_POSITION FROM "
		       "information_schema.KEY_COLUMN_USAGE");
	if ((err = info_query(c, &sql, t->name, " AND CONSTRAINT_NAME = 'PRIMARY' "
			      "ORDER BY ORDINAL_POSITION", &res)))
		goto out;
	while ((row = mysql_fetch_row(res))) {
		int i = barge_table_def_find(t, row[0]);
		if (i >= 0) {
			t->cols[i].key_pos = (int)strtol(row[1], NULL, 10);
			t->nkey++;
		}
	}
	if (t->nkey && !(t->key = calloc(t->nkey, sizeof *t->key)))
		err = barge_error_set(BARGE_ENOMEM, "out of memory");
	for (size_t i = 0; !err && i < t->ncols; i++)
		if (t->cols[i].key_pos >= 1 && (size_t)t->cols[i].key_pos <= t->nkey)
			t->key[t->cols[i].key_pos - 1] = i;
out:
	mysql_free_result(res);
	barge_buf_dispose(&sql);
	return err;
}

int my_describe(struct barge_conn *c, const char *table,
		struct barge_table_def **out)
{
	struct barge_table_def *t = NULL;
	struct barge_buf sql;
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	int err;

	*out = NULL;
	barge_buf_init(&sql, 1 << 16);
	/* MariaDB's JSON is longtext with a json_valid check; MySQL 8 has
	 * no CHECK_CONSTRAINTS.LEVEL column, so the check is looked up by
	 * its text alone */
	barge_buf_adds(&sql, "SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, "
		       "COLUMN_COMMENT, CHARACTER_SET_NAME, COLLATION_NAME, "
		       "EXISTS (SELECT 1 FROM information_schema.CHECK_CONSTRAINTS k "
		       "WHERE k.CONSTRAINT_SCHEMA = c.TABLE_SCHEMA AND "
		       "k.CHECK_CLAUSE = CONCAT('json_valid(`', c.COLUMN_NAME, "
		       "'`)')) FROM information_schema.COLUMNS c");
	if ((err = info_query(c, &sql, table, " ORDER BY ORDINAL_POSITION", &res)))
		goto out;
	if (mysql_num_rows(res) == 0) {
		err = barge_error_set(BARGE_ENOTFOUND, "no table '%s' in database "
				      "'%s' of %s", table, c->db, c->where);
		goto out;
	}
	t = calloc(1, sizeof *t);
	if (!t || !(t->name = strdup(table)) ||
	    !(t->cols = calloc(mysql_num_rows(res), sizeof *t->cols)))
		goto nomem;
	t->rows = -1;
	while ((row = mysql_fetch_row(res))) {
		struct barge_column_def *cd = &t->cols[t->ncols++];
		enum my_kind kind;
		if (!(cd->engine_type = strdup(row[1])) || !(cd->name = strdup(row[0])))
			goto nomem;
		if (row[5] && (err = note_collation(c, table, row[0], row[5])))
			goto out;
		my_map_type(row[1], row[3], row[6] && strcmp(row[6], "1") == 0,
			    &cd->type, &cd->precision, &cd->scale, &kind);
		cd->notnull = strcmp(row[2], "NO") == 0;
		if (kind == MYK_GEOMETRY &&
		    (err = barge_table_def_warn(t, "column %s: type %s is not "
						  "carried (geometry)", cd->name, row[1])))
			goto out;
	}
	if ((err = load_key(c, t)))
		goto out;
	if (!t->nkey && (err = barge_table_def_warn(t, "no primary key: read in "
						    "one chunk")))
		goto out;
	if ((err = load_fks(c, t)) || (err = load_indexes(c, t)))
		goto out;
	*out = t;
	t = NULL;
	goto out;
nomem:
	err = barge_error_set(BARGE_ENOMEM, "out of memory");
out:
	mysql_free_result(res);
	barge_buf_dispose(&sql);
	barge_table_def_free(t);
	return err;
}

int my_count_rows(struct barge_conn *c, const struct barge_table_def *t,
		  const char *where, int64_t *out)
{
	struct barge_buf sql;
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	int err;

	barge_buf_init(&sql, MY_SQL_CAP);
	barge_buf_adds(&sql, "SELECT COUNT(*) FROM ");
	my_table(&sql, c, t->name);
	if (where)
		barge_buf_printf(&sql, " WHERE (%s)", where);
	if ((err = sql.err) || (err = my_query(c, sql.p, t->name, &res)))
		goto out;
	row = mysql_fetch_row(res);
	*out = row && row[0] ? strtoll(row[0], NULL, 10) : 0;
out:
	mysql_free_result(res);
	barge_buf_dispose(&sql);
	return err;
}

/* ---- Creating a target table ---------------------------------------------------- */

/* Text compared byte for byte, with no padding: barge's order, and the
 * equality of every other engine. */
static const char *bin_collation(const struct barge_conn *c)
{
	return c->mariadb ? "utf8mb4_nopad_bin" : "utf8mb4_0900_bin";
}

/*
 * A declared type only MySQL writes (COLUMN_TYPE's shapes), mapping to
 * the same logical type: kept as it is, so MySQL -> MySQL keeps unsigned
 * integers, enums, sets, bit(n), charsets. Other engines' names (bigint,
 * text, numeric) get barge's choice below.
 */
static int keep_declared(const struct barge_column_def *cd)
{
	static const char *const shapes[] = {
		"tinyint(", "smallint(", "mediumint(", "int(", "bigint(",
		"enum(", "set(", "bit(", "year", "float", "double", "decimal(",
		"varchar(", "char(", "binary(", "varbinary(", "datetime",
		"timestamp(", "tinytext", "mediumtext", "longtext", "tinyblob",
		"mediumblob", "longblob", NULL,
	};
	const char *e = cd->engine_type;
	int type, p, s, keep = 0;
	enum my_kind kind;
	if (!e || !e[0])
		return 0;
	for (size_t i = 0; shapes[i] && !keep; i++)
		keep = strncmp(e, shapes[i], strlen(shapes[i])) == 0;
	keep = keep || strstr(e, " unsigned") != NULL;
	if (!keep)
		return 0;
	my_map_type(e, NULL, 0, &type, &p, &s, &kind);
	/* a datetime made for a timestamptz is kept by its comment below */
	return type == cd->type && kind != MYK_GEOMETRY;
}

/*
 * A key column of unbounded text or bytes gets a bounded width (InnoDB
 * keys hold 3072 bytes): `keyw` characters (4 bytes each), shared by
 * the key's variable-width columns. A longer value is an error.
 */
static int create_type(struct barge_conn *c, struct barge_buf *b,
		       const struct barge_column_def *cd, int keyw)
{
	switch (cd->type) {
	case BARGE_T_BOOL: return barge_buf_adds(b, "tinyint(1)");
	case BARGE_T_INT64: return barge_buf_adds(b, "bigint");
	case BARGE_T_FLOAT64: return barge_buf_adds(b, "double");
	case BARGE_T_DECIMAL:
		if (cd->precision > 0 && cd->precision <= 65 && cd->scale >= 0 &&
		    cd->scale <= 30 && cd->scale <= cd->precision)
			return barge_buf_printf(b, "decimal(%d,%d)", cd->precision,
						cd->scale);
		return barge_buf_adds(b, "varchar(1024) CHARACTER SET ascii COLLATE "
				      "ascii_bin COMMENT 'barge:decimal'");
	case BARGE_T_TEXT:
	case BARGE_T_ANY:
		if (cd->type == BARGE_T_TEXT && cd->precision > 0 &&
		    cd->precision <= 16000)
			barge_buf_printf(b, "varchar(%d)", cd->precision);
		else if (cd->key_pos)
			barge_buf_printf(b, "varchar(%d)", keyw);
		else
			barge_buf_adds(b, "longtext");
		return barge_buf_printf(b, " CHARACTER SET utf8mb4 COLLATE %s",
					bin_collation(c));
	case BARGE_T_BYTES:
		if (cd->key_pos)
			return barge_buf_printf(b, "varbinary(%d)", 4 * keyw);
		return barge_buf_adds(b, "longblob");
	case BARGE_T_DATE: return barge_buf_adds(b, "date");
	case BARGE_T_TIME: return barge_buf_adds(b, "time(6)");
	case BARGE_T_TIMESTAMP: return barge_buf_adds(b, "datetime(6)");
	case BARGE_T_TIMESTAMPTZ:
		return barge_buf_adds(b, "datetime(6) COMMENT 'barge:timestamptz'");
	case BARGE_T_UUID: return barge_buf_adds(b, "binary(16) COMMENT 'barge:uuid'");
	case BARGE_T_JSON: return barge_buf_adds(b, "json");
	default:
		return barge_error_set(BARGE_EUSAGE, "column %s has no type MySQL "
				       "can hold", cd->name);
	}
}

int my_create_table(struct barge_conn *c, const struct barge_table_def *t)
{
	struct barge_buf sql;
	int nvar = 0, err;

	for (size_t k = 0; k < t->nkey; k++) {
		const struct barge_column_def *cd = &t->cols[t->key[k]];
		nvar += (cd->type == BARGE_T_TEXT || cd->type == BARGE_T_BYTES ||
			 cd->type == BARGE_T_ANY) && !keep_declared(cd);
	}
	barge_buf_init(&sql, MY_SQL_CAP);
	barge_buf_adds(&sql, "CREATE TABLE IF NOT EXISTS ");
	my_table(&sql, c, t->name);
	barge_buf_adds(&sql, " (");
	for (size_t i = 0; i < t->ncols; i++) {
		const struct barge_column_def *cd = &t->cols[i];
		if (i)
			barge_buf_adds(&sql, ", ");
		my_quote(&sql, cd->name);
		barge_buf_adds(&sql, " ");
		if (keep_declared(cd))
			barge_buf_adds(&sql, cd->engine_type);
		else if ((err = create_type(c, &sql, cd, 700 / (nvar ? nvar : 1))))
			goto out;
		if (cd->notnull)
			barge_buf_adds(&sql, " NOT NULL");
	}
	if (t->nkey) {
		barge_buf_adds(&sql, ", PRIMARY KEY (");
		for (size_t k = 0; k < t->nkey; k++) {
			if (k)
				barge_buf_adds(&sql, ", ");
			my_quote(&sql, t->cols[t->key[k]].name);
		}
		barge_buf_adds(&sql, ")");
	}
	barge_buf_printf(&sql, ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=%s",
			 bin_collation(c));
	if ((err = sql.err))
		goto out;
	err = my_exec(c, sql.p, t->name);
out:
	barge_buf_dispose(&sql);
	return err;
}

/* ---- Indexes and foreign keys, after the data --------------------------------- */

/* Does `kind` (STATISTICS for an index, TABLE_CONSTRAINTS for a foreign
 * key) already hold `name` on `table`? */
static int exists(struct barge_conn *c, const char *table, const char *name,
		  int fk, int *found)
{
	struct barge_buf sql;
	MYSQL_RES *res = NULL;
	int err;

	barge_buf_init(&sql, 1 << 16);
	barge_buf_adds(&sql, fk ? "SELECT 1 FROM information_schema.TABLE_CONSTRAINTS"
				: "SELECT 1 FROM information_schema.STATISTICS");
	barge_buf_adds(&sql, " WHERE TABLE_SCHEMA = ");
	my_quote_lit(&sql, c->db, strlen(c->db));
	barge_buf_adds(&sql, " AND TABLE_NAME = ");
	my_quote_lit(&sql, table, strlen(table));
	barge_buf_adds(&sql, fk ? " AND CONSTRAINT_NAME = " : " AND INDEX_NAME = ");
	my_quote_lit(&sql, name, strlen(name));
	if (!(err = sql.err) && !(err = my_query(c, sql.p, table, &res)))
		*found = mysql_num_rows(res) > 0;
	mysql_free_result(res);
	barge_buf_dispose(&sql);
	return err;
}

/* Index a longtext or a blob only by a prefix, which would change what a
 * unique index means: such an index is left out, with a line saying so. */
static int indexable(const struct barge_table_def *t, const struct barge_index_def *x)
{
	for (size_t i = 0; i < x->ncols; i++) {
		int k = barge_table_def_find(t, x->cols[i]);
		if (k < 0)
			return 0;
		const char *e = t->cols[k].engine_type ? t->cols[k].engine_type : "";
		if (strstr(e, "text") || strstr(e, "blob") || strcmp(e, "json") == 0 ||
		    (!t->cols[k].engine_type && t->cols[k].precision == 0 &&
		     (t->cols[k].type == BARGE_T_TEXT || t->cols[k].type == BARGE_T_BYTES)))
			return 0;
	}
	return 1;
}

static int make_indexes(struct barge_conn *c, const struct barge_table_def *src,
			const struct barge_table_def *dst)
{
	struct barge_buf sql;
	int err = 0;

	barge_buf_init(&sql, MY_SQL_CAP);
	for (size_t i = 0; i < src->nindexes && !err; i++) {
		const struct barge_index_def *x = &src->indexes[i];
		int found = 0;
		if (!indexable(dst, x)) {
			fprintf(stderr, "barge: mysql: table '%s': index %s left out "
				"(a text or blob column MySQL indexes only by a "
				"prefix)\n", dst->name, x->name);
			continue;
		}
		if ((err = exists(c, dst->name, x->name, 0, &found)) || found)
			continue;
		barge_buf_clear(&sql);
		barge_buf_adds(&sql, x->unique ? "CREATE UNIQUE INDEX " : "CREATE INDEX ");
		my_quote(&sql, x->name);
		barge_buf_adds(&sql, " ON ");
		my_table(&sql, c, dst->name);
		barge_buf_adds(&sql, " (");
		for (size_t k = 0; k < x->ncols; k++) {
			if (k)
				barge_buf_adds(&sql, ", ");
			my_quote(&sql, x->cols[k]);
		}
		barge_buf_adds(&sql, ")");
		if (!(err = sql.err))
			err = my_exec(c, sql.p, dst->name);
	}
	barge_buf_dispose(&sql);
	return err;
}

static int make_fks(struct barge_conn *c, const struct barge_table_def *src,
		    const struct barge_table_def *dst)
{
	struct barge_buf sql;
	int err = 0;

	barge_buf_init(&sql, MY_SQL_CAP);
	for (size_t i = 0; i < src->nfks && !err; i++) {
		const struct barge_fk_def *f = &src->fks[i];
		char name[65];
		int found = 0;
		snprintf(name, sizeof name, "%.56s_fk%zu", dst->name, i + 1);
		if ((err = exists(c, dst->name, name, 1, &found)) || found)
			continue;
		barge_buf_clear(&sql);
		barge_buf_adds(&sql, "ALTER TABLE ");
		my_table(&sql, c, dst->name);
		barge_buf_adds(&sql, " ADD CONSTRAINT ");
		my_quote(&sql, name);
		barge_buf_adds(&sql, " FOREIGN KEY (");
		for (size_t k = 0; k < f->ncols; k++) {
			if (k)
				barge_buf_adds(&sql, ", ");
			my_quote(&sql, f->cols[k]);
		}
		barge_buf_adds(&sql, ") REFERENCES ");
		my_table(&sql, c, f->ref_table);
		barge_buf_adds(&sql, " (");
		for (size_t k = 0; k < f->ncols; k++) {
			if (k)
				barge_buf_adds(&sql, ", ");
			my_quote(&sql, f->ref_cols[k]);
		}
		barge_buf_adds(&sql, ")");
		if (!(err = sql.err))
			err = my_exec(c, sql.p, dst->name);
	}
	barge_buf_dispose(&sql);
	return err;
}

int my_finish_tables(struct barge_conn *c, struct barge_conn *src, size_t n,
		     const struct barge_table_def *const *src_defs,
		     const struct barge_table_def *const *dst_defs, int jobs,
		     unsigned what)
{
	int err = 0;
	for (size_t i = 0; i < n && !err; i++) {
		if (what & BARGE_FINISH_TABLE)
			err = make_indexes(c, src_defs[i], dst_defs[i]);
		if (!err && (what & BARGE_FINISH_FKS))
			err = make_fks(c, src_defs[i], dst_defs[i]);
	}
	return err;
}
