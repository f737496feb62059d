#include "barge/barge.h"
#include "harness.h"
#include "state.h"
#include "util.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

/* A second, plain SQLite connection to look at the file the way a user
 * with sqlite3 would, independently of the code under test. */
static int64_t raw_int(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	int64_t v = -999;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	else
		fprintf(stderr, "raw_int(%s): %s\n", sql, db ? sqlite3_errmsg(db) : "?");
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

static char *raw_text(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	char *v = NULL;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
		v = strdup((const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

static int raw_exec(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		fprintf(stderr, "raw_exec(%s): %s\n", sql, db ? sqlite3_errmsg(db) : "?");
	sqlite3_close(db);
	return rc;
}

static int file_exists(const char *path)
{
	struct stat sb;
	return stat(path, &sb) == 0;
}

static void test_open(void)
{
	char path[1024], other[1024];
	struct barge_state *st = NULL;

	harness_path(path, sizeof path, "state_open.db");
	CHECK(barge_state_open(&st, path, 0) == BARGE_ENOTFOUND);
	CHECK(st == NULL);
	CHECK(strstr(barge_error_last(), "no state file") != NULL);
	CHECK(!file_exists(path));

	CHECK_OK(barge_state_open(&st, path, 1));
	CHECK(st != NULL);
	barge_state_close(st);
	st = NULL;
	CHECK(file_exists(path));
	CHECK(raw_int(path, "PRAGMA user_version") == 3);
	char *mode = raw_text(path, "PRAGMA journal_mode");
	CHECK_STR(mode, "wal");
	free(mode);
	CHECK(raw_int(path, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN"
			    " ('runs','units','planned','log','flags','rejects','audit','verify_results')") == 8);

	/* reopening without create, and with create again, keeps the file */
	CHECK_OK(barge_state_open(&st, path, 0));
	barge_state_close(st);
	st = NULL;
	CHECK_OK(barge_state_open(&st, path, 1));
	barge_state_close(st);
	st = NULL;
	barge_state_close(NULL);

	/* a store written by a newer barge is refused */
	CHECK(raw_exec(path, "PRAGMA user_version = 99") == SQLITE_OK);
	CHECK(barge_state_open(&st, path, 1) == BARGE_EUSAGE);
	CHECK(st == NULL);
	CHECK(strstr(barge_error_last(), "newer") != NULL);

	/* somebody else's database is refused and left as it was */
	harness_path(other, sizeof other, "state_foreign.db");
	CHECK(raw_exec(other, "CREATE TABLE customers(id INTEGER PRIMARY KEY)") == SQLITE_OK);
	CHECK(barge_state_open(&st, other, 1) == BARGE_EUSAGE);
	CHECK(st == NULL);
	mode = raw_text(other, "PRAGMA journal_mode");
	CHECK_STR(mode, "delete");
	free(mode);
	CHECK(raw_int(other, "SELECT count(*) FROM sqlite_master") == 1);
}

static void test_runs_and_flags(void)
{
	char path[1024];
	struct barge_state *st = NULL;
	struct barge_run *r = NULL;
	int64_t id1 = 0, id2 = 0;
	char *v = NULL;

	harness_path(path, sizeof path, "state_runs.db");
	CHECK_OK(barge_state_open(&st, path, 1));
	if (!st)
		return;
	CHECK(barge_state_run_latest(st, &r) == BARGE_ENOTFOUND);
	CHECK(r == NULL);

	double t0 = barge_now();
	CHECK_OK(barge_state_run_create(st, "sqlite:///a.db", "postgresql://u@h/d",
					"customers,orders", "{\"chunk\":1000}", &id1));
	CHECK_OK(barge_state_run_create(st, "sqlite:///b.db", "sqlite:///c.db", NULL, NULL, &id2));
	CHECK(id1 > 0 && id2 > id1);

	CHECK_OK(barge_state_run_latest(st, &r));
	CHECK(r && r->id == id2);
	CHECK(r && r->tables && r->tables[0] == '\0');
	barge_run_free(r);
	r = NULL;

	CHECK_OK(barge_state_run_get(st, id1, &r));
	if (r) {
		CHECK(r->id == id1);
		CHECK_STR(r->source, "sqlite:///a.db");
		CHECK_STR(r->target, "postgresql://u@h/d");
		CHECK_STR(r->tables, "customers,orders");
		CHECK_STR(r->config, "{\"chunk\":1000}");
		CHECK_STR(r->status, "running");
		CHECK(r->started >= t0 - 1 && r->started <= barge_now() + 1);
		CHECK(r->finished == 0);
		CHECK(r->pid == (int)getpid());
	}
	barge_run_free(r);
	r = NULL;
	CHECK(barge_state_run_get(st, id2 + 100, &r) == BARGE_ENOTFOUND);
	CHECK(r == NULL);

	/* pretend another process ran it before: set_status records us */
	CHECK(raw_exec(path, "UPDATE runs SET pid = 1") == SQLITE_OK);
	CHECK_OK(barge_state_run_set_status(st, id1, "failed"));
	CHECK_OK(barge_state_run_get(st, id1, &r));
	CHECK(r && strcmp(r->status, "failed") == 0 && r->finished >= t0 - 1 &&
	      r->pid == (int)getpid());
	barge_run_free(r);
	r = NULL;
	CHECK_OK(barge_state_run_set_status(st, id1, "running"));
	CHECK_OK(barge_state_run_get(st, id1, &r));
	CHECK(r && strcmp(r->status, "running") == 0 && r->finished == 0);
	barge_run_free(r);
	r = NULL;
	CHECK(barge_state_run_set_status(st, id2 + 100, "done") == BARGE_ENOTFOUND);

	/* flags */
	CHECK(barge_state_flag_get(st, id1, "truncated:orders", &v) == BARGE_ENOTFOUND);
	CHECK(v == NULL);
	CHECK_OK(barge_state_flag_set(st, id1, "truncated:orders", "1"));
	CHECK_OK(barge_state_flag_get(st, id1, "truncated:orders", &v));
	CHECK_STR(v, "1");
	free(v);
	v = NULL;
	CHECK_OK(barge_state_flag_set(st, id1, "truncated:orders", "it's 'quoted'; --"));
	CHECK_OK(barge_state_flag_get(st, id1, "truncated:orders", &v));
	CHECK_STR(v, "it's 'quoted'; --");
	free(v);
	v = NULL;
	/* flags belong to their run */
	CHECK(barge_state_flag_get(st, id2, "truncated:orders", &v) == BARGE_ENOTFOUND);
	CHECK(barge_state_flag_set(st, id2 + 100, "k", "v") == BARGE_ENOTFOUND);
	CHECK(raw_int(path, "SELECT count(*) FROM flags") == 1);

	barge_state_close(st);
}

static const struct barge_unit_plan plan_a[] = {
	{NULL, "[100]", 0},
	{"[100]", "[200]", 0},
	{"[200]", NULL, 0},
};
static const struct barge_unit_plan plan_b[] = {
	{NULL, "[\"m\",5]", 0},
	{"[\"m\",5]", NULL, 1},
};

/* The run a `run` resumes and `verify --against-state` checks: the newest
 * whose config's "kind" is not "row". The kind is read as JSON: a row
 * run written with spaces is still skipped, and a "kind":"row" deeper in
 * a copy run's config (or inside a string) does not make it a row run;
 * finding the text "kind":"row" anywhere got both wrong. */
static void test_run_main(void)
{
	char path[1024];
	struct barge_state *st = NULL;
	struct barge_run *r = NULL;
	int64_t copy1 = 0, row1 = 0, copy2 = 0, row2 = 0, copy3 = 0, copy4 = 0;

	harness_path(path, sizeof path, "state_run_main.db");
	CHECK_OK(barge_state_open(&st, path, 1));
	if (!st)
		return;
	CHECK_OK(barge_state_run_main(st, &r));
	CHECK(r == NULL);

	CHECK_OK(barge_state_run_create(st, "sqlite:///a.db", "sqlite:///b.db", "t",
					"{\"kind\":\"copy\",\"command\":\"x \\\"kind\\\":\\\"row\\\"\"}",
					&copy1));
	CHECK_OK(barge_state_run_main(st, &r));
	CHECK(r && r->id == copy1);
	barge_run_free(r);
	r = NULL;

	CHECK_OK(barge_state_run_create(st, "sqlite:///a.db", "sqlite:///b.db", "t",
					"{\"kind\": \"row\", \"mode\": \"upsert\"}", &row1));
	CHECK_OK(barge_state_run_main(st, &r));
	CHECK(r && r->id == copy1);
	barge_run_free(r);
	r = NULL;

	CHECK_OK(barge_state_run_create(st, "sqlite:///a.db", "sqlite:///b.db", "t",
					"{\"kind\":\"copy\",\"tables\":[{\"name\":\"t\","
					"\"kind\":\"row\"}]}", &copy2));
	CHECK_OK(barge_state_run_main(st, &r));
	CHECK(r && r->id == copy2);
	barge_run_free(r);
	r = NULL;

	CHECK_OK(barge_state_run_create(st, "sqlite:///a.db", "sqlite:///b.db", "t",
					"{\"kind\":\"row\"}", &row2));
	CHECK_OK(barge_state_run_main(st, &r));
	CHECK(r && r->id == copy2);
	barge_run_free(r);
	r = NULL;

	/* no config, or one that is not JSON: a whole copy (older runs) */
	CHECK_OK(barge_state_run_create(st, "sqlite:///a.db", "sqlite:///b.db", "t",
					NULL, &copy3));
	CHECK_OK(barge_state_run_main(st, &r));
	CHECK(r && r->id == copy3);
	barge_run_free(r);
	r = NULL;
	CHECK_OK(barge_state_run_create(st, "sqlite:///a.db", "sqlite:///b.db", "t",
					"{\"kind\":\"row\"", &copy4));
	CHECK_OK(barge_state_run_main(st, &r));
	CHECK(r && r->id == copy4);
	CHECK(row1 > copy1 && row2 > copy2);
	barge_run_free(r);
	barge_state_close(st);
}

static void test_units(void)
{
	char path[1024];
	struct barge_state *st = NULL;
	struct barge_unit *u = NULL;
	int64_t run = 0, other = 0;
	int planned = -1;

	harness_path(path, sizeof path, "state_units.db");
	CHECK_OK(barge_state_open(&st, path, 1));
	if (!st)
		return;
	CHECK_OK(barge_state_run_create(st, "s", "t", "a,b", "{}", &run));
	CHECK_OK(barge_state_run_create(st, "s", "t", "a", "{}", &other));

	CHECK(barge_state_claim(st, run, NULL, &u) == BARGE_ENOTFOUND);
	CHECK(u == NULL);
	CHECK_OK(barge_state_table_planned(st, run, "a", &planned));
	CHECK(planned == 0);
	CHECK_OK(barge_state_units_add(st, run, "a", 3, plan_a));
	CHECK_OK(barge_state_units_add(st, run, "b", 2, plan_b));
	CHECK_OK(barge_state_units_add(st, other, "a", 1, plan_a));
	CHECK_OK(barge_state_table_planned(st, run, "a", &planned));
	CHECK(planned == 1);
	CHECK_OK(barge_state_table_planned(st, run, "c", &planned));
	CHECK(planned == 0);
	/* planning again is refused and adds nothing */
	CHECK(barge_state_units_add(st, run, "a", 3, plan_a) == BARGE_EUSAGE);
	CHECK(raw_int(path, "SELECT count(*) FROM units") == 6);
	CHECK(barge_state_units_add(st, 999, "a", 3, plan_a) == BARGE_ENOTFOUND);
	CHECK(raw_int(path, "SELECT count(*) FROM units") == 6);
	CHECK(raw_int(path, "SELECT count(*) FROM planned") == 3);

	/* by seq: bounds as planned */
	CHECK_OK(barge_state_unit_by_seq(st, run, "b", 1, &u));
	if (u) {
		CHECK_STR(u->table, "b");
		CHECK(u->seq == 1 && u->run == run);
		CHECK_STR(u->lo, "[\"m\",5]");
		CHECK(u->hi == NULL);
		CHECK(u->by_rowid == 1);
		CHECK(u->status == BARGE_UNIT_PENDING && u->attempts == 0);
		CHECK(u->started == 0 && u->finished == 0);
		CHECK(u->digest == NULL && u->last_error == NULL);
	}
	int64_t b1 = u ? u->id : 0;
	barge_unit_free(u);
	u = NULL;
	CHECK(barge_state_unit_by_seq(st, run, "b", 2, &u) == BARGE_ENOTFOUND);
	CHECK(u == NULL);

	/* claims: lowest id first, per table when asked */
	CHECK_OK(barge_state_claim(st, run, NULL, &u));
	int64_t a0 = u ? u->id : 0;
	CHECK(u && strcmp(u->table, "a") == 0 && u->seq == 0);
	CHECK(u && u->lo == NULL && strcmp(u->hi, "[100]") == 0);
	CHECK(u && u->status == BARGE_UNIT_RUNNING && u->attempts == 1 && u->started > 0);
	barge_unit_free(u);
	u = NULL;
	CHECK_OK(barge_state_claim(st, run, "b", &u));
	int64_t b0 = u ? u->id : 0;
	CHECK(u && strcmp(u->table, "b") == 0 && u->seq == 0);
	barge_unit_free(u);
	u = NULL;
	CHECK(barge_state_claim(st, run, "zz", &u) == BARGE_ENOTFOUND);

	/* done */
	struct barge_unit_result res = {100, 98, 2, 4096, "00112233445566778899aabbccddeeff", 0, NULL};
	CHECK_OK(barge_state_unit_done(st, a0, &res));
	CHECK_OK(barge_state_unit_get(st, a0, &u));
	if (u) {
		CHECK(u->status == BARGE_UNIT_DONE);
		CHECK(u->rows_read == 100 && u->rows_written == 98 && u->rows_rejected == 2);
		CHECK(u->bytes == 4096);
		CHECK_STR(u->digest, "00112233445566778899aabbccddeeff");
		CHECK(u->finished >= u->started && u->finished > 0);
	}
	barge_unit_free(u);
	u = NULL;
	CHECK(barge_state_unit_done(st, 99999, &res) == BARGE_ENOTFOUND);
	CHECK(barge_state_unit_get(st, 99999, &u) == BARGE_ENOTFOUND);

	/* a failed attempt to retry goes back to pending and is next again */
	CHECK_OK(barge_state_unit_failed(st, b0, "connection lost", 1));
	CHECK_OK(barge_state_unit_get(st, b0, &u));
	CHECK(u && u->status == BARGE_UNIT_PENDING && u->finished == 0 && u->attempts == 1);
	CHECK(u && u->last_error && strcmp(u->last_error, "connection lost") == 0);
	barge_unit_free(u);
	u = NULL;
	CHECK_OK(barge_state_claim(st, run, NULL, &u)); /* a1 has the lower id */
	int64_t a1 = u ? u->id : 0;
	CHECK(u && strcmp(u->table, "a") == 0 && u->seq == 1);
	barge_unit_free(u);
	u = NULL;
	CHECK_OK(barge_state_claim(st, run, "a", &u));
	int64_t a2 = u ? u->id : 0;
	CHECK(u && u->seq == 2);
	barge_unit_free(u);
	u = NULL;
	CHECK_OK(barge_state_claim(st, run, NULL, &u));
	CHECK(u && u->id == b0 && u->attempts == 2);
	barge_unit_free(u);
	u = NULL;

	/* failed for good */
	CHECK_OK(barge_state_unit_failed(st, a1, "bad value in row 7", 0));
	CHECK_OK(barge_state_unit_get(st, a1, &u));
	CHECK(u && u->status == BARGE_UNIT_FAILED && u->finished > 0);
	CHECK(u && u->last_error && strcmp(u->last_error, "bad value in row 7") == 0);
	barge_unit_free(u);
	u = NULL;
	CHECK(barge_state_unit_failed(st, 99999, "x", 0) == BARGE_ENOTFOUND);

	/* now: a0 done, a1 failed, a2 running, b0 running, b1 pending */
	CHECK_OK(barge_state_claim(st, run, NULL, &u));
	CHECK(u && u->id == b1);
	barge_unit_free(u);
	u = NULL;
	CHECK(barge_state_claim(st, run, NULL, &u) == BARGE_ENOTFOUND);
	/* the other run's unit is its own */
	CHECK_OK(barge_state_claim(st, other, NULL, &u));
	CHECK(u && u->run == other);
	barge_unit_free(u);
	u = NULL;

	/* after a crash: running -> pending; failed stays */
	CHECK_OK(barge_state_units_reset(st, run, 0));
	CHECK(raw_int(path, "SELECT count(*) FROM units WHERE status = 'pending'") == 3);
	CHECK(raw_int(path, "SELECT count(*) FROM units WHERE status = 'failed'") == 1);
	CHECK(raw_int(path, "SELECT count(*) FROM units WHERE status = 'running'") == 1); /* other run */
	CHECK_OK(barge_state_units_reset(st, run, 1));
	CHECK(raw_int(path, "SELECT count(*) FROM units WHERE status = 'pending'") == 4);
	CHECK_OK(barge_state_unit_get(st, a1, &u));
	CHECK(u && u->status == BARGE_UNIT_PENDING && u->attempts == 1 && u->finished == 0);
	barge_unit_free(u);
	u = NULL;
	CHECK_OK(barge_state_claim(st, run, NULL, &u));
	CHECK(u && u->id == a1 && u->attempts == 2);
	barge_unit_free(u);
	u = NULL;

	/* claim_id takes a unit whatever its status, done included */
	CHECK_OK(barge_state_claim_id(st, a0, &u));
	CHECK(u && u->id == a0 && u->status == BARGE_UNIT_RUNNING && u->attempts == 2 &&
	      u->finished == 0);
	barge_unit_free(u);
	u = NULL;
	CHECK(barge_state_claim_id(st, 99999, &u) == BARGE_ENOTFOUND);
	CHECK(u == NULL);
	(void)a2;

	barge_state_close(st);
}

static void test_log(void)
{
	char path[1024];
	struct barge_state *st = NULL;
	struct barge_unit *u = NULL;
	int64_t run = 0;

	harness_path(path, sizeof path, "state_log.db");
	CHECK_OK(barge_state_open(&st, path, 1));
	if (!st)
		return;
	CHECK_OK(barge_state_run_create(st, "s", "t", "a", "{}", &run));
	CHECK_OK(barge_state_units_add(st, run, "a", 1, plan_a));
	CHECK_OK(barge_state_claim(st, run, NULL, &u));
	CHECK_OK(barge_state_log(st, run, 0, "run-start", "2 tables"));
	CHECK_OK(barge_state_log(st, run, u ? u->id : 0, "chunk-start", NULL));
	CHECK_OK(barge_state_log(st, run, u ? u->id : 0, "chunk-done", "100 rows"));
	CHECK_OK(barge_state_log(st, run, 0, "run-done", "ok"));
	barge_unit_free(u);
	CHECK(barge_state_log(st, run + 7, 0, "x", "y") == BARGE_ENOTFOUND);
	barge_state_close(st);

	CHECK(raw_int(path, "SELECT count(*) FROM log") == 4);
	char *events = raw_text(path, "SELECT group_concat(event, ' ') FROM"
				      " (SELECT event FROM log ORDER BY id)");
	CHECK_STR(events, "run-start chunk-start chunk-done run-done");
	free(events);
	CHECK(raw_int(path, "SELECT count(*) FROM log WHERE unit IS NULL") == 2);
	CHECK(raw_int(path, "SELECT count(*) FROM log a JOIN log b ON b.id = a.id + 1"
			    " WHERE b.at < a.at") == 0);
}

static void test_progress(void)
{
	char path[1024];
	struct barge_state *st = NULL;
	struct barge_unit *u = NULL;
	struct barge_table_progress *p = NULL;
	size_t n = 99;
	int64_t run = 0;

	harness_path(path, sizeof path, "state_progress.db");
	CHECK_OK(barge_state_open(&st, path, 1));
	if (!st)
		return;
	CHECK_OK(barge_state_run_create(st, "s", "t", "y,x,z", "{}", &run));
	CHECK_OK(barge_state_progress(st, run, &p, &n));
	CHECK(n == 0);
	barge_table_progress_free(p, n);
	p = NULL;

	/* planned order y, x, z (z empty) — not alphabetical, not by id */
	CHECK_OK(barge_state_units_add(st, run, "y", 2, plan_b));
	CHECK_OK(barge_state_units_add(st, run, "x", 3, plan_a));
	CHECK_OK(barge_state_units_add(st, run, "z", 0, NULL));

	struct barge_unit_result r1 = {10, 9, 1, 100, NULL, 0, NULL};
	struct barge_unit_result r2 = {5, 5, 0, 50, NULL, 0, NULL};
	int64_t y0, y1, x0, x1, x2;
	CHECK_OK(barge_state_claim(st, run, "y", &u));
	y0 = u ? u->id : 0;
	barge_unit_free(u);
	CHECK_OK(barge_state_claim(st, run, "y", &u));
	y1 = u ? u->id : 0;
	barge_unit_free(u);
	CHECK_OK(barge_state_claim(st, run, "x", &u));
	x0 = u ? u->id : 0;
	barge_unit_free(u);
	CHECK_OK(barge_state_claim(st, run, "x", &u));
	x1 = u ? u->id : 0;
	barge_unit_free(u);
	CHECK_OK(barge_state_claim(st, run, "x", &u));
	x2 = u ? u->id : 0;
	barge_unit_free(u);
	u = NULL;
	/* y: y0 done, y1 running; x: x0 done, x1 failed twice, x2 failed */
	CHECK_OK(barge_state_unit_done(st, y0, &r2));
	CHECK_OK(barge_state_unit_done(st, x0, &r1));
	CHECK_OK(barge_state_unit_failed(st, x1, "old error", 0));
	CHECK_OK(barge_state_unit_failed(st, x2, "newest error", 0));
	CHECK_OK(barge_state_unit_failed(st, x1, "older error", 0));

	/* exact times, set from outside */
	char sql[512];
	snprintf(sql, sizeof sql,
		 "UPDATE units SET started = 1000, finished = 1010 WHERE id = %lld;"
		 "UPDATE units SET started = 1005, finished = 1008.5 WHERE id = %lld;"
		 "UPDATE units SET started = 1001, finished = 1020 WHERE id = %lld;"
		 "UPDATE units SET started = 1002, finished = 1030 WHERE id = %lld;"
		 "UPDATE units SET started = 1040 WHERE id = %lld;",
		 (long long)x0, (long long)x1, (long long)x2, (long long)y0, (long long)y1);
	CHECK(raw_exec(path, sql) == SQLITE_OK);

	CHECK_OK(barge_state_progress(st, run, &p, &n));
	CHECK(n == 3);
	if (p && n == 3) {
		CHECK_STR(p[0].table, "y");
		CHECK(p[0].chunks == 2 && p[0].chunks_done == 1 && p[0].chunks_failed == 0 &&
		      p[0].chunks_running == 1);
		CHECK(p[0].rows_read == 5 && p[0].rows_written == 5 && p[0].rows_rejected == 0);
		CHECK(p[0].bytes == 50);
		CHECK(fabs(p[0].seconds - 28.0) < 1e-9);
		CHECK(p[0].first_start == 1002 && p[0].last_end == 1030);
		CHECK(p[0].last_error == NULL);

		CHECK_STR(p[1].table, "x");
		CHECK(p[1].chunks == 3 && p[1].chunks_done == 1 && p[1].chunks_failed == 2 &&
		      p[1].chunks_running == 0);
		CHECK(p[1].rows_read == 10 && p[1].rows_written == 9 && p[1].rows_rejected == 1);
		CHECK(p[1].bytes == 100);
		CHECK(fabs(p[1].seconds - 10.0) < 1e-9);
		CHECK(p[1].first_start == 1000 && p[1].last_end == 1020);
		/* x2 finished last (1020), though x1 failed later in real time */
		CHECK_STR(p[1].last_error, "newest error");

		CHECK_STR(p[2].table, "z");
		CHECK(p[2].chunks == 0 && p[2].chunks_done == 0 && p[2].rows_read == 0);
		CHECK(p[2].seconds == 0 && p[2].first_start == 0 && p[2].last_end == 0);
		CHECK(p[2].last_error == NULL);
	}
	barge_table_progress_free(p, n);
	p = NULL;

	/* re-running a done chunk: its rows drop out until it is done again */
	CHECK_OK(barge_state_claim_id(st, x0, &u));
	barge_unit_free(u);
	u = NULL;
	CHECK_OK(barge_state_progress(st, run, &p, &n));
	CHECK(n == 3 && p && p[1].chunks_done == 0 && p[1].rows_read == 0 &&
	      p[1].chunks_running == 1);
	barge_table_progress_free(p, n);
	barge_table_progress_free(NULL, 0);
	barge_state_close(st);
}

/* ---- Concurrency -------------------------------------------------------- */

#define MANY 2000

static int add_many(struct barge_state *st, int64_t run, const char *table, size_t n)
{
	struct barge_unit_plan *plan = calloc(n, sizeof *plan);
	if (!plan)
		return BARGE_ENOMEM;
	int rc = barge_state_units_add(st, run, table, n, plan);
	free(plan);
	return rc;
}

struct worker {
	struct barge_state *st;
	int64_t run;
	int claimed;
	int errors;
};

/* Claim and complete until nothing is pending; count what we got. */
static void drain(struct worker *w)
{
	for (;;) {
		struct barge_unit *u = NULL;
		int rc = barge_state_claim(w->st, w->run, NULL, &u);
		if (rc == BARGE_ENOTFOUND)
			break;
		if (rc < 0) {
			fprintf(stderr, "claim: %s\n", barge_error_last());
			w->errors++;
			break;
		}
		struct barge_unit_result res = {u->id, u->id, 0, 1, NULL, 0, NULL};
		if (barge_state_unit_done(w->st, u->id, &res) < 0) {
			fprintf(stderr, "done: %s\n", barge_error_last());
			w->errors++;
		}
		w->claimed++;
		barge_unit_free(u);
	}
}

static void *worker_main(void *arg)
{
	drain(arg);
	return NULL;
}

static void check_claimed_once(const char *path, int64_t total)
{
	CHECK(raw_int(path, "SELECT count(*) FROM units WHERE status = 'done'") == total);
	CHECK(raw_int(path, "SELECT count(*) FROM units WHERE attempts = 1") == total);
	CHECK(raw_int(path, "SELECT count(*) FROM units WHERE rows_read != id") == 0);
}

static void test_threads(void)
{
	char path[1024];
	struct barge_state *st = NULL;
	struct worker w[4];
	pthread_t th[4];
	int64_t run = 0;

	harness_path(path, sizeof path, "state_threads.db");
	CHECK_OK(barge_state_open(&st, path, 1));
	if (!st)
		return;
	CHECK_OK(barge_state_run_create(st, "s", "t", "a", "{}", &run));
	CHECK_OK(add_many(st, run, "a", MANY));
	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){.st = st, .run = run};
		CHECK(pthread_create(&th[i], NULL, worker_main, &w[i]) == 0);
	}
	int total = 0, errors = 0;
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		total += w[i].claimed;
		errors += w[i].errors;
	}
	CHECK(total == MANY);
	CHECK(errors == 0);
	barge_state_close(st);
	check_claimed_once(path, MANY);
}

static void test_processes(void)
{
	char path[1024];
	struct barge_state *st = NULL;
	int64_t run = 0;
	pid_t kids[2];

	harness_path(path, sizeof path, "state_procs.db");
	CHECK_OK(barge_state_open(&st, path, 1));
	if (!st)
		return;
	CHECK_OK(barge_state_run_create(st, "s", "t", "a", "{}", &run));
	CHECK_OK(add_many(st, run, "a", MANY));
	/* the children must not inherit an open connection */
	barge_state_close(st);
	st = NULL;

	for (int i = 0; i < 2; i++) {
		kids[i] = fork();
		if (kids[i] == 0) {
			struct worker w = {.run = run};
			if (barge_state_open(&w.st, path, 0) < 0)
				_exit(2);
			drain(&w);
			barge_state_close(w.st);
			/* exit code: 0 ok, 1 errors; claims go through a file */
			char out[1100];
			snprintf(out, sizeof out, "%s.%d", path, i);
			FILE *f = fopen(out, "w");
			if (f) {
				fprintf(f, "%d\n", w.claimed);
				fclose(f);
			}
			_exit(w.errors ? 1 : 0);
		}
		CHECK(kids[i] > 0);
	}
	int total = 0, each[2] = {0, 0};
	for (int i = 0; i < 2; i++) {
		int status = -1;
		CHECK(waitpid(kids[i], &status, 0) == kids[i]);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		char out[1100];
		snprintf(out, sizeof out, "%s.%d", path, i);
		FILE *f = fopen(out, "r");
		if (f) {
			if (fscanf(f, "%d", &each[i]) != 1)
				each[i] = 0;
			fclose(f);
		}
		remove(out);
		total += each[i];
	}
	CHECK(total == MANY);
	check_claimed_once(path, MANY);
}

/* ---- Crash safety ------------------------------------------------------- */

#define CRASH_DONE 30
#define CRASH_UNITS 200

/* A child marks CRASH_DONE units done, says so on `fd`, then plans table
 * after table until it is killed (or, with `quit`, _exits at once). */
static void crash_child(const char *path, int fd, int quit)
{
	struct barge_state *st = NULL;
	struct barge_unit *u = NULL;
	int64_t run = 0;
	char name[32];

	if (barge_state_open(&st, path, 1) < 0 ||
	    barge_state_run_create(st, "s", "t", "t0", "{}", &run) < 0 ||
	    add_many(st, run, "t0", 100) < 0)
		_exit(2);
	for (int i = 0; i < CRASH_DONE; i++) {
		struct barge_unit_result res = {1, 1, 0, 1, NULL, 0, NULL};
		if (barge_state_claim(st, run, NULL, &u) < 0 ||
		    barge_state_unit_done(st, u->id, &res) < 0)
			_exit(3);
		barge_unit_free(u);
		u = NULL;
	}
	/* one unit left running, as a worker would at a crash */
	if (barge_state_claim(st, run, NULL, &u) < 0)
		_exit(4);
	if (write(fd, "r", 1) != 1)
		_exit(5);
	if (quit)
		_exit(0);
	for (int i = 1; i < 100000; i++) {
		snprintf(name, sizeof name, "t%d", i);
		if (add_many(st, run, name, CRASH_UNITS) < 0)
			_exit(6);
	}
	_exit(7);
}

static void crash_check(const char *path)
{
	struct barge_state *st = NULL;
	struct barge_unit *u = NULL;

	CHECK_OK(barge_state_open(&st, path, 0));
	if (!st)
		return;
	char *ok = raw_text(path, "PRAGMA integrity_check");
	CHECK_STR(ok, "ok");
	free(ok);
	CHECK(raw_int(path, "SELECT count(*) FROM units WHERE status = 'done'") == CRASH_DONE);
	CHECK(raw_int(path, "SELECT max(seq) FROM units WHERE status = 'done'") == CRASH_DONE - 1);
	CHECK(raw_int(path, "SELECT count(*) FROM units WHERE table_name = 't0'") == 100);
	/* every planned table has all its units; no units without a plan */
	CHECK(raw_int(path, "SELECT count(*) FROM planned p WHERE p.table_name != 't0' AND"
			    " (SELECT count(*) FROM units u WHERE u.run = p.run AND"
			    "  u.table_name = p.table_name) != 200") == 0);
	CHECK(raw_int(path, "SELECT count(*) FROM units u WHERE NOT EXISTS (SELECT 1 FROM"
			    " planned p WHERE p.run = u.run AND p.table_name = u.table_name)") == 0);
	CHECK(raw_int(path, "SELECT count(*) FROM pragma_foreign_key_check") == 0);
	/* the unit left running is resumed */
	CHECK(raw_int(path, "SELECT count(*) FROM units WHERE status = 'running'") == 1);
	CHECK_OK(barge_state_units_reset(st, 1, 0));
	CHECK_OK(barge_state_claim(st, 1, "t0", &u));
	CHECK(u && u->seq == CRASH_DONE && u->attempts == 2);
	barge_unit_free(u);
	barge_state_close(st);
}

static void test_crash(int quit)
{
	char path[1024];
	int fds[2];
	char c = 0;

	harness_path(path, sizeof path, quit ? "state_exit.db" : "state_kill.db");
	CHECK(pipe(fds) == 0);
	pid_t pid = fork();
	if (pid == 0) {
		close(fds[0]);
		crash_child(path, fds[1], quit);
	}
	close(fds[1]);
	CHECK(pid > 0);
	CHECK(read(fds[0], &c, 1) == 1 && c == 'r');
	close(fds[0]);
	if (!quit) {
		/* let it get well into planning tables (watched, not timed: a
		 * loaded machine must not change what is tested), then kill it
		 * mid-write */
		for (int i = 0; i < 6000 && raw_int(path, "SELECT count(*) FROM planned") < 3; i++)
			barge_sleep(0.01);
		kill(pid, SIGKILL);
	}
	int status = -1;
	CHECK(waitpid(pid, &status, 0) == pid);
	if (quit)
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	else
		CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	if (!quit)
		CHECK(raw_int(path, "SELECT count(*) FROM planned") > 1);
	crash_check(path);
}

/* ---- Busy ----------------------------------------------------------------- */

static void test_busy(void)
{
	char path[1024];
	struct barge_state *st = NULL;
	sqlite3 *db = NULL;
	int64_t run = 0;

	harness_path(path, sizeof path, "state_busy.db");
	setenv("BARGE_STATE_BUSY_TIMEOUT", "0.3", 1);
	CHECK_OK(barge_state_open(&st, path, 1));
	unsetenv("BARGE_STATE_BUSY_TIMEOUT");
	if (!st)
		return;
	CHECK_OK(barge_state_run_create(st, "s", "t", "a", "{}", &run));
	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK);

	double t0 = barge_monotonic();
	CHECK(barge_state_log(st, run, 0, "x", "y") == BARGE_ERETRY);
	double waited = barge_monotonic() - t0;
	CHECK(waited >= 0.3); /* it retried until the limit, not less */
	CHECK(strstr(barge_error_last(), "locked") != NULL);
	/* readers are not blocked by a writer in WAL mode */
	struct barge_run *r = NULL;
	CHECK_OK(barge_state_run_get(st, run, &r));
	barge_run_free(r);

	CHECK(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK);
	CHECK_OK(barge_state_log(st, run, 0, "x", "y"));
	sqlite3_close(db);
	barge_state_close(st);
}

int main(void)
{
	test_open();
	test_runs_and_flags();
	test_run_main();
	test_units();
	test_log();
	test_progress();
	test_threads();
	test_processes();
	test_crash(1);
	test_crash(0);
	test_busy();
	return harness_done();
}
