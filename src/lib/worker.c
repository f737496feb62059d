/*
 * The workers: each thread claims units from the state store and runs
 * them to the end, with retries and backoff for transient faults, the
 * circuit breaker for chunks failing in a row, the per-table error budget,
 * gates between parent and child tables, the self-reference rounds and the
 * early finish of a table; plus the progress lines while they run.
 */
#include "engine_int.h"
#include "progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- Retries and the circuit breaker ----------------------------------- */

double engine_backoff(int attempt)
{
	double base = 0.05;
	const char *env = getenv("BARGE_RETRY_BASE");
	if (env)
		base = strtod(env, NULL);
	double d = base * (double)(1u << (attempt < 10 ? attempt : 10));
	/* full jitter: anywhere in [d/2, d] */
	return d / 2 + d / 2 * ((double)rand() / RAND_MAX);
}

static void note_failure(struct ctx *cx, int failed)
{
	pthread_mutex_lock(&cx->lock);
	if (!failed) {
		cx->consecutive_failures = 0;
	} else {
		int k = cx->job->defaults.max_failures;
		cx->consecutive_failures++;
		if (k > 0 && cx->consecutive_failures >= k &&
		    !atomic_load(&cx->aborted)) {
			snprintf(cx->abort_reason, sizeof cx->abort_reason,
				 "circuit breaker: %d chunks failed in a row", k);
			atomic_store(&cx->aborted, 1);
		}
	}
	pthread_mutex_unlock(&cx->lock);
}

/* ---- The error budget ------------------------------------------------------ */

static int over_budget(const struct tbl *t, char *why, size_t n)
{
	const struct barge_job_table *jt = t->jt;
	long long rj = atomic_load(&t->rej_total), rd = atomic_load(&t->read_total);
	if (jt->max_rejects >= 0 && rj > jt->max_rejects) {
		snprintf(why, n, "%lld rows rejected, more than max_rejects %lld", rj,
			 (long long)jt->max_rejects);
		return 1;
	}
	if (jt->max_reject_ratio >= 0 && rd > 0 &&
	    (double)rj > jt->max_reject_ratio * (double)rd) {
		snprintf(why, n, "%lld of %lld rows rejected, more than "
			 "max_reject_ratio %g", rj, rd, jt->max_reject_ratio);
		return 1;
	}
	return 0;
}

/* Count a done chunk against its table's budget; over it, the table stops:
 * its units not yet claimed are failed unrun (a resume tries them again,
 * against the budget of the plan it is given). */
static void budget_add(struct ctx *cx, struct tbl *t, int64_t read, int64_t rej)
{
	char why[200];
	atomic_fetch_add(&t->read_total, read);
	atomic_fetch_add(&t->rej_total, rej);
	if (t->selfref && !atomic_load(&t->rounds_done))
		return; /* rejects for parents of later chunks may go yet */
	if (over_budget(t, why, sizeof why) && !atomic_exchange(&t->over_budget, 1)) {
		char msg[400];
		snprintf(msg, sizeof msg, "table %s stops: %s", t->src->name, why);
		barge_state_log(cx->st, cx->run, 0, "budget", msg);
	}
}

/*
 * The tables over their error budget once the workers are done, as one
 * line naming the first ("table T is over its error budget (...)") and
 * counting the others, or NULL when none is. The caller frees it.
 */
char *engine_budget_note(struct ctx *cx)
{
	char why[200], msg[400];
	size_t over = 0;
	for (size_t i = 0; i < cx->ntbls; i++) {
		const struct tbl *t = &cx->tbls[i];
		if (!atomic_load(&t->over_budget))
			continue;
		if (over++ == 0) {
			over_budget(t, why, sizeof why);
			snprintf(msg, sizeof msg, "table %s is over its error budget "
				 "(%s)", t->src->name, why);
		}
	}
	if (!over)
		return NULL;
	if (over > 1) {
		size_t len = strlen(msg);
		snprintf(msg + len, sizeof msg - len, ", and %zu more table%s",
			 over - 1, over > 2 ? "s" : "");
	}
	return strdup(msg);
}

static void budget_load(struct tbl *t, const struct barge_table_progress *p)
{
	char why[200];

	atomic_store(&t->read_total, p->rows_read);
	atomic_store(&t->rej_total, p->rows_rejected);
	atomic_store(&t->over_budget, over_budget(t, why, sizeof why));
}

