/*
 * verify's tables: each table resolved on both sides (columns, key,
 * the plan's mapping), how its digests are made, and the opening and
 * closing of both endpoints around them. Kept apart from the comparing,
 * which only reads what is set here.
 */
#include "verify_int.h"
#include "caps.h"
#include "plan.h"

#include <stdlib.h>
#include <string.h>

/* ---- Tables ---------------------------------------------------------------- */

static void vt_dispose(struct vt *t)
{
	barge_table_def_free(t->sdef);
	barge_table_def_free(t->ddef);
	free(t->scols);
	free(t->dcols);
	free(t->stypes);
	free(t->dtypes);
	free(t->kpos);
	barge_xf_free(t->xf);
	barge_rejected_free(t->rej);
	barge_vfeeds_free(t->feeds);
	free(t->rd_cols);
	free(t->rd_types);
	barge_chunk_list_dispose(&t->chunks);
	free(t->bd[0]);
	free(t->bd[1]);
	if (t->lock_init)
		pthread_mutex_destroy(&t->lock);
}

/* The name a compared column is reported by: the source's, or with a
 * mapping the target's (a mapped value may come from no one source
 * column, and the target's key is what a fix would look up). */
const char *verify_vt_colname(const struct vt *t, size_t c)
{
	return t->xf ? t->ddef->cols[t->dcols[c]].name
		     : t->sdef->cols[t->scols[c]].name;
}

/*
 * The plan's mapping of a table, when it asks for more than renames and
 * skips: compiled as `barge run` compiles it (barge_bind_mapping), every
 * source column read, and the target's columns compared in the mapping's
 * order, the source side with the mapping's types (after casts). `names`
 * are the compared columns' target names.
 */
