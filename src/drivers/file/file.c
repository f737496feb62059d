/*
 * The file endpoint (docs/files.md): file:///dir?format=csv|jsonl&
 * compression=none|gzip|zstd&... (or file:rel/dir?...). The folder holds
 * one sub-folder per table and manifest.json; each table folder holds
 * its schema (.barge-schema: the columns and the format of its parts)
 * and one part per chunk (part.c). A target only: no transactions, so
 * each chunk is a part; no SQL, no snapshot, no upsert, no lookup.
 */
#include "file_int.h"
#include "drv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SCHEMA_FILE ".barge-schema"

static const char *const comp_names[] = {"none", "gzip", "zstd"};

static int opt_char(char *out, const char *v, const char *key)
{
	if (strlen(v) != 1 || v[0] == '\n' || v[0] == '\r')
		return barge_error_set(BARGE_EUSAGE, "file URL: %s= takes one character "
				       "(not CR or LF), not '%s'", key, v);
	*out = v[0];
	return 0;
}

static int opt_word(int *out, const char *v, const char *key,
		    const char *const *words, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v, words[i]) == 0) {
			*out = (int)i;
			return 0;
		}
	return barge_error_set(BARGE_EUSAGE, "file URL: unknown %s '%s'", key, v);
}

int file_opts_parse(struct file_opts *o, const struct barge_url *url)
{
	static const char *const bools[] = {"false", "true"};
	static const char *const bytes[] = {"hex", "base64"};
	static const char *const numbers[] = {"exact", "string"};
	int err = 0;

	memset(o, 0, sizeof *o);
	o->format = &file_csv_format;
	o->delimiter = ',';
	o->quote = '"';
	o->header = 1;
	for (size_t i = 0; i < url->nparams && err == 0; i++) {
		const char *k = url->params[i].key, *v = url->params[i].value;
		int64_t n;
		if (strcmp(k, "format") == 0) {
			if (!(o->format = file_format_find(v)))
				err = barge_error_set(BARGE_EUSAGE, "file URL: unknown format "
						      "'%s' (this build writes csv and jsonl)", v);
		} else if (strcmp(k, "compression") == 0)
			err = opt_word(&o->comp, v, k, comp_names, 3);
		else if (strcmp(k, "level") == 0) {
			if ((err = barge_parse_i64(&n, v, "file URL: level")) == 0 &&
			    (n < 1 || n > 19))
				err = barge_error_set(BARGE_EUSAGE, "file URL: level %lld is "
						      "not in 1..19 (gzip: 1..9)", (long long)n);
			o->level = (int)n;
		} else if (strcmp(k, "delimiter") == 0)
			err = opt_char(&o->delimiter, v, k);
		else if (strcmp(k, "quote") == 0)
			err = opt_char(&o->quote, v, k);
		else if (strcmp(k, "null") == 0) {
			if (strlen(v) >= sizeof o->null_text || strpbrk(v, "\r\n"))
				err = barge_error_set(BARGE_EUSAGE, "file URL: null= takes up "
						      "to %zu characters, no CR or LF",
						      sizeof o->null_text - 1);
			else
				snprintf(o->null_text, sizeof o->null_text, "%s", v);
		} else if (strcmp(k, "header") == 0)
			err = opt_word(&o->header, v, k, bools, 2);
		else if (strcmp(k, "bytes") == 0)
			err = opt_word(&o->bytes, v, k, bytes, 2);
		else if (strcmp(k, "numbers") == 0)
			err = opt_word(&o->exact_strings, v, k, numbers, 2);
		else
			err = barge_error_set(BARGE_EUSAGE, "file URL: unknown option '%s' "
					      "(format, compression, level, delimiter, quote, "
					      "null, header, bytes, numbers)", k);
	}
	if (err == 0 && o->comp == FILE_COMP_GZIP && o->level > 9)
		err = barge_error_set(BARGE_EUSAGE, "file URL: gzip's level is 1..9");
	if (err == 0 && (o->delimiter == o->quote ||
			 (o->null_text[0] && (strchr(o->null_text, o->delimiter) ||
					      strchr(o->null_text, o->quote)))))
		err = barge_error_set(BARGE_EUSAGE, "file URL: the delimiter, the quote "
				      "and the NULL text must not overlap");
	return err;
}

int file_table_dir(char *buf, size_t n, const char *root, const char *table)
{
	if (!table[0] || table[0] == '.' || strchr(table, '/') ||
	    strlen(table) > 200)
		return barge_error_set(BARGE_EUSAGE, "file: a table named '%s' cannot be "
				       "a folder (empty, a leading dot, a slash or over "
				       "200 bytes); rename it with the plan's target:",
				       table);
	snprintf(buf, n, "%s/%s", root, table);
	return 0;
}

