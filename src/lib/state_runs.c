/*
 * Runs in the state store (state.h): creating one, reading one by id, the
 * newest, or the newest whole copy (the run `barge run` resumes), its
 * status, and its flags (e.g. "truncated:orders"). Locking: state_int.h.
 */
#include "state_int.h"

#include "barge/barge.h"
#include "util.h"

#include <stdlib.h>
#include <unistd.h>

void barge_run_free(struct barge_run *r)
{
	if (!r)
		return;
	free(r->source);
	free(r->target);
	free(r->tables);
	free(r->config);
	free(r->status);
	free(r);
}

struct run_arg {
	int64_t id;
	int main_run; /* run_get_fn: the newest whole-copy run */
	const char *source, *target, *tables, *config, *status;
	struct barge_run *out;
};

static int run_create_fn(struct barge_state *st, void *varg)
{
	struct run_arg *a = varg;
	int rc;

	rc = state_run(st, "INSERT INTO runs(source, target, tables, config,"
			   " status, started, pid) VALUES (?, ?, ?, ?, 'running', ?, ?)",
		       STATE_PARAMS(SP_T(a->source), SP_T(a->target),
				    SP_T(a->tables ? a->tables : ""),
				    SP_T(a->config ? a->config : "{}"),
				    SP_D(barge_now()), SP_I(getpid())));
	if (rc < 0)
		return rc;
	a->id = sqlite3_last_insert_rowid(st->db);
	return 0;
}

int barge_state_run_create(struct barge_state *st, const char *source,
			   const char *target, const char *tables,
			   const char *config, int64_t *id)
{
	struct run_arg a = {.source = source, .target = target,
			    .tables = tables, .config = config};
	int rc;

	if (!source || !target)
		return barge_error_set(BARGE_EUSAGE, "a run needs a source and a target");
	if ((rc = state_tx(st, TX_WRITE, run_create_fn, &a)) < 0)
		return rc;
	*id = a.id;
	return 0;
}

/*
 * A run's kind is the "kind" member of its config (engine.c writes
 * {"kind":"copy"|"row",...}), read as JSON by SQLite, not searched for
 * in the text (CASE: json_extract fails on text that is not JSON). A
 * config that is missing, not JSON or without a kind is a whole copy's.
 */
#define RUN_IS_MAIN                                                        \
	"CASE WHEN json_valid(config) THEN json_extract(config, '$.kind')" \
	" END IS NOT 'row'"
#define RUN_COLUMNS \
	"SELECT id, source, target, tables, config, status, started, finished, pid FROM runs"

/* id = 0: the newest run; with main_run, the newest whole-copy run. */
static int run_get_fn(struct barge_state *st, void *varg)
{
	struct run_arg *a = varg;
	struct barge_run *r = NULL;
	sqlite3_stmt *s = NULL;
	const char *sql;
	int rc;

	barge_run_free(a->out);
	a->out = NULL;
	sql = a->id ? RUN_COLUMNS " WHERE id = ?"
	      : a->main_run ? RUN_COLUMNS " WHERE " RUN_IS_MAIN " ORDER BY id DESC LIMIT 1"
	      : RUN_COLUMNS " ORDER BY id DESC LIMIT 1";
	if ((rc = state_row(st, &s, sql, a->id ? STATE_PARAMS(SP_I(a->id)) : NULL)) < 0)
		goto out;
	if (rc == 0) {
		rc = a->id ? state_no_run(st, a->id)
			   : barge_error_set(BARGE_ENOTFOUND, "no run in state file '%s'",
					     st->path);
		goto out;
	}
	r = calloc(1, sizeof *r);
	if (!r) {
		rc = barge_error_set(BARGE_ENOMEM, "out of memory");
		goto out;
	}
	r->id = sqlite3_column_int64(s, 0);
	if ((rc = state_col_dup(s, 1, &r->source)) < 0 ||
	    (rc = state_col_dup(s, 2, &r->target)) < 0 ||
	    (rc = state_col_dup(s, 3, &r->tables)) < 0 ||
	    (rc = state_col_dup(s, 4, &r->config)) < 0 ||
	    (rc = state_col_dup(s, 5, &r->status)) < 0)
		goto out;
	r->started = sqlite3_column_double(s, 6);
	r->finished = sqlite3_column_double(s, 7);
	r->pid = sqlite3_column_int(s, 8);
	a->out = r;
	r = NULL;
	rc = 0;
out:
	barge_run_free(r);
	sqlite3_finalize(s);
	return rc;
}

