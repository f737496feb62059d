/*
 * Declared type -> logical type, the one table of the SQLite driver
 * (docs/sqlite.md). Explicit names first, then SQLite's own affinity rules
 * (datatype3.html 3.1), so that an unknown name maps the way SQLite stores
 * it: "POINT" contains "INT" and is int64, as SQLite would store it.
 */
#include "sqlite_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DECL_MAX 128

struct explicit_name {
	const char *name;
	int type;
};

/* Names whose meaning the affinity rules would lose. The *_TEXT names are
 * the ones create_table writes to get TEXT affinity for these types. */
static const struct explicit_name explicit_names[] = {
	{"BOOLEAN", BARGE_T_BOOL},
	{"BOOL", BARGE_T_BOOL},
	{"DATE", BARGE_T_DATE},
	{"DATETIME", BARGE_T_TIMESTAMP},
	{"TIMESTAMP", BARGE_T_TIMESTAMP},
	{"TIMESTAMP WITHOUT TIME ZONE", BARGE_T_TIMESTAMP},
	{"TIMESTAMPTZ", BARGE_T_TIMESTAMPTZ},
	{"TIMESTAMP WITH TIME ZONE", BARGE_T_TIMESTAMPTZ},
	{"TIME", BARGE_T_TIME},
	{"TIME WITHOUT TIME ZONE", BARGE_T_TIME},
	{"NUMERIC", BARGE_T_DECIMAL},
	{"DECIMAL", BARGE_T_DECIMAL},
	{"DECIMAL_TEXT", BARGE_T_DECIMAL},
	{"UUID", BARGE_T_UUID},
	{"UUID_TEXT", BARGE_T_UUID},
	{"JSON", BARGE_T_JSON},
	{"JSONB", BARGE_T_JSON},
	{"JSON_TEXT", BARGE_T_JSON},
	{"REAL", BARGE_T_FLOAT64},
	{"DOUBLE", BARGE_T_FLOAT64},
	{"DOUBLE PRECISION", BARGE_T_FLOAT64},
	{"FLOAT", BARGE_T_FLOAT64},
	{"BLOB", BARGE_T_BYTES},
};

/* Upper-case `decl` into `out` with runs of blanks made one space. */
static void normalize(const char *decl, char *out, size_t n)
{
	size_t o = 0;
	int space = 0;
	for (const char *p = decl; *p && o + 1 < n; p++) {
		if (isspace((unsigned char)*p)) {
			space = o > 0;
			continue;
		}
		if (space && o + 2 < n && *p != '(')
			out[o++] = ' ';
		space = 0;
		out[o++] = (char)toupper((unsigned char)*p);
	}
	out[o] = '\0';
}

enum sq_affinity sq_affinity_of(const char *decl)
{
	char u[DECL_MAX];
	if (!decl || !*decl)
		return SQ_AFF_BLOB;
	normalize(decl, u, sizeof u);
	if (strstr(u, "INT"))
		return SQ_AFF_INTEGER;
	if (strstr(u, "CHAR") || strstr(u, "CLOB") || strstr(u, "TEXT"))
		return SQ_AFF_TEXT;
	if (strstr(u, "BLOB") || !u[0])
		return SQ_AFF_BLOB;
	if (strstr(u, "REAL") || strstr(u, "FLOA") || strstr(u, "DOUB"))
		return SQ_AFF_REAL;
	return SQ_AFF_NUMERIC;
}

void sq_map_type(const char *decl, int *type, int *precision, int *scale)
{
	char u[DECL_MAX];
	char *paren;
	long a = -1, b = -1;

	*precision = 0;
	*scale = -1;
	if (!decl || !*decl) {
		*type = BARGE_T_ANY;
		return;
	}
	normalize(decl, u, sizeof u);
	if ((paren = strchr(u, '('))) {
		char *end;
		a = strtol(paren + 1, &end, 10);
		if (end == paren + 1)
			a = -1;
		while (*end == ' ')
			end++;
		if (a >= 0 && *end == ',')
			b = strtol(end + 1, NULL, 10);
		*paren = '\0';
		size_t len = strlen(u);
		while (len && u[len - 1] == ' ')
			u[--len] = '\0';
	}
	*type = -1;
	for (size_t i = 0; i < sizeof explicit_names / sizeof *explicit_names; i++)
		if (strcmp(u, explicit_names[i].name) == 0)
			*type = explicit_names[i].type;
	if (*type < 0) {
		switch (sq_affinity_of(decl)) {
		case SQ_AFF_INTEGER: *type = BARGE_T_INT64; break;
		case SQ_AFF_TEXT: *type = BARGE_T_TEXT; break;
		case SQ_AFF_BLOB: *type = BARGE_T_BYTES; break;
		case SQ_AFF_REAL: *type = BARGE_T_FLOAT64; break;
		default: *type = BARGE_T_ANY; break;
		}
	}
	if (*type == BARGE_T_DECIMAL) {
		*precision = a > 0 && a < 100000 ? (int)a : 0;
		*scale = b >= 0 && b < 100000 ? (int)b : (a > 0 ? 0 : -1);
	} else if (*type == BARGE_T_TEXT && a > 0 && a < 1000000000) {
		*precision = (int)a;
	}
}

