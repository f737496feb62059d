/*
 * A plan's table bound to its source (binding.h): the one copy of what
 * `barge run` and `barge verify` both derive from a job table, so that
 * verify follows the run: the copied columns, the compiled mapping, the
 * key maps and the `references` rules through them.
 */
#include "binding.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int barge_bind_in_list(char *const *list, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i], s) == 0)
			return (int)i;
	return -1;
}

const char *barge_bind_renamed(const struct barge_job_table *jt, const char *name)
{
	int r = barge_bind_in_list(jt->rename_from, jt->nrename, name);
	return r >= 0 ? jt->rename_to[r] : name;
}

/* ---- Columns and mapping ------------------------------------------------- */

/*
 * Check a job table's skipped and renamed columns against the source
 * definition `d` and make its chunking key d's key (when the job names
 * one). Usage errors name the table and column. The one place
 * both run and verify apply them (declared in engine.h).
 */
int barge_job_table_apply(struct barge_table_def *d,
			  const struct barge_job_table *jt)
{
	for (size_t i = 0; i < jt->nskip; i++)
		if (barge_table_def_find(d, jt->skip[i]) < 0)
			return barge_error_set(BARGE_EUSAGE,
					       "table '%s' has no column '%s' (to skip)",
					       d->name, jt->skip[i]);
	for (size_t i = 0; i < jt->nrename; i++)
		if (barge_table_def_find(d, jt->rename_from[i]) < 0)
			return barge_error_set(BARGE_EUSAGE,
					       "table '%s' has no column '%s'",
					       d->name, jt->rename_from[i]);
	if (jt->nkey) {
		size_t *key = calloc(jt->nkey, sizeof *key);
		if (!key)
			return barge_error_set(BARGE_ENOMEM, "out of memory");
		for (size_t i = 0; i < jt->nkey; i++) {
			int c = barge_table_def_find(d, jt->key[i]);
			if (c < 0) {
				free(key);
				return barge_error_set(BARGE_EUSAGE,
						       "table '%s' has no key column '%s'",
						       d->name, jt->key[i]);
			}
			key[i] = (size_t)c;
		}
		free(d->key);
		d->key = key;
		d->nkey = jt->nkey;
	}
	return 0;
}

void barge_bind_columns(size_t *src_cols, const char **dst_names, size_t *n,
			const struct barge_table_def *d,
			const struct barge_job_table *jt)
{
	size_t k = 0;
	for (size_t c = 0; c < d->ncols; c++) {
		const char *name = d->cols[c].name;
		if (barge_bind_in_list(jt->skip, jt->nskip, name) >= 0)
			continue;
		src_cols[k] = c;
		dst_names[k] = barge_bind_renamed(jt, name);
		k++;
	}
	*n = k;
}

/* A mapped key column must keep its type: chunk ranges and re-run
 * deletes go by the key's values. */
static int key_types_kept(const struct barge_xf *xf, const struct barge_table_def *d,
			  size_t n, const size_t *src_cols)
{
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < d->nkey; k++)
			if (src_cols[i] == d->key[k] &&
			    barge_xf_col(xf, i)->type != d->cols[d->key[k]].type)
				return barge_error_set(BARGE_EUSAGE,
						       "table '%s': key column '%s' "
						       "cannot change its type (chunks "
						       "are ranges of its values)",
						       d->name, d->cols[d->key[k]].name);
	return 0;
}

