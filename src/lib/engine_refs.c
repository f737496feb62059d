/*
 * The order tables load in and the `references` rules between them, with
 * no side effects: parents before children (cycles noted), each rule
 * resolved to where it looks in the target, and the tables whose keys are
 * remapped through barge_keymap.
 */
#include "engine_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Load order, references, key remapping (no side effects) ------------- */

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

/*
 * Sort the job's tables parents first (barge_fk_order) over the source's
 * foreign keys and the plan's `references` rules: planning order is claim
 * order, since the state store claims the lowest unit id first.
 */
int engine_order_tables(struct ctx *cx)
{
	size_t n = cx->ntbls, nstr = 0;
	const struct barge_table_def **defs = calloc(n + 1, sizeof *defs);
	struct barge_table_def *tmp = calloc(n + 1, sizeof *tmp);
	struct barge_fk_def **fks = calloc(n + 1, sizeof *fks);
	char **strs = NULL;
	size_t *order = calloc(n + 1, sizeof *order);
	struct tbl *sorted = calloc(n + 1, sizeof *sorted);
	char *cycles = NULL;
	struct barge_buf b;
	int err = 0;

	barge_buf_init(&b, 1u << 20);
	if (!defs || !tmp || !fks || !order || !sorted)
		goto nomem;
	size_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += cx->tbls[i].xf ? barge_xf_ncols(cx->tbls[i].xf) : 0;
	if (!(strs = calloc(total + 1, sizeof *strs)))
		goto nomem;
	for (size_t i = 0; i < n; i++) {
		const struct tbl *t = &cx->tbls[i];
		size_t nx = t->xf ? barge_xf_ncols(t->xf) : 0, k = 0;
		tmp[i] = *t->src; /* shallow: only fks is replaced */
		if (!(fks[i] = calloc(t->src->nfks + nx + 1, sizeof *fks[i])))
			goto nomem;
		for (size_t f = 0; f < t->src->nfks; f++)
			fks[i][k++] = t->src->fks[f];
		for (size_t j = 0; j < nx; j++) {
			const char *spec = barge_xf_references(t->xf, j);
			const char *dot = spec ? strrchr(spec, '.') : NULL;
			if (!dot)
				continue;
			if (!(strs[nstr] = strndup(spec, (size_t)(dot - spec))))
				goto nomem;
			fks[i][k].ref_table = strs[nstr++];
			k++;
		}
		tmp[i].fks = fks[i];
		tmp[i].nfks = k;
		defs[i] = &tmp[i];
	}
	if ((err = barge_fk_order(order, (const struct barge_table_def *const *)defs,
				  n, &cycles)) < 0)
		goto out;
	for (size_t k = 0; k < n; k++)
		memcpy(&sorted[k], &cx->tbls[order[k]], sizeof sorted[k]);
	free(cx->tbls);
	cx->tbls = sorted;
	sorted = NULL;
	barge_buf_adds(&b, "load order:");
	for (size_t k = 0; k < n; k++)
		barge_buf_printf(&b, "%s %s", k ? "," : "", cx->tbls[k].src->name);
	if (cycles)
		barge_buf_printf(&b, "; foreign-key %s (its tables load in name "
				 "order; the foreign keys of tables barge creates "
				 "are made after the data)", cycles);
	err = barge_buf_detach(&b, &cx->order_note);
	goto out;
nomem:
	err = barge_error_set(BARGE_ENOMEM, "out of memory");
out:
	for (size_t i = 0; fks && i < n; i++)
		free(fks[i]);
	for (size_t i = 0; strs && i < nstr; i++)
		free(strs[i]);
	free(strs);
	free(fks);
	free(tmp);
	free(defs);
	free(order);
	free(sorted);
	free(cycles);
	barge_buf_dispose(&b);
	return err;
}

/* The target column a source column is copied to (not an added uuid), or
 * -1: in the mapping, or in the plain copy's names. */
static long copied_to(const struct tbl *t, size_t srccol)
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

static const char *target_col_name(const struct tbl *t, long i)
{
	return t->xf ? barge_xf_col(t->xf, (size_t)i)->name : t->dst_names[i];
}

/*
 * Key remapping: a table whose single key column is copied and also feeds
 * an `add:` uuid_v5 or sequence column has a new key; its rows go to
 * barge_keymap (legacy -> new) and its children's references are
 * rewritten to it. A sequence must number the key, a one-column key.
 */