/* Read the run a describes into *out (NULL on failure). */
static int run_tx(struct barge_state *st, struct run_arg *a,
		  struct barge_run **out)
{
	int rc;

	*out = NULL;
	if ((rc = state_tx(st, TX_READ, run_get_fn, a)) < 0) {
		barge_run_free(a->out);
		return rc;
	}
	*out = a->out;
	return 0;
}

int barge_state_run_latest(struct barge_state *st, struct barge_run **out)
{
	struct run_arg a = {.id = 0};
	return run_tx(st, &a, out);
}

int barge_state_run_get(struct barge_state *st, int64_t id,
			struct barge_run **out)
{
	struct run_arg a = {.id = id};

	if (id <= 0) {
		*out = NULL;
		return state_no_run(st, id);
	}
	return run_tx(st, &a, out);
}

/* The newest whole-copy run (state.h); none is not an error. */
int barge_state_run_main(struct barge_state *st, struct barge_run **out)
{
	struct run_arg a = {.main_run = 1};
	int rc = run_tx(st, &a, out);

	if (rc == BARGE_ENOTFOUND) {
		barge_error_clear();
		return 0;
	}
	return rc;
}

static int run_status_fn(struct barge_state *st, void *varg)
{
	struct run_arg *a = varg;
	int rc;

	rc = state_run(st, "UPDATE runs SET status = ?1, pid = ?2,"
			   " finished = CASE WHEN ?1 = 'running' THEN NULL ELSE ?3 END"
			   " WHERE id = ?4",
		       STATE_PARAMS(SP_T(a->status), SP_I(getpid()),
				    SP_D(barge_now()), SP_I(a->id)));
	if (rc == 0)
		return state_no_run(st, a->id);
	return rc < 0 ? rc : 0;
}

int barge_state_run_set_status(struct barge_state *st, int64_t id,
			       const char *status)
{
	struct run_arg a = {.id = id, .status = status};

	if (!status || !*status)
		return barge_error_set(BARGE_EUSAGE, "a run status cannot be empty");
	return state_tx(st, TX_WRITE, run_status_fn, &a);
}

/* ---- Flags ----------------------------------------------------------------- */

struct flag_arg {
	int64_t run;
	const char *key, *value;
	char *out;
};

static int flag_set_fn(struct barge_state *st, void *varg)
{
	struct flag_arg *a = varg;
	int rc;

	rc = state_run(st, "INSERT INTO flags(run, key, value) VALUES (?, ?, ?)"
			   " ON CONFLICT (run, key) DO UPDATE SET value = excluded.value",
		       STATE_PARAMS(SP_I(a->run), SP_T(a->key), SP_T(a->value)));
	if (rc < 0 && sqlite3_extended_errcode(st->db) == SQLITE_CONSTRAINT_FOREIGNKEY)
		return state_no_run(st, a->run);
	return rc < 0 ? rc : 0;
}

int barge_state_flag_set(struct barge_state *st, int64_t run,
			 const char *key, const char *value)
{
	struct flag_arg a = {.run = run, .key = key, .value = value ? value : ""};

	if (!key)
		return barge_error_set(BARGE_EUSAGE, "a flag needs a key");
	return state_tx(st, TX_WRITE, flag_set_fn, &a);
}

static int flag_get_fn(struct barge_state *st, void *varg)
{
	struct flag_arg *a = varg;
	sqlite3_stmt *s = NULL;
	int rc;

	free(a->out);
	a->out = NULL;
	rc = state_row(st, &s, "SELECT coalesce(value, '') FROM flags WHERE run = ? AND key = ?",
		       STATE_PARAMS(SP_I(a->run), SP_T(a->key)));
	if (rc == 0)
		rc = barge_error_set(BARGE_ENOTFOUND, "flag '%s' is not set in run %lld",
				     a->key, (long long)a->run);
	else if (rc > 0)
		rc = state_col_dup(s, 0, &a->out);
	sqlite3_finalize(s);
	return rc;
}

int barge_state_flag_get(struct barge_state *st, int64_t run,
			 const char *key, char **value)
{
	struct flag_arg a = {.run = run, .key = key};
	int rc;

	*value = NULL;
	if (!key)
		return barge_error_set(BARGE_EUSAGE, "a flag needs a key");
	if ((rc = state_tx(st, TX_READ, flag_get_fn, &a)) < 0) {
		free(a.out);
		return rc;
	}
	*value = a.out;
	return 0;
}
