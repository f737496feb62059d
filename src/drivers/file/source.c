/*
 * The file endpoint as a source (docs/files.md, "Reading files"). A URL
 * names a folder barge exported (each sub-folder with a schema file is a
 * table, its parts in name order), one file, or a glob; each table is a
 * list of files. A row's address is (file number << 40) | the stream
 * offset where its record starts: chunks are files, and byte ranges of an
 * uncompressed file cut at record boundaries (found by parsing the file
 * from its start with the reader's own parser, so a quoted line break is
 * never a boundary). Reading (read.c) turns records into rows.
 */
#include "file_int.h"
#include "chunker.h"

#include <errno.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ADDR_FILE_SHIFT 40
#define SPLIT_EVERY 1024 /* records between the offsets a split scan keeps */

static void src_dispose(struct file_src *s)
{
	for (size_t i = 0; i < s->npaths; i++)
		free(s->paths[i]);
	free(s->paths);
	free(s->name);
	barge_table_def_free(s->def);
}

void file_src_free(struct barge_conn *c)
{
	for (size_t i = 0; c->src && i < c->nsrc; i++)
		src_dispose(&c->src[i]);
	free(c->src);
	c->src = NULL;
	c->nsrc = 0;
}

static struct file_src *src_add(struct barge_conn *c, const char *name)
{
	struct file_src *v = realloc(c->src, (c->nsrc + 1) * sizeof *v);
	if (!v)
		return NULL;
	c->src = v;
	struct file_src *s = memset(&v[c->nsrc], 0, sizeof *s);
	if (!(s->name = strdup(name)))
		return NULL;
	s->fmt = c->o.format;
	c->nsrc++;
	return s;
}

static int src_path(struct file_src *s, const char *path)
{
	char **v = realloc(s->paths, (s->npaths + 1) * sizeof *v);
	if (!v)
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	s->paths = v;
	if (!(v[s->npaths] = strdup(path)))
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	s->npaths++;
	return 0;
}

/* The format from a file name when format= is not given. */
static const struct file_format *format_of(const struct file_opts *o,
					   const char *path)
{
	if (o->format_set)
		return o->format;
	return strstr(path, ".jsonl") || strstr(path, ".ndjson") ||
	       strstr(path, ".json") ? &file_jsonl_format : &file_csv_format;
}

/* "orders" of /data/orders.csv.gz; of a glob, its folder's name. */
static void table_name(char *buf, size_t n, const char *path, int is_glob)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	if (is_glob && slash) {
		const char *s = slash;
		while (s > path && s[-1] != '/')
			s--;
		snprintf(buf, n, "%.*s", (int)(slash - s), s);
	} else
		snprintf(buf, n, "%.*s", (int)strcspn(base, "."), base);
	if (!buf[0] || strpbrk(buf, "*?["))
		snprintf(buf, n, "data");
}

/* An export's tables: sub-folders with a schema file, parts in order. */
static int open_export(struct barge_conn *c, const char *root)
{
	char **names = NULL, **parts = NULL, dir[4400], fmt[32], comp[32];
	size_t n = 0, np = 0;
	int err = file_names_in(&names, &n, root, "", NULL);
	for (size_t i = 0; err == 0 && i < n; i++) {
		struct barge_table_def *d = NULL;
		int known = 0;
		for (size_t k = 0; k < c->nsrc; k++)
			known |= strcmp(c->src[k].name, names[i]) == 0;
		if (known || names[i][0] == '.' ||
		    file_schema_format(root, names[i], fmt, comp) != 0)
			continue;
		struct file_src *s = src_add(c, names[i]);
		if (!s) {
			err = barge_error_set(BARGE_ENOMEM, "out of memory");
			break;
		}
		if ((err = file_schema_read(root, names[i], &d)) < 0)
			break;
		d->has_rowid = 1;
		s->def = d;
		s->fmt = file_format_find(fmt);
		if (!s->fmt) {
			err = barge_error_set(BARGE_EUSAGE, "file: table '%s' in %s holds %s "
					      "parts, which this build cannot read",
					      names[i], root, fmt);
			break;
		}
		snprintf(dir, sizeof dir, "%s/%s", root, names[i]);
		if ((err = file_names_in(&parts, &np, dir, "part-", NULL)) < 0)
			break;
		for (size_t k = 0; err == 0 && k < np; k++) {
			char p[4800];
			snprintf(p, sizeof p, "%s/%s", dir, parts[k]);
			err = src_path(s, p);
		}
		file_names_free(parts, np);
		parts = NULL;
	}
	file_names_free(names, n);
	return err;
}

