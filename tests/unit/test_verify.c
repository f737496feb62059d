/*
 * verify's library side: a state file of schema version 1 is migrated to
 * the current one (verify_results, rejects_unit) and keeps its runs; barge_verify on two small SQLite
 * files finds a changed row with its column, and records the result.
 */
#include "harness.h"
#include "state.h"
#include "verify.h"

#include <sqlite3.h>

static void sql(const char *path, const char *text)
{
	sqlite3 *db = NULL;
	sqlite3_open(path, &db);
	CHECK(sqlite3_exec(db, text, NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
}

static int64_t num(const char *path, const char *q)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int64_t v = -1;
	sqlite3_open(path, &db);
	if (sqlite3_prepare_v2(db, q, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

/*
 * Buckets (an integer key): differences at the edges of the key space and
 * of buckets are each found once, with the right kind: keys below the
 * source's least and above its greatest (the open first and last
 * buckets), a missing first row, changes either side of a bucket bound,
 * with 1 and 4 workers (one read per side, or two parts per side).
 */
static void bucket_edges(const char *a, const char *b, int jobs)
{
	char ua[1100], ub[1100];
	const char *ddl = "DROP TABLE IF EXISTS e; CREATE TABLE e(id INTEGER PRIMARY KEY, v TEXT);"
			  "WITH RECURSIVE n(i) AS (SELECT 10 UNION ALL SELECT i + 1 FROM n"
			  " WHERE i < 1009) INSERT INTO e SELECT i, 'v' || i FROM n;";
	sql(a, ddl);
	sql(b, ddl);
	/* leaf_rows 20: buckets of 10 keys from 10, so 19|20 is a bound */
	sql(b, "INSERT INTO e VALUES (-5, 'below'), (5000, 'above');"
	       "DELETE FROM e WHERE id = 10;"
	       "UPDATE e SET v = 'x' WHERE id IN (19, 20, 1009);");
	snprintf(ua, sizeof ua, "sqlite:%s", a);
	snprintf(ub, sizeof ub, "sqlite:%s", b);
	struct barge_job_table jt = {.name = "e"};
	struct barge_verify_opts o = {.source = ua, .target = ub, .leaf_rows = 20,
				      .jobs = jobs, .ntables = 1, .tables = &jt};
	struct barge_verify_result res;
	CHECK_OK(barge_verify(&o, &res));
	CHECK(!res.equal && res.ntables == 1);
	if (res.ntables == 1) {
		struct barge_verify_table *t = &res.tables[0];
		CHECK(t->chunks == 100);
		CHECK(t->source_rows == 1000 && t->target_rows == 1001);
		CHECK(t->missing == 1 && t->extra == 2 && t->changed == 3);
		int64_t sum = 0;
		for (size_t i = 0; i < t->ndiffs; i++)
			sum += t->diffs[i].key->v[0].i * (t->diffs[i].kind + 1);
		/* missing 10 (x1), extra -5 and 5000 (x2), changed 19, 20, 1009 (x3) */
		CHECK(sum == 10 + 2 * (-5 + 5000) + 3 * (19 + 20 + 1009));
	}
	barge_verify_result_dispose(&res);
}

int main(void)
{
	char sp[1024], a[1024], b[1024], ua[1100], ub[1100];
	struct barge_state *st = NULL;
	int64_t run = 0;

	/* a version 1 file: made by this code, then what 2 and 3 added removed */
	harness_path(sp, sizeof sp, "verify-state.db");
	CHECK_OK(barge_state_open(&st, sp, 1));
	CHECK_OK(barge_state_run_create(st, "sqlite:a", "sqlite:b", "t", "{}", &run));
	barge_state_close(st);
	st = NULL;
	sql(sp, "DROP TABLE verify_results; DROP INDEX rejects_unit; PRAGMA user_version = 1;");
	CHECK(num(sp, "SELECT count(*) FROM sqlite_master WHERE name = 'verify_results'") == 0);
	CHECK_OK(barge_state_open(&st, sp, 0));
	barge_state_close(st);
	st = NULL;
	CHECK(num(sp, "PRAGMA user_version") == 3);
	CHECK(num(sp, "SELECT count(*) FROM sqlite_master WHERE name = 'verify_results'") == 1);
	CHECK(num(sp, "SELECT count(*) FROM runs") == 1);

	harness_path(a, sizeof a, "verify-a.db");
	harness_path(b, sizeof b, "verify-b.db");
	const char *ddl = "CREATE TABLE t(id INTEGER PRIMARY KEY, x TEXT, y REAL);"
			  "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
			  " WHERE i < 2500) INSERT INTO t SELECT i, 'x' || i, i FROM n;";
	sql(a, ddl);
	sql(b, ddl);
	sql(b, "UPDATE t SET y = 0.5 WHERE id = 1234;");
	snprintf(ua, sizeof ua, "sqlite:%s", a);
	snprintf(ub, sizeof ub, "sqlite:%s", b);
	struct barge_verify_opts o = {.source = ua, .target = ub, .chunk_rows = 1000,
				      .leaf_rows = 10, .state_path = sp};
	struct barge_verify_result res;
	CHECK_OK(barge_verify(&o, &res));
	CHECK(!res.equal);
	CHECK(res.ntables == 1);
	if (res.ntables == 1) {
		struct barge_verify_table *t = &res.tables[0];
		CHECK(t->changed == 1 && t->missing == 0 && t->extra == 0);
		/* an integer key: buckets of leaf_rows / 2 keys (2500 / 5),
		 * one differs */
		CHECK(t->chunks == 500 && t->chunks_differing == 1);
		CHECK(t->ndiffs == 1);
		if (t->ndiffs == 1) {
			CHECK(t->diffs[0].kind == BARGE_DIFF_CHANGED);
			CHECK(t->diffs[0].key && t->diffs[0].key->v[0].i == 1234);
			CHECK_STR(t->diffs[0].columns, "[\"y\"]");
		}
	}
	char *json = NULL;
	CHECK_OK(barge_verify_report_json(&json, &res));
	CHECK(json && strstr(json, "{\"kind\":\"changed\",\"key\":{\"id\":1234},\"columns\":[\"y\"]}"));
	free(json);
	int64_t fixed = 0, unfixable = 0;
	CHECK_OK(barge_verify_fix(&o, &res, &fixed, &unfixable));
	CHECK(fixed == 1 && unfixable == 0);
	barge_verify_result_dispose(&res);
	CHECK_OK(barge_verify(&o, &res));
	CHECK(res.equal);
	barge_verify_result_dispose(&res);
	CHECK(num(sp, "SELECT count(*) FROM verify_results") == 2);
	CHECK(num(sp, "SELECT changed FROM verify_results ORDER BY id LIMIT 1") == 1);
	bucket_edges(a, b, 1);
	bucket_edges(a, b, 4);
	return harness_done();
}
