/*
 * verify's comparing of keyed ranges: one side of a range read (as read or
 * through the mapping) and digested, the differences counted and listed,
 * two ordered reads merged into differences, and the localization that
 * splits a differing range until its rows can be merged.
 */
#include "verify_int.h"

#include <stdlib.h>
#include <string.h>

#define SPLIT_WAYS 16
#define MAX_SPLIT_DEPTH 8

/* ---- One side of a range ------------------------------------------------------ */

void verify_side_of(struct side *s, struct vctx *cx, struct vt *t, int target,
		    struct barge_conn *conn)
{
	s->ep = target ? &cx->dst : &cx->src;
	s->conn = conn;
	s->def = target ? t->ddef : t->sdef;
	s->cols = target ? t->dcols : t->scols;
	s->types = target ? t->dtypes : t->stypes;
	s->where = target ? NULL : t->jt->where;
	s->fast = t->fast;
	s->db = target ? t->ddb : t->sdb;
	s->native = t->native;
	s->xf = target ? NULL : t->xf;
	s->rej = target ? NULL : t->rej;
	s->feeds = target ? NULL : t->feeds;
	s->kep = &cx->dst;
	s->rd_ncols = t->rd_ncols;
	s->rd_cols = t->rd_cols;
	s->rd_types = t->rd_types;
}

int verify_sread_open(struct sread *r, const struct side *s, size_t ncols,
		      const struct barge_chunk *ch, int ordered)
{
	struct barge_read_req req = {
		.table = s->def, .chunk = ch,
		.ncols = s->xf ? s->rd_ncols : ncols,
		.cols = s->xf ? s->rd_cols : s->cols,
		.where = s->where, .order_by_key = ordered,
	};
	int err;
	memset(r, 0, sizeof *r);
	r->s = s;
	if (s->xf &&
	    ((err = barge_batch_new(&r->raw, s->rd_ncols, s->rd_types, BATCH_ROWS)) < 0 ||
	     (err = barge_xf_run_new(&r->xr)) < 0 ||
	     (s->feeds && (err = barge_vfeed_open(&r->fd, s->kep, s->feeds,
						  BATCH_ROWS)) < 0)))
		return err;
	return barge_drv_read_open(s->ep, &r->rd, s->conn, &req);
}

/*
 * The next batch into `b`, 0 rows at the end. Through a mapping each
 * source row is mapped as `barge run` maps it, and the rows the mapping
 * rejects are left out: the run did not write them either. (Chunk ranges
 * go by the key, which a mapping cannot change the type of.)
 */
int verify_sread_next(struct sread *r, struct barge_batch *b)
{
	struct barge_xf_reject x;
	int err;
	if (!r->s->xf)
		return barge_drv_read_next(r->s->ep, r->rd, b);
	for (;;) {
		barge_batch_reset(b);
		if ((err = barge_drv_read_next(r->s->ep, r->rd, r->raw)) < 0 ||
		    r->raw->nrows == 0)
			return err;
		if (r->fd && (err = barge_vfeed_batch(r->fd, r->raw)) < 0)
			return err;
		for (size_t row = 0; row < r->raw->nrows; row++) {
			memset(&x, 0, sizeof x);
			if (barge_rejected_has(r->s->rej, r->s->def, r->raw, row))
				continue; /* the run rejected it */
			if (r->fd && (err = barge_vfeed_row(r->fd, r->xr, row)) < 0)
				return err;
			if ((err = barge_xf_row(r->xr, r->s->xf, r->raw, row, b, &x)) < 0)
				return err;
		}
		if (b->nrows)
			return 0;
	}
}

void verify_sread_close(struct sread *r)
{
	if (r->s)
		barge_drv_read_close(r->s->ep, r->rd);
	barge_batch_free(r->raw);
	barge_xf_run_free(r->xr);
	barge_vfeed_close(r->fd);
	memset(r, 0, sizeof *r);
}

/* Count and digest of a range on one side, rows streamed and hashed here. */
int verify_side_digest(const struct side *s, size_t ncols,
		       const struct barge_chunk *ch, struct barge_digest *d)
{
	struct sread rd;
	struct barge_batch *b = NULL;
	struct barge_buf enc;
	int err;

	memset(&rd, 0, sizeof rd);
	barge_digest_init(d);
	if (s->db)
		return barge_drv_digest_range(s->ep, s->conn, s->def, ch, s->where,
					      ncols, s->cols, s->native,
					      &d->rows, &d->lo, &d->hi);
	barge_buf_init(&enc, ENC_CAP);
	if ((err = barge_batch_new(&b, ncols, s->types, BATCH_ROWS)) < 0 ||
	    (err = verify_sread_open(&rd, s, ncols, ch, 0)) < 0)
		goto out;
	for (;;) {
		if ((err = verify_sread_next(&rd, b)) < 0 || b->nrows == 0)
			break;
		err = s->fast ? barge_canon_fast_digest_batch(d, &enc, b, ncols)
			      : barge_canon_digest_batch(d, &enc, b, ncols);
		if (err < 0)
			break;
	}
out:
	verify_sread_close(&rd);
	barge_batch_free(b);
	barge_buf_dispose(&enc);
	return err;
}

