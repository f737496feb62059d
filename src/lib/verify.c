/*
 * verify (verify.h): the entry point, barge_verify, and how its work runs:
 * the work of each phase, the worker threads that take it, the progress
 * lines. What a piece of work does lives in its own file (verify_int.h).
 */
#include "verify_int.h"
#include "progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- Work ----------------------------------------------------------------------------- */

/* The next piece of work of this phase; 0 when none is left. */
static int take_work(struct vctx *cx, struct vwork *out)
{
	int got = 0;
	pthread_mutex_lock(&cx->qlock);
	if (cx->next_work < cx->nwork) {
		*out = cx->work[cx->next_work++];
		got = 1;
	}
	pthread_mutex_unlock(&cx->qlock);
	return got;
}

static int do_chunk(struct vworker *w, struct vt *t, size_t ci)
{
	struct vctx *cx = w->cx;
	struct side ss, ds;
	struct barge_chunk ch;
	struct barge_digest x, y;
	int err;

	verify_side_of(&ss, cx, t, 0, w->sconn);
	verify_side_of(&ds, cx, t, 1, w->dconn);
	if (ci == SIZE_MAX)
		return verify_compare_keyless(cx, t, &ss, &ds);
	if ((err = barge_chunk_from_json(&ch, t->sdef, 0, t->chunks.units[ci].lo,
					 t->chunks.units[ci].hi)) < 0)
		goto out;
	ch.seq = (int64_t)ci;
	if ((err = verify_side_digest(&ss, t->ncols, &ch, &x)) < 0 ||
	    (err = verify_side_digest(&ds, t->ncols, &ch, &y)) < 0)
		goto out;
	atomic_fetch_add(&t->rows_read, (long long)(x.rows + y.rows));
	pthread_mutex_lock(&t->lock);
	t->res->source_rows += x.rows;
	t->res->target_rows += y.rows;
	int differs = x.rows != y.rows || x.lo != y.lo || x.hi != y.hi;
	if (differs)
		t->res->chunks_differing++;
	pthread_mutex_unlock(&t->lock);
	if (differs)
		err = verify_localize(cx, t, &ss, &ds, &ch, x.rows, 0);
out:
	barge_key_free(ch.lo);
	barge_key_free(ch.hi);
	return err;
}

/* ---- Workers -------------------------------------------------------------------------- */

static int do_work(struct vworker *w, const struct vwork *wk)
{
	struct vt *t = &w->cx->vts[wk->table];
	switch (wk->kind) {
	case W_KEYLESS: return do_chunk(w, t, SIZE_MAX);
	case W_PASS: return verify_do_pass(w, t, wk->idx, wk->side);
	case W_BUCKET: return verify_do_bucket(w, t, wk->idx);
	default: return do_chunk(w, t, wk->idx);
	}
}

static void *vworker_main(void *arg)
{
	struct vworker *w = arg;
	struct vctx *cx = w->cx;
	struct vwork wk;

	while (!atomic_load(&cx->failed) && take_work(cx, &wk)) {
		struct vt *t = &cx->vts[wk.table];
		double t0 = barge_monotonic();
		int err = do_work(w, &wk);
		pthread_mutex_lock(&t->lock);
		t->res->seconds += barge_monotonic() - t0;
		pthread_mutex_unlock(&t->lock);
		if (err < 0) {
			pthread_mutex_lock(&cx->qlock);
			if (!atomic_load(&cx->failed)) {
				snprintf(cx->errmsg, sizeof cx->errmsg, "%s",
					 barge_error_last());
				cx->errcode = err;
				atomic_store(&cx->failed, 1);
			}
			pthread_mutex_unlock(&cx->qlock);
		}
	}
	return NULL;
}

/* A worker's connection to one side: the one opened with the leader's
 * snapshot, else a new one that joins it. */
static int vside_open(const struct barge_ep *ep, struct barge_conn **pre,
		      size_t npre, size_t id, const char *token,
		      struct barge_conn **out)
{
	int err;
	if (id < npre && pre[id]) {
		*out = pre[id];
		pre[id] = NULL;
		return 0;
	}
	if ((err = barge_drv_open(ep, out, BARGE_OPEN_READ)) < 0)
		return err;
	return barge_drv_snapshot_join(ep, *out, token);
}

