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
#include "canon.h"
#include "chunker.h"
#include "drv.h"
#include "queue.h"
#include "state.h"
#include "util.h"

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
	int how;                      /* enum barge_chunking */
	int with_rowid;
	int created;
	int exists;                   /* the target table exists already */
	int64_t est_rows;
	atomic_llong rows_done;
	double t0;
};

struct ctx {
	const struct barge_job *job;
	struct barge_ep src, dst;
	struct barge_conn *leader;    /* source: planning + snapshot */
	char *token;
	struct barge_state *st;
	int64_t run;
	struct tbl *tbls;
	size_t ntbls;
	pthread_mutex_t lock;
	pthread_mutex_t write_turn; /* targets without parallel writes */
	int consecutive_failures;
	atomic_int aborted;
	atomic_int failed_units;
	char abort_reason[256];
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
	free(t->target_name);
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
 * Resolve a table against the source: the chunking key, the columns to
 * copy and their target names. Unknown tables and columns are usage
 * errors, found before anything is created.
 */
static int tbl_resolve(struct ctx *cx, struct tbl *t)
{
	const struct barge_job_table *jt = t->jt;
	struct barge_table_def *d = t->src;
	int err;

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

/* ---- Validation (no side effects) --------------------------------------- */

static int list_has(char **names, const char *s)
{
	for (size_t i = 0; names && names[i]; i++)
		if (strcmp(names[i], s) == 0)
			return 1;
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

	/* The target, if it is there already. Opened for writing (but never
	 * created) so that a transaction left by a killed run is rolled back
	 * here rather than tripping a read-only connection. */
	struct barge_conn *tc = NULL;
	err = barge_drv_open(&cx->dst, &tc, BARGE_OPEN_WRITE);
	if (err == BARGE_ENOTFOUND) {
		barge_error_clear();
		return 0;
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
	barge_buf_printf(&b, "{\"kind\":\"%s\",\"mode\":\"%s\",\"jobs\":%d,"
			 "\"chunk_rows\":%lld,\"retries\":%d,\"max_failures\":%d",
			 kind, barge_mode_name(job->defaults.mode),
			 job->defaults.jobs, (long long)job->defaults.chunk_rows,
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

/*
 * Find the run to resume: the newest whole-copy run (one-row runs are
 * skipped). Returns 0 with *out NULL when there is none.
 */
static int find_main_run(struct ctx *cx, struct barge_run **out)
{
	struct barge_run *r = NULL;
	int err = barge_state_run_latest(cx->st, &r);
	*out = NULL;
	if (err == BARGE_ENOTFOUND) {
		barge_error_clear();
		return 0;
	}
	while (err == 0 && r) {
		if (!r->config || !strstr(r->config, "\"kind\":\"row\"")) {
			*out = r;
			return 0;
		}
		int64_t id = r->id - 1;
		barge_run_free(r);
		r = NULL;
		if (id < 1)
			return 0;
		err = barge_state_run_get(cx->st, id, &r);
		if (err == BARGE_ENOTFOUND) {
			barge_error_clear();
			return 0;
		}
	}
	return err;
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
		.ncols = t->ncols,
		.cols = t->src_cols,
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
		/* the digest covers the copied columns, not the row address */
		if ((err = barge_canon_digest_batch(&r->digest, &scratch, b,
						    t->ncols)) < 0) {
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

struct worker {
	struct ctx *cx;
	int id;
	struct barge_conn *sconn, *tconn;
	struct tbl *batches_for; /* the table the batches are shaped for */
	struct barge_batch **batches;
	size_t nbatches;
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
					  t->ncols + (t->with_rowid ? 1 : 0),
					  t->types,
					  (size_t)t->jt->settings.batch_rows);
		if (err < 0)
			return err;
		w->nbatches++;
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

struct chunk_result {
	int64_t rows_read, rows_written, bytes;
	char digest[33];
};

static char *inflight_key(char *buf, size_t n, int64_t unit)
{
	snprintf(buf, n, "inflight:%lld", (long long)unit);
	return buf;
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
	int started = 0, in_txn = 0, have_turn = 0, err;
	int serial = !(dst->drv->caps & BARGE_CAP_PARALLEL_WRITE);
	int mode = t->jt->settings.mode;
	char fk[64];

	memset(&rd, 0, sizeof rd);
	if ((err = worker_batches(w, t)) < 0)
		return err;
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
	if ((err = barge_drv_begin(dst, w->tconn)) < 0)
		goto out;
	in_txn = 1;
	if (mode == BARGE_MODE_REPLACE || (rerun && mode != BARGE_MODE_UPSERT)) {
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
	};
	if ((err = barge_drv_write_open(dst, &wr, w->tconn, &wreq)) < 0)
		goto out;
	for (;;) {
		void *item;
		if (barge_queue_pop(full, &item) != 0)
			break;
		struct barge_batch *b = item;
		err = barge_drv_write_batch(dst, wr, b);
		res->rows_written += (int64_t)b->nrows;
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
	barge_drv_write_close(dst, wr);
	wr = NULL;
	if (err < 0)
		goto out;
	if ((err = barge_drv_commit(dst, w->tconn)) < 0)
		goto out;
	in_txn = 0;
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
	if (have_turn)
		pthread_mutex_unlock(&cx->write_turn);
	barge_queue_free(pool);
	barge_queue_free(full);
	if (err < 0)
		res->rows_written = 0;
	return err;
}

static int reconnect_target(struct worker *w)
{
	barge_drv_close(&w->cx->dst, w->tconn);
	w->tconn = NULL;
	return barge_drv_open(&w->cx->dst, &w->tconn, BARGE_OPEN_WRITE);
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
	if ((err = barge_drv_snapshot_join(&cx->src, w->sconn, cx->token)) < 0) {
		barge_drv_close(&cx->src, w->sconn);
		w->sconn = NULL;
	}
	return err;
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
				.bytes = res.bytes,
				.digest = res.digest,
			};
			if ((err = barge_state_unit_done(cx->st, u->id, &ur)) < 0)
				break;
			char msg[160];
			snprintf(msg, sizeof msg, "%lld rows in %.3f s, digest %s",
				 (long long)res.rows_written,
				 barge_monotonic() - t0, res.digest);
			barge_state_log(cx->st, cx->run, u->id, "done", msg);
			atomic_fetch_add(&t->rows_done, res.rows_written);
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
		note_failure(cx, 1);
		err = 0; /* a failed chunk is a result; the others go on */
		break;
	}
	chunk_dispose(&ch);
	return err;
}

static int worker_open(struct worker *w)
{
	struct ctx *cx = w->cx;
	int err;
	if ((err = barge_drv_open(&cx->src, &w->sconn, BARGE_OPEN_READ)) < 0)
		return err;
	if ((err = barge_drv_snapshot_join(&cx->src, w->sconn, cx->token)) < 0)
		return err;
	if (cx->job->dry_run)
		return 0;
	return barge_drv_open(&cx->dst, &w->tconn, BARGE_OPEN_WRITE);
}

static void worker_close(struct worker *w)
{
	struct ctx *cx = w->cx;
	if (w->sconn && cx->token)
		barge_drv_snapshot_end(&cx->src, w->sconn);
	barge_drv_close(&cx->src, w->sconn);
	barge_drv_close(&cx->dst, w->tconn);
	w->sconn = w->tconn = NULL;
	worker_free_batches(w);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct ctx *cx = w->cx;
	int err = 0;

	while (!atomic_load(&stop_requested) && !atomic_load(&cx->aborted)) {
		struct barge_unit *u = NULL;
		err = barge_state_claim(cx->st, cx->run, NULL, &u);
		if (err == BARGE_ENOTFOUND) {
			err = 0;
			break;
		}
		if (err < 0)
			break;
		err = process_unit(w, u, 0);
		barge_unit_free(u);
		if (err < 0)
			break;
	}
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

static void fmt_eta(char *buf, size_t n, double s)
{
	if (s < 0 || s > 360000) {
		snprintf(buf, n, "--:--");
		return;
	}
	long v = (long)(s + 0.5);
	snprintf(buf, n, "%ld:%02ld:%02ld", v / 3600, v / 60 % 60, v % 60);
}

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
		double el = now - t->t0;
		double rate = el > 0 ? (double)done / el : 0;
		char eta[32];
		fmt_eta(eta, sizeof eta,
			t->est_rows > 0 && rate > 0
				? (double)(t->est_rows - done) / rate : -1);
		fprintf(o, "%s%-24s %12lld / %-12lld rows %10.0f rows/s  ETA %s%s\n",
			p->tty ? "\033[2K" : "", t->target_name, done,
			(long long)(t->est_rows < 0 ? 0 : t->est_rows), rate,
			final ? "0:00:00" : eta, "");
		p->lines++;
	}
	fflush(o);
}

static void *progress_main(void *arg)
{
	struct progress *p = arg;
	double every = p->tty ? 0.5 : 5.0;
	pthread_mutex_lock(&p->lock);
	while (!p->done) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		double when = (double)ts.tv_sec + ts.tv_nsec / 1e9 + every;
		ts.tv_sec = (time_t)when;
		ts.tv_nsec = (long)((when - (double)ts.tv_sec) * 1e9);
		pthread_cond_timedwait(&p->cond, &p->lock, &ts);
		if (!p->done)
			progress_draw(p, 0);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* ---- The job -------------------------------------------------------------- */

static int prepare_target(struct ctx *cx)
{
	struct barge_conn *tc = NULL;
	int err;

	if ((err = barge_drv_open(&cx->dst, &tc, BARGE_OPEN_WRITE | BARGE_OPEN_CREATE)) < 0)
		return err;
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
					    t->jt->settings.chunk_rows)) < 0)
			return err;
		err = barge_state_units_add(cx->st, cx->run, t->src->name, l.n, l.units);
		if (err == 0) {
			char msg[256];
			snprintf(msg, sizeof msg, "%zu chunks by %s, %lld rows",
				 l.n, barge_chunking_name(t->how), (long long)l.rows);
			barge_state_log(cx->st, cx->run, 0, "plan", msg);
		}
		barge_chunk_list_dispose(&l);
		if (err < 0)
			return err;
	}
	return 0;
}

/*
 * Once every chunk is done: the driver's finish_tables for the tables this
 * run created (flag "finish:T" = "todo" until it succeeded).
 */
static int finish_tables(struct ctx *cx)
{
	const struct barge_table_def **sd = calloc(cx->ntbls + 1, sizeof *sd);
	const struct barge_table_def **dd = calloc(cx->ntbls + 1, sizeof *dd);
	char key[300];
	size_t n = 0;
	int err = 0;

	if (!sd || !dd) {
		err = barge_error_set(BARGE_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < cx->ntbls; i++) {
		char *v = NULL;
		snprintf(key, sizeof key, "finish:%s", cx->tbls[i].src->name);
		if (barge_state_flag_get(cx->st, cx->run, key, &v) == 0 &&
		    strcmp(v, "todo") == 0) {
			sd[n] = cx->tbls[i].src;
			dd[n++] = cx->tbls[i].dst;
		}
		free(v);
	}
	barge_error_clear();
	if (!n)
		goto out;
	struct barge_conn *tc = NULL;
	if ((err = barge_drv_open(&cx->dst, &tc, BARGE_OPEN_WRITE)) < 0)
		goto out;
	err = barge_drv_finish_tables(&cx->dst, tc,
				      cx->src.drv == cx->dst.drv ? cx->leader : NULL,
				      n, sd, dd, cx->job->defaults.jobs);
	barge_drv_close(&cx->dst, tc);
	for (size_t i = 0; i < cx->ntbls && err == 0; i++) {
		snprintf(key, sizeof key, "finish:%s", cx->tbls[i].src->name);
		for (size_t j = 0; j < n; j++)
			if (sd[j] == cx->tbls[i].src &&
			    (err = barge_state_flag_set(cx->st, cx->run, key, "done")) < 0)
				break;
	}
	if (err == 0)
		barge_state_log(cx->st, cx->run, 0, "finish",
				"indexes, constraints and sequences made");
out:
	free(sd);
	free(dd);
	return err;
}

/* Estimated rows per table for the progress lines. */
static void estimate_rows(struct ctx *cx)
{
	for (size_t i = 0; i < cx->ntbls; i++) {
		struct tbl *t = &cx->tbls[i];
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
	for (int i = 0; i < jobs; i++) {
		ws[i].cx = cx;
		ws[i].id = i + 1;
		if ((err = worker_open(&ws[i])) < 0)
			goto out;
	}
	for (size_t i = 0; i < cx->ntbls; i++)
		cx->tbls[i].t0 = barge_monotonic();
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
		if ((err = barge_chunk_plan(&l, &cx->src, cx->leader, t->src, t->how,
					    t->jt->settings.chunk_rows)) < 0)
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
			while (barge_queue_pop(rd.full, &item) == 0)
				barge_queue_push(rd.pool, item);
			barge_queue_close(rd.pool);
			pthread_join(th, NULL);
			barge_queue_free(rd.pool);
			barge_queue_free(rd.full);
			chunk_dispose(&ch);
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
		barge_chunk_list_dispose(&l);
	}
	worker_free_batches(&w);
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

	if ((err = validate(&cx, &owned, &nowned)) < 0)
		goto out;
	if ((err = barge_drv_snapshot_begin(&cx.src, cx.leader, &cx.token)) < 0)
		goto out;
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

	if ((err = find_main_run(&cx, &prev)) < 0)
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
	res->run_id = cx.run;
	if ((err = barge_state_run_set_status(cx.st, cx.run, "running")) < 0)
		goto out;
	barge_state_log(cx.st, cx.run, 0, res->resumed ? "resume" : "start",
			job->command ? job->command : "");
	if ((err = prepare_target(&cx)) < 0)
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
		if ((err = plan_tables(&cx)) < 0)
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
		 !atomic_load(&stop_requested) && finish_tables(&cx) < 0) {
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
		for (size_t c = 0; c < pt->ncolumns; c++) {
			const struct barge_plan_column *pc = &pt->columns[c];
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
		strv_free(t[i].rename_from, t[i].nrename);
		strv_free(t[i].rename_to, t[i].nrename);
	}
	free(t);
}
