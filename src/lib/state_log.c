/*
 * What a run leaves in the state store for people to read (state.h): the
 * migration log, the stored rejects (`barge rejects`), per-table progress
 * (`barge status`) and the results of `barge verify`. Locking: state_int.h.
 */
#include "state_int.h"

#include "barge/barge.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

/* ---- The migration log ----------------------------------------------------- */

struct log_arg {
	int64_t run, unit;
	const char *event, *message;
};

static int log_fn(struct barge_state *st, void *varg)
{
	struct log_arg *a = varg;
	int rc;

	/* unit 0 is a run-level line: NULL */
	rc = state_run(st, "INSERT INTO log(run, unit, at, event, message)"
			   " VALUES (?, nullif(?, 0), ?, ?, ?)",
		       STATE_PARAMS(SP_I(a->run), SP_I(a->unit), SP_D(barge_now()),
				    SP_T(a->event), SP_T(a->message)));
	if (rc < 0 && sqlite3_extended_errcode(st->db) == SQLITE_CONSTRAINT_FOREIGNKEY)
		rc = barge_error_set(BARGE_ENOTFOUND, "log: no run %lld or unit %lld in state file '%s'",
				     (long long)a->run, (long long)a->unit, st->path);
	return rc < 0 ? rc : 0;
}

int barge_state_log(struct barge_state *st, int64_t run, int64_t unit,
		    const char *event, const char *message)
{
	struct log_arg a = {.run = run, .unit = unit, .event = event, .message = message};

	if (!event)
		return barge_error_set(BARGE_EUSAGE, "a log line needs an event");
	return state_tx(st, TX_WRITE, log_fn, &a);
}

/* ---- Progress -------------------------------------------------------------- */

void barge_table_progress_free(struct barge_table_progress *p, size_t n)
{
	if (!p)
		return;
	for (size_t i = 0; i < n; i++) {
		free(p[i].table);
		free(p[i].last_error);
	}
	free(p);
}

struct progress_arg {
	int64_t run;
	struct barge_table_progress *out;
	size_t n;
};

/*
 * Rows and bytes count done units only: a unit re-claimed after it was
 * done keeps its old figures until it is done again, and a failed attempt
 * records none.
 */
static int progress_fn(struct barge_state *st, void *varg)
{
	struct progress_arg *a = varg;
	struct barge_table_progress *p = NULL, *grown;
	size_t n = 0, alloc = 0;
	sqlite3_stmt *s = NULL;
	int rc;

	barge_table_progress_free(a->out, a->n);
	a->out = NULL;
	a->n = 0;
	if ((rc = state_prep(st, &s,
		       "SELECT p.table_name, count(u.id),"
		       " coalesce(sum(u.status = 'done'), 0),"
		       " coalesce(sum(u.status = 'failed'), 0),"
		       " coalesce(sum(u.status = 'running'), 0),"
		       " coalesce(sum(CASE WHEN u.status = 'done' THEN u.rows_read END), 0),"
		       " coalesce(sum(CASE WHEN u.status = 'done' THEN u.rows_written END), 0),"
		       " coalesce(sum(CASE WHEN u.status = 'done' THEN u.rows_rejected END), 0),"
		       " coalesce(sum(CASE WHEN u.status = 'done' THEN u.bytes END), 0),"
		       " coalesce(sum(CASE WHEN u.status = 'done' THEN u.finished - u.started END), 0),"
		       " coalesce(min(u.started), 0),"
		       " coalesce(max(u.finished), 0),"
		       " (SELECT f.last_error FROM units f WHERE f.run = p.run"
		       "   AND f.table_name = p.table_name AND f.status = 'failed'"
		       "   ORDER BY f.finished DESC, f.id DESC LIMIT 1)"
		       " FROM planned p LEFT JOIN units u"
		       "  ON u.run = p.run AND u.table_name = p.table_name"
		       " WHERE p.run = ? GROUP BY p.ord, p.table_name ORDER BY p.ord",
		       STATE_PARAMS(SP_I(a->run)))) < 0)
		goto out;
	while ((rc = state_step(st, s)) == 1) {
		if (!(grown = barge_grow(p, &alloc, n, sizeof *p, 8))) {
			rc = BARGE_ENOMEM;
			goto out;
		}
		p = grown;
		struct barge_table_progress *t = &p[n++];
		memset(t, 0, sizeof *t);
		if ((rc = state_col_dup(s, 0, &t->table)) < 0)
			goto out;
		t->chunks = sqlite3_column_int64(s, 1);
		t->chunks_done = sqlite3_column_int64(s, 2);
		t->chunks_failed = sqlite3_column_int64(s, 3);
		t->chunks_running = sqlite3_column_int64(s, 4);
		t->rows_read = sqlite3_column_int64(s, 5);
		t->rows_written = sqlite3_column_int64(s, 6);
		t->rows_rejected = sqlite3_column_int64(s, 7);
		t->bytes = sqlite3_column_int64(s, 8);
		t->seconds = sqlite3_column_double(s, 9);
		t->first_start = sqlite3_column_double(s, 10);
		t->last_end = sqlite3_column_double(s, 11);
		if ((rc = state_col_dup(s, 12, &t->last_error)) < 0)
			goto out;
	}
	if (rc < 0)
		goto out;
	a->out = p;
	a->n = n;
	p = NULL;
	rc = 0;
out:
	barge_table_progress_free(p, n);
	sqlite3_finalize(s);
	return rc;
}

