/*
 * Binding a job's tables, with no side effects: each plan table to its
 * source definition, its target (existing or as barge would create it),
 * its columns and its mapping; then the whole job validated before
 * anything is created (a bad input stops here with exit 2). Also the job
 * tables of a plan file (barge_job_tables_from_plan).
 */
#include "engine_int.h"
#include "caps.h"

#include <stdlib.h>
#include <string.h>

/* ---- Binding a table --------------------------------------------------- */

void tbl_dispose(struct tbl *t)
{
	barge_table_def_free(t->src);
	barge_table_def_free(t->dst);
	barge_table_def_free(t->want);
	free(t->src_cols);
	free(t->dst_cols);
	if (t->dst_names)
		for (size_t i = 0; i < t->ncols; i++)
			free(t->dst_names[i]);
	free(t->dst_names);
	free(t->types);
	free(t->rd_cols);
	free(t->rd_types);
	barge_xf_free(t->xf);
	for (size_t i = 0; i < t->nrefs; i++) {
		free(t->refs[i].spec);
		free(t->refs[i].table);
		free(t->refs[i].column);
	}
	free(t->refs);
	free(t->gates);
	free(t->target_name);
	if (t->seq)
		pthread_mutex_destroy(&t->seq_lock);
}

struct tbl *tbl_find(struct ctx *cx, const char *name)
{
	for (size_t i = 0; i < cx->ntbls; i++)
		if (strcmp(cx->tbls[i].src->name, name) == 0)
			return &cx->tbls[i];
	return NULL;
}

int tbl_each_progress(struct ctx *cx,
		      void (*fn)(struct tbl *t, const struct barge_table_progress *p))
{
	struct barge_table_progress *p = NULL;
	size_t n = 0;
	int err = barge_state_progress(cx->st, cx->run, &p, &n);

	if (err < 0)
		return err;
	for (size_t j = 0; j < n; j++) {
		struct tbl *t = tbl_find(cx, p[j].table);
		if (t)
			fn(t, &p[j]);
	}
	barge_table_progress_free(p, n);
	return 0;
}

/*
 * The table's mapping (barge_bind_mapping): with more than renames and
 * skips, the reader reads every source column for the transform stage.
 * Otherwise it reads the copied columns and batches go to the writer as
 * they are (no per-value work).
 */
static int tbl_mapping(struct tbl *t)
{
	const struct barge_table_def *d = t->src;
	int err;

	if ((err = barge_bind_mapping(&t->xf, d, t->jt, t->ncols, t->src_cols,
				      (const char *const *)t->dst_names)) < 0)
		return err;
	size_t nr = t->xf ? d->ncols : t->ncols;
	t->rd_cols = calloc(nr + 1, sizeof *t->rd_cols);
	t->rd_types = calloc(nr + 1, sizeof *t->rd_types);
	if (!t->rd_cols || !t->rd_types)
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	for (size_t i = 0; i < nr; i++) {
		t->rd_cols[i] = t->xf ? i : t->src_cols[i];
		t->rd_types[i] = d->cols[t->rd_cols[i]].type;
	}
	t->rd_types[nr] = BARGE_T_INT64; /* the row address, when read */
	t->rd_ncols = nr;
	return 0;
}

/*
 * The target as barge would create it from a mapping: the mapped columns
 * with their types, and the key when every key column is copied.
 */
