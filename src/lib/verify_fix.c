/*
 * barge fix (barge_verify_fix): what verify found different re-copied from
 * the source, one target transaction a table.
 */
#include "verify_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Fix ---------------------------------------------------------------------------- */

/* Copy the source rows of `ch` into the open target transaction. */
static int copy_range(struct vctx *cx, struct vt *t, struct barge_conn *tc,
		      const struct barge_chunk *ch, int64_t *rows)
{
	struct barge_reader *rd = NULL;
	struct barge_writer *wr = NULL;
	struct barge_batch *b = NULL;
	struct barge_read_req req = {
		.table = t->sdef, .chunk = ch, .ncols = t->ncols,
		.cols = t->scols, .where = t->jt->where,
	};
	struct barge_write_req wreq = {
		.table = t->ddef, .ncols = t->ncols, .cols = t->dcols,
		.mode = BARGE_MODE_INSERT,
	};
	int err;

	if ((err = barge_batch_new(&b, t->ncols, t->stypes, BATCH_ROWS)) < 0 ||
	    (err = barge_drv_read_open(&cx->src, &rd, cx->slead, &req)) < 0 ||
	    (err = barge_drv_write_open(&cx->dst, &wr, tc, &wreq)) < 0)
		goto out;
	for (;;) {
		if ((err = barge_drv_read_next(&cx->src, rd, b)) < 0 || b->nrows == 0)
			break;
		if ((err = barge_drv_write_batch(&cx->dst, wr, b)) < 0)
			break;
		*rows += (int64_t)b->nrows;
	}
out:
	barge_drv_write_close(&cx->dst, wr);
	barge_drv_read_close(&cx->src, rd);
	barge_batch_free(b);
	return err;
}

/* Insert keyless rows listed as missing, from their recorded values. */
static int insert_rows(struct vctx *cx, struct vt *t, struct barge_conn *tc,
		       const struct barge_verify_table *r, int64_t *fixed)
{
	struct barge_writer *wr = NULL;
	struct barge_batch *b = NULL;
	struct barge_write_req wreq = {
		.table = t->ddef, .ncols = t->ncols, .cols = t->dcols,
		.mode = BARGE_MODE_INSERT,
	};
	int err;

	if ((err = barge_batch_new(&b, t->ncols, t->stypes, 1)) < 0 ||
	    (err = barge_drv_write_open(&cx->dst, &wr, tc, &wreq)) < 0)
		goto out;
	for (size_t i = 0; i < r->ndiffs; i++) {
		const struct barge_verify_diff *d = &r->diffs[i];
		if (d->kind != BARGE_DIFF_MISSING || !d->key || d->key->n != t->ncols)
			continue;
		barge_batch_reset(b);
		for (size_t c = 0; c < t->ncols && err == 0; c++) {
			if (d->key->v[c].null)
				err = barge_batch_put_null(b, c);
			else if (t->stypes[c] == BARGE_T_ANY)
				err = barge_batch_put_tagged(b, c, &d->key->v[c]);
			else
				err = barge_batch_put_value(b, c, &d->key->v[c]);
		}
		if (err < 0)
			goto out;
		barge_batch_end_row(b);
		if ((err = barge_drv_write_batch(&cx->dst, wr, b)) < 0)
			goto out;
		(*fixed)++;
	}
out:
	barge_drv_write_close(&cx->dst, wr);
	barge_batch_free(b);
	return err;
}

/* Fix one table in one target transaction. */
static int fix_table(struct vctx *cx, struct vt *t, struct barge_conn *tc,
		     const struct barge_verify_table *r, int64_t *fixed,
		     int64_t *unfixable)
{
	int err, in_txn = 0;

	/* the fix copies source rows as they are; a mapped row is barge
	 * run's, one row at a time (verify_map.c) */
	if (t->xf)
		return barge_verify_fix_mapped(cx->o, t->jt->name, r, fixed, unfixable);
	if ((err = barge_drv_begin(&cx->dst, tc)) < 0)
		return err;
	in_txn = 1;
	if (!t->keyed) {
		for (size_t i = 0; i < r->ndiffs; i++)
			if (r->diffs[i].kind == BARGE_DIFF_EXTRA)
				(*unfixable)++;
		if ((err = insert_rows(cx, t, tc, r, fixed)) < 0)
			goto out;
	}
	for (size_t i = 0; t->keyed && i < r->ndiffs; i++) {
		const struct barge_verify_diff *d = &r->diffs[i];
		/* the point chunk [key, key]: that row and no other */
		struct barge_chunk ch = {.lo = d->key, .hi = d->key, .hi_incl = 1};
		int64_t rows = 0;
		if (!d->key)
			continue;
		for (size_t c = 0; c < d->key->n; c++)
			if (d->key->v[c].null) {
				err = barge_error_set(BARGE_EDATA, "fix: a NULL key value");
				goto out;
			}
		err = barge_drv_delete_range(&cx->dst, tc, t->ddef, &ch);
		if (err == 0)
			err = copy_range(cx, t, tc, &ch, &rows);
		if (err < 0)
			goto out;
		(*fixed)++;
	}
	err = barge_drv_commit(&cx->dst, tc);
	in_txn = err < 0;
out:
	if (in_txn) {
		char keep[1024];
		int code = barge_error_code();
		snprintf(keep, sizeof keep, "%s", barge_error_last());
		barge_drv_rollback(&cx->dst, tc);
		barge_error_set(code, "%s", keep);
	}
	return err;
}

int barge_verify_fix(const struct barge_verify_opts *o,
		     const struct barge_verify_result *res, int64_t *fixed,
		     int64_t *unfixable)
{
	struct vctx cx;
	struct barge_verify_result tmp;
	struct barge_conn *tc = NULL;
	int err;

	*fixed = 0;
	*unfixable = 0;
	memset(&cx, 0, sizeof cx);
	memset(&tmp, 0, sizeof tmp);
	verify_opts_defaults(&cx, o);
	pthread_mutex_init(&cx.qlock, NULL);
	if ((err = verify_vctx_open(&cx, &tmp)) < 0)
		goto out;
	/* the fix writes the target: no read snapshot of ours may hold it */
	if (cx.dtoken) {
		barge_drv_snapshot_end(&cx.dst, cx.dlead);
		free(cx.dtoken);
		cx.dtoken = NULL;
	}
	if ((err = barge_drv_open(&cx.dst, &tc, BARGE_OPEN_WRITE)) < 0)
		goto out;
	for (size_t i = 0; i < res->ntables; i++) {
		const struct barge_verify_table *r = &res->tables[i];
		if (r->equal || r->ndiffs == 0)
			continue;
		struct vt *t = NULL;
		for (size_t j = 0; j < cx.nvts; j++)
			if (strcmp(cx.vts[j].jt->name, r->table) == 0)
				t = &cx.vts[j];
		if (!t) {
			err = barge_error_set(BARGE_EUSAGE, "fix: table '%s' is not in this job",
					      r->table);
			goto out;
		}
		if ((err = fix_table(&cx, t, tc, r, fixed, unfixable)) < 0) {
			barge_error_wrap(err, "fix: table '%s'", r->table);
			goto out;
		}
	}
out:
	barge_drv_close(&cx.dst, tc);
	verify_vctx_close(&cx);
	barge_verify_result_dispose(&tmp);
	pthread_mutex_destroy(&cx.qlock);
	return err;
}
