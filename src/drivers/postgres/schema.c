/*
 * Schema: the type map, list tables, describe one (columns with typmods,
 * primary key, foreign keys), count rows, create a target table.
 */
#include "pg_int.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	OID_BOOL = 16, OID_BYTEA = 17, OID_NAME = 19, OID_INT8 = 20,
	OID_INT2 = 21, OID_INT4 = 23, OID_TEXT = 25, OID_JSON = 114,
	OID_FLOAT4 = 700, OID_FLOAT8 = 701, OID_BPCHAR = 1042,
	OID_VARCHAR = 1043, OID_DATE = 1082, OID_TIME = 1083,
	OID_TIMESTAMP = 1114, OID_TIMESTAMPTZ = 1184, OID_NUMERIC = 1700,
	OID_UUID = 2950, OID_JSONB = 3802,
};

void pg_map_type(unsigned oid, int typmod, int *type, int *precision,
		 int *scale, enum pg_kind *kind)
{
	*precision = 0;
	*scale = -1;
	switch (oid) {
	case OID_BOOL: *type = BARGE_T_BOOL; *kind = PGK_BOOL; break;
	case OID_INT2: *type = BARGE_T_INT64; *kind = PGK_INT2; break;
	case OID_INT4: *type = BARGE_T_INT64; *kind = PGK_INT4; break;
	case OID_INT8: *type = BARGE_T_INT64; *kind = PGK_INT8; break;
	case OID_FLOAT4: *type = BARGE_T_FLOAT64; *kind = PGK_FLOAT4; break;
	case OID_FLOAT8: *type = BARGE_T_FLOAT64; *kind = PGK_FLOAT8; break;
	case OID_NUMERIC:
		*type = BARGE_T_DECIMAL;
		*kind = PGK_NUMERIC;
		if (typmod >= 4) {
			int p = ((typmod - 4) >> 16) & 0xffff;
			int s = (((typmod - 4) & 0x7ff) ^ 1024) - 1024;
			/* A negative scale (PostgreSQL 15) rounds to tens:
			 * no logical equivalent, left unconstrained. */
			if (s >= 0) {
				*precision = p;
				*scale = s;
			}
		}
		break;
	case OID_TEXT:
	case OID_NAME:
	case OID_VARCHAR:
	case OID_BPCHAR:
		*type = BARGE_T_TEXT;
		*kind = PGK_TEXT;
		if ((oid == OID_VARCHAR || oid == OID_BPCHAR) && typmod >= 4)
			*precision = typmod - 4;
		break;
	case OID_BYTEA: *type = BARGE_T_BYTES; *kind = PGK_BYTEA; break;
	case OID_DATE: *type = BARGE_T_DATE; *kind = PGK_DATE; break;
	case OID_TIME: *type = BARGE_T_TIME; *kind = PGK_TIME; break;
	case OID_TIMESTAMP: *type = BARGE_T_TIMESTAMP; *kind = PGK_TIMESTAMP; break;
	case OID_TIMESTAMPTZ:
		*type = BARGE_T_TIMESTAMPTZ;
		*kind = PGK_TIMESTAMPTZ;
		break;
	case OID_UUID: *type = BARGE_T_UUID; *kind = PGK_UUID; break;
	case OID_JSON: *type = BARGE_T_JSON; *kind = PGK_JSON; break;
	case OID_JSONB: *type = BARGE_T_JSON; *kind = PGK_JSONB; break;
	default: *type = BARGE_T_TEXT; *kind = PGK_CAST; break;
	}
}

