/*
 * The target around the data: barge's own tables (barge_keymap,
 * barge_keyseq, saved foreign keys), created tables, truncate mode, foreign
 * keys set aside and restored, the chunk plan of each table stored before
 * any data moves, and finishing the tables (indexes, constraints,
 * sequences) once their data is in.
 */
#include "engine_int.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- barge's own tables, foreign keys set aside ------------------------ */

/* A table of barge's own in the target (text columns but `types`, keyed
 * by the first `nkey`): described, created first when missing, bound. */
static int own_table(struct ctx *cx, struct barge_conn *tc, const char *name,
		     size_t ncols, const char *const *names, const int *types,
		     size_t nkey, struct barge_table_def **def, size_t *bound)
{
	struct barge_column_def cols[4];
	size_t key[4] = {0, 1, 2, 3};
	int err;

	assert(ncols <= 4 && nkey <= ncols);
	err = barge_drv_describe(&cx->dst, tc, name, def);
	if (err == BARGE_ENOTFOUND) {
		barge_error_clear();
		memset(cols, 0, sizeof cols);
		for (size_t c = 0; c < ncols; c++) {
			cols[c].name = (char *)names[c];
			cols[c].type = types[c];
			cols[c].notnull = 1;
			cols[c].key_pos = c < nkey ? (int)c + 1 : 0;
			cols[c].scale = -1;
		}
		struct barge_table_def d = {.name = (char *)name, .ncols = ncols,
					    .cols = cols, .nkey = nkey, .key = key,
					    .rows = -1};
		if ((err = barge_drv_create_table(&cx->dst, tc, &d)) < 0 ||
		    (err = barge_drv_describe(&cx->dst, tc, name, def)) < 0)
			return err;
		char msg[128];
		snprintf(msg, sizeof msg, "created target table %s", name);
		barge_state_log(cx->st, cx->run, 0, "create", msg);
	} else if (err < 0) {
		return err;
	}
	for (size_t c = 0; c < ncols; c++) {
		int k = barge_table_def_find(*def, names[c]);
		if (k < 0)
			return barge_error_set(BARGE_EUSAGE, "the target's %s has no "
					       "column %s", name, names[c]);
		bound[c] = (size_t)k;
	}
	return 0;
}

/*
 * Replace and truncate delete rows of tables other tables may reference:
 * the foreign keys between the job's tables into a table whose rows go
 * are set aside before the data (each one's statement kept in the state
 * store as flag "fk:N", "fks" = N) and made again after it
 * (engine_restore_fks). A resumed run finds them gone and keeps its list; a
 * --restart takes over the earlier run's unrestored ones.
 */
struct fk_saver {
	struct ctx *cx;
	long n;
};

static int fk_count(struct ctx *cx, int64_t run, long *n)
{
	char *v = NULL;
	*n = 0;
	if (barge_state_flag_get(cx->st, run, "fks", &v) == 0)
		*n = strtol(v, NULL, 10);
	free(v);
	barge_error_clear();
	return 0;
}

static int fk_save(void *arg, const char *sql)
{
	struct fk_saver *s = arg;
	char key[32], num[32];
	int err;
	snprintf(key, sizeof key, "fk:%ld", s->n + 1);
	snprintf(num, sizeof num, "%ld", s->n + 1);
	if ((err = barge_state_flag_set(s->cx->st, s->cx->run, key, sql)) < 0 ||
	    (err = barge_state_flag_set(s->cx->st, s->cx->run, "fks", num)) < 0)
		return err;
	s->n++;
	return 0;
}