int file_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) != 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return barge_error_set(BARGE_ERROR, "cannot fsync the folder %s: %s", dir,
				       strerror(e));
	}
	close(fd);
	return 0;
}

int file_write_atomic(const char *path, const char *p, size_t n)
{
	char tmp[4200];
	int fd, err = 0;
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	unlink(tmp);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0)
		return barge_error_set(BARGE_ERROR, "cannot create %s: %s", tmp,
				       strerror(errno));
	while (n && err == 0) {
		ssize_t k = write(fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			err = barge_error_set(BARGE_ERROR, "cannot write %s: %s", tmp,
					      strerror(errno));
		else {
			p += k;
			n -= (size_t)k;
		}
	}
	if (err == 0 && fsync(fd) != 0)
		err = barge_error_set(BARGE_ERROR, "cannot fsync %s: %s", tmp,
				      strerror(errno));
	close(fd);
	if (err == 0 && rename(tmp, path) != 0)
		err = barge_error_set(BARGE_ERROR, "cannot rename %s: %s", tmp,
				      strerror(errno));
	if (err < 0)
		unlink(tmp);
	return err;
}

/* ---- connections ---------------------------------------------------------- */

static int mkdirs(char *path)
{
	for (char *s = path + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		int r = mkdir(path, 0700);
		*s = '/';
		if (r != 0 && errno != EEXIST)
			return -1;
	}
	return mkdir(path, 0700) != 0 && errno != EEXIST ? -1 : 0;
}

static int file_open(struct barge_conn **out, const struct barge_url *url,
		     unsigned flags)
{
	struct barge_conn *c = NULL;
	struct stat sb;
	int err;

	*out = NULL;
	if (sodium_init() < 0)
		return barge_error_set(BARGE_ERROR, "file: libsodium cannot start");
	if (!(c = calloc(1, sizeof *c)))
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	c->fd = -1;
	c->flags = flags;
	if ((err = file_opts_parse(&c->o, url)) < 0)
		goto fail;
	if (!(c->root = strdup(url->path))) {
		err = barge_error_set(BARGE_ENOMEM, "out of memory");
		goto fail;
	}
	size_t n = strlen(c->root);
	while (n > 1 && c->root[n - 1] == '/')
		c->root[--n] = '\0';
	if (stat(c->root, &sb) != 0) {
		if (!(flags & BARGE_OPEN_CREATE)) {
			err = barge_error_set(BARGE_ENOTFOUND, "file: no folder %s", c->root);
			goto fail;
		}
		if (mkdirs(c->root) != 0) {
			err = barge_error_set(BARGE_ERROR, "file: cannot make the folder "
					      "%s: %s", c->root, strerror(errno));
			goto fail;
		}
	} else if (!S_ISDIR(sb.st_mode)) {
		err = barge_error_set(BARGE_EUSAGE, "file: %s is not a folder (a file "
				      "target is a folder of tables)", c->root);
		goto fail;
	}
	*out = c;
	return 0;
fail:
	free(c->root);
	free(c);
	return err;
}

static void file_close(struct barge_conn *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		file_part_abort(c);
	free(c->root);
	free(c);
}

/* ---- schema files ----------------------------------------------------------- */

static void schema_path(char *buf, size_t n, const char *root, const char *table)
{
	snprintf(buf, n, "%s/%s/" SCHEMA_FILE, root, table);
}

/*
 * root/table/.barge-schema: "barge-schema 1 FORMAT COMPRESSION", then a
 * line per column: name, logical type, notnull, key_pos, precision,
 * scale, the source's engine type, tab-separated.
 */
static int schema_write(const struct barge_conn *c, const struct barge_table_def *t)
{
	struct barge_buf b;
	char dir[4096], path[4400];
	int err;

	if ((err = file_table_dir(dir, sizeof dir, c->root, t->name)) < 0)
		return err;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return barge_error_set(BARGE_ERROR, "cannot make the folder %s: %s", dir,
				       strerror(errno));
	barge_buf_init(&b, 1u << 24);
	barge_buf_printf(&b, "barge-schema 1 %s %s\n", c->o.format->name,
			 comp_names[c->o.comp]);
	for (size_t i = 0; i < t->ncols && err == 0; i++) {
		const struct barge_column_def *cd = &t->cols[i];
		const char *et = cd->engine_type ? cd->engine_type : "";
		if (strpbrk(cd->name, "\t\r\n") || strpbrk(et, "\t\r\n"))
			err = barge_error_set(BARGE_EUSAGE, "file: table '%s': a column "
					      "name or type with a tab or a line break",
					      t->name);
		barge_buf_printf(&b, "%s\t%s\t%d\t%d\t%d\t%d\t%s\n", cd->name,
				 barge_type_name(cd->type), cd->notnull, cd->key_pos,
				 cd->precision, cd->scale, et);
	}
	schema_path(path, sizeof path, c->root, t->name);
	if (err == 0 && b.err)
		err = barge_error_set(b.err, "file: table '%s': its schema is too large",
				      t->name);
	if (err == 0 && (err = file_write_atomic(path, b.p, b.len)) == 0)
		err = file_fsync_dir(dir);
	barge_buf_dispose(&b);
	return err;
}

