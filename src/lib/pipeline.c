/*
 * One chunk, read -> map -> write: a reader thread reads batches into a
 * bounded queue and digests them while the worker maps each batch (casts,
 * rules, `references` lookups, key maps, sequences) and writes it in the
 * chunk's one target transaction. Rejected rows are kept with the chunk
 * and rows whose self-reference is not written yet are held to its end.
 */
#include "engine_int.h"
#include "queue.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- The reader thread ---------------------------------------------------- */

static int rejects_take(struct rejects *rs, const char *table,
			struct barge_read_reject *v, size_t n);


void *engine_reader_main(void *arg)
{
	struct reader *r = arg;
	struct tbl *t = r->t;
	struct barge_reader *rd = NULL;
	struct barge_buf scratch;
	struct barge_read_req req = {
		.table = t->src,
		.chunk = r->chunk,
		.ncols = t->rd_ncols,
		.cols = t->rd_cols,
		.with_rowid = t->with_rowid,
		.where = t->jt->where,
	};
	int err;

	barge_buf_init(&scratch, 1u << 30);
	barge_digest_init(&r->digest);
	if ((err = barge_drv_read_open(&r->cx->src, &rd, r->conn, &req)) < 0)
		goto out;
	for (;;) {
		void *item;
		if (barge_queue_pop(r->pool, &item) != 0)
			break; /* the writer gave up */
		struct barge_batch *b = item;
		if ((err = barge_drv_read_next(&r->cx->src, rd, b)) < 0) {
			barge_queue_push(r->pool, b);
			goto out;
		}
		struct barge_read_reject *rv;
		size_t nrv;
		if ((err = barge_drv_read_rejects(&r->cx->src, rd, &rv, &nrv)) < 0 ||
		    (err = rejects_take(&r->rej, t->src->name, rv, nrv)) < 0) {
			barge_queue_push(r->pool, b);
			goto out;
		}
		if (b->nrows == 0) {
			barge_queue_push(r->pool, b);
			break;
		}
		if (r->limit > 0 && r->rows + (int64_t)b->nrows > r->limit)
			b->nrows = (size_t)(r->limit - r->rows);
		/* the digest covers the columns read, not the row address */
		if ((err = barge_canon_digest_batch(&r->digest, &scratch, b,
						    t->rd_ncols)) < 0) {
			barge_queue_push(r->pool, b);
			goto out;
		}
		r->rows += (int64_t)b->nrows;
		r->bytes += (int64_t)barge_batch_bytes(b);
		if (barge_queue_push(r->full, b) != 0)
			break;
		if (r->limit > 0 && r->rows >= r->limit)
			break;
	}
out:
	if (err < 0) {
		r->err = err;
		snprintf(r->msg, sizeof r->msg, "%s", barge_error_last());
	}
	barge_drv_read_close(&r->cx->src, rd);
	barge_buf_dispose(&scratch);
	barge_queue_close(r->full);
	return NULL;
}

/* ---- Held rows, a worker's batches, a unit's chunk --------------------- */

/*
 * Rows of a chunk held back because their self-reference names a row that
 * is not in the target yet (later in the chunk, maybe): copies of the
 * source rows, tried again once the chunk's other rows are written.
 * Bounded by the chunk (and REJECTS_MAX_BYTES).
 */
struct held {
	struct barge_batch **v;
	size_t n;
	size_t rows, bytes;
};

static void held_clear(struct held *h)
{
	for (size_t i = 0; h && i < h->n; i++)
		barge_batch_free(h->v[i]);
	if (h) {
		free(h->v);
		memset(h, 0, sizeof *h);
	}
}

static void held_free(struct held *h)
{
	held_clear(h);
	free(h);
}

void worker_free_batches(struct worker *w)
{
	for (size_t i = 0; i < w->nbatches; i++)
		barge_batch_free(w->batches[i]);
	free(w->batches);
	w->batches = NULL;
	w->nbatches = 0;
	w->batches_for = NULL;
	barge_batch_free(w->mapped);
	w->mapped = NULL;
	free(w->found);
	w->found = NULL;
	barge_batch_free(w->kmb);
	w->kmb = NULL;
	for (size_t i = 0; i < w->nlk; i++)
		barge_batch_free(w->lk[i]);
	free(w->lk);
	w->lk = NULL;
	w->nlk = 0;
	free(w->lkfound);
	w->lkfound = NULL;
	for (int i = 0; i < 2; i++) {
		held_free(w->held[i]);
		w->held[i] = NULL;
	}
}

