/*
 * Fields to values, and schemas inferred from a sample (docs/files.md,
 * "Reading files"). A field's text is cast to its column's type exactly
 * as the plan's casts do (xvalue.c): numbers as their digits, never
 * through a double. An unquoted empty CSV field (or the NULL spelling)
 * is NULL, a quoted one the empty string. Without a schema, the first
 * `sample` records give each column the narrowest type that holds every
 * value seen: int64, then decimal, then float64 (a value with an
 * exponent, NaN or Infinity), bool, date, timestamp (no offset),
 * timestamptz (an offset), uuid, json (JSON Lines objects and arrays),
 * else text; a column with only NULLs is text.
 */
#include "file_int.h"
#include "civil.h"
#include "transform.h"

#include <stdlib.h>
#include <string.h>

/* ---- fields to values --------------------------------------------------------------- */

static int b64_digit(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '+' ? 62 : c == '/' ? 63 : -1;
}

static int b64_decode(struct barge_buf *out, const char *p, size_t n)
{
	uint32_t acc = 0;
	int bits = 0;
	while (n && p[n - 1] == '=')
		n--;
	for (size_t i = 0; i < n; i++) {
		int d = b64_digit((unsigned char)p[i]);
		if (d < 0)
			return BARGE_EDATA;
		acc = acc << 6 | (uint32_t)d;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			char c = (char)(acc >> bits & 0xff);
			barge_buf_add(out, &c, 1);
		}
	}
	return 0;
}

static int hex_decode(struct barge_buf *out, const char *p, size_t n)
{
	if (n % 2)
		return BARGE_EDATA;
	for (size_t i = 0; i < n; i += 2) {
		int a = barge_hex_digit((unsigned char)p[i]);
		int b = barge_hex_digit((unsigned char)p[i + 1]);
		if (a < 0 || b < 0)
			return BARGE_EDATA;
		char c = (char)(a << 4 | b);
		barge_buf_add(out, &c, 1);
	}
	return 0;
}

int file_field_value(struct barge_value *v, struct barge_buf *scratch,
		     const struct file_opts *o, const struct barge_column_def *cd,
		     const char *p, size_t n, int kind, const char **why)
{
	int jsonl = o->format == &file_jsonl_format;
	size_t nl = strlen(o->null_text);

	memset(v, 0, sizeof *v);
	v->type = cd->type;
	*why = NULL;
	if (kind == FF_NULL ||
	    (!jsonl && kind == FF_BARE && n == nl && memcmp(p, o->null_text, n) == 0)) {
		v->null = 1;
		return 0;
	}
	if (o->encoding != FILE_ENC_UTF8) {
		size_t at = scratch->len;
		if (barge_recode_utf8(scratch, p, n, o->encoding == FILE_ENC_CP1252 ? 2 : 1) < 0) {
			*why = "a byte cp1252 does not define";
			return BARGE_EDATA;
		}
		p = scratch->p + at;
		n = scratch->len - at;
	}
	if (cd->type == BARGE_T_BYTES) {
		size_t at = scratch->len;
		int err;
		if (!jsonl && n >= 2 && p[0] == '\\' && p[1] == 'x')
			err = hex_decode(scratch, p + 2, n - 2);
		else if (jsonl || o->bytes == FILE_BYTES_BASE64)
			err = b64_decode(scratch, p, n);
		else
			err = BARGE_EDATA;
		if (err < 0) {
			*why = "not \\x-hex or base64 bytes";
			return BARGE_EDATA;
		}
		v->p = scratch->p + at;
		v->n = scratch->len - at;
		return 0;
	}
	if (cd->type == BARGE_T_JSON && jsonl && kind == FF_STR) {
		/* a JSON string value: keep it a JSON string */
		size_t at = scratch->len;
		barge_buf_json_str(scratch, p, n);
		p = scratch->p + at;
		n = scratch->len - at;
	}
	if (cd->type == BARGE_T_DECIMAL &&
	    ((n == 3 && memcmp(p, "NaN", 3) == 0) ||
	     (n == 8 && memcmp(p, "Infinity", 8) == 0) ||
	     (n == 9 && memcmp(p, "-Infinity", 9) == 0))) {
		v->p = p; /* as PostgreSQL's numeric writes them */
		v->n = n;
		return 0;
	}
	/* the file holds what its source held: a declared precision or
	 * scale is the target's to enforce, not the reader's */
	return barge_cast_text(v, scratch, p, n, cd->type, 0, -1, why);
}

/* ---- inference ------------------------------------------------------------------------ */

static const int order[] = {
	BARGE_T_INT64, BARGE_T_DECIMAL, BARGE_T_FLOAT64, BARGE_T_BOOL,
	BARGE_T_DATE, BARGE_T_TIMESTAMP, BARGE_T_TIMESTAMPTZ, BARGE_T_UUID,
	BARGE_T_JSON,
};
#define NORDER (sizeof order / sizeof order[0])

struct guess {
	char *name;
	unsigned mask; /* bit i: order[i] still holds every value */
	int seen;      /* a value that is not NULL */
};

