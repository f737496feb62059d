/*
 * Reading a table's files into batches (docs/files.md, "Reading files"):
 * records (read_csv.c, read_jsonl.c) become rows of the table's columns,
 * each field cast to its column's type (file_field_value). A record that
 * is malformed, has the wrong number of fields or a value its column
 * cannot hold is a reject with its file, line and reason, never a failed
 * chunk. A chunk is a range of row addresses (source.c), or a key range
 * (a table with a key, verify): then every record is read and the range
 * filtered here, and rows wanted in key order are sorted in memory.
 */
#include "file_int.h"
#include "transform.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SORT_MAX_ROWS 5000000
#define SORT_BATCH_ROWS 8192

struct sorted {
	struct barge_batch **v;
	size_t n;
	uint32_t (*at)[2]; /* (batch, row) in key order */
	size_t rows, next;
	size_t nk;
	size_t *kpos;      /* key columns' positions in the batches */
	int *types;
	size_t ncols;
};

struct barge_reader {
	struct barge_conn *c;
	const struct file_src *s;
	const struct barge_table_def *t;
	struct barge_read_req req;
	struct file_opts o;
	int jsonl;
	int by_rowid;
	int64_t lo, hi;
	int has_lo, has_hi;
	const struct barge_chunk *ch; /* a key range, filtered here */
	size_t fi;
	int live, done, header;
	struct file_in in;
	struct file_rec rec;
	int64_t line;     /* the next record's line, counted from `from` */
	uint64_t from;    /* where reading this file started */
	size_t *colmap;   /* CSV: the field of each table column */
	int *fld;         /* JSON Lines: the field of each column, -1 none */
	uint8_t *need;    /* the columns decoded */
	struct barge_value *vals;
	struct barge_buf scratch, tmp;
	struct barge_read_reject *rej;
	size_t nrej, caprej;
	int64_t extra_keys;
	struct sorted *sort;
};

/* ---- rejects ---------------------------------------------------------------------- */

/* Lines before `off` in an uncompressed file (for a chunk that starts
 * there), counted only when a reject needs its line. */
static int64_t lines_before(const char *path, uint64_t off)
{
	char buf[65536];
	int64_t n = 0;
	uint64_t at = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	while (at < off) {
		size_t want = off - at < sizeof buf ? (size_t)(off - at) : sizeof buf;
		ssize_t k = pread(fd, buf, want, (off_t)at);
		if (k <= 0)
			break;
		for (const char *p = buf; (p = memchr(p, '\n', (size_t)(buf + k - p))); p++)
			n++;
		at += (uint64_t)k;
	}
	close(fd);
	return n;
}

static int reject(struct barge_reader *r, const char *raw, size_t n,
		  const char *fmt, const char *a, const char *b)
{
	struct barge_buf w, rec;
	char why[512];
	int err;

	if (r->nrej == r->caprej) {
		size_t cap = r->caprej ? r->caprej * 2 : 16;
		struct barge_read_reject *v = realloc(r->rej, cap * sizeof *v);
		if (!v)
			return barge_error_set(BARGE_ENOMEM, "out of memory");
		r->rej = v;
		r->caprej = cap;
	}
	int64_t line = r->line;
	if (r->from > 0) {
		line += lines_before(r->s->paths[r->fi], r->from);
		r->line += line - r->line;
		r->from = 0;
		line = r->line;
	}
	snprintf(why, sizeof why, fmt, a, b);
	barge_buf_init(&w, 8192);
	barge_buf_init(&rec, 8192);
	barge_buf_printf(&w, "%s line %lld", r->s->paths[r->fi], (long long)line);
	if (n > 200)
		n = 200;
	for (size_t i = 0; i < n; i++) { /* printable, whatever the bytes */
		unsigned char ch = (unsigned char)raw[i];
		if (ch < 0x20 || ch >= 0x7f)
			barge_buf_printf(&rec, ch == '\n' ? "\\n" : "\\x%02x", ch);
		else
			barge_buf_add(&rec, raw + i, 1);
	}
	struct barge_read_reject *x = &r->rej[r->nrej];
	memset(x, 0, sizeof *x);
	x->why = strdup(why);
	if ((err = barge_buf_detach(&w, &x->where)) == 0)
		err = barge_buf_detach(&rec, &x->record);
	barge_buf_dispose(&w);
	barge_buf_dispose(&rec);
	if (err == 0 && !x->why)
		err = barge_error_set(BARGE_ENOMEM, "out of memory");
	if (err < 0) {
		free(x->where);
		free(x->record);
		free(x->why);
		return err;
	}
	r->nrej++;
	return 0;
}

