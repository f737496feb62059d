/*
 * Key tuples: chunk bounds. They own their bytes and serialize to a small
 * JSON array for the state store:
 *   numbers for int64-slot types, %.17g for floats, strings for text that
 *   is plain printable UTF-8, {"x":"hex"} for any other text and
 *   {"b":"hex"} for bytes and uuids, null for NULL.
 */
#include "barge/barge.h"
#include "util.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int barge_key_new(struct barge_key **out, size_t n,
		  const struct barge_value *vals)
{
	struct barge_key *k = calloc(1, sizeof *k);
	size_t total = 0;

	*out = NULL;
	if (!k)
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++)
		if (!vals[i].null && barge_type_is_varlen(vals[i].type))
			total += vals[i].n;
	k->n = n;
	k->v = calloc(n ? n : 1, sizeof *k->v);
	k->buf = malloc(total ? total : 1);
	if (!k->v || !k->buf) {
		barge_key_free(k);
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	}
	size_t off = 0;
	for (size_t i = 0; i < n; i++) {
		k->v[i] = vals[i];
		if (!vals[i].null && barge_type_is_varlen(vals[i].type)) {
			if (vals[i].n)
				memcpy(k->buf + off, vals[i].p, vals[i].n);
			k->v[i].p = k->buf + off;
			off += vals[i].n;
		}
	}
	*out = k;
	return 0;
}

void barge_key_free(struct barge_key *k)
{
	if (!k)
		return;
	free(k->v);
	free(k->buf);
	free(k);
}

int barge_key_cmp(const struct barge_key *a, const struct barge_key *b)
{
	size_t n = a->n < b->n ? a->n : b->n;
	for (size_t i = 0; i < n; i++) {
		int c = barge_value_cmp(&a->v[i], &b->v[i]);
		if (c)
			return c;
	}
	return a->n < b->n ? -1 : a->n > b->n;
}

static int plain_text(const char *p, size_t n)
{
	if (!barge_utf8_valid(p, n))
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] < 0x20 || p[i] == '"' || p[i] == '\\' ||
		    p[i] == 0x7f)
			return 0;
	return 1;
}

static int put_hex(struct barge_buf *s, const char *tag, const char *p, size_t n)
{
	barge_buf_printf(s, "{\"%s\":\"", tag);
	for (size_t i = 0; i < n; i++) {
		char h[2];
		barge_hex_encode(h, p + i, 1);
		barge_buf_add(s, h, 2);
	}
	return barge_buf_add(s, "\"}", 2);
}

int barge_key_to_json(char **out, const struct barge_key *k)
{
	struct barge_buf s;
	barge_buf_init(&s, 1 << 20);
	barge_buf_add(&s, "[", 1);
	for (size_t i = 0; i < k->n; i++) {
		const struct barge_value *v = &k->v[i];
		if (i)
			barge_buf_add(&s, ",", 1);
		if (v->null)
			barge_buf_add(&s, "null", 4);
		else if (v->type == BARGE_T_FLOAT64)
			barge_buf_printf(&s, "%.17g", v->f);
		else if (v->type == BARGE_T_BYTES || v->type == BARGE_T_UUID)
			put_hex(&s, "b", v->p, v->n);
		else if (barge_type_is_varlen(v->type)) {
			if (plain_text(v->p, v->n)) {
				barge_buf_add(&s, "\"", 1);
				barge_buf_add(&s, v->p, v->n);
				barge_buf_add(&s, "\"", 1);
			} else {
				put_hex(&s, "x", v->p, v->n);
			}
		} else
			barge_buf_printf(&s, "%lld", (long long)v->i);
	}
	barge_buf_add(&s, "]", 1);
	return barge_buf_detach(&s, out);
}

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

int barge_key_from_json(struct barge_key **out, const char *json, size_t n,
			const int *types)
{
	struct barge_value *vals = calloc(n ? n : 1, sizeof *vals);
	char *scratch = malloc(strlen(json) + 1);
	char *w = scratch;
	const char *p = skip_ws(json);
	int err = 0;

	*out = NULL;
	if (!vals || !scratch) {
		err = barge_error_set(BARGE_ENOMEM, "out of memory");
		goto out;
	}
	if (*p++ != '[')
		goto bad;
	for (size_t i = 0; i < n; i++) {
		struct barge_value *v = &vals[i];
		p = skip_ws(p);
		if (i) {
			if (*p++ != ',')
				goto bad;
			p = skip_ws(p);
		}
		v->type = types[i];
		if (strncmp(p, "null", 4) == 0) {
			v->null = 1;
			p += 4;
		} else if (*p == '"') {
			const char *e = strchr(p + 1, '"');
			if (!e)
				goto bad;
			v->p = w;
			v->n = (size_t)(e - p - 1);
			memcpy(w, p + 1, v->n);
			w += v->n;
			if (v->type == BARGE_T_ANY)
				v->type = BARGE_T_TEXT;
			p = e + 1;
		} else if (*p == '{') {
			char tag = p[2];
			if (p[1] != '"' || (tag != 'x' && tag != 'b') ||
			    strncmp(p + 3, "\":\"", 3) != 0)
				goto bad;
			p += 6;
			v->p = w;
			while (*p != '"') {
				int hi = barge_hex_digit(p[0]),
				    lo = hi < 0 ? -1 : barge_hex_digit(p[1]);
				if (lo < 0)
					goto bad;
				*w++ = (char)(hi << 4 | lo);
				p += 2;
			}
			v->n = (size_t)(w - v->p);
			if (p[1] != '}')
				goto bad;
			p += 2;
			if (v->type == BARGE_T_ANY)
				v->type = tag == 'b' ? BARGE_T_BYTES : BARGE_T_TEXT;
		} else {
			char *e;
			const char *s = p;
			int isfloat = 0;
			while (*p && strchr("+-0123456789.eEinfatyIN", *p)) {
				if (strchr(".eEinfatyIN", *p))
					isfloat = 1;
				p++;
			}
			if (p == s)
				goto bad;
			if (v->type == BARGE_T_FLOAT64 ||
			    (v->type == BARGE_T_ANY && isfloat)) {
				v->type = BARGE_T_FLOAT64;
				v->f = strtod(s, &e);
			} else {
				if (v->type == BARGE_T_ANY)
					v->type = BARGE_T_INT64;
				errno = 0;
				v->i = strtoll(s, &e, 10);
				if (errno)
					goto bad;
			}
			if (e != p)
				goto bad;
		}
	}
	p = skip_ws(p);
	if (*p != ']')
		goto bad;
	err = barge_key_new(out, n, vals);
	goto out;
bad:
	err = barge_error_set(BARGE_EDATA, "malformed key '%s' in the state store",
			      json);
out:
	free(vals);
	free(scratch);
	return err;
}