/* Which of the candidate types hold this value. */
static unsigned fits(struct barge_buf *scratch, const char *p, size_t n, int kind)
{
	unsigned m = 0;
	for (size_t i = 0; i < NORDER; i++) {
		struct barge_value v;
		const char *why;
		int64_t x;
		int t = order[i];
		barge_buf_clear(scratch);
		if (t == BARGE_T_JSON)
			m |= kind == FF_RAW ? 1u << i : 0;
		else if (kind == FF_RAW)
			continue;
		else if (t == BARGE_T_TIMESTAMP)
			m |= barge_iso_temporal(&x, t, p, n, BARGE_ISO_NAIVE) == 0 &&
			     n > 10 ? 1u << i : 0;
		else if (t == BARGE_T_TIMESTAMPTZ)
			m |= barge_iso_temporal(&x, t, p, n, 0) == 0 && n > 10 ? 1u << i : 0;
		else if (t == BARGE_T_BOOL)
			m |= (n == 4 || n == 5) &&
			     barge_cast_text(&v, scratch, p, n, t, 0, -1, &why) == 0 ? 1u << i : 0;
		else
			m |= barge_cast_text(&v, scratch, p, n, t, 0, -1, &why) == 0 ? 1u << i : 0;
	}
	return m;
}

static struct guess *guess_col(struct guess **g, size_t *ng, const char *name,
			       size_t len)
{
	for (size_t i = 0; i < *ng; i++)
		if (strlen((*g)[i].name) == len && memcmp((*g)[i].name, name, len) == 0)
			return &(*g)[i];
	struct guess *v = realloc(*g, (*ng + 1) * sizeof *v);
	if (!v)
		return NULL;
	*g = v;
	struct guess *x = &v[(*ng)++];
	x->mask = ~0u;
	x->seen = 0;
	if (!(x->name = strndup(name, len)))
		return NULL;
	return x;
}

static void guess_value(struct guess *x, struct barge_buf *scratch,
			const struct file_opts *o, const char *p, size_t n, int kind)
{
	struct barge_buf rec;
	size_t nl = strlen(o->null_text);
	if (kind == FF_NULL || (o->format != &file_jsonl_format && kind == FF_BARE &&
				n == nl && memcmp(p, o->null_text, n) == 0))
		return;
	barge_buf_init(&rec, FILE_RECORD_MAX * 2);
	if (o->encoding != FILE_ENC_UTF8 &&
	    barge_recode_utf8(&rec, p, n, o->encoding == FILE_ENC_CP1252 ? 2 : 1) == 0) {
		p = rec.p ? rec.p : "";
		n = rec.len;
	}
	x->seen = 1;
	x->mask &= fits(scratch, p, n, kind);
	barge_buf_dispose(&rec);
}

/* The guesses become the table's columns. */
static int guess_cols(struct barge_table_def *t, struct guess *g, size_t ng)
{
	if (!(t->cols = calloc(ng ? ng : 1, sizeof *t->cols)))
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	for (size_t i = 0; i < ng; i++) {
		struct barge_column_def *cd = &t->cols[i];
		int type = BARGE_T_TEXT;
		for (size_t k = 0; g[i].seen && k < NORDER; k++)
			if (g[i].mask & 1u << k) {
				type = order[k];
				break;
			}
		cd->name = g[i].name;
		g[i].name = NULL;
		cd->type = type;
		cd->scale = -1;
		if (!(cd->engine_type = strdup(barge_type_name(type))))
			return barge_error_set(BARGE_ENOMEM, "out of memory");
		t->ncols++;
	}
	return 0;
}

int file_infer(struct barge_table_def *t, const struct file_opts *o,
	       char *const *paths, size_t npaths, int64_t *sampled)
{
	struct guess *g = NULL;
	size_t ng = 0;
	struct barge_buf scratch;
	struct file_rec r;
	int jsonl = o->format == &file_jsonl_format, err = 0;
	int64_t want = o->sample > 0 ? o->sample : 1000;

	*sampled = 0;
	barge_buf_init(&scratch, FILE_RECORD_MAX * 2);
	file_rec_init(&r);
	for (size_t f = 0; err == 0 && f < npaths && *sampled < want; f++) {
		struct file_in in;
		int header = !jsonl && o->header;
		if ((err = file_in_open(&in, paths[f], 0)) < 0)
			break;
		while (err == 0 && *sampled < want) {
			uint64_t start;
			const char *raw;
			size_t rawn;
			int got = file_in_record(&in, o, jsonl, &r, &start, &raw, &rawn);
			if (got <= 0) {
				err = got;
				break;
			}
			if (r.why || r.nf == 0)
				continue; /* malformed: its reject comes when it is read */
			if (!jsonl && ng == 0) { /* the names: the header's, or column1.. */
				for (size_t k = 0; k < r.nf && err == 0; k++) {
					char nm[32];
					const char *s = r.data.p + r.f[k].off;
					size_t len = r.f[k].len;
					if (!header) {
						snprintf(nm, sizeof nm, "column%zu", k + 1);
						s = nm;
						len = strlen(nm);
					}
					if (!guess_col(&g, &ng, s, len))
						err = barge_error_set(BARGE_ENOMEM, "out of memory");
				}
			}
			if (header) {
				header = 0;
				continue;
			}
			for (size_t k = 0; k < r.nf && err == 0; k++) {
				const struct file_field *fl = &r.f[k];
				struct guess *x = jsonl ? guess_col(&g, &ng, r.data.p + fl->koff,
								    fl->klen)
							: k < ng ? &g[k] : NULL;
				if (jsonl && !x)
					err = barge_error_set(BARGE_ENOMEM, "out of memory");
				else if (x)
					guess_value(x, &scratch, o, r.data.p + fl->off, fl->len,
						    fl->kind);
			}
			(*sampled)++;
		}
		file_in_close(&in);
	}
	if (err == 0 && ng == 0)
		err = barge_error_set(BARGE_EDATA, "file: %s: no columns (an empty file?)",
				      npaths ? paths[0] : "");
	if (err == 0)
		err = guess_cols(t, g, ng);
	for (size_t i = 0; i < ng; i++)
		free(g[i].name);
	free(g);
	file_rec_dispose(&r);
	barge_buf_dispose(&scratch);
	return err;
}