static int find_keymaps(struct ctx *cx)
{
	unsigned char ns[16];
	int64_t start;
	for (size_t i = 0; i < cx->ntbls; i++) {
		struct tbl *t = &cx->tbls[i];
		size_t nx = t->xf ? barge_xf_ncols(t->xf) : 0;
		for (size_t j = 0; j < nx; j++) {
			if (!barge_xf_sequence(t->xf, j, &start))
				continue;
			const char *name = barge_xf_col(t->xf, j)->name;
			int from = barge_xf_source(t->xf, j);
			if (t->src->nkey != 1)
				return barge_error_set(BARGE_EUSAGE, "table '%s': sequence "
						       "'%s' needs a one-column key, and "
						       "the table's key has %zu columns "
						       "(barge_keymap maps one legacy "
						       "value); use uuid_v5 or a key: of "
						       "one column", t->src->name, name,
						       t->src->nkey);
			if (from != (int)t->src->key[0])
				return barge_error_set(BARGE_EUSAGE, "table '%s': sequence "
						       "'%s' must number the key column "
						       "'%s'", t->src->name, name,
						       t->src->cols[t->src->key[0]].name);
			long legacy = copied_to(t, t->src->key[0]);
			if (legacy < 0)
				return barge_error_set(BARGE_EUSAGE, "table '%s': sequence "
						       "'%s' needs the key column '%s' "
						       "copied too (under a new name with "
						       "to:)", t->src->name, name,
						       t->src->cols[t->src->key[0]].name);
			if (t->seq)
				return barge_error_set(BARGE_EUSAGE, "table '%s': one "
						       "sequence per table", t->src->name);
			t->keymap = t->seq = 1;
			t->seq_start = start;
			t->km_legacy = (size_t)legacy;
			t->km_new = j;
			pthread_mutex_init(&t->seq_lock, NULL);
		}
		if (!t->keymap && t->xf &&
		    barge_xf_uuid_key(t->xf, t->src, &t->km_legacy, &t->km_new, ns))
			t->keymap = 1;
	}
	return 0;
}

/* Resolve each `references` rule: where to look in the target, which
 * parent in this job to wait for, and whether the value is remapped. */
int resolve_refs(struct ctx *cx)
{
	char *ptable = NULL, *pcol = NULL;
	int err = 0;

	if ((err = find_keymaps(cx)) < 0)
		return err;
	for (size_t ti = 0; ti < cx->ntbls; ti++) {
		struct tbl *t = &cx->tbls[ti];
		size_t nx = t->xf ? barge_xf_ncols(t->xf) : 0;
		for (size_t j = 0; j < nx; j++) {
			const char *spec = barge_xf_references(t->xf, j);
			int sc = barge_xf_source(t->xf, j);
			if (!spec || sc < 0)
				continue;
			if (!cx->dst.drv->lookup) {
				err = barge_error_set(BARGE_EUSAGE, "table '%s': references "
						      "%s needs lookups in the target, which "
						      "the %s driver cannot do yet", t->src->name,
						      spec, cx->dst.drv->name);
				goto out;
			}
			free(ptable);
			free(pcol);
			if ((err = split_ref(spec, &ptable, &pcol)) < 0)
				goto out;
			struct tref r = {.scol = (size_t)sc, .xcol = j, .parent = -1};
			for (size_t pi = 0; pi < cx->ntbls; pi++)
				if (strcmp(cx->tbls[pi].src->name, ptable) == 0)
					r.parent = (long)pi;
			const char *look_t = ptable, *look_c = pcol;
			if (r.parent >= 0) {
				struct tbl *p = &cx->tbls[r.parent];
				int pc = barge_table_def_find(p->src, pcol);
				long tc = pc < 0 ? -1 : copied_to(p, (size_t)pc);
				if (tc < 0) {
					err = barge_error_set(BARGE_EUSAGE, "table '%s': references "
							      "%s, but table '%s' %s column '%s'",
							      t->src->name, spec, ptable,
							      pc < 0 ? "has no" : "does not copy",
							      pcol);
					goto out;
				}
				look_t = p->target_name;
				look_c = target_col_name(p, tc);
				if (p->keymap && (size_t)pc == p->src->key[0]) {
					unsigned char ns[16];
					char why[300];
					snprintf(why, sizeof why, "%s.%s through %s", p->target_name,
						 barge_xf_col(p->xf, p->km_new)->name,
						 KEYMAP_TABLE);
					if (p->seq) {
						r.fed = 1;
						err = barge_xf_remap_fed(t->xf, j, BARGE_T_INT64, why);
					} else {
						barge_xf_uuid_v5(p->xf, p->km_new, ns);
						err = barge_xf_remap(t->xf, j, ns, why);
					}
					if (err < 0)
						goto out;
				}
				if ((size_t)r.parent == ti) {
					r.self = t->selfref = 1;
					r.to_key = p->src->nkey == 1 &&
						   (size_t)pc == p->src->key[0];
					if (p->seq) {
						err = barge_error_set(BARGE_EUSAGE, "table '%s': "
								      "references %s, its own "
								      "key, which a sequence "
								      "renumbers: a parent later "
								      "in the table has no number "
								      "yet (use uuid_v5)",
								      t->src->name, spec);
						goto out;
					}
				}
				if ((size_t)r.parent < ti) {
					size_t *g = realloc(t->gates, (t->ngates + 1) * sizeof *g);
					if (!g) {
						err = barge_error_set(BARGE_ENOMEM, "out of memory");
						goto out;
					}
					t->gates = g;
					t->gates[t->ngates++] = (size_t)r.parent;
					cx->gated = 1;
				}
			}
			struct tref *nr = realloc(t->refs, (t->nrefs + 1) * sizeof *nr);
			if (!nr) {
				err = barge_error_set(BARGE_ENOMEM, "out of memory");
				goto out;
			}
			t->refs = nr;
			r.spec = strdup(spec);
			r.table = strdup(look_t);
			r.column = strdup(look_c);
			t->refs[t->nrefs++] = r;
			if (!r.spec || !r.table || !r.column) {
				err = barge_error_set(BARGE_ENOMEM, "out of memory");
				goto out;
			}
		}
	}
out:
	free(ptable);
	free(pcol);
	return err;
}