int worker_batches(struct worker *w, struct tbl *t)
{
	if (w->batches_for == t)
		return 0;
	worker_free_batches(w);
	size_t depth = (size_t)t->jt->settings.queue_depth;
	if (depth < 1)
		depth = 1;
	w->batches = calloc(depth, sizeof *w->batches);
	if (!w->batches)
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	for (size_t i = 0; i < depth; i++) {
		int err = barge_batch_new(&w->batches[i],
					  t->rd_ncols + (t->with_rowid ? 1 : 0),
					  t->rd_types,
					  (size_t)t->jt->settings.batch_rows);
		if (err < 0)
			return err;
		w->nbatches++;
	}
	if (t->xf) {
		int err = barge_batch_new(&w->mapped, t->ncols + (t->with_rowid ? 1 : 0),
					  t->types, (size_t)t->jt->settings.batch_rows);
		if (err < 0 || (!w->xrun && (err = barge_xf_run_new(&w->xrun)) < 0))
			return err;
	}
	if (t->nrefs && !(w->found = calloc(t->nrefs * (size_t)t->jt->settings.batch_rows,
					    1)))
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	if (t->keymap) {
		int kt[3] = {BARGE_T_TEXT, BARGE_T_TEXT, BARGE_T_TEXT};
		int err = barge_batch_new(&w->kmb, 3, kt,
					  (size_t)t->jt->settings.batch_rows);
		if (err < 0)
			return err;
	}
	if (t->selfref && (!(w->held[0] = calloc(1, sizeof *w->held[0])) ||
			   !(w->held[1] = calloc(1, sizeof *w->held[1]))))
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	if (t->xf) {
		size_t n = t->nrefs + 1, rows = (size_t)t->jt->settings.batch_rows;
		int kt[1] = {BARGE_T_TEXT};
		if (!(w->lk = calloc(n, sizeof *w->lk)) ||
		    !(w->lkfound = calloc(rows, 1)))
			return barge_error_set(BARGE_ENOMEM, "out of memory");
		for (size_t i = 0; i < n; i++) {
			int err = barge_batch_new(&w->lk[i], 1, kt, rows);
			if (err < 0)
				return err;
			w->nlk++;
		}
	}
	w->batches_for = t;
	return 0;
}

/* Build the chunk of a unit from its stored bounds. */
int engine_unit_chunk(struct barge_chunk *ch, const struct barge_unit *u,
		      const struct tbl *t)
{
	int err = barge_chunk_from_json(ch, t->src, u->by_rowid, u->lo, u->hi);

	ch->unit_id = u->id;
	ch->seq = u->seq;
	return err;
}

void chunk_dispose(struct barge_chunk *ch)
{
	barge_key_free(ch->lo);
	barge_key_free(ch->hi);
	memset(ch, 0, sizeof *ch);
}

/* ---- Rejects of a chunk ---------------------------------------------------- */

void rejects_dispose(struct rejects *rs)
{
	for (size_t i = 0; i < rs->n; i++) {
		free(rs->v[i].key);
		free(rs->v[i].row);
		free(rs->v[i].rule);
		free(rs->v[i].message);
	}
	free(rs->v);
	memset(rs, 0, sizeof *rs);
}

/* A value as JSON: numbers as numbers, the rest as strings (bytes that are
 * not UTF-8 as \u00XX, their Latin-1 reading, so the text stays JSON). */
static void json_value(struct barge_buf *b, struct barge_buf *tmp,
		       const struct barge_value *v)
{
	if (v->null) {
		barge_buf_adds(b, "null");
		return;
	}
	if (v->type == BARGE_T_INT64) {
		barge_buf_printf(b, "%lld", (long long)v->i);
		return;
	}
	if (v->type == BARGE_T_BOOL) {
		barge_buf_adds(b, v->i ? "true" : "false");
		return;
	}
	barge_buf_clear(tmp);
	if (v->type == BARGE_T_BYTES || barge_value_text(tmp, v) < 0) {
		barge_buf_clear(tmp);
		barge_buf_adds(tmp, "\\x");
		for (size_t i = 0; i < v->n; i++)
			barge_buf_printf(tmp, "%02x", (unsigned char)v->p[i]);
	}
	const char *p = tmp->p ? tmp->p : "";
	if (barge_utf8_valid(p, tmp->len)) {
		barge_buf_json_str(b, p, tmp->len);
		return;
	}
	barge_buf_adds(b, "\"");
	for (size_t i = 0; i < tmp->len; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c >= 0x80 || c < 0x20 || c == '"' || c == '\\')
			barge_buf_printf(b, "\\u%04x", c);
		else
			barge_buf_add(b, p + i, 1);
	}
	barge_buf_adds(b, "\"");
}

/* Keep the records a source refused (a file's malformed lines): the key
 * is their place, the row what they held; `v` and its strings are freed. */
