/*
 * The driver contract for endpoints without SQL or transactions
 * (docs/architecture.md, "The driver contract"). A test-only driver,
 * registered with barge_driver_register under the testparts: scheme (its
 * URLs name a folder: BARGE_CAP_PATH), writes
 * each chunk as a part: a tab-separated text file per chunk in the
 * table's folder, opened under a temporary name and renamed into place.
 * It has no transactions, no SQL, no upsert, no snapshot, no lookup and
 * no aggregate. Real jobs (barge_job_run from a SQLite source) check that
 * every chunk becomes one part, that re-runs (resume, --chunk, --restart,
 * a failed and a retried part_commit) never duplicate a row, that an
 * aborted part leaves no temporary file; and that what the driver cannot
 * do is refused before anything is created, with one line.
 */
#include "harness.h"
#include "engine.h"
#include "transform.h"
#include "util.h"
#include "verify.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

/* ---- The test driver ------------------------------------------------------ */

struct barge_conn {
	char *dir;
	FILE *part;       /* the open part, or NULL */
	char tmp[1200], final[1200];
};

struct barge_writer {
	struct barge_conn *c;
	size_t ncols; /* written columns (without the row address) */
	struct barge_buf line, val;
};

/* counted by the workers' threads */
static _Atomic int n_begin, n_commit, n_abort;
static int fail_commit_at; /* the n_commit that fails (its own switch), 0 = none */

static int tp_open(struct barge_conn **out, const struct barge_url *url,
		   unsigned flags)
{
	struct stat sb;
	if (stat(url->path, &sb) != 0) {
		if (!(flags & BARGE_OPEN_CREATE))
			return barge_error_set(BARGE_ENOTFOUND, "no folder %s", url->path);
		if (mkdir(url->path, 0777) != 0)
			return barge_error_set(BARGE_ERROR, "mkdir %s: %s", url->path,
					       strerror(errno));
	}
	struct barge_conn *c = calloc(1, sizeof *c);
	if (!c || !(c->dir = strdup(url->path))) {
		free(c);
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	}
	*out = c;
	return 0;
}

static int tp_part_abort(struct barge_conn *c)
{
	if (c->part)
		fclose(c->part);
	c->part = NULL;
	if (c->tmp[0])
		unlink(c->tmp);
	c->tmp[0] = '\0';
	n_abort++;
	return 0;
}

static void tp_close(struct barge_conn *c)
{
	if (c->tmp[0])
		tp_part_abort(c);
	free(c->dir);
	free(c);
}

static void schema_path(char *buf, size_t n, const struct barge_conn *c,
			const char *table)
{
	snprintf(buf, n, "%s/%s/schema", c->dir, table);
}

/* The table's definition, one column a line: name type notnull key_pos
 * precision scale. */
static int tp_describe(struct barge_conn *c, const char *table,
		       struct barge_table_def **out)
{
	char path[1200], name[256];
	int type, notnull, key_pos, prec, scale;
	schema_path(path, sizeof path, c, table);
	FILE *f = fopen(path, "r");
	if (!f)
		return barge_error_set(BARGE_ENOTFOUND, "no table %s in %s", table, c->dir);
	struct barge_table_def *d = calloc(1, sizeof *d);
	d->name = strdup(table);
	d->cols = calloc(64, sizeof *d->cols);
	d->key = calloc(64, sizeof *d->key);
	d->rows = -1;
	while (d->ncols < 64 && fscanf(f, "%255s %d %d %d %d %d", name, &type, &notnull,
				       &key_pos, &prec, &scale) == 6) {
		struct barge_column_def *cd = &d->cols[d->ncols];
		cd->name = strdup(name);
		cd->type = type;
		cd->notnull = notnull;
		cd->key_pos = key_pos;
		cd->precision = prec;
		cd->scale = scale;
		if (key_pos > 0) {
			d->key[key_pos - 1] = d->ncols;
			d->nkey++;
		}
		d->ncols++;
	}
	fclose(f);
	*out = d;
	return 0;
}