/* ---- Differences ---------------------------------------------------------------- */

/* A key (or row) from row `row` of `b`: the values at positions `pos`. */
static int key_from_batch(struct barge_key **out, const struct barge_batch *b,
			  size_t row, const size_t *pos, size_t n)
{
	struct barge_value *v = calloc(n ? n : 1, sizeof *v);
	int err;
	if (!v)
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++)
		barge_batch_get(b, pos ? pos[i] : i, row, &v[i]);
	err = barge_key_new(out, n, v);
	free(v);
	return err;
}

/* Count a difference and list it while under the cap. */
int verify_add_diff(struct vctx *cx, struct vt *t, int kind,
		    const struct barge_batch *b, size_t row, char *columns)
{
	struct barge_verify_table *r = t->res;
	struct barge_key *k = NULL;
	int err = 0;

	pthread_mutex_lock(&t->lock);
	r->equal = 0;
	if (kind == BARGE_DIFF_MISSING)
		r->missing++;
	else if (kind == BARGE_DIFF_EXTRA)
		r->extra++;
	else
		r->changed++;
	if ((int64_t)r->ndiffs >= cx->max_diffs)
		goto out;
	if ((err = key_from_batch(&k, b, row, t->keyed ? t->kpos : NULL,
				  t->keyed ? t->nkey : t->ncols)) < 0)
		goto out;
	struct barge_verify_diff *g = realloc(r->diffs, (r->ndiffs + 1) * sizeof *g);
	if (!g) {
		err = barge_error_set(BARGE_ENOMEM, "out of memory");
		goto out;
	}
	r->diffs = g;
	memset(&g[r->ndiffs], 0, sizeof *g);
	g[r->ndiffs].kind = kind;
	g[r->ndiffs].key = k;
	g[r->ndiffs].columns = columns;
	r->ndiffs++;
	k = NULL;
	columns = NULL;
out:
	pthread_mutex_unlock(&t->lock);
	barge_key_free(k);
	free(columns);
	return err;
}

/* The names of the columns whose encodings differ, as a JSON array. */
static int changed_columns(char **out, struct vt *t,
			   const struct barge_batch *a, size_t ra,
			   const struct barge_batch *b, size_t rb)
{
	struct barge_buf x, y, j;
	int first = 1;
	barge_buf_init(&x, ENC_CAP);
	barge_buf_init(&y, ENC_CAP);
	barge_buf_init(&j, 1 << 20);
	barge_buf_adds(&j, "[");
	for (size_t c = 0; c < t->ncols; c++) {
		barge_buf_clear(&x);
		barge_buf_clear(&y);
		barge_canon_encode_col(&x, a, c, ra);
		barge_canon_encode_col(&y, b, c, rb);
		if (x.len == y.len && (x.len == 0 || memcmp(x.p, y.p, x.len) == 0))
			continue;
		const char *name = verify_vt_colname(t, c);
		if (!first)
			barge_buf_adds(&j, ",");
		barge_buf_json_str(&j, name, strlen(name));
		first = 0;
	}
	barge_buf_adds(&j, "]");
	int err = x.err ? x.err : y.err;
	barge_buf_dispose(&x);
	barge_buf_dispose(&y);
	if (err) {
		barge_buf_dispose(&j);
		return err;
	}
	return barge_buf_detach(&j, out);
}

/* ---- Merging ordered reads ---------------------------------------------------- */

static int cursor_hash(struct cursor *c, size_t ncols)
{
	int err = barge_canon_encode_row(&c->enc, c->b, ncols, c->row);
	if (err < 0)
		return err;
	barge_canon_hash(&c->enc, &c->hlo, &c->hhi);
	return 0;
}

int verify_cursor_next(struct cursor *c, size_t ncols)
{
	int err;
	if (c->done)
		return 0;
	if (c->b->nrows && c->row + 1 < c->b->nrows) {
		c->row++;
		return cursor_hash(c, ncols);
	}
	if ((err = verify_sread_next(&c->rd, c->b)) < 0)
		return err;
	c->row = 0;
	if (c->b->nrows == 0) {
		c->done = 1;
		return 0;
	}
	return cursor_hash(c, ncols);
}

int verify_cursor_open(struct cursor *c, const struct side *s, size_t ncols,
		       const struct barge_chunk *ch, int ordered)
{
	int err;
	memset(c, 0, sizeof *c);
	c->s = s;
	barge_buf_init(&c->enc, ENC_CAP);
	if ((err = barge_batch_new(&c->b, ncols, s->types, BATCH_ROWS)) < 0 ||
	    (err = verify_sread_open(&c->rd, s, ncols, ch, ordered)) < 0)
		return err;
	return verify_cursor_next(c, ncols);
}

