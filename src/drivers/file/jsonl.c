/*
 * JSON Lines parts: one object a line, the column names as keys in table
 * order. Numbers are exact: an int64 is written as its digits, a decimal
 * as its exact text (never through a double), a float as the shortest
 * text that reads back to the same double. With exact_strings (the URL's
 * numbers=string) decimals and integers beyond +-2^53 are JSON strings,
 * for readers that hold numbers in doubles. A value JSON has no number
 * for (NaN, Infinity) is a string. Bytes are base64, UUIDs, dates, times
 * and timestamps strings (ISO 8601, +00:00 on a timestamptz). A JSON
 * column is embedded as its canonical text (one line, canon.c); a value
 * of a JSON column that is not JSON is a string.
 */
#include "file_int.h"

#include <stdlib.h>
#include <string.h>

/* The keys, each as a JSON string and a colon: "name": */
struct jsonl_keys {
	struct barge_buf keys;
	size_t *at; /* ncols + 1 offsets into keys */
};

static int jsonl_begin(struct file_enc *e, struct barge_buf *out)
{
	struct jsonl_keys *k = calloc(1, sizeof *k);
	if (!k || !(k->at = calloc(e->t->ncols + 1, sizeof *k->at))) {
		free(k);
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	}
	barge_buf_init(&k->keys, 1u << 20);
	for (size_t i = 0; i < e->t->ncols; i++) {
		k->at[i] = k->keys.len;
		barge_buf_json_str(&k->keys, e->t->cols[i].name, strlen(e->t->cols[i].name));
		barge_buf_add(&k->keys, ":", 1);
	}
	k->at[e->t->ncols] = k->keys.len;
	e->priv = k;
	if (k->keys.err)
		return barge_error_set(k->keys.err, "column names too long");
	return 0;
}

static void jsonl_dispose(struct file_enc *e)
{
	struct jsonl_keys *k = e->priv;
	if (!k)
		return;
	barge_buf_dispose(&k->keys);
	free(k->at);
	free(k);
}

/* A JSON number (RFC 8259): -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static int json_number(const char *p, size_t n)
{
	size_t i = 0, d;
	if (i < n && p[i] == '-')
		i++;
	if (i < n && p[i] == '0')
		i++;
	else {
		for (d = i; i < n && p[i] >= '0' && p[i] <= '9'; i++)
			;
		if (i == d || p[d] == '0')
			return 0;
	}
	if (i < n && p[i] == '.') {
		for (d = ++i; i < n && p[i] >= '0' && p[i] <= '9'; i++)
			;
		if (i == d)
			return 0;
	}
	if (i < n && (p[i] == 'e' || p[i] == 'E')) {
		if (++i < n && (p[i] == '+' || p[i] == '-'))
			i++;
		for (d = i; i < n && p[i] >= '0' && p[i] <= '9'; i++)
			;
		if (i == d)
			return 0;
	}
	return i == n;
}

#define SAFE_INT ((int64_t)1 << 53) /* doubles hold every integer up to it */

static int jsonl_value(struct file_enc *e, const struct barge_value *v,
		       const char *col, struct barge_buf *out)
{
	struct barge_buf *t = &e->tmp;
	int err;

	switch (v->type) {
	case BARGE_T_BOOL:
		return barge_buf_adds(out, v->i ? "true" : "false");
	case BARGE_T_INT64:
		if (e->o->exact_strings && (v->i > SAFE_INT || v->i < -SAFE_INT))
			return barge_buf_printf(out, "\"%lld\"", (long long)v->i);
		return barge_buf_printf(out, "%lld", (long long)v->i);
	case BARGE_T_BYTES:
		barge_buf_add(out, "\"", 1);
		file_base64(out, v->p, v->n);
		return barge_buf_add(out, "\"", 1);
	case BARGE_T_JSON:
		if ((err = barge_canon_json(t, v->p, v->n)) < 0)
			return barge_error_set(err, "column '%s': a JSON value too large", col);
		if (err == 0 && barge_utf8_valid(t->p, t->len))
			return barge_buf_add(out, t->p, t->len);
		break; /* not JSON: a string below */
	default:
		break;
	}
	barge_buf_clear(t);
	if ((err = file_value_text(t, v, FILE_BYTES_BASE64, col)) < 0)
		return err;
	const char *p = t->p ? t->p : "";
	int bare = (v->type == BARGE_T_FLOAT64 || v->type == BARGE_T_DECIMAL) &&
		   json_number(p, t->len) &&
		   !(e->o->exact_strings && v->type == BARGE_T_DECIMAL);
	if (bare)
		return barge_buf_add(out, p, t->len);
	return barge_buf_json_str(out, p, t->len);
}

static int jsonl_row(struct file_enc *e, const struct barge_value *vals,
		     struct barge_buf *out)
{
	const struct jsonl_keys *k = e->priv;
	int err;
	barge_buf_add(out, "{", 1);
	for (size_t i = 0; i < e->t->ncols; i++) {
		if (i)
			barge_buf_add(out, ",", 1);
		barge_buf_add(out, k->keys.p + k->at[i], k->at[i + 1] - k->at[i]);
		if (vals[i].null)
			barge_buf_add(out, "null", 4);
		else if ((err = jsonl_value(e, &vals[i], e->t->cols[i].name, out)) < 0)
			return err;
	}
	return barge_buf_add(out, "}\n", 2);
}

const struct file_format file_jsonl_format = {
	.name = "jsonl",
	.ext = "jsonl",
	.begin = jsonl_begin,
	.row = jsonl_row,
	.dispose = jsonl_dispose,
};
