/*
 * The chunk planner against real SQLite tables: integer key ranges (dense,
 * sparse, extremes, empty), keyset walking of composite text keys in
 * binary order, rowid ranges and one chunk, and the choice between them.
 * Every planned set of chunks must cover each row exactly once.
 */
#include "chunker.h"
#include "harness.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

static char path[1024];
static struct barge_ep ep;
static struct barge_conn *conn;

static void exec(const char *sql)
{
	sqlite3 *db = NULL;
	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
}

/* Count the rows of each planned chunk by reading it; the sum must be the
 * table's row count and no chunk may be empty unless the table is. */
static int64_t rows_in_chunks(const struct barge_table_def *t,
			      const struct barge_chunk_list *l, int *empty)
{
	int64_t total = 0;
	*empty = 0;
	for (size_t i = 0; i < l->n; i++) {
		struct barge_chunk ch;
		CHECK_OK(barge_chunk_from_json(&ch, t, l->units[i].by_rowid,
					       l->units[i].lo, l->units[i].hi));
		CHECK(!ch.hi_incl || (l->units[i].lo &&
				      strcmp(l->units[i].lo, l->units[i].hi) == 0));
		size_t col = 0;
		int btype = t->cols[0].type;
		struct barge_read_req req = {.table = t, .chunk = &ch, .ncols = 1,
					     .cols = &col};
		struct barge_reader *r = NULL;
		struct barge_batch *b = NULL;
		int64_t n = 0;
		CHECK_OK(barge_batch_new(&b, 1, &btype, 100));
		CHECK_OK(barge_drv_read_open(&ep, &r, conn, &req));
		while (r && b && barge_drv_read_next(&ep, r, b) == 0 && b->nrows)
			n += (int64_t)b->nrows;
		barge_drv_read_close(&ep, r);
		barge_batch_free(b);
		barge_key_free(ch.lo);
		barge_key_free(ch.hi);
		if (n == 0)
			(*empty)++;
		total += n;
	}
	return total;
}

static struct barge_table_def *describe(const char *name)
{
	struct barge_table_def *t = NULL;
	CHECK_OK(barge_drv_describe(&ep, conn, name, &t));
	return t;
}

/* A one-row unit (lo == hi) is the point chunk [key, key]: exactly the
 * rows whose key is `key`, also where a key column may hold NULL. */
static void point(const char *table, const char *key, int64_t want)
{
	struct barge_table_def *t = describe(table);
	struct barge_unit_plan u = {.lo = (char *)key, .hi = (char *)key};
	struct barge_chunk_list l = {.n = 1, .units = &u};
	int empty;
	if (!t)
		return;
	CHECK(rows_in_chunks(t, &l, &empty) == want);
	barge_table_def_free(t);
}

static void plan(const char *table, int want_how, int64_t chunk_rows,
		 size_t want_chunks, int64_t want_rows)
{
	struct barge_table_def *t = describe(table);
	struct barge_chunk_list l;
	int empty = 0;
	if (!t)
		return;
	int how = barge_chunking_for(t, BARGE_CAP_ROWID);
	CHECK(how == want_how);
	CHECK_OK(barge_chunk_plan(&l, &ep, conn, t, how, chunk_rows, 2));
	if (l.n != want_chunks)
		fprintf(stderr, "%s: %zu chunks, wanted %zu\n", table, l.n, want_chunks);
	CHECK(l.n == want_chunks);
	CHECK(rows_in_chunks(t, &l, &empty) == want_rows);
	if (want_rows && how != BARGE_CHUNK_INT)
		CHECK(empty == 0);
	/* bounds: first open below, last open above, each hi the next lo */
	CHECK(l.n == 0 || l.units[0].lo == NULL);
	CHECK(l.n == 0 || l.units[l.n - 1].hi == NULL);
	for (size_t i = 1; i < l.n; i++)
		CHECK(l.units[i].lo && l.units[i - 1].hi &&
		      strcmp(l.units[i].lo, l.units[i - 1].hi) == 0);
	barge_chunk_list_dispose(&l);
	barge_table_def_free(t);
}

