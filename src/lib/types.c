/*
 * Logical types: names, storage classes and barge's binary order.
 */
#include "barge/barge.h"

#include <string.h>

static const char *const type_names[BARGE_T__COUNT] = {
	[BARGE_T_NULL] = "null",
	[BARGE_T_BOOL] = "bool",
	[BARGE_T_INT64] = "int64",
	[BARGE_T_FLOAT64] = "float64",
	[BARGE_T_DECIMAL] = "decimal",
	[BARGE_T_TEXT] = "text",
	[BARGE_T_BYTES] = "bytes",
	[BARGE_T_DATE] = "date",
	[BARGE_T_TIME] = "time",
	[BARGE_T_TIMESTAMP] = "timestamp",
	[BARGE_T_TIMESTAMPTZ] = "timestamptz",
	[BARGE_T_UUID] = "uuid",
	[BARGE_T_JSON] = "json",
	[BARGE_T_ANY] = "any",
};

const char *barge_type_name(enum barge_type t)
{
	if ((int)t < 0 || t >= BARGE_T__COUNT)
		return "?";
	return type_names[t];
}

int barge_type_parse(enum barge_type *out, const char *name)
{
	for (int t = BARGE_T_BOOL; t < BARGE_T__COUNT; t++) {
		if (strcmp(name, type_names[t]) == 0) {
			*out = (enum barge_type)t;
			return 0;
		}
	}
	return barge_error_set(BARGE_EUSAGE, "unknown type '%s'", name);
}

int barge_type_is_varlen(enum barge_type t)
{
	switch (t) {
	case BARGE_T_DECIMAL:
	case BARGE_T_TEXT:
	case BARGE_T_BYTES:
	case BARGE_T_UUID:
	case BARGE_T_JSON:
	case BARGE_T_ANY:
		return 1;
	default:
		return 0;
	}
}

int barge_type_is_fixed(enum barge_type t)
{
	switch (t) {
	case BARGE_T_BOOL:
	case BARGE_T_INT64:
	case BARGE_T_DATE:
	case BARGE_T_TIME:
	case BARGE_T_TIMESTAMP:
	case BARGE_T_TIMESTAMPTZ:
	case BARGE_T_FLOAT64:
	case BARGE_T_ANY:
		return 1;
	default:
		return 0;
	}
}

static int cmp_bytes(const char *a, size_t an, const char *b, size_t bn)
{
	size_t n = an < bn ? an : bn;
	int c = n ? memcmp(a, b, n) : 0;
	if (c)
		return c < 0 ? -1 : 1;
	return an < bn ? -1 : an > bn;
}

/*
 * NULLs first; then by type class where the types differ (an ANY column
 * orders INTEGER/REAL < TEXT < BLOB, like SQLite); within a type, numbers
 * by value and bytes by memcmp (binary collation).
 */
int barge_value_cmp(const struct barge_value *a, const struct barge_value *b)
{
	if (a->null || b->null)
		return b->null - a->null;
	int anum = a->type == BARGE_T_INT64 || a->type == BARGE_T_FLOAT64;
	int bnum = b->type == BARGE_T_INT64 || b->type == BARGE_T_FLOAT64;
	if (anum && bnum) {
		if (a->type == BARGE_T_INT64 && b->type == BARGE_T_INT64)
			return a->i < b->i ? -1 : a->i > b->i;
		double x = a->type == BARGE_T_INT64 ? (double)a->i : a->f;
		double y = b->type == BARGE_T_INT64 ? (double)b->i : b->f;
		return x < y ? -1 : x > y;
	}
	if (a->type != b->type) {
		if (anum != bnum)
			return anum ? -1 : 1;
		return a->type < b->type ? -1 : 1;
	}
	if (barge_type_is_varlen(a->type))
		return cmp_bytes(a->p, a->n, b->p, b->n);
	return a->i < b->i ? -1 : a->i > b->i;
}