void verify_cursor_close(struct cursor *c)
{
	verify_sread_close(&c->rd);
	barge_batch_free(c->b);
	barge_buf_dispose(&c->enc);
	memset(c, 0, sizeof *c);
}

static int key_cmp_rows(const struct vt *t, const struct cursor *a,
			const struct cursor *b)
{
	for (size_t k = 0; k < t->nkey; k++) {
		struct barge_value x, y;
		barge_batch_get(a->b, t->kpos[k], a->row, &x);
		barge_batch_get(b->b, t->kpos[k], b->row, &y);
		int c = barge_value_cmp(&x, &y);
		if (c)
			return c;
	}
	return 0;
}

/* Both sides of a range in key order, merged into differences. */
static int merge_range(struct vctx *cx, struct vt *t, const struct side *ss,
		       const struct side *ds, const struct barge_chunk *ch)
{
	struct cursor a, b;
	int err;

	memset(&b, 0, sizeof b);
	if ((err = verify_cursor_open(&a, ss, t->ncols, ch, 1)) < 0 ||
	    (err = verify_cursor_open(&b, ds, t->ncols, ch, 1)) < 0)
		goto out;
	while (!a.done || !b.done) {
		int c = a.done ? 1 : b.done ? -1 : key_cmp_rows(t, &a, &b);
		if (c < 0) {
			if ((err = verify_add_diff(cx, t, BARGE_DIFF_MISSING, a.b, a.row,
						   NULL)) < 0 ||
			    (err = verify_cursor_next(&a, t->ncols)) < 0)
				goto out;
		} else if (c > 0) {
			if ((err = verify_add_diff(cx, t, BARGE_DIFF_EXTRA, b.b, b.row,
						   NULL)) < 0 ||
			    (err = verify_cursor_next(&b, t->ncols)) < 0)
				goto out;
		} else {
			if (a.hlo != b.hlo || a.hhi != b.hhi) {
				char *cols = NULL;
				if ((err = changed_columns(&cols, t, a.b, a.row, b.b, b.row)) < 0 ||
				    (err = verify_add_diff(cx, t, BARGE_DIFF_CHANGED, a.b,
							   a.row, cols)) < 0)
					goto out;
			}
			if ((err = verify_cursor_next(&a, t->ncols)) < 0 ||
			    (err = verify_cursor_next(&b, t->ncols)) < 0)
				goto out;
		}
	}
out:
	verify_cursor_close(&a);
	verify_cursor_close(&b);
	return err;
}

/* ---- Localization ------------------------------------------------------------------ */

/*
 * A range whose digests differ: split it on the source's keys into up to
 * SPLIT_WAYS pieces, compare each piece's digests and go down into the
 * pieces that differ, until a piece holds at most leaf_rows source rows;
 * then merge the piece's rows.
 */
int verify_localize(struct vctx *cx, struct vt *t, const struct side *ss,
		    const struct side *ds, const struct barge_chunk *ch,
		    int64_t src_rows, int depth)
{
	struct barge_key *bounds[SPLIT_WAYS + 1];
	size_t nb = 0;
	int err = 0;

	if (src_rows <= cx->leaf_rows || depth >= MAX_SPLIT_DEPTH)
		return merge_range(cx, t, ss, ds, ch);
	int64_t step = (src_rows + SPLIT_WAYS - 1) / SPLIT_WAYS;
	const struct barge_key *from = ch->lo;
	while (nb < SPLIT_WAYS - 1) {
		struct barge_key *k = NULL;
		err = barge_drv_key_after(ss->ep, ss->conn, ss->def, from,
					  step, &k);
		if (err == BARGE_ENOTFOUND) {
			barge_error_clear();
			err = 0;
			break;
		}
		if (err < 0)
			goto out;
		/* past the chunk: above hi, or at hi when hi is excluded */
		if ((ch->hi && barge_key_cmp(k, ch->hi) >= (ch->hi_incl ? 1 : 0)) ||
		    (from && barge_key_cmp(k, from) <= 0)) {
			barge_key_free(k);
			break;
		}
		bounds[nb++] = k;
		from = k;
	}
	if (nb == 0) /* the keys do not split: compare the rows */
		return merge_range(cx, t, ss, ds, ch);
	for (size_t i = 0; i <= nb; i++) {
		struct barge_chunk sub = {
			.lo = i ? bounds[i - 1] : ch->lo,
			.hi = i < nb ? bounds[i] : ch->hi,
			.hi_incl = i < nb ? 0 : ch->hi_incl,
		};
		struct barge_digest x, y;
		if ((err = verify_side_digest(ss, t->ncols, &sub, &x)) < 0 ||
		    (err = verify_side_digest(ds, t->ncols, &sub, &y)) < 0)
			goto out;
		if (x.rows == y.rows && x.lo == y.lo && x.hi == y.hi)
			continue;
		if ((err = verify_localize(cx, t, ss, ds, &sub, x.rows, depth + 1)) < 0)
			goto out;
	}
out:
	for (size_t i = 0; i < nb; i++)
		barge_key_free(bounds[i]);
	return err;
}
