#include "drv.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* ---- Fault injection ---------------------------------------------------- */

#define MAX_FAULTS 8

struct fault {
	char op[32];
	int code;
	long first, count;
	atomic_long calls;
};

static struct fault faults[MAX_FAULTS];
static int nfaults;
static pthread_once_t faults_once = PTHREAD_ONCE_INIT;

static void faults_load(void)
{
	const char *env = getenv("BARGE_FAULT");
	char buf[512];
	if (!env)
		return;
	strncpy(buf, env, sizeof buf - 1);
	buf[sizeof buf - 1] = '\0';
	char *save = NULL;
	for (char *spec = strtok_r(buf, ",", &save); spec && nfaults < MAX_FAULTS;
	     spec = strtok_r(NULL, ",", &save)) {
		struct fault *f = &faults[nfaults];
		char kind[16] = "";
		long first = 0, count = 1;
		char *p1 = strchr(spec, ':');
		if (!p1)
			continue;
		*p1++ = '\0';
		char *p2 = strchr(p1, ':');
		if (!p2)
			continue;
		*p2++ = '\0';
		strncpy(f->op, spec, sizeof f->op - 1);
		strncpy(kind, p1, sizeof kind - 1);
		first = strtol(p2, &p2, 10);
		if (*p2 == ':')
			count = strtol(p2 + 1, NULL, 10);
		f->code = strcmp(kind, "retry") == 0 ? BARGE_ERETRY
			: strcmp(kind, "data") == 0 ? BARGE_EDATA
						    : BARGE_ERROR;
		f->first = first;
		f->count = count;
		nfaults++;
	}
}

static int fault(const char *op)
{
	pthread_once(&faults_once, faults_load);
	for (int i = 0; i < nfaults; i++) {
		struct fault *f = &faults[i];
		if (strcmp(f->op, op) != 0)
			continue;
		long n = atomic_fetch_add(&f->calls, 1) + 1;
		if (n >= f->first && n < f->first + f->count)
			return barge_error_set(f->code, "injected fault in %s (call %ld)",
					       op, n);
	}
	return 0;
}