static int tbl_want_mapped(struct tbl *t)
{
	const struct barge_table_def *d = t->src;
	size_t n = barge_xf_ncols(t->xf);
	struct barge_table_def *w = calloc(1, sizeof *w);
	int err = 0;

	if (!w)
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	t->want = w;
	w->name = strdup(t->target_name);
	w->cols = calloc(n + 1, sizeof *w->cols);
	w->key = calloc(d->nkey + 1, sizeof *w->key);
	w->rows = -1;
	if (!w->name || !w->cols || !w->key)
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		const struct barge_column_def *c = barge_xf_col(t->xf, i);
		w->cols[i] = *c;
		w->cols[i].name = strdup(c->name);
		w->cols[i].engine_type = c->engine_type ? strdup(c->engine_type) : NULL;
		w->cols[i].key_pos = 0;
		w->ncols++;
		if (!w->cols[i].name || (c->engine_type && !w->cols[i].engine_type))
			return barge_error_set(BARGE_ENOMEM, "out of memory");
	}
	size_t nk = 0;
	for (size_t k = 0; k < d->nkey; k++)
		for (size_t i = 0; i < n; i++)
			if (barge_xf_source(t->xf, i) == (int)d->key[k] && i < t->ncols) {
				w->key[nk++] = i;
				w->cols[i].key_pos = (int)nk;
				break;
			}
	w->nkey = nk == d->nkey ? nk : 0;
	for (size_t i = 0; i < n && nk != d->nkey; i++)
		w->cols[i].key_pos = 0;
	/* the batch the writer writes: the mapped columns (+ the row address) */
	free(t->types);
	t->types = calloc(n + 1, sizeof *t->types);
	for (size_t i = 0; i < t->ncols; i++)
		free(t->dst_names[i]);
	free(t->dst_names);
	t->dst_names = calloc(n + 1, sizeof *t->dst_names);
	if (!t->types || !t->dst_names)
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		t->types[i] = w->cols[i].type;
		if (!(t->dst_names[i] = strdup(w->cols[i].name)))
			err = barge_error_set(BARGE_ENOMEM, "out of memory");
	}
	t->types[n] = BARGE_T_INT64;
	t->ncols = n;
	return err;
}

/*
 * Resolve a table against the source: the chunking key, the columns to
 * copy and their target names. Unknown tables and columns are usage
 * errors, found before anything is created.
 */
static int tbl_resolve(struct ctx *cx, struct tbl *t)
{
	const struct barge_job_table *jt = t->jt;
	struct barge_table_def *d = t->src;
	int err;

	if ((err = barge_job_table_apply(d, jt)) < 0)
		return err;
	t->how = barge_chunking_for(d, cx->dst.drv->caps);
	t->with_rowid = t->how == BARGE_CHUNK_ROWID;

	size_t n = 0;
	const char **names = calloc(d->ncols + 1, sizeof *names);
	t->src_cols = calloc(d->ncols + 1, sizeof *t->src_cols);
	t->dst_names = calloc(d->ncols + 1, sizeof *t->dst_names);
	t->types = calloc(d->ncols + 1, sizeof *t->types);
	if (!names || !t->src_cols || !t->dst_names || !t->types) {
		free(names);
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	}
	barge_bind_columns(t->src_cols, names, &n, d, jt);
	t->ncols = n;
	for (size_t i = 0; i < n; i++) {
		t->dst_names[i] = strdup(names[i]);
		t->types[i] = d->cols[t->src_cols[i]].type;
	}
	free(names);
	for (size_t i = 0; i < n; i++)
		if (!t->dst_names[i])
			return barge_error_set(BARGE_ENOMEM, "out of memory");
	if (n == 0)
		return barge_error_set(BARGE_EUSAGE, "table '%s': no columns to copy",
				       d->name);
	if (t->with_rowid)
		t->types[n] = BARGE_T_INT64;
	if ((err = tbl_mapping(t)) < 0)
		return err;
	if (t->xf)
		return 0; /* tbl_want_mapped, once references are resolved */

	/* The target table as barge would create it: the copied columns under
	 * their target names, the key when every key column is copied. */
	if ((err = barge_table_def_dup(&t->want, d)) < 0)
		return err;
	free(t->want->name);
	t->want->name = strdup(t->target_name);
	for (size_t i = 0; i < n; i++) {
		struct barge_column_def tmp = d->cols[t->src_cols[i]];
		free(t->want->cols[i].name);
		free(t->want->cols[i].engine_type);
		t->want->cols[i] = tmp;
		t->want->cols[i].name = strdup(t->dst_names[i]);
		t->want->cols[i].engine_type =
			tmp.engine_type ? strdup(tmp.engine_type) : NULL;
		t->want->cols[i].key_pos = 0;
	}
	for (size_t i = n; i < d->ncols; i++) {
		free(t->want->cols[i].name);
		free(t->want->cols[i].engine_type);
	}
	t->want->ncols = n;
	size_t nk = 0;
	for (size_t k = 0; k < d->nkey; k++) {
		for (size_t i = 0; i < n; i++)
			if (t->src_cols[i] == d->key[k]) {
				t->want->key[nk++] = i;
				t->want->cols[i].key_pos = (int)nk;
			}
	}
	t->want->nkey = nk == d->nkey ? nk : 0;
	for (size_t i = 0; i < n && nk != d->nkey; i++)
		t->want->cols[i].key_pos = 0;
	return 0;
}