int file_read_rejects(struct barge_reader *r, struct barge_read_reject **v,
		      size_t *n)
{
	*v = r->rej;
	*n = r->nrej;
	r->rej = NULL;
	r->nrej = r->caprej = 0;
	return 0;
}

/* ---- opening ------------------------------------------------------------------------ */

int file_read_open(struct barge_reader **out, struct barge_conn *c,
		   const struct barge_read_req *req)
{
	struct barge_reader *r = calloc(1, sizeof *r);
	const struct barge_table_def *t = req->table;
	*out = NULL;
	if (!r)
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	*out = r;
	r->c = c;
	r->t = t;
	r->req = *req;
	if (!(r->s = file_src_of(c, t->name)))
		return BARGE_ENOTFOUND;
	r->o = c->o;
	r->o.format = r->s->fmt;
	r->jsonl = r->s->fmt == &file_jsonl_format;
	barge_buf_init(&r->scratch, FILE_RECORD_MAX * 2);
	barge_buf_init(&r->tmp, FILE_RECORD_MAX * 2);
	file_rec_init(&r->rec);
	r->in.fd = -1;
	if (!(r->vals = calloc(t->ncols + 1, sizeof *r->vals)) ||
	    !(r->need = calloc(t->ncols + 1, 1)) ||
	    !(r->colmap = calloc(t->ncols + 1, sizeof *r->colmap)) ||
	    !(r->fld = calloc(t->ncols + 1, sizeof *r->fld)))
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	for (size_t i = 0; i < t->ncols; i++)
		r->colmap[i] = i;
	for (size_t j = 0; j < req->ncols; j++)
		r->need[req->cols[j]] = 1;
	const struct barge_chunk *ch = req->chunk;
	if (ch && ch->by_rowid) {
		r->by_rowid = 1;
		if ((r->has_lo = ch->lo != NULL))
			r->lo = ch->lo->v[0].i;
		if ((r->has_hi = ch->hi != NULL))
			r->hi = ch->hi->v[0].i + (ch->hi_incl ? 1 : 0);
	} else if (ch && (ch->lo || ch->hi)) {
		r->ch = ch;
	}
	for (size_t k = 0; (r->ch || req->order_by_key) && k < t->nkey; k++)
		r->need[t->key[k]] = 1;
	if (r->has_lo) {
		uint64_t off;
		file_addr_split(r->lo, &r->fi, &off);
	}
	return 0;
}

static int open_file(struct barge_reader *r)
{
	uint64_t off = 0;
	size_t f;
	int err;
	if (r->has_lo) {
		file_addr_split(r->lo, &f, &off);
		if (f != r->fi)
			off = 0;
	}
	int comp;
	if ((err = file_in_sniff(r->s->paths[r->fi], &comp)) < 0)
		return err;
	if (comp != FILE_COMP_NONE)
		off = 0; /* read from its start; earlier records are skipped */
	if ((err = file_in_open(&r->in, r->s->paths[r->fi], off)) < 0)
		return err;
	r->live = 1;
	r->header = !r->jsonl && r->o.header && off == 0;
	r->from = off;
	r->line = 1;
	return 0;
}

/* The header's names give each column its field (a CSV without a
 * header: by position). A column the header lacks fails the chunk. */
