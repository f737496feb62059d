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

/*
 * Resolve each `references` rule (barge_bind_keymaps: the tables with a
 * new key, where each rule looks, which columns are rewritten to a
 * parent's new key), then what the engine adds: the target driver must
 * look values up, and a child waits for its parents (gates).
 */
int resolve_refs(struct ctx *cx)
{
	struct barge_bind_table *bt = calloc(cx->ntbls + 1, sizeof *bt);
	struct barge_bind_keys keys;
	int err = 0;

	memset(&keys, 0, sizeof keys);
	if (!bt)
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	for (size_t i = 0; i < cx->ntbls; i++) {
		const struct tbl *t = &cx->tbls[i];
		bt[i].src = t->src;
		bt[i].target = t->target_name;
		bt[i].xf = t->xf;
		bt[i].ncols = t->ncols;
		bt[i].src_cols = t->src_cols;
		bt[i].dst_names = (const char *const *)t->dst_names;
	}
	if ((err = barge_bind_keymaps(&keys, cx->ntbls, bt)) < 0)
		goto out;
	for (size_t i = 0; i < cx->ntbls; i++) {
		struct tbl *t = &cx->tbls[i];
		const struct barge_newkey *k = &keys.keys[i];
		if (!k->on)
			continue;
		t->keymap = 1;
		t->km_legacy = k->legacy;
		t->km_new = k->col;
		if (k->seq) {
			t->seq = 1;
			t->seq_start = k->start;
			pthread_mutex_init(&t->seq_lock, NULL);
		}
	}
	for (size_t k = 0; k < keys.nrefs; k++) {
		struct barge_bind_ref *b = &keys.refs[k];
		struct tbl *t = &cx->tbls[b->table];
		if (b->self)
			t->selfref = 1;
		if (b->parent >= 0 && (size_t)b->parent < b->table) {
			size_t *g = realloc(t->gates, (t->ngates + 1) * sizeof *g);
			if (!g) {
				err = barge_error_set(BARGE_ENOMEM, "out of memory");
				goto out;
			}
			t->gates = g;
			t->gates[t->ngates++] = (size_t)b->parent;
			cx->gated = 1;
		}
		struct tref *nr = realloc(t->refs, (t->nrefs + 1) * sizeof *nr);
		if (!nr) {
			err = barge_error_set(BARGE_ENOMEM, "out of memory");
			goto out;
		}
		t->refs = nr;
		nr = &t->refs[t->nrefs++];
		memset(nr, 0, sizeof *nr);
		nr->scol = b->scol;
		nr->xcol = b->xcol;
		nr->parent = b->parent;
		nr->fed = b->fed;
		nr->self = b->self;
		nr->to_key = b->to_key;
		/* taken over from keys */
		nr->table = b->look_table;
		nr->column = b->look_column;
		b->look_table = b->look_column = NULL;
		if (!(nr->spec = strdup(b->spec))) {
			err = barge_error_set(BARGE_ENOMEM, "out of memory");
			goto out;
		}
	}
out:
	barge_bind_keys_dispose(&keys);
	free(bt);
	return err;
}
