/*
 * Units (chunks) in the state store (state.h): a table's plan stored in
 * one transaction, claiming the next pending unit or a given one, marking
 * one done (with its digest and rejects, in the same transaction) or
 * failed, and putting a crashed run's units back to pending. Locking:
 * state_int.h; claiming is atomic across processes because every writing
 * transaction begins IMMEDIATE.
 */
#include "state_int.h"

#include "barge/barge.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

#define UNIT_COLUMNS                                                          \
	"id, run, table_name, seq, lo, hi, by_rowid, status, attempts,"      \
	" rows_read, rows_written, rows_rejected, bytes, digest, started,"   \
	" finished, last_error"

static const char *const unit_status_names[] = {
	[BARGE_UNIT_PENDING] = "pending",
	[BARGE_UNIT_RUNNING] = "running",
	[BARGE_UNIT_DONE] = "done",
	[BARGE_UNIT_FAILED] = "failed",
};

const char *barge_unit_status_name(int status)
{
	if (status < 0 || status > BARGE_UNIT_FAILED)
		return "unknown";
	return unit_status_names[status];
}

static int unit_status_parse(const char *s)
{
	for (int i = 0; i <= BARGE_UNIT_FAILED; i++)
		if (s && strcmp(s, unit_status_names[i]) == 0)
			return i;
	/* the CHECK constraint keeps other values out of the table */
	return BARGE_UNIT_FAILED;
}

void barge_unit_free(struct barge_unit *u)
{
	if (!u)
		return;
	free(u->table);
	free(u->lo);
	free(u->hi);
	free(u->digest);
	free(u->last_error);
	free(u);
}

/* Read a row selected with UNIT_COLUMNS into a new unit. */
static int unit_from_row(sqlite3_stmt *s, struct barge_unit **out)
{
	struct barge_unit *u = NULL;
	char *status = NULL;
	int rc;

	*out = NULL;
	u = calloc(1, sizeof *u);
	if (!u)
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	u->id = sqlite3_column_int64(s, 0);
	u->run = sqlite3_column_int64(s, 1);
	if ((rc = state_col_dup(s, 2, &u->table)) < 0)
		goto out;
	u->seq = sqlite3_column_int64(s, 3);
	if ((rc = state_col_dup(s, 4, &u->lo)) < 0 || (rc = state_col_dup(s, 5, &u->hi)) < 0)
		goto out;
	u->by_rowid = sqlite3_column_int(s, 6);
	if ((rc = state_col_dup(s, 7, &status)) < 0)
		goto out;
	u->status = unit_status_parse(status);
	u->attempts = sqlite3_column_int(s, 8);
	u->rows_read = sqlite3_column_int64(s, 9);
	u->rows_written = sqlite3_column_int64(s, 10);
	u->rows_rejected = sqlite3_column_int64(s, 11);
	u->bytes = sqlite3_column_int64(s, 12);
	if ((rc = state_col_dup(s, 13, &u->digest)) < 0)
		goto out;
	u->started = sqlite3_column_double(s, 14);
	u->finished = sqlite3_column_double(s, 15);
	if ((rc = state_col_dup(s, 16, &u->last_error)) < 0)
		goto out;
	*out = u;
	u = NULL;
out:
	free(status);
	barge_unit_free(u);
	return rc;
}

/*
 * The one unit a query selects (UNIT_COLUMNS first) into *out; none is
 * BARGE_ENOTFOUND: the unit's own message when `unit` is given, or else
 * the caller sets it (0 is returned with *out NULL).
 */
static int unit_select(struct barge_state *st, struct barge_unit **out,
		       int64_t unit, const char *sql,
		       const struct state_param *params)
{
	sqlite3_stmt *s = NULL;
	int rc;

	*out = NULL;
	rc = state_row(st, &s, sql, params);
	if (rc > 0)
		rc = unit_from_row(s, out);
	else if (rc == 0 && unit)
		rc = state_no_unit(st, unit);
	sqlite3_finalize(s);
	return rc;
}