static int vworker_open(struct vworker *w)
{
	struct vctx *cx = w->cx;
	int err;
	if ((err = vside_open(&cx->src, cx->spre, cx->npre, w->id, cx->stoken,
			      &w->sconn)) < 0)
		return err;
	return vside_open(&cx->dst, cx->dpre, cx->npre, w->id, cx->dtoken,
			  &w->dconn);
}

static void vworker_close(struct vworker *w)
{
	struct vctx *cx = w->cx;
	if (w->sconn && cx->stoken)
		barge_drv_snapshot_end(&cx->src, w->sconn);
	if (w->dconn && cx->dtoken)
		barge_drv_snapshot_end(&cx->dst, w->dconn);
	barge_drv_close(&cx->src, w->sconn);
	barge_drv_close(&cx->dst, w->dconn);
	w->sconn = w->dconn = NULL;
}

/* ---- Progress ----------------------------------------------------------------------- */

struct vprogress {
	struct vctx *cx;
	FILE *o;
	int tty, lines, done;
	double t0;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
};

/* One line a table: rows read of both sides so far. */
static void vprogress_draw(struct vprogress *p, int final)
{
	double el = barge_monotonic() - p->t0;
	if (p->tty && p->lines)
		fprintf(p->o, "\033[%dA", p->lines);
	p->lines = 0;
	for (size_t i = 0; i < p->cx->nvts; i++) {
		struct vt *t = &p->cx->vts[i];
		long long done = atomic_load(&t->rows_read);
		long long total = t->est_rows > done ? t->est_rows : done;
		barge_progress_line(p->o, p->tty, t->jt->name, done,
				    final ? done : total, el > 0 ? done / el : 0, final);
		p->lines++;
	}
	fflush(p->o);
}

static void vprogress_draw_tick(void *arg)
{
	vprogress_draw(arg, 0);
}

static void *vprogress_main(void *arg)
{
	struct vprogress *p = arg;
	barge_progress_loop(&p->lock, &p->cond, &p->done, p->tty, vprogress_draw_tick, p);
	return NULL;
}

static int vprogress_start(struct vprogress *p, struct vctx *cx)
{
	memset(p, 0, sizeof *p);
	if (!cx->o->progress)
		return 0;
	p->cx = cx;
	p->o = cx->o->progress_out ? cx->o->progress_out : stderr;
	p->tty = isatty(fileno(p->o));
	p->t0 = barge_monotonic();
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	if (pthread_create(&p->thread, NULL, vprogress_main, p) != 0) {
		pthread_mutex_destroy(&p->lock);
		pthread_cond_destroy(&p->cond);
		return barge_error_set(BARGE_ERROR, "cannot start the progress thread");
	}
	return 1;
}

/* Stop the thread and draw the last lines. */
static void vprogress_stop(struct vprogress *p, int started)
{
	if (started <= 0)
		return;
	pthread_mutex_lock(&p->lock);
	p->done = 1;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
	pthread_join(p->thread, NULL);
	vprogress_draw(p, 1);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
}

/* ---- Phases --------------------------------------------------------------------------- */

/* Append a piece of work to this phase's list. */
static int work_add(struct vctx *cx, size_t *cap, size_t table, int kind,
		    int side, size_t idx)
{
	struct vwork *g = barge_grow(cx->work, cap, cx->nwork, sizeof *g, 64);
	if (!g)
		return BARGE_ENOMEM;
	cx->work = g;
	cx->work[cx->nwork++] = (struct vwork){table, kind, side, idx};
	return 0;
}

/* Phase 1: each bucketed part's source and target reads side by side (so
 * both servers work at once), every chunk, every keyless table. */
static int work_first(struct vctx *cx)
{
	size_t cap = 0;
	int err = 0;
	cx->nwork = cx->next_work = 0;
	for (size_t i = 0; i < cx->nvts && err == 0; i++) {
		struct vt *t = &cx->vts[i];
		if (!t->keyed)
			err = work_add(cx, &cap, i, W_KEYLESS, 0, 0);
		for (size_t p = 0; t->bucketed && p < t->nparts && err == 0; p++)
			if ((err = work_add(cx, &cap, i, W_PASS, 0, p)) == 0)
				err = work_add(cx, &cap, i, W_PASS, 1, p);
		for (size_t c = 0; t->keyed && !t->bucketed && c < t->chunks.n && err == 0; c++)
			err = work_add(cx, &cap, i, W_CHUNK, 0, c);
	}
	return err;
}