static int rejects_take(struct rejects *rs, const char *table,
			struct barge_read_reject *v, size_t n)
{
	struct barge_buf j;
	int err = 0;
	barge_buf_init(&j, 16u << 20);
	for (size_t i = 0; i < n; i++) {
		struct barge_reject r = {0};
		if (err == 0 && rs->n == rs->cap) {
			size_t cap = rs->cap ? rs->cap * 2 : 64;
			struct barge_reject *nv = realloc(rs->v, cap * sizeof *nv);
			if (!nv)
				err = barge_error_set(BARGE_ENOMEM, "out of memory");
			else {
				rs->v = nv;
				rs->cap = cap;
			}
		}
		if (err == 0) {
			barge_buf_adds(&j, "[");
			barge_buf_json_str(&j, v[i].where, strlen(v[i].where));
			barge_buf_adds(&j, "]");
			err = barge_buf_detach(&j, &r.key);
		}
		if (err == 0) {
			barge_buf_adds(&j, "{\"record\":");
			barge_buf_json_str(&j, v[i].record, strlen(v[i].record));
			barge_buf_adds(&j, "}");
			err = barge_buf_detach(&j, &r.row);
		}
		if (err == 0) {
			barge_buf_printf(&j, "%s: %s", v[i].where, v[i].why);
			if ((err = barge_buf_detach(&j, &r.message)) == 0 &&
			    !(r.rule = strdup("read")))
				err = barge_error_set(BARGE_ENOMEM, "out of memory");
		}
		if (err == 0) {
			rs->bytes += strlen(r.key) + strlen(r.row) + strlen(r.message) + 64;
			if (rs->bytes > REJECTS_MAX_BYTES)
				err = barge_error_set(BARGE_ENOMEM, "table '%s': the rejects of "
						      "one chunk passed %u MiB; lower "
						      "chunk_rows", table,
						      REJECTS_MAX_BYTES >> 20);
		}
		if (err == 0) {
			rs->v[rs->n++] = r;
		} else {
			free(r.key);
			free(r.row);
			free(r.rule);
			free(r.message);
		}
		free(v[i].where);
		free(v[i].record);
		free(v[i].why);
	}
	free(v);
	barge_buf_dispose(&j);
	return err;
}

/* Keep a rejected row: its source key and whole source row as JSON. */
static int rejects_add(struct rejects *rs, const struct tbl *t,
		       const struct barge_batch *b, size_t row,
		       const struct barge_xf_reject *x)
{
	const struct barge_table_def *d = t->src;
	struct barge_buf j, tmp;
	struct barge_reject r;
	struct barge_value v;
	int err = 0;

	memset(&r, 0, sizeof r);
	struct barge_reject *nv = barge_grow(rs->v, &rs->cap, rs->n, sizeof *nv, 64);
	if (!nv)
		return BARGE_ENOMEM;
	rs->v = nv;
	barge_buf_init(&j, 16u << 20);
	barge_buf_init(&tmp, 16u << 20);
	barge_buf_adds(&j, "[");
	if (d->nkey) {
		for (size_t k = 0; k < d->nkey; k++) {
			barge_batch_get(b, d->key[k], row, &v);
			if (k)
				barge_buf_adds(&j, ",");
			json_value(&j, &tmp, &v);
		}
	} else if (t->with_rowid) {
		barge_batch_get(b, b->ncols - 1, row, &v);
		json_value(&j, &tmp, &v);
	}
	barge_buf_adds(&j, "]");
	if ((err = barge_buf_detach(&j, &r.key)) < 0)
		goto out;
	barge_buf_adds(&j, "{");
	for (size_t c = 0; c < t->rd_ncols; c++) {
		const char *name = d->cols[t->rd_cols[c]].name;
		if (c)
			barge_buf_adds(&j, ",");
		barge_buf_json_str(&j, name, strlen(name));
		barge_buf_adds(&j, ":");
		barge_batch_get(b, c, row, &v);
		json_value(&j, &tmp, &v);
	}
	barge_buf_adds(&j, "}");
	if ((err = barge_buf_detach(&j, &r.row)) < 0)
		goto out;
	r.rule = strdup(x->rule);
	r.message = strdup(x->message);
	if (!r.rule || !r.message) {
		err = barge_error_set(BARGE_ENOMEM, "out of memory");
		goto out;
	}
	rs->bytes += strlen(r.key) + strlen(r.row) + strlen(r.message) + 64;
	if (rs->bytes > REJECTS_MAX_BYTES) {
		err = barge_error_set(BARGE_ENOMEM, "table '%s': the rejects of one chunk "
				      "passed %u MiB; lower chunk_rows or fix the "
				      "mapping", d->name, REJECTS_MAX_BYTES >> 20);
		goto out;
	}
	rs->v[rs->n++] = r;
	memset(&r, 0, sizeof r);
out:
	free(r.key);
	free(r.row);
	free(r.rule);
	free(r.message);
	barge_buf_dispose(&j);
	barge_buf_dispose(&tmp);
	return err;
}