static int header_map(struct barge_reader *r)
{
	const struct file_rec *h = &r->rec;
	for (size_t i = 0; i < r->t->ncols; i++) {
		const char *name = r->t->cols[i].name;
		size_t k;
		for (k = 0; k < h->nf; k++)
			if (h->f[k].len == strlen(name) &&
			    memcmp(h->data.p + h->f[k].off, name, h->f[k].len) == 0)
				break;
		if (k == h->nf)
			return barge_error_set(BARGE_EDATA, "file: %s: the header has no "
					       "column '%s'", r->s->paths[r->fi], name);
		r->colmap[i] = k;
	}
	return 0;
}

/* ---- records to rows ------------------------------------------------------------ */

static int in_range(const struct barge_reader *r)
{
	const struct barge_chunk *ch = r->ch;
	const struct barge_table_def *t = r->t;
	for (int side = 0; side < 2; side++) {
		const struct barge_key *k = side ? ch->hi : ch->lo;
		if (!k)
			continue;
		int c = 0;
		for (size_t i = 0; i < t->nkey && c == 0; i++)
			c = barge_value_cmp(&r->vals[t->key[i]], &k->v[i]);
		if (side == 0 && c < 0)
			return 0;
		if (side == 1 && (c > 0 || (c == 0 && !ch->hi_incl)))
			return 0;
	}
	return 1;
}

/* Fields to values; 1 when the record is a row, 0 when it was rejected. */
static int decode(struct barge_reader *r, const char *raw, size_t rawn)
{
	const struct barge_table_def *t = r->t;
	const struct file_rec *rec = &r->rec;
	const char *why;
	char nb[64], eb[64];

	/* values point into the scratch: room for all of them first, so
	 * that it never moves while they are made (a cast at most doubles a
	 * text; a recoding from latin1 too) */
	size_t room = 4 * rec->data.len + 64 * t->ncols + 64;
	barge_buf_clear(&r->scratch);
	if (r->scratch.alloc < room) {
		if (barge_buf_add(&r->scratch, NULL, 0) < 0 || room > r->scratch.cap)
			return barge_error_set(BARGE_ENOMEM, "file: a record too large");
		char *np = realloc(r->scratch.p, room);
		if (!np)
			return barge_error_set(BARGE_ENOMEM, "out of memory");
		r->scratch.p = np;
		r->scratch.alloc = room;
	}
	if (rec->why)
		return reject(r, raw, rawn, "%s%s", rec->why, "");
	if (r->jsonl) {
		for (size_t i = 0; i < t->ncols; i++)
			r->fld[i] = -1;
		for (size_t k = 0; k < rec->nf; k++) {
			const char *key = rec->data.p + rec->f[k].koff;
			size_t i;
			for (i = 0; i < t->ncols; i++)
				if (strlen(t->cols[i].name) == rec->f[k].klen &&
				    memcmp(t->cols[i].name, key, rec->f[k].klen) == 0)
					break;
			if (i < t->ncols)
				r->fld[i] = (int)k;
			else
				r->extra_keys++;
		}
	} else if (rec->nf != t->ncols) {
		snprintf(nb, sizeof nb, "%zu", rec->nf);
		snprintf(eb, sizeof eb, "%zu", t->ncols);
		return reject(r, raw, rawn, "%s fields, the table has %s columns", nb, eb);
	}
	/* texts first (a recoding may move the scratch), then the values */
	for (size_t i = 0; i < t->ncols; i++) {
		struct barge_value *v = &r->vals[i];
		memset(v, 0, sizeof *v);
		v->type = t->cols[i].type;
		v->null = 1;
		if (!r->need[i])
			continue;
		int k = r->jsonl ? r->fld[i] : (int)r->colmap[i];
		if (k < 0)
			continue; /* a missing key: NULL */
		const struct file_field *f = &rec->f[k];
		int err = file_field_value(v, &r->scratch, &r->o, &t->cols[i],
					   rec->data.p + f->off, f->len, f->kind, &why);
		if (err == BARGE_EDATA)
			return reject(r, raw, rawn, "column '%s': %s", t->cols[i].name, why);
		if (err < 0)
			return err;
	}
	if (r->scratch.err)
		return barge_error_set(r->scratch.err, "file: a record too large");
	return 1;
}