/* Split `line` at tabs in place: up to `max` fields. */
static size_t split_tabs(char *line, char **f, size_t max)
{
	size_t n = 0;
	line[strcspn(line, "\r\n")] = '\0';
	while (n < max) {
		f[n++] = line;
		char *tab = strchr(line, '\t');
		if (!tab)
			break;
		*tab = '\0';
		line = tab + 1;
	}
	return n;
}

static int schema_add_col(struct barge_table_def *d, char **f, const char *path)
{
	enum barge_type type;
	struct barge_column_def *cols = realloc(d->cols, (d->ncols + 1) * sizeof *cols);
	if (!cols)
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	d->cols = cols;
	struct barge_column_def *cd = memset(&cols[d->ncols], 0, sizeof *cd);
	if (barge_type_parse(&type, f[1]) < 0)
		return barge_error_wrap(BARGE_EDATA, "%s", path);
	cd->type = (int)type;
	cd->notnull = strtol(f[2], NULL, 10) != 0;
	cd->key_pos = (int)strtol(f[3], NULL, 10);
	cd->precision = (int)strtol(f[4], NULL, 10);
	cd->scale = (int)strtol(f[5], NULL, 10);
	if (!(cd->name = strdup(f[0])) || !(cd->engine_type = strdup(f[6])))
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	d->ncols++;
	return 0;
}

/* The table's key from its columns' key_pos. */
static int schema_key(struct barge_table_def *d, const char *path)
{
	for (size_t i = 0; i < d->ncols; i++)
		if (d->cols[i].key_pos > 0)
			d->nkey++;
	if (!d->nkey)
		return 0;
	if (!(d->key = calloc(d->nkey, sizeof *d->key)))
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	for (size_t i = 0; i < d->ncols; i++) {
		int kp = d->cols[i].key_pos;
		if (kp > (int)d->nkey)
			return barge_error_set(BARGE_EDATA, "%s: key position %d of %zu",
					       path, kp, d->nkey);
		if (kp > 0)
			d->key[kp - 1] = i;
	}
	return 0;
}

int file_schema_read(const char *root, const char *table,
		     struct barge_table_def **out)
{
	char path[4400], line[8192], fmt[32] = "", comp[32] = "";
	struct barge_table_def *d = NULL;
	int err = 0, version = 0;
	FILE *f;

	*out = NULL;
	if ((err = file_table_dir(path, sizeof path, root, table)) < 0)
		return err;
	schema_path(path, sizeof path, root, table);
	if (!(f = fopen(path, "r")))
		return barge_error_set(BARGE_ENOTFOUND, "file: no table '%s' in %s", table,
				       root);
	if (!fgets(line, sizeof line, f) ||
	    sscanf(line, "barge-schema %d %31s %31s", &version, fmt, comp) != 3 ||
	    version != 1) {
		err = barge_error_set(BARGE_EDATA, "%s: not a barge schema file", path);
		goto out;
	}
	if (!(d = calloc(1, sizeof *d)) || !(d->name = strdup(table))) {
		err = barge_error_set(BARGE_ENOMEM, "out of memory");
		goto out;
	}
	d->rows = -1;
	while (err == 0 && fgets(line, sizeof line, f)) {
		char *fl[7];
		if (split_tabs(line, fl, 7) != 7)
			err = barge_error_set(BARGE_EDATA, "%s: a column line without 7 "
					      "fields", path);
		else
			err = schema_add_col(d, fl, path);
	}
	if (err == 0)
		err = schema_key(d, path);
out:
	fclose(f);
	if (err < 0)
		barge_table_def_free(d);
	else
		*out = d;
	return err;
}

/* The format and compression a table's parts were written in. */
static int schema_format(const char *root, const char *table, char fmt[32],
			 char comp[32])
{
	char path[4400], line[256];
	int version = 0;
	schema_path(path, sizeof path, root, table);
	FILE *f = fopen(path, "r");
	if (!f)
		return BARGE_ENOTFOUND;
	int ok = fgets(line, sizeof line, f) &&
		 sscanf(line, "barge-schema %d %31s %31s", &version, fmt, comp) == 3;
	fclose(f);
	return ok ? 0 : barge_error_set(BARGE_EDATA, "%s: not a barge schema file", path);
}

