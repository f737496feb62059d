/*
 * The engine (engine.h): validation, run bookkeeping, chunk planning and
 * the workers. One chunk = one target transaction; the state store records
 * a unit done only after its transaction committed, so a crash at any
 * instant re-runs whole chunks, and the re-run is made idempotent here:
 *
 *   replace          always deletes the chunk's range first;
 *   insert/truncate  delete the range first when an earlier attempt may
 *                    have committed (the unit's "inflight" flag, set before
 *                    every commit, or a unit already done);
 *   upsert           merges on the key.
 */
#include "engine.h"
#include "progress.h"
#include "canon.h"
#include "chunker.h"
#include "drv.h"
#include "queue.h"
#include "state.h"
#include "transform.h"
#include "util.h"

#include <assert.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static atomic_int stop_requested;

void barge_job_request_stop(void)
{
	atomic_store(&stop_requested, 1);
}

/* ---- Per-table runtime -------------------------------------------------- */

/* A `references: table.column` rule of a mapped column. */
struct tref {
	size_t scol;          /* the column in the read batch (source order) */
	size_t xcol;          /* the target column, for the reject */
	char *spec;           /* "customers.id", for messages */
	char *table, *column; /* what to look up in the target */
	long parent;          /* the parent's index in the job, or -1 */
	int fed;              /* rewritten to the parent's sequence key, looked
			       * up in barge_keymap (table_name = `table`) */
	int self;             /* the parent is this table */
	int to_key;           /* ... and the column its one-column key */
};

#define KEYMAP_TABLE "barge_keymap"
#define KEYSEQ_TABLE "barge_keyseq"

struct tbl {
	const struct barge_job_table *jt;
	char *target_name;
	struct barge_table_def *src;  /* source def, key = the chunking key */
	struct barge_table_def *dst;  /* target def (NULL until known) */
	struct barge_table_def *want; /* the target as barge would create it */
	size_t ncols;
	size_t *src_cols;             /* batch column -> source column */
	char **dst_names;             /* batch column -> target column name */
	size_t *dst_cols;             /* batch column -> target column */
	int *types;                   /* batch column types (+ rowid) */
	/* What the reader reads: the copied columns, or every source column
	 * when the table has a mapping (the transform stage needs them all:
	 * keys and whole rows for rejects, `from:` of added columns). */
	size_t rd_ncols;
	size_t *rd_cols;
	int *rd_types;                /* (+ rowid) */
	struct barge_xf *xf;          /* the mapping, NULL = copy as read */
	/* `references` rules: checked per batch in the target, before mapping */
	size_t nrefs;
	struct tref *refs;
	/* key remapping: the key was replaced by an `add:` uuid_v5 of it, so
	 * each written row also goes to barge_keymap (mapped batch columns) */
	int keymap;
	size_t km_legacy, km_new;
	/* the new key is an `add:` sequence: numbers handed out in each
	 * chunk's transaction after the last one in barge_keyseq, one chunk
	 * of the table at a time (seq_lock) */
	int seq;
	int64_t seq_start;
	pthread_mutex_t seq_lock;
	/* a `references` rule to itself: rows whose parent is not in the
	 * target yet are held to the end of their chunk, and chunks left
	 * with such rejects run again once the table's others are done
	 * (selfref_rounds); its error budget is checked from then on, when
	 * the rejects are final */
	int selfref;
	atomic_int rounds_done;
	/* --jobs > 1: the tables (indices in the job, earlier in the load
	 * order) whose chunks must all be finished before this one's start,
	 * and how many of this table's units are still open */
	size_t ngates;
	size_t *gates;
	atomic_llong open_units;      /* + 1 for a self-reference's rounds */
	atomic_int failed;            /* this run's failed units */
	int64_t nunits;               /* the run's units of this table */
	char finish_err[512];         /* the early finish failed (finish_early) */
	atomic_llong rej_total, read_total; /* the run's, for the budget */
	atomic_int over_budget;
	int how;                      /* enum barge_chunking */
	int with_rowid;
	int created;
	int exists;                   /* the target table exists already */
	int64_t est_rows;
	atomic_llong rows_done;
	/* µs (monotonic) when this job first claimed one of the table's units
	 * and when it last finished one: a table's rate is over its own time */
	atomic_llong first_us, last_us;
};

struct ctx {
	const struct barge_job *job;
	struct barge_ep src, dst;
	struct barge_conn *leader;    /* source: planning + snapshot */
	char *token;            /* the snapshot to join (leader_lock once
				 * workers run: renew_snapshot replaces it) */
	int renewals;           /* new snapshots taken (leader_lock) */
	int snapshots;          /* the source has snapshots (set before the
				 * workers start) */
	struct barge_state *st;
	int64_t run;
	int64_t prev_run;       /* the state file's earlier run (restart), or 0 */
	struct tbl *tbls;
	size_t ntbls;
	pthread_mutex_t lock;
	pthread_mutex_t write_turn; /* targets without parallel writes */
	pthread_mutex_t leader_lock; /* the leader, used by workers to finish */
	int consecutive_failures;
	atomic_int aborted;
	atomic_int failed_units;
	char abort_reason[256];
	char *order_note;       /* "load order: ..." (+ the cycles), for the log */
	struct barge_buf notes; /* lines for the summary (res->notes) */
	struct barge_table_def *km_def; /* barge_keymap in the target, or NULL */
	size_t km_cols[3];
	struct barge_table_def *ks_def; /* barge_keyseq in the target, or NULL */
	size_t ks_cols[2];
	int gated;              /* some table waits for its parents */
};

static void tbl_dispose(struct tbl *t)
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

static struct tbl *tbl_find(struct ctx *cx, const char *name)
{
	for (size_t i = 0; i < cx->ntbls; i++)
		if (strcmp(cx->tbls[i].src->name, name) == 0)
			return &cx->tbls[i];
	return NULL;
}

static int in_list(char *const *list, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i], s) == 0)
			return (int)i;
	return -1;
}

/*
 * The table's mapping: every column the plan names must exist; when more
 * than renames and skips is asked for, compile the transform stage and
 * read every source column. Otherwise the reader reads the copied columns
 * and batches go to the writer as they are (no per-value work).
 */