int barge_bind_mapping(struct barge_xf **out, const struct barge_table_def *d,
		       const struct barge_job_table *jt, size_t n,
		       const size_t *src_cols, const char *const *dst_names)
{
	const char **types = NULL, **opts = NULL;
	struct barge_xf_spec spec;
	int err = 0;

	*out = NULL;
	for (size_t i = 0; i < jt->nopts; i++)
		if (barge_table_def_find(d, jt->opt_name[i]) < 0)
			return barge_error_set(BARGE_EUSAGE, "table '%s' has no column '%s'",
					       d->name, jt->opt_name[i]);
	types = calloc(n + 1, sizeof *types);
	opts = calloc(n + 1, sizeof *opts);
	if (!types || !opts) {
		err = barge_error_set(BARGE_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		int k = barge_bind_in_list(jt->opt_name, jt->nopts,
					   d->cols[src_cols[i]].name);
		if (k >= 0) {
			types[i] = jt->opt_type[k];
			opts[i] = jt->opt_text[k];
		}
	}
	memset(&spec, 0, sizeof spec);
	spec.table = d->name;
	spec.ncols = n;
	spec.src_cols = src_cols;
	spec.dst_names = dst_names;
	spec.types = types;
	spec.options = opts;
	spec.add = jt->add;
	if (!barge_xf_needed(&spec))
		goto out;
	if ((err = barge_xf_new(out, d, &spec)) < 0 ||
	    (err = key_types_kept(*out, d, n, src_cols)) < 0) {
		barge_xf_free(*out);
		*out = NULL;
	}
out:
	free(types);
	free(opts);
	return err;
}

/* ---- Key maps and references --------------------------------------------- */

void barge_keymap_query(struct barge_lookup *q, const char *table_name)
{
	memset(q, 0, sizeof *q);
	q->table = KEYMAP_TABLE;
	q->column = "legacy_key";
	q->eq_column = "table_name";
	q->eq_value = table_name;
	q->value_column = "new_key";
}

void barge_bind_keys_dispose(struct barge_bind_keys *k)
{
	for (size_t i = 0; i < k->nrefs; i++) {
		free(k->refs[i].look_table);
		free(k->refs[i].look_column);
	}
	free(k->refs);
	free(k->keys);
	memset(k, 0, sizeof *k);
}

/* The mapped (or, without a mapping, copied) column a source column is
 * copied to, not an added uuid_v5 or sequence of it; or -1. */
static long copied_to(const struct barge_bind_table *t, size_t srccol)
{
	unsigned char ns[16];
	int64_t start;
	if (t->xf) {
		for (size_t i = 0; i < barge_xf_ncols(t->xf); i++)
			if (barge_xf_source(t->xf, i) == (int)srccol &&
			    !barge_xf_uuid_v5(t->xf, i, ns) &&
			    !barge_xf_sequence(t->xf, i, &start))
				return (long)i;
		return -1;
	}
	for (size_t i = 0; i < t->ncols; i++)
		if (t->src_cols[i] == srccol)
			return (long)i;
	return -1;
}

static const char *target_col_name(const struct barge_bind_table *t, long i)
{
	return t->xf ? barge_xf_col(t->xf, (size_t)i)->name : t->dst_names[i];
}

/*
 * A table's new key: its single key column copied and also feeding an
 * `add:` sequence or uuid_v5 column. A sequence must number the key, a
 * one-column key copied too, once per table.
 */
static int find_newkey(struct barge_newkey *k, const struct barge_bind_table *t)
{
	const struct barge_table_def *d = t->src;
	unsigned char ns[16];
	int64_t start;
	size_t nx = t->xf ? barge_xf_ncols(t->xf) : 0;

	for (size_t j = 0; j < nx; j++) {
		if (!barge_xf_sequence(t->xf, j, &start))
			continue;
		const char *name = barge_xf_col(t->xf, j)->name;
		if (d->nkey != 1)
			return barge_error_set(BARGE_EUSAGE, "table '%s': sequence "
					       "'%s' needs a one-column key, and "
					       "the table's key has %zu columns "
					       "(barge_keymap maps one legacy "
					       "value); use uuid_v5 or a key: of "
					       "one column", d->name, name, d->nkey);
		if (barge_xf_source(t->xf, j) != (int)d->key[0])
			return barge_error_set(BARGE_EUSAGE, "table '%s': sequence "
					       "'%s' must number the key column "
					       "'%s'", d->name, name,
					       d->cols[d->key[0]].name);
		long legacy = copied_to(t, d->key[0]);
		if (legacy < 0)
			return barge_error_set(BARGE_EUSAGE, "table '%s': sequence "
					       "'%s' needs the key column '%s' "
					       "copied too (under a new name with "
					       "to:)", d->name, name,
					       d->cols[d->key[0]].name);
		if (k->seq)
			return barge_error_set(BARGE_EUSAGE, "table '%s': one "
					       "sequence per table", d->name);
		k->on = k->seq = 1;
		k->start = start;
		k->legacy = (size_t)legacy;
		k->col = j;
	}
	if (!k->on && t->xf &&
	    barge_xf_uuid_key(t->xf, d, &k->legacy, &k->col, ns))
		k->on = 1;
	return 0;
}

/* "customers.id" -> "customers" and "id" (the last dot splits). */
static int split_ref(const char *spec, char **table, char **column)
{
	const char *dot = strrchr(spec, '.');
	*table = *column = NULL;
	if (!dot || dot == spec || !dot[1])
		return barge_error_set(BARGE_EUSAGE, "references '%s' is not "
				       "table.column", spec);
	*table = strndup(spec, (size_t)(dot - spec));
	*column = strdup(dot + 1);
	if (!*table || !*column)
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	return 0;
}

/* Rule r (its spec and child set) against the job: where it looks, and
 * the child's column rewritten to the parent's new key. */
static int resolve_ref(struct barge_bind_ref *r, size_t n,
		       const struct barge_bind_table *tabs,
		       const struct barge_newkey *keys)
{
	const struct barge_bind_table *t = &tabs[r->table];
	char *ptable = NULL, *pcol = NULL;
	int err;

	if ((err = split_ref(r->spec, &ptable, &pcol)) < 0)
		goto out;
	for (size_t pi = 0; pi < n; pi++)
		if (strcmp(tabs[pi].src->name, ptable) == 0)
			r->parent = (long)pi;
	if (r->parent < 0) { /* outside the job: as named */
		r->look_table = ptable;
		r->look_column = pcol;
		return 0;
	}
	const struct barge_bind_table *p = &tabs[r->parent];
	const struct barge_newkey *pk = &keys[r->parent];
	int pc = barge_table_def_find(p->src, pcol);
	long tc = pc < 0 ? -1 : copied_to(p, (size_t)pc);
	if (tc < 0) {
		err = barge_error_set(BARGE_EUSAGE, "table '%s': references "
				      "%s, but table '%s' %s column '%s'",
				      t->src->name, r->spec, ptable,
				      pc < 0 ? "has no" : "does not copy", pcol);
		goto out;
	}
	if (!(r->look_table = strdup(p->target)) ||
	    !(r->look_column = strdup(target_col_name(p, tc)))) {
		err = barge_error_set(BARGE_ENOMEM, "out of memory");
		goto out;
	}
	if ((size_t)r->parent == r->table) {
		r->self = 1;
		r->to_key = p->src->nkey == 1 && (size_t)pc == p->src->key[0];
		if (pk->seq) {
			err = barge_error_set(BARGE_EUSAGE, "table '%s': references "
					      "%s, its own key, which a sequence "
					      "renumbers: a parent later in the "
					      "table has no number yet (use "
					      "uuid_v5)", t->src->name, r->spec);
			goto out;
		}
	}
	if (pk->on && (size_t)pc == p->src->key[0]) {
		unsigned char ns[16];
		char why[300];
		snprintf(why, sizeof why, "%s.%s through %s", p->target,
			 barge_xf_col(p->xf, pk->col)->name, KEYMAP_TABLE);
		if (pk->seq) {
			r->fed = 1;
			err = barge_xf_remap_fed(t->xf, r->xcol, BARGE_T_INT64, why);
		} else {
			barge_xf_uuid_v5(p->xf, pk->col, ns);
			err = barge_xf_remap(t->xf, r->xcol, ns, why);
		}
	}
out:
	free(ptable);
	free(pcol);
	return err;
}

int barge_bind_keymaps(struct barge_bind_keys *out, size_t n,
		       const struct barge_bind_table *tabs)
{
	int err = 0;

	memset(out, 0, sizeof *out);
	if (!(out->keys = calloc(n + 1, sizeof *out->keys)))
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	/* every new key first: a child may come before its parent */
	for (size_t i = 0; i < n; i++)
		if ((err = find_newkey(&out->keys[i], &tabs[i])) < 0)
			return err;
	for (size_t i = 0; i < n; i++) {
		struct barge_xf *xf = tabs[i].xf;
		size_t nx = xf ? barge_xf_ncols(xf) : 0;
		for (size_t j = 0; j < nx; j++) {
			const char *spec = barge_xf_references(xf, j);
			int sc = barge_xf_source(xf, j);
			if (!spec || sc < 0)
				continue;
			struct barge_bind_ref *nr =
				realloc(out->refs, (out->nrefs + 1) * sizeof *nr);
			if (!nr)
				return barge_error_set(BARGE_ENOMEM, "out of memory");
			out->refs = nr;
			nr = &out->refs[out->nrefs++];
			memset(nr, 0, sizeof *nr);
			nr->table = i;
			nr->xcol = j;
			nr->scol = (size_t)sc;
			nr->spec = spec;
			nr->parent = -1;
			if ((err = resolve_ref(nr, n, tabs, out->keys)) < 0)
				return err;
		}
	}
	return 0;
}