static int detach_fks(struct ctx *cx, struct barge_conn *tc)
{
	const char **names = calloc(cx->ntbls + 1, sizeof *names);
	int *emptied = calloc(cx->ntbls + 1, sizeof *emptied);
	struct fk_saver s = {.cx = cx};
	int err = 0, any = 0;

	if (!names || !emptied) {
		err = barge_error_set(BARGE_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < cx->ntbls; i++) {
		const struct tbl *t = &cx->tbls[i];
		int mode = t->jt->settings.mode;
		names[i] = t->target_name;
		emptied[i] = !t->exists ? 0 : mode == BARGE_MODE_TRUNCATE ? 2
				 : mode == BARGE_MODE_REPLACE;
		any |= emptied[i];
	}
	if (!any)
		goto out;
	fk_count(cx, cx->run, &s.n);
	if (cx->prev_run && cx->prev_run != cx->run && s.n == 0) {
		/* a --restart: the earlier run's keys still set aside */
		long pn = 0;
		fk_count(cx, cx->prev_run, &pn);
		for (long k = 1; k <= pn && err == 0; k++) {
			char key[32], *sql = NULL, *done = NULL;
			snprintf(key, sizeof key, "fk:%ld", k);
			if (barge_state_flag_get(cx->st, cx->prev_run, key, &sql) == 0) {
				snprintf(key, sizeof key, "fkdone:%ld", k);
				if (barge_state_flag_get(cx->st, cx->prev_run, key, &done) < 0)
					err = fk_save(&s, sql);
			}
			barge_error_clear();
			free(sql);
			free(done);
		}
		if (err < 0)
			goto out;
	}
	err = barge_drv_fks_detach(&cx->dst, tc, cx->ntbls, names, emptied,
				   fk_save, &s);
out:
	free(names);
	free(emptied);
	return err;
}

/* After the data (and engine_finish_tables): the keys detach_fks set aside. */
int engine_restore_fks(struct ctx *cx)
{
	struct barge_conn *tc = NULL;
	long n = 0;
	int err = 0;

	fk_count(cx, cx->run, &n);
	for (long k = 1; k <= n && err == 0; k++) {
		char key[32], *sql = NULL, *done = NULL;
		snprintf(key, sizeof key, "fkdone:%ld", k);
		if (barge_state_flag_get(cx->st, cx->run, key, &done) == 0) {
			free(done);
			continue;
		}
		snprintf(key, sizeof key, "fk:%ld", k);
		if ((err = barge_state_flag_get(cx->st, cx->run, key, &sql)) < 0)
			break;
		barge_error_clear();
		if (!tc && (err = barge_drv_open(&cx->dst, &tc, BARGE_OPEN_WRITE)) < 0) {
			free(sql);
			break;
		}
		err = barge_drv_fks_attach(&cx->dst, tc, sql);
		free(sql);
		snprintf(key, sizeof key, "fkdone:%ld", k);
		if (err == 0)
			err = barge_state_flag_set(cx->st, cx->run, key, "1");
	}
	barge_drv_close(&cx->dst, tc);
	if (err == 0 && n > 0)
		barge_state_log(cx->st, cx->run, 0, "finish",
				"foreign keys set aside for the data made again");
	return err;
}

/* ---- Preparing the target ---------------------------------------------- */

/* barge_keymap(table_name, legacy_key, new_key), keyed by the first two,
 * when a table of the job has a new key; barge_keyseq(table_name,
 * last_value) when one is numbered by a sequence. */
static int prepare_keymap(struct ctx *cx, struct barge_conn *tc)
{
	static const char *const km[3] = {"table_name", "legacy_key", "new_key"};
	static const char *const ks[2] = {"table_name", "last_value"};
	static const int km_types[3] = {BARGE_T_TEXT, BARGE_T_TEXT, BARGE_T_TEXT};
	static const int ks_types[2] = {BARGE_T_TEXT, BARGE_T_INT64};
	int need = 0, seq = 0, err = 0;

	for (size_t i = 0; i < cx->ntbls; i++) {
		need |= cx->tbls[i].keymap;
		seq |= cx->tbls[i].seq;
	}
	if (need)
		err = own_table(cx, tc, KEYMAP_TABLE, 3, km, km_types, 2, &cx->km_def,
				cx->km_cols);
	if (err == 0 && seq)
		err = own_table(cx, tc, KEYSEQ_TABLE, 2, ks, ks_types, 1, &cx->ks_def,
				cx->ks_cols);
	return err;
}

int engine_prepare_target(struct ctx *cx)
{
	struct barge_conn *tc = NULL;
	int err;

	if ((err = barge_drv_open(&cx->dst, &tc, BARGE_OPEN_WRITE | BARGE_OPEN_CREATE)) < 0)
		return err;
	if ((err = prepare_keymap(cx, tc)) < 0)
		goto out;
	if (cx->job->action == BARGE_JOB_COPY && (err = detach_fks(cx, tc)) < 0)
		goto out;
	for (size_t i = 0; i < cx->ntbls; i++) {
		struct tbl *t = &cx->tbls[i];
		if (!t->exists) {
			if ((err = barge_drv_create_table(&cx->dst, tc, t->want)) < 0)
				goto out;
			t->created = 1;
			/* indexes, constraints and sequences come after the
			 * data (engine_finish_tables), also when a later run resumes */
			char fkey[300];
			snprintf(fkey, sizeof fkey, "finish:%s", t->src->name);
			if ((err = barge_state_flag_set(cx->st, cx->run, fkey, "todo")) < 0)
				goto out;
			barge_table_def_free(t->dst);
			t->dst = NULL;
			if ((err = barge_drv_describe(&cx->dst, tc, t->target_name, &t->dst)) < 0 ||
			    (err = tbl_bind_target(t)) < 0)
				goto out;
			char msg[256];
			snprintf(msg, sizeof msg, "created target table %s", t->target_name);
			barge_state_log(cx->st, cx->run, 0, "create", msg);
		} else if (!(cx->dst.drv->caps & BARGE_CAP_TXN) &&
			   cx->job->action == BARGE_JOB_COPY) {
			/* a target of parts writes what lists them (a file
			 * target's manifest) in finish_tables: after every
			 * run, not only the one that made the table */
			char fkey[300];
			snprintf(fkey, sizeof fkey, "finish:%s", t->src->name);
			if ((err = barge_state_flag_set(cx->st, cx->run, fkey, "todo")) < 0)
				goto out;
		}
		/* a one-row run never empties a table: it re-migrates its row */
		if (t->jt->settings.mode == BARGE_MODE_TRUNCATE &&
		    cx->job->action != BARGE_JOB_ROW) {
			char key[300], *v = NULL;
			snprintf(key, sizeof key, "truncated:%s", t->src->name);
			if (barge_state_flag_get(cx->st, cx->run, key, &v) == 0) {
				free(v);
				continue;
			}
			barge_error_clear();
			/* no chunk of this table runs before the flag is set, so a
			 * crash in between only truncates again; a target without
			 * transactions removes the table's parts */
			if (!(cx->dst.drv->caps & BARGE_CAP_TXN))
				err = barge_drv_truncate(&cx->dst, tc, t->dst);
			else if ((err = barge_drv_begin(&cx->dst, tc)) == 0 &&
				 (err = barge_drv_truncate(&cx->dst, tc, t->dst)) == 0)
				err = barge_drv_commit(&cx->dst, tc);
			if (err < 0)
				goto out;
			if ((err = barge_state_flag_set(cx->st, cx->run, key, "1")) < 0)
				goto out;
		}
	}
out:
	barge_drv_close(&cx->dst, tc);
	return err;
}

/* ---- Planning ---------------------------------------------------------- */

/*
 * The table's chunk_rows, 0 = auto (chunker.h). A mapped table keeps a
 * chunk's rejects and held rows in memory: auto means the smallest
 * automatic size there.
 */
int64_t engine_chunk_rows_for(const struct tbl *t)
{
	int64_t n = t->jt->settings.chunk_rows;
	return n == 0 && t->xf ? BARGE_CHUNK_ROWS_MIN : n;
}

int engine_plan_tables(struct ctx *cx)
{
	for (size_t i = 0; i < cx->ntbls; i++) {
		struct tbl *t = &cx->tbls[i];
		int planned = 0, err;
		if ((err = barge_state_table_planned(cx->st, cx->run, t->src->name,
						     &planned)) < 0)
			return err;
		if (planned)
			continue;
		struct barge_chunk_list l;
		if ((err = barge_chunk_plan(&l, &cx->src, cx->leader, t->src, t->how,
					    engine_chunk_rows_for(t), cx->job->defaults.jobs)) < 0)
			return err;
		err = barge_state_units_add(cx->st, cx->run, t->src->name, l.n, l.units);
		if (!t->jt->where && l.rows > 0)
			t->est_rows = l.rows; /* the progress lines need no count */
		if (err == 0) {
			char msg[256];
			snprintf(msg, sizeof msg, "%zu chunks by %s, about %lld rows",
				 l.n, barge_chunking_name(t->how), (long long)l.rows);
			barge_state_log(cx->st, cx->run, 0, "plan", msg);
		}
		barge_chunk_list_dispose(&l);
		if (err < 0)
			return err;
	}
	return 0;
}

/* Each table's units not finished yet (pending after a resume's reset). */
int engine_count_open(struct ctx *cx)
{
	struct barge_table_progress *p = NULL;
	size_t n = 0;
	int err = barge_state_progress(cx->st, cx->run, &p, &n);
	if (err < 0)
		return err;
	for (size_t j = 0; j < n; j++) {
		struct tbl *t = tbl_find(cx, p[j].table);
		if (!t)
			continue;
		long long open = p[j].chunks - p[j].chunks_done - p[j].chunks_failed;
		t->nunits = p[j].chunks;
		/* + the rounds of a self-referencing table (worker_main) */
		atomic_store(&t->open_units, open + (t->selfref && open > 0));
	}
	barge_table_progress_free(p, n);
	return 0;
}

/* ---- Finishing tables -------------------------------------------------- */

/*
 * Once every chunk is done: the driver's engine_finish_tables for the tables this
 * run created: all of it for those still "todo", the foreign keys for those
 * finish_early made ("table"). Flag "finish:T" = "done" when it succeeded.
 */
int engine_finish_tables(struct ctx *cx)
{
	const struct barge_table_def **sd = calloc(2 * cx->ntbls + 2, sizeof *sd);
	const struct barge_table_def **dd = calloc(2 * cx->ntbls + 2, sizeof *dd);
	char key[300];
	size_t n[2] = {0, 0}; /* [0] "todo" at sd[0..], [1] "table" at sd[ntbls+1..] */
	const char *early = NULL;
	int err = 0;

	if (!sd || !dd) {
		err = barge_error_set(BARGE_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < cx->ntbls; i++) {
		char *v = NULL;
		snprintf(key, sizeof key, "finish:%s", cx->tbls[i].src->name);
		if (cx->tbls[i].finish_err[0] && !early)
			early = cx->tbls[i].finish_err;
		if (barge_state_flag_get(cx->st, cx->run, key, &v) == 0) {
			int g = strcmp(v, "todo") == 0 ? 0 : strcmp(v, "table") == 0 ? 1 : -1;
			if (g >= 0) {
				size_t at = (size_t)g * (cx->ntbls + 1) + n[g]++;
				sd[at] = cx->tbls[i].src;
				dd[at] = cx->tbls[i].dst;
			}
		}
		free(v);
	}
	barge_error_clear();
	if (early) {
		/* a table's own part failed: the foreign keys that may need
		 * it wait, with the rest, for the next run */
		err = barge_error_set(BARGE_ERROR, "%s", early);
		goto out;
	}
	if (n[0] + n[1]) {
		struct barge_conn *tc = NULL;
		if ((err = barge_drv_open(&cx->dst, &tc, BARGE_OPEN_WRITE)) < 0)
			goto out;
		/* the "todo" tables first: their unique indexes may be what the
		 * foreign keys of the others need */
		if (n[0])
			err = engine_finish_call(cx, &tc, n[0], sd, dd, cx->job->defaults.jobs,
					  BARGE_FINISH_TABLE | BARGE_FINISH_FKS);
		if (err == 0 && n[1])
			err = engine_finish_call(cx, &tc, n[1], sd + cx->ntbls + 1,
					  dd + cx->ntbls + 1, cx->job->defaults.jobs,
					  BARGE_FINISH_FKS);
		barge_drv_close(&cx->dst, tc);
		for (int g = 0; g < 2 && err == 0; g++)
			for (size_t j = 0; j < n[g] && err == 0; j++) {
				snprintf(key, sizeof key, "finish:%s",
					 sd[(size_t)g * (cx->ntbls + 1) + j]->name);
				err = barge_state_flag_set(cx->st, cx->run, key, "done");
			}
		if (err == 0)
			barge_state_log(cx->st, cx->run, 0, "finish",
					"indexes, constraints, foreign keys and "
					"sequences made");
	}
out:
	free(sd);
	free(dd);
	return err;
}

/*
 * The driver's engine_finish_tables with the leader as its source connection,
 * tried again when a connection was lost (BARGE_ERETRY). Which one is not
 * known: the target connection *tc is opened anew each time; the leader from
 * the second time on (a new leader has lost the run's snapshot). Caller
 * holds leader_lock or runs alone; *tc is the caller's, NULL after a failed
 * reopen.
 */
#define FINISH_ATTEMPTS 4
int engine_finish_call(struct ctx *cx, struct barge_conn **tc, size_t n,
		       const struct barge_table_def **sd,
		       const struct barge_table_def **dd, int jobs, unsigned what)
{
	int same = cx->src.drv == cx->dst.drv;
	int err = barge_drv_finish_tables(&cx->dst, *tc, same ? cx->leader : NULL,
					  n, sd, dd, jobs, what);
	for (int again = 1; err == BARGE_ERETRY && again < FINISH_ATTEMPTS; again++) {
		barge_state_log(cx->st, cx->run, 0, "retry", barge_error_last());
		barge_error_clear();
		barge_sleep(0.1 * (1 << again));
		barge_drv_close(&cx->dst, *tc);
		*tc = NULL;
		if ((err = barge_drv_open(&cx->dst, tc, BARGE_OPEN_WRITE)) < 0)
			continue;
		if (same && again > 1 && (err = engine_reopen_leader(cx)) < 0)
			continue;
		err = barge_drv_finish_tables(&cx->dst, *tc, same ? cx->leader : NULL,
					      n, sd, dd, jobs, what);
	}
	return err;
}