/* The run's counts so far (a resumed run's done units count too). */
int engine_budget_load(struct ctx *cx)
{
	return tbl_each_progress(cx, budget_load);
}

/* ---- Running a unit ---------------------------------------------------- */

/* Tell the job's on_chunk, if any, how a chunk attempt ended. */
static void chunk_event(struct ctx *cx, const struct tbl *t,
			const struct barge_unit *u, const char *outcome,
			int attempt, const struct barge_unit_result *ur,
			const char *digest, double t0, const char *msg)
{
	if (!cx->job->on_chunk)
		return;
	struct barge_chunk_event ev = {
		.run_id = cx->run,
		.table = t->src->name,
		.chunk = u->seq,
		.outcome = outcome,
		.attempt = attempt,
		.digest = digest,
		.seconds = t0 > 0 ? barge_monotonic() - t0 : 0,
		.message = msg,
	};
	if (ur) {
		ev.rows_read = ur->rows_read;
		ev.rows_written = ur->rows_written;
		ev.rows_rejected = ur->rows_rejected;
	}
	cx->job->on_chunk(&ev, cx->job->on_chunk_arg);
}

/* Run one claimed unit to the end: done, or failed after its retries. */
int engine_process_unit(struct worker *w, struct barge_unit *u, int was_done)
{
	struct ctx *cx = w->cx;
	struct tbl *t = tbl_find(cx, u->table);
	struct barge_chunk ch;
	char fk[64], *flag = NULL;
	int err;

	if (!t)
		return barge_error_set(BARGE_ERROR,
				       "the state store has a unit of table '%s', "
				       "which is not in this job", u->table);
	if ((err = engine_unit_chunk(&ch, u, t)) < 0)
		return err;
	long long zero = 0;
	atomic_compare_exchange_strong(&t->first_us, &zero,
				       (long long)(barge_monotonic() * 1e6));
	/* truncate mode's one-row run replaces its row (the table is not
	 * emptied first, see engine_prepare_target) */
	int rerun = was_done || (cx->job->action == BARGE_JOB_ROW &&
				 t->jt->settings.mode == BARGE_MODE_TRUNCATE);
	if (!rerun && barge_state_flag_get(cx->st, cx->run,
					   engine_inflight_key(fk, sizeof fk, u->id),
					   &flag) == 0)
		rerun = 1;
	free(flag);
	barge_error_clear();

	if (atomic_load(&t->over_budget)) {
		char why[200], msg[400];
		over_budget(t, why, sizeof why);
		snprintf(msg, sizeof msg, "not run: table %s is over its error budget "
			 "(%s)", t->src->name, why);
		barge_state_unit_failed(cx->st, u->id, msg, 0);
		barge_state_log(cx->st, cx->run, u->id, "skipped", msg);
		chunk_event(cx, t, u, "skipped", 0, NULL, NULL, 0, msg);
		atomic_fetch_add(&cx->failed_units, 1);
		atomic_fetch_add(&t->failed, 1);
		chunk_dispose(&ch);
		return 0;
	}
	for (int attempt = 0;; attempt++) {
		struct chunk_result res;
		memset(&res, 0, sizeof res);
		double t0 = barge_monotonic();
		/* a reconnect that failed on the last attempt (a server still
		 * restarting) is tried again first */
		err = w->sconn ? 0 : engine_reconnect_source(w);
		if (err == 0 && !w->tconn)
			err = engine_reconnect_target(w);
		if (err == 0)
			err = engine_copy_chunk(w, t, &ch, rerun, &res);
		if (err == 0) {
			struct barge_unit_result ur = {
				.rows_read = res.rows_read,
				.rows_written = res.rows_written,
				.rows_rejected = (int64_t)res.rej.n,
				.bytes = res.bytes,
				.digest = res.digest,
				.nrejects = res.rej.n,
				.rejects = res.rej.v,
			};
			err = barge_state_unit_done(cx->st, u->id, &ur);
			rejects_dispose(&res.rej);
			if (err < 0)
				break;
			char msg[200];
			snprintf(msg, sizeof msg, "%lld rows in %.3f s, %lld rejected, "
				 "digest %s", (long long)res.rows_written,
				 barge_monotonic() - t0, (long long)ur.rows_rejected,
				 res.digest);
			barge_state_log(cx->st, cx->run, u->id, "done", msg);
			chunk_event(cx, t, u, "done", attempt, &ur, res.digest, t0, NULL);
			atomic_fetch_add(&t->rows_done, res.rows_written);
			atomic_store(&t->last_us, (long long)(barge_monotonic() * 1e6));
			budget_add(cx, t, ur.rows_read, ur.rows_rejected);
			note_failure(cx, 0);
			break;
		}
		char emsg[1024];
		snprintf(emsg, sizeof emsg, "%s", barge_error_last());
		/* a failed attempt rolled back, but an earlier one may not have */
		if (err == BARGE_ERETRY && attempt < t->jt->settings.retries &&
		    !atomic_load(&engine_stop_requested)) {
			barge_state_log(cx->st, cx->run, u->id, "retry", emsg);
			chunk_event(cx, t, u, "retry", attempt, NULL, NULL, t0, emsg);
			barge_sleep(engine_backoff(attempt));
			if (engine_reconnect_target(w) < 0)
				barge_state_log(cx->st, cx->run, u->id, "reconnect",
						barge_error_last());
			if (engine_reconnect_source(w) < 0)
				barge_state_log(cx->st, cx->run, u->id, "reconnect",
						barge_error_last());
			continue;
		}
		barge_state_unit_failed(cx->st, u->id, emsg, 0);
		barge_state_log(cx->st, cx->run, u->id, "failed", emsg);
		chunk_event(cx, t, u, "failed", attempt, NULL, NULL, t0, emsg);
		atomic_fetch_add(&cx->failed_units, 1);
		atomic_fetch_add(&t->failed, 1);
		note_failure(cx, 1);
		err = 0; /* a failed chunk is a result; the others go on */
		break;
	}
	chunk_dispose(&ch);
	return err;
}

