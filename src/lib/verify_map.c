/*
 * verify through the run (verify_map.h): its rejects and its key
 * remapping (resolved by binding.c, as the run resolves it).
 */
#include "verify_map.h"
#include "binding.h"
#include "engine.h"
#include "plan.h"
#include "state.h"
#include "verify.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct barge_rejected {
	char **keys; /* canonical key JSON, sorted */
	size_t n, cap;
	int types[64];
	size_t nkey;
	int err;
};

void barge_rejected_free(struct barge_rejected *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++)
		free(r->keys[i]);
	free(r->keys);
	free(r);
}

/* The stored key JSON, parsed with the key's types and written back: the
 * same text barge_key_to_json gives a row's key. A key that does not parse
 * (a keyless table's row address) is skipped. */
static int add_key(const struct barge_reject_row *row, void *arg)
{
	struct barge_rejected *r = arg;
	struct barge_key *k = NULL;
	char *json = NULL;
	if (!row->key || barge_key_from_json(&k, row->key, r->nkey, r->types) < 0) {
		barge_error_clear();
		return 0;
	}
	if ((r->err = barge_key_to_json(&json, k)) < 0) {
		barge_key_free(k);
		return 1;
	}
	barge_key_free(k);
	char **nk = barge_grow(r->keys, &r->cap, r->n, sizeof *nk, 64);
	if (!nk) {
		free(json);
		r->err = BARGE_ENOMEM;
		return 1;
	}
	r->keys = nk;
	r->keys[r->n++] = json;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int barge_rejected_load(struct barge_rejected **out, const char *state_path,
			const struct barge_table_def *src)
{
	struct barge_state *st = NULL;
	struct barge_run *run = NULL;
	struct barge_rejected *r = NULL;
	int err = 0;

	*out = NULL;
	if (!state_path || !src->nkey || src->nkey > 64)
		return 0;
	err = barge_state_open(&st, state_path, 0);
	if (err == BARGE_ENOTFOUND) {
		barge_error_clear();
		return 0;
	}
	if (err < 0)
		return err;
	if ((err = barge_state_run_main(st, &run)) < 0 || !run)
		goto out;
	if (!(r = calloc(1, sizeof *r))) {
		err = barge_error_set(BARGE_ENOMEM, "out of memory");
		goto out;
	}
	r->nkey = src->nkey;
	for (size_t k = 0; k < src->nkey; k++)
		r->types[k] = src->cols[src->key[k]].type;
	err = barge_state_rejects(st, run->id, src->name, add_key, r);
	if (err == 0 && r->err)
		err = r->err;
	if (err < 0)
		goto out;
	if (r->n) {
		qsort(r->keys, r->n, sizeof *r->keys, cmp_str);
		*out = r;
		r = NULL;
	}
out:
	barge_rejected_free(r);
	barge_run_free(run);
	barge_state_close(st);
	return err;
}

int barge_rejected_has(const struct barge_rejected *r,
		       const struct barge_table_def *src,
		       const struct barge_batch *b, size_t row)
{
	struct barge_value vals[64];
	struct barge_key *k = NULL;
	char *json = NULL;
	int hit = 0;

	if (!r)
		return 0;
	for (size_t i = 0; i < src->nkey; i++)
		barge_batch_get(b, src->key[i], row, &vals[i]);
	if (barge_key_new(&k, src->nkey, vals) == 0 && barge_key_to_json(&json, k) == 0)
		hit = bsearch(&json, r->keys, r->n, sizeof *r->keys, cmp_str) != NULL;
	else
		barge_error_clear();
	free(json);
	barge_key_free(k);
	return hit;
}

struct vfeed_spec {
	size_t xcol;      /* the mapped column fed */
	size_t scol;      /* the source column looked up */
	char *table;      /* barge_keymap.table_name */
};

struct barge_vfeeds {
	size_t n;
	struct vfeed_spec *v;
};

void barge_vfeeds_free(struct barge_vfeeds *f)
{
	for (size_t i = 0; f && i < f->n; i++)
		free(f->v[i].table);
	if (f)
		free(f->v);
	free(f);
}

static int vfeeds_add(struct barge_vfeeds **f, size_t xcol, size_t scol,
		      const char *table)
{
	struct vfeed_spec *nv;
	if (!*f && !(*f = calloc(1, sizeof **f)))
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	if (!(nv = realloc((*f)->v, ((*f)->n + 1) * sizeof *nv)))
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	(*f)->v = nv;
	nv[(*f)->n].xcol = xcol;
	nv[(*f)->n].scol = scol;
	if (!(nv[(*f)->n].table = strdup(table)))
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	(*f)->n++;
	return 0;
}

int barge_verify_remap(size_t n, const struct barge_bind_table *tabs,
		       struct barge_vfeeds **feeds)
{
	struct barge_bind_keys keys;
	size_t r = 0;
	int err;

	for (size_t i = 0; i < n; i++)
		feeds[i] = NULL;
	if ((err = barge_bind_keymaps(&keys, n, tabs)) < 0)
		goto out;
	/* per table: its own sequence key first, then its columns fed from
	 * a parent's (keys.refs is by table, then by column) */
	for (size_t i = 0; i < n && err == 0; i++) {
		const struct barge_newkey *k = &keys.keys[i];
		if (k->seq)
			err = vfeeds_add(&feeds[i], k->col, tabs[i].src->key[0],
					 tabs[i].target);
		for (; r < keys.nrefs && keys.refs[r].table == i && err == 0; r++)
			if (keys.refs[r].fed)
				err = vfeeds_add(&feeds[i], keys.refs[r].xcol,
						 keys.refs[r].scol,
						 keys.refs[r].look_table);
	}
out:
	barge_bind_keys_dispose(&keys);
	return err;
}

struct barge_vfeed {
	const struct barge_ep *ep;
	struct barge_conn *conn;
	const struct barge_vfeeds *spec;
	struct barge_batch **vals; /* one per feed: the new keys, text */
	uint8_t *found;
};

void barge_vfeed_close(struct barge_vfeed *f)
{
	if (!f)
		return;
	for (size_t i = 0; f->vals && i < f->spec->n; i++)
		barge_batch_free(f->vals[i]);
	free(f->vals);
	free(f->found);
	barge_drv_close(f->ep, f->conn);
	free(f);
}

int barge_vfeed_open(struct barge_vfeed **out, const struct barge_ep *dst,
		     const struct barge_vfeeds *spec, size_t batch_rows)
{
	struct barge_vfeed *f = calloc(1, sizeof *f);
	int types[1] = {BARGE_T_TEXT}, err;

	*out = NULL;
	if (!f)
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	f->ep = dst;
	f->spec = spec;
	if (!(f->vals = calloc(spec->n, sizeof *f->vals)) ||
	    !(f->found = calloc(batch_rows + 1, 1))) {
		barge_vfeed_close(f);
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < spec->n; i++)
		if ((err = barge_batch_new(&f->vals[i], 1, types, batch_rows)) < 0) {
			barge_vfeed_close(f);
			return err;
		}
	if ((err = barge_drv_open(dst, &f->conn, BARGE_OPEN_READ)) < 0) {
		barge_vfeed_close(f);
		return err;
	}
	*out = f;
	return 0;
}

int barge_vfeed_batch(struct barge_vfeed *f, const struct barge_batch *raw)
{
	for (size_t i = 0; i < f->spec->n; i++) {
		const struct vfeed_spec *s = &f->spec->v[i];
		struct barge_lookup q;
		int err;
		barge_keymap_query(&q, s->table);
		barge_batch_reset(f->vals[i]);
		if ((err = barge_drv_lookup(f->ep, f->conn, &q, raw, s->scol, f->found,
					    f->vals[i])) < 0)
			return err;
	}
	return 0;
}

int barge_vfeed_row(struct barge_vfeed *f, struct barge_xf_run *xr, size_t row)
{
	int err = 0;
	barge_xf_run_unfeed(xr);
	for (size_t i = 0; i < f->spec->n && err == 0; i++) {
		struct barge_value v;
		barge_batch_get(f->vals[i], 0, row, &v);
		err = barge_xf_run_feed(xr, f->spec->v[i].xcol, v.null ? NULL : v.p, v.n);
	}
	return err;
}

/* A key of text and integers as `run --key`'s JSON array ["a,b",3]. */
static int key_json(struct barge_buf *out, const struct barge_key *k)
{
	char *json = NULL;
	for (size_t i = 0; i < k->n; i++)
		if (k->v[i].type != BARGE_T_TEXT && k->v[i].type != BARGE_T_INT64)
			return -1;
	if (barge_key_to_json(&json, k) < 0) {
		barge_error_clear();
		return -1;
	}
	barge_buf_clear(out);
	barge_buf_adds(out, json);
	free(json);
	return out->err ? out->err : 0;
}

/* The key as `run --key` takes it: "42", "a,b", or a JSON array when a
 * value holds a comma or starts with '[' (-1: it cannot be written). */
static int key_text(struct barge_buf *out, struct barge_buf *tmp,
		    const struct barge_key *k)
{
	barge_buf_clear(out);
	for (size_t i = 0; i < k->n; i++) {
		barge_buf_clear(tmp);
		if (k->v[i].null || barge_value_text(tmp, &k->v[i]) < 0) {
			barge_error_clear();
			return -1;
		}
		if ((k->n > 1 && tmp->len && memchr(tmp->p, ',', tmp->len)) ||
		    (i == 0 && tmp->len && tmp->p[0] == '['))
			return key_json(out, k);
		if (i)
			barge_buf_adds(out, ",");
		barge_buf_add(out, tmp->p ? tmp->p : "", tmp->len);
	}
	return out->err ? out->err : 0;
}

int barge_verify_fix_mapped(const struct barge_verify_opts *o, const char *table,
			    const struct barge_verify_table *r, int64_t *fixed,
			    int64_t *unfixable)
{
	struct barge_job_table *jts = calloc(o->ntables + 1, sizeof *jts);
	struct barge_buf kt, tmp;
	int err = 0;

	if (!jts)
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	barge_buf_init(&kt, 1u << 20);
	barge_buf_init(&tmp, 1u << 20);
	/* the plan's tables as they are (parents for references), this one
	 * in replace mode: the key's range is emptied, then the row mapped */
	memcpy(jts, o->tables, o->ntables * sizeof *jts);
	for (size_t i = 0; i < o->ntables; i++)
		if (strcmp(jts[i].name, table) == 0)
			jts[i].settings.mode = BARGE_MODE_REPLACE;
	for (size_t i = 0; i < r->ndiffs && err == 0; i++) {
		const struct barge_verify_diff *d = &r->diffs[i];
		struct barge_job_result res;
		struct barge_job job;
		if (!r->keyed || !d->key || key_text(&kt, &tmp, d->key) < 0) {
			(*unfixable)++;
			continue;
		}
		memset(&job, 0, sizeof job);
		barge_settings_builtin(&job.defaults);
		job.source = o->source;
		job.target = o->target;
		job.state_path = o->state_path ? o->state_path : "barge-state.db";
		job.ntables = o->ntables;
		job.tables = jts;
		job.action = BARGE_JOB_ROW;
		job.only_table = table;
		job.only_key = kt.p;
		job.command = "barge fix (one row through the mapping)";
		err = barge_job_run(&job, &res);
		if (err == 0 && res.status && strcmp(res.status, "done") == 0)
			(*fixed)++;
		else if (err == 0)
			(*unfixable)++;
		barge_job_result_dispose(&res);
	}
	barge_buf_dispose(&kt);
	barge_buf_dispose(&tmp);
	free(jts);
	return err;
}
