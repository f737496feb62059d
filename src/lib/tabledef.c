/*
 * Table definitions (struct barge_table_def): copy, free, look-up, and
 * the pieces a driver's describe builds (foreign keys, indexes).
 */
#include "barge/barge.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *dup_or_null(const char *s, int *err)
{
	if (!s)
		return NULL;
	char *d = strdup(s);
	if (!d)
		*err = BARGE_ENOMEM;
	return d;
}

static char **dup_strv(char *const *v, size_t n, int *err)
{
	if (!n)
		return NULL;
	char **d = calloc(n, sizeof *d);
	if (!d) {
		*err = BARGE_ENOMEM;
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		d[i] = dup_or_null(v[i], err);
	return d;
}

static void free_strv(char **v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int barge_table_def_dup(struct barge_table_def **out,
			const struct barge_table_def *t)
{
	int err = 0;
	struct barge_table_def *d = calloc(1, sizeof *d);

	*out = NULL;
	if (!d)
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	d->name = dup_or_null(t->name, &err);
	d->has_rowid = t->has_rowid;
	d->rows = t->rows;
	d->ncols = t->ncols;
	d->cols = calloc(t->ncols ? t->ncols : 1, sizeof *d->cols);
	if (!d->cols)
		err = BARGE_ENOMEM;
	for (size_t i = 0; d->cols && i < t->ncols; i++) {
		d->cols[i] = t->cols[i];
		d->cols[i].name = dup_or_null(t->cols[i].name, &err);
		d->cols[i].engine_type = dup_or_null(t->cols[i].engine_type, &err);
	}
	d->nkey = t->nkey;
	if (t->nkey) {
		d->key = malloc(t->nkey * sizeof *d->key);
		if (d->key)
			memcpy(d->key, t->key, t->nkey * sizeof *d->key);
		else
			err = BARGE_ENOMEM;
	}
	d->nfks = t->nfks;
	if (t->nfks) {
		d->fks = calloc(t->nfks, sizeof *d->fks);
		if (!d->fks)
			err = BARGE_ENOMEM;
		for (size_t i = 0; d->fks && i < t->nfks; i++) {
			const struct barge_fk_def *f = &t->fks[i];
			d->fks[i].ncols = f->ncols;
			d->fks[i].cols = dup_strv(f->cols, f->ncols, &err);
			d->fks[i].ref_cols = dup_strv(f->ref_cols, f->ncols, &err);
			d->fks[i].ref_table = dup_or_null(f->ref_table, &err);
		}
	}
	d->nwarnings = t->nwarnings;
	d->nindexes = t->nindexes;
	if (t->nindexes && !(d->indexes = calloc(t->nindexes, sizeof *d->indexes)))
		err = barge_error_set(BARGE_ENOMEM, "out of memory");
	for (size_t i = 0; d->indexes && i < t->nindexes; i++) {
		const struct barge_index_def *x = &t->indexes[i];
		d->indexes[i].name = dup_or_null(x->name, &err);
		d->indexes[i].unique = x->unique;
		d->indexes[i].ncols = x->ncols;
		d->indexes[i].cols = dup_strv(x->cols, x->ncols, &err);
	}
	d->warnings = dup_strv(t->warnings, t->nwarnings, &err);
	if (err) {
		barge_table_def_free(d);
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	}
	*out = d;
	return 0;
}

void barge_table_def_free(struct barge_table_def *t)
{
	if (!t)
		return;
	for (size_t i = 0; t->cols && i < t->ncols; i++) {
		free(t->cols[i].name);
		free(t->cols[i].engine_type);
	}
	free(t->cols);
	free(t->key);
	for (size_t i = 0; t->fks && i < t->nfks; i++) {
		free_strv(t->fks[i].cols, t->fks[i].ncols);
		free_strv(t->fks[i].ref_cols, t->fks[i].ncols);
		free(t->fks[i].ref_table);
	}
	free(t->fks);
	for (size_t i = 0; t->indexes && i < t->nindexes; i++) {
		free(t->indexes[i].name);
		free_strv(t->indexes[i].cols, t->indexes[i].ncols);
	}
	free(t->indexes);
	free_strv(t->warnings, t->nwarnings);
	free(t->name);
	free(t);
}

int barge_table_def_find(const struct barge_table_def *t, const char *name)
{
	for (size_t i = 0; i < t->ncols; i++)
		if (strcmp(t->cols[i].name, name) == 0)
			return (int)i;
	return -1;
}

size_t barge_table_def_key_positions(const struct barge_table_def *t,
				     const size_t *cols, size_t ncols,
				     size_t *pos, int *missing)
{
	size_t n = 0;

	if (missing)
		*missing = -1;
	for (size_t k = 0; k < t->nkey; k++) {
		size_t i = 0;
		while (i < ncols && cols[i] != t->key[k])
			i++;
		if (i < ncols)
			pos[n++] = i;
		else if (missing && *missing < 0)
			*missing = (int)t->key[k];
	}
	return n;
}

int barge_write_req_keys(const struct barge_write_req *req, const char *driver,
			 size_t *pos, size_t *npos)
{
	const struct barge_table_def *t = req->table;
	int missing;

	*npos = barge_table_def_key_positions(t, req->cols, req->ncols, pos, &missing);
	if (missing >= 0 && req->mode == BARGE_MODE_UPSERT)
		return barge_error_set(BARGE_EUSAGE,
				       "%s: table '%s': upsert needs key column %s"
				       " among the columns written",
				       driver, t->name, t->cols[missing].name);
	return 0;
}

/* Append s (copied; NULL stays NULL) to the array *v of *n strings. */
static int strv_push(char ***v, size_t *n, const char *s)
{
	char **nv = realloc(*v, (*n + 1) * sizeof *nv);
	if (!nv)
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	*v = nv;
	if (s && !(nv[*n] = strdup(s)))
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	if (!s)
		nv[*n] = NULL;
	++*n;
	return 0;
}

int barge_table_def_add_fk(struct barge_table_def *t, const char *ref_table)
{
	struct barge_fk_def *v = realloc(t->fks, (t->nfks + 1) * sizeof *v);
	if (!v)
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	t->fks = v;
	memset(&v[t->nfks], 0, sizeof *v);
	if (!(v[t->nfks].ref_table = strdup(ref_table)))
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	t->nfks++;
	return 0;
}

/* cols and ref_cols share one count: on a failure both keep ncols. */
int barge_table_def_add_fk_col(struct barge_table_def *t, const char *col,
			       const char *ref_col)
{
	assert(t->nfks > 0);
	struct barge_fk_def *f = &t->fks[t->nfks - 1];
	size_t n = f->ncols;
	int err;

	if ((err = strv_push(&f->ref_cols, &n, ref_col)))
		return err;
	n = f->ncols;
	if ((err = strv_push(&f->cols, &n, col))) {
		free(f->ref_cols[f->ncols]);
		return err;
	}
	f->ncols = n;
	return 0;
}

int barge_table_def_add_index(struct barge_table_def *t, const char *name,
			      int unique)
{
	struct barge_index_def *v = realloc(t->indexes, (t->nindexes + 1) * sizeof *v);
	if (!v)
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	t->indexes = v;
	memset(&v[t->nindexes], 0, sizeof *v);
	v[t->nindexes].unique = unique;
	if (!(v[t->nindexes].name = strdup(name)))
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	t->nindexes++;
	return 0;
}

int barge_table_def_add_index_col(struct barge_table_def *t, const char *col)
{
	assert(t->nindexes > 0);
	struct barge_index_def *x = &t->indexes[t->nindexes - 1];
	return strv_push(&x->cols, &x->ncols, col);
}

int barge_table_def_warn(struct barge_table_def *t, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	char **w = realloc(t->warnings, (t->nwarnings + 1) * sizeof *w);
	if (!w)
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	t->warnings = w;
	if (!(w[t->nwarnings] = strdup(buf)))
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	t->nwarnings++;
	return 0;
}