/* ---- Self-reference rounds --------------------------------------------- */

/* The chunks of a self-referencing table with rejects of that rule. */
struct selfrej {
	const struct tbl *t;
	int64_t *units;
	size_t nunits, nrej;
	int err;
};

static int selfrej_cb(const struct barge_reject_row *r, void *arg)
{
	struct selfrej *sr = arg;
	const struct tbl *t = sr->t;
	char pre[512];
	if (strcmp(r->rule, "references") != 0)
		return 0;
	for (size_t k = 0; k < t->nrefs; k++) {
		if (!t->refs[k].self)
			continue;
		snprintf(pre, sizeof pre, "column %s: references %s = ",
			 barge_xf_col(t->xf, t->refs[k].xcol)->name, t->refs[k].spec);
		if (strncmp(r->message, pre, strlen(pre)) != 0)
			continue;
		sr->nrej++;
		if (sr->nunits && sr->units[sr->nunits - 1] == r->unit)
			return 0;
		int64_t *nu = realloc(sr->units, (sr->nunits + 1) * sizeof *nu);
		if (!nu) {
			sr->err = barge_error_set(BARGE_ENOMEM, "out of memory");
			return 1;
		}
		sr->units = nu;
		sr->units[sr->nunits++] = r->unit;
		return 0;
	}
	return 0;
}

/*
 * Once every chunk of a self-referencing table is finished: a row whose
 * parent is in a later chunk was rejected when its chunk ran. Run the
 * chunks with such rejects again (in order, on this worker) while each
 * round rejects fewer rows: a round loads the rows whose parents the last
 * one loaded. What is left names a parent that is missing, filtered out,
 * rejected, or only reachable through a cycle of such rows.
 */