static int file_describe(struct barge_conn *c, const char *table,
			 struct barge_table_def **out)
{
	return file_schema_read(c->root, table, out);
}

/* The sub-folders that hold a schema file. */
static int file_list_tables(struct barge_conn *c, char ***names)
{
	char path[4400];
	size_t n = 0, k = 0;
	int err = file_names_in(names, &n, c->root, "", NULL);
	for (size_t i = 0; err == 0 && i < n; i++) {
		schema_path(path, sizeof path, c->root, (*names)[i]);
		if ((*names)[i][0] != '.' && access(path, F_OK) == 0)
			(*names)[k++] = (*names)[i];
		else
			free((*names)[i]);
	}
	if (*names)
		(*names)[k] = NULL;
	return err;
}

static int file_create_table(struct barge_conn *c, const struct barge_table_def *t)
{
	return schema_write(c, t);
}

/* Every part of the table goes; the schema takes this URL's format. */
static int file_truncate(struct barge_conn *c, const struct barge_table_def *t)
{
	char dir[4096];
	int err = file_table_dir(dir, sizeof dir, c->root, t->name);
	if (err == 0 && (err = file_parts_remove(dir)) == 0)
		err = schema_write(c, t);
	return err;
}

/* Parts of another format would sit beside this one's: refused. */
static int file_part_begin_checked(struct barge_conn *c,
				   const struct barge_table_def *t,
				   const struct barge_chunk *chunk)
{
	char fmt[32], comp[32];
	int err = schema_format(c->root, t->name, fmt, comp);
	if (err == BARGE_ENOTFOUND)
		err = schema_write(c, t);
	else if (err == 0 && (strcmp(fmt, c->o.format->name) != 0 ||
			      strcmp(comp, comp_names[c->o.comp]) != 0))
		err = barge_error_set(BARGE_EUSAGE, "file: table '%s' in %s holds %s "
				      "parts (compression %s) and this URL writes %s (%s): "
				      "use --mode truncate to replace them, or another folder",
				      t->name, c->root, fmt, comp, c->o.format->name,
				      comp_names[c->o.comp]);
	return err < 0 ? err : file_part_begin(c, t, chunk);
}

/* Once every chunk is done: the manifest, from every table's parts. */
static int file_finish_tables(struct barge_conn *c, struct barge_conn *src,
			      size_t n, const struct barge_table_def *const *src_defs,
			      const struct barge_table_def *const *dst_defs,
			      int jobs, unsigned what)
{
	return file_manifest_write(c->root, &c->o);
}

static const struct barge_typemap file_types[] = {
	{"bool", BARGE_T_BOOL, "true / false"},
	{"int64", BARGE_T_INT64, "digits; JSON: a number (a string past 2^53 with numbers=string)"},
	{"float64", BARGE_T_FLOAT64, "shortest text that reads back exactly; NaN, Infinity"},
	{"decimal", BARGE_T_DECIMAL, "exact text; JSON: a number (a string with numbers=string)"},
	{"text", BARGE_T_TEXT, "UTF-8, never transcoded"},
	{"bytes", BARGE_T_BYTES, "CSV: \\x-hex (bytes=base64: base64); JSON: base64"},
	{"date", BARGE_T_DATE, "YYYY-MM-DD"},
	{"time", BARGE_T_TIME, "HH:MM:SS[.ffffff]"},
	{"timestamp", BARGE_T_TIMESTAMP, "YYYY-MM-DDTHH:MM:SS[.ffffff]"},
	{"timestamptz", BARGE_T_TIMESTAMPTZ, "YYYY-MM-DDTHH:MM:SS[.ffffff]+00:00"},
	{"uuid", BARGE_T_UUID, "8-4-4-4-12 lowercase"},
	{"json", BARGE_T_JSON, "CSV: the text; JSON: embedded, canonical"},
};

static const struct barge_typemap *file_typemap(size_t *n)
{
	*n = sizeof file_types / sizeof file_types[0];
	return file_types;
}

static const char *const file_schemes[] = {"file", NULL};

const struct barge_driver barge_file_driver = {
	.name = "file",
	.version = 1,
	.caps = BARGE_CAP_PARALLEL_WRITE | BARGE_CAP_PATH,
	.schemes = file_schemes,
	.open = file_open,
	.close = file_close,
	.list_tables = file_list_tables,
	.describe = file_describe,
	.create_table = file_create_table,
	.truncate = file_truncate,
	.part_begin = file_part_begin_checked,
	.part_commit = file_part_commit,
	.part_abort = file_part_abort,
	.write_open = file_write_open,
	.write_batch = file_write_batch,
	.write_close = file_write_close,
	.finish_tables = file_finish_tables,
	.typemap = file_typemap,
};