static int put_row(struct barge_reader *r, struct barge_batch *b, int64_t addr)
{
	int err = 0;
	for (size_t j = 0; j < r->req.ncols && err == 0; j++)
		err = barge_batch_put_value(b, j, &r->vals[r->req.cols[j]]);
	for (size_t k = 0; r->sort && k < r->sort->nk && err == 0; k++)
		if (r->sort->kpos[k] >= r->req.ncols)
			err = barge_batch_put_value(b, r->sort->kpos[k],
						    &r->vals[r->t->key[k]]);
	if (err == 0 && r->req.with_rowid)
		err = barge_batch_put_i64(b, r->req.ncols, addr);
	if (err < 0) {
		barge_batch_abandon_row(b);
		return err;
	}
	barge_batch_end_row(b);
	return 0;
}

/* Rows into b until it is full or the chunk ends (r->done). */
static int read_rows(struct barge_reader *r, struct barge_batch *b)
{
	int err = 0;
	while (!r->done && !barge_batch_full(b)) {
		if (!r->live) {
			if (r->fi >= r->s->npaths ||
			    (r->has_hi && file_addr(r->fi, 0) >= r->hi)) {
				r->done = 1;
				break;
			}
			if ((err = open_file(r)) < 0)
				return err;
		}
		uint64_t start;
		const char *raw;
		size_t used;
		int got = file_in_record(&r->in, &r->o, r->jsonl, &r->rec, &start, &raw,
					 &used);
		if (got < 0)
			return got;
		if (got == 0) {
			file_in_close(&r->in);
			r->live = 0;
			r->fi++;
			continue;
		}
		int64_t addr = file_addr(r->fi, start);
		int64_t line = r->line;
		r->line += r->jsonl ? 1 : 1 + r->rec.nl;
		if (r->has_hi && addr >= r->hi) {
			r->done = 1;
			break;
		}
		if (r->header) {
			r->header = 0;
			if (r->rec.why)
				return barge_error_set(BARGE_EDATA, "file: %s: a malformed "
						       "header line (%s)",
						       r->s->paths[r->fi], r->rec.why);
			if ((err = header_map(r)) < 0)
				return err;
			continue;
		}
		if (r->has_lo && addr < r->lo)
			continue;
		if ((r->rec.nf == 0 && !r->rec.why) ||
		    (r->rec.nf == 1 && r->rec.f[0].len == 0 &&
		     r->rec.f[0].kind == FF_BARE && r->t->ncols > 1))
			continue; /* a blank line */
		int64_t keep = r->line;
		r->line = line;
		int ok = decode(r, raw, used);
		r->line += keep - line;
		if (ok < 0)
			return ok;
		if (ok == 0 || (r->ch && !in_range(r)))
			continue;
		if ((err = put_row(r, b, addr)) < 0)
			return err;
	}
	return 0;
}

/* ---- key order ----------------------------------------------------------------------- */

static const struct sorted *sort_cmp_ctx;

static int sort_cmp(const void *a, const void *b)
{
	const uint32_t *x = a, *y = b;
	const struct sorted *s = sort_cmp_ctx;
	for (size_t k = 0; k < s->nk; k++) {
		struct barge_value u, v;
		barge_batch_get(s->v[x[0]], s->kpos[k], x[1], &u);
		barge_batch_get(s->v[y[0]], s->kpos[k], y[1], &v);
		int c = barge_value_cmp(&u, &v);
		if (c)
			return c;
	}
	return 0;
}

/* Every row of the chunk, then their order by key (qsort's context is a
 * static: one sort at a time, under a lock). */