static int selfref_rounds(struct worker *w, struct tbl *t)
{
	struct ctx *cx = w->cx;
	size_t prev = (size_t)-1;
	char fk[300];
	int err = 0;

	for (;;) {
		struct selfrej sr = {.t = t};
		err = barge_state_rejects(cx->st, cx->run, t->src->name, selfrej_cb, &sr);
		if (err == 0 && sr.err)
			err = sr.err;
		if (err < 0 || sr.nrej == 0 || sr.nrej >= prev) {
			free(sr.units);
			break;
		}
		char msg[200];
		snprintf(msg, sizeof msg, "%zu rows of %s name a parent not loaded "
			 "yet: %zu chunks again", sr.nrej, t->src->name, sr.nunits);
		barge_state_log(cx->st, cx->run, 0, "selfref", msg);
		prev = sr.nrej;
		for (size_t i = 0; i < sr.nunits && err == 0; i++) {
			struct barge_unit *u = NULL;
			if (atomic_load(&engine_stop_requested) || atomic_load(&cx->aborted))
				break;
			if ((err = barge_state_claim_id(cx->st, sr.units[i], &u)) < 0)
				break;
			/* its earlier counts leave the table's totals */
			atomic_fetch_sub(&t->read_total, u->rows_read);
			atomic_fetch_sub(&t->rej_total, u->rows_rejected);
			atomic_fetch_sub(&t->rows_done, u->rows_written);
			err = engine_process_unit(w, u, 1);
			barge_unit_free(u);
		}
		free(sr.units);
		if (err < 0 || atomic_load(&engine_stop_requested) || atomic_load(&cx->aborted))
			return err;
	}
	atomic_store(&t->rounds_done, 1);
	budget_add(cx, t, 0, 0);
	snprintf(fk, sizeof fk, "selfref:%s", t->src->name);
	return err < 0 ? err : barge_state_flag_set(cx->st, cx->run, fk, "done");
}

/* ---- The workers ------------------------------------------------------- */

int worker_open(struct worker *w)
{
	struct ctx *cx = w->cx;
	size_t i = (size_t)w->id - 1;
	int err;
	if (i < cx->npre && cx->pre[i]) {
		w->sconn = cx->pre[i]; /* joined with the leader's snapshot */
		cx->pre[i] = NULL;
	} else if ((err = barge_drv_open(&cx->src, &w->sconn, BARGE_OPEN_READ)) < 0 ||
		   (err = engine_join_snapshot(w)) < 0) {
		return err;
	}
	if (cx->job->dry_run)
		return 0;
	return barge_drv_open(&cx->dst, &w->tconn, BARGE_OPEN_WRITE);
}

void worker_close(struct worker *w)
{
	struct ctx *cx = w->cx;
	if (w->sconn && cx->snapshots)
		barge_drv_snapshot_end(&cx->src, w->sconn);
	barge_drv_close(&cx->src, w->sconn);
	barge_drv_close(&cx->dst, w->tconn);
	w->sconn = w->tconn = NULL;
	worker_free_batches(w);
	barge_xf_run_free(w->xrun);
	w->xrun = NULL;
}

/*
 * With --jobs > 1, a table with a `references` rule starts only when its
 * parents' chunks are all finished (else the lookups would miss rows still
 * in flight). Writes the tables that may be claimed now as a comma list
 * into `b` and returns how many tables are still waiting.
 */
static size_t claimable(struct ctx *cx, struct barge_buf *b)
{
	size_t waiting = 0;
	barge_buf_clear(b);
	for (size_t i = 0; i < cx->ntbls; i++) {
		struct tbl *t = &cx->tbls[i];
		int ready = 1;
		for (size_t g = 0; g < t->ngates; g++)
			if (atomic_load(&cx->tbls[t->gates[g]].open_units) > 0)
				ready = 0;
		if (!ready) {
			if (atomic_load(&t->open_units) > 0)
				waiting++;
			continue;
		}
		if (b->len)
			barge_buf_adds(b, ",");
		barge_buf_adds(b, t->src->name);
	}
	return waiting;
}

/*
 * The table's last chunk is done: its own indexes, constraints and
 * sequences now (the driver's engine_finish_tables, BARGE_FINISH_TABLE), on this
 * worker's target connection while the other workers copy other tables
 * (pgcopydb overlaps the same way);
 * its foreign keys wait for the end of the data (engine_finish_tables). Flag
 * "finish:T": "todo" -> "table" -> "done". A failure is the run's, at its
 * end; the next run tries again.
 */
