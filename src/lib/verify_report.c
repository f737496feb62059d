/*
 * verify's results: the report as JSON, the record of each table in the
 * state store, and the freeing of a result.
 */
#include "verify_int.h"
#include "state.h"

#include <stdlib.h>
#include <string.h>

/* ---- Results ------------------------------------------------------------------------ */

const char *barge_diff_kind_name(int kind)
{
	switch (kind) {
	case BARGE_DIFF_MISSING: return "missing";
	case BARGE_DIFF_EXTRA: return "extra";
	case BARGE_DIFF_CHANGED: return "changed";
	default: return "chunk";
	}
}

static int diff_json(struct barge_buf *b, const struct barge_verify_table *r,
		     const struct barge_verify_diff *d)
{
	barge_buf_printf(b, "{\"kind\":\"%s\"", barge_diff_kind_name(d->kind));
	if (d->key) {
		barge_buf_adds(b, r->keyed ? ",\"key\":{" : ",\"row\":{");
		for (size_t i = 0; i < d->key->n && i < r->nfields; i++) {
			struct barge_key one = {.n = 1, .v = &d->key->v[i]};
			char *j = NULL;
			int err = barge_key_to_json(&j, &one);
			if (err < 0)
				return err;
			if (i)
				barge_buf_adds(b, ",");
			barge_buf_json_str(b, r->fields[i], strlen(r->fields[i]));
			/* the value without the array's brackets */
			barge_buf_adds(b, ":");
			barge_buf_add(b, j + 1, strlen(j) - 2);
			free(j);
		}
		barge_buf_adds(b, "}");
		if (!r->keyed) /* a keyless row is its own key */
			barge_buf_adds(b, ",\"key\":null");
	}
	if (d->columns)
		barge_buf_printf(b, ",\"columns\":%s", d->columns);
	if (d->kind == BARGE_DIFF_CHUNK) {
		barge_buf_printf(b, ",\"chunk\":%lld,\"lo\":%s,\"hi\":%s",
				 (long long)d->seq, d->lo ? d->lo : "null",
				 d->hi ? d->hi : "null");
	}
	return barge_buf_adds(b, "}");
}

static int table_json(struct barge_buf *b, const struct barge_verify_table *r)
{
	int err;
	barge_buf_adds(b, "{\"table\":");
	barge_buf_json_str(b, r->table, strlen(r->table));
	barge_buf_adds(b, ",\"target_table\":");
	barge_buf_json_str(b, r->target, strlen(r->target));
	barge_buf_printf(b, ",\"equal\":%s,\"source_rows\":%lld,\"target_rows\":%lld,"
			 "\"chunks\":%lld,\"chunks_differing\":%lld,\"missing\":%lld,"
			 "\"extra\":%lld,\"changed\":%lld,\"listed\":%zu,"
			 "\"seconds\":%.3f,\"digests\":\"%s\",\"differences\":[",
			 r->equal ? "true" : "false", (long long)r->source_rows,
			 (long long)r->target_rows, (long long)r->chunks,
			 (long long)r->chunks_differing, (long long)r->missing,
			 (long long)r->extra, (long long)r->changed, r->ndiffs,
			 r->seconds, r->digests ? r->digests : "recorded");
	for (size_t i = 0; i < r->ndiffs; i++) {
		if (i)
			barge_buf_adds(b, ",");
		if ((err = diff_json(b, r, &r->diffs[i])) < 0)
			return err;
	}
	barge_buf_adds(b, "]");
	if (r->ninvariants) {
		barge_buf_adds(b, ",\"invariants\":[");
		for (size_t i = 0; i < r->ninvariants; i++) {
			const struct barge_verify_invariant *v = &r->invariants[i];
			barge_buf_adds(b, i ? ",{\"invariant\":" : "{\"invariant\":");
			barge_buf_json_str(b, v->text, strlen(v->text));
			barge_buf_adds(b, ",\"source\":");
			if (v->source)
				barge_buf_json_str(b, v->source, strlen(v->source));
			else
				barge_buf_adds(b, "null");
			barge_buf_adds(b, ",\"target\":");
			if (v->target)
				barge_buf_json_str(b, v->target, strlen(v->target));
			else
				barge_buf_adds(b, "null");
			barge_buf_printf(b, ",\"equal\":%s}", v->equal ? "true" : "false");
		}
		barge_buf_adds(b, "]");
	}
	return barge_buf_adds(b, "}");
}

int barge_verify_report_json(char **out, const struct barge_verify_result *res)
{
	struct barge_buf b;
	int err = 0;
	barge_buf_init(&b, (size_t)1 << 30);
	barge_buf_printf(&b, "{\"equal\":%s,\"seconds\":%.3f,\"tables\":[",
			 res->equal ? "true" : "false", res->seconds);
	for (size_t i = 0; i < res->ntables && err == 0; i++) {
		if (i)
			barge_buf_adds(&b, ",");
		err = table_json(&b, &res->tables[i]);
	}
	barge_buf_adds(&b, "]}\n");
	if (err < 0) {
		barge_buf_dispose(&b);
		return err;
	}
	return barge_buf_detach(&b, out);
}

/* Record each table's outcome in the state store (verify_results). */
int verify_store_results(const struct barge_verify_opts *o, const char *src,
			 const char *dst, const struct barge_verify_result *res)
{
	struct barge_state *st = NULL;
	int err;
	if (!o->state_path)
		return 0;
	if ((err = barge_state_open(&st, o->state_path, 1)) < 0)
		return err;
	for (size_t i = 0; i < res->ntables && err == 0; i++) {
		const struct barge_verify_table *r = &res->tables[i];
		struct barge_buf b;
		char *json = NULL;
		barge_buf_init(&b, (size_t)1 << 30);
		if ((err = table_json(&b, r)) < 0 ||
		    (err = barge_buf_detach(&b, &json)) < 0) {
			barge_buf_dispose(&b);
			break;
		}
		struct barge_verify_record rec = {
			.source = src, .target = dst, .table = r->table,
			.against_state = o->against_state, .equal = r->equal,
			.source_rows = r->source_rows, .target_rows = r->target_rows,
			.chunks = r->chunks, .missing = r->missing,
			.extra = r->extra, .changed = r->changed,
			.seconds = r->seconds, .report = json,
		};
		err = barge_state_verify_add(st, &rec);
		free(json);
	}
	barge_state_close(st);
	return err;
}

void barge_verify_result_dispose(struct barge_verify_result *r)
{
	for (size_t i = 0; r->tables && i < r->ntables; i++) {
		struct barge_verify_table *t = &r->tables[i];
		for (size_t j = 0; j < t->ndiffs; j++) {
			barge_key_free(t->diffs[j].key);
			free(t->diffs[j].columns);
			free(t->diffs[j].lo);
			free(t->diffs[j].hi);
		}
		free(t->diffs);
		for (size_t j = 0; j < t->ninvariants; j++) {
			free(t->invariants[j].text);
			free(t->invariants[j].source);
			free(t->invariants[j].target);
		}
		free(t->invariants);
		for (size_t j = 0; t->fields && j < t->nfields; j++)
			free(t->fields[j]);
		free(t->fields);
		free(t->table);
		free(t->target);
	}
	free(r->tables);
	memset(r, 0, sizeof *r);
}