static int unit_load(struct barge_state *st, int64_t id, struct barge_unit **out)
{
	return unit_select(st, out, id, "SELECT " UNIT_COLUMNS " FROM units WHERE id = ?",
			   STATE_PARAMS(SP_I(id)));
}

/* Is there a row for the query? 1 yes, 0 no, negative on failure. */
static int row_exists(struct barge_state *st, const char *sql,
		      const struct state_param *params)
{
	sqlite3_stmt *s = NULL;
	int rc = state_row(st, &s, sql, params);

	sqlite3_finalize(s);
	return rc;
}

struct units_arg {
	int64_t run;
	const char *table;
	size_t n;
	const struct barge_unit_plan *units;
	int planned;
};

static int is_planned(struct barge_state *st, int64_t run, const char *table,
		      int *planned)
{
	int rc = row_exists(st, "SELECT 1 FROM planned WHERE run = ? AND table_name = ?",
			    STATE_PARAMS(SP_I(run), SP_T(table)));
	if (rc < 0)
		return rc;
	*planned = rc;
	return 0;
}

static int units_add_fn(struct barge_state *st, void *varg)
{
	struct units_arg *a = varg;
	sqlite3_stmt *s = NULL;
	int rc, planned = 0;

	if ((rc = row_exists(st, "SELECT 1 FROM runs WHERE id = ?",
			     STATE_PARAMS(SP_I(a->run)))) <= 0) {
		if (rc == 0)
			rc = state_no_run(st, a->run);
		goto out;
	}
	if ((rc = is_planned(st, a->run, a->table, &planned)) < 0)
		goto out;
	if (planned) {
		rc = barge_error_set(BARGE_EUSAGE, "table '%s' is already planned in run %lld",
				     a->table, (long long)a->run);
		goto out;
	}
	if ((rc = state_run(st, "INSERT INTO planned(run, table_name, ord) VALUES (?1, ?2,"
				" (SELECT coalesce(max(ord), -1) + 1 FROM planned WHERE run = ?1))",
			    STATE_PARAMS(SP_I(a->run), SP_T(a->table)))) < 0)
		goto out;

	if ((rc = state_prep(st, &s, "INSERT INTO units(run, table_name, seq, lo, hi, by_rowid)"
				     " VALUES (?, ?, ?, ?, ?, ?)", NULL)) < 0)
		goto out;
	for (size_t i = 0; i < a->n; i++) {
		if ((rc = state_step_with(st, s, STATE_PARAMS(SP_I(a->run), SP_T(a->table),
							      SP_I(i), SP_T(a->units[i].lo),
							      SP_T(a->units[i].hi),
							      SP_I(a->units[i].by_rowid ? 1 : 0)))) < 0)
			goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(s);
	return rc;
}

int barge_state_units_add(struct barge_state *st, int64_t run,
			  const char *table, size_t n,
			  const struct barge_unit_plan *units)
{
	struct units_arg a = {.run = run, .table = table, .n = n, .units = units};

	if (!table || (n > 0 && !units))
		return barge_error_set(BARGE_EUSAGE, "units_add needs a table and its units");
	return state_tx(st, TX_WRITE, units_add_fn, &a);
}

static int table_planned_fn(struct barge_state *st, void *varg)
{
	struct units_arg *a = varg;
	return is_planned(st, a->run, a->table, &a->planned);
}

int barge_state_table_planned(struct barge_state *st, int64_t run,
			      const char *table, int *planned)
{
	struct units_arg a = {.run = run, .table = table};
	int rc;

	*planned = 0;
	if (!table)
		return barge_error_set(BARGE_EUSAGE, "table_planned needs a table");
	if ((rc = state_tx(st, TX_READ, table_planned_fn, &a)) < 0)
		return rc;
	*planned = a.planned;
	return 0;
}

struct claim_arg {
	int64_t run;
	int64_t unit; /* claim_id / unit_get / by_seq result */
	int64_t seq;
	const char *table;
	const struct barge_unit_result *res;
	const char *error;
	int retry;
	int failed_too;
	struct barge_unit *out;
};

/* An UPDATE of unit a->unit: 0, or ENOTFOUND when it touched no row. */
static int unit_update(struct barge_state *st, int64_t unit, const char *sql,
		       const struct state_param *params)
{
	int rc = state_run(st, sql, params);

	if (rc == 0)
		return state_no_unit(st, unit);
	return rc < 0 ? rc : 0;
}

/* Mark unit a->unit running as one more attempt and load it. */
static int claim_unit_fn(struct barge_state *st, void *varg)
{
	struct claim_arg *a = varg;
	int rc;

	barge_unit_free(a->out);
	a->out = NULL;
	if ((rc = unit_update(st, a->unit, "UPDATE units SET status = 'running',"
					   " attempts = attempts + 1, started = ?, finished = NULL"
					   " WHERE id = ?",
			      STATE_PARAMS(SP_D(barge_now()), SP_I(a->unit)))) < 0)
		return rc;
	return unit_load(st, a->unit, &a->out);
}

/*
 * `table` may name one table or, comma-separated, several (the way
 * runs.tables lists them); an exact match comes first so a name that
 * itself holds a comma still works.
 */
static int claim_fn(struct barge_state *st, void *varg)
{
	struct claim_arg *a = varg;
	sqlite3_stmt *s = NULL;
	int rc;

	rc = a->table
		? state_row(st, &s, "SELECT id FROM units WHERE run = ?1 AND status = 'pending'"
				    " AND (table_name = ?2 OR instr(',' || ?2 || ',',"
				    " ',' || table_name || ',') > 0) ORDER BY id LIMIT 1",
			    STATE_PARAMS(SP_I(a->run), SP_T(a->table)))
		: state_row(st, &s, "SELECT id FROM units WHERE run = ?1 AND status = 'pending'"
				    " ORDER BY id LIMIT 1",
			    STATE_PARAMS(SP_I(a->run)));
	if (rc == 0)
		rc = barge_error_set(BARGE_ENOTFOUND, "no pending unit in run %lld%s%s",
				     (long long)a->run, a->table ? " for " : "",
				     a->table ? a->table : "");
	if (rc > 0)
		a->unit = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return rc < 0 ? rc : claim_unit_fn(st, a);
}

/* Run a unit-returning fn and hand its unit to *out. */
static int unit_tx(struct barge_state *st, enum tx_mode mode, tx_fn fn,
		   struct claim_arg *a, struct barge_unit **out)
{
	int rc;

	*out = NULL;
	if ((rc = state_tx(st, mode, fn, a)) < 0) {
		barge_unit_free(a->out);
		return rc;
	}
	*out = a->out;
	return 0;
}

int barge_state_claim(struct barge_state *st, int64_t run, const char *table,
		      struct barge_unit **out)
{
	struct claim_arg a = {.run = run, .table = table};
	return unit_tx(st, TX_WRITE, claim_fn, &a, out);
}

int barge_state_claim_id(struct barge_state *st, int64_t unit,
			 struct barge_unit **out)
{
	struct claim_arg a = {.unit = unit};
	return unit_tx(st, TX_WRITE, claim_unit_fn, &a, out);
}

static int unit_get_fn(struct barge_state *st, void *varg)
{
	struct claim_arg *a = varg;
	barge_unit_free(a->out);
	return unit_load(st, a->unit, &a->out);
}

int barge_state_unit_get(struct barge_state *st, int64_t unit,
			 struct barge_unit **out)
{
	struct claim_arg a = {.unit = unit};
	return unit_tx(st, TX_READ, unit_get_fn, &a, out);
}

static int unit_by_seq_fn(struct barge_state *st, void *varg)
{
	struct claim_arg *a = varg;
	int rc;

	barge_unit_free(a->out);
	rc = unit_select(st, &a->out, 0, "SELECT " UNIT_COLUMNS " FROM units"
					 " WHERE run = ? AND table_name = ? AND seq = ?",
			 STATE_PARAMS(SP_I(a->run), SP_T(a->table), SP_I(a->seq)));
	if (rc == 0 && !a->out)
		rc = barge_error_set(BARGE_ENOTFOUND, "no chunk %lld of table '%s' in run %lld",
				     (long long)a->seq, a->table, (long long)a->run);
	return rc;
}

int barge_state_unit_by_seq(struct barge_state *st, int64_t run,
			    const char *table, int64_t seq,
			    struct barge_unit **out)
{
	struct claim_arg a = {.run = run, .table = table, .seq = seq};

	if (!table) {
		*out = NULL;
		return barge_error_set(BARGE_EUSAGE, "unit_by_seq needs a table");
	}
	return unit_tx(st, TX_READ, unit_by_seq_fn, &a, out);
}

static int unit_done_fn(struct barge_state *st, void *varg)
{
	struct claim_arg *a = varg;
	const struct barge_unit_result *res = a->res;
	sqlite3_stmt *s = NULL;
	int rc;

	if ((rc = unit_update(st, a->unit, "UPDATE units SET status = 'done', rows_read = ?,"
					   " rows_written = ?, rows_rejected = ?, bytes = ?,"
					   " digest = ?, finished = ? WHERE id = ?",
			      STATE_PARAMS(SP_I(res->rows_read), SP_I(res->rows_written),
					   SP_I(res->rows_rejected), SP_I(res->bytes),
					   SP_T(res->digest), SP_D(barge_now()),
					   SP_I(a->unit)))) < 0)
		return rc;
	/* a re-run chunk's rejects replace those of its earlier attempts */
	if ((rc = state_run(st, "DELETE FROM rejects WHERE unit = ?",
			    STATE_PARAMS(SP_I(a->unit)))) < 0 || res->nrejects == 0)
		return rc < 0 ? rc : 0;
	if ((rc = state_prep(st, &s, "INSERT INTO rejects(run, unit, table_name, source_key,"
				     " row_json, rule, message, at) SELECT run, id, table_name,"
				     " ?, ?, ?, ?, ? FROM units WHERE id = ?", NULL)) < 0)
		goto out;
	for (size_t i = 0; i < res->nrejects; i++) {
		const struct barge_reject *r = &res->rejects[i];
		if ((rc = state_step_with(st, s, STATE_PARAMS(SP_T(r->key), SP_T(r->row),
							      SP_T(r->rule), SP_T(r->message),
							      SP_D(barge_now()), SP_I(a->unit)))) < 0)
			goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(s);
	return rc;
}

int barge_state_unit_done(struct barge_state *st, int64_t unit,
			  const struct barge_unit_result *res)
{
	static const struct barge_unit_result none = {0};
	struct claim_arg a = {.unit = unit, .res = res ? res : &none};
	return state_tx(st, TX_WRITE, unit_done_fn, &a);
}

static int unit_failed_fn(struct barge_state *st, void *varg)
{
	struct claim_arg *a = varg;

	/* ?2 is left unused when the unit goes back to pending */
	return unit_update(st, a->unit,
			   a->retry ? "UPDATE units SET status = 'pending', last_error = ?1,"
				      " finished = NULL WHERE id = ?3"
				    : "UPDATE units SET status = 'failed', last_error = ?1,"
				      " finished = ?2 WHERE id = ?3",
			   STATE_PARAMS(SP_T(a->error ? a->error : "unknown error"),
					SP_D(barge_now()), SP_I(a->unit)));
}

int barge_state_unit_failed(struct barge_state *st, int64_t unit,
			    const char *error, int retry)
{
	struct claim_arg a = {.unit = unit, .error = error, .retry = retry};
	return state_tx(st, TX_WRITE, unit_failed_fn, &a);
}

static int units_reset_fn(struct barge_state *st, void *varg)
{
	struct claim_arg *a = varg;
	int rc;

	rc = state_run(st, "UPDATE units SET status = 'pending', finished = NULL"
			   " WHERE run = ?1 AND (status = 'running'"
			   " OR (?2 AND status = 'failed'))",
		       STATE_PARAMS(SP_I(a->run), SP_I(a->failed_too ? 1 : 0)));
	return rc < 0 ? rc : 0;
}

int barge_state_units_reset(struct barge_state *st, int64_t run,
			    int failed_too)
{
	struct claim_arg a = {.run = run, .failed_too = failed_too};
	return state_tx(st, TX_WRITE, units_reset_fn, &a);
}
