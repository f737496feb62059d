/*
 * verify (verify.h): chunk digests on both sides, localization of the
 * differing chunks, the fix, the report.
 */
#include "verify.h"
#include "verify_map.h"
#include "canon.h"
#include "chunker.h"
#include "drv.h"
#include "plan.h"
#include "progress.h"
#include "state.h"
#include "transform.h"
#include "util.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SPLIT_WAYS 16
#define MAX_SPLIT_DEPTH 8
#define BATCH_ROWS 2000
#define ENC_CAP ((size_t)1 << 30)
/* Keyless tables are compared as sorted arrays of row hashes (16 bytes a
 * row on each side); past this many rows that is refused, not swapped. */
#define KEYLESS_MAX_ROWS ((int64_t)50 * 1000 * 1000)

const char *barge_diff_kind_name(int kind)
{
	switch (kind) {
	case BARGE_DIFF_MISSING: return "missing";
	case BARGE_DIFF_EXTRA: return "extra";
	case BARGE_DIFF_CHANGED: return "changed";
	default: return "chunk";
	}
}

/* ---- Tables ---------------------------------------------------------------- */

/* One table as compared: the columns on both sides, in the source's order
 * minus skipped columns (the order `barge run` digests). */
struct vt {
	const struct barge_job_table *jt;
	struct barge_table_def *sdef; /* key = the chunking key */
	struct barge_table_def *ddef; /* key = the same columns, target names */
	size_t ncols;
	size_t *scols, *dcols;
	int *stypes, *dtypes;
	/* The plan's mapping (docs/verify.md, "Through the mapping"), NULL =
	 * compared as read. With it the source is read whole (rd_*), each
	 * batch is mapped like `barge run` maps it and the mapped batch (the
	 * target's columns, stypes) is compared; scols is then unused. */
	struct barge_xf *xf;
	size_t rd_ncols;
	size_t *rd_cols;
	int *rd_types;
	struct barge_rejected *rej;   /* the run's rejects: expected absent */
	struct barge_vfeeds *feeds;   /* new keys from barge_keymap, or NULL */
	int keyed;
	size_t nkey;
	size_t *kpos;                 /* batch column of each key column */
	int fast;                     /* chunk digests in the fast-path form */
	int sdb, ddb;                 /* ... made in the database on that side */
	int native;                   /* ... by the same driver on both sides */
	struct barge_chunk_list chunks;
	/* Bucketed comparison (a single integer key, streamed digests): the
	 * key space from kmin on is cut into nb buckets of kw keys (the first
	 * open below, the last open above); each side is read whole, in
	 * nparts key ranges, each row summed into its key's bucket (bd[0]
	 * source, bd[1] target); then only the differing buckets are
	 * localized. Other tables go chunk by chunk (chunks). */
	int bucketed;
	int64_t kmin;
	uint64_t kw;
	size_t nb, nparts;
	struct barge_digest *bd[2];
	/* progress: rows read by the first pass (both sides), of about
	 * est_rows (twice the source's count; -1 unknown) */
	atomic_llong rows_read;
	int64_t est_rows;
	struct barge_verify_table *res;
	pthread_mutex_t lock;
	int lock_init;
};

/* One piece of work for a worker. */
enum {
	W_CHUNK,   /* a planned chunk of a keyed table: digests, localization */
	W_KEYLESS, /* a keyless table, whole */
	W_PASS,    /* one side of one part of a bucketed table: bucket digests */
	W_BUCKET,  /* a bucket of a bucketed table whose digests differ */
};

struct vwork {
	size_t table;
	int kind;
	int side;   /* W_PASS: 0 source, 1 target */
	size_t idx; /* the chunk, the part or the bucket */
};

struct vctx {
	const struct barge_verify_opts *o;
	struct barge_ep src, dst;
	struct barge_conn *slead, *dlead;
	char *stoken, *dtoken;
	struct vt *vts;
	size_t nvts;
	struct barge_job_table *owned;
	size_t nowned;
	int64_t max_diffs, leaf_rows;
	/* the work of the current phase (struct vwork), taken in order */
	pthread_mutex_t qlock;
	struct vwork *work;
	size_t nwork, next_work;
	atomic_int failed;
	char errmsg[1024];
	int errcode;
};

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

static int in_list(char *const *list, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i], s) == 0)
			return (int)i;
	return -1;
}

/* The name a compared column is reported by: the source's, or with a
 * mapping the target's (a mapped value may come from no one source
 * column, and the target's key is what a fix would look up). */
static const char *vt_colname(const struct vt *t, size_t c)
{
	return t->xf ? t->ddef->cols[t->dcols[c]].name
		     : t->sdef->cols[t->scols[c]].name;
}

/*
 * The plan's mapping of a table, when it asks for more than renames and
 * skips (barge_xf_needed): compile it as `barge run` does, read every
 * source column, and compare the target's columns in the mapping's order,
 * the source side with the mapping's types (after casts).
 */