static void finish_early(struct worker *w, struct tbl *t)
{
	struct ctx *cx = w->cx;
	char key[300], *v = NULL;
	int todo;

	if (cx->job->action != BARGE_JOB_COPY || !t->created || !w->tconn ||
	    atomic_load(&t->failed) || atomic_load(&t->over_budget) ||
	    atomic_load(&cx->aborted) ||
	    atomic_load(&engine_stop_requested))
		return;
	/* the last table to load is finished at the end, on --jobs
	 * connections at once (no worker is left copying then) */
	int loading = 0;
	for (size_t i = 0; i < cx->ntbls; i++)
		if (&cx->tbls[i] != t && atomic_load(&cx->tbls[i].open_units) > 0)
			loading = 1;
	if (!loading)
		return;
	snprintf(key, sizeof key, "finish:%s", t->src->name);
	todo = barge_state_flag_get(cx->st, cx->run, key, &v) == 0 &&
	       strcmp(v, "todo") == 0;
	free(v);
	barge_error_clear();
	if (!todo)
		return;
	const struct barge_table_def *sd = t->src, *dd = t->dst;
	/* a target without parallel writes: not while a chunk writes */
	int serial = !(cx->dst.drv->caps & BARGE_CAP_PARALLEL_WRITE);
	if (serial)
		pthread_mutex_lock(&cx->write_turn);
	pthread_mutex_lock(&cx->leader_lock);
	int err = engine_finish_call(cx, &w->tconn, 1, &sd, &dd, 1, BARGE_FINISH_TABLE);
	pthread_mutex_unlock(&cx->leader_lock);
	if (serial)
		pthread_mutex_unlock(&cx->write_turn);
	char msg[600];
	if (err == 0 && barge_state_flag_set(cx->st, cx->run, key, "table") == 0) {
		snprintf(msg, sizeof msg, "indexes, constraints and sequences of %s "
			 "made", t->target_name);
		barge_state_log(cx->st, cx->run, 0, "finish", msg);
		return;
	}
	snprintf(t->finish_err, sizeof t->finish_err, "%s", barge_error_last());
	barge_state_log(cx->st, cx->run, 0, "error", t->finish_err);
	barge_error_clear();
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct ctx *cx = w->cx;
	struct barge_buf allowed;
	int err = 0;

	barge_buf_init(&allowed, 1u << 20);
	while (!atomic_load(&engine_stop_requested) && !atomic_load(&cx->aborted)) {
		struct barge_unit *u = NULL;
		size_t waiting = cx->gated ? claimable(cx, &allowed) : 0;
		if (waiting && !allowed.len) {
			barge_sleep(0.01);
			continue;
		}
		err = barge_state_claim(cx->st, cx->run,
					waiting ? allowed.p : NULL, &u);
		if (err == BARGE_ENOTFOUND && waiting) {
			/* the parents' last chunks are running elsewhere */
			barge_error_clear();
			err = 0;
			barge_sleep(0.01);
			continue;
		}
		if (err == BARGE_ENOTFOUND) {
			err = 0;
			break;
		}
		if (err < 0)
			break;
		err = engine_process_unit(w, u, 0);
		struct tbl *t = tbl_find(cx, u->table);
		/* a self-referencing table counts one more open unit, its
		 * rounds: the worker that finishes its last chunk (one only:
		 * the count it leaves is 1) does them, then lets its children
		 * start */
		long long left = t ? atomic_fetch_sub(&t->open_units, 1) - 1 : -1;
		if (t && t->selfref && left == 1) {
			if (err == 0)
				err = selfref_rounds(w, t);
			left = atomic_fetch_sub(&t->open_units, 1) - 1;
		}
		barge_unit_free(u);
		if (err < 0)
			break;
		if (t && left == 0)
			finish_early(w, t);
	}
	barge_buf_dispose(&allowed);
	if (err < 0) {
		char msg[1024];
		snprintf(msg, sizeof msg, "worker %d: %s", w->id, barge_error_last());
		barge_state_log(cx->st, cx->run, 0, "worker-error", msg);
		pthread_mutex_lock(&cx->lock);
		if (!atomic_load(&cx->aborted)) {
			snprintf(cx->abort_reason, sizeof cx->abort_reason, "%s", msg);
			atomic_store(&cx->aborted, 1);
		}
		pthread_mutex_unlock(&cx->lock);
	}
	w->err = err;
	return NULL;
}

/* A resumed run whose self-referencing table has all its chunks finished
 * but not its rounds (stopped in between): those first, on one worker,
 * before any child of the table starts. */
