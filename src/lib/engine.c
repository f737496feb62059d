/*
 * The engine (engine.h): barge_job_run, the one entry point of a job.
 * It validates (engine_bind.c), opens the state store and picks the run:
 * a new one, or the unfinished one of the same job resumed; then it
 * prepares the target and plans (target.c), runs the workers (worker.c)
 * and collects the result. One chunk = one target transaction; the state
 * store records a unit done only after its transaction committed, so a
 * crash at any instant re-runs whole chunks, and the re-run is made
 * idempotent (pipeline.c):
 *
 *   replace          always deletes the chunk's range first;
 *   insert/truncate  delete the range first when an earlier attempt may
 *                    have committed (the unit's "inflight" flag, set before
 *                    every commit, or a unit already done);
 *   upsert           merges on the key.
 */
#include "engine_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

atomic_int engine_stop_requested;

void barge_job_request_stop(void)
{
	atomic_store(&engine_stop_requested, 1);
}

/* ---- Runs ----------------------------------------------------------------- */

static int table_list(struct ctx *cx, char **out)
{
	struct barge_buf b;
	barge_buf_init(&b, 1 << 20);
	for (size_t i = 0; i < cx->ntbls; i++) {
		if (i)
			barge_buf_add(&b, ",", 1);
		barge_buf_adds(&b, cx->tbls[i].src->name);
	}
	return barge_buf_detach(&b, out);
}

static int run_config(struct ctx *cx, const char *kind, char **out)
{
	const struct barge_job *job = cx->job;
	struct barge_buf b;
	barge_buf_init(&b, 1 << 20);
	char rows[32] = "\"auto\"";
	if (job->defaults.chunk_rows > 0)
		snprintf(rows, sizeof rows, "%lld", (long long)job->defaults.chunk_rows);
	barge_buf_printf(&b, "{\"kind\":\"%s\",\"mode\":\"%s\",\"jobs\":%d,"
			 "\"chunk_rows\":%s,\"retries\":%d,\"max_failures\":%d",
			 kind, barge_mode_name(job->defaults.mode),
			 job->defaults.jobs, rows,
			 job->defaults.retries, job->defaults.max_failures);
	if (job->command) {
		barge_buf_adds(&b, ",\"command\":");
		barge_buf_json_str(&b, job->command, strlen(job->command));
	}
	barge_buf_adds(&b, ",\"tables\":[");
	for (size_t i = 0; i < cx->ntbls; i++) {
		struct tbl *t = &cx->tbls[i];
		barge_buf_printf(&b, "%s{\"name\":", i ? "," : "");
		barge_buf_json_str(&b, t->src->name, strlen(t->src->name));
		barge_buf_adds(&b, ",\"target\":");
		barge_buf_json_str(&b, t->target_name, strlen(t->target_name));
		barge_buf_printf(&b, ",\"mode\":\"%s\",\"chunking\":\"%s\"}",
				 barge_mode_name(t->jt->settings.mode),
				 barge_chunking_name(t->how));
	}
	barge_buf_adds(&b, "]}");
	return barge_buf_detach(&b, out);
}

/* ---- The job ----------------------------------------------------------- */

/* Estimated rows per table for the progress lines (counted unless the
 * planning of this run gave a figure). */
static void estimate_rows(struct ctx *cx)
{
	for (size_t i = 0; i < cx->ntbls; i++) {
		struct tbl *t = &cx->tbls[i];
		if (t->est_rows > 0)
			continue;
		if (barge_drv_count_rows(&cx->src, cx->leader, t->src, t->jt->where,
					 &t->est_rows) < 0) {
			t->est_rows = -1;
			barge_error_clear();
		}
	}
}

static int collect_results(struct ctx *cx, struct barge_job_result *res)
{
	struct barge_table_progress *p = NULL;
	size_t n = 0;
	int err = barge_state_progress(cx->st, cx->run, &p, &n);
	if (err < 0)
		return err;
	res->tables = calloc(cx->ntbls ? cx->ntbls : 1, sizeof *res->tables);
	if (!res->tables) {
		barge_table_progress_free(p, n);
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < cx->ntbls; i++) {
		struct tbl *t = &cx->tbls[i];
		struct barge_job_table_result *r = &res->tables[res->ntables++];
		r->table = strdup(t->target_name);
		r->created = t->created;
		for (size_t j = 0; j < n; j++) {
			if (strcmp(p[j].table, t->src->name) != 0)
				continue;
			r->chunks = p[j].chunks;
			r->chunks_done = p[j].chunks_done;
			r->chunks_failed = p[j].chunks_failed;
			r->rows_read = p[j].rows_read;
			r->rows_written = p[j].rows_written;
			r->rows_rejected = p[j].rows_rejected;
			r->bytes = p[j].bytes;
			r->seconds = p[j].last_end > p[j].first_start
					     ? p[j].last_end - p[j].first_start : 0;
			r->last_error = p[j].last_error ? strdup(p[j].last_error) : NULL;
		}
	}
	barge_table_progress_free(p, n);
	return 0;
}