/* ---- Mapping a batch: references, key maps, held rows ------------------ */

/* Row `row` fails a `references` rule (other than a self-reference when
 * `skip_self`): fill the reject and return 1. */
static int ref_missing(const struct tbl *t, const struct barge_batch *b,
		       size_t row, const uint8_t *found, int skip_self,
		       struct barge_buf *tmp, struct barge_xf_reject *x)
{
	for (size_t k = 0; k < t->nrefs; k++) {
		const struct tref *r = &t->refs[k];
		struct barge_value v;
		barge_batch_get(b, r->scol, row, &v);
		if (v.null || found[k * b->nrows + row] || (skip_self && r->self))
			continue;
		barge_buf_clear(tmp);
		if (barge_value_text(tmp, &v) < 0 || tmp->len > 100) {
			barge_buf_clear(tmp);
			barge_buf_adds(tmp, "(a long value)");
		}
		snprintf(x->rule, sizeof x->rule, "references");
		snprintf(x->column, sizeof x->column, "%s",
			 barge_xf_col(t->xf, r->xcol)->name);
		snprintf(x->message, sizeof x->message, "column %s: references %s = %.*s, "
			 "which is not in the target", x->column, r->spec,
			 (int)tmp->len, tmp->p ? tmp->p : "");
		return 1;
	}
	return 0;
}

/* The key map rows of the mapped batch: (table, legacy key, new key) as
 * text, written in the chunk's transaction. */
static int keymap_batch(struct worker *w, const struct tbl *t, struct barge_buf *a,
			struct barge_buf *n)
{
	struct barge_batch *k = w->kmb;
	int err = 0;
	barge_batch_reset(k);
	for (size_t row = 0; row < w->mapped->nrows && err == 0; row++) {
		struct barge_value lv, nv;
		barge_batch_get(w->mapped, t->km_legacy, row, &lv);
		barge_batch_get(w->mapped, t->km_new, row, &nv);
		barge_buf_clear(a);
		barge_buf_clear(n);
		if (lv.null || nv.null)
			continue;
		if ((err = barge_value_text(a, &lv)) < 0 ||
		    (err = barge_value_text(n, &nv)) < 0)
			break;
		if ((err = barge_batch_put_bytes(k, 0, t->target_name,
						 strlen(t->target_name))) < 0 ||
		    (err = barge_batch_put_bytes(k, 1, a->p ? a->p : "", a->len)) < 0 ||
		    (err = barge_batch_put_bytes(k, 2, n->p ? n->p : "", n->len)) < 0) {
			barge_batch_abandon_row(k);
			break;
		}
		barge_batch_end_row(k);
	}
	return err;
}

/*
 * Feed the transform stage the new keys looked up for row `row`: each
 * sequence-keyed parent's (NULL when not in barge_keymap), and this
 * table's own: the one in barge_keymap, or else the sequence's next number
 * (*fresh: taken only when the row is not rejected).
 */
static int feed_keys(struct worker *w, const struct tbl *t,
		     const struct barge_batch *b, size_t row, int *fresh)
{
	struct barge_value v;
	int err = 0;
	barge_xf_run_unfeed(w->xrun);
	for (size_t k = 0; k < t->nrefs && err == 0; k++) {
		if (!t->refs[k].fed)
			continue;
		barge_batch_get(w->lk[k], 0, row, &v);
		err = barge_xf_run_feed(w->xrun, t->refs[k].xcol, v.null ? NULL : v.p,
					v.n);
	}
	if (err || !t->seq)
		return err;
	barge_batch_get(b, t->src->key[0], row, &v);
	if (v.null)
		return 0; /* a NULL key gets no number (and no map row) */
	barge_batch_get(w->lk[t->nrefs], 0, row, &v);
	if (!v.null)
		return barge_xf_run_feed(w->xrun, t->km_new, v.p, v.n);
	*fresh = 1;
	int n = snprintf(w->seq_txt, sizeof w->seq_txt, "%lld",
			 (long long)w->seq_last + 1);
	return barge_xf_run_feed(w->xrun, t->km_new, w->seq_txt, (size_t)n);
}