static int tp_create_table(struct barge_conn *c, const struct barge_table_def *t)
{
	char path[1200];
	snprintf(path, sizeof path, "%s/%s", c->dir, t->name);
	mkdir(path, 0777);
	schema_path(path, sizeof path, c, t->name);
	FILE *f = fopen(path, "w");
	if (!f)
		return barge_error_set(BARGE_ERROR, "cannot write %s", path);
	for (size_t i = 0; i < t->ncols; i++) {
		const struct barge_column_def *cd = &t->cols[i];
		fprintf(f, "%s %d %d %d %d %d\n", cd->name, cd->type, cd->notnull,
			cd->key_pos, cd->precision, cd->scale);
	}
	fclose(f);
	return 0;
}

static int tp_list_tables(struct barge_conn *c, char ***names)
{
	DIR *d = opendir(c->dir);
	struct dirent *e;
	size_t n = 0;
	*names = calloc(64, sizeof **names);
	while (d && (e = readdir(d)) != NULL && n < 63) {
		char path[1200];
		schema_path(path, sizeof path, c, e->d_name);
		if (e->d_name[0] != '.' && access(path, F_OK) == 0)
			(*names)[n++] = strdup(e->d_name);
	}
	if (d)
		closedir(d);
	return 0;
}

/* Remove the table's parts, finished and temporary. */
static int tp_truncate(struct barge_conn *c, const struct barge_table_def *t)
{
	char dir[1200], path[1500];
	snprintf(dir, sizeof dir, "%s/%s", c->dir, t->name);
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d)) != NULL)
		if (strncmp(e->d_name, "part-", 5) == 0 ||
		    strncmp(e->d_name, ".part-", 6) == 0) {
			snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
			unlink(path);
		}
	if (d)
		closedir(d);
	return 0;
}

static int tp_part_begin(struct barge_conn *c, const struct barge_table_def *t,
			 const struct barge_chunk *chunk)
{
	snprintf(c->tmp, sizeof c->tmp, "%s/%s/.part-%06lld.tmp", c->dir, t->name,
		 (long long)chunk->seq);
	snprintf(c->final, sizeof c->final, "%s/%s/part-%06lld.tsv", c->dir, t->name,
		 (long long)chunk->seq);
	unlink(c->tmp); /* an earlier attempt's */
	if (!(c->part = fopen(c->tmp, "w"))) {
		c->tmp[0] = '\0';
		return barge_error_set(BARGE_ERROR, "cannot write a part in %s", c->dir);
	}
	n_begin++;
	return 0;
}

static int tp_part_commit(struct barge_conn *c)
{
	char dir[1200];
	int err = 0;
	int k = ++n_commit;
	if (k == fail_commit_at)
		return barge_error_set(BARGE_ERROR, "test: part_commit %d fails", k);
	if (fflush(c->part) != 0 || fsync(fileno(c->part)) != 0)
		err = barge_error_set(BARGE_ERROR, "cannot write %s", c->tmp);
	fclose(c->part);
	c->part = NULL;
	if (err == 0 && rename(c->tmp, c->final) != 0)
		err = barge_error_set(BARGE_ERROR, "cannot rename %s", c->tmp);
	if (err < 0)
		return err;
	c->tmp[0] = '\0';
	snprintf(dir, sizeof dir, "%s", c->final);
	*strrchr(dir, '/') = '\0';
	int fd = open(dir, O_RDONLY);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	return 0;
}

static int tp_write_open(struct barge_writer **out, struct barge_conn *c,
			 const struct barge_write_req *req)
{
	if (!c->part)
		return barge_error_set(BARGE_ERROR, "test: a write with no part open");
	struct barge_writer *w = calloc(1, sizeof *w);
	if (!w)
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	w->c = c;
	w->ncols = req->ncols;
	barge_buf_init(&w->line, 1u << 20);
	barge_buf_init(&w->val, 1u << 20);
	*out = w;
	return 0;
}

