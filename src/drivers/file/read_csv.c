/*
 * Reading CSV records (RFC 4180 and its dialects, docs/files.md "Reading
 * files"): the delimiter, the quote, an escape that is the quote doubled
 * or a backslash, records ending in LF, CRLF or a lone CR. A quoted field
 * may hold delimiters and line breaks. A malformed record is still taken
 * whole, so that where records begin never depends on the bad bytes in
 * one: text after a closing quote marks it (rec->why)
 * and the reader rejects it. An unterminated quote runs to the end of the
 * file: that record is rejected. A NUL byte is data (SQLite's text may
 * hold one, and barge's CSV writes it as it is); a target that cannot
 * store it (PostgreSQL) fails the chunk naming the column. The same parser finds the chunks' byte
 * boundaries (source.c), so a boundary is always a record's start.
 */
#include "file_int.h"

#include <stdlib.h>
#include <string.h>

void file_rec_init(struct file_rec *r)
{
	memset(r, 0, sizeof *r);
	barge_buf_init(&r->data, FILE_RECORD_MAX + 16);
}

void file_rec_dispose(struct file_rec *r)
{
	free(r->f);
	barge_buf_dispose(&r->data);
	memset(r, 0, sizeof *r);
}

static struct file_field *field_add(struct file_rec *r)
{
	if (r->nf == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;
		struct file_field *f = realloc(r->f, cap * sizeof *f);
		if (!f)
			return NULL;
		r->f = f;
		r->cap = cap;
	}
	struct file_field *f = &r->f[r->nf++];
	memset(f, 0, sizeof *f);
	f->off = r->data.len;
	return f;
}

int file_csv_parse(const struct file_opts *o, const char *p, size_t n, int eof,
		   struct file_rec *r, size_t *used)
{
	const char d = o->delimiter, q = o->quote, e = o->escape ? o->escape : q;
	size_t i = 0;
	struct file_field *f;

	r->nf = 0;
	r->nl = 0;
	r->why = NULL;
	barge_buf_clear(&r->data);
	*used = 0;
	if (n == 0)
		return 0;
	for (;;) {
		if (!(f = field_add(r)))
			return barge_error_set(BARGE_ENOMEM, "out of memory");
		f->kind = FF_BARE;
		if (i < n && p[i] == q) { /* a quoted field */
			f->kind = FF_STR;
			i++;
			for (;;) {
				size_t run = i;
				while (i < n && p[i] != q && p[i] != e)
					i++;
				barge_buf_add(&r->data, p + run, i - run);
				if (i >= n) {
					if (!eof)
						return 0;
					r->why = "an unterminated quote";
					f->len = r->data.len - f->off;
					*used = n;
					return 1;
				}
				if (p[i] == e && e != q) { /* backslash escape */
					if (i + 1 >= n && !eof)
						return 0;
					if (i + 1 < n)
						barge_buf_add(&r->data, p + i + 1, 1);
					i += 2;
					continue;
				}
				/* the quote: doubled, or the end of the field */
				if (i + 1 >= n && !eof)
					return 0;
				if (i + 1 < n && p[i + 1] == q && e == q) {
					barge_buf_add(&r->data, &q, 1);
					i += 2;
					continue;
				}
				i++;
				break;
			}
			for (size_t k = f->off; k < r->data.len; k++)
				r->nl += r->data.p[k] == '\n';
			/* after the closing quote: a delimiter or the record's end */
			size_t run = i;
			while (i < n && p[i] != d && p[i] != '\n' && p[i] != '\r')
				i++;
			if (i > run) {
				r->why = "text after a closing quote";
				barge_buf_add(&r->data, p + run, i - run);
			}
		} else {
			size_t run = i;
			while (i < n && p[i] != d && p[i] != '\n' && p[i] != '\r')
				i++;
			barge_buf_add(&r->data, p + run, i - run);
		}
		if (r->data.err)
			return barge_error_set(r->data.err, "a CSV record too large");
		f->len = r->data.len - f->off;
		if (i >= n) {
			if (!eof)
				return 0;
			*used = n;
			return 1;
		}
		if (p[i] == d) {
			i++;
			continue;
		}
		/* the record's end: LF, CRLF or CR */
		if (p[i] == '\r') {
			if (i + 1 >= n && !eof)
				return 0;
			if (i + 1 < n && p[i + 1] == '\n')
				i++;
		}
		*used = i + 1;
		return 1;
	}
}