/* Map the batch columns onto an existing target table, by name. */
int tbl_bind_target(struct tbl *t)
{
	free(t->dst_cols);
	t->dst_cols = calloc(t->ncols + 1, sizeof *t->dst_cols);
	if (!t->dst_cols)
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	for (size_t i = 0; i < t->ncols; i++) {
		int c = barge_table_def_find(t->dst, t->dst_names[i]);
		if (c < 0)
			return barge_error_set(BARGE_EUSAGE,
					       "target table '%s' has no column '%s'",
					       t->dst->name, t->dst_names[i]);
		t->dst_cols[i] = (size_t)c;
	}
	return 0;
}

/* ---- Validation (no side effects) --------------------------------------- */

static int list_has(char **names, const char *s)
{
	for (size_t i = 0; names && names[i]; i++)
		if (strcmp(names[i], s) == 0)
			return 1;
	return 0;
}

/* A reference to a table outside the job must be in the target already. */
static int refs_outside(struct ctx *cx, char **target_tables)
{
	for (size_t i = 0; i < cx->ntbls; i++)
		for (size_t k = 0; k < cx->tbls[i].nrefs; k++) {
			const struct tref *r = &cx->tbls[i].refs[k];
			if (r->parent < 0 && !list_has(target_tables, r->table))
				return barge_error_set(BARGE_EUSAGE, "table '%s': references "
						       "%s, but table '%s' is neither in "
						       "this job nor in the target",
						       cx->tbls[i].src->name, r->spec,
						       r->table);
		}
	return 0;
}

/*
 * Open the source, describe every table and check the mapping; look at the
 * target only if it exists. Nothing is created or written here.
 */