#define SLOT(ep, slot)                                                         \
	do {                                                                   \
		if (!(ep)->drv->slot)                                          \
			return barge_error_set(BARGE_EUSAGE,                   \
					       "the %s endpoint cannot %s",    \
					       (ep)->drv->name, #slot);        \
	} while (0)

#define FAULT(op)                                                              \
	do {                                                                   \
		int f_ = fault(op);                                            \
		if (f_)                                                        \
			return f_;                                             \
	} while (0)

/* ---- Endpoints ---------------------------------------------------------- */

int barge_ep_init(struct barge_ep *ep, const char *url)
{
	int err;
	memset(ep, 0, sizeof *ep);
	if ((err = barge_url_parse(&ep->url, url)) < 0)
		return err;
	ep->drv = barge_driver_for_scheme(ep->url->scheme);
	if (!ep->drv || !ep->drv->open) {
		err = barge_error_set(BARGE_EUSAGE,
				      "no %s endpoint in this build of barge yet",
				      ep->url->scheme);
		barge_ep_dispose(ep);
		return err;
	}
	return 0;
}

void barge_ep_dispose(struct barge_ep *ep)
{
	barge_url_free(ep->url);
	memset(ep, 0, sizeof *ep);
}

void barge_names_free(char **names)
{
	for (size_t i = 0; names && names[i]; i++)
		free(names[i]);
	free(names);
}

/* ---- Wrappers ----------------------------------------------------------- */

int barge_drv_open(const struct barge_ep *ep, struct barge_conn **out,
		   unsigned flags)
{
	*out = NULL;
	FAULT("open");
	return ep->drv->open(out, ep->url, flags);
}

void barge_drv_close(const struct barge_ep *ep, struct barge_conn *c)
{
	if (c && ep->drv->close)
		ep->drv->close(c);
}

int barge_drv_snapshot_begin(const struct barge_ep *ep, struct barge_conn *c,
			     char **token)
{
	*token = NULL;
	if (!ep->drv->snapshot_begin)
		return 0; /* no snapshot: each reader reads the live data */
	return ep->drv->snapshot_begin(c, token);
}

int barge_drv_snapshot_join(const struct barge_ep *ep, struct barge_conn *c,
			    const char *token)
{
	if (!ep->drv->snapshot_join || !token)
		return 0;
	return ep->drv->snapshot_join(c, token);
}

/*
 * The leader's snapshot (*token as snapshot_begin's) and the connections
 * that read in it. A driver with snapshot_hold (each connection takes its
 * own snapshot: MySQL) gets them taken while commits are held: conns[i]
 * that are NULL are opened (BARGE_OPEN_READ) and every one is joined
 * before the hold is released, so they agree on a busy server. Without
 * snapshot_hold the connections already open are joined and NULL ones
 * stay NULL: a shared snapshot is joined later, when a worker opens.
 * On failure the caller closes what conns holds, as it would anyway.
 */
int barge_drv_snapshot_group(const struct barge_ep *ep,
			     struct barge_conn *leader, char **token,
			     size_t n, struct barge_conn **conns)
{
	const struct barge_driver *d = ep->drv;
	int can_hold = d->snapshot_hold && d->snapshot_release;
	int held = 0, err;

	*token = NULL;
	if (can_hold) {
		FAULT("snapshot_hold");
		err = d->snapshot_hold(leader);
		if (err == BARGE_ENOTFOUND)
			barge_error_clear(); /* the joins prove what they can */
		else if (err < 0)
			return err;
		else
			held = 1;
	}
	err = barge_drv_snapshot_begin(ep, leader, token);
	for (size_t i = 0; i < n && err == 0 && *token; i++) {
		if (!conns[i] && !can_hold)
			continue;
		if (!conns[i] &&
		    (err = barge_drv_open(ep, &conns[i], BARGE_OPEN_READ)) < 0)
			break;
		err = barge_drv_snapshot_join(ep, conns[i], *token);
	}
	if (held) {
		int rel = d->snapshot_release(leader);
		if (err == 0)
			err = rel;
	}
	return err;
}

int barge_drv_snapshot_end(const struct barge_ep *ep, struct barge_conn *c)
{
	if (!ep->drv->snapshot_end)
		return 0;
	return ep->drv->snapshot_end(c);
}

int barge_drv_list_tables(const struct barge_ep *ep, struct barge_conn *c,
			  char ***names)
{
	*names = NULL;
	SLOT(ep, list_tables);
	return ep->drv->list_tables(c, names);
}

int barge_drv_describe(const struct barge_ep *ep, struct barge_conn *c,
		       const char *table, struct barge_table_def **out)
{
	*out = NULL;
	SLOT(ep, describe);
	return ep->drv->describe(c, table, out);
}

int barge_drv_aggregate(const struct barge_ep *ep, struct barge_conn *c,
			const struct barge_table_def *t, const char *agg,
			int distinct, const char *column, const char *where,
			char **out)
{
	*out = NULL;
	SLOT(ep, aggregate);
	return ep->drv->aggregate(c, t, agg, distinct, column, where, out);
}

int barge_drv_count_rows(const struct barge_ep *ep, struct barge_conn *c,
			 const struct barge_table_def *t, const char *where,
			 int64_t *out)
{
	SLOT(ep, count_rows);
	return ep->drv->count_rows(c, t, where, out);
}

int barge_drv_key_range(const struct barge_ep *ep, struct barge_conn *c,
			const struct barge_table_def *t, int by_rowid,
			int64_t *min, int64_t *max, int64_t *count)
{
	SLOT(ep, key_range);
	return ep->drv->key_range(c, t, by_rowid, min, max, count);
}

int barge_drv_key_after(const struct barge_ep *ep, struct barge_conn *c,
			const struct barge_table_def *t,
			const struct barge_key *from, int64_t skip,
			struct barge_key **out)
{
	*out = NULL;
	SLOT(ep, key_after);
	return ep->drv->key_after(c, t, from, skip, out);
}

int barge_drv_read_open(const struct barge_ep *ep, struct barge_reader **out,
			struct barge_conn *c, const struct barge_read_req *req)
{
	*out = NULL;
	SLOT(ep, read_open);
	FAULT("read_open");
	return ep->drv->read_open(out, c, req);
}

int barge_drv_read_next(const struct barge_ep *ep, struct barge_reader *r,
			struct barge_batch *b)
{
	FAULT("read_next");
	return ep->drv->read_next(r, b);
}

int barge_drv_read_rejects(const struct barge_ep *ep, struct barge_reader *r,
			   struct barge_read_reject **v, size_t *n)
{
	*v = NULL;
	*n = 0;
	return ep->drv->read_rejects ? ep->drv->read_rejects(r, v, n) : 0;
}

int barge_drv_rowid_splits(const struct barge_ep *ep, struct barge_conn *c,
			   const struct barge_table_def *t, int64_t chunk_rows,
			   int jobs, int64_t **bounds, size_t *n, int64_t *rows)
{
	*bounds = NULL;
	*n = 0;
	SLOT(ep, rowid_splits);
	return ep->drv->rowid_splits(c, t, chunk_rows, jobs, bounds, n, rows);
}

void barge_drv_read_close(const struct barge_ep *ep, struct barge_reader *r)
{
	if (r && ep->drv->read_close)
		ep->drv->read_close(r);
}

int barge_drv_create_table(const struct barge_ep *ep, struct barge_conn *c,
			   const struct barge_table_def *t)
{
	SLOT(ep, create_table);
	return ep->drv->create_table(c, t);
}

int barge_drv_begin(const struct barge_ep *ep, struct barge_conn *c)
{
	SLOT(ep, begin);
	FAULT("begin");
	return ep->drv->begin(c);
}

int barge_drv_commit(const struct barge_ep *ep, struct barge_conn *c)
{
	SLOT(ep, commit);
	FAULT("commit");
	return ep->drv->commit(c);
}

int barge_drv_rollback(const struct barge_ep *ep, struct barge_conn *c)
{
	SLOT(ep, rollback);
	return ep->drv->rollback(c);
}

int barge_drv_delete_range(const struct barge_ep *ep, struct barge_conn *c,
			   const struct barge_table_def *t,
			   const struct barge_chunk *chunk)
{
	SLOT(ep, delete_range);
	FAULT("delete_range");
	return ep->drv->delete_range(c, t, chunk);
}

int barge_drv_truncate(const struct barge_ep *ep, struct barge_conn *c,
		       const struct barge_table_def *t)
{
	SLOT(ep, truncate);
	return ep->drv->truncate(c, t);
}

int barge_drv_part_begin(const struct barge_ep *ep, struct barge_conn *c,
			 const struct barge_table_def *t,
			 const struct barge_chunk *chunk)
{
	SLOT(ep, part_begin);
	FAULT("part_begin");
	return ep->drv->part_begin(c, t, chunk);
}

int barge_drv_part_commit(const struct barge_ep *ep, struct barge_conn *c)
{
	SLOT(ep, part_commit);
	FAULT("part_commit");
	return ep->drv->part_commit(c);
}

int barge_drv_part_abort(const struct barge_ep *ep, struct barge_conn *c)
{
	SLOT(ep, part_abort);
	return ep->drv->part_abort(c);
}

int barge_drv_lookup(const struct barge_ep *ep, struct barge_conn *c,
		     const struct barge_lookup *q, const struct barge_batch *b,
		     size_t col, uint8_t *found, struct barge_batch *out)
{
	SLOT(ep, lookup);
	return ep->drv->lookup(c, q, b, col, found, out);
}

int barge_drv_write_open(const struct barge_ep *ep, struct barge_writer **out,
			 struct barge_conn *c, const struct barge_write_req *req)
{
	*out = NULL;
	SLOT(ep, write_open);
	return ep->drv->write_open(out, c, req);
}

int barge_drv_write_batch(const struct barge_ep *ep, struct barge_writer *w,
			  const struct barge_batch *b)
{
	FAULT("write_batch");
	return ep->drv->write_batch(w, b);
}

void barge_drv_write_close(const struct barge_ep *ep, struct barge_writer *w)
{
	if (w && ep->drv->write_close)
		ep->drv->write_close(w);
}

int barge_drv_digest_able(const struct barge_ep *ep, struct barge_conn *c,
			  const struct barge_table_def *t, size_t ncols,
			  const size_t *cols, int native)
{
	if (!ep->drv->digest_able || !ep->drv->digest_range)
		return 0;
	return ep->drv->digest_able(c, t, ncols, cols, native);
}

int barge_drv_digest_range(const struct barge_ep *ep, struct barge_conn *c,
			   const struct barge_table_def *t,
			   const struct barge_chunk *chunk, const char *where,
			   size_t ncols, const size_t *cols, int native,
			   int64_t *count, uint64_t *lo, uint64_t *hi)
{
	SLOT(ep, digest_range);
	FAULT("digest_range");
	return ep->drv->digest_range(c, t, chunk, where, ncols, cols, native,
				     count, lo, hi);
}

int barge_drv_finish_tables(const struct barge_ep *ep, struct barge_conn *c,
			    struct barge_conn *src, size_t n,
			    const struct barge_table_def *const *src_defs,
			    const struct barge_table_def *const *dst_defs,
			    int jobs, unsigned what)
{
	if (!ep->drv->finish_tables || n == 0)
		return 0;
	FAULT("finish_tables");
	return ep->drv->finish_tables(c, src, n, src_defs, dst_defs, jobs, what);
}

int barge_drv_fks_detach(const struct barge_ep *ep, struct barge_conn *c,
			 size_t n, const char *const *tables, const int *emptied,
			 int (*save)(void *arg, const char *sql), void *arg)
{
	if (!ep->drv->fks_detach || n == 0)
		return 0;
	FAULT("fks_detach");
	return ep->drv->fks_detach(c, n, tables, emptied, save, arg);
}

int barge_drv_fks_attach(const struct barge_ep *ep, struct barge_conn *c,
			 const char *sql)
{
	if (!ep->drv->fks_attach)
		return barge_error_set(BARGE_EUSAGE, "the %s driver cannot make "
				       "foreign keys", ep->drv->name);
	FAULT("fks_attach");
	return ep->drv->fks_attach(c, sql);
}

int barge_drv_audit(const struct barge_ep *ep, struct barge_conn *c,
		    struct barge_table_def *t)
{
	if (!ep->drv->audit)
		return 0;
	FAULT("audit");
	return ep->drv->audit(c, t);
}

const struct barge_typemap *barge_drv_typemap(const struct barge_ep *ep,
					      size_t *n)
{
	*n = 0;
	return ep->drv->typemap ? ep->drv->typemap(n) : NULL;
}