static const struct barge_typemap postgres_typemap[] = {
	{"smallint, integer, bigint", BARGE_T_INT64,
	 "range-checked on write: a value out of range is an error"},
	{"numeric, numeric(p,s)", BARGE_T_DECIMAL,
	 "binary numeric <-> decimal text: any precision, NaN, +-Infinity; a "
	 "value numeric(p,s) would round is an error"},
	{"real, double precision", BARGE_T_FLOAT64,
	 "IEEE bits (NaN, +-Infinity, -0, subnormals); real only when exact"},
	{"text, varchar(n), char(n), name", BARGE_T_TEXT,
	 "bytes exactly (char(n) keeps its padding); n kept; NUL refused"},
	{"bytea", BARGE_T_BYTES, "bytes exactly"},
	{"boolean", BARGE_T_BOOL, NULL},
	{"date", BARGE_T_DATE,
	 "days since 1970; +-infinity as INT64 max/min"},
	{"time", BARGE_T_TIME, "µs since midnight (24:00:00 kept)"},
	{"timestamp(p)", BARGE_T_TIMESTAMP,
	 "µs since 1970; +-infinity as INT64 max/min; p checked on write"},
	{"timestamptz(p)", BARGE_T_TIMESTAMPTZ,
	 "UTC µs since 1970; +-infinity as INT64 max/min"},
	{"uuid", BARGE_T_UUID, "16 bytes"},
	{"json", BARGE_T_JSON, "text byte for byte"},
	{"jsonb", BARGE_T_JSON, "PostgreSQL's normalized jsonb text"},
	{"anything else (interval, arrays, enums, domains, timetz, inet, ...)",
	 BARGE_T_TEXT,
	 "PostgreSQL's own text form (IntervalStyle postgres, UTC), cast back "
	 "to the target column's type on write"},
};

const struct barge_typemap *pg_typemap(size_t *n)
{
	*n = sizeof postgres_typemap / sizeof *postgres_typemap;
	return postgres_typemap;
}

/* ---- Listing and describing -------------------------------------------------- */

