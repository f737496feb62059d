/*
 * manifest.json: what a consumer needs to check an export without barge.
 * Written at the end of a run (the driver's finish_tables), atomically,
 * from what is on disk: each table's schema file and its parts' records
 * (part.c). A record whose part is missing or has another size is an
 * error, not a silent omission. Tables and parts are listed in name
 * order, which is key order for the parts.
 */
#include "file_int.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int file_names_in(char ***out, size_t *nout, const char *dir,
		    const char *prefix, const char *suffix)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0, cap = 16;
	char **v = calloc(cap, sizeof *v);
	int err = 0;

	*out = NULL;
	*nout = 0;
	if (!d || !v) {
		free(v);
		if (d)
			closedir(d);
		return barge_error_set(BARGE_ERROR, "cannot read %s: %s", dir,
				       strerror(errno));
	}
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name), sl = suffix ? strlen(suffix) : 0;
		if (strncmp(e->d_name, prefix, strlen(prefix)) != 0 ||
		    (suffix && (len < sl || strcmp(e->d_name + len - sl, suffix) != 0)))
			continue;
		if (n + 1 >= cap) {
			char **nv = realloc(v, 2 * cap * sizeof *nv);
			if (!nv) {
				err = barge_error_set(BARGE_ENOMEM, "out of memory");
				break;
			}
			v = nv;
			cap *= 2;
		}
		if (!(v[n] = strdup(e->d_name))) {
			err = barge_error_set(BARGE_ENOMEM, "out of memory");
			break;
		}
		v[++n] = NULL;
	}
	closedir(d);
	qsort(v, n, sizeof *v, cmp_str);
	*out = v;
	*nout = n;
	return err;
}

void file_names_free(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

static void json_kv_str(struct barge_buf *b, const char *k, const char *v)
{
	barge_buf_json_str(b, k, strlen(k));
	barge_buf_add(b, ":", 1);
	barge_buf_json_str(b, v, strlen(v));
}

static void columns_json(struct barge_buf *b, const struct barge_table_def *t)
{
	barge_buf_adds(b, "\"columns\":[");
	for (size_t i = 0; i < t->ncols; i++) {
		const struct barge_column_def *cd = &t->cols[i];
		barge_buf_adds(b, i ? ",\n    {" : "\n    {");
		json_kv_str(b, "name", cd->name);
		barge_buf_add(b, ",", 1);
		json_kv_str(b, "type", barge_type_name(cd->type));
		barge_buf_add(b, ",", 1);
		json_kv_str(b, "engine_type", cd->engine_type ? cd->engine_type : "");
		barge_buf_printf(b, ",\"notnull\":%s,\"key_pos\":%d",
				 cd->notnull ? "true" : "false", cd->key_pos);
		if (cd->type == BARGE_T_DECIMAL)
			barge_buf_printf(b, ",\"precision\":%d,\"scale\":%d", cd->precision,
					 cd->scale);
		barge_buf_add(b, "}", 1);
	}
	barge_buf_adds(b, "]");
}

struct totals {
	int64_t tables, parts, rows;
	uint64_t bytes;
};

/* One table's object: its columns and parts. */
static int table_json(struct barge_buf *b, const char *root, const char *table,
		      struct totals *tot)
{
	char dir[4096], path[4400];
	struct barge_table_def *t = NULL;
	char **recs = NULL;
	size_t nrecs = 0;
	int64_t rows = 0;
	uint64_t bytes = 0;
	int err;

	if ((err = file_schema_read(root, table, &t)) < 0 ||
	    (err = file_table_dir(dir, sizeof dir, root, table)) < 0 ||
	    (err = file_names_in(&recs, &nrecs, dir, ".part-", ".meta")) < 0)
		goto out;
	barge_buf_adds(b, tot->tables ? ",\n  {" : "\n  {");
	json_kv_str(b, "name", table);
	barge_buf_add(b, ",", 1);
	columns_json(b, t);
	barge_buf_adds(b, ",\n   \"parts\":[");
	for (size_t i = 0; i < nrecs; i++) {
		struct file_part_rec r;
		struct stat sb;
		snprintf(path, sizeof path, "%s/%s", dir, recs[i]);
		if ((err = file_part_rec_read(&r, path)) < 0)
			goto out;
		snprintf(path, sizeof path, "%s/%s", dir, r.file);
		if (stat(path, &sb) != 0 || (uint64_t)sb.st_size != r.bytes) {
			err = barge_error_set(BARGE_EDATA, "file: %s is missing or not the "
					      "part its record describes (%llu bytes): run "
					      "its chunk again", path,
					      (unsigned long long)r.bytes);
			goto out;
		}
		barge_buf_adds(b, i ? ",\n    {" : "\n    {");
		snprintf(path, sizeof path, "%s/%s", table, r.file);
		json_kv_str(b, "file", path);
		barge_buf_printf(b, ",\"chunk\":%lld,\"rows\":%lld,"
				 "\"bytes\":%llu,\"sha256\":\"%s\",\"digest\":\"%s\"}",
				 (long long)r.seq, (long long)r.rows,
				 (unsigned long long)r.bytes, r.sha256, r.digest);
		rows += r.rows;
		bytes += r.bytes;
	}
	barge_buf_printf(b, "],\n   \"rows\":%lld,\"bytes\":%llu}", (long long)rows,
			 (unsigned long long)bytes);
	tot->tables++;
	tot->parts += (int64_t)nrecs;
	tot->rows += rows;
	tot->bytes += bytes;
out:
	file_names_free(recs, nrecs);
	barge_table_def_free(t);
	return err;
}

int file_manifest_write(const char *root, const struct file_opts *o)
{
	static const char *const comps[] = {"none", "gzip", "zstd"};
	struct barge_buf b;
	struct totals tot = {0, 0, 0, 0};
	char path[4200], when[32];
	char **dirs = NULL;
	size_t ndirs = 0;
	time_t now = time(NULL);
	struct tm tm;
	int err;

	if ((err = file_names_in(&dirs, &ndirs, root, "", NULL)) < 0)
		return err;
	barge_buf_init(&b, 1u << 30);
	gmtime_r(&now, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	barge_buf_printf(&b, "{\"barge_manifest\":1,\"written_at\":\"%s\",", when);
	json_kv_str(&b, "format", o->format->name);
	barge_buf_add(&b, ",", 1);
	json_kv_str(&b, "compression", comps[o->comp]);
	barge_buf_adds(&b, ",\n \"digest\":\"barge canonical rows, XXH3-128 summed "
		       "mod 2^128 (docs/verify.md)\",\n \"tables\":[");
	for (size_t i = 0; i < ndirs && err == 0; i++) {
		char sp[4400];
		struct stat sb;
		snprintf(sp, sizeof sp, "%s/%s/.barge-schema", root, dirs[i]);
		if (dirs[i][0] == '.' || stat(sp, &sb) != 0)
			continue;
		err = table_json(&b, root, dirs[i], &tot);
	}
	barge_buf_printf(&b, "],\n \"totals\":{\"tables\":%lld,\"parts\":%lld,"
			 "\"rows\":%lld,\"bytes\":%llu}}\n", (long long)tot.tables,
			 (long long)tot.parts, (long long)tot.rows,
			 (unsigned long long)tot.bytes);
	if (err == 0 && b.err)
		err = barge_error_set(b.err, "file: the manifest is too large");
	snprintf(path, sizeof path, "%s/manifest.json", root);
	if (err == 0 && (err = file_write_atomic(path, b.p, b.len)) == 0)
		err = file_fsync_dir(root);
	barge_buf_dispose(&b);
	file_names_free(dirs, ndirs);
	return err;
}