/* Hold row `row` of `b` (a copy) for the end of the chunk. */
static int held_add(struct held *h, const struct tbl *t,
		    const struct barge_batch *b, size_t row)
{
	struct barge_value v;
	int err = 0;
	if (!h->n || barge_batch_full(h->v[h->n - 1])) {
		struct barge_batch **nv = realloc(h->v, (h->n + 1) * sizeof *nv);
		if (!nv)
			return barge_error_set(BARGE_ENOMEM, "out of memory");
		h->v = nv;
		if ((err = barge_batch_new(&h->v[h->n], b->ncols, t->rd_types,
					   (size_t)t->jt->settings.batch_rows)) < 0)
			return err;
		h->n++;
	}
	struct barge_batch *d = h->v[h->n - 1];
	for (size_t c = 0; c < b->ncols && err == 0; c++) {
		barge_batch_get(b, c, row, &v);
		err = barge_batch_put_value(d, c, &v);
		h->bytes += v.null ? 1 : v.n + 8;
	}
	if (err < 0) {
		barge_batch_abandon_row(d);
		return err;
	}
	barge_batch_end_row(d);
	h->rows++;
	if (h->bytes > REJECTS_MAX_BYTES)
		return barge_error_set(BARGE_ENOMEM, "table '%s': the rows of one chunk "
				       "waiting for a parent in the same chunk passed "
				       "%u MiB; lower chunk_rows", t->src->name,
				       REJECTS_MAX_BYTES >> 20);
	return 0;
}

/* Does row `row` name, through a self-reference, a parent that is not in
 * the target (yet)? A row that names itself (a root, in many legacy
 * schemas) has its parent. Marks it found then, for ref_missing. */
static int self_missing(const struct tbl *t, const struct barge_batch *b,
			size_t row, uint8_t *found, struct barge_buf *x,
			struct barge_buf *y)
{
	int missing = 0;
	for (size_t k = 0; k < t->nrefs; k++) {
		struct barge_value v, own;
		if (!t->refs[k].self)
			continue;
		barge_batch_get(b, t->refs[k].scol, row, &v);
		if (v.null || found[k * b->nrows + row])
			continue;
		if (t->refs[k].to_key) {
			barge_batch_get(b, t->src->key[0], row, &own);
			barge_buf_clear(x);
			barge_buf_clear(y);
			if (barge_value_text(x, &v) == 0 && barge_value_text(y, &own) == 0 &&
			    x->len == y->len && (!x->len || !memcmp(x->p, y->p, x->len))) {
				found[k * b->nrows + row] = 1;
				continue;
			}
			barge_error_clear();
		}
		missing = 1;
	}
	return missing;
}

/*
 * The transform stage of one batch: look the references up in the target
 * (inside the chunk's transaction: the parents' committed chunks are
 * visible, and this chunk's rows written so far), then map each row into
 * w->mapped, keeping the rejected ones. With `held`, a row whose only
 * missing parent is its own table's goes there instead of the rejects.
 * A dry run has written no parent, so it does not check references.
 */
int engine_map_batch(struct worker *w, struct tbl *t, const struct barge_batch *b,
		     struct rejects *rs, struct held *held)
{
	struct ctx *cx = w->cx;
	struct barge_xf_reject x;
	struct barge_buf tmp, tmp2;
	int check = t->nrefs && !cx->job->dry_run, rc = 0;

	barge_buf_init(&tmp, 1u << 20);
	barge_buf_init(&tmp2, 1u << 20);
	barge_batch_reset(w->mapped);
	for (size_t k = 0; check && k < t->nrefs; k++) {
		struct barge_lookup q = {.table = t->refs[k].table,
					 .column = t->refs[k].column};
		if ((rc = barge_drv_lookup(&cx->dst, w->tconn, &q, b, t->refs[k].scol,
					   w->found + k * b->nrows, NULL)) < 0)
			goto out;
	}
	/* new keys from barge_keymap: the parents' (sequence) keys, and this
	 * table's own when it is numbered by a sequence */
	for (size_t k = 0; !cx->job->dry_run && k <= t->nrefs; k++) {
		struct barge_lookup q;
		size_t col;
		if (k < t->nrefs && t->refs[k].fed) {
			barge_keymap_query(&q, t->refs[k].table);
			col = t->refs[k].scol;
		} else if (k == t->nrefs && t->seq) {
			barge_keymap_query(&q, t->target_name);
			col = t->src->key[0];
		} else {
			continue;
		}
		barge_batch_reset(w->lk[k]);
		if ((rc = barge_drv_lookup(&cx->dst, w->tconn, &q, b, col, w->lkfound,
					   w->lk[k])) < 0)
			goto out;
	}
	for (size_t row = 0; row < b->nrows; row++) {
		int fresh = 0;
		memset(&x, 0, sizeof x);
		/* first: a row naming itself has its parent */
		int self = check && t->selfref &&
			   self_missing(t, b, row, w->found, &tmp, &tmp2);
		if (check && ref_missing(t, b, row, w->found, held != NULL, &tmp, &x)) {
			rc = 1;
		} else if (self) {
			if ((rc = held_add(held, t, b, row)) < 0)
				goto out;
		} else {
			if (!cx->job->dry_run && (rc = feed_keys(w, t, b, row, &fresh)) < 0)
				goto out;
			if ((rc = barge_xf_row(w->xrun, t->xf, b, row, w->mapped, &x)) < 0)
				goto out;
			if (rc == 0 && fresh) {
				w->seq_last++;
				w->seq_dirty = 1;
			}
		}
		if (rc == 1 && (rc = rejects_add(rs, t, b, row, &x)) < 0)
			goto out;
	}
	rc = 0;
out:
	barge_buf_dispose(&tmp);
	barge_buf_dispose(&tmp2);
	return rc;
}