static int tp_write_batch(struct barge_writer *w, const struct barge_batch *b)
{
	for (size_t r = 0; r < b->nrows; r++) {
		barge_buf_clear(&w->line);
		for (size_t c = 0; c < w->ncols; c++) {
			struct barge_value v;
			barge_batch_get(b, c, r, &v);
			barge_buf_clear(&w->val);
			if (!v.null && barge_value_text(&w->val, &v) < 0)
				return barge_error_last()[0] ? barge_error_code() : BARGE_ERROR;
			if (c)
				barge_buf_adds(&w->line, "\t");
			if (v.null)
				barge_buf_adds(&w->line, "\\N");
			else
				barge_buf_add(&w->line, w->val.p ? w->val.p : "", w->val.len);
		}
		barge_buf_adds(&w->line, "\n");
		if (fwrite(w->line.p, 1, w->line.len, w->c->part) != w->line.len)
			return barge_error_set(BARGE_ERROR, "cannot write %s", w->c->tmp);
	}
	return 0;
}

static void tp_write_close(struct barge_writer *w)
{
	barge_buf_dispose(&w->line);
	barge_buf_dispose(&w->val);
	free(w);
}

static const char *const tp_schemes[] = {"testparts", NULL};

/* Not const: one case takes its part slots away. */
static struct barge_driver tp_driver = {
	.name = "testparts",
	.version = 1,
	.caps = BARGE_CAP_PARALLEL_WRITE | BARGE_CAP_PATH,
	.schemes = tp_schemes,
	.open = tp_open,
	.close = tp_close,
	.list_tables = tp_list_tables,
	.describe = tp_describe,
	.create_table = tp_create_table,
	.truncate = tp_truncate,
	.part_begin = tp_part_begin,
	.part_commit = tp_part_commit,
	.part_abort = tp_part_abort,
	.write_open = tp_write_open,
	.write_batch = tp_write_batch,
	.write_close = tp_write_close,
};

/* ---- Looking at the parts ------------------------------------------------- */

struct parts {
	int nparts, ntmp;
	int64_t rows;
	int dup, missing; /* ids 1..N seen more than once / not at all */
};

static void parts_scan(struct parts *p, const char *dir, int64_t nids)
{
	char *seen = calloc((size_t)nids + 1, 1);
	char tdir[1200], path[1500], line[512];
	struct dirent *e;
	memset(p, 0, sizeof *p);
	snprintf(tdir, sizeof tdir, "%s/t", dir);
	DIR *d = opendir(tdir);
	while (d && (e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, ".part-", 6) == 0)
			p->ntmp++;
		if (strncmp(e->d_name, "part-", 5) != 0)
			continue;
		p->nparts++;
		snprintf(path, sizeof path, "%s/%s", tdir, e->d_name);
		FILE *f = fopen(path, "r");
		while (f && fgets(line, sizeof line, f)) {
			long long id = strtoll(line, NULL, 10);
			p->rows++;
			if (id >= 1 && id <= nids && seen[id]++)
				p->dup++;
		}
		if (f)
			fclose(f);
	}
	if (d)
		closedir(d);
	for (int64_t i = 1; i <= nids; i++)
		p->missing += !seen[i];
	free(seen);
}

/* ---- Jobs ------------------------------------------------------------------ */