static int tbl_mapping(struct tbl *t)
{
	const struct barge_job_table *jt = t->jt;
	const struct barge_table_def *d = t->src;
	const char **types = NULL, **opts = NULL;
	struct barge_xf_spec spec;
	int err = 0;

	for (size_t i = 0; i < jt->nopts; i++)
		if (barge_table_def_find(d, jt->opt_name[i]) < 0)
			return barge_error_set(BARGE_EUSAGE, "table '%s' has no column '%s'",
					       d->name, jt->opt_name[i]);
	types = calloc(t->ncols + 1, sizeof *types);
	opts = calloc(t->ncols + 1, sizeof *opts);
	if (!types || !opts) {
		err = barge_error_set(BARGE_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < t->ncols; i++) {
		int k = in_list(jt->opt_name, jt->nopts, d->cols[t->src_cols[i]].name);
		if (k >= 0) {
			types[i] = jt->opt_type[k];
			opts[i] = jt->opt_text[k];
		}
	}
	memset(&spec, 0, sizeof spec);
	spec.table = d->name;
	spec.ncols = t->ncols;
	spec.src_cols = t->src_cols;
	spec.dst_names = (const char *const *)t->dst_names;
	spec.types = types;
	spec.options = opts;
	spec.add = jt->add;
	if (barge_xf_needed(&spec)) {
		if ((err = barge_xf_new(&t->xf, d, &spec)) < 0)
			goto out;
		/* chunk ranges and re-run deletes go by the key's values */
		for (size_t i = 0; i < t->ncols; i++)
			for (size_t k = 0; k < d->nkey; k++)
				if (t->src_cols[i] == d->key[k] &&
				    barge_xf_col(t->xf, i)->type != d->cols[d->key[k]].type) {
					err = barge_error_set(BARGE_EUSAGE,
							      "table '%s': key column '%s' "
							      "cannot change its type (chunks "
							      "are ranges of its values)",
							      d->name, d->cols[d->key[k]].name);
					goto out;
				}
	}
	size_t nr = t->xf ? d->ncols : t->ncols;
	t->rd_cols = calloc(nr + 1, sizeof *t->rd_cols);
	t->rd_types = calloc(nr + 1, sizeof *t->rd_types);
	if (!t->rd_cols || !t->rd_types) {
		err = barge_error_set(BARGE_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < nr; i++) {
		t->rd_cols[i] = t->xf ? i : t->src_cols[i];
		t->rd_types[i] = d->cols[t->rd_cols[i]].type;
	}
	t->rd_types[nr] = BARGE_T_INT64; /* the row address, when read */
	t->rd_ncols = nr;
out:
	free(types);
	free(opts);
	return err;
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
 * Check a job table's skipped and renamed columns against the source
 * definition `d` and make its chunking key d's key (when the job names
 * one). Usage errors name the table and column. Shared by copy and verify.
 */
int barge_job_table_apply(struct barge_table_def *d,
			  const struct barge_job_table *jt)
{
	for (size_t i = 0; i < jt->nskip; i++)
		if (barge_table_def_find(d, jt->skip[i]) < 0)
			return barge_error_set(BARGE_EUSAGE,
					       "table '%s' has no column '%s' (to skip)",
					       d->name, jt->skip[i]);
	for (size_t i = 0; i < jt->nrename; i++)
		if (barge_table_def_find(d, jt->rename_from[i]) < 0)
			return barge_error_set(BARGE_EUSAGE,
					       "table '%s' has no column '%s'",
					       d->name, jt->rename_from[i]);
	if (jt->nkey) {
		size_t *key = calloc(jt->nkey, sizeof *key);
		if (!key)
			return barge_error_set(BARGE_ENOMEM, "out of memory");
		for (size_t i = 0; i < jt->nkey; i++) {
			int c = barge_table_def_find(d, jt->key[i]);
			if (c < 0) {
				free(key);
				return barge_error_set(BARGE_EUSAGE,
						       "table '%s' has no key column '%s'",
						       d->name, jt->key[i]);
			}
			key[i] = (size_t)c;
		}
		free(d->key);
		d->key = key;
		d->nkey = jt->nkey;
	}
	return 0;
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
	t->src_cols = calloc(d->ncols + 1, sizeof *t->src_cols);
	t->dst_names = calloc(d->ncols + 1, sizeof *t->dst_names);
	t->types = calloc(d->ncols + 1, sizeof *t->types);
	if (!t->src_cols || !t->dst_names || !t->types)
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	for (size_t c = 0; c < d->ncols; c++) {
		if (in_list(jt->skip, jt->nskip, d->cols[c].name) >= 0)
			continue;
		int r = in_list(jt->rename_from, jt->nrename, d->cols[c].name);
		t->src_cols[n] = c;
		t->dst_names[n] = strdup(r >= 0 ? jt->rename_to[r] : d->cols[c].name);
		if (!t->dst_names[n])
			return barge_error_set(BARGE_ENOMEM, "out of memory");
		t->types[n] = d->cols[c].type;
		n++;
	}
	t->ncols = n;
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
static int tbl_bind_target(struct tbl *t)
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

/* ---- Load order, references, key remapping (no side effects) ------------- */

/* "customers.id" -> "customers" and "id" (the last dot splits). */
static int split_ref(const char *spec, char **table, char **column)
{
	const char *dot = strrchr(spec, '.');
	*table = *column = NULL;
	if (!dot || dot == spec || !dot[1])
		return barge_error_set(BARGE_EUSAGE, "references '%s' is not "
				       "table.column", spec);
	*table = strndup(spec, (size_t)(dot - spec));
	*column = strdup(dot + 1);
	if (!*table || !*column)
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	return 0;
}

/*
 * Sort the job's tables parents first (barge_fk_order) over the source's
 * foreign keys and the plan's `references` rules: planning order is claim
 * order, since the state store claims the lowest unit id first.
 */
static int order_tables(struct ctx *cx)
{
	size_t n = cx->ntbls, nstr = 0;
	const struct barge_table_def **defs = calloc(n + 1, sizeof *defs);
	struct barge_table_def *tmp = calloc(n + 1, sizeof *tmp);
	struct barge_fk_def **fks = calloc(n + 1, sizeof *fks);
	char **strs = NULL;
	size_t *order = calloc(n + 1, sizeof *order);
	struct tbl *sorted = calloc(n + 1, sizeof *sorted);
	char *cycles = NULL;
	struct barge_buf b;
	int err = 0;

	barge_buf_init(&b, 1u << 20);
	if (!defs || !tmp || !fks || !order || !sorted)
		goto nomem;
	size_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += cx->tbls[i].xf ? barge_xf_ncols(cx->tbls[i].xf) : 0;
	if (!(strs = calloc(total + 1, sizeof *strs)))
		goto nomem;
	for (size_t i = 0; i < n; i++) {
		const struct tbl *t = &cx->tbls[i];
		size_t nx = t->xf ? barge_xf_ncols(t->xf) : 0, k = 0;
		tmp[i] = *t->src; /* shallow: only fks is replaced */
		if (!(fks[i] = calloc(t->src->nfks + nx + 1, sizeof *fks[i])))
			goto nomem;
		for (size_t f = 0; f < t->src->nfks; f++)
			fks[i][k++] = t->src->fks[f];
		for (size_t j = 0; j < nx; j++) {
			const char *spec = barge_xf_references(t->xf, j);
			const char *dot = spec ? strrchr(spec, '.') : NULL;
			if (!dot)
				continue;
			if (!(strs[nstr] = strndup(spec, (size_t)(dot - spec))))
				goto nomem;
			fks[i][k].ref_table = strs[nstr++];
			k++;
		}
		tmp[i].fks = fks[i];
		tmp[i].nfks = k;
		defs[i] = &tmp[i];
	}
	if ((err = barge_fk_order(order, (const struct barge_table_def *const *)defs,
				  n, &cycles)) < 0)
		goto out;
	for (size_t k = 0; k < n; k++)
		memcpy(&sorted[k], &cx->tbls[order[k]], sizeof sorted[k]);
	free(cx->tbls);
	cx->tbls = sorted;
	sorted = NULL;
	barge_buf_adds(&b, "load order:");
	for (size_t k = 0; k < n; k++)
		barge_buf_printf(&b, "%s %s", k ? "," : "", cx->tbls[k].src->name);
	if (cycles)
		barge_buf_printf(&b, "; foreign-key %s (its tables load in name "
				 "order; the foreign keys of tables barge creates "
				 "are made after the data)", cycles);
	err = barge_buf_detach(&b, &cx->order_note);
	goto out;
nomem:
	err = barge_error_set(BARGE_ENOMEM, "out of memory");
out:
	for (size_t i = 0; fks && i < n; i++)
		free(fks[i]);
	for (size_t i = 0; strs && i < nstr; i++)
		free(strs[i]);
	free(strs);
	free(fks);
	free(tmp);
	free(defs);
	free(order);
	free(sorted);
	free(cycles);
	barge_buf_dispose(&b);
	return err;
}

/* The target column a source column is copied to (not an added uuid), or
 * -1: in the mapping, or in the plain copy's names. */
static long copied_to(const struct tbl *t, size_t srccol)
{
	unsigned char ns[16];
	int64_t start;
	if (t->xf) {
		for (size_t i = 0; i < barge_xf_ncols(t->xf); i++)
			if (barge_xf_source(t->xf, i) == (int)srccol &&
			    !barge_xf_uuid_v5(t->xf, i, ns) &&
			    !barge_xf_sequence(t->xf, i, &start))
				return (long)i;
		return -1;
	}
	for (size_t i = 0; i < t->ncols; i++)
		if (t->src_cols[i] == srccol)
			return (long)i;
	return -1;
}

static const char *target_col_name(const struct tbl *t, long i)
{
	return t->xf ? barge_xf_col(t->xf, (size_t)i)->name : t->dst_names[i];
}

/*
 * Key remapping: a table whose single key column is copied and also feeds
 * an `add:` uuid_v5 or sequence column has a new key; its rows go to
 * barge_keymap (legacy -> new) and its children's references are
 * rewritten to it. A sequence must number the key, a one-column key.
 */
static int find_keymaps(struct ctx *cx)
{
	unsigned char ns[16];
	int64_t start;
	for (size_t i = 0; i < cx->ntbls; i++) {
		struct tbl *t = &cx->tbls[i];
		size_t nx = t->xf ? barge_xf_ncols(t->xf) : 0;
		for (size_t j = 0; j < nx; j++) {
			if (!barge_xf_sequence(t->xf, j, &start))
				continue;
			const char *name = barge_xf_col(t->xf, j)->name;
			int from = barge_xf_source(t->xf, j);
			if (t->src->nkey != 1)
				return barge_error_set(BARGE_EUSAGE, "table '%s': sequence "
						       "'%s' needs a one-column key, and "
						       "the table's key has %zu columns "
						       "(barge_keymap maps one legacy "
						       "value); use uuid_v5 or a key: of "
						       "one column", t->src->name, name,
						       t->src->nkey);
			if (from != (int)t->src->key[0])
				return barge_error_set(BARGE_EUSAGE, "table '%s': sequence "
						       "'%s' must number the key column "
						       "'%s'", t->src->name, name,
						       t->src->cols[t->src->key[0]].name);
			long legacy = copied_to(t, t->src->key[0]);
			if (legacy < 0)
				return barge_error_set(BARGE_EUSAGE, "table '%s': sequence "
						       "'%s' needs the key column '%s' "
						       "copied too (under a new name with "
						       "to:)", t->src->name, name,
						       t->src->cols[t->src->key[0]].name);
			if (t->seq)
				return barge_error_set(BARGE_EUSAGE, "table '%s': one "
						       "sequence per table", t->src->name);
			t->keymap = t->seq = 1;
			t->seq_start = start;
			t->km_legacy = (size_t)legacy;
			t->km_new = j;
			pthread_mutex_init(&t->seq_lock, NULL);
		}
		if (!t->keymap && t->xf &&
		    barge_xf_uuid_key(t->xf, t->src, &t->km_legacy, &t->km_new, ns))
			t->keymap = 1;
	}
	return 0;
}

/* Resolve each `references` rule: where to look in the target, which
 * parent in this job to wait for, and whether the value is remapped. */
static int resolve_refs(struct ctx *cx)
{
	char *ptable = NULL, *pcol = NULL;
	int err = 0;

	if ((err = find_keymaps(cx)) < 0)
		return err;
	for (size_t ti = 0; ti < cx->ntbls; ti++) {
		struct tbl *t = &cx->tbls[ti];
		size_t nx = t->xf ? barge_xf_ncols(t->xf) : 0;
		for (size_t j = 0; j < nx; j++) {
			const char *spec = barge_xf_references(t->xf, j);
			int sc = barge_xf_source(t->xf, j);
			if (!spec || sc < 0)
				continue;
			if (!cx->dst.drv->lookup) {
				err = barge_error_set(BARGE_EUSAGE, "table '%s': references "
						      "%s needs lookups in the target, which "
						      "the %s driver cannot do yet", t->src->name,
						      spec, cx->dst.drv->name);
				goto out;
			}
			free(ptable);
			free(pcol);
			if ((err = split_ref(spec, &ptable, &pcol)) < 0)
				goto out;
			struct tref r = {.scol = (size_t)sc, .xcol = j, .parent = -1};
			for (size_t pi = 0; pi < cx->ntbls; pi++)
				if (strcmp(cx->tbls[pi].src->name, ptable) == 0)
					r.parent = (long)pi;
			const char *look_t = ptable, *look_c = pcol;
			if (r.parent >= 0) {
				struct tbl *p = &cx->tbls[r.parent];
				int pc = barge_table_def_find(p->src, pcol);
				long tc = pc < 0 ? -1 : copied_to(p, (size_t)pc);
				if (tc < 0) {
					err = barge_error_set(BARGE_EUSAGE, "table '%s': references "
							      "%s, but table '%s' %s column '%s'",
							      t->src->name, spec, ptable,
							      pc < 0 ? "has no" : "does not copy",
							      pcol);
					goto out;
				}
				look_t = p->target_name;
				look_c = target_col_name(p, tc);
				if (p->keymap && (size_t)pc == p->src->key[0]) {
					unsigned char ns[16];
					char why[300];
					snprintf(why, sizeof why, "%s.%s through %s", p->target_name,
						 barge_xf_col(p->xf, p->km_new)->name,
						 KEYMAP_TABLE);
					if (p->seq) {
						r.fed = 1;
						err = barge_xf_remap_fed(t->xf, j, BARGE_T_INT64, why);
					} else {
						barge_xf_uuid_v5(p->xf, p->km_new, ns);
						err = barge_xf_remap(t->xf, j, ns, why);
					}
					if (err < 0)
						goto out;
				}
				if ((size_t)r.parent == ti) {
					r.self = t->selfref = 1;
					r.to_key = p->src->nkey == 1 &&
						   (size_t)pc == p->src->key[0];
					if (p->seq) {
						err = barge_error_set(BARGE_EUSAGE, "table '%s': "
								      "references %s, its own "
								      "key, which a sequence "
								      "renumbers: a parent later "
								      "in the table has no number "
								      "yet (use uuid_v5)",
								      t->src->name, spec);
						goto out;
					}
				}
				if ((size_t)r.parent < ti) {
					size_t *g = realloc(t->gates, (t->ngates + 1) * sizeof *g);
					if (!g) {
						err = barge_error_set(BARGE_ENOMEM, "out of memory");
						goto out;
					}
					t->gates = g;
					t->gates[t->ngates++] = (size_t)r.parent;
					cx->gated = 1;
				}
			}
			struct tref *nr = realloc(t->refs, (t->nrefs + 1) * sizeof *nr);
			if (!nr) {
				err = barge_error_set(BARGE_ENOMEM, "out of memory");
				goto out;
			}
			t->refs = nr;
			r.spec = strdup(spec);
			r.table = strdup(look_t);
			r.column = strdup(look_c);
			t->refs[t->nrefs++] = r;
			if (!r.spec || !r.table || !r.column) {
				err = barge_error_set(BARGE_ENOMEM, "out of memory");
				goto out;
			}
		}
	}
out:
	free(ptable);
	free(pcol);
	return err;
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
static int validate(struct ctx *cx, struct barge_job_table **owned_tables,
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
	if ((err = order_tables(cx)) < 0 || (err = resolve_refs(cx)) < 0)
		return err;
	for (size_t i = 0; i < n; i++)
		if (cx->tbls[i].xf && (err = tbl_want_mapped(&cx->tbls[i])) < 0)
			return err;

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

/* ---- The reader thread ---------------------------------------------------- */

struct reader {
	struct ctx *cx;
	struct tbl *t;
	struct barge_conn *conn;
	const struct barge_chunk *chunk;
	struct barge_queue *pool, *full;
	struct barge_digest digest;
	int64_t rows, bytes, limit;
	int err;
	char msg[1024];
};

static void *reader_main(void *arg)
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

/* ---- Workers -------------------------------------------------------------- */

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

struct worker {
	struct ctx *cx;
	int id;
	struct barge_conn *sconn, *tconn;
	struct tbl *batches_for; /* the table the batches are shaped for */
	struct barge_batch **batches;
	size_t nbatches;
	struct barge_batch *mapped;   /* the transform stage's output batch */
	struct barge_xf_run *xrun;    /* its scratch */
	uint8_t *found;               /* references: nrefs x batch_rows */
	struct barge_batch *kmb;      /* barge_keymap rows of a batch */
	/* new keys looked up in barge_keymap: one text batch per reference
	 * (those with `fed`) and one for the table's own sequence key */
	struct barge_batch **lk;
	size_t nlk;
	uint8_t *lkfound;
	struct held *held[2];         /* self-references: rows held in a chunk */
	int64_t seq_last;             /* the chunk's sequence: last number */
	int seq_dirty;                /* handed out numbers in this chunk */
	char seq_txt[24];
	pthread_t thread;
	int err;
};

static void worker_free_batches(struct worker *w)
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

static int worker_batches(struct worker *w, struct tbl *t)
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
static int unit_chunk(struct barge_chunk *ch, const struct barge_unit *u,
		      const struct tbl *t)
{
	int types[64];
	size_t nk = u->by_rowid ? 1 : t->src->nkey;
	int err = 0;

	memset(ch, 0, sizeof *ch);
	if (nk > 64)
		return barge_error_set(BARGE_EUSAGE, "a key of more than 64 columns");
	barge_chunk_key_types(types, t->src, u->by_rowid);
	ch->unit_id = u->id;
	ch->seq = u->seq;
	ch->by_rowid = u->by_rowid;
	if (u->lo && (err = barge_key_from_json(&ch->lo, u->lo, nk, types)) < 0)
		return err;
	if (u->hi && (err = barge_key_from_json(&ch->hi, u->hi, nk, types)) < 0)
		return err;
	return 0;
}

static void chunk_dispose(struct barge_chunk *ch)
{
	barge_key_free(ch->lo);
	barge_key_free(ch->hi);
	memset(ch, 0, sizeof *ch);
}

/* ---- Rejects of a chunk ---------------------------------------------------- */

#define REJECTS_MAX_BYTES (256u << 20) /* a chunk's rejects held in memory */

struct rejects {
	size_t n, cap, bytes;
	struct barge_reject *v;
};

static void rejects_dispose(struct rejects *rs)
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
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 64;
		struct barge_reject *nv = realloc(rs->v, cap * sizeof *nv);
		if (!nv)
			return barge_error_set(BARGE_ENOMEM, "out of memory");
		rs->v = nv;
		rs->cap = cap;
	}
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

struct chunk_result {
	int64_t rows_read, rows_written, bytes;
	char digest[33];
	struct rejects rej;
};

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
static int map_batch(struct worker *w, struct tbl *t, const struct barge_batch *b,
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
		struct barge_lookup q = {.table = KEYMAP_TABLE, .column = "legacy_key",
					 .eq_column = "table_name",
					 .value_column = "new_key"};
		size_t col;
		if (k < t->nrefs && t->refs[k].fed) {
			q.eq_value = t->refs[k].table;
			col = t->refs[k].scol;
		} else if (k == t->nrefs && t->seq) {
			q.eq_value = t->target_name;
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

static char *inflight_key(char *buf, size_t n, int64_t unit)
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
			err = map_batch(w, t, from->v[i], &res->rej, last ? NULL : to);
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
 * attempt may have committed rows of this chunk.
 */
static int copy_chunk(struct worker *w, struct tbl *t,
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
					inflight_key(fk, sizeof fk, ch->unit_id),
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
	if (pthread_create(&th, NULL, reader_main, &rd) != 0) {
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
	if ((err = barge_drv_begin(dst, w->tconn)) < 0)
		goto out;
	in_txn = 1;
	if (have_seq && (err = seq_load(w, t)) < 0)
		goto out;
	/* truncate mode, a table of one chunk: emptied again in this
	 * transaction (it is empty already, or holds an earlier attempt's
	 * rows), so that its rows can be written frozen: no later VACUUM
	 * has to visit them */
	int freeze = mode == BARGE_MODE_TRUNCATE && t->nunits == 1 &&
		     cx->job->action == BARGE_JOB_COPY;
	if (freeze) {
		if ((err = barge_drv_truncate(dst, w->tconn, t->dst)) < 0)
			goto out;
	} else if (mode == BARGE_MODE_REPLACE ||
		   (rerun && mode != BARGE_MODE_UPSERT)) {
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
			err = map_batch(w, t, b, &res->rej, t->selfref ? w->held[0] : NULL);
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
	if (err == 0 && t->selfref && !cx->job->dry_run)
		err = resolve_held(w, t, &wr, &wreq, &kreq, res);
	barge_drv_write_close(dst, wr);
	wr = NULL;
	if (err == 0 && have_seq)
		err = seq_save(w, t);
	if (err < 0)
		goto out;
	if ((err = barge_drv_commit(dst, w->tconn)) < 0)
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
		barge_drv_rollback(dst, w->tconn);
		barge_error_set(code, "%s", keep);
	}
	if (have_seq)
		pthread_mutex_unlock(&t->seq_lock);
	if (have_turn)
		pthread_mutex_unlock(&cx->write_turn);
	barge_queue_free(pool);
	barge_queue_free(full);
	if (err < 0) {
		res->rows_written = 0;
		rejects_dispose(&res->rej);
	}
	return err;
}

static int reconnect_target(struct worker *w)
{
	barge_drv_close(&w->cx->dst, w->tconn);
	w->tconn = NULL;
	return barge_drv_open(&w->cx->dst, &w->tconn, BARGE_OPEN_WRITE);
}

/*
 * The run's snapshot is gone: the transaction that exported it ended with
 * its connection (terminated, lost, the server restarted) before this
 * worker could join it. Take a new one on a new planning connection,
 * unless another worker already has (cx->token is no longer `stale`).
 * Caller holds leader_lock. Chunks read from then on see the source as it
 * is then: each chunk is still one consistent read, the run as a whole is
 * not, as after a resume; the log, the summary and the report say so.
 */
static int renew_snapshot(struct ctx *cx, const char *stale)
{
	char *token = NULL;
	int err;

	if (!cx->token || strcmp(cx->token, stale) != 0)
		return 0;
	barge_drv_close(&cx->src, cx->leader);
	cx->leader = NULL;
	if ((err = barge_drv_open(&cx->src, &cx->leader, BARGE_OPEN_READ)) < 0 ||
	    (err = barge_drv_snapshot_begin(&cx->src, cx->leader, &token)) < 0) {
		free(token);
		barge_drv_close(&cx->src, cx->leader);
		cx->leader = NULL;
		return err;
	}
	if (!token) /* the driver has no snapshots after all */
		return barge_error_set(BARGE_ERROR, "the source gave no new snapshot");
	free(cx->token);
	cx->token = token;
	cx->renewals++;
	barge_state_log(cx->st, cx->run, 0, "snapshot",
			"the run's source snapshot was lost with the connection "
			"that exported it; chunks read from now on use a new one "
			"(each chunk is consistent, the run as a whole is not: "
			"check it with barge verify)");
	return 0;
}

/* Join the run's snapshot on the worker's new source connection, or a new
 * snapshot when that one is gone. */
static int join_snapshot(struct worker *w)
{
	struct ctx *cx = w->cx;
	char *tried = NULL;
	int err;

	if (!cx->snapshots)
		return 0; /* an engine without snapshots */
	pthread_mutex_lock(&cx->leader_lock);
	tried = strdup(cx->token);
	pthread_mutex_unlock(&cx->leader_lock);
	if (!tried)
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	err = barge_drv_snapshot_join(&cx->src, w->sconn, tried);
	if (err == BARGE_ENOTFOUND) {
		barge_error_clear();
		pthread_mutex_lock(&cx->leader_lock);
		err = renew_snapshot(cx, tried);
		free(tried);
		tried = NULL;
		if (err == 0 && !(tried = strdup(cx->token)))
			err = barge_error_set(BARGE_ENOMEM, "out of memory");
		pthread_mutex_unlock(&cx->leader_lock);
		if (err == 0)
			err = barge_drv_snapshot_join(&cx->src, w->sconn, tried);
	}
	free(tried);
	return err;
}

/* A new source connection in the run's snapshot (the old one may be the
 * one that failed: a killed backend, a restarted server). On failure the
 * worker has none, and the next attempt tries again. */
static int reconnect_source(struct worker *w)
{
	struct ctx *cx = w->cx;
	int err;
	barge_drv_close(&cx->src, w->sconn);
	w->sconn = NULL;
	if ((err = barge_drv_open(&cx->src, &w->sconn, BARGE_OPEN_READ)) < 0)
		return err;
	if ((err = join_snapshot(w)) < 0) {
		barge_drv_close(&cx->src, w->sconn);
		w->sconn = NULL;
	}
	return err;
}

/*
 * The planning connection was lost (its server restarted, its backend
 * terminated): a new one, for the finishing step's catalog reads. The
 * run's exported snapshot died with the old one, so the new connection
 * joins it only if it still exists; else it reads the source as it is now
 * (the finishing step reads definitions, not data). Workers keep the
 * snapshot in their own open transactions, so their chunks go on; only a
 * worker that must reconnect its own source connection can no longer
 * join it, and its chunk fails (a new run, --restart, takes a new one).
 */
static int reopen_leader(struct ctx *cx)
{
	int err;
	barge_drv_close(&cx->src, cx->leader);
	cx->leader = NULL;
	if ((err = barge_drv_open(&cx->src, &cx->leader, BARGE_OPEN_READ)) < 0)
		return err;
	if (cx->token && barge_drv_snapshot_join(&cx->src, cx->leader, cx->token) == 0)
		return 0;
	barge_state_log(cx->st, cx->run, 0, "reconnect",
			"the planning connection was lost, and the run's snapshot "
			"with it: finishing reads the source's catalog as it is now");
	barge_error_clear();
	barge_drv_close(&cx->src, cx->leader);
	cx->leader = NULL;
	/* (the token stays: a worker that must reconnect finds it gone and
	 * takes a new snapshot, renew_snapshot) */
	return barge_drv_open(&cx->src, &cx->leader, BARGE_OPEN_READ);
}

/* The driver's finish_tables with the leader as its source connection,
 * once more on a new leader when the connection was lost. Caller holds
 * leader_lock or runs alone. */
static int finish_call(struct ctx *cx, struct barge_conn *tc, size_t n,
		       const struct barge_table_def **sd,
		       const struct barge_table_def **dd, int jobs, unsigned what)
{
	int same = cx->src.drv == cx->dst.drv;
	int err = barge_drv_finish_tables(&cx->dst, tc, same ? cx->leader : NULL,
					  n, sd, dd, jobs, what);
	if (err != BARGE_ERETRY || !same)
		return err;
	barge_state_log(cx->st, cx->run, 0, "retry", barge_error_last());
	if ((err = reopen_leader(cx)) < 0)
		return err;
	return barge_drv_finish_tables(&cx->dst, tc, cx->leader, n, sd, dd, jobs,
				       what);
}

static double backoff(int attempt)
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

/* The run's counts so far (a resumed run's done units count too). */
static int budget_load(struct ctx *cx)
{
	struct barge_table_progress *p = NULL;
	size_t n = 0;
	char why[200];
	int err = barge_state_progress(cx->st, cx->run, &p, &n);
	if (err < 0)
		return err;
	for (size_t j = 0; j < n; j++) {
		struct tbl *t = tbl_find(cx, p[j].table);
		if (!t)
			continue;
		atomic_store(&t->read_total, p[j].rows_read);
		atomic_store(&t->rej_total, p[j].rows_rejected);
		atomic_store(&t->over_budget, over_budget(t, why, sizeof why));
	}
	barge_table_progress_free(p, n);
	return 0;
}

/* Run one claimed unit to the end: done, or failed after its retries. */
static int process_unit(struct worker *w, struct barge_unit *u, int was_done)
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
	if ((err = unit_chunk(&ch, u, t)) < 0)
		return err;
	long long zero = 0;
	atomic_compare_exchange_strong(&t->first_us, &zero,
				       (long long)(barge_monotonic() * 1e6));
	/* truncate mode's one-row run replaces its row (the table is not
	 * emptied first, see prepare_target) */
	int rerun = was_done || (cx->job->action == BARGE_JOB_ROW &&
				 t->jt->settings.mode == BARGE_MODE_TRUNCATE);
	if (!rerun && barge_state_flag_get(cx->st, cx->run,
					   inflight_key(fk, sizeof fk, u->id),
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
		err = w->sconn ? 0 : reconnect_source(w);
		if (err == 0 && !w->tconn)
			err = reconnect_target(w);
		if (err == 0)
			err = copy_chunk(w, t, &ch, rerun, &res);
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
		    !atomic_load(&stop_requested)) {
			barge_state_log(cx->st, cx->run, u->id, "retry", emsg);
			barge_sleep(backoff(attempt));
			if (reconnect_target(w) < 0)
				barge_state_log(cx->st, cx->run, u->id, "reconnect",
						barge_error_last());
			if (reconnect_source(w) < 0)
				barge_state_log(cx->st, cx->run, u->id, "reconnect",
						barge_error_last());
			continue;
		}
		barge_state_unit_failed(cx->st, u->id, emsg, 0);
		barge_state_log(cx->st, cx->run, u->id, "failed", emsg);
		atomic_fetch_add(&cx->failed_units, 1);
		atomic_fetch_add(&t->failed, 1);
		note_failure(cx, 1);
		err = 0; /* a failed chunk is a result; the others go on */
		break;
	}
	chunk_dispose(&ch);
	return err;
}

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
			if (atomic_load(&stop_requested) || atomic_load(&cx->aborted))
				break;
			if ((err = barge_state_claim_id(cx->st, sr.units[i], &u)) < 0)
				break;
			/* its earlier counts leave the table's totals */
			atomic_fetch_sub(&t->read_total, u->rows_read);
			atomic_fetch_sub(&t->rej_total, u->rows_rejected);
			atomic_fetch_sub(&t->rows_done, u->rows_written);
			err = process_unit(w, u, 1);
			barge_unit_free(u);
		}
		free(sr.units);
		if (err < 0 || atomic_load(&stop_requested) || atomic_load(&cx->aborted))
			return err;
	}
	atomic_store(&t->rounds_done, 1);
	budget_add(cx, t, 0, 0);
	snprintf(fk, sizeof fk, "selfref:%s", t->src->name);
	return err < 0 ? err : barge_state_flag_set(cx->st, cx->run, fk, "done");
}

static int worker_open(struct worker *w)
{
	struct ctx *cx = w->cx;
	int err;
	if ((err = barge_drv_open(&cx->src, &w->sconn, BARGE_OPEN_READ)) < 0)
		return err;
	if ((err = join_snapshot(w)) < 0)
		return err;
	if (cx->job->dry_run)
		return 0;
	return barge_drv_open(&cx->dst, &w->tconn, BARGE_OPEN_WRITE);
}

static void worker_close(struct worker *w)
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
 * sequences now (the driver's finish_tables, BARGE_FINISH_TABLE), on this
 * worker's target connection while the other workers copy other tables
 * (pgcopydb overlaps the same way);
 * its foreign keys wait for the end of the data (finish_tables). Flag
 * "finish:T": "todo" -> "table" -> "done". A failure is the run's, at its
 * end; the next run tries again.
 */
static void finish_early(struct worker *w, struct tbl *t)
{
	struct ctx *cx = w->cx;
	char key[300], *v = NULL;
	int todo;

	if (cx->job->action != BARGE_JOB_COPY || !t->created || !w->tconn ||
	    atomic_load(&t->failed) || atomic_load(&cx->aborted) ||
	    atomic_load(&stop_requested))
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
	int err = finish_call(cx, w->tconn, 1, &sd, &dd, 1, BARGE_FINISH_TABLE);
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
	while (!atomic_load(&stop_requested) && !atomic_load(&cx->aborted)) {
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
		err = process_unit(w, u, 0);
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
static int selfref_resume(struct ctx *cx)
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

/* ---- The job -------------------------------------------------------------- */

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
 * (restore_fks). A resumed run finds them gone and keeps its list; a
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

/* After the data (and finish_tables): the keys detach_fks set aside. */
static int restore_fks(struct ctx *cx)
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

static int prepare_target(struct ctx *cx)
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
			 * data (finish_tables), also when a later run resumes */
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
			 * crash in between only truncates again */
			if ((err = barge_drv_begin(&cx->dst, tc)) < 0 ||
			    (err = barge_drv_truncate(&cx->dst, tc, t->dst)) < 0 ||
			    (err = barge_drv_commit(&cx->dst, tc)) < 0)
				goto out;
			if ((err = barge_state_flag_set(cx->st, cx->run, key, "1")) < 0)
				goto out;
		}
	}
out:
	barge_drv_close(&cx->dst, tc);
	return err;
}

/*
 * The table's chunk_rows, 0 = auto (chunker.h). A mapped table keeps a
 * chunk's rejects and held rows in memory: auto means the smallest
 * automatic size there.
 */
static int64_t chunk_rows_for(const struct tbl *t)
{
	int64_t n = t->jt->settings.chunk_rows;
	return n == 0 && t->xf ? BARGE_CHUNK_ROWS_MIN : n;
}

static int plan_tables(struct ctx *cx)
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
					    chunk_rows_for(t), cx->job->defaults.jobs)) < 0)
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
static int count_open(struct ctx *cx)
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