int sq_create_type(struct barge_buf *b, const struct barge_column_def *c)
{
	/* another engine's declaration SQLite cannot parse (MySQL's
	 * enum('a','b'), bigint(20) unsigned) gets barge's choice */
	const char *close = c->engine_type ? strchr(c->engine_type, ')') : NULL;
	if (c->engine_type && !strpbrk(c->engine_type, "'\"") &&
	    (!close || !close[1])) {
		int t, p, s;
		sq_map_type(c->engine_type, &t, &p, &s);
		if (t == c->type)
			return barge_buf_adds(b, c->engine_type);
	}
	switch (c->type) {
	case BARGE_T_BOOL: return barge_buf_adds(b, "BOOLEAN");
	case BARGE_T_INT64: return barge_buf_adds(b, "INTEGER");
	case BARGE_T_FLOAT64: return barge_buf_adds(b, "REAL");
	case BARGE_T_DECIMAL:
		/* NUMERIC affinity would turn '1.50' into 1.5 and round long
		 * decimals to a double: keep the text. */
		if (c->precision > 0 && c->scale >= 0)
			return barge_buf_printf(b, "DECIMAL_TEXT(%d,%d)",
						c->precision, c->scale);
		if (c->precision > 0)
			return barge_buf_printf(b, "DECIMAL_TEXT(%d)", c->precision);
		return barge_buf_adds(b, "DECIMAL_TEXT");
	case BARGE_T_TEXT:
		if (c->precision > 0)
			return barge_buf_printf(b, "VARCHAR(%d)", c->precision);
		return barge_buf_adds(b, "TEXT");
	case BARGE_T_BYTES: return barge_buf_adds(b, "BLOB");
	case BARGE_T_DATE: return barge_buf_adds(b, "DATE");
	case BARGE_T_TIME: return barge_buf_adds(b, "TIME");
	case BARGE_T_TIMESTAMP: return barge_buf_adds(b, "TIMESTAMP");
	/* Not "TIMESTAMPTZ": it contains INT, which gives INTEGER affinity. */
	case BARGE_T_TIMESTAMPTZ:
		return barge_buf_adds(b, "TIMESTAMP WITH TIME ZONE");
	case BARGE_T_UUID: return barge_buf_adds(b, "UUID_TEXT");
	case BARGE_T_JSON: return barge_buf_adds(b, "JSON_TEXT");
	case BARGE_T_ANY: return 0; /* no declared type: values keep their class */
	default:
		return barge_error_set(BARGE_EUSAGE,
				       "column %s has no type SQLite can hold",
				       c->name);
	}
}

static const struct barge_typemap sqlite_typemap[] = {
	{"INTEGER, INT, BIGINT, SMALLINT, TINYINT, any name containing INT",
	 BARGE_T_INT64, "INTEGER values only"},
	{"REAL, DOUBLE, DOUBLE PRECISION, FLOAT, names with REAL/FLOA/DOUB",
	 BARGE_T_FLOAT64, "REAL bits kept; INTEGER if exactly representable"},
	{"TEXT, CHAR, VARCHAR(n), NCHAR, CLOB, names with CHAR/CLOB/TEXT",
	 BARGE_T_TEXT, "bytes exactly; VARCHAR(n) keeps n"},
	{"BLOB", BARGE_T_BYTES, "empty blob distinct from NULL"},
	{"(no declared type)", BARGE_T_ANY,
	 "each value keeps its storage class"},
	{"BOOLEAN, BOOL", BARGE_T_BOOL, "INTEGER 0/1"},
	{"DATE", BARGE_T_DATE, "TEXT 'YYYY-MM-DD'"},
	{"TIME", BARGE_T_TIME, "TEXT 'HH:MM:SS[.ffffff]'"},
	{"DATETIME, TIMESTAMP", BARGE_T_TIMESTAMP,
	 "TEXT 'YYYY-MM-DD HH:MM:SS[.ffffff]' (T accepted)"},
	{"TIMESTAMPTZ, TIMESTAMP WITH TIME ZONE", BARGE_T_TIMESTAMPTZ,
	 "TEXT with Z/+HH:MM offset, converted to UTC"},
	{"NUMERIC, DECIMAL(p,s), DECIMAL_TEXT(p,s)", BARGE_T_DECIMAL,
	 "INTEGER, REAL (shortest exact text) or decimal TEXT"},
	{"UUID, UUID_TEXT", BARGE_T_UUID, "36-char TEXT or 16-byte BLOB"},
	{"JSON, JSONB, JSON_TEXT", BARGE_T_JSON, "TEXT as written"},
	{"any other name", BARGE_T_ANY, "NUMERIC affinity: values keep their class"},
};

const struct barge_typemap *sq_typemap(size_t *n)
{
	*n = sizeof sqlite_typemap / sizeof *sqlite_typemap;
	return sqlite_typemap;
}