static int sort_load(struct barge_reader *r)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	struct sorted *s = calloc(1, sizeof *s);
	const struct barge_table_def *t = r->t;
	int err = 0;

	if (!s)
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	r->sort = s;
	s->nk = t->nkey;
	s->ncols = r->req.ncols + (r->req.with_rowid ? 1 : 0);
	if (!(s->kpos = calloc(t->nkey, sizeof *s->kpos)) ||
	    !(s->types = calloc(s->ncols + t->nkey, sizeof *s->types)))
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	for (size_t j = 0; j < r->req.ncols; j++)
		s->types[j] = t->cols[r->req.cols[j]].type;
	if (r->req.with_rowid)
		s->types[r->req.ncols] = BARGE_T_INT64;
	size_t nall = s->ncols;
	for (size_t k = 0; k < t->nkey; k++) {
		size_t j;
		for (j = 0; j < r->req.ncols && r->req.cols[j] != t->key[k]; j++)
			;
		if (j == r->req.ncols) { /* a key column not asked for */
			j = nall;
			s->types[nall++] = t->cols[t->key[k]].type;
		}
		s->kpos[k] = j;
	}
	if (r->req.with_rowid && nall > s->ncols)
		return barge_error_set(BARGE_EUSAGE, "file: a key-ordered read with "
				       "row addresses must ask for the key columns");
	while (err == 0 && !r->done) {
		struct barge_batch *b = NULL, **v;
		if (s->rows > SORT_MAX_ROWS)
			return barge_error_set(BARGE_ENOMEM, "file: table '%s': more than "
					       "%d rows to sort in one range; verify "
					       "with a smaller --chunk-rows", t->name,
					       SORT_MAX_ROWS);
		if (!(v = realloc(s->v, (s->n + 1) * sizeof *v)))
			return barge_error_set(BARGE_ENOMEM, "out of memory");
		s->v = v;
		if ((err = barge_batch_new(&b, nall, s->types, SORT_BATCH_ROWS)) < 0)
			return err;
		s->v[s->n++] = b;
		err = read_rows(r, b);
		s->rows += b->nrows;
	}
	if (err < 0)
		return err;
	if (!(s->at = calloc(s->rows + 1, sizeof *s->at)))
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	size_t n = 0;
	for (size_t i = 0; i < s->n; i++)
		for (size_t row = 0; row < s->v[i]->nrows; row++) {
			s->at[n][0] = (uint32_t)i;
			s->at[n++][1] = (uint32_t)row;
		}
	pthread_mutex_lock(&lock);
	sort_cmp_ctx = s;
	qsort(s->at, n, sizeof *s->at, sort_cmp);
	pthread_mutex_unlock(&lock);
	return 0;
}

static int sort_emit(struct barge_reader *r, struct barge_batch *b)
{
	struct sorted *s = r->sort;
	int err = 0;
	while (s->next < s->rows && !barge_batch_full(b) && err == 0) {
		struct barge_value v;
		const struct barge_batch *from = s->v[s->at[s->next][0]];
		size_t row = s->at[s->next][1];
		for (size_t j = 0; j < s->ncols && err == 0; j++) {
			barge_batch_get(from, j, row, &v);
			err = barge_batch_put_value(b, j, &v);
		}
		if (err == 0)
			barge_batch_end_row(b);
		s->next++;
	}
	return err;
}

static void sort_free(struct sorted *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		barge_batch_free(s->v[i]);
	free(s->v);
	free(s->at);
	free(s->kpos);
	free(s->types);
	free(s);
}

int file_read_next(struct barge_reader *r, struct barge_batch *b)
{
	int err;
	barge_batch_reset(b);
	if (r->req.order_by_key && r->t->nkey && !r->by_rowid) {
		if (!r->sort && (err = sort_load(r)) < 0)
			return err;
		return sort_emit(r, b);
	}
	return read_rows(r, b);
}

void file_read_close(struct barge_reader *r)
{
	if (!r)
		return;
	file_in_close(&r->in);
	file_rec_dispose(&r->rec);
	barge_buf_dispose(&r->scratch);
	barge_buf_dispose(&r->tmp);
	for (size_t i = 0; i < r->nrej; i++) {
		free(r->rej[i].where);
		free(r->rej[i].record);
		free(r->rej[i].why);
	}
	free(r->rej);
	free(r->vals);
	free(r->need);
	free(r->colmap);
	free(r->fld);
	sort_free(r->sort);
	free(r);
}

