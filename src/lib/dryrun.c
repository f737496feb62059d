/*
 * Runs that plan in memory: the dry run (read and map every chunk, count
 * the rejects by rule, write nothing, no state file) and the one-row run
 * of `run --table T --key K` (a unit [K, K] of its own).
 */
#include "engine_int.h"
#include "queue.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- One-row runs ------------------------------------------------------ */

/* `--key` as a JSON array, the state store's form: ["a,b",3], a text that
 * is not plain printable UTF-8 as {"x":"hex"}. */
static int parse_json_key(struct barge_key **out, const struct tbl *t,
			  const char *text)
{
	const struct barge_table_def *d = t->src;
	int types[16];

	barge_chunk_key_types(types, d, 0);
	if (barge_key_from_json(out, text, d->nkey, types) < 0)
		return barge_error_set(BARGE_EUSAGE,
				       "--key %s is not a JSON array of the %zu key "
				       "values of table '%s' (a text that is not "
				       "plain UTF-8 as {\"x\":\"hex\"})",
				       text, d->nkey, d->name);
	for (size_t i = 0; i < (*out)->n; i++)
		if ((*out)->v[i].null) {
			barge_key_free(*out);
			*out = NULL;
			return barge_error_set(BARGE_EUSAGE, "--key %s: a key value "
					       "cannot be null", text);
		}
	return 0;
}

/* Parse "a,b" (or a JSON array) into a key tuple of the table's key types. */
static int parse_row_key(struct barge_key **out, const struct tbl *t,
			 const char *text)
{
	const struct barge_table_def *d = t->src;
	struct barge_value vals[16];
	char *copy = NULL, *save = NULL, *tok;
	size_t n = 0;
	int err = 0;

	memset(vals, 0, sizeof vals);
	if (d->nkey == 0 || d->nkey > 16)
		return barge_error_set(BARGE_EUSAGE,
				       "table '%s' has no key to pick one row by",
				       d->name);
	if (text[0] == '[')
		return parse_json_key(out, t, text);
	if (!(copy = strdup(text)))
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	for (tok = d->nkey == 1 ? copy : strtok_r(copy, ",", &save); tok;
	     tok = d->nkey == 1 ? NULL : strtok_r(NULL, ",", &save)) {
		if (n == d->nkey)
			break;
		const struct barge_column_def *c = &d->cols[d->key[n]];
		struct barge_value *v = &vals[n++];
		v->type = c->type;
		if (c->type == BARGE_T_INT64 || c->type == BARGE_T_ANY) {
			int64_t i;
			if (barge_parse_i64(&i, tok, "key") == 0) {
				v->type = BARGE_T_INT64;
				v->i = i;
				continue;
			}
			if (c->type == BARGE_T_INT64) {
				err = barge_error_wrap(BARGE_EUSAGE, "table '%s'", d->name);
				goto out;
			}
			barge_error_clear();
			v->type = BARGE_T_TEXT;
		}
		if (!barge_type_is_varlen(v->type)) {
			err = barge_error_set(BARGE_EUSAGE,
					      "--key on a %s column is not supported yet",
					      barge_type_name(v->type));
			goto out;
		}
		v->p = tok;
		v->n = strlen(tok);
	}
	if (n != d->nkey) {
		err = barge_error_set(BARGE_EUSAGE,
				      "table '%s' has a key of %zu columns; give --key "
				      "as %zu comma-separated values or a JSON array",
				      d->name, d->nkey, d->nkey);
		goto out;
	}
	err = barge_key_new(out, n, vals);
out:
	free(copy);
	return err;
}

/* `run --table T --key K`: a run of its own with one unit, the point
 * chunk [K, K] (stored with lo == hi, barge_chunk_from_json). */
int engine_plan_one_row(struct ctx *cx, struct tbl **only)
{
	struct tbl *t = tbl_find(cx, cx->job->only_table);
	struct barge_key *k = NULL;
	char *json = NULL;
	int err;

	if (!t)
		return barge_error_set(BARGE_EUSAGE, "no table '%s' in this job",
				       cx->job->only_table);
	/* any key picks a row, also one whose columns may hold NULL (such a
	 * table is chunked by rowid, but [K, K] still holds just K) */
	if (t->src->nkey == 0)
		return barge_error_set(BARGE_EUSAGE,
				       "table '%s' has no key to pick one row by",
				       t->src->name);
	if ((err = parse_row_key(&k, t, cx->job->only_key)) < 0 ||
	    (err = barge_key_to_json(&json, k)) < 0)
		goto out;
	struct barge_unit_plan up = {.lo = json, .hi = json};
	err = barge_state_units_add(cx->st, cx->run, t->src->name, 1, &up);
	*only = t;
out:
	barge_key_free(k);
	free(json);
	return err;
}

/* ---- The dry run ------------------------------------------------------- */

/* A dry run's rejects by rule, with the first few messages. */
#define DRY_SHOWN 3
struct dry_rule {
	char rule[64];
	int64_t n;
	char shown[DRY_SHOWN][700];
};