static int vt_mapping(struct vt *t, const char *tname, const char *const *names)
{
	const struct barge_table_def *d = t->sdef;
	size_t *scols = NULL, *dcols = NULL;
	int *stypes = NULL, *dtypes = NULL;
	size_t n = t->ncols, nx;
	int err;

	if ((err = barge_bind_mapping(&t->xf, d, t->jt, n, t->scols, names)) < 0 ||
	    !t->xf)
		return err;
	nx = barge_xf_ncols(t->xf);
	scols = calloc(nx + 1, sizeof *scols);
	dcols = calloc(nx + 1, sizeof *dcols);
	stypes = calloc(nx + 1, sizeof *stypes);
	dtypes = calloc(nx + 1, sizeof *dtypes);
	t->rd_cols = calloc(d->ncols + 1, sizeof *t->rd_cols);
	t->rd_types = calloc(d->ncols + 1, sizeof *t->rd_types);
	if (!scols || !dcols || !stypes || !dtypes || !t->rd_cols || !t->rd_types) {
		err = barge_error_set(BARGE_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < nx; i++) {
		const struct barge_column_def *c = barge_xf_col(t->xf, i);
		int dc = barge_table_def_find(t->ddef, c->name);
		int sc = i < n ? barge_xf_source(t->xf, i) : -1;
		if (dc < 0) {
			err = barge_error_set(BARGE_EUSAGE,
					      "target table '%s' has no column '%s'",
					      tname, c->name);
			goto out;
		}
		/* added columns stand for no source column (never a key) */
		scols[i] = sc >= 0 ? (size_t)sc : SIZE_MAX;
		dcols[i] = (size_t)dc;
		stypes[i] = c->type;
		dtypes[i] = t->ddef->cols[dc].type;
	}
	/* the transform stage maps rows of every source column, in order */
	for (size_t c = 0; c < d->ncols; c++) {
		t->rd_cols[c] = c;
		t->rd_types[c] = d->cols[c].type;
	}
	t->rd_ncols = d->ncols;
	free(t->scols);
	free(t->dcols);
	free(t->stypes);
	free(t->dtypes);
	t->scols = scols;
	t->dcols = dcols;
	t->stypes = stypes;
	t->dtypes = dtypes;
	scols = dcols = NULL;
	stypes = dtypes = NULL;
	t->ncols = nx;
out:
	free(scols);
	free(dcols);
	free(stypes);
	free(dtypes);
	return err;
}

/*
 * How chunk digests are made (docs/verify.md, "The in-database digest"):
 * in the database on each side whose driver can encode every compared
 * column exactly (or, the same driver on both sides, in its own form for
 * JSON); a side that cannot streams its rows and hashes them here in the
 * same fast-path form. Neither side able: canonical digests, streamed.
 * It is off unless asked for (--in-database): on the benchmark here,
 * PostgreSQL's md5() made it slower than streaming (docs/verify.md).
 * BARGE_NO_FASTPATH=1 turns it off; =source or =target makes that side
 * stream (tests compare the database's encoding with barge's that way), and
 * any other value (=0) turns it on like --in-database.
 */
static void choose_digest(struct vctx *cx, struct vt *t)
{
	const char *off = getenv("BARGE_NO_FASTPATH");
	if (!cx->o->in_database && !off)
		return;
	int no_s = off && strcmp(off, "source") == 0;
	int no_d = off && strcmp(off, "target") == 0;
	if (off && strcmp(off, "1") == 0)
		return;
	int native = !no_s && !no_d &&
		     strcmp(cx->src.drv->name, cx->dst.drv->name) == 0;
	for (int nat = native; nat >= 0; nat--) {
		int s = !no_s && barge_drv_digest_able(&cx->src, cx->slead, t->sdef,
						       t->ncols, t->scols, nat);
		int d = !no_d && barge_drv_digest_able(&cx->dst, cx->dlead, t->ddef,
						       t->ncols, t->dcols, nat);
		/* a native form is only comparable with itself */
		if (nat && !(s && d))
			continue;
		if (s || d) {
			t->fast = 1;
			t->sdb = s;
			t->ddb = d;
			t->native = nat;
		}
		return;
	}
}

/* Resolve one table on both sides: columns, key, key positions. */
static int vt_resolve(struct vctx *cx, struct vt *t,
		      struct barge_verify_table *r)
{
	const struct barge_job_table *jt = t->jt;
	const char *tname = jt->target ? jt->target : jt->name;
	struct barge_table_def *d;
	int err;

	err = barge_drv_describe(&cx->src, cx->slead, jt->name, &t->sdef);
	if (err == BARGE_ENOTFOUND)
		return barge_error_set(BARGE_EUSAGE, "no table '%s' in the source %s",
				       jt->name, barge_url_redacted(cx->src.url));
	if (err < 0)
		return err;
	err = barge_drv_describe(&cx->dst, cx->dlead, tname, &t->ddef);
	if (err == BARGE_ENOTFOUND)
		return barge_error_set(BARGE_EUSAGE, "no table '%s' in the target %s",
				       tname, barge_url_redacted(cx->dst.url));
	if (err < 0)
		return err;
	d = t->sdef;
	if ((err = barge_job_table_apply(d, jt)) < 0)
		return err;
	t->scols = calloc(d->ncols + 1, sizeof *t->scols);
	t->dcols = calloc(d->ncols + 1, sizeof *t->dcols);
	t->stypes = calloc(d->ncols + 1, sizeof *t->stypes);
	t->dtypes = calloc(d->ncols + 1, sizeof *t->dtypes);
	t->kpos = calloc(d->nkey + 1, sizeof *t->kpos);
	if (!t->scols || !t->dcols || !t->stypes || !t->dtypes || !t->kpos)
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	size_t n = 0;
	const char **names = calloc(d->ncols + 1, sizeof *names);
	if (!names)
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	barge_bind_columns(t->scols, names, &n, d, jt);
	t->ncols = n;
	for (size_t i = 0; i < n && err == 0; i++) {
		int dc = barge_table_def_find(t->ddef, names[i]);
		if (dc < 0) {
			err = barge_error_set(BARGE_EUSAGE,
					      "target table '%s' has no column '%s'",
					      tname, names[i]);
			break;
		}
		t->dcols[i] = (size_t)dc;
		t->stypes[i] = d->cols[t->scols[i]].type;
		t->dtypes[i] = t->ddef->cols[dc].type;
	}
	if (err == 0 && n == 0)
		err = barge_error_set(BARGE_EUSAGE, "table '%s': no columns to compare",
				      d->name);
	if (err == 0)
		err = vt_mapping(t, tname, names);
	free(names);
	if (err < 0)
		return err;
	n = t->ncols;

	/* Keyed when the key is usable for ranges and every key column is
	 * compared; the target's key becomes the same columns, so ranges and
	 * key order mean the same on both sides. */
	t->keyed = barge_chunking_for(d, 0) != BARGE_CHUNK_ONE &&
		   barge_chunking_for(d, 0) != BARGE_CHUNK_ROWID;
	for (size_t k = 0; t->keyed && k < d->nkey; k++) {
		int at = -1;
		for (size_t i = 0; i < n; i++)
			if (t->scols[i] == d->key[k])
				at = (int)i;
		if (at < 0)
			t->keyed = 0;
		else
			t->kpos[k] = (size_t)at;
	}
	if (t->keyed) {
		t->nkey = d->nkey;
		free(t->ddef->key);
		t->ddef->key = calloc(d->nkey, sizeof *t->ddef->key);
		if (!t->ddef->key)
			return barge_error_set(BARGE_ENOMEM, "out of memory");
		for (size_t k = 0; k < d->nkey; k++)
			t->ddef->key[k] = t->dcols[t->kpos[k]];
		t->ddef->nkey = d->nkey;
	}

	r->table = strdup(jt->name);
	r->target = strdup(tname);
	r->keyed = t->keyed;
	r->nfields = t->keyed ? t->nkey : n;
	r->fields = calloc(r->nfields + 1, sizeof *r->fields);
	if (!r->table || !r->target || !r->fields)
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	for (size_t i = 0; i < r->nfields; i++) {
		size_t bc = t->keyed ? t->kpos[i] : i;
		r->fields[i] = strdup(verify_vt_colname(t, bc));
		if (!r->fields[i])
			return barge_error_set(BARGE_ENOMEM, "out of memory");
	}
	t->res = r;
	r->equal = 1;
	if (!t->xf) /* mapped rows exist only here: streamed */
		choose_digest(cx, t);
	r->digests = !t->fast ? "streamed"
		     : t->sdb && t->ddb ? "in-database"
		     : t->sdb ? "in-database (source), streamed (target)"
		     : "streamed (source), in-database (target)";
	if (pthread_mutex_init(&t->lock, NULL) != 0)
		return barge_error_set(BARGE_ERROR, "cannot create a lock");
	t->lock_init = 1;
	return 0;
}

/*
 * What the run did besides the mapping (verify_map.h): foreign keys
 * rewritten to a parent's new key are rewritten here too (a uuid_v5
 * computed, a sequence number fed from barge_keymap as the rows are read;
 * the compared type becomes the new key's), and the rows the run rejected
 * (its state store) are left out of the source side.
 */
static int vts_through_run(struct vctx *cx)
{
	size_t n = cx->nvts;
	struct barge_bind_table *bt = calloc(n + 1, sizeof *bt);
	struct barge_vfeeds **feeds = calloc(n + 1, sizeof *feeds);
	const char ***names = calloc(n + 1, sizeof *names);
	int err = 0;

	if (!bt || !feeds || !names) {
		err = barge_error_set(BARGE_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const struct vt *t = &cx->vts[i];
		bt[i].src = t->sdef;
		bt[i].target = t->res->target;
		bt[i].xf = t->xf;
		if (t->xf)
			continue;
		/* a plain copy: its compared columns, by their target names */
		if (!(names[i] = calloc(t->ncols + 1, sizeof *names[i]))) {
			err = barge_error_set(BARGE_ENOMEM, "out of memory");
			goto out;
		}
		for (size_t c = 0; c < t->ncols; c++)
			names[i][c] = t->ddef->cols[t->dcols[c]].name;
		bt[i].ncols = t->ncols;
		bt[i].src_cols = t->scols;
		bt[i].dst_names = names[i];
	}
	err = barge_verify_remap(n, bt, feeds);
	for (size_t i = 0; i < n; i++)
		cx->vts[i].feeds = feeds[i];
	for (size_t i = 0; i < n && err == 0; i++) {
		struct vt *t = &cx->vts[i];
		if (!t->xf)
			continue;
		for (size_t c = 0; c < t->ncols; c++)
			t->stypes[c] = barge_xf_col(t->xf, c)->type;
		err = barge_rejected_load(&t->rej, cx->o->state_path, t->sdef);
	}
out:
	for (size_t i = 0; names && i < n; i++)
		free(names[i]);
	free(names);
	free(bt);
	free(feeds);
	return err;
}

/* ---- Both endpoints ------------------------------------------------------- */

/* Open both sides, snapshot both, resolve the tables. */
int verify_vctx_open(struct vctx *cx, struct barge_verify_result *res)
{
	const struct barge_verify_opts *o = cx->o;
	char **names = NULL;
	int err;

	if ((err = barge_ep_init(&cx->src, o->source)) < 0 ||
	    (err = barge_ep_init(&cx->dst, o->target)) < 0 ||
	    (err = barge_drv_open(&cx->src, &cx->slead, BARGE_OPEN_READ)) < 0 ||
	    (err = barge_drv_open(&cx->dst, &cx->dlead, BARGE_OPEN_READ)) < 0)
		return err;
	cx->npre = (size_t)(o->jobs > 0 ? o->jobs : 1);
	cx->spre = calloc(cx->npre, sizeof *cx->spre);
	cx->dpre = calloc(cx->npre, sizeof *cx->dpre);
	if (!cx->spre || !cx->dpre)
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	if ((err = barge_drv_snapshot_group(&cx->src, cx->slead, &cx->stoken,
					    cx->npre, cx->spre)) < 0 ||
	    (err = barge_drv_snapshot_group(&cx->dst, cx->dlead, &cx->dtoken,
					    cx->npre, cx->dpre)) < 0)
		return err;
	const struct barge_job_table *jts = o->tables;
	size_t n = o->ntables;
	if (n == 0) {
		if ((err = barge_drv_list_tables(&cx->src, cx->slead, &names)) < 0)
			return err;
		while (names[n])
			n++;
		cx->owned = calloc(n ? n : 1, sizeof *cx->owned);
		if (!cx->owned) {
			barge_names_free(names);
			return barge_error_set(BARGE_ENOMEM, "out of memory");
		}
		for (size_t i = 0; i < n; i++) {
			cx->owned[i].name = names[i];
			names[i] = NULL;
		}
		cx->nowned = n;
		barge_names_free(names);
		jts = cx->owned;
	}
	cx->vts = calloc(n ? n : 1, sizeof *cx->vts);
	res->tables = calloc(n ? n : 1, sizeof *res->tables);
	if (!cx->vts || !res->tables)
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		struct barge_caps_use use = {.jt = &jts[i], .jobs = o->jobs,
					     .invariants = 1};
		if ((err = barge_caps_check(&cx->src, &cx->dst, &use)) < 0)
			return err;
		cx->vts[i].jt = &jts[i];
		cx->nvts++;
		res->ntables++;
		if ((err = vt_resolve(cx, &cx->vts[i], &res->tables[i])) < 0)
			return err;
	}
	return vts_through_run(cx);
}

void verify_vctx_close(struct vctx *cx)
{
	for (size_t i = 0; i < cx->nvts; i++)
		vt_dispose(&cx->vts[i]);
	free(cx->vts);
	for (size_t i = 0; i < cx->npre; i++) {
		if (cx->spre)
			barge_drv_close(&cx->src, cx->spre[i]);
		if (cx->dpre)
			barge_drv_close(&cx->dst, cx->dpre[i]);
	}
	free(cx->spre);
	free(cx->dpre);
	if (cx->slead && cx->stoken)
		barge_drv_snapshot_end(&cx->src, cx->slead);
	if (cx->dlead && cx->dtoken)
		barge_drv_snapshot_end(&cx->dst, cx->dlead);
	free(cx->stoken);
	free(cx->dtoken);
	barge_drv_close(&cx->src, cx->slead);
	barge_drv_close(&cx->dst, cx->dlead);
	barge_job_tables_free(cx->owned, cx->nowned);
	barge_ep_dispose(&cx->src);
	barge_ep_dispose(&cx->dst);
}

void verify_opts_defaults(struct vctx *cx, const struct barge_verify_opts *o)
{
	cx->o = o;
	cx->max_diffs = o->max_diffs > 0 ? o->max_diffs : 1000;
	cx->leaf_rows = o->leaf_rows > 0 ? o->leaf_rows : 1000;
}