int pg_list_tables(struct barge_conn *c, char ***names)
{
	PGresult *res = NULL;
	const char *params[1] = {c->schema};
	char **v = NULL;
	int err, n;

	*names = NULL;
	if ((err = pg_query(c,
			    "SELECT c.relname FROM pg_class c JOIN pg_namespace n "
			    "ON n.oid = c.relnamespace WHERE n.nspname = $1 AND "
			    "c.relkind IN ('r', 'p') AND NOT c.relispartition "
			    "ORDER BY c.relname COLLATE \"C\"",
			    1, params, 0, NULL, &res)))
		return err;
	n = PQntuples(res);
	if (!(v = calloc((size_t)n + 1, sizeof *v)))
		goto nomem;
	for (int i = 0; i < n; i++)
		if (!(v[i] = strdup(PQgetvalue(res, i, 0))))
			goto nomem;
	*names = v;
	v = NULL;
	goto out;
nomem:
	err = barge_error_set(BARGE_ENOMEM, "out of memory");
out:
	for (int i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
	PQclear(res);
	return err;
}

static int load_fks(struct barge_conn *c, struct barge_table_def *t,
		    const char *oid)
{
	PGresult *res = NULL;
	const char *params[1] = {oid};
	int err;

	if ((err = pg_query(c,
			    "SELECT con.oid, cf.relname, a.attname, af.attname "
			    "FROM pg_constraint con "
			    "JOIN pg_class cf ON cf.oid = con.confrelid "
			    "CROSS JOIN LATERAL unnest(con.conkey, con.confkey) "
			    "  WITH ORDINALITY AS k(a, f, ord) "
			    "JOIN pg_attribute a ON a.attrelid = con.conrelid "
			    "  AND a.attnum = k.a "
			    "JOIN pg_attribute af ON af.attrelid = con.confrelid "
			    "  AND af.attnum = k.f "
			    "WHERE con.conrelid = $1::oid AND con.contype = 'f' "
			    "ORDER BY con.conname COLLATE \"C\", con.oid, k.ord",
			    1, params, 0, t->name, &res)))
		return err;
	for (int i = 0; !err && i < PQntuples(res); i++) {
		/* a new constraint (rows come by constraint, in key order) */
		if ((i == 0 || strcmp(PQgetvalue(res, i - 1, 0), PQgetvalue(res, i, 0)) != 0) &&
		    (err = barge_table_def_add_fk(t, PQgetvalue(res, i, 1))))
			break;
		err = barge_table_def_add_fk_col(t, PQgetvalue(res, i, 2),
						 PQgetvalue(res, i, 3));
	}
	PQclear(res);
	return err;
}

/* Secondary indexes on plain columns (not the primary key, not partial,
 * none on an expression), for `barge inspect` and other engines. */
static int load_indexes(struct barge_conn *c, struct barge_table_def *t,
			const char *oid)
{
	PGresult *res = NULL;
	const char *params[1] = {oid};
	int err;

	if ((err = pg_query(c,
			    "SELECT x.indexrelid, ci.relname, x.indisunique, a.attname "
			    "FROM pg_index x JOIN pg_class ci ON ci.oid = x.indexrelid "
			    "CROSS JOIN LATERAL unnest(x.indkey::int2[]) "
			    "  WITH ORDINALITY AS k(a, ord) "
			    "JOIN pg_attribute a ON a.attrelid = x.indrelid "
			    "  AND a.attnum = k.a "
			    "WHERE x.indrelid = $1::oid AND NOT x.indisprimary "
			    "  AND x.indexprs IS NULL AND x.indpred IS NULL "
			    "  AND k.ord <= x.indnkeyatts "
			    "ORDER BY ci.relname COLLATE \"C\", k.ord",
			    1, params, 0, t->name, &res)))
		return err;
	for (int i = 0; !err && i < PQntuples(res); i++) {
		/* a new index (rows come by index, in column order) */
		if ((i == 0 || strcmp(PQgetvalue(res, i - 1, 0), PQgetvalue(res, i, 0)) != 0) &&
		    (err = barge_table_def_add_index(t, PQgetvalue(res, i, 1),
						     PQgetvalue(res, i, 2)[0] == 't')))
			break;
		err = barge_table_def_add_index_col(t, PQgetvalue(res, i, 3));
	}
	PQclear(res);
	return err;
}

/*
 * Enum and domain types, remembered from the tables described (a
 * PostgreSQL source) so that create_table can make them on a PostgreSQL
 * target that lacks them: PG -> PG then keeps those column types exactly.
 * Process-wide, by the name format_type() gives; the statements are in
 * dependency order (a domain over an enum after the enum).
 */
#define MAX_TYPES 256

static struct {
	pthread_mutex_t lock;
	size_t n;
	char *name[MAX_TYPES];
	char *ddl[MAX_TYPES];
} types = {.lock = PTHREAD_MUTEX_INITIALIZER};

static int type_add(const char *name, const char *ddl)
{
	int err = 0;
	pthread_mutex_lock(&types.lock);
	for (size_t i = 0; i < types.n; i++)
		if (strcmp(types.name[i], name) == 0)
			goto out;
	if (types.n == MAX_TYPES)
		goto out; /* then the column becomes text, as before */
	types.name[types.n] = strdup(name);
	types.ddl[types.n] = strdup(ddl);
	if (!types.name[types.n] || !types.ddl[types.n]) {
		free(types.name[types.n]);
		free(types.ddl[types.n]);
		err = barge_error_set(BARGE_ENOMEM, "out of memory");
		goto out;
	}
	types.n++;
out:
	pthread_mutex_unlock(&types.lock);
	return err;
}

/* The CREATE statement of an enum or domain type (array element types
 * followed), and of an enum a domain is over, first. */
static int remember_type(struct barge_conn *c, const char *oid)
{
	PGresult *res = NULL;
	const char *params[1] = {oid};
	int err;

	if ((err = pg_query(c,
			    "WITH RECURSIVE t(oid, depth) AS ("
			    "  SELECT CASE WHEN y.typelem <> 0 AND y.typlen = -1 AND "
			    "    y.typcategory = 'A' THEN y.typelem ELSE y.oid END, 0 "
			    "  FROM pg_type y WHERE y.oid = $1::oid "
			    "  UNION ALL SELECT y.typbasetype, t.depth + 1 FROM t "
			    "  JOIN pg_type y ON y.oid = t.oid WHERE y.typtype = 'd' "
			    "  AND t.depth < 8) "
			    "SELECT format_type(y.oid, NULL), CASE y.typtype "
			    " WHEN 'e' THEN 'CREATE TYPE ' || format_type(y.oid, NULL) || "
			    "  ' AS ENUM (' || (SELECT coalesce(string_agg(quote_literal("
			    "  e.enumlabel), ', ' ORDER BY e.enumsortorder), '') FROM "
			    "  pg_enum e WHERE e.enumtypid = y.oid) || ')' "
			    " WHEN 'd' THEN 'CREATE DOMAIN ' || format_type(y.oid, NULL) "
			    "  || ' AS ' || format_type(y.typbasetype, y.typtypmod) || "
			    "  coalesce(' DEFAULT ' || y.typdefault, '') || "
			    "  CASE WHEN y.typnotnull THEN ' NOT NULL' ELSE '' END || "
			    "  coalesce((SELECT string_agg(' CONSTRAINT ' || "
			    "  quote_ident(k.conname) || ' ' || pg_get_constraintdef(k.oid), "
			    "  '' ORDER BY k.conname) FROM pg_constraint k WHERE "
			    "  k.contypid = y.oid), '') END "
			    "FROM t JOIN pg_type y ON y.oid = t.oid "
			    "WHERE y.typtype IN ('e', 'd') ORDER BY t.depth DESC",
			    1, params, 0, NULL, &res)))
		return err;
	for (int i = 0; i < PQntuples(res) && !err; i++)
		err = type_add(PQgetvalue(res, i, 0), PQgetvalue(res, i, 1));
	PQclear(res);
	return err;
}

/* Make the remembered types a column needs (and those they need) when
 * this server does not have them. */
static int make_type(struct barge_conn *c, const char *declared)
{
	char base[512];
	size_t n = strlen(declared);
	int err = 0;

	/* "mood[]" is made by making "mood" */
	while (n >= 2 && strncmp(declared + n - 2, "[]", 2) == 0)
		n -= 2;
	if (n >= sizeof base)
		return 0;
	memcpy(base, declared, n);
	base[n] = '\0';
	pthread_mutex_lock(&types.lock);
	size_t at = types.n;
	for (size_t i = 0; i < types.n; i++)
		if (strcmp(types.name[i], base) == 0)
			at = i;
	/* its dependencies were remembered just before it */
	for (size_t i = 0; at < types.n && i <= at && !err; i++) {
		PGresult *res = NULL;
		const char *params[1] = {types.name[i]};
		if (i < at && !strstr(types.ddl[at], types.name[i]))
			continue;
		if ((err = pg_query(c, "SELECT to_regtype($1) IS NULL", 1, params, 0,
				    NULL, &res)))
			break;
		int missing = PQgetvalue(res, 0, 0)[0] == 't';
		PQclear(res);
		if (missing)
			err = pg_exec(c, types.ddl[i], NULL);
	}
	pthread_mutex_unlock(&types.lock);
	return err;
}

int pg_describe(struct barge_conn *c, const char *table,
		struct barge_table_def **out)
{
	struct barge_table_def *t = NULL;
	PGresult *res = NULL;
	const char *params[2] = {c->schema, table};
	char oid[32];
	int err, n;

	*out = NULL;
	if ((err = pg_query(c,
			    "SELECT c.oid FROM pg_class c JOIN pg_namespace n "
			    "ON n.oid = c.relnamespace WHERE n.nspname = $1 AND "
			    "c.relname = $2 AND c.relkind IN ('r','p','v','m','f')",
			    2, params, 0, table, &res)))
		return err;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return barge_error_set(BARGE_ENOTFOUND, "no table '%s' in schema "
					"'%s' of %s", table, c->schema, c->where);
	}
	snprintf(oid, sizeof oid, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	res = NULL;

	t = calloc(1, sizeof *t);
	if (!t || !(t->name = strdup(table)))
		goto nomem;
	t->rows = -1;
	params[0] = oid;
	if ((err = pg_query(c,
			    "SELECT a.attname, format_type(a.atttypid, a.atttypmod), "
			    "a.atttypid, a.atttypmod, a.attnotnull, "
			    "coalesce((SELECT k.ord FROM pg_index i, "
			    "  unnest(i.indkey::int2[]) WITH ORDINALITY k(n, ord) "
			    "  WHERE i.indrelid = a.attrelid AND i.indisprimary "
			    "  AND k.n = a.attnum), 0) "
			    "FROM pg_attribute a WHERE a.attrelid = $1::oid AND "
			    "a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
			    1, params, 0, table, &res)))
		goto out;
	n = PQntuples(res);
	if (n > 0 && !(t->cols = calloc((size_t)n, sizeof *t->cols)))
		goto nomem;
	for (int i = 0; i < n; i++) {
		struct barge_column_def *cd = &t->cols[t->ncols++];
		enum pg_kind kind;
		cd->name = strdup(PQgetvalue(res, i, 0));
		cd->engine_type = strdup(PQgetvalue(res, i, 1));
		if (!cd->name || !cd->engine_type)
			goto nomem;
		pg_map_type((unsigned)strtoul(PQgetvalue(res, i, 2), NULL, 10),
			    (int)strtol(PQgetvalue(res, i, 3), NULL, 10), &cd->type,
			    &cd->precision, &cd->scale, &kind);
		cd->notnull = PQgetvalue(res, i, 4)[0] == 't';
		cd->key_pos = (int)strtol(PQgetvalue(res, i, 5), NULL, 10);
		if (cd->key_pos)
			t->nkey++;
		if (kind == PGK_CAST &&
		    (err = barge_table_def_warn(t, "column %s: type %s has no "
						  "logical type: carried as text "
						  "in PostgreSQL's text form",
						cd->name, cd->engine_type)))
			goto out;
		if (kind == PGK_CAST &&
		    (err = remember_type(c, PQgetvalue(res, i, 2))))
			goto out;
	}
	PQclear(res);
	res = NULL;
	if (t->nkey) {
		if (!(t->key = calloc(t->nkey, sizeof *t->key)))
			goto nomem;
		for (size_t i = 0; i < t->ncols; i++)
			if (t->cols[i].key_pos >= 1 &&
			    (size_t)t->cols[i].key_pos <= t->nkey)
				t->key[t->cols[i].key_pos - 1] = i;
	} else if ((err = barge_table_def_warn(t, "no primary key: read in "
						  "one chunk")))
		goto out;
	if ((err = load_fks(c, t, oid)) || (err = load_indexes(c, t, oid)))
		goto out;
	*out = t;
	t = NULL;
	goto out;
nomem:
	err = barge_error_set(BARGE_ENOMEM, "out of memory");
out:
	PQclear(res);
	barge_table_def_free(t);
	return err;
}

int pg_count_rows(struct barge_conn *c, const struct barge_table_def *t,
		  const char *where, int64_t *out)
{
	struct barge_buf sql;
	PGresult *res = NULL;
	int err;

	barge_buf_init(&sql, PG_SQL_CAP);
	if ((err = barge_sql_count(&sql, PG_SQL, c->schema, t->name, where)) ||
	    (err = pg_query(c, sql.p, 0, NULL, 0, t->name, &res)))
		goto out;
	*out = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
out:
	PQclear(res);
	barge_buf_dispose(&sql);
	return err;
}

/* ---- Creating a target table ---------------------------------------------------- */

/*
 * Is the column's declared type a PostgreSQL type name this server knows,
 * with the same logical type? Then it is kept as declared (PostgreSQL ->
 * PostgreSQL keeps every type, typmods and arrays included). format_type()
 * writes lower case only (quoted names aside), so a declared type with an
 * upper-case letter outside quotes comes from another engine, where the
 * same word may mean another thing (SQLite's INTEGER is 64 bits).
 */
static int keep_declared(struct barge_conn *c, const struct barge_column_def *cd)
{
	PGresult *res = NULL;
	int quoted = 0, keep = 0;

	if (!cd->engine_type || !cd->engine_type[0])
		return 0;
	for (const char *p = cd->engine_type; *p; p++) {
		if (*p == '"')
			quoted = !quoted;
		else if (!quoted && isupper((unsigned char)*p))
			return 0;
	}
	const char *params[1] = {cd->engine_type};
	res = PQexecParams(c->pg, "SELECT to_regtype($1)::oid", 1, NULL, params,
			   NULL, NULL, 0);
	if (res && PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
	    !PQgetisnull(res, 0, 0)) {
		int type, p, s;
		enum pg_kind kind;
		pg_map_type((unsigned)strtoul(PQgetvalue(res, 0, 0), NULL, 10), -1,
			    &type, &p, &s, &kind);
		keep = type == cd->type;
	}
	PQclear(res);
	return keep;
}

static int create_type(struct barge_buf *b, const struct barge_column_def *cd)
{
	switch (cd->type) {
	case BARGE_T_BOOL: return barge_buf_adds(b, "boolean");
	case BARGE_T_INT64: return barge_buf_adds(b, "bigint");
	case BARGE_T_FLOAT64: return barge_buf_adds(b, "double precision");
	case BARGE_T_DECIMAL:
		if (cd->precision > 0 && cd->precision <= 1000 && cd->scale >= 0 &&
		    cd->scale <= cd->precision)
			return barge_buf_printf(b, "numeric(%d,%d)", cd->precision,
						cd->scale);
		return barge_buf_adds(b, "numeric");
	case BARGE_T_TEXT:
		if (cd->precision > 0 && cd->precision <= 10485760)
			return barge_buf_printf(b, "varchar(%d)", cd->precision);
		return barge_buf_adds(b, "text");
	case BARGE_T_BYTES: return barge_buf_adds(b, "bytea");
	case BARGE_T_DATE: return barge_buf_adds(b, "date");
	case BARGE_T_TIME: return barge_buf_adds(b, "time");
	case BARGE_T_TIMESTAMP: return barge_buf_adds(b, "timestamp");
	case BARGE_T_TIMESTAMPTZ: return barge_buf_adds(b, "timestamptz");
	case BARGE_T_UUID: return barge_buf_adds(b, "uuid");
	/* json, not jsonb: it keeps the text byte for byte. */
	case BARGE_T_JSON: return barge_buf_adds(b, "json");
	/* Values of their own type (SQLite, no declared type): text; a value
	 * of another type is refused on write, never turned into text. */
	case BARGE_T_ANY: return barge_buf_adds(b, "text");
	default:
		return barge_error_set(BARGE_EUSAGE,
				       "column %s has no type PostgreSQL can hold",
				       cd->name);
	}
}

int pg_create_table(struct barge_conn *c, const struct barge_table_def *t)
{
	struct barge_buf sql;
	int err;

	barge_buf_init(&sql, PG_SQL_CAP);
	barge_buf_adds(&sql, "CREATE TABLE IF NOT EXISTS ");
	pg_table(&sql, c, t->name);
	barge_buf_adds(&sql, " (");
	for (size_t i = 0; i < t->ncols; i++) {
		const struct barge_column_def *cd = &t->cols[i];
		if (i)
			barge_buf_adds(&sql, ", ");
		pg_quote(&sql, cd->name);
		barge_buf_adds(&sql, " ");
		/* an enum or domain of a PostgreSQL source: made here first */
		if (cd->engine_type && !keep_declared(c, cd) &&
		    (err = make_type(c, cd->engine_type)))
			goto out;
		if (keep_declared(c, cd))
			barge_buf_adds(&sql, cd->engine_type);
		else if ((err = create_type(&sql, cd)))
			goto out;
		if (cd->notnull)
			barge_buf_adds(&sql, " NOT NULL");
	}
	if (t->nkey) {
		barge_buf_adds(&sql, ", PRIMARY KEY (");
		for (size_t k = 0; k < t->nkey; k++) {
			if (k)
				barge_buf_adds(&sql, ", ");
			pg_quote(&sql, t->cols[t->key[k]].name);
		}
		barge_buf_adds(&sql, ")");
	}
	barge_buf_adds(&sql, ")");
	if ((err = sql.err))
		goto out;
	err = pg_exec(c, sql.p, t->name);
out:
	barge_buf_dispose(&sql);
	return err;
}