/*
 * Once every chunk is done: the driver's finish_tables for the tables this
 * run created: all of it for those still "todo", the foreign keys for those
 * finish_early made ("table"). Flag "finish:T" = "done" when it succeeded.
 */
static int finish_tables(struct ctx *cx)
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
			err = finish_call(cx, tc, n[0], sd, dd, cx->job->defaults.jobs,
					  BARGE_FINISH_TABLE | BARGE_FINISH_FKS);
		if (err == 0 && n[1])
			err = finish_call(cx, tc, n[1], sd + cx->ntbls + 1,
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

/* Run the workers over the claimed units of the run until none is left. */
static int run_workers(struct ctx *cx)
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

/* Parse "a,b" into a key tuple of the table's key types. */
static int parse_row_key(struct barge_key **out, const struct tbl *t,
			 const char *text)
{
	const struct barge_table_def *d = t->src;
	struct barge_value vals[16];
	char *copy = strdup(text), *save = NULL, *tok;
	size_t n = 0;
	int err = 0;

	memset(vals, 0, sizeof vals);
	if (!copy)
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	if (d->nkey == 0 || d->nkey > 16) {
		err = barge_error_set(BARGE_EUSAGE,
				      "table '%s' has no key to pick one row by",
				      d->name);
		goto out;
	}
	for (tok = d->nkey == 1 ? copy : strtok_r(copy, ",", &save); tok;
	     tok = d->nkey == 1 ? NULL : strtok_r(NULL, ",", &save)) {
		if (n == d->nkey)
			break;
		const struct barge_column_def *c = &d->cols[d->key[n]];
		struct barge_value *v = &vals[n++];
		v->type = c->type;
		if (c->type == BARGE_T_INT64 || c->type == BARGE_T_ANY) {
			int64_t i;
			if (barge_parse_i64(&i, tok, "key") == 0) {
				v->type = BARGE_T_INT64;
				v->i = i;
				continue;
			}
			if (c->type == BARGE_T_INT64) {
				err = barge_error_wrap(BARGE_EUSAGE, "table '%s'", d->name);
				goto out;
			}
			barge_error_clear();
			v->type = BARGE_T_TEXT;
		}
		if (!barge_type_is_varlen(v->type)) {
			err = barge_error_set(BARGE_EUSAGE,
					      "--key on a %s column is not supported yet",
					      barge_type_name(v->type));
			goto out;
		}
		v->p = tok;
		v->n = strlen(tok);
	}
	if (n != d->nkey) {
		err = barge_error_set(BARGE_EUSAGE,
				      "table '%s' has a key of %zu columns; give --key "
				      "as %zu comma-separated values",
				      d->name, d->nkey, d->nkey);
		goto out;
	}
	err = barge_key_new(out, n, vals);
out:
	free(copy);
	return err;
}

/* The smallest key above k in binary order: the last column's successor. */
static int key_successor(struct barge_key **out, const struct barge_key *k)
{
	struct barge_value vals[16];
	char *buf = NULL;
	int err;

	memcpy(vals, k->v, k->n * sizeof *vals);
	struct barge_value *last = &vals[k->n - 1];
	if (last->type == BARGE_T_INT64) {
		if (last->i == INT64_MAX)
			return barge_key_new(out, 0, NULL) < 0 ? BARGE_ENOMEM : 0;
		last->i++;
		return barge_key_new(out, k->n, vals);
	}
	buf = malloc(last->n + 1);
	if (!buf)
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	memcpy(buf, last->p, last->n);
	buf[last->n] = '\0';
	last->p = buf;
	last->n++;
	err = barge_key_new(out, k->n, vals);
	free(buf);
	return err;
}

/* `run --table T --key K`: a run of its own with one unit [K, succ(K)). */
static int plan_one_row(struct ctx *cx, struct tbl **only)
{
	struct tbl *t = tbl_find(cx, cx->job->only_table);
	struct barge_key *lo = NULL, *hi = NULL;
	char *ljson = NULL, *hjson = NULL;
	int err;

	if (!t)
		return barge_error_set(BARGE_EUSAGE, "no table '%s' in this job",
				       cx->job->only_table);
	/* any key picks a row, also one whose columns may hold NULL (such a
	 * table is chunked by rowid, but [K, succ(K)) still holds just K) */
	if (t->src->nkey == 0)
		return barge_error_set(BARGE_EUSAGE,
				       "table '%s' has no key to pick one row by",
				       t->src->name);
	if ((err = parse_row_key(&lo, t, cx->job->only_key)) < 0 ||
	    (err = key_successor(&hi, lo)) < 0 ||
	    (err = barge_key_to_json(&ljson, lo)) < 0 ||
	    (hi->n && (err = barge_key_to_json(&hjson, hi)) < 0))
		goto out;
	struct barge_unit_plan up = {.lo = ljson, .hi = hjson};
	err = barge_state_units_add(cx->st, cx->run, t->src->name, 1, &up);
	*only = t;
out:
	barge_key_free(lo);
	barge_key_free(hi);
	free(ljson);
	free(hjson);
	return err;
}

/* A dry run's rejects by rule, with the first few messages. */
#define DRY_SHOWN 3
struct dry_rule {
	char rule[64];
	int64_t n;
	char shown[DRY_SHOWN][700];
};

/* Count a batch's rejects into `c` (at most 16 rules) and forget them. */
static void dry_rejects(struct rejects *rs, int64_t *seen, struct dry_rule *c,
			size_t *nc)
{
	for (size_t i = 0; i < rs->n; i++) {
		const struct barge_reject *x = &rs->v[i];
		size_t k;
		for (k = 0; k < *nc; k++)
			if (!strcmp(c[k].rule, x->rule))
				break;
		if (k == *nc && *nc < 16) {
			memset(&c[k], 0, sizeof c[k]);
			snprintf(c[k].rule, sizeof c[k].rule, "%s", x->rule);
			(*nc)++;
		}
		if (k < *nc) {
			if (c[k].n < DRY_SHOWN)
				snprintf(c[k].shown[c[k].n], sizeof c[k].shown[0],
					 "%s %s", x->key ? x->key : "", x->message);
			c[k].n++;
		}
		(*seen)++;
	}
	rejects_dispose(rs);
}

static void dry_summary(struct ctx *cx, const struct tbl *t, int64_t read,
			int64_t seen, const struct dry_rule *c, size_t nc)
{
	struct barge_buf *b = &cx->notes;
	barge_buf_printf(b, "  sample: %lld rows read, %lld would be rejected\n",
			 (long long)read, (long long)seen);
	for (size_t k = 0; k < nc; k++) {
		barge_buf_printf(b, "    %-12s %lld\n", c[k].rule, (long long)c[k].n);
		for (int64_t i = 0; i < c[k].n && i < DRY_SHOWN; i++)
			barge_buf_printf(b, "      %s\n", c[k].shown[i]);
	}
	if (t->nrefs)
		barge_buf_adds(b, "  references are not checked in a dry run (no "
			       "parent row is written)\n");
}

/* The dry run: plan in memory, read and check every chunk, write nothing. */
static int dry_run(struct ctx *cx, struct barge_job_result *res)
{
	struct worker w;
	int err = 0;

	memset(&w, 0, sizeof w);
	w.cx = cx;
	w.sconn = cx->leader;
	res->tables = calloc(cx->ntbls, sizeof *res->tables);
	if (!res->tables)
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	for (size_t i = 0; i < cx->ntbls && err == 0; i++) {
		struct tbl *t = &cx->tbls[i];
		struct barge_job_table_result *r = &res->tables[res->ntables++];
		struct barge_chunk_list l;
		double t0 = barge_monotonic();
		r->table = strdup(t->target_name);
		r->created = !t->exists;
		struct rejects rej;
		struct dry_rule counts[16];
		size_t nrule = 0;
		int64_t seen = 0;
		memset(&rej, 0, sizeof rej);
		if (t->xf) {
			barge_buf_printf(&cx->notes, "\n%s -> %s:\n", t->src->name,
					 t->target_name);
			if ((err = barge_xf_describe(t->xf, t->src, &cx->notes)) < 0)
				break;
		}
		if ((err = barge_chunk_plan(&l, &cx->src, cx->leader, t->src, t->how,
					    chunk_rows_for(t), cx->job->defaults.jobs)) < 0)
			break;
		r->chunks = (int64_t)l.n;
		for (size_t c = 0; c < l.n; c++) {
			struct barge_unit u = {.lo = (char *)l.units[c].lo,
					       .hi = (char *)l.units[c].hi,
					       .by_rowid = l.units[c].by_rowid,
					       .seq = (int64_t)c};
			struct barge_chunk ch;
			struct reader rd;
			pthread_t th;
			if ((err = unit_chunk(&ch, &u, t)) < 0 ||
			    (err = worker_batches(&w, t)) < 0)
				break;
			memset(&rd, 0, sizeof rd);
			rd.cx = cx;
			rd.t = t;
			rd.conn = cx->leader;
			rd.chunk = &ch;
			rd.limit = cx->job->sample > 0 ? cx->job->sample - r->rows_read : 0;
			barge_queue_new(&rd.pool, w.nbatches);
			barge_queue_new(&rd.full, w.nbatches);
			for (size_t b = 0; b < w.nbatches; b++)
				barge_queue_push(rd.pool, w.batches[b]);
			pthread_create(&th, NULL, reader_main, &rd);
			void *item;
			while (barge_queue_pop(rd.full, &item) == 0) {
				if (t->xf && err == 0 &&
				    (err = map_batch(&w, t, item, &rej, NULL)) == 0)
					dry_rejects(&rej, &seen, counts, &nrule);
				barge_queue_push(rd.pool, item);
			}
			barge_queue_close(rd.pool);
			pthread_join(th, NULL);
			barge_queue_free(rd.pool);
			barge_queue_free(rd.full);
			chunk_dispose(&ch);
			if (err < 0)
				break;
			r->rows_read += rd.rows;
			r->bytes += rd.bytes;
			if (rd.err < 0) {
				r->chunks_failed++;
				free(r->last_error);
				r->last_error = strdup(rd.msg);
			} else {
				r->chunks_done++;
			}
			if (cx->job->sample > 0 && r->rows_read >= cx->job->sample)
				break;
		}
		r->seconds = barge_monotonic() - t0;
		r->rows_rejected = seen;
		barge_chunk_list_dispose(&l);
		if (t->xf)
			dry_summary(cx, t, r->rows_read, seen, counts, nrule);
		rejects_dispose(&rej);
	}
	worker_free_batches(&w);
	barge_xf_run_free(w.xrun);
	res->status = "dry-run";
	return err;
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

	if ((err = validate(&cx, &owned, &nowned)) < 0)
		goto out;
	if (cx.ntbls > 1 && cx.order_note)
		barge_buf_printf(&cx.notes, "%s\n", cx.order_note);
	if ((err = barge_drv_snapshot_begin(&cx.src, cx.leader, &cx.token)) < 0)
		goto out;
	cx.snapshots = cx.token != NULL;
	if (job->dry_run) {
		err = dry_run(&cx, res);
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
	if ((err = prepare_target(&cx)) < 0)
		goto out;
	if ((err = budget_load(&cx)) < 0)
		goto out;

	if (job->action == BARGE_JOB_ROW) {
		struct tbl *only = NULL;
		if ((err = plan_one_row(&cx, &only)) < 0)
			goto out;
		estimate_rows(&cx);
		err = run_workers(&cx);
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
			err = process_unit(&w, claimed, was_done);
		barge_unit_free(claimed);
		barge_unit_free(u);
		worker_close(&w);
		if (err < 0)
			goto out;
	} else {
		if ((err = plan_tables(&cx)) < 0 || (err = count_open(&cx)) < 0 ||
		    (err = selfref_resume(&cx)) < 0)
			goto out;
		if (job->progress)
			estimate_rows(&cx);
		if ((err = run_workers(&cx)) < 0)
			goto out;
	}

	if ((err = collect_results(&cx, res)) < 0)
		goto out;
	int incomplete = 0;
	for (size_t i = 0; i < res->ntables; i++)
		if (res->tables[i].chunks_done < res->tables[i].chunks)
			incomplete = 1;
	if (job->action == BARGE_JOB_CHUNK || job->action == BARGE_JOB_ROW)
		incomplete = atomic_load(&cx.failed_units) > 0;
	else if (!incomplete && !atomic_load(&cx.aborted) &&
		 !atomic_load(&stop_requested) &&
		 (finish_tables(&cx) < 0 || restore_fks(&cx) < 0)) {
		/* the data is in; the run is not done until the next one
		 * finishes the tables */
		incomplete = 1;
		res->message = strdup(barge_error_last());
		barge_state_log(cx.st, cx.run, 0, "error", barge_error_last());
	}
	if (atomic_load(&cx.aborted) || atomic_load(&stop_requested)) {
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