int file_src_open(struct barge_conn *c, const char *path)
{
	struct stat sb;
	char name[256];
	int is_glob = strpbrk(path, "*?[") != NULL;
	int err = 0;

	if (!is_glob && stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
		return open_export(c, path);
	table_name(name, sizeof name, path, is_glob);
	struct file_src *s = src_add(c, name);
	if (!s)
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	s->fmt = format_of(&c->o, path);
	if (!is_glob) {
		if (stat(path, &sb) != 0)
			return barge_error_set(BARGE_ENOTFOUND, "file: no file or folder %s",
					       path);
		return src_path(s, path);
	}
	glob_t g;
	int r = glob(path, 0, NULL, &g);
	if (r == GLOB_NOMATCH)
		return barge_error_set(BARGE_ENOTFOUND, "file: no file matches %s", path);
	if (r != 0)
		return barge_error_set(BARGE_ERROR, "file: cannot list %s", path);
	for (size_t i = 0; err == 0 && i < g.gl_pathc; i++) /* glob sorts them */
		err = src_path(s, g.gl_pathv[i]);
	globfree(&g);
	return err;
}

static struct file_src *src_find(struct barge_conn *c, const char *table)
{
	struct stat sb;
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < c->nsrc; i++)
			if (strcmp(c->src[i].name, table) == 0)
				return &c->src[i];
		/* an export folder: a table made since the connection opened */
		if (pass == 0 && (stat(c->root, &sb) != 0 || !S_ISDIR(sb.st_mode) ||
				  open_export(c, c->root) < 0))
			break;
	}
	barge_error_set(BARGE_ENOTFOUND, "file: no table '%s' in %s", table, c->root);
	return NULL;
}

int file_src_list(struct barge_conn *c, char ***names)
{
	if (!(*names = calloc(c->nsrc + 1, sizeof **names)))
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	for (size_t i = 0; i < c->nsrc; i++)
		if (!((*names)[i] = strdup(c->src[i].name)))
			return barge_error_set(BARGE_ENOMEM, "out of memory");
	return 0;
}

int file_src_describe(struct barge_conn *c, const char *table,
		      struct barge_table_def **out)
{
	struct file_src *s = src_find(c, table);
	int err;
	*out = NULL;
	if (!s)
		return BARGE_ENOTFOUND;
	if (!s->def) {
		struct barge_table_def *d = calloc(1, sizeof *d);
		int64_t n = 0;
		if (!d || !(d->name = strdup(s->name))) {
			free(d);
			return barge_error_set(BARGE_ENOMEM, "out of memory");
		}
		d->rows = -1;
		d->has_rowid = 1;
		struct file_opts o = c->o;
		o.format = s->fmt;
		if ((err = file_infer(d, &o, s->paths, s->npaths, &n)) < 0) {
			barge_table_def_free(d);
			return err;
		}
		barge_table_def_warn(d, "no schema given: the column types were "
				     "inferred from the first %lld records of %zu "
				     "file(s)", (long long)n, s->npaths);
		s->def = d;
	}
	return barge_table_def_dup(out, s->def);
}

const struct file_src *file_src_of(struct barge_conn *c, const char *table)
{
	return src_find(c, table);
}

int64_t file_addr(size_t file, uint64_t off)
{
	return (int64_t)((uint64_t)file << ADDR_FILE_SHIFT | off);
}