int engine_selfref_resume(struct ctx *cx)
{
	int err = 0;
	for (size_t i = 0; i < cx->ntbls && err == 0; i++) {
		struct tbl *t = &cx->tbls[i];
		char fk[300], *v = NULL;
		if (!t->selfref || atomic_load(&t->open_units) > 0)
			continue;
		snprintf(fk, sizeof fk, "selfref:%s", t->src->name);
		if (barge_state_flag_get(cx->st, cx->run, fk, &v) == 0 &&
		    strcmp(v, "done") == 0) {
			free(v);
			continue;
		}
		free(v);
		barge_error_clear();
		struct worker w;
		memset(&w, 0, sizeof w);
		w.cx = cx;
		w.id = 1;
		if ((err = worker_open(&w)) == 0)
			err = selfref_rounds(&w, t);
		worker_close(&w);
	}
	return err;
}

/* ---- Progress ------------------------------------------------------------- */

struct progress {
	struct ctx *cx;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int done;
	int lines; /* lines drawn last time (terminal redraw) */
	int tty;
};

static void progress_draw(struct progress *p, int final)
{
	struct ctx *cx = p->cx;
	FILE *o = cx->job->progress_out ? cx->job->progress_out : stderr;
	double now = barge_monotonic();
	if (p->tty && p->lines)
		fprintf(o, "\033[%dA", p->lines);
	p->lines = 0;
	for (size_t i = 0; i < cx->ntbls; i++) {
		struct tbl *t = &cx->tbls[i];
		long long done = atomic_load(&t->rows_done);
		long long f = atomic_load(&t->first_us), l = atomic_load(&t->last_us);
		int finished = t->est_rows >= 0 && done >= t->est_rows && l > 0;
		double el = f ? (finished ? (double)l / 1e6 : now) - (double)f / 1e6 : 0;
		double rate = el > 0 ? (double)done / el : 0;
		barge_progress_line(o, p->tty, t->target_name, done,
				    (long long)t->est_rows, rate, final);
		p->lines++;
	}
	fflush(o);
}

static void progress_draw_tick(void *arg)
{
	progress_draw(arg, 0);
}

static void *progress_main(void *arg)
{
	struct progress *p = arg;
	barge_progress_loop(&p->lock, &p->cond, &p->done, p->tty, progress_draw_tick, p);
	return NULL;
}

/* ---- Running the workers ----------------------------------------------- */

/* Run the workers over the claimed units of the run until none is left. */
int engine_run_workers(struct ctx *cx)
{
	int jobs = cx->job->defaults.jobs > 0 ? cx->job->defaults.jobs : 1;
	struct worker *ws = calloc((size_t)jobs, sizeof *ws);
	struct progress prog;
	int err = 0, started = 0;

	if (!ws)
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	memset(&prog, 0, sizeof prog);
	barge_test_pause("after-plan");
	for (int i = 0; i < jobs; i++) {
		ws[i].cx = cx;
		ws[i].id = i + 1;
		if ((err = worker_open(&ws[i])) < 0)
			goto out;
	}
	if (cx->job->progress) {
		FILE *o = cx->job->progress_out ? cx->job->progress_out : stderr;
		prog.cx = cx;
		prog.tty = isatty(fileno(o));
		pthread_mutex_init(&prog.lock, NULL);
		pthread_cond_init(&prog.cond, NULL);
		pthread_create(&prog.thread, NULL, progress_main, &prog);
	}
	for (int i = 0; i < jobs; i++) {
		if (pthread_create(&ws[i].thread, NULL, worker_main, &ws[i]) != 0) {
			err = barge_error_set(BARGE_ERROR, "cannot start worker threads");
			break;
		}
		started++;
	}
	for (int i = 0; i < started; i++)
		pthread_join(ws[i].thread, NULL);
	if (cx->job->progress) {
		pthread_mutex_lock(&prog.lock);
		prog.done = 1;
		pthread_cond_signal(&prog.cond);
		pthread_mutex_unlock(&prog.lock);
		pthread_join(prog.thread, NULL);
		progress_draw(&prog, 1);
		pthread_mutex_destroy(&prog.lock);
		pthread_cond_destroy(&prog.cond);
	}
out:
	for (int i = 0; i < jobs; i++)
		worker_close(&ws[i]);
	free(ws);
	return err;
}