/* ---- Sequences of added keys ------------------------------------------- */

/* The sequence's last number in barge_keyseq (in the chunk's transaction),
 * or start - 1 before its first chunk. */
static int seq_load(struct worker *w, const struct tbl *t)
{
	struct ctx *cx = w->cx;
	struct barge_lookup q = {.table = KEYSEQ_TABLE, .column = "table_name",
				 .value_column = "last_value"};
	struct barge_value v;
	int err;

	w->seq_last = t->seq_start - 1;
	w->seq_dirty = 0;
	barge_batch_reset(w->kmb);
	barge_batch_reset(w->lk[t->nrefs]);
	if ((err = barge_batch_put_bytes(w->kmb, 0, t->target_name,
					 strlen(t->target_name))) < 0 ||
	    (err = barge_batch_put_null(w->kmb, 1)) < 0 ||
	    (err = barge_batch_put_null(w->kmb, 2)) < 0)
		return err;
	barge_batch_end_row(w->kmb);
	if ((err = barge_drv_lookup(&cx->dst, w->tconn, &q, w->kmb, 0, w->lkfound,
				    w->lk[t->nrefs])) < 0)
		return err;
	barge_batch_get(w->lk[t->nrefs], 0, 0, &v);
	if (v.null)
		return 0;
	char num[32];
	snprintf(num, sizeof num, "%.*s", (int)(v.n < 31 ? v.n : 31), v.p);
	if (barge_parse_i64(&w->seq_last, num, KEYSEQ_TABLE ".last_value") < 0)
		return barge_error_wrap(BARGE_ERROR, "table %s", t->target_name);
	return 0;
}

/* Record the chunk's last number in barge_keyseq (upsert, in the chunk's
 * transaction, so it commits with the rows and key map rows it numbered). */
static int seq_save(struct worker *w, const struct tbl *t)
{
	struct ctx *cx = w->cx;
	struct barge_batch *b = NULL;
	struct barge_writer *wr = NULL;
	int types[2] = {BARGE_T_TEXT, BARGE_T_INT64};
	struct barge_write_req req = {.table = cx->ks_def, .ncols = 2,
				      .cols = cx->ks_cols, .mode = BARGE_MODE_UPSERT};
	int err;

	if (!w->seq_dirty)
		return 0;
	if ((err = barge_batch_new(&b, 2, types, 1)) < 0)
		return err;
	if ((err = barge_batch_put_bytes(b, 0, t->target_name,
					 strlen(t->target_name))) == 0 &&
	    (err = barge_batch_put_i64(b, 1, w->seq_last)) == 0) {
		barge_batch_end_row(b);
		if ((err = barge_drv_write_open(&cx->dst, &wr, w->tconn, &req)) == 0)
			err = barge_drv_write_batch(&cx->dst, wr, b);
	}
	barge_drv_write_close(&cx->dst, wr);
	barge_batch_free(b);
	return err;
}

/* ---- Writing a chunk --------------------------------------------------- */

char *engine_inflight_key(char *buf, size_t n, int64_t unit)
{
	snprintf(buf, n, "inflight:%lld", (long long)unit);
	return buf;
}

/*
 * Write a mapped batch in the chunk's transaction (the writer opened on
 * first use), and its rows' barge_keymap rows. A keymap table's writer is
 * closed after each batch, so that the key map's own writer is never open
 * beside it (one COPY at a time on a connection).
 */
static int write_mapped(struct worker *w, const struct tbl *t,
			const struct barge_batch *wb, struct barge_writer **wr,
			const struct barge_write_req *wreq,
			const struct barge_write_req *kreq, struct chunk_result *res)
{
	const struct barge_ep *dst = &w->cx->dst;
	int err = 0;
	if (!wb->nrows)
		return 0;
	if (!*wr)
		err = barge_drv_write_open(dst, wr, w->tconn, wreq);
	if (err == 0)
		err = barge_drv_write_batch(dst, *wr, wb);
	if (err == 0 && t->keymap) {
		struct barge_writer *kw = NULL;
		struct barge_buf a, n;
		barge_drv_write_close(dst, *wr);
		*wr = NULL;
		barge_buf_init(&a, 1u << 20);
		barge_buf_init(&n, 1u << 20);
		if ((err = keymap_batch(w, t, &a, &n)) == 0 &&
		    (err = barge_drv_write_open(dst, &kw, w->tconn, kreq)) == 0 &&
		    w->kmb->nrows)
			err = barge_drv_write_batch(dst, kw, w->kmb);
		barge_drv_write_close(dst, kw);
		barge_buf_dispose(&a);
		barge_buf_dispose(&n);
	}
	res->rows_written += (int64_t)wb->nrows;
	return err;
}

