/*
 * The engine's only door to drivers (SQLite's os.c). Each wrapper checks
 * that the driver has the slot and is where tests inject faults:
 *
 *   BARGE_FAULT=OP:KIND:N[:COUNT]   e.g. write_batch:retry:3:2
 *
 * makes the N-th call of OP in the process (1-based) and the COUNT-1 calls
 * after it fail with KIND: retry (BARGE_ERETRY), error (BARGE_ERROR) or
 * data (BARGE_EDATA). Several specs are separated by commas.
 */
#ifndef BARGE_DRV_H
#define BARGE_DRV_H

#include "barge/barge.h"

struct barge_ep {
	const struct barge_driver *drv;
	struct barge_url *url;
};

/* Parse a URL and find its driver (BARGE_EUSAGE when none). */
int barge_ep_init(struct barge_ep *ep, const char *url);
void barge_ep_dispose(struct barge_ep *ep);

int barge_drv_open(const struct barge_ep *ep, struct barge_conn **out,
		   unsigned flags);
void barge_drv_close(const struct barge_ep *ep, struct barge_conn *c);
int barge_drv_snapshot_begin(const struct barge_ep *ep, struct barge_conn *c,
			     char **token);
int barge_drv_snapshot_join(const struct barge_ep *ep, struct barge_conn *c,
			    const char *token);
int barge_drv_snapshot_group(const struct barge_ep *ep,
			     struct barge_conn *leader, char **token,
			     size_t n, struct barge_conn **conns);
int barge_drv_snapshot_end(const struct barge_ep *ep, struct barge_conn *c);
int barge_drv_list_tables(const struct barge_ep *ep, struct barge_conn *c,
			  char ***names);
int barge_drv_describe(const struct barge_ep *ep, struct barge_conn *c,
		       const char *table, struct barge_table_def **out);
int barge_drv_aggregate(const struct barge_ep *ep, struct barge_conn *c,
			const struct barge_table_def *t, const char *agg,
			int distinct, const char *column, const char *where,
			char **out);
int barge_drv_count_rows(const struct barge_ep *ep, struct barge_conn *c,
			 const struct barge_table_def *t, const char *where,
			 int64_t *out);
int barge_drv_key_range(const struct barge_ep *ep, struct barge_conn *c,
			const struct barge_table_def *t, int by_rowid,
			int64_t *min, int64_t *max, int64_t *count);
int barge_drv_key_after(const struct barge_ep *ep, struct barge_conn *c,
			const struct barge_table_def *t,
			const struct barge_key *from, int64_t skip,
			struct barge_key **out);
int barge_drv_read_open(const struct barge_ep *ep, struct barge_reader **out,
			struct barge_conn *c, const struct barge_read_req *req);
int barge_drv_read_next(const struct barge_ep *ep, struct barge_reader *r,
			struct barge_batch *b);
void barge_drv_read_close(const struct barge_ep *ep, struct barge_reader *r);
/* Optional slots: none without them (read_rejects), BARGE_EUSAGE
 * (rowid_splits; callers check the slot first). */
int barge_drv_read_rejects(const struct barge_ep *ep, struct barge_reader *r,
			   struct barge_read_reject **v, size_t *n);
int barge_drv_rowid_splits(const struct barge_ep *ep, struct barge_conn *c,
			   const struct barge_table_def *t, int64_t chunk_rows,
			   int jobs, int64_t **bounds, size_t *n, int64_t *rows);
int barge_drv_create_table(const struct barge_ep *ep, struct barge_conn *c,
			   const struct barge_table_def *t);
int barge_drv_begin(const struct barge_ep *ep, struct barge_conn *c);
int barge_drv_commit(const struct barge_ep *ep, struct barge_conn *c);
int barge_drv_rollback(const struct barge_ep *ep, struct barge_conn *c);
int barge_drv_delete_range(const struct barge_ep *ep, struct barge_conn *c,
			   const struct barge_table_def *t,
			   const struct barge_chunk *chunk);
int barge_drv_truncate(const struct barge_ep *ep, struct barge_conn *c,
		       const struct barge_table_def *t);
/* Parts, for a target without BARGE_CAP_TXN (driver.h). */
int barge_drv_part_begin(const struct barge_ep *ep, struct barge_conn *c,
			 const struct barge_table_def *t,
			 const struct barge_chunk *chunk);
int barge_drv_part_commit(const struct barge_ep *ep, struct barge_conn *c);
int barge_drv_part_abort(const struct barge_ep *ep, struct barge_conn *c);
int barge_drv_write_open(const struct barge_ep *ep, struct barge_writer **out,
			 struct barge_conn *c, const struct barge_write_req *req);
int barge_drv_write_batch(const struct barge_ep *ep, struct barge_writer *w,
			  const struct barge_batch *b);
void barge_drv_write_close(const struct barge_ep *ep, struct barge_writer *w);

/* The verify fast path (driver.h): 0 when the driver has no slot. */
int barge_drv_digest_able(const struct barge_ep *ep, struct barge_conn *c,
			  const struct barge_table_def *t, size_t ncols,
			  const size_t *cols, int native);
int barge_drv_digest_range(const struct barge_ep *ep, struct barge_conn *c,
			   const struct barge_table_def *t,
			   const struct barge_chunk *chunk, const char *where,
			   size_t ncols, const size_t *cols, int native,
			   int64_t *count, uint64_t *lo, uint64_t *hi);
int barge_drv_lookup(const struct barge_ep *ep, struct barge_conn *c,
		     const struct barge_lookup *q, const struct barge_batch *b,
		     size_t col, uint8_t *found, struct barge_batch *out);
/* Optional slot: 0 without doing anything when the driver has none. */
int barge_drv_finish_tables(const struct barge_ep *ep, struct barge_conn *c,
			    struct barge_conn *src, size_t n,
			    const struct barge_table_def *const *src_defs,
			    const struct barge_table_def *const *dst_defs,
			    int jobs, unsigned what);
/* Optional slots (replace/truncate re-runs, driver.h): detach does nothing
 * when the driver has none. */
int barge_drv_fks_detach(const struct barge_ep *ep, struct barge_conn *c,
			 size_t n, const char *const *tables, const int *emptied,
			 int (*save)(void *arg, const char *sql), void *arg);
int barge_drv_fks_attach(const struct barge_ep *ep, struct barge_conn *c,
			 const char *sql);

/* Optional slot (inspect): 0 without doing anything when the driver has
 * none. */
int barge_drv_audit(const struct barge_ep *ep, struct barge_conn *c,
		    struct barge_table_def *t);
/* The driver's type mapping table (static), NULL and *n = 0 when none. */
const struct barge_typemap *barge_drv_typemap(const struct barge_ep *ep,
					      size_t *n);

void barge_names_free(char **names); /* a NULL-terminated name array */

/* ---- The registry (drivers.c) ---- */

/* barge_driver_find on a given NULL-terminated list (tests use a list of
 * made-up drivers). */
int barge_driver_find_in(const struct barge_driver **out,
			 const struct barge_driver *const *list,
			 const char *scheme);
/* The known schemes for a message: "sqlite:, postgresql:, postgres:". */
void barge_driver_schemes(char *buf, size_t size);

#endif