int barge_state_progress(struct barge_state *st, int64_t run,
			 struct barge_table_progress **out, size_t *n)
{
	struct progress_arg a = {.run = run};
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = state_tx(st, TX_READ, progress_fn, &a)) < 0) {
		barge_table_progress_free(a.out, a.n);
		return rc;
	}
	*out = a.out;
	*n = a.n;
	return 0;
}

/* ---- Verify results ---------------------------------------------------------- */

static int verify_add_fn(struct barge_state *st, void *varg)
{
	const struct barge_verify_record *r = varg;
	int rc;

	rc = state_run(st, "INSERT INTO verify_results(at, source, target,"
			   " table_name, against_state, equal, source_rows,"
			   " target_rows, chunks, missing, extra, changed, seconds,"
			   " report) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
		       STATE_PARAMS(SP_D(barge_now()), SP_T(r->source), SP_T(r->target),
				    SP_T(r->table), SP_I(r->against_state), SP_I(r->equal),
				    SP_I(r->source_rows), SP_I(r->target_rows),
				    SP_I(r->chunks), SP_I(r->missing), SP_I(r->extra),
				    SP_I(r->changed), SP_D(r->seconds), SP_T(r->report)));
	return rc < 0 ? rc : 0;
}

int barge_state_verify_add(struct barge_state *st,
			   const struct barge_verify_record *r)
{
	return state_tx(st, TX_WRITE, verify_add_fn, (void *)r);
}

/* ---- Rejects --------------------------------------------------------------- */

void barge_reject_row_dispose(struct barge_reject_row *r)
{
	free(r->table);
	free(r->key);
	free(r->row);
	free(r->rule);
	free(r->message);
	memset(r, 0, sizeof *r);
}

struct rejects_arg {
	int64_t run;
	const char *table;
	int (*fn)(const struct barge_reject_row *r, void *arg);
	void *arg;
};

static int rejects_fn(struct barge_state *st, void *varg)
{
	struct rejects_arg *a = varg;
	sqlite3_stmt *s = NULL;
	struct barge_reject_row r;
	int rc;

	memset(&r, 0, sizeof r);
	if ((rc = state_prep(st, &s, "SELECT id, run, unit, table_name, source_key, row_json,"
				     " rule, message, at FROM rejects WHERE run = CASE WHEN"
				     " ?1 > 0 THEN ?1 ELSE (SELECT max(id) FROM runs) END"
				     " AND (?2 IS NULL OR table_name = ?2) ORDER BY id",
			     STATE_PARAMS(SP_I(a->run), SP_T(a->table)))) < 0)
		return rc;
	while ((rc = state_step(st, s)) == 1) {
		r.id = sqlite3_column_int64(s, 0);
		r.run = sqlite3_column_int64(s, 1);
		r.unit = sqlite3_column_int64(s, 2);
		r.at = sqlite3_column_double(s, 8);
		if ((rc = state_col_dup(s, 3, &r.table)) < 0 ||
		    (rc = state_col_dup(s, 4, &r.key)) < 0 ||
		    (rc = state_col_dup(s, 5, &r.row)) < 0 ||
		    (rc = state_col_dup(s, 6, &r.rule)) < 0 ||
		    (rc = state_col_dup(s, 7, &r.message)) < 0)
			break;
		rc = a->fn(&r, a->arg);
		barge_reject_row_dispose(&r);
		if (rc)
			break;
	}
	barge_reject_row_dispose(&r);
	sqlite3_finalize(s);
	return rc;
}

int barge_state_rejects(struct barge_state *st, int64_t run, const char *table,
			int (*fn)(const struct barge_reject_row *r, void *arg),
			void *arg)
{
	struct rejects_arg a = {.run = run, .table = table, .fn = fn, .arg = arg};
	return state_tx(st, TX_READ, rejects_fn, &a);
}