static void sql(const char *path, const char *text)
{
	sqlite3 *db = NULL;
	sqlite3_open(path, &db);
	CHECK(sqlite3_exec(db, text, NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
}

static char src_url[1100], dst_dir[1024], dst_url[1100], state[1024];

static void job_init(struct barge_job *j, struct barge_job_table *jt)
{
	memset(j, 0, sizeof *j);
	barge_settings_builtin(&j->defaults);
	j->defaults.chunk_rows = 100;
	j->defaults.retries = 3;
	j->source = src_url;
	j->target = dst_url;
	j->state_path = state;
	if (jt) {
		memset(jt, 0, sizeof *jt);
		jt->name = "t";
		jt->settings = j->defaults;
		jt->max_rejects = -1;
		jt->max_reject_ratio = -1;
		j->tables = jt;
		j->ntables = 1;
	}
}

static int run(const struct barge_job *j, const char *want_status)
{
	struct barge_job_result res;
	int err = barge_job_run(j, &res);
	if (err < 0)
		fprintf(stderr, "job: %s\n", barge_error_last());
	CHECK(err == 0);
	if (err == 0 && want_status)
		CHECK_STR(res.status, want_status);
	barge_job_result_dispose(&res);
	return err;
}

/* Every id once, in ten parts, no temporary file left. */
static void expect_whole(const char *what)
{
	struct parts p;
	parts_scan(&p, dst_dir, 1000);
	if (p.nparts != 10 || p.rows != 1000 || p.dup || p.missing || p.ntmp)
		fprintf(stderr, "%s: %d parts, %lld rows, %d dup, %d missing, %d tmp\n",
			what, p.nparts, (long long)p.rows, p.dup, p.missing, p.ntmp);
	CHECK(p.nparts == 10 && p.rows == 1000 && !p.dup && !p.missing && !p.ntmp);
}

static void copies(void)
{
	struct barge_job j;
	struct parts p;

	/* the first run: part_commit call 4 fails once with a transient fault
	 * (BARGE_FAULT, set in main): the part is aborted, then retried */
	job_init(&j, NULL);
	j.defaults.jobs = 2;
	run(&j, "done");
	expect_whole("first run");
	CHECK(n_begin == 11 && n_commit == 10 && n_abort == 1);

	/* the same job again: done already, nothing written */
	run(&j, "done");
	CHECK(n_begin == 11);
	expect_whole("again");

	/* --chunk 3: its part replaced */
	j.action = BARGE_JOB_CHUNK;
	j.only_table = "t";
	j.only_chunk = 3;
	run(&j, "done");
	CHECK(n_begin == 12 && n_commit == 11);
	expect_whole("--chunk 3");

	/* --restart: every part replaced, none appended */
	job_init(&j, NULL);
	j.restart = 1;
	run(&j, "done");
	CHECK(n_begin == 22 && n_commit == 21);
	expect_whole("--restart");

	/* truncate mode, --restart, the driver failing one part_commit: the
	 * folder emptied, that chunk failed and aborted (no temporary file),
	 * the others in; the resume brings the missing one */
	job_init(&j, NULL);
	j.restart = 1;
	j.defaults.mode = BARGE_MODE_TRUNCATE;
	j.defaults.max_failures = 0;
	fail_commit_at = n_commit + 5;
	int aborts = n_abort;
	run(&j, "failed");
	parts_scan(&p, dst_dir, 1000);
	CHECK(p.nparts == 9 && p.rows == 900 && !p.dup && p.missing == 100 &&
	      !p.ntmp);
	CHECK(n_abort == aborts + 1);
	j.restart = 0;
	run(&j, "done");
	expect_whole("resume after a failed part_commit");
}

/* ---- Refusals ------------------------------------------------------------- */

/* The job is refused with BARGE_EUSAGE, one line naming the table, the
 * driver and `what`; the state file and `made` (if given) do not exist. */
static void refused(const struct barge_job *j, const char *driver,
		    const char *what, const char *made)
{
	struct barge_job_result res;
	int err = barge_job_run(j, &res);
	const char *m = barge_error_last();
	CHECK(err == BARGE_EUSAGE);
	if (err != BARGE_EUSAGE || !strstr(m, "table 't'") || !strstr(m, driver) ||
	    !strstr(m, what) || strchr(m, '\n'))
		fprintf(stderr, "refusal (%s): %d %s\n", what, err, m);
	CHECK(strstr(m, "table 't'") && strstr(m, driver) && strstr(m, what));
	CHECK(!strchr(m, '\n'));
	CHECK(access(state, F_OK) != 0);
	if (made)
		CHECK(access(made, F_OK) != 0);
	barge_job_result_dispose(&res);
}

static void refusals(const char *tmpdb)
{
	struct barge_job j;
	struct barge_job_table jt;
	char other[1024], other_url[1100];

	remove(state);
	harness_path(other, sizeof other, "parts-dst-new");
	snprintf(other_url, sizeof other_url, "testparts:%s", other);

	/* upsert into a target without BARGE_CAP_UPSERT */
	job_init(&j, &jt);
	j.target = other_url;
	jt.settings.mode = BARGE_MODE_UPSERT;
	refused(&j, "testparts", "BARGE_CAP_UPSERT", other);

	/* references rules into a target without lookup */
	char *on[1] = {"pid"}, *ot[1] = {NULL}, *ox[1] = {"{references: t.id}"};
	job_init(&j, &jt);
	j.target = other_url;
	jt.nopts = 1;
	jt.opt_name = on;
	jt.opt_type = ot;
	jt.opt_text = ox;
	refused(&j, "testparts", "lookups in the target", other);

	/* a target with neither transactions nor parts */
	job_init(&j, &jt);
	j.target = other_url;
	tp_driver.part_begin = NULL;
	refused(&j, "testparts", "neither transactions", other);
	tp_driver.part_begin = tp_part_begin;

	/* the parts folder as a source: where: needs SQL, --jobs 2 a snapshot */
	char tmpdb_url[1100];
	snprintf(tmpdb_url, sizeof tmpdb_url, "sqlite:%s", tmpdb);
	job_init(&j, &jt);
	j.source = dst_url;
	j.target = tmpdb_url;
	jt.where = "id > 5";
	refused(&j, "testparts", "BARGE_CAP_SQL", tmpdb);
	job_init(&j, &jt);
	j.source = dst_url;
	j.target = tmpdb_url;
	j.defaults.jobs = 2;
	refused(&j, "testparts", "BARGE_CAP_SNAPSHOT", tmpdb);

	/* verify: invariants need the aggregate slot on both sides */
	char *inv[1] = {"count(*)"};
	struct barge_verify_opts o;
	struct barge_verify_result vr;
	memset(&o, 0, sizeof o);
	memset(&jt, 0, sizeof jt);
	jt.name = "t";
	jt.ninvariants = 1;
	jt.invariants = inv;
	o.source = src_url;
	o.target = dst_url;
	o.ntables = 1;
	o.tables = &jt;
	int err = barge_verify(&o, &vr);
	const char *m = barge_error_last();
	CHECK(err == BARGE_EUSAGE);
	CHECK(strstr(m, "table 't'") && strstr(m, "testparts") &&
	      strstr(m, "no aggregate slot") && !strchr(m, '\n'));
	barge_verify_result_dispose(&vr);
}

int main(void)
{
	char src[1024], tmpdb[1024];

	/* the 4th part_commit of the process fails once, transiently */
	setenv("BARGE_FAULT", "part_commit:retry:4", 1);
	setenv("BARGE_RETRY_BASE", "0.001", 1);
	CHECK_OK(barge_driver_register(&tp_driver));
	CHECK(barge_driver_register(&tp_driver) == BARGE_EUSAGE); /* scheme taken */

	harness_path(src, sizeof src, "parts-src.db");
	harness_path(tmpdb, sizeof tmpdb, "parts-other.db");
	harness_path(dst_dir, sizeof dst_dir, "parts-dst");
	harness_path(state, sizeof state, "parts-state.db");
	char cmd[2200]; /* an earlier run's folders */
	snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s-new'", dst_dir, dst_dir);
	CHECK(system(cmd) == 0);
	sql(src, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT, pid INTEGER);"
		 "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
		 " WHERE i < 1000) INSERT INTO t SELECT i, 'v' || i, i / 2 FROM n;");
	snprintf(src_url, sizeof src_url, "sqlite:%s", src);
	snprintf(dst_url, sizeof dst_url, "testparts:%s", dst_dir);

	copies();
	refusals(tmpdb);
	return harness_done();
}