/*
 * The end of a self-referencing table's chunk: the held rows are tried
 * again, now that the chunk's other rows are in the target, as long as
 * each round writes some (a parent held too comes in an earlier round);
 * the rest are rejects (their parent is in no chunk so far: a later chunk
 * of the table may still bring it, see selfref_rounds).
 */
static int resolve_held(struct worker *w, struct tbl *t, struct barge_writer **wr,
			const struct barge_write_req *wreq,
			const struct barge_write_req *kreq, struct chunk_result *res)
{
	int err = 0, last = 0;
	while (err == 0 && w->held[0]->rows) {
		struct held *from = w->held[0], *to = w->held[1];
		size_t before = from->rows;
		held_clear(to);
		for (size_t i = 0; i < from->n && err == 0; i++) {
			err = engine_map_batch(w, t, from->v[i], &res->rej, last ? NULL : to);
			if (err == 0)
				err = write_mapped(w, t, w->mapped, wr, wreq, kreq, res);
		}
		held_clear(from);
		w->held[0] = to;
		w->held[1] = from;
		if (last)
			break;
		last = to->rows == before; /* no progress: one round to reject */
	}
	held_clear(w->held[0]);
	return err;
}

/*
 * Copy one chunk in one target transaction. `rerun` says an earlier
 * attempt may have committed rows of this chunk. A target without
 * transactions (no BARGE_CAP_TXN) gets the chunk as one part instead
 * (driver.h): part_begin, the writes, part_commit (or part_abort); the
 * part replaces the chunk's older one, so nothing is deleted first.
 * Validation (caps.c) has refused what such a target cannot carry: key
 * maps and sequences, lookups, upsert.
 */
int engine_copy_chunk(struct worker *w, struct tbl *t,
		      const struct barge_chunk *ch, int rerun,
		      struct chunk_result *res)
{
	struct ctx *cx = w->cx;
	const struct barge_ep *dst = &cx->dst;
	struct barge_writer *wr = NULL;
	struct barge_queue *pool = NULL, *full = NULL;
	struct reader rd;
	pthread_t th;
	int started = 0, in_txn = 0, have_turn = 0, have_seq = 0, err;
	int serial = !(dst->drv->caps & BARGE_CAP_PARALLEL_WRITE);
	int parts = !(dst->drv->caps & BARGE_CAP_TXN);
	int mode = t->jt->settings.mode;
	char fk[64];

	memset(&rd, 0, sizeof rd);
	if ((err = worker_batches(w, t)) < 0)
		return err;
	if (t->selfref) {
		held_clear(w->held[0]); /* from a failed attempt */
		held_clear(w->held[1]);
	}
	if ((mode == BARGE_MODE_INSERT || mode == BARGE_MODE_TRUNCATE) &&
	    (err = barge_state_flag_set(cx->st, cx->run,
					engine_inflight_key(fk, sizeof fk, ch->unit_id),
					"1")) < 0)
		return err;
	if ((err = barge_queue_new(&pool, w->nbatches)) < 0 ||
	    (err = barge_queue_new(&full, w->nbatches)) < 0)
		goto out;
	for (size_t i = 0; i < w->nbatches; i++)
		barge_queue_push(pool, w->batches[i]);