static int vt_mapping(struct vt *t, const char *tname)
{
	const struct barge_job_table *jt = t->jt;
	const struct barge_table_def *d = t->sdef;
	const char **names = NULL, **types = NULL, **opts = NULL;
	size_t *scols = NULL, *dcols = NULL;
	int *stypes = NULL, *dtypes = NULL;
	struct barge_xf_spec spec;
	size_t n = t->ncols, nx;
	int err = 0;

	if (jt->nopts == 0 && !jt->add)
		return 0;
	for (size_t i = 0; i < jt->nopts; i++)
		if (barge_table_def_find(d, jt->opt_name[i]) < 0)
			return barge_error_set(BARGE_EUSAGE, "table '%s' has no column '%s'",
					       d->name, jt->opt_name[i]);
	names = calloc(n + 1, sizeof *names);
	types = calloc(n + 1, sizeof *types);
	opts = calloc(n + 1, sizeof *opts);
	if (!names || !types || !opts) {
		err = barge_error_set(BARGE_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const char *sn = d->cols[t->scols[i]].name;
		int rn = in_list(jt->rename_from, jt->nrename, sn);
		int k = in_list(jt->opt_name, jt->nopts, sn);
		names[i] = rn >= 0 ? jt->rename_to[rn] : sn;
		if (k >= 0) {
			types[i] = jt->opt_type[k];
			opts[i] = jt->opt_text[k];
		}
	}
	memset(&spec, 0, sizeof spec);
	spec.table = d->name;
	spec.ncols = n;
	spec.src_cols = t->scols;
	spec.dst_names = names;
	spec.types = types;
	spec.options = opts;
	spec.add = jt->add;
	if (!barge_xf_needed(&spec))
		goto out;
	if ((err = barge_xf_new(&t->xf, d, &spec)) < 0)
		goto out;
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
	free(names);
	free(types);
	free(opts);
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
	for (size_t c = 0; c < d->ncols; c++) {
		if (in_list(jt->skip, jt->nskip, d->cols[c].name) >= 0)
			continue;
		int rn = in_list(jt->rename_from, jt->nrename, d->cols[c].name);
		const char *dn = rn >= 0 ? jt->rename_to[rn] : d->cols[c].name;
		int dc = barge_table_def_find(t->ddef, dn);
		if (dc < 0)
			return barge_error_set(BARGE_EUSAGE,
					       "target table '%s' has no column '%s'",
					       tname, dn);
		t->scols[n] = c;
		t->dcols[n] = (size_t)dc;
		t->stypes[n] = d->cols[c].type;
		t->dtypes[n] = t->ddef->cols[dc].type;
		n++;
	}
	t->ncols = n;
	if (n == 0)
		return barge_error_set(BARGE_EUSAGE, "table '%s': no columns to compare",
				       d->name);
	if ((err = vt_mapping(t, tname)) < 0)
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
		r->fields[i] = strdup(vt_colname(t, bc));
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
	struct barge_xf **xfs = calloc(n + 1, sizeof *xfs);
	struct barge_vfeeds **feeds = calloc(n + 1, sizeof *feeds);
	const struct barge_table_def **defs = calloc(n + 1, sizeof *defs);
	const char **targets = calloc(n + 1, sizeof *targets);
	int err = 0;

	if (!xfs || !defs || !targets || !feeds) {
		err = barge_error_set(BARGE_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		xfs[i] = cx->vts[i].xf;
		defs[i] = cx->vts[i].sdef;
		targets[i] = cx->vts[i].res->target;
	}
	err = barge_verify_remap(n, xfs, defs, targets, feeds);
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
	free(xfs);
	free(feeds);
	free(defs);
	free(targets);
	return err;
}

/* Open both sides, snapshot both, resolve the tables. */
static int vctx_open(struct vctx *cx, struct barge_verify_result *res)
{
	const struct barge_verify_opts *o = cx->o;
	char **names = NULL;
	int err;

	if ((err = barge_ep_init(&cx->src, o->source)) < 0 ||
	    (err = barge_ep_init(&cx->dst, o->target)) < 0 ||
	    (err = barge_drv_open(&cx->src, &cx->slead, BARGE_OPEN_READ)) < 0 ||
	    (err = barge_drv_open(&cx->dst, &cx->dlead, BARGE_OPEN_READ)) < 0)
		return err;
	if ((err = barge_drv_snapshot_begin(&cx->src, cx->slead, &cx->stoken)) < 0 ||
	    (err = barge_drv_snapshot_begin(&cx->dst, cx->dlead, &cx->dtoken)) < 0)
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
		cx->vts[i].jt = &jts[i];
		cx->nvts++;
		res->ntables++;
		if ((err = vt_resolve(cx, &cx->vts[i], &res->tables[i])) < 0)
			return err;
	}
	return vts_through_run(cx);
}

static void vctx_close(struct vctx *cx)
{
	for (size_t i = 0; i < cx->nvts; i++)
		vt_dispose(&cx->vts[i]);
	free(cx->vts);
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

/* ---- One side of a range ------------------------------------------------------ */

struct side {
	const struct barge_ep *ep;
	struct barge_conn *conn;
	const struct barge_table_def *def;
	const size_t *cols;
	const int *types;
	const char *where;
	int fast;   /* digests in the fast-path form ... */
	int db;     /* ... made by the driver in the database */
	int native; /* ... in the driver's own form */
	/* the source through the plan's mapping (struct vt): read rd_*, map */
	const struct barge_xf *xf;
	size_t rd_ncols;
	const size_t *rd_cols;
	const int *rd_types;
	const struct barge_rejected *rej; /* rows to leave out (source side) */
	const struct barge_vfeeds *feeds; /* keys to look up (source side) */
	const struct barge_ep *kep;       /* ... in this target */
};

static void side_of(struct side *s, struct vctx *cx, struct vt *t, int target,
		    struct barge_conn *conn)
{
	s->ep = target ? &cx->dst : &cx->src;
	s->conn = conn;
	s->def = target ? t->ddef : t->sdef;
	s->cols = target ? t->dcols : t->scols;
	s->types = target ? t->dtypes : t->stypes;
	s->where = target ? NULL : t->jt->where;
	s->fast = t->fast;
	s->db = target ? t->ddb : t->sdb;
	s->native = t->native;
	s->xf = target ? NULL : t->xf;
	s->rej = target ? NULL : t->rej;
	s->feeds = target ? NULL : t->feeds;
	s->kep = &cx->dst;
	s->rd_ncols = t->rd_ncols;
	s->rd_cols = t->rd_cols;
	s->rd_types = t->rd_types;
}

/* A side's rows as compared: as read, or read whole and mapped. */
struct sread {
	const struct side *s;
	struct barge_reader *rd;
	struct barge_batch *raw;  /* with a mapping: the source batch */
	struct barge_xf_run *xr;
	struct barge_vfeed *fd;   /* its new keys from barge_keymap */
};

static int sread_open(struct sread *r, const struct side *s, size_t ncols,
		      const struct barge_chunk *ch, int ordered)
{
	struct barge_read_req req = {
		.table = s->def, .chunk = ch,
		.ncols = s->xf ? s->rd_ncols : ncols,
		.cols = s->xf ? s->rd_cols : s->cols,
		.where = s->where, .order_by_key = ordered,
	};
	int err;
	memset(r, 0, sizeof *r);
	r->s = s;
	if (s->xf &&
	    ((err = barge_batch_new(&r->raw, s->rd_ncols, s->rd_types, BATCH_ROWS)) < 0 ||
	     (err = barge_xf_run_new(&r->xr)) < 0 ||
	     (s->feeds && (err = barge_vfeed_open(&r->fd, s->kep, s->feeds,
						  BATCH_ROWS)) < 0)))
		return err;
	return barge_drv_read_open(s->ep, &r->rd, s->conn, &req);
}

/*
 * The next batch into `b`, 0 rows at the end. Through a mapping each
 * source row is mapped as `barge run` maps it, and the rows the mapping
 * rejects are left out: the run did not write them either. (Chunk ranges
 * go by the key, which a mapping cannot change the type of.)
 */
static int sread_next(struct sread *r, struct barge_batch *b)
{
	struct barge_xf_reject x;
	int err;
	if (!r->s->xf)
		return barge_drv_read_next(r->s->ep, r->rd, b);
	for (;;) {
		barge_batch_reset(b);
		if ((err = barge_drv_read_next(r->s->ep, r->rd, r->raw)) < 0 ||
		    r->raw->nrows == 0)
			return err;
		if (r->fd && (err = barge_vfeed_batch(r->fd, r->raw)) < 0)
			return err;
		for (size_t row = 0; row < r->raw->nrows; row++) {
			memset(&x, 0, sizeof x);
			if (barge_rejected_has(r->s->rej, r->s->def, r->raw, row))
				continue; /* the run rejected it */
			if (r->fd && (err = barge_vfeed_row(r->fd, r->xr, row)) < 0)
				return err;
			if ((err = barge_xf_row(r->xr, r->s->xf, r->raw, row, b, &x)) < 0)
				return err;
		}
		if (b->nrows)
			return 0;
	}
}

static void sread_close(struct sread *r)
{
	if (r->s)
		barge_drv_read_close(r->s->ep, r->rd);
	barge_batch_free(r->raw);
	barge_xf_run_free(r->xr);
	barge_vfeed_close(r->fd);
	memset(r, 0, sizeof *r);
}

/* Count and digest of a range on one side, rows streamed and hashed here. */
static int side_digest(const struct side *s, size_t ncols,
		       const struct barge_chunk *ch, struct barge_digest *d)
{
	struct sread rd;
	struct barge_batch *b = NULL;
	struct barge_buf enc;
	int err;

	memset(&rd, 0, sizeof rd);
	barge_digest_init(d);
	if (s->db)
		return barge_drv_digest_range(s->ep, s->conn, s->def, ch, s->where,
					      ncols, s->cols, s->native,
					      &d->rows, &d->lo, &d->hi);
	barge_buf_init(&enc, ENC_CAP);
	if ((err = barge_batch_new(&b, ncols, s->types, BATCH_ROWS)) < 0 ||
	    (err = sread_open(&rd, s, ncols, ch, 0)) < 0)
		goto out;
	for (;;) {
		if ((err = sread_next(&rd, b)) < 0 || b->nrows == 0)
			break;
		err = s->fast ? barge_canon_fast_digest_batch(d, &enc, b, ncols)
			      : barge_canon_digest_batch(d, &enc, b, ncols);
		if (err < 0)
			break;
	}
out:
	sread_close(&rd);
	barge_batch_free(b);
	barge_buf_dispose(&enc);
	return err;
}

/* ---- Differences ---------------------------------------------------------------- */

/* A key (or row) from row `row` of `b`: the values at positions `pos`. */
static int key_from_batch(struct barge_key **out, const struct barge_batch *b,
			  size_t row, const size_t *pos, size_t n)
{
	struct barge_value *v = calloc(n ? n : 1, sizeof *v);
	int err;
	if (!v)
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++)
		barge_batch_get(b, pos ? pos[i] : i, row, &v[i]);
	err = barge_key_new(out, n, v);
	free(v);
	return err;
}

/* Count a difference and list it while under the cap. */
static int add_diff(struct vctx *cx, struct vt *t, int kind,
		    const struct barge_batch *b, size_t row, char *columns)
{
	struct barge_verify_table *r = t->res;
	struct barge_key *k = NULL;
	int err = 0;

	pthread_mutex_lock(&t->lock);
	r->equal = 0;
	if (kind == BARGE_DIFF_MISSING)
		r->missing++;
	else if (kind == BARGE_DIFF_EXTRA)
		r->extra++;
	else
		r->changed++;
	if ((int64_t)r->ndiffs >= cx->max_diffs)
		goto out;
	if ((err = key_from_batch(&k, b, row, t->keyed ? t->kpos : NULL,
				  t->keyed ? t->nkey : t->ncols)) < 0)
		goto out;
	struct barge_verify_diff *g = realloc(r->diffs, (r->ndiffs + 1) * sizeof *g);
	if (!g) {
		err = barge_error_set(BARGE_ENOMEM, "out of memory");
		goto out;
	}
	r->diffs = g;
	memset(&g[r->ndiffs], 0, sizeof *g);
	g[r->ndiffs].kind = kind;
	g[r->ndiffs].key = k;
	g[r->ndiffs].columns = columns;
	r->ndiffs++;
	k = NULL;
	columns = NULL;
out:
	pthread_mutex_unlock(&t->lock);
	barge_key_free(k);
	free(columns);
	return err;
}

/* The names of the columns whose encodings differ, as a JSON array. */
static int changed_columns(char **out, struct vt *t,
			   const struct barge_batch *a, size_t ra,
			   const struct barge_batch *b, size_t rb)
{
	struct barge_buf x, y, j;
	int first = 1;
	barge_buf_init(&x, ENC_CAP);
	barge_buf_init(&y, ENC_CAP);
	barge_buf_init(&j, 1 << 20);
	barge_buf_adds(&j, "[");
	for (size_t c = 0; c < t->ncols; c++) {
		barge_buf_clear(&x);
		barge_buf_clear(&y);
		barge_canon_encode_col(&x, a, c, ra);
		barge_canon_encode_col(&y, b, c, rb);
		if (x.len == y.len && (x.len == 0 || memcmp(x.p, y.p, x.len) == 0))
			continue;
		const char *name = vt_colname(t, c);
		if (!first)
			barge_buf_adds(&j, ",");
		barge_buf_json_str(&j, name, strlen(name));
		first = 0;
	}
	barge_buf_adds(&j, "]");
	int err = x.err ? x.err : y.err;
	barge_buf_dispose(&x);
	barge_buf_dispose(&y);
	if (err) {
		barge_buf_dispose(&j);
		return err;
	}
	return barge_buf_detach(&j, out);
}

/* ---- Merging ordered reads ---------------------------------------------------- */

struct cursor {
	const struct side *s;
	struct sread rd;
	struct barge_batch *b;
	size_t row;
	int done;
	uint64_t hlo, hhi; /* the current row's hash */
	struct barge_buf enc;
};

static int cursor_hash(struct cursor *c, size_t ncols)
{
	int err = barge_canon_encode_row(&c->enc, c->b, ncols, c->row);
	if (err < 0)
		return err;
	barge_canon_hash(&c->enc, &c->hlo, &c->hhi);
	return 0;
}

static int cursor_next(struct cursor *c, size_t ncols)
{
	int err;
	if (c->done)
		return 0;
	if (c->b->nrows && c->row + 1 < c->b->nrows) {
		c->row++;
		return cursor_hash(c, ncols);
	}
	if ((err = sread_next(&c->rd, c->b)) < 0)
		return err;
	c->row = 0;
	if (c->b->nrows == 0) {
		c->done = 1;
		return 0;
	}
	return cursor_hash(c, ncols);
}

static int cursor_open(struct cursor *c, const struct side *s, size_t ncols,
		       const struct barge_chunk *ch, int ordered)
{
	int err;
	memset(c, 0, sizeof *c);
	c->s = s;
	barge_buf_init(&c->enc, ENC_CAP);
	if ((err = barge_batch_new(&c->b, ncols, s->types, BATCH_ROWS)) < 0 ||
	    (err = sread_open(&c->rd, s, ncols, ch, ordered)) < 0)
		return err;
	return cursor_next(c, ncols);
}

static void cursor_close(struct cursor *c)
{
	sread_close(&c->rd);
	barge_batch_free(c->b);
	barge_buf_dispose(&c->enc);
	memset(c, 0, sizeof *c);
}

static int key_cmp_rows(const struct vt *t, const struct cursor *a,
			const struct cursor *b)
{
	for (size_t k = 0; k < t->nkey; k++) {
		struct barge_value x, y;
		barge_batch_get(a->b, t->kpos[k], a->row, &x);
		barge_batch_get(b->b, t->kpos[k], b->row, &y);
		int c = barge_value_cmp(&x, &y);
		if (c)
			return c;
	}
	return 0;
}

/* Both sides of a range in key order, merged into differences. */
static int merge_range(struct vctx *cx, struct vt *t, const struct side *ss,
		       const struct side *ds, const struct barge_chunk *ch)
{
	struct cursor a, b;
	int err;

	memset(&b, 0, sizeof b);
	if ((err = cursor_open(&a, ss, t->ncols, ch, 1)) < 0 ||
	    (err = cursor_open(&b, ds, t->ncols, ch, 1)) < 0)
		goto out;
	while (!a.done || !b.done) {
		int c = a.done ? 1 : b.done ? -1 : key_cmp_rows(t, &a, &b);
		if (c < 0) {
			if ((err = add_diff(cx, t, BARGE_DIFF_MISSING, a.b, a.row, NULL)) < 0 ||
			    (err = cursor_next(&a, t->ncols)) < 0)
				goto out;
		} else if (c > 0) {
			if ((err = add_diff(cx, t, BARGE_DIFF_EXTRA, b.b, b.row, NULL)) < 0 ||
			    (err = cursor_next(&b, t->ncols)) < 0)
				goto out;
		} else {
			if (a.hlo != b.hlo || a.hhi != b.hhi) {
				char *cols = NULL;
				if ((err = changed_columns(&cols, t, a.b, a.row, b.b, b.row)) < 0 ||
				    (err = add_diff(cx, t, BARGE_DIFF_CHANGED, a.b, a.row, cols)) < 0)
					goto out;
			}
			if ((err = cursor_next(&a, t->ncols)) < 0 ||
			    (err = cursor_next(&b, t->ncols)) < 0)
				goto out;
		}
	}
out:
	cursor_close(&a);
	cursor_close(&b);
	return err;
}

/* ---- Localization ------------------------------------------------------------------ */

/*
 * A range whose digests differ: split it on the source's keys into up to
 * SPLIT_WAYS pieces, compare each piece's digests and go down into the
 * pieces that differ, until a piece holds at most leaf_rows source rows;
 * then merge the piece's rows.
 */
static int localize(struct vctx *cx, struct vt *t, const struct side *ss,
		    const struct side *ds, const struct barge_chunk *ch,
		    int64_t src_rows, int depth)
{
	struct barge_key *bounds[SPLIT_WAYS + 1];
	size_t nb = 0;
	int err = 0;

	if (src_rows <= cx->leaf_rows || depth >= MAX_SPLIT_DEPTH)
		return merge_range(cx, t, ss, ds, ch);
	int64_t step = (src_rows + SPLIT_WAYS - 1) / SPLIT_WAYS;
	const struct barge_key *from = ch->lo;
	while (nb < SPLIT_WAYS - 1) {
		struct barge_key *k = NULL;
		err = barge_drv_key_after(ss->ep, ss->conn, ss->def, from,
					  step, &k);
		if (err == BARGE_ENOTFOUND) {
			barge_error_clear();
			err = 0;
			break;
		}
		if (err < 0)
			goto out;
		if ((ch->hi && barge_key_cmp(k, ch->hi) >= 0) ||
		    (from && barge_key_cmp(k, from) <= 0)) {
			barge_key_free(k);
			break;
		}
		bounds[nb++] = k;
		from = k;
	}
	if (nb == 0) /* the keys do not split: compare the rows */
		return merge_range(cx, t, ss, ds, ch);
	for (size_t i = 0; i <= nb; i++) {
		struct barge_chunk sub = {
			.lo = i ? bounds[i - 1] : ch->lo,
			.hi = i < nb ? bounds[i] : ch->hi,
		};
		struct barge_digest x, y;
		if ((err = side_digest(ss, t->ncols, &sub, &x)) < 0 ||
		    (err = side_digest(ds, t->ncols, &sub, &y)) < 0)
			goto out;
		if (x.rows == y.rows && x.lo == y.lo && x.hi == y.hi)
			continue;
		if ((err = localize(cx, t, ss, ds, &sub, x.rows, depth + 1)) < 0)
			goto out;
	}
out:
	for (size_t i = 0; i < nb; i++)
		barge_key_free(bounds[i]);
	return err;
}

/* ---- Keyless tables: multisets of row hashes ------------------------------------ */

struct h128 {
	uint64_t hi, lo;
};

static int h128_cmp(const void *a, const void *b)
{
	const struct h128 *x = a, *y = b;
	if (x->hi != y->hi)
		return x->hi < y->hi ? -1 : 1;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Every row hash of one side, sorted. */
static int side_hashes(const struct side *s, size_t ncols, struct h128 **out,
		       size_t *n)
{
	struct cursor c;
	size_t cap = 0;
	int err;

	*out = NULL;
	*n = 0;
	if ((err = cursor_open(&c, s, ncols, NULL, 0)) < 0)
		goto out;
	while (!c.done) {
		if (*n == cap) {
			size_t nc = cap ? cap * 2 : 1024;
			if ((int64_t)nc > KEYLESS_MAX_ROWS)
				nc = (size_t)KEYLESS_MAX_ROWS;
			if (*n == nc) {
				err = barge_error_set(BARGE_ENOMEM,
						      "table '%s' has no key and more than "
						      "%lld rows: too many to compare",
						      s->def->name, (long long)KEYLESS_MAX_ROWS);
				goto out;
			}
			struct h128 *g = realloc(*out, nc * sizeof *g);
			if (!g) {
				err = barge_error_set(BARGE_ENOMEM, "out of memory");
				goto out;
			}
			*out = g;
			cap = nc;
		}
		(*out)[*n].hi = c.hhi;
		(*out)[*n].lo = c.hlo;
		(*n)++;
		if ((err = cursor_next(&c, ncols)) < 0)
			goto out;
	}
	qsort(*out, *n, sizeof **out, h128_cmp);
out:
	cursor_close(&c);
	return err;
}

/* Rows of one side whose hash is in `want` (sorted, with multiplicity):
 * each is listed as a difference of `kind`, once per surplus copy. */
static int list_rows(struct vctx *cx, struct vt *t, const struct side *s,
		     const struct h128 *want, size_t nwant, int kind)
{
	struct cursor c;
	unsigned char *used = NULL;
	int err;
	memset(&c, 0, sizeof c);
	if (nwant == 0)
		return 0;
	used = calloc(nwant, 1);
	if (!used)
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	if ((err = cursor_open(&c, s, t->ncols, NULL, 0)) < 0)
		goto out;
	while (!c.done) {
		struct h128 h = {c.hhi, c.hlo};
		const struct h128 *f = bsearch(&h, want, nwant, sizeof *want, h128_cmp);
		if (f) {
			size_t i = (size_t)(f - want);
			while (i > 0 && h128_cmp(&want[i - 1], &h) == 0)
				i--;
			while (i < nwant && h128_cmp(&want[i], &h) == 0 && used[i])
				i++;
			if (i < nwant && h128_cmp(&want[i], &h) == 0) {
				used[i] = 1;
				if ((err = add_diff(cx, t, kind, c.b, c.row, NULL)) < 0)
					goto out;
			}
		}
		if ((err = cursor_next(&c, t->ncols)) < 0)
			goto out;
	}
out:
	free(used);
	cursor_close(&c);
	return err;
}

static int compare_keyless(struct vctx *cx, struct vt *t, const struct side *ss,
			   const struct side *ds)
{
	struct h128 *a = NULL, *b = NULL, *only_a = NULL, *only_b = NULL;
	size_t na = 0, nb = 0, noa = 0, nob = 0, i = 0, j = 0;
	int err;

	/* equal whole-table digests: equal, with no hashes held in memory */
	struct barge_digest x, y;
	if ((err = side_digest(ss, t->ncols, NULL, &x)) < 0 ||
	    (err = side_digest(ds, t->ncols, NULL, &y)) < 0)
		goto out;
	atomic_fetch_add(&t->rows_read, (long long)(x.rows + y.rows));
	if (x.rows == y.rows && x.lo == y.lo && x.hi == y.hi) {
		pthread_mutex_lock(&t->lock);
		t->res->source_rows = x.rows;
		t->res->target_rows = y.rows;
		t->res->chunks = 1;
		pthread_mutex_unlock(&t->lock);
		goto out;
	}
	if ((err = side_hashes(ss, t->ncols, &a, &na)) < 0 ||
	    (err = side_hashes(ds, t->ncols, &b, &nb)) < 0)
		goto out;
	pthread_mutex_lock(&t->lock);
	t->res->source_rows = (int64_t)na;
	t->res->target_rows = (int64_t)nb;
	t->res->chunks = 1;
	pthread_mutex_unlock(&t->lock);
	only_a = malloc((na ? na : 1) * sizeof *only_a);
	only_b = malloc((nb ? nb : 1) * sizeof *only_b);
	if (!only_a || !only_b) {
		err = barge_error_set(BARGE_ENOMEM, "out of memory");
		goto out;
	}
	while (i < na || j < nb) {
		int c = i == na ? 1 : j == nb ? -1 : h128_cmp(&a[i], &b[j]);
		if (c < 0)
			only_a[noa++] = a[i++];
		else if (c > 0)
			only_b[nob++] = b[j++];
		else {
			i++;
			j++;
		}
	}
	if (noa || nob) {
		pthread_mutex_lock(&t->lock);
		t->res->chunks_differing = 1;
		pthread_mutex_unlock(&t->lock);
	}
	free(a);
	free(b);
	a = b = NULL;
	if ((err = list_rows(cx, t, ss, only_a, noa, BARGE_DIFF_MISSING)) < 0 ||
	    (err = list_rows(cx, t, ds, only_b, nob, BARGE_DIFF_EXTRA)) < 0)
		goto out;
out:
	free(a);
	free(b);
	free(only_a);
	free(only_b);
	return err;
}

/* ---- Workers ---------------------------------------------------------------------- */

struct vworker {
	struct vctx *cx;
	struct barge_conn *sconn, *dconn;
	pthread_t thread;
};

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

static int chunk_from_unit(struct barge_chunk *ch, const struct vt *t,
			   const struct barge_unit_plan *u)
{
	int types[64];
	int err = 0;
	memset(ch, 0, sizeof *ch);
	if (t->sdef->nkey > 64)
		return barge_error_set(BARGE_EUSAGE, "a key of more than 64 columns");
	barge_chunk_key_types(types, t->sdef, 0);
	if (u->lo && (err = barge_key_from_json(&ch->lo, u->lo, t->sdef->nkey, types)) < 0)
		return err;
	if (u->hi && (err = barge_key_from_json(&ch->hi, u->hi, t->sdef->nkey, types)) < 0)
		return err;
	return 0;
}

static int do_chunk(struct vworker *w, struct vt *t, size_t ci)
{
	struct vctx *cx = w->cx;
	struct side ss, ds;
	struct barge_chunk ch;
	struct barge_digest x, y;
	int err;

	side_of(&ss, cx, t, 0, w->sconn);
	side_of(&ds, cx, t, 1, w->dconn);
	if (ci == SIZE_MAX)
		return compare_keyless(cx, t, &ss, &ds);
	if ((err = chunk_from_unit(&ch, t, &t->chunks.units[ci])) < 0)
		goto out;
	ch.seq = (int64_t)ci;
	if ((err = side_digest(&ss, t->ncols, &ch, &x)) < 0 ||
	    (err = side_digest(&ds, t->ncols, &ch, &y)) < 0)
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
		err = localize(cx, t, &ss, &ds, &ch, x.rows, 0);
out:
	barge_key_free(ch.lo);
	barge_key_free(ch.hi);
	return err;
}

/* ---- Bucketed tables ----------------------------------------------------------- */

/* Past this many buckets a table's buckets hold more rows each (memory:
 * 2 x 24 bytes a bucket); localization splits the big ones. */
#define BUCKETS_MAX ((size_t)1 << 18)

/* Buckets suit a table compared by one integer key, streamed. */
static int bucket_able(const struct vt *t)
{
	return t->keyed && !t->fast && t->nkey == 1 &&
	       barge_chunking_for(t->sdef, 0) == BARGE_CHUNK_INT &&
	       t->stypes[t->kpos[0]] == BARGE_T_INT64 &&
	       t->dtypes[t->kpos[0]] == BARGE_T_INT64;
}

/*
 * Cut the source's key span [min, max] into buckets of about leaf_rows / 2
 * rows (dense keys), so a differing bucket is merged row by row at once,
 * and the key space into one part per two workers (each side of a part
 * is one read: with --jobs 2 the whole table, a sequential scan).
 */
static int plan_buckets(struct vctx *cx, struct vt *t, int jobs)
{
	int64_t min = 0, max = 0, count = 0;
	int err = barge_drv_key_range(&cx->src, cx->slead, t->sdef, 0, &min, &max,
				      &count);
	if (err == BARGE_ENOTFOUND) { /* empty: one bucket takes everything */
		barge_error_clear();
		err = 0;
	}
	if (err < 0)
		return err;
	int64_t per = cx->leaf_rows / 2 > 0 ? cx->leaf_rows / 2 : 1;
	uint64_t nb = (uint64_t)((count + per - 1) / per);
	if (nb < 1)
		nb = 1;
	if (nb > BUCKETS_MAX)
		nb = BUCKETS_MAX;
	unsigned __int128 span = (unsigned __int128)((__int128)max - min) + 1;
	unsigned __int128 w = (span + nb - 1) / nb;
	t->kmin = min;
	t->kw = (uint64_t)w;
	/* every bucket starts at or below max */
	t->nb = (size_t)((span + w - 1) / w);
	t->nparts = (size_t)(jobs / 2 > 1 ? jobs / 2 : 1);
	if (t->nparts > t->nb)
		t->nparts = t->nb;
	t->bd[0] = calloc(t->nb, sizeof *t->bd[0]);
	t->bd[1] = calloc(t->nb, sizeof *t->bd[1]);
	if (!t->bd[0] || !t->bd[1])
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	t->bucketed = 1;
	t->est_rows = 2 * count;
	t->res->chunks = (int64_t)t->nb;
	return 0;
}

static size_t bucket_of(const struct vt *t, int64_t k)
{
	if (k <= t->kmin)
		return 0;
	uint64_t i = (uint64_t)((unsigned __int128)((__int128)k - t->kmin) / t->kw);
	return i < t->nb ? (size_t)i : t->nb - 1;
}

/* The key range of buckets [b0, b1): open below from bucket 0, open above
 * to the last. The caller frees ch->lo and ch->hi. */
static int bucket_range(struct barge_chunk *ch, const struct vt *t, size_t b0,
			size_t b1)
{
	memset(ch, 0, sizeof *ch);
	int err = 0;
	if (b0 > 0) {
		struct barge_value v = {.type = BARGE_T_INT64,
					.i = (int64_t)((__int128)t->kmin + (__int128)t->kw * b0)};
		err = barge_key_new(&ch->lo, 1, &v);
	}
	if (err == 0 && b1 < t->nb) {
		struct barge_value v = {.type = BARGE_T_INT64,
					.i = (int64_t)((__int128)t->kmin + (__int128)t->kw * b1)};
		err = barge_key_new(&ch->hi, 1, &v);
	}
	ch->seq = (int64_t)b0;
	return err;
}

/* One side of one part: every row hashed into its key's bucket. Parts
 * cover disjoint buckets, so no two workers add to one bucket. A NULL key
 * (only a target can hold one) is an extra row outright. */
static int do_pass(struct vworker *w, struct vt *t, size_t part, int target)
{
	struct vctx *cx = w->cx;
	struct barge_digest *bd = t->bd[target];
	size_t b0 = part * t->nb / t->nparts, b1 = (part + 1) * t->nb / t->nparts;
	struct side s;
	struct sread rd;
	struct barge_batch *b = NULL;
	struct barge_buf enc;
	struct barge_chunk ch;
	int64_t rows = 0;
	int err;

	memset(&rd, 0, sizeof rd);
	barge_buf_init(&enc, ENC_CAP);
	side_of(&s, cx, t, target, target ? w->dconn : w->sconn);
	if ((err = bucket_range(&ch, t, b0, b1)) < 0 ||
	    (err = barge_batch_new(&b, t->ncols, s.types, BATCH_ROWS)) < 0 ||
	    (err = sread_open(&rd, &s, t->ncols, &ch, 0)) < 0)
		goto out;
	for (;;) {
		if ((err = sread_next(&rd, b)) < 0 || b->nrows == 0)
			break;
		atomic_fetch_add(&t->rows_read, (long long)b->nrows);
		for (size_t r = 0; r < b->nrows; r++) {
			uint64_t lo, hi;
			if (barge_batch_is_null(b, t->kpos[0], r)) {
				if ((err = add_diff(cx, t, BARGE_DIFF_EXTRA, b, r, NULL)) < 0)
					goto out;
				continue;
			}
			size_t i = bucket_of(t, barge_batch_i64(b, t->kpos[0], r));
			i = i < b0 ? b0 : i >= b1 ? b1 - 1 : i;
			if ((err = barge_canon_encode_row(&enc, b, t->ncols, r)) < 0)
				goto out;
			barge_canon_hash(&enc, &lo, &hi);
			barge_digest_add(&bd[i], lo, hi);
			rows++;
		}
	}
	pthread_mutex_lock(&t->lock);
	if (target)
		t->res->target_rows += rows;
	else
		t->res->source_rows += rows;
	pthread_mutex_unlock(&t->lock);
out:
	barge_key_free(ch.lo);
	barge_key_free(ch.hi);
	sread_close(&rd);
	barge_batch_free(b);
	barge_buf_dispose(&enc);
	return err;
}

/* A bucket whose digests differ: localized like a differing chunk. */
static int do_bucket(struct vworker *w, struct vt *t, size_t i)
{
	struct side ss, ds;
	struct barge_chunk ch;
	int err;

	side_of(&ss, w->cx, t, 0, w->sconn);
	side_of(&ds, w->cx, t, 1, w->dconn);
	if ((err = bucket_range(&ch, t, i, i + 1)) == 0)
		err = localize(w->cx, t, &ss, &ds, &ch, t->bd[0][i].rows, 0);
	barge_key_free(ch.lo);
	barge_key_free(ch.hi);
	return err;
}

/* ---- Workers, phases ---------------------------------------------------------------- */

static int do_work(struct vworker *w, const struct vwork *wk)
{
	struct vt *t = &w->cx->vts[wk->table];
	switch (wk->kind) {
	case W_KEYLESS: return do_chunk(w, t, SIZE_MAX);
	case W_PASS: return do_pass(w, t, wk->idx, wk->side);
	case W_BUCKET: return do_bucket(w, t, wk->idx);
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

static int vworker_open(struct vworker *w)
{
	struct vctx *cx = w->cx;
	int err;
	if ((err = barge_drv_open(&cx->src, &w->sconn, BARGE_OPEN_READ)) < 0 ||
	    (err = barge_drv_snapshot_join(&cx->src, w->sconn, cx->stoken)) < 0 ||
	    (err = barge_drv_open(&cx->dst, &w->dconn, BARGE_OPEN_READ)) < 0 ||
	    (err = barge_drv_snapshot_join(&cx->dst, w->dconn, cx->dtoken)) < 0)
		return err;
	return 0;
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

/* ---- Results ------------------------------------------------------------------------ */

static int diff_json(struct barge_buf *b, const struct barge_verify_table *r,
		     const struct barge_verify_diff *d)
{
	barge_buf_printf(b, "{\"kind\":\"%s\"", barge_diff_kind_name(d->kind));
	if (d->key) {
		barge_buf_adds(b, r->keyed ? ",\"key\":{" : ",\"row\":{");
		for (size_t i = 0; i < d->key->n && i < r->nfields; i++) {
			struct barge_key one = {.n = 1, .v = &d->key->v[i]};
			char *j = NULL;
			int err = barge_key_to_json(&j, &one);
			if (err < 0)
				return err;
			if (i)
				barge_buf_adds(b, ",");
			barge_buf_json_str(b, r->fields[i], strlen(r->fields[i]));
			/* the value without the array's brackets */
			barge_buf_adds(b, ":");
			barge_buf_add(b, j + 1, strlen(j) - 2);
			free(j);
		}
		barge_buf_adds(b, "}");
		if (!r->keyed) /* a keyless row is its own key */
			barge_buf_adds(b, ",\"key\":null");
	}
	if (d->columns)
		barge_buf_printf(b, ",\"columns\":%s", d->columns);
	if (d->kind == BARGE_DIFF_CHUNK) {
		barge_buf_printf(b, ",\"chunk\":%lld,\"lo\":%s,\"hi\":%s",
				 (long long)d->seq, d->lo ? d->lo : "null",
				 d->hi ? d->hi : "null");
	}
	return barge_buf_adds(b, "}");
}

static int table_json(struct barge_buf *b, const struct barge_verify_table *r)
{
	int err;
	barge_buf_adds(b, "{\"table\":");
	barge_buf_json_str(b, r->table, strlen(r->table));
	barge_buf_adds(b, ",\"target_table\":");
	barge_buf_json_str(b, r->target, strlen(r->target));
	barge_buf_printf(b, ",\"equal\":%s,\"source_rows\":%lld,\"target_rows\":%lld,"
			 "\"chunks\":%lld,\"chunks_differing\":%lld,\"missing\":%lld,"
			 "\"extra\":%lld,\"changed\":%lld,\"listed\":%zu,"
			 "\"seconds\":%.3f,\"digests\":\"%s\",\"differences\":[",
			 r->equal ? "true" : "false", (long long)r->source_rows,
			 (long long)r->target_rows, (long long)r->chunks,
			 (long long)r->chunks_differing, (long long)r->missing,
			 (long long)r->extra, (long long)r->changed, r->ndiffs,
			 r->seconds, r->digests ? r->digests : "recorded");
	for (size_t i = 0; i < r->ndiffs; i++) {
		if (i)
			barge_buf_adds(b, ",");
		if ((err = diff_json(b, r, &r->diffs[i])) < 0)
			return err;
	}
	barge_buf_adds(b, "]");
	if (r->ninvariants) {
		barge_buf_adds(b, ",\"invariants\":[");
		for (size_t i = 0; i < r->ninvariants; i++) {
			const struct barge_verify_invariant *v = &r->invariants[i];
			barge_buf_adds(b, i ? ",{\"invariant\":" : "{\"invariant\":");
			barge_buf_json_str(b, v->text, strlen(v->text));
			barge_buf_adds(b, ",\"source\":");
			if (v->source)
				barge_buf_json_str(b, v->source, strlen(v->source));
			else
				barge_buf_adds(b, "null");
			barge_buf_adds(b, ",\"target\":");
			if (v->target)
				barge_buf_json_str(b, v->target, strlen(v->target));
			else
				barge_buf_adds(b, "null");
			barge_buf_printf(b, ",\"equal\":%s}", v->equal ? "true" : "false");
		}
		barge_buf_adds(b, "]");
	}
	return barge_buf_adds(b, "}");
}

int barge_verify_report_json(char **out, const struct barge_verify_result *res)
{
	struct barge_buf b;
	int err = 0;
	barge_buf_init(&b, (size_t)1 << 30);
	barge_buf_printf(&b, "{\"equal\":%s,\"seconds\":%.3f,\"tables\":[",
			 res->equal ? "true" : "false", res->seconds);
	for (size_t i = 0; i < res->ntables && err == 0; i++) {
		if (i)
			barge_buf_adds(&b, ",");
		err = table_json(&b, &res->tables[i]);
	}
	barge_buf_adds(&b, "]}\n");
	if (err < 0) {
		barge_buf_dispose(&b);
		return err;
	}
	return barge_buf_detach(&b, out);
}

/* Record each table's outcome in the state store (verify_results). */
static int store_results(const struct barge_verify_opts *o, const char *src,
			 const char *dst, const struct barge_verify_result *res)
{
	struct barge_state *st = NULL;
	int err;
	if (!o->state_path)
		return 0;
	if ((err = barge_state_open(&st, o->state_path, 1)) < 0)
		return err;
	for (size_t i = 0; i < res->ntables && err == 0; i++) {
		const struct barge_verify_table *r = &res->tables[i];
		struct barge_buf b;
		char *json = NULL;
		barge_buf_init(&b, (size_t)1 << 30);
		if ((err = table_json(&b, r)) < 0 ||
		    (err = barge_buf_detach(&b, &json)) < 0) {
			barge_buf_dispose(&b);
			break;
		}
		struct barge_verify_record rec = {
			.source = src, .target = dst, .table = r->table,
			.against_state = o->against_state, .equal = r->equal,
			.source_rows = r->source_rows, .target_rows = r->target_rows,
			.chunks = r->chunks, .missing = r->missing,
			.extra = r->extra, .changed = r->changed,
			.seconds = r->seconds, .report = json,
		};
		err = barge_state_verify_add(st, &rec);
		free(json);
	}
	barge_state_close(st);
	return err;
}

void barge_verify_result_dispose(struct barge_verify_result *r)
{
	for (size_t i = 0; r->tables && i < r->ntables; i++) {
		struct barge_verify_table *t = &r->tables[i];
		for (size_t j = 0; j < t->ndiffs; j++) {
			barge_key_free(t->diffs[j].key);
			free(t->diffs[j].columns);
			free(t->diffs[j].lo);
			free(t->diffs[j].hi);
		}
		free(t->diffs);
		for (size_t j = 0; j < t->ninvariants; j++) {
			free(t->invariants[j].text);
			free(t->invariants[j].source);
			free(t->invariants[j].target);
		}
		free(t->invariants);
		for (size_t j = 0; t->fields && j < t->nfields; j++)
			free(t->fields[j]);
		free(t->fields);
		free(t->table);
		free(t->target);
	}
	free(r->tables);
	memset(r, 0, sizeof *r);
}

/* ---- Against the state store ------------------------------------------------------ */

static int verify_against_state(const struct barge_verify_opts *o,
				struct barge_verify_result *res);

/* ---- The entry points ------------------------------------------------------------- */

static void opts_defaults(struct vctx *cx, const struct barge_verify_opts *o)
{
	cx->o = o;
	cx->max_diffs = o->max_diffs > 0 ? o->max_diffs : 1000;
	cx->leaf_rows = o->leaf_rows > 0 ? o->leaf_rows : 1000;
}

/* ---- Invariants ---------------------------------------------------------------------- */

/* A decimal number's text without insignificant zeros or sign ("+1.50"
 * -> "1.5", "-0.0" -> "0"), into buf; 0 when the text is no plain number. */
static int num_norm(char *buf, size_t cap, const char *s)
{
	size_t n = strlen(s), i = 0, w = 0;
	int neg = 0, dot = 0, digits = 0;
	if (n + 2 > cap)
		return 0;
	if (s[i] == '+' || s[i] == '-')
		neg = s[i++] == '-';
	while (s[i] == '0' && s[i + 1] >= '0' && s[i + 1] <= '9')
		i++;
	if (neg)
		buf[w++] = '-';
	for (; i < n; i++) {
		if (s[i] == '.' && !dot)
			dot = 1;
		else if (s[i] < '0' || s[i] > '9')
			return 0;
		else
			digits = 1;
		buf[w++] = s[i];
	}
	if (!digits)
		return 0;
	if (dot) {
		while (buf[w - 1] == '0')
			w--;
		if (buf[w - 1] == '.')
			w--;
	}
	buf[w] = '\0';
	if (strcmp(buf, "-0") == 0 || w == 0 || strcmp(buf, "-") == 0)
		memcpy(buf, "0", 2);
	return 1;
}

static int values_equal(const char *a, const char *b)
{
	char x[128], y[128];
	if (!a || !b)
		return !a && !b;
	if (strcmp(a, b) == 0)
		return 1;
	return num_norm(x, sizeof x, a) && num_norm(y, sizeof y, b) &&
	       strcmp(x, y) == 0;
}

/* An invariant's where for the target: every unquoted identifier that is
 * a renamed source column becomes the target's name (string literals and
 * quoted names are left as written). */
static int where_renamed(char **out, const char *w,
			 const struct barge_job_table *jt)
{
	struct barge_buf b;
	barge_buf_init(&b, 1 << 20);
	for (const char *p = w; *p;) {
		if (*p == '\'' || *p == '"') { /* a literal or a quoted name */
			const char *e = p + 1;
			while (*e && !(*e == *p && e[1] != *p))
				e += *e == *p ? 2 : 1;
			if (*e)
				e++;
			barge_buf_add(&b, p, (size_t)(e - p));
			p = e;
		} else if (*p == '_' || ((*p | 32) >= 'a' && (*p | 32) <= 'z')) {
			const char *e = p;
			while (*e == '_' || (*e >= '0' && *e <= '9') ||
			       ((*e | 32) >= 'a' && (*e | 32) <= 'z'))
				e++;
			const char *to = NULL;
			for (size_t i = 0; i < jt->nrename; i++)
				if (strlen(jt->rename_from[i]) == (size_t)(e - p) &&
				    strncmp(jt->rename_from[i], p, (size_t)(e - p)) == 0)
					to = jt->rename_to[i];
			if (to) {
				barge_buf_adds(&b, "\"");
				barge_buf_adds(&b, to);
				barge_buf_adds(&b, "\"");
			} else {
				barge_buf_add(&b, p, (size_t)(e - p));
			}
			p = e;
		} else {
			barge_buf_add(&b, p++, 1);
		}
	}
	return barge_buf_detach(&b, out);
}

/* One invariant of a table on both sides (the source with the plan's
 * where too, the target through the column renames). */
static int invariant_one(struct vctx *cx, struct vt *t, const char *text,
			 struct barge_verify_invariant *out)
{
	const struct barge_job_table *jt = t->jt;
	const char *agg, *dcol = NULL;
	char *col = NULL, *where = NULL, *swhere = NULL, *dwhere = NULL;
	int distinct, err;

	if (!(out->text = strdup(text)))
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	if ((err = barge_invariant_parse(text, &agg, &distinct, &col, &where)) < 0)
		goto out;
	if (col && barge_table_def_find(t->sdef, col) < 0) {
		err = barge_error_set(BARGE_EUSAGE, "invariant '%s': table '%s' has "
				      "no column '%s'", text, jt->name, col);
		goto out;
	}
	dcol = col;
	for (size_t i = 0; col && i < jt->nrename; i++)
		if (strcmp(jt->rename_from[i], col) == 0)
			dcol = jt->rename_to[i];
	if (where && (err = where_renamed(&dwhere, where, jt)) < 0)
		goto out;
	if (jt->where && where) {
		size_t n = strlen(jt->where) + strlen(where) + 16;
		if (!(swhere = malloc(n))) {
			err = barge_error_set(BARGE_ENOMEM, "out of memory");
			goto out;
		}
		snprintf(swhere, n, "(%s) AND (%s)", jt->where, where);
	}
	if ((err = barge_drv_aggregate(&cx->src, cx->slead, t->sdef, agg, distinct, col,
				       swhere ? swhere : jt->where ? jt->where : where,
				       &out->source)) < 0 ||
	    (err = barge_drv_aggregate(&cx->dst, cx->dlead, t->ddef, agg, distinct, dcol,
				       dwhere, &out->target)) < 0) {
		barge_error_wrap(err, "invariant '%s' of table '%s'", text, jt->name);
		goto out;
	}
	out->equal = values_equal(out->source, out->target);
out:
	free(col);
	free(where);
	free(swhere);
	free(dwhere);
	return err;
}

/* Every table's invariants; a differing one makes the table differ. */
static int check_invariants(struct vctx *cx)
{
	for (size_t i = 0; i < cx->nvts; i++) {
		struct vt *t = &cx->vts[i];
		struct barge_verify_table *r = t->res;
		size_t n = t->jt->ninvariants;
		if (!n)
			continue;
		if (!(r->invariants = calloc(n, sizeof *r->invariants)))
			return barge_error_set(BARGE_ENOMEM, "out of memory");
		for (size_t k = 0; k < n; k++) {
			r->ninvariants = k + 1;
			int err = invariant_one(cx, t, t->jt->invariants[k], &r->invariants[k]);
			if (err < 0)
				return err;
			if (!r->invariants[k].equal)
				r->equal = 0;
		}
	}
	return 0;
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

/* Append a piece of work to this phase's list. */
static int work_add(struct vctx *cx, size_t *cap, size_t table, int kind,
		    int side, size_t idx)
{
	if (cx->nwork == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		struct vwork *g = realloc(cx->work, nc * sizeof *g);
		if (!g)
			return barge_error_set(BARGE_ENOMEM, "out of memory");
		cx->work = g;
		*cap = nc;
	}
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
	opts_defaults(&cx, o);
	pthread_mutex_init(&cx.qlock, NULL);
	if ((err = vctx_open(&cx, res)) < 0)
		goto out;
	for (size_t i = 0; i < cx.nvts; i++) {
		struct vt *t = &cx.vts[i];
		if (!t->keyed)
			continue;
		if (bucket_able(t)) {
			if ((err = plan_buckets(&cx, t, jobs)) < 0)
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
	if (err < 0 || (err = check_invariants(&cx)) < 0)
		goto out;
	res->equal = 1;
	for (size_t i = 0; i < res->ntables; i++)
		if (!res->tables[i].equal)
			res->equal = 0;
	res->seconds = barge_monotonic() - t0;
	err = store_results(o, barge_url_redacted(cx.src.url),
			    barge_url_redacted(cx.dst.url), res);
out:
	for (int i = 0; ws && i < jobs; i++)
		vworker_close(&ws[i]);
	free(ws);
	free(cx.work);
	vctx_close(&cx);
	pthread_mutex_destroy(&cx.qlock);
	return err;
}

/* ---- Fix ---------------------------------------------------------------------------- */

/* A key above k in binary order with no source key in between other than
 * k's own extensions: the last value's successor (see text below). */
static int key_successor(struct barge_key **out, const struct barge_key *k)
{
	struct barge_value vals[64];
	char *buf = NULL;
	int err;

	*out = NULL;
	if (k->n == 0 || k->n > 64)
		return barge_error_set(BARGE_EUSAGE, "fix: a key of %zu columns", k->n);
	memcpy(vals, k->v, k->n * sizeof *vals);
	struct barge_value *last = &vals[k->n - 1];
	if (last->null)
		return barge_error_set(BARGE_EDATA, "fix: a NULL key value");
	if (last->type == BARGE_T_FLOAT64) {
		last->f = nextafter(last->f, INFINITY);
		return barge_key_new(out, k->n, vals);
	}
	if (!barge_type_is_varlen(last->type)) {
		if (last->i == INT64_MAX)
			return 0; /* unbounded above */
		last->i++;
		return barge_key_new(out, k->n, vals);
	}
	buf = malloc(last->n + 1);
	if (!buf)
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	if (last->n)
		memcpy(buf, last->p, last->n);
	/* Text cannot hold NUL in PostgreSQL (a literal would end there), so
	 * text keys end the range at key + 0x01: the keys key + 0x00... that
	 * range also takes in are re-copied from the source too, which is
	 * still exact. */
	buf[last->n] = last->type == BARGE_T_TEXT ? '\x01' : '\0';
	last->p = buf;
	last->n++;
	err = barge_key_new(out, k->n, vals);
	free(buf);
	return err;
}

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
		struct barge_chunk ch;
		int64_t rows = 0;
		if (!d->key)
			continue;
		memset(&ch, 0, sizeof ch);
		ch.lo = d->key;
		if ((err = key_successor(&ch.hi, d->key)) < 0)
			goto out;
		err = barge_drv_delete_range(&cx->dst, tc, t->ddef, &ch);
		if (err == 0)
			err = copy_range(cx, t, tc, &ch, &rows);
		barge_key_free(ch.hi);
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
	opts_defaults(&cx, o);
	pthread_mutex_init(&cx.qlock, NULL);
	if ((err = vctx_open(&cx, &tmp)) < 0)
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
	vctx_close(&cx);
	barge_verify_result_dispose(&tmp);
	pthread_mutex_destroy(&cx.qlock);
	return err;
}

/* ---- Against the state store ------------------------------------------------------- */

/* The newest whole-copy run (one-row runs are skipped). */
static int latest_copy_run(struct barge_state *st, struct barge_run **out)
{
	struct barge_run *r = NULL;
	int err = barge_state_run_latest(st, &r);
	*out = NULL;
	while (err == 0 && r) {
		if (!r->config || !strstr(r->config, "\"kind\":\"row\"")) {
			*out = r;
			return 0;
		}
		int64_t id = r->id - 1;
		barge_run_free(r);
		r = NULL;
		if (id < 1)
			break;
		err = barge_state_run_get(st, id, &r);
	}
	if (err == 0 || err == BARGE_ENOTFOUND)
		return barge_error_set(BARGE_ENOTFOUND,
				       "the state file holds no copy run to check against");
	return err;
}

/* The target name the run's config recorded for a source table. */
static char *config_target(const char *config, const char *table)
{
	struct barge_buf b;
	char *needle = NULL;
	barge_buf_init(&b, 1 << 16);
	barge_buf_adds(&b, "{\"name\":");
	barge_buf_json_str(&b, table, strlen(table));
	barge_buf_adds(&b, ",\"target\":\"");
	if (barge_buf_detach(&b, &needle) < 0)
		return NULL;
	const char *p = config ? strstr(config, needle) : NULL;
	char *out = NULL;
	if (p) {
		p += strlen(needle);
		const char *e = strchr(p, '"');
		if (e && !memchr(p, '\\', (size_t)(e - p)))
			out = strndup(p, (size_t)(e - p));
	}
	free(needle);
	return out ? out : strdup(table);
}

struct astate_table {
	struct barge_table_def *def;
	size_t *cols;
	int *types;
};

/*
 * Check one table of the run: each keyed unit's digest against the same
 * range of the target; tables chunked by row address (whose addresses
 * differ in the target) against the sum of their units' digests.
 */
static int astate_table(struct barge_state *st, const struct barge_ep *dst,
			struct barge_conn *dc, int64_t run, const char *table,
			const char *target, struct barge_verify_table *r,
			int64_t max_diffs)
{
	struct barge_table_def *def = NULL;
	struct barge_unit *u = NULL;
	struct barge_digest want_all, got;
	size_t *cols = NULL;
	int whole = 0, err;
	struct side s;

	barge_digest_init(&want_all);
	r->table = strdup(table);
	r->target = strdup(target);
	r->equal = 1;
	r->keyed = 1;
	if (!r->table || !r->target)
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	err = barge_drv_describe(dst, dc, target, &def);
	if (err == BARGE_ENOTFOUND)
		err = barge_error_set(BARGE_EUSAGE, "no table '%s' in the target", target);
	if (err < 0)
		goto out;
	cols = calloc(def->ncols + 1, sizeof *cols);
	int *types = calloc(def->ncols + 1, sizeof *types);
	if (!cols || !types) {
		free(types);
		err = barge_error_set(BARGE_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < def->ncols; i++) {
		cols[i] = i;
		types[i] = def->cols[i].type;
	}
	s = (struct side){.ep = dst, .conn = dc, .def = def, .cols = cols, .types = types};
	int ktypes[64];
	barge_chunk_key_types(ktypes, def, 0);
	for (int64_t seq = 0;; seq++) {
		barge_unit_free(u);
		u = NULL;
		err = barge_state_unit_by_seq(st, run, table, seq, &u);
		if (err == BARGE_ENOTFOUND) {
			barge_error_clear();
			err = 0;
			break;
		}
		if (err < 0)
			break;
		r->chunks++;
		if (u->status != BARGE_UNIT_DONE || !u->digest) {
			err = barge_error_set(BARGE_EUSAGE,
					      "table '%s' chunk %lld was not copied (%s): "
					      "finish the run first", table,
					      (long long)seq, barge_unit_status_name(u->status));
			break;
		}
		struct barge_digest want;
		barge_digest_init(&want);
		char hex[33];
		/* the recorded digest as two halves */
		char hi[17], lo[17];
		memcpy(hi, u->digest, 16);
		hi[16] = '\0';
		memcpy(lo, u->digest + 16, 16);
		lo[16] = '\0';
		want.hi = strtoull(hi, NULL, 16);
		want.lo = strtoull(lo, NULL, 16);
		want.rows = u->rows_written;
		r->source_rows += u->rows_written;
		uint64_t s_lo = want_all.lo + want.lo;
		want_all.hi += want.hi + (s_lo < want_all.lo);
		want_all.lo = s_lo;
		want_all.rows += want.rows;
		if (u->by_rowid || def->nkey == 0 || (!u->lo && !u->hi)) {
			whole = 1;
			continue;
		}
		struct barge_chunk ch;
		memset(&ch, 0, sizeof ch);
		if ((u->lo && (err = barge_key_from_json(&ch.lo, u->lo, def->nkey, ktypes)) < 0) ||
		    (u->hi && (err = barge_key_from_json(&ch.hi, u->hi, def->nkey, ktypes)) < 0) ||
		    (err = side_digest(&s, def->ncols, &ch, &got)) < 0) {
			barge_key_free(ch.lo);
			barge_key_free(ch.hi);
			break;
		}
		barge_key_free(ch.lo);
		barge_key_free(ch.hi);
		r->target_rows += got.rows;
		barge_digest_hex(&got, hex);
		if (got.rows == want.rows && strcmp(hex, u->digest) == 0)
			continue;
		r->equal = 0;
		r->chunks_differing++;
		if ((int64_t)r->ndiffs < max_diffs) {
			struct barge_verify_diff *g = realloc(r->diffs, (r->ndiffs + 1) * sizeof *g);
			if (!g) {
				err = barge_error_set(BARGE_ENOMEM, "out of memory");
				break;
			}
			r->diffs = g;
			memset(&g[r->ndiffs], 0, sizeof *g);
			g[r->ndiffs].kind = BARGE_DIFF_CHUNK;
			g[r->ndiffs].seq = seq;
			g[r->ndiffs].lo = u->lo ? strdup(u->lo) : NULL;
			g[r->ndiffs].hi = u->hi ? strdup(u->hi) : NULL;
			r->ndiffs++;
		}
	}
	if (err == 0 && whole) {
		/* every unit summed against the whole target table */
		r->target_rows = 0;
		if ((err = side_digest(&s, def->ncols, NULL, &got)) == 0) {
			r->target_rows = got.rows;
			r->chunks = 1;
			if (got.rows != want_all.rows || got.lo != want_all.lo ||
			    got.hi != want_all.hi) {
				r->equal = 0;
				r->chunks_differing = 1;
				struct barge_verify_diff *g = realloc(r->diffs, sizeof *g);
				if (!g) {
					err = barge_error_set(BARGE_ENOMEM, "out of memory");
				} else {
					r->diffs = g;
					memset(g, 0, sizeof *g);
					g->kind = BARGE_DIFF_CHUNK;
					r->ndiffs = 1;
				}
			}
		}
	}
	free(types);
out:
	barge_unit_free(u);
	free(cols);
	barge_table_def_free(def);
	return err;
}

static int verify_against_state(const struct barge_verify_opts *o,
				struct barge_verify_result *res)
{
	struct barge_state *st = NULL;
	struct barge_run *run = NULL;
	struct barge_ep dst;
	struct barge_conn *dc = NULL;
	char *tables = NULL, *save = NULL, *token = NULL;
	double t0 = barge_monotonic();
	int err;

	memset(&dst, 0, sizeof dst);
	if (!o->state_path)
		return barge_error_set(BARGE_EUSAGE, "--against-state needs --state");
	if ((err = barge_state_open(&st, o->state_path, 0)) < 0 ||
	    (err = latest_copy_run(st, &run)) < 0)
		goto out;
	if ((err = barge_ep_init(&dst, o->target ? o->target : run->target)) < 0 ||
	    (err = barge_drv_open(&dst, &dc, BARGE_OPEN_READ)) < 0 ||
	    (err = barge_drv_snapshot_begin(&dst, dc, &token)) < 0)
		goto out;
	tables = strdup(run->tables);
	if (!tables) {
		err = barge_error_set(BARGE_ENOMEM, "out of memory");
		goto out;
	}
	size_t n = 1;
	for (const char *p = tables; *p; p++)
		n += *p == ',';
	res->tables = calloc(n, sizeof *res->tables);
	if (!res->tables) {
		err = barge_error_set(BARGE_ENOMEM, "out of memory");
		goto out;
	}
	res->equal = 1;
	for (char *t = strtok_r(tables, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		int listed = o->ntables == 0;
		const char *tname = NULL;
		for (size_t i = 0; i < o->ntables; i++)
			if (strcmp(o->tables[i].name, t) == 0) {
				listed = 1;
				tname = o->tables[i].target;
			}
		if (!listed)
			continue;
		char *target = tname ? strdup(tname) : config_target(run->config, t);
		struct barge_verify_table *r = &res->tables[res->ntables++];
		double t1 = barge_monotonic();
		err = target ? astate_table(st, &dst, dc, run->id, t, target, r,
					    o->max_diffs > 0 ? o->max_diffs : 1000)
			     : barge_error_set(BARGE_ENOMEM, "out of memory");
		free(target);
		r->seconds = barge_monotonic() - t1;
		if (err < 0)
			goto out;
		if (!r->equal)
			res->equal = 0;
	}
	res->seconds = barge_monotonic() - t0;
	barge_state_close(st);
	st = NULL;
	err = store_results(o, run->source, barge_url_redacted(dst.url), res);
out:
	if (dc && token)
		barge_drv_snapshot_end(&dst, dc);
	free(token);
	barge_drv_close(&dst, dc);
	barge_ep_dispose(&dst);
	barge_run_free(run);
	barge_state_close(st);
	free(tables);
	return err;
}