void file_addr_split(int64_t a, size_t *file, uint64_t *off)
{
	*file = (size_t)((uint64_t)a >> ADDR_FILE_SHIFT);
	*off = (uint64_t)a & (((uint64_t)1 << ADDR_FILE_SHIFT) - 1);
}

/* ---- chunk bounds ------------------------------------------------------------- */

struct offs {
	int64_t *v;
	size_t n, cap;
};

static int offs_add(struct offs *o, int64_t a)
{
	if (o->n == o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 256;
		int64_t *v = realloc(o->v, cap * sizeof *v);
		if (!v)
			return barge_error_set(BARGE_ENOMEM, "out of memory");
		o->v = v;
		o->cap = cap;
	}
	o->v[o->n++] = a;
	return 0;
}

/*
 * Scan a file's records from its start: every SPLIT_EVERY-th record's
 * address into `at` (an uncompressed file only: a compressed one is one
 * chunk), and the records counted.
 */
static int scan_file(const struct file_opts *o, const struct file_src *s,
		     size_t fi, struct offs *at, int64_t *rows)
{
	struct file_in in;
	struct file_rec r;
	int err = file_in_open(&in, s->paths[fi], 0);
	int64_t k = 0;
	int jsonl = s->fmt == &file_jsonl_format, header = !jsonl && o->header;

	file_rec_init(&r);
	while (err == 0) {
		uint64_t start;
		const char *raw;
		size_t rawn;
		int got = file_in_record(&in, o, jsonl, &r, &start, &raw, &rawn);
		if (got <= 0) {
			err = got;
			break;
		}
		if (header) {
			header = 0;
			continue;
		}
		if ((r.nf == 0 && !r.why) || (r.nf == 1 && r.f[0].len == 0 && r.f[0].kind == FF_BARE))
			continue; /* blank */
		if (k % SPLIT_EVERY == 0 && in.comp == FILE_COMP_NONE && k > 0)
			err = offs_add(at, file_addr(fi, start));
		k++;
	}
	*rows += k;
	file_rec_dispose(&r);
	file_in_close(&in);
	return err;
}

int file_rowid_splits(struct barge_conn *c, const struct barge_table_def *t,
		      int64_t chunk_rows, int jobs, int64_t **bounds, size_t *n,
		      int64_t *rows)
{
	const struct file_src *s = src_find(c, t->name);
	struct offs at = {0}, out = {0};
	size_t *first = NULL; /* index in `at` of each file's first offset */
	int64_t *frows = NULL;
	int err = 0;

	*rows = 0;
	if (!s)
		return BARGE_ENOTFOUND;
	struct file_opts o = c->o;
	o.format = s->fmt;
	if (!(first = calloc(s->npaths + 1, sizeof *first)) ||
	    !(frows = calloc(s->npaths, sizeof *frows)))
		err = barge_error_set(BARGE_ENOMEM, "out of memory");
	for (size_t f = 0; err == 0 && f < s->npaths; f++) {
		first[f] = at.n;
		err = scan_file(&o, s, f, &at, &frows[f]);
		*rows += frows[f];
	}
	if (err == 0) {
		first[s->npaths] = at.n;
		if (chunk_rows <= 0)
			chunk_rows = barge_chunk_rows_auto(*rows, jobs);
		int64_t every = chunk_rows / SPLIT_EVERY;
		if (every < 1)
			every = 1;
		for (size_t f = 0; err == 0 && f < s->npaths; f++) {
			if (f > 0)
				err = offs_add(&out, file_addr(f, 0));
			for (size_t k = first[f]; err == 0 && k < first[f + 1]; k++)
				if ((int64_t)(k - first[f] + 1) % every == 0)
					err = offs_add(&out, at.v[k]);
		}
	}
	free(first);
	free(frows);
	free(at.v);
	if (err < 0) {
		free(out.v);
		return err;
	}
	*bounds = out.v;
	*n = out.n;
	return 0;
}