	/* The reader starts first: it fills the queue while this worker waits
	 * for its write turn. */
	rd.cx = cx;
	rd.t = t;
	rd.conn = w->sconn;
	rd.chunk = ch;
	rd.pool = pool;
	rd.full = full;
	if (pthread_create(&th, NULL, engine_reader_main, &rd) != 0) {
		err = barge_error_set(BARGE_ERROR, "cannot start a reader thread");
		goto out;
	}
	started = 1;
	if (serial) {
		pthread_mutex_lock(&cx->write_turn);
		have_turn = 1;
	}
	if (t->seq && !cx->job->dry_run) {
		pthread_mutex_lock(&t->seq_lock);
		have_seq = 1;
	}
	err = parts ? barge_drv_part_begin(dst, w->tconn, t->dst, ch)
		    : barge_drv_begin(dst, w->tconn);
	if (err < 0)
		goto out;
	in_txn = 1;
	if (have_seq && (err = seq_load(w, t)) < 0)
		goto out;
	/* truncate mode, a table of one chunk: emptied again in this
	 * transaction (it is empty already, or holds an earlier attempt's
	 * rows), so that its rows can be written frozen: no later VACUUM
	 * has to visit them */
	int freeze = !parts && mode == BARGE_MODE_TRUNCATE && t->nunits == 1 &&
		     cx->job->action == BARGE_JOB_COPY;
	if (freeze) {
		if ((err = barge_drv_truncate(dst, w->tconn, t->dst)) < 0)
			goto out;
	} else if (!parts && (mode == BARGE_MODE_REPLACE ||
			      (rerun && mode != BARGE_MODE_UPSERT))) {
		/* (a part replaces the chunk's older one: nothing to delete) */
		if (t->how == BARGE_CHUNK_ONE)
			err = barge_drv_truncate(dst, w->tconn, t->dst);
		else
			err = barge_drv_delete_range(dst, w->tconn, t->dst, ch);
		if (err < 0)
			goto out;
	}
	struct barge_write_req wreq = {
		.table = t->dst,
		.ncols = t->ncols,
		.cols = t->dst_cols,
		.with_rowid = t->with_rowid,
		.mode = mode,
		.freeze = freeze,
	};
	struct barge_write_req kreq = {
		.table = cx->km_def,
		.ncols = 3,
		.cols = cx->km_cols,
		.mode = BARGE_MODE_UPSERT,
	};
	if ((err = barge_drv_write_open(dst, &wr, w->tconn, &wreq)) < 0)
		goto out;
	for (;;) {
		void *item;
		if (barge_queue_pop(full, &item) != 0)
			break;
		struct barge_batch *b = item;
		const struct barge_batch *wb = b;
		if (t->xf) {
			err = engine_map_batch(w, t, b, &res->rej, t->selfref ? w->held[0] : NULL);
			wb = w->mapped;
		}
		if (err == 0)
			err = write_mapped(w, t, wb, &wr, &wreq, &kreq, res);
		barge_queue_push(pool, b);
		if (err < 0)
			break;
	}
	/* stop a reader still going after a failure, wherever it waits */
	barge_queue_close(pool);
	barge_queue_close(full);
	pthread_join(th, NULL);
	started = 0;
	if (err == 0 && rd.err < 0) {
		err = barge_error_set(rd.err, "%s", rd.msg);
		res->rows_written = 0;
	}
	for (size_t i = 0; err == 0 && i < rd.rej.n; i++) { /* the source's */
		if (res->rej.n == res->rej.cap) {
			size_t cap = res->rej.cap ? res->rej.cap * 2 : 64;
			struct barge_reject *nv = realloc(res->rej.v, cap * sizeof *nv);
			if (!nv) {
				err = barge_error_set(BARGE_ENOMEM, "out of memory");
				break;
			}
			res->rej.v = nv;
			res->rej.cap = cap;
		}
		res->rej.v[res->rej.n++] = rd.rej.v[i];
		memset(&rd.rej.v[i], 0, sizeof rd.rej.v[i]);
	}
	if (err == 0 && t->selfref && !cx->job->dry_run)
		err = resolve_held(w, t, &wr, &wreq, &kreq, res);
	barge_drv_write_close(dst, wr);
	wr = NULL;
	if (err == 0 && have_seq)
		err = seq_save(w, t);
	if (err < 0)
		goto out;
	err = parts ? barge_drv_part_commit(dst, w->tconn)
		    : barge_drv_commit(dst, w->tconn);
	if (err < 0)
		goto out;
	in_txn = 0;
	if (have_seq) {
		pthread_mutex_unlock(&t->seq_lock);
		have_seq = 0;
	}
	if (have_turn) {
		pthread_mutex_unlock(&cx->write_turn);
		have_turn = 0;
	}
	res->rows_read = rd.rows;
	res->bytes = rd.bytes;
	barge_digest_hex(&rd.digest, res->digest);
out:
	if (started) {
		barge_queue_close(pool);
		barge_queue_close(full);
		pthread_join(th, NULL);
	}
	barge_drv_write_close(dst, wr);
	if (in_txn) {
		/* keep the first error's message; a failed rollback of a lost
		 * connection says nothing new */
		char keep[1024];
		int code = barge_error_code();
		snprintf(keep, sizeof keep, "%s", barge_error_last());
		if (parts)
			barge_drv_part_abort(dst, w->tconn);
		else
			barge_drv_rollback(dst, w->tconn);
		barge_error_set(code, "%s", keep);
	}
	if (have_seq)
		pthread_mutex_unlock(&t->seq_lock);
	if (have_turn)
		pthread_mutex_unlock(&cx->write_turn);
	barge_queue_free(pool);
	barge_queue_free(full);
	rejects_dispose(&rd.rej);
	if (err < 0) {
		res->rows_written = 0;
		rejects_dispose(&res->rej);
	}
	return err;
}
