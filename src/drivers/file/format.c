/*
 * The formats' table and what they share: a part's encoder state and the
 * text of a value (ISO 8601 times, exact floats and decimals, hex and
 * base64 bytes). CSV and JSON Lines write the same texts, so a value
 * reads the same in both.
 */
#include "file_int.h"
#include "transform.h" /* barge_value_text, barge_timestamp_format */

#include <stdlib.h>
#include <string.h>

static const struct file_format *const formats[] = {
	&file_csv_format,
	&file_jsonl_format,
	NULL,
};

const struct file_format *file_format_find(const char *name)
{
	for (size_t i = 0; formats[i]; i++)
		if (strcmp(formats[i]->name, name) == 0)
			return formats[i];
	return NULL;
}

void file_enc_init(struct file_enc *e, const struct file_opts *o,
		   const struct barge_table_def *t)
{
	memset(e, 0, sizeof *e);
	e->o = o;
	e->t = t;
	barge_buf_init(&e->tmp, BARGE_BATCH_HARD_BYTES);
}

void file_enc_dispose(struct file_enc *e)
{
	if (e->o && e->o->format && e->o->format->dispose)
		e->o->format->dispose(e);
	barge_buf_dispose(&e->tmp);
	e->priv = NULL;
}

int file_enc_row(struct file_enc *e, const struct barge_value *vals,
		 struct barge_buf *out)
{
	size_t at = out->len;
	int err = e->o->format->row(e, vals, out);
	if (out->err)
		err = barge_error_set(out->err, "table '%s': a row past the buffer's "
				      "cap", e->t->name);
	if (err < 0) { /* a refused row leaves nothing */
		out->len = at;
		if (out->p)
			out->p[at] = '\0';
	}
	return err;
}

int file_base64(struct barge_buf *out, const void *p, size_t n)
{
	static const char al[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *s = p;
	char q[4];
	size_t i = 0;
	for (; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
		q[0] = al[v >> 18];
		q[1] = al[(v >> 12) & 63];
		q[2] = al[(v >> 6) & 63];
		q[3] = al[v & 63];
		if (barge_buf_add(out, q, 4) < 0)
			return out->err;
	}
	if (i < n) {
		uint32_t v = (uint32_t)s[i] << 16 | (i + 1 < n ? (uint32_t)s[i + 1] << 8 : 0);
		q[0] = al[v >> 18];
		q[1] = al[(v >> 12) & 63];
		q[2] = i + 1 < n ? al[(v >> 6) & 63] : '=';
		q[3] = '=';
		return barge_buf_add(out, q, 4);
	}
	return 0;
}

int file_hex(struct barge_buf *out, const void *p, size_t n)
{
	char h[512];
	const unsigned char *s = p;
	if (barge_buf_adds(out, "\\x") < 0)
		return out->err;
	while (n) {
		size_t k = n < sizeof h / 2 ? n : sizeof h / 2;
		barge_hex_encode(h, s, k);
		if (barge_buf_add(out, h, 2 * k) < 0)
			return out->err;
		s += k;
		n -= k;
	}
	return 0;
}

int file_value_text(struct barge_buf *out, const struct barge_value *v,
		    int bytes, const char *col)
{
	size_t at = out->len;
	int err;

	switch (v->type) {
	case BARGE_T_BYTES:
		return bytes == FILE_BYTES_BASE64 ? file_base64(out, v->p, v->n)
						  : file_hex(out, v->p, v->n);
	case BARGE_T_TIMESTAMP:
	case BARGE_T_TIMESTAMPTZ:
		/* "YYYY-MM-DD HH:MM:SS[.f]": the year always has 4 digits */
		if ((err = barge_timestamp_format(out, v->type, v->i)) == 0 &&
		    out->len > at + 10)
			out->p[at + 10] = 'T';
		break;
	case BARGE_T_TEXT:
	case BARGE_T_JSON:
		/* UTF-8 always: never transcoded, never written broken */
		if (!barge_utf8_valid(v->p, v->n))
			return barge_error_set(BARGE_EDATA, "column '%s': text that is "
					       "not valid UTF-8", col);
		err = barge_buf_add(out, v->p ? v->p : "", v->n);
		break;
	default:
		err = barge_value_text(out, v);
	}
	if (err == BARGE_EDATA && v->type == BARGE_T_UUID)
		return barge_error_set(BARGE_EDATA, "column '%s': a uuid of %zu bytes "
				       "(not 16)", col, v->n);
	if (err == BARGE_EDATA)
		return barge_error_set(BARGE_EDATA, "column '%s': a %s value (%lld) "
				       "outside years 0000-9999 has no ISO 8601 text",
				       col, barge_type_name(v->type), (long long)v->i);
	if (err < 0)
		return barge_error_set(err, "column '%s': a value too large to "
				       "encode", col);
	return 0;
}