int engine_validate(struct ctx *cx, struct barge_job_table **owned_tables,
		    size_t *nowned)
{
	const struct barge_job *job = cx->job;
	char **names = NULL;
	int err;

	if ((err = barge_ep_init(&cx->src, job->source)) < 0)
		return err;
	if ((err = barge_ep_init(&cx->dst, job->target)) < 0)
		return err;
	if ((err = barge_drv_open(&cx->src, &cx->leader, BARGE_OPEN_READ)) < 0)
		return err;

	const struct barge_job_table *jts = job->tables;
	size_t n = job->ntables;
	if (n == 0) {
		/* every table of the source, with the job's defaults */
		if ((err = barge_drv_list_tables(&cx->src, cx->leader, &names)) < 0)
			return err;
		while (names[n])
			n++;
		struct barge_job_table *all = calloc(n ? n : 1, sizeof *all);
		if (!all)
			return barge_error_set(BARGE_ENOMEM, "out of memory");
		for (size_t i = 0; i < n; i++) {
			all[i].name = names[i];
			names[i] = NULL;
			all[i].settings = job->defaults;
			all[i].max_rejects = -1;
			all[i].max_reject_ratio = -1;
		}
		*owned_tables = all;
		*nowned = n;
		jts = all;
		barge_names_free(names);
		names = NULL;
		if (n == 0)
			return barge_error_set(BARGE_EUSAGE,
					       "the source %s has no tables",
					       barge_url_redacted(cx->src.url));
	}
	cx->tbls = calloc(n, sizeof *cx->tbls);
	if (!cx->tbls)
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	cx->ntbls = n;
	for (size_t i = 0; i < n; i++) {
		struct tbl *t = &cx->tbls[i];
		t->jt = &jts[i];
		for (size_t j = 0; j < i; j++)
			if (strcmp(jts[j].name, jts[i].name) == 0)
				return barge_error_set(BARGE_EUSAGE,
						       "table '%s' is listed twice",
						       jts[i].name);
		err = barge_drv_describe(&cx->src, cx->leader, jts[i].name, &t->src);
		if (err == BARGE_ENOTFOUND)
			return barge_error_set(BARGE_EUSAGE,
					       "no table '%s' in the source %s",
					       jts[i].name,
					       barge_url_redacted(cx->src.url));
		if (err < 0)
			return err;
		t->target_name = strdup(jts[i].target ? jts[i].target : jts[i].name);
		if (!t->target_name)
			return barge_error_set(BARGE_ENOMEM, "out of memory");
		if ((err = tbl_resolve(cx, t)) < 0)
			return err;
	}
	if ((err = engine_order_tables(cx)) < 0 || (err = resolve_refs(cx)) < 0)
		return err;
	for (size_t i = 0; i < n; i++)
		if (cx->tbls[i].xf && (err = tbl_want_mapped(&cx->tbls[i])) < 0)
			return err;
	/* what the job asks of the endpoints' drivers (caps.c) */
	for (size_t i = 0; i < n; i++) {
		const struct tbl *t = &cx->tbls[i];
		struct barge_caps_use use = {.jt = t->jt, .jobs = job->defaults.jobs,
					     .writes = 1,
					     .row_run = job->action == BARGE_JOB_ROW,
					     .refs = t->nrefs > 0,
					     .keymap = t->keymap || t->seq};
		if ((err = barge_caps_check(&cx->src, &cx->dst, &use)) < 0)
			return err;
	}

	/* The target, if it is there already. Opened for writing (but never
	 * created) so that a transaction left by a killed run is rolled back
	 * here rather than tripping a read-only connection. */
	struct barge_conn *tc = NULL;
	err = barge_drv_open(&cx->dst, &tc, BARGE_OPEN_WRITE);
	if (err == BARGE_ENOTFOUND) {
		barge_error_clear();
		return refs_outside(cx, NULL);
	}
	if (err < 0)
		return err;
	if ((err = barge_drv_list_tables(&cx->dst, tc, &names)) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		struct tbl *t = &cx->tbls[i];
		if (!list_has(names, t->target_name))
			continue;
		t->exists = 1;
		if ((err = barge_drv_describe(&cx->dst, tc, t->target_name, &t->dst)) < 0 ||
		    (err = tbl_bind_target(t)) < 0)
			goto out;
	}
	err = refs_outside(cx, names);
out:
	barge_names_free(names);
	barge_drv_close(&cx->dst, tc);
	return err;
}

/* ---- Job tables from a plan ------------------------------------------------ */

static char **strv_dup(char *const *v, size_t n)
{
	char **d = calloc(n ? n : 1, sizeof *d);
	for (size_t i = 0; d && i < n; i++)
		d[i] = strdup(v[i]);
	return d;
}