/* Phase 2: the buckets whose counts or digests differ. */
static int work_buckets(struct vctx *cx)
{
	size_t cap = 0;
	int err = 0;
	cx->nwork = cx->next_work = 0;
	for (size_t i = 0; i < cx->nvts && err == 0; i++) {
		struct vt *t = &cx->vts[i];
		for (size_t b = 0; t->bucketed && b < t->nb && err == 0; b++) {
			const struct barge_digest *x = &t->bd[0][b], *y = &t->bd[1][b];
			if (x->rows == y->rows && x->lo == y->lo && x->hi == y->hi)
				continue;
			t->res->chunks_differing++;
			err = work_add(cx, &cap, i, W_BUCKET, 0, b);
		}
	}
	return err;
}

/* Run the phase's work on `jobs` threads; the first failure stops it. */
static int run_workers(struct vctx *cx, struct vworker *ws, int jobs)
{
	int started = 0, err = 0;
	for (int i = 0; i < jobs; i++) {
		if (pthread_create(&ws[i].thread, NULL, vworker_main, &ws[i]) != 0) {
			err = barge_error_set(BARGE_ERROR, "cannot start verify threads");
			atomic_store(&cx->failed, 1);
			break;
		}
		started++;
	}
	for (int i = 0; i < started; i++)
		pthread_join(ws[i].thread, NULL);
	if (err == 0 && atomic_load(&cx->failed))
		err = barge_error_set(cx->errcode, "%s", cx->errmsg);
	return err;
}

/* ---- The entry point ------------------------------------------------------------------ */

int barge_verify(const struct barge_verify_opts *o,
		 struct barge_verify_result *res)
{
	struct vctx cx;
	struct vworker *ws = NULL;
	int jobs = o->jobs > 0 ? o->jobs : 1, prog_on = 0, err;
	struct vprogress prog;
	int64_t chunk_rows = o->chunk_rows > 0 ? o->chunk_rows : 10000;
	double t0 = barge_monotonic();

	memset(res, 0, sizeof *res);
	if (o->against_state)
		return verify_against_state(o, res);
	memset(&cx, 0, sizeof cx);
	verify_opts_defaults(&cx, o);
	pthread_mutex_init(&cx.qlock, NULL);
	if ((err = verify_vctx_open(&cx, res)) < 0)
		goto out;
	for (size_t i = 0; i < cx.nvts; i++) {
		struct vt *t = &cx.vts[i];
		if (!t->keyed)
			continue;
		if (verify_bucket_able(t)) {
			if ((err = verify_plan_buckets(&cx, t, jobs)) < 0)
				goto out;
			continue;
		}
		int how = barge_chunking_for(t->sdef, 0);
		if ((err = barge_chunk_plan(&t->chunks, &cx.src, cx.slead, t->sdef,
					    how, chunk_rows, (int)jobs)) < 0)
			goto out;
		t->res->chunks = (int64_t)t->chunks.n;
		t->est_rows = t->chunks.rows >= 0 ? 2 * t->chunks.rows : -1;
	}
	ws = calloc((size_t)jobs, sizeof *ws);
	if (!ws) {
		err = barge_error_set(BARGE_ENOMEM, "out of memory");
		goto out;
	}
	for (int i = 0; i < jobs; i++) {
		ws[i].cx = &cx;
		ws[i].id = (size_t)i;
		if ((err = vworker_open(&ws[i])) < 0)
			goto out;
	}
	/* phase 1: chunks, keyless tables, both sides of every bucketed part;
	 * phase 2: the buckets that differ */
	if ((prog_on = vprogress_start(&prog, &cx)) < 0) {
		err = prog_on;
		goto out;
	}
	for (int phase = 1; phase <= 2 && err == 0; phase++) {
		if ((err = (phase == 1 ? work_first : work_buckets)(&cx)) == 0)
			err = run_workers(&cx, ws, jobs);
		if (phase == 1)
			vprogress_stop(&prog, prog_on);
	}
	if (err < 0 || (err = verify_check_invariants(&cx)) < 0)
		goto out;
	res->equal = 1;
	for (size_t i = 0; i < res->ntables; i++)
		if (!res->tables[i].equal)
			res->equal = 0;
	res->seconds = barge_monotonic() - t0;
	err = verify_store_results(o, barge_url_redacted(cx.src.url),
				   barge_url_redacted(cx.dst.url), res);
out:
	for (int i = 0; ws && i < jobs; i++)
		vworker_close(&ws[i]);
	free(ws);
	free(cx.work);
	verify_vctx_close(&cx);
	pthread_mutex_destroy(&cx.qlock);
	return err;
}
