/*
 * CSV parts (RFC 4180, and PostgreSQL's COPY ... CSV conventions, so that
 * `COPY t FROM 'part.csv' CSV HEADER` loads one back): a header line of
 * column names; fields separated by the delimiter and quoted with the
 * quote character when they hold a delimiter, a quote (doubled inside),
 * CR or LF; NULL is its spelling unquoted (an empty field by default) and
 * a text equal to that spelling (so the empty string) is always quoted.
 * Records end in LF. Value texts are format.c's: UTF-8 always, bytes as
 * \x-hex or base64, decimals as their exact text.
 */
#include "file_int.h"

#include <string.h>

/* Append `p` as one field: quoted only when it must be. */
static int csv_field(struct barge_buf *out, const struct file_opts *o,
		     const char *p, size_t n)
{
	size_t nl = strlen(o->null_text);
	int must = n == nl && memcmp(p, o->null_text, n) == 0;
	for (size_t i = 0; i < n && !must; i++)
		must = p[i] == o->delimiter || p[i] == o->quote || p[i] == '\n' ||
		       p[i] == '\r';
	if (!must)
		return barge_buf_add(out, p, n);
	barge_buf_add(out, &o->quote, 1);
	size_t run = 0;
	for (size_t i = 0; i < n; i++)
		if (p[i] == o->quote) {
			barge_buf_add(out, p + run, i + 1 - run);
			barge_buf_add(out, &o->quote, 1); /* doubled */
			run = i + 1;
		}
	barge_buf_add(out, p + run, n - run);
	return barge_buf_add(out, &o->quote, 1);
}

static int csv_begin(struct file_enc *e, struct barge_buf *out)
{
	if (!e->o->header)
		return 0;
	for (size_t i = 0; i < e->t->ncols; i++) {
		const char *name = e->t->cols[i].name;
		if (i)
			barge_buf_add(out, &e->o->delimiter, 1);
		csv_field(out, e->o, name, strlen(name));
	}
	return barge_buf_add(out, "\n", 1);
}

static int csv_row(struct file_enc *e, const struct barge_value *vals,
		   struct barge_buf *out)
{
	int err;
	for (size_t i = 0; i < e->t->ncols; i++) {
		const struct barge_value *v = &vals[i];
		if (i)
			barge_buf_add(out, &e->o->delimiter, 1);
		if (v->null) {
			barge_buf_adds(out, e->o->null_text);
			continue;
		}
		barge_buf_clear(&e->tmp);
		if ((err = file_value_text(&e->tmp, v, e->o->bytes, e->t->cols[i].name)) < 0)
			return err;
		csv_field(out, e->o, e->tmp.p ? e->tmp.p : "", e->tmp.len);
	}
	return barge_buf_add(out, "\n", 1);
}

const struct file_format file_csv_format = {
	.name = "csv",
	.ext = "csv",
	.begin = csv_begin,
	.row = csv_row,
};