int barge_job_tables_from_plan(struct barge_job_table **out, size_t *n,
			       const struct barge_plan *plan)
{
	struct barge_job_table *t = calloc(plan->ntables ? plan->ntables : 1,
					   sizeof *t);
	struct barge_settings defs = plan->defaults;
	struct barge_settings builtin;

	*out = NULL;
	*n = 0;
	if (!t)
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	barge_settings_builtin(&builtin);
	barge_settings_inherit(&defs, &builtin);
	for (size_t i = 0; i < plan->ntables; i++) {
		const struct barge_plan_table *pt = &plan->tables[i];
		struct barge_job_table *jt = &t[i];
		jt->name = strdup(pt->name);
		jt->target = pt->target ? strdup(pt->target) : NULL;
		jt->where = pt->where ? strdup(pt->where) : NULL;
		jt->nkey = pt->nkey;
		jt->key = pt->nkey ? strv_dup(pt->key, pt->nkey) : NULL;
		jt->settings = pt->settings;
		barge_settings_inherit(&jt->settings, &defs);
		jt->skip = calloc(pt->ncolumns + 1, sizeof *jt->skip);
		jt->rename_from = calloc(pt->ncolumns + 1, sizeof *jt->rename_from);
		jt->rename_to = calloc(pt->ncolumns + 1, sizeof *jt->rename_to);
		if (!jt->skip || !jt->rename_from || !jt->rename_to) {
			barge_job_tables_free(t, i + 1);
			return barge_error_set(BARGE_ENOMEM, "out of memory");
		}
		jt->max_rejects = -1;
		jt->max_reject_ratio = -1;
		if (pt->max_rejects)
			jt->max_rejects = strtoll(pt->max_rejects, NULL, 10);
		if (pt->max_reject_ratio)
			jt->max_reject_ratio = strtod(pt->max_reject_ratio, NULL);
		jt->add = pt->add ? strdup(pt->add) : NULL;
		if (pt->ninvariants) {
			jt->invariants = strv_dup(pt->invariants, pt->ninvariants);
			if (!jt->invariants) {
				barge_job_tables_free(t, i + 1);
				return barge_error_set(BARGE_ENOMEM, "out of memory");
			}
			jt->ninvariants = pt->ninvariants;
		}
		jt->opt_name = calloc(pt->ncolumns + 1, sizeof *jt->opt_name);
		jt->opt_type = calloc(pt->ncolumns + 1, sizeof *jt->opt_type);
		jt->opt_text = calloc(pt->ncolumns + 1, sizeof *jt->opt_text);
		if (!jt->opt_name || !jt->opt_type || !jt->opt_text) {
			barge_job_tables_free(t, i + 1);
			return barge_error_set(BARGE_ENOMEM, "out of memory");
		}
		for (size_t c = 0; c < pt->ncolumns; c++) {
			const struct barge_plan_column *pc = &pt->columns[c];
			size_t k = jt->nopts++;
			jt->opt_name[k] = strdup(pc->name);
			jt->opt_type[k] = pc->type ? strdup(pc->type) : NULL;
			jt->opt_text[k] = pc->options ? strdup(pc->options) : NULL;
			if (pc->skip)
				jt->skip[jt->nskip++] = strdup(pc->name);
			else if (pc->to) {
				jt->rename_from[jt->nrename] = strdup(pc->name);
				jt->rename_to[jt->nrename++] = strdup(pc->to);
			}
		}
	}
	*out = t;
	*n = plan->ntables;
	return 0;
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

void barge_job_tables_free(struct barge_job_table *t, size_t n)
{
	for (size_t i = 0; t && i < n; i++) {
		free(t[i].name);
		free(t[i].target);
		free(t[i].where);
		strv_free(t[i].key, t[i].nkey);
		strv_free(t[i].skip, t[i].nskip);
		strv_free(t[i].invariants, t[i].ninvariants);
		strv_free(t[i].rename_from, t[i].nrename);
		strv_free(t[i].rename_to, t[i].nrename);
		strv_free(t[i].opt_name, t[i].nopts);
		strv_free(t[i].opt_type, t[i].nopts);
		strv_free(t[i].opt_text, t[i].nopts);
		free(t[i].add);
	}
	free(t);
}