/* ---- counts and ranges, by reading ---------------------------------------------- */

static int scan_table(struct barge_conn *c, const struct barge_table_def *t,
		      int64_t *count, int64_t *min, int64_t *max)
{
	struct barge_reader *r = NULL;
	struct barge_batch *b = NULL;
	size_t col = t->nkey ? t->key[0] : 0;
	int type = t->ncols ? t->cols[col].type : BARGE_T_INT64;
	struct barge_read_req req = {.table = t, .ncols = t->ncols ? 1 : 0, .cols = &col};
	int err;

	*count = 0;
	if ((err = barge_batch_new(&b, 1, &type, 4096)) < 0 ||
	    (err = file_read_open(&r, c, &req)) < 0)
		goto out;
	for (;;) {
		if ((err = file_read_next(r, b)) < 0 || b->nrows == 0)
			break;
		for (size_t i = 0; min && i < b->nrows; i++) {
			if (barge_batch_is_null(b, 0, i))
				continue;
			int64_t v = barge_batch_i64(b, 0, i);
			if (*count == 0 && i == 0)
				*min = *max = v;
			*min = v < *min ? v : *min;
			*max = v > *max ? v : *max;
		}
		*count += (int64_t)b->nrows;
	}
out:
	file_read_close(r);
	barge_batch_free(b);
	return err;
}

int file_count_rows(struct barge_conn *c, const struct barge_table_def *t,
		    const char *where, int64_t *out)
{
	if (where)
		return barge_error_set(BARGE_EUSAGE, "file: a source of files cannot "
				       "filter with SQL");
	return scan_table(c, t, out, NULL, NULL);
}

int file_key_range(struct barge_conn *c, const struct barge_table_def *t,
		   int by_rowid, int64_t *min, int64_t *max, int64_t *count)
{
	int err;
	if (by_rowid || t->nkey != 1 || t->cols[t->key[0]].type != BARGE_T_INT64)
		return barge_error_set(BARGE_EUSAGE, "file: ranges of a single integer "
				       "key only");
	*min = *max = 0;
	if ((err = scan_table(c, t, count, min, max)) < 0)
		return err;
	return *count ? 0 : BARGE_ENOTFOUND;
}

/* Keyset walking over files: every key >= from, sorted; the skip-th. */
int file_key_after(struct barge_conn *c, const struct barge_table_def *t,
		   const struct barge_key *from, int64_t skip,
		   struct barge_key **out)
{
	struct barge_chunk ch = {.lo = (struct barge_key *)from};
	struct barge_read_req req = {.table = t, .chunk = from ? &ch : NULL,
				     .ncols = t->nkey, .cols = t->key,
				     .order_by_key = 1};
	struct barge_reader *r = NULL;
	struct barge_batch *b = NULL;
	int types[64];
	int64_t seen = 0;
	int err;

	*out = NULL;
	if (t->nkey == 0 || t->nkey > 64 || skip < 0)
		return barge_error_set(BARGE_EUSAGE, "file: keyset walking needs a key");
	for (size_t k = 0; k < t->nkey; k++)
		types[k] = t->cols[t->key[k]].type;
	if ((err = barge_batch_new(&b, t->nkey, types, 4096)) < 0 ||
	    (err = file_read_open(&r, c, &req)) < 0)
		goto out;
	err = BARGE_ENOTFOUND;
	for (;;) {
		int e = file_read_next(r, b);
		if (e < 0 || b->nrows == 0) {
			err = e < 0 ? e : err;
			break;
		}
		if (seen + (int64_t)b->nrows > skip) {
			struct barge_value v[64];
			for (size_t k = 0; k < t->nkey; k++)
				barge_batch_get(b, k, (size_t)(skip - seen), &v[k]);
			err = barge_key_new(out, t->nkey, v);
			break;
		}
		seen += (int64_t)b->nrows;
	}
out:
	file_read_close(r);
	barge_batch_free(b);
	return err;
}