int barge_job_run(const struct barge_job *job, struct barge_job_result *res)
{
	struct ctx cx;
	struct barge_job_table *owned = NULL;
	struct barge_run *prev = NULL;
	char *tables = NULL, *config = NULL;
	size_t nowned = 0;
	double t0 = barge_monotonic();
	int err;

	memset(res, 0, sizeof *res);
	memset(&cx, 0, sizeof cx);
	cx.job = job;
	pthread_mutex_init(&cx.lock, NULL);
	pthread_mutex_init(&cx.write_turn, NULL);
	pthread_mutex_init(&cx.leader_lock, NULL);
	barge_buf_init(&cx.notes, 16u << 20);

	if ((err = engine_validate(&cx, &owned, &nowned)) < 0)
		goto out;
	if (cx.ntbls > 1 && cx.order_note)
		barge_buf_printf(&cx.notes, "%s\n", cx.order_note);
	/* the workers' source connections, taken with the leader's snapshot
	 * when the driver needs them together (barge_drv_snapshot_group) */
	cx.npre = job->dry_run ? 0
		: job->action == BARGE_JOB_CHUNK ? 1
		: (size_t)(job->defaults.jobs > 0 ? job->defaults.jobs : 1);
	if (cx.npre && !(cx.pre = calloc(cx.npre, sizeof *cx.pre))) {
		err = barge_error_set(BARGE_ENOMEM, "out of memory");
		goto out;
	}
	if ((err = barge_drv_snapshot_group(&cx.src, cx.leader, &cx.token,
					    cx.npre, cx.pre)) < 0)
		goto out;
	cx.snapshots = cx.token != NULL;
	if (job->dry_run) {
		err = engine_dry_run(&cx, res);
		goto out;
	}
	/* From here on, files are created: the input is good. */
	if ((err = barge_state_open(&cx.st, job->state_path, 1)) < 0)
		goto out;
	if ((err = table_list(&cx, &tables)) < 0)
		goto out;
	const char *srcname = barge_url_redacted(cx.src.url);
	const char *dstname = barge_url_redacted(cx.dst.url);
	int kind_row = job->action == BARGE_JOB_ROW;

	if ((err = barge_state_run_main(cx.st, &prev)) < 0)
		goto out;
	int same = prev && strcmp(prev->source, srcname) == 0 &&
		   strcmp(prev->target, dstname) == 0 &&
		   strcmp(prev->tables, tables) == 0;
	if (job->action == BARGE_JOB_CHUNK) {
		if (!same) {
			err = barge_error_set(BARGE_EUSAGE,
					      "--chunk needs an earlier run of the same job "
					      "in the state file %s", job->state_path);
			goto out;
		}
		cx.run = prev->id;
		res->resumed = 1;
	} else if (!kind_row && prev && !job->restart &&
		   strcmp(prev->status, "done") != 0) {
		if (!same) {
			err = barge_error_set(BARGE_EUSAGE,
					      "the state file %s holds an unfinished run from "
					      "%s to %s (tables %s); use --restart to start "
					      "over or --state for another file",
					      job->state_path, prev->source, prev->target,
					      prev->tables);
			goto out;
		}
		cx.run = prev->id;
		res->resumed = 1;
		if ((err = barge_state_units_reset(cx.st, cx.run, 1)) < 0)
			goto out;
	} else if (!kind_row && prev && !job->restart && same) {
		cx.run = prev->id; /* finished: nothing left to claim */
		res->resumed = 1;
		res->message = strdup("the run in this state file is already done "
				      "(--restart to copy again)");
	}
	if (!cx.run) {
		if ((err = run_config(&cx, kind_row ? "row" : "copy", &config)) < 0 ||
		    (err = barge_state_run_create(cx.st, srcname, dstname, tables,
						  config, &cx.run)) < 0)
			goto out;
	}
	if (prev && same && prev->id != cx.run)
		cx.prev_run = prev->id;
	res->run_id = cx.run;
	if ((err = barge_state_run_set_status(cx.st, cx.run, "running")) < 0)
		goto out;
	barge_state_log(cx.st, cx.run, 0, res->resumed ? "resume" : "start",
			job->command ? job->command : "");
	if (cx.order_note)
		barge_state_log(cx.st, cx.run, 0, "order", cx.order_note);
	if ((err = engine_prepare_target(&cx)) < 0)
		goto out;
	if ((err = engine_budget_load(&cx)) < 0)
		goto out;

	if (job->action == BARGE_JOB_ROW) {
		struct tbl *only = NULL;
		if ((err = engine_plan_one_row(&cx, &only)) < 0)
			goto out;
		estimate_rows(&cx);
		err = engine_run_workers(&cx);
	} else if (job->action == BARGE_JOB_CHUNK) {
		struct barge_unit *u = NULL, *claimed = NULL;
		const char *tname = job->only_table;
		if (!tname && cx.ntbls == 1)
			tname = cx.tbls[0].src->name;
		if (!tname) {
			err = barge_error_set(BARGE_EUSAGE, "--chunk needs --table");
			goto out;
		}
		if ((err = barge_state_unit_by_seq(cx.st, cx.run, tname,
						   job->only_chunk, &u)) < 0) {
			if (err == BARGE_ENOTFOUND)
				err = barge_error_set(BARGE_EUSAGE,
						      "table '%s' has no chunk %lld",
						      tname, (long long)job->only_chunk);
			goto out;
		}
		int was_done = u->status == BARGE_UNIT_DONE;
		struct worker w;
		memset(&w, 0, sizeof w);
		w.cx = &cx;
		w.id = 1;
		if ((err = worker_open(&w)) == 0 &&
		    (err = barge_state_claim_id(cx.st, u->id, &claimed)) == 0)
			err = engine_process_unit(&w, claimed, was_done);
		barge_unit_free(claimed);
		barge_unit_free(u);
		worker_close(&w);
		if (err < 0)
			goto out;
	} else {
		if ((err = engine_plan_tables(&cx)) < 0 || (err = engine_count_open(&cx)) < 0 ||
		    (err = engine_selfref_resume(&cx)) < 0)
			goto out;
		if (job->progress)
			estimate_rows(&cx);
		if ((err = engine_run_workers(&cx)) < 0)
			goto out;
	}

	if ((err = collect_results(&cx, res)) < 0)
		goto out;
	int incomplete = 0;
	char *budget = NULL;
	for (size_t i = 0; i < res->ntables; i++)
		if (res->tables[i].chunks_done < res->tables[i].chunks)
			incomplete = 1;
	if (job->action == BARGE_JOB_CHUNK || job->action == BARGE_JOB_ROW)
		incomplete = atomic_load(&cx.failed_units) > 0;
	else if (!incomplete && (budget = engine_budget_note(&cx)) != NULL) {
		/* over the budget on the table's last chunk: no chunk is left
		 * to fail "not run", but the table is not done either */
		incomplete = 1;
		res->message = budget; /* budget_add logged it ("budget") */
	} else if (!incomplete && !atomic_load(&cx.aborted) &&
		 !atomic_load(&engine_stop_requested) &&
		 (engine_finish_tables(&cx) < 0 || engine_restore_fks(&cx) < 0)) {
		/* the data is in; the run is not done until the next one
		 * finishes the tables */
		incomplete = 1;
		res->message = strdup(barge_error_last());
		barge_state_log(cx.st, cx.run, 0, "error", barge_error_last());
	}
	if (atomic_load(&cx.aborted) || atomic_load(&engine_stop_requested)) {
		res->status = "aborted";
		if (cx.abort_reason[0] && !res->message)
			res->message = strdup(cx.abort_reason);
		if (!res->message)
			res->message = strdup("stopped by a signal; run the same "
					      "command again to resume");
	} else {
		res->status = incomplete ? "failed" : "done";
	}
	barge_state_run_set_status(cx.st, cx.run, res->status);
	barge_state_log(cx.st, cx.run, 0, "end", res->status);
out:
	if (err < 0 && cx.st && cx.run) {
		char msg[1024];
		snprintf(msg, sizeof msg, "%s", barge_error_last());
		barge_state_log(cx.st, cx.run, 0, "error", msg);
		barge_state_run_set_status(cx.st, cx.run, "failed");
		barge_error_set(err, "%s", msg);
	}
	res->seconds = barge_monotonic() - t0;
	res->snapshot_renewals = cx.renewals;
	if (err == 0 && cx.notes.len)
		barge_buf_detach(&cx.notes, &res->notes);
	barge_buf_dispose(&cx.notes);
	free(cx.order_note);
	barge_table_def_free(cx.km_def);
	barge_table_def_free(cx.ks_def);
	for (size_t i = 0; i < cx.npre; i++)
		barge_drv_close(&cx.src, cx.pre[i]);
	free(cx.pre);
	if (cx.leader && cx.token)
		barge_drv_snapshot_end(&cx.src, cx.leader);
	free(cx.token);
	barge_drv_close(&cx.src, cx.leader);
	for (size_t i = 0; i < cx.ntbls; i++)
		tbl_dispose(&cx.tbls[i]);
	free(cx.tbls);
	barge_job_tables_free(owned, nowned);
	barge_state_close(cx.st);
	barge_ep_dispose(&cx.src);
	barge_ep_dispose(&cx.dst);
	barge_run_free(prev);
	free(tables);
	free(config);
	pthread_mutex_destroy(&cx.lock);
	pthread_mutex_destroy(&cx.write_turn);
	pthread_mutex_destroy(&cx.leader_lock);
	return err;
}

void barge_job_result_dispose(struct barge_job_result *r)
{
	for (size_t i = 0; r->tables && i < r->ntables; i++) {
		free(r->tables[i].table);
		free(r->tables[i].last_error);
	}
	free(r->tables);
	free(r->message);
	free(r->notes);
	memset(r, 0, sizeof *r);
}