int main(void)
{
	harness_path(path, sizeof path, "chunker.db");
	exec("CREATE TABLE dense(id INTEGER PRIMARY KEY, v);"
	     "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i<1000)"
	     " INSERT INTO dense SELECT i, i FROM n;"
	     "CREATE TABLE sparse(id INTEGER PRIMARY KEY, v);"
	     "INSERT INTO sparse VALUES (-9223372036854775808,1),(-5,2),(0,3),(7,4),"
	     " (1000000000,5),(9223372036854775807,6);"
	     "CREATE TABLE empty(id INTEGER PRIMARY KEY, v);"
	     "CREATE TABLE ck(a TEXT NOT NULL, b TEXT NOT NULL, PRIMARY KEY(a,b));"
	     "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i<250)"
	     " INSERT INTO ck SELECT char(65 + i % 7) || (i % 3), 'x' || i FROM n;"
	     "INSERT INTO ck VALUES ('a|b','c'),('a','b|c'),('B','z'),('b','z');"
	     "CREATE TABLE nokey(x, y);"
	     "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i<300)"
	     " INSERT INTO nokey SELECT 'dup', 1 FROM n;"
	     "CREATE TABLE nullkey(k TEXT PRIMARY KEY, v);"
	     "INSERT INTO nullkey VALUES (NULL, 1), ('a', 2), ('b', 3);");
	CHECK_OK(barge_ep_init(&ep, "sqlite:placeholder"));
	free(ep.url->path);
	ep.url->path = strdup(path);
	CHECK_OK(barge_drv_open(&ep, &conn, BARGE_OPEN_READ));
	if (!conn)
		return harness_done();

	plan("dense", BARGE_CHUNK_INT, 100, 10, 1000);
	plan("dense", BARGE_CHUNK_INT, 1000, 1, 1000);
	plan("dense", BARGE_CHUNK_INT, 300, 4, 1000);
	/* the whole int64 range without overflow; rows still each once */
	plan("sparse", BARGE_CHUNK_INT, 2, 3, 6);
	plan("empty", BARGE_CHUNK_INT, 10, 1, 0);
	/* keyset: ceil(254 / 50) chunks, binary order, no empty chunk */
	plan("ck", BARGE_CHUNK_KEYSET, 50, 6, 254);
	plan("ck", BARGE_CHUNK_KEYSET, 1, 254, 254);
	plan("nokey", BARGE_CHUNK_ROWID, 64, 5, 300);
	/* a key column that may hold NULL is no range key: rowid instead */
	plan("nullkey", BARGE_CHUNK_ROWID, 1, 3, 3);

	/* one key, no successor: [k, k] */
	point("dense", "[5]", 1);
	point("dense", "[9223372036854775807]", 0);
	point("sparse", "[9223372036854775807]", 1);
	point("ck", "[\"a|b\",\"c\"]", 1);
	point("ck", "[\"a\",\"b\"]", 0);
	point("nullkey", "[\"a\"]", 1);

	/* auto (0): about 4 chunks per worker, 50000 to 500000 rows each */
	CHECK(barge_chunk_rows_auto(5000000, 2) == 500000);
	CHECK(barge_chunk_rows_auto(1000000, 2) == 125000);
	CHECK(barge_chunk_rows_auto(1000001, 2) == 125001);
	CHECK(barge_chunk_rows_auto(1000000, 1) == 250000);
	CHECK(barge_chunk_rows_auto(100, 8) == BARGE_CHUNK_ROWS_MIN);
	CHECK(barge_chunk_rows_auto(-1, 2) == BARGE_CHUNK_ROWS_MIN);
	CHECK(barge_chunk_rows_auto(INT64_MAX / 2, 0) == BARGE_CHUNK_ROWS_MAX);
	plan("dense", BARGE_CHUNK_INT, 0, 1, 1000);
	plan("ck", BARGE_CHUNK_KEYSET, 0, 1, 254);
	plan("nokey", BARGE_CHUNK_ROWID, 0, 1, 300);

	/* without row addresses on the target, a keyless table is one chunk */
	struct barge_table_def *t = describe("nokey");
	if (t) {
		CHECK(barge_chunking_for(t, 0) == BARGE_CHUNK_ONE);
		barge_table_def_free(t);
	}
	barge_drv_close(&ep, conn);
	barge_ep_dispose(&ep);
	return harness_done();
}