/* Count a batch's rejects into `c` (at most 16 rules) and forget them. */
static void dry_rejects(struct rejects *rs, int64_t *seen, struct dry_rule *c,
			size_t *nc)
{
	for (size_t i = 0; i < rs->n; i++) {
		const struct barge_reject *x = &rs->v[i];
		size_t k;
		for (k = 0; k < *nc; k++)
			if (!strcmp(c[k].rule, x->rule))
				break;
		if (k == *nc && *nc < 16) {
			memset(&c[k], 0, sizeof c[k]);
			snprintf(c[k].rule, sizeof c[k].rule, "%s", x->rule);
			(*nc)++;
		}
		if (k < *nc) {
			if (c[k].n < DRY_SHOWN)
				snprintf(c[k].shown[c[k].n], sizeof c[k].shown[0],
					 "%s %s", x->key ? x->key : "", x->message);
			c[k].n++;
		}
		(*seen)++;
	}
	rejects_dispose(rs);
}

static void dry_summary(struct ctx *cx, const struct tbl *t, int64_t read,
			int64_t seen, const struct dry_rule *c, size_t nc)
{
	struct barge_buf *b = &cx->notes;
	barge_buf_printf(b, "  sample: %lld rows read, %lld would be rejected\n",
			 (long long)read, (long long)seen);
	for (size_t k = 0; k < nc; k++) {
		barge_buf_printf(b, "    %-12s %lld\n", c[k].rule, (long long)c[k].n);
		for (int64_t i = 0; i < c[k].n && i < DRY_SHOWN; i++)
			barge_buf_printf(b, "      %s\n", c[k].shown[i]);
	}
	if (t->nrefs)
		barge_buf_adds(b, "  references are not checked in a dry run (no "
			       "parent row is written)\n");
}

/* The dry run: plan in memory, read and check every chunk, write nothing. */
int engine_dry_run(struct ctx *cx, struct barge_job_result *res)
{
	struct worker w;
	int err = 0;

	memset(&w, 0, sizeof w);
	w.cx = cx;
	w.sconn = cx->leader;
	res->tables = calloc(cx->ntbls, sizeof *res->tables);
	if (!res->tables)
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	for (size_t i = 0; i < cx->ntbls && err == 0; i++) {
		struct tbl *t = &cx->tbls[i];
		struct barge_job_table_result *r = &res->tables[res->ntables++];
		struct barge_chunk_list l;
		double t0 = barge_monotonic();
		r->table = strdup(t->target_name);
		r->created = !t->exists;
		struct rejects rej;
		struct dry_rule counts[16];
		size_t nrule = 0;
		int64_t seen = 0;
		memset(&rej, 0, sizeof rej);
		if (t->xf) {
			barge_buf_printf(&cx->notes, "\n%s -> %s:\n", t->src->name,
					 t->target_name);
			if ((err = barge_xf_describe(t->xf, t->src, &cx->notes)) < 0)
				break;
		}
		if ((err = barge_chunk_plan(&l, &cx->src, cx->leader, t->src, t->how,
					    engine_chunk_rows_for(t), cx->job->defaults.jobs)) < 0)
			break;
		r->chunks = (int64_t)l.n;
		for (size_t c = 0; c < l.n; c++) {
			struct barge_unit u = {.lo = (char *)l.units[c].lo,
					       .hi = (char *)l.units[c].hi,
					       .by_rowid = l.units[c].by_rowid,
					       .seq = (int64_t)c};
			struct barge_chunk ch;
			struct reader rd;
			pthread_t th;
			if ((err = engine_unit_chunk(&ch, &u, t)) < 0 ||
			    (err = worker_batches(&w, t)) < 0)
				break;
			memset(&rd, 0, sizeof rd);
			rd.cx = cx;
			rd.t = t;
			rd.conn = cx->leader;
			rd.chunk = &ch;
			rd.limit = cx->job->sample > 0 ? cx->job->sample - r->rows_read : 0;
			barge_queue_new(&rd.pool, w.nbatches);
			barge_queue_new(&rd.full, w.nbatches);
			for (size_t b = 0; b < w.nbatches; b++)
				barge_queue_push(rd.pool, w.batches[b]);
			pthread_create(&th, NULL, engine_reader_main, &rd);
			void *item;
			while (barge_queue_pop(rd.full, &item) == 0) {
				if (t->xf && err == 0 &&
				    (err = engine_map_batch(&w, t, item, &rej, NULL)) == 0)
					dry_rejects(&rej, &seen, counts, &nrule);
				barge_queue_push(rd.pool, item);
			}
			barge_queue_close(rd.pool);
			pthread_join(th, NULL);
			barge_queue_free(rd.pool);
			barge_queue_free(rd.full);
			chunk_dispose(&ch);
			if (err < 0)
				break;
			r->rows_read += rd.rows;
			r->bytes += rd.bytes;
			if (rd.err < 0) {
				r->chunks_failed++;
				free(r->last_error);
				r->last_error = strdup(rd.msg);
			} else {
				r->chunks_done++;
			}
			if (cx->job->sample > 0 && r->rows_read >= cx->job->sample)
				break;
		}
		r->seconds = barge_monotonic() - t0;
		r->rows_rejected = seen;
		barge_chunk_list_dispose(&l);
		if (t->xf)
			dry_summary(cx, t, r->rows_read, seen, counts, nrule);
		rejects_dispose(&rej);
	}
	worker_free_batches(&w);
	barge_xf_run_free(w.xrun);
	res->status = "dry-run";
	return err;
}
