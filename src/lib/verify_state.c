/*
 * barge verify --against-state: the target checked against the digests
 * the newest copy run recorded in the state store, with no source.
 */
#include "verify_int.h"
#include "state.h"

#include <stdlib.h>
#include <string.h>

/* ---- Against the state store ------------------------------------------------------- */

/* The newest whole-copy run (barge_state_run_main), or BARGE_ENOTFOUND. */
static int latest_copy_run(struct barge_state *st, struct barge_run **out)
{
	int err = barge_state_run_main(st, out);
	if (err == 0 && !*out)
		return barge_error_set(BARGE_ENOTFOUND,
				       "the state file holds no copy run to check against");
	return err;
}

/* The target name the run's config recorded for a source table. */
static char *config_target(const char *config, const char *table)
{
	struct barge_buf b;
	char *needle = NULL;
	barge_buf_init(&b, 1 << 16);
	barge_buf_adds(&b, "{\"name\":");
	barge_buf_json_str(&b, table, strlen(table));
	barge_buf_adds(&b, ",\"target\":\"");
	if (barge_buf_detach(&b, &needle) < 0)
		return NULL;
	const char *p = config ? strstr(config, needle) : NULL;
	char *out = NULL;
	if (p) {
		p += strlen(needle);
		const char *e = strchr(p, '"');
		if (e && !memchr(p, '\\', (size_t)(e - p)))
			out = strndup(p, (size_t)(e - p));
	}
	free(needle);
	return out ? out : strdup(table);
}

/*
 * Check one table of the run: each keyed unit's digest against the same
 * range of the target; tables chunked by row address (whose addresses
 * differ in the target) against the sum of their units' digests.
 */
static int astate_table(struct barge_state *st, const struct barge_ep *dst,
			struct barge_conn *dc, int64_t run, const char *table,
			const char *target, struct barge_verify_table *r,
			int64_t max_diffs)
{
	struct barge_table_def *def = NULL;
	struct barge_unit *u = NULL;
	struct barge_digest want_all, got;
	size_t *cols = NULL;
	int whole = 0, err;
	struct side s;

	barge_digest_init(&want_all);
	r->table = strdup(table);
	r->target = strdup(target);
	r->equal = 1;
	r->keyed = 1;
	if (!r->table || !r->target)
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	err = barge_drv_describe(dst, dc, target, &def);
	if (err == BARGE_ENOTFOUND)
		err = barge_error_set(BARGE_EUSAGE, "no table '%s' in the target", target);
	if (err < 0)
		goto out;
	cols = calloc(def->ncols + 1, sizeof *cols);
	int *types = calloc(def->ncols + 1, sizeof *types);
	if (!cols || !types) {
		free(types);
		err = barge_error_set(BARGE_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < def->ncols; i++) {
		cols[i] = i;
		types[i] = def->cols[i].type;
	}
	s = (struct side){.ep = dst, .conn = dc, .def = def, .cols = cols, .types = types};
	int ktypes[64];
	barge_chunk_key_types(ktypes, def, 0);
	for (int64_t seq = 0;; seq++) {
		barge_unit_free(u);
		u = NULL;
		err = barge_state_unit_by_seq(st, run, table, seq, &u);
		if (err == BARGE_ENOTFOUND) {
			barge_error_clear();
			err = 0;
			break;
		}
		if (err < 0)
			break;
		r->chunks++;
		if (u->status != BARGE_UNIT_DONE || !u->digest) {
			err = barge_error_set(BARGE_EUSAGE,
					      "table '%s' chunk %lld was not copied (%s): "
					      "finish the run first", table,
					      (long long)seq, barge_unit_status_name(u->status));
			break;
		}
		struct barge_digest want;
		barge_digest_init(&want);
		char hex[33];
		/* the recorded digest as two halves */
		char hi[17], lo[17];
		memcpy(hi, u->digest, 16);
		hi[16] = '\0';
		memcpy(lo, u->digest + 16, 16);
		lo[16] = '\0';
		want.hi = strtoull(hi, NULL, 16);
		want.lo = strtoull(lo, NULL, 16);
		want.rows = u->rows_written;
		r->source_rows += u->rows_written;
		uint64_t s_lo = want_all.lo + want.lo;
		want_all.hi += want.hi + (s_lo < want_all.lo);
		want_all.lo = s_lo;
		want_all.rows += want.rows;
		if (u->by_rowid || def->nkey == 0 || (!u->lo && !u->hi)) {
			whole = 1;
			continue;
		}
		struct barge_chunk ch;
		memset(&ch, 0, sizeof ch);
		if ((u->lo && (err = barge_key_from_json(&ch.lo, u->lo, def->nkey, ktypes)) < 0) ||
		    (u->hi && (err = barge_key_from_json(&ch.hi, u->hi, def->nkey, ktypes)) < 0) ||
		    (err = verify_side_digest(&s, def->ncols, &ch, &got)) < 0) {
			barge_key_free(ch.lo);
			barge_key_free(ch.hi);
			break;
		}
		barge_key_free(ch.lo);
		barge_key_free(ch.hi);
		r->target_rows += got.rows;
		barge_digest_hex(&got, hex);
		if (got.rows == want.rows && strcmp(hex, u->digest) == 0)
			continue;
		r->equal = 0;
		r->chunks_differing++;
		if ((int64_t)r->ndiffs < max_diffs) {
			struct barge_verify_diff *g = realloc(r->diffs, (r->ndiffs + 1) * sizeof *g);
			if (!g) {
				err = barge_error_set(BARGE_ENOMEM, "out of memory");
				break;
			}
			r->diffs = g;
			memset(&g[r->ndiffs], 0, sizeof *g);
			g[r->ndiffs].kind = BARGE_DIFF_CHUNK;
			g[r->ndiffs].seq = seq;
			g[r->ndiffs].lo = u->lo ? strdup(u->lo) : NULL;
			g[r->ndiffs].hi = u->hi ? strdup(u->hi) : NULL;
			r->ndiffs++;
		}
	}
	if (err == 0 && whole) {
		/* every unit summed against the whole target table */
		r->target_rows = 0;
		if ((err = verify_side_digest(&s, def->ncols, NULL, &got)) == 0) {
			r->target_rows = got.rows;
			r->chunks = 1;
			if (got.rows != want_all.rows || got.lo != want_all.lo ||
			    got.hi != want_all.hi) {
				r->equal = 0;
				r->chunks_differing = 1;
				struct barge_verify_diff *g = realloc(r->diffs, sizeof *g);
				if (!g) {
					err = barge_error_set(BARGE_ENOMEM, "out of memory");
				} else {
					r->diffs = g;
					memset(g, 0, sizeof *g);
					g->kind = BARGE_DIFF_CHUNK;
					r->ndiffs = 1;
				}
			}
		}
	}
	free(types);
out:
	barge_unit_free(u);
	free(cols);
	barge_table_def_free(def);
	return err;
}

int verify_against_state(const struct barge_verify_opts *o,
				struct barge_verify_result *res)
{
	struct barge_state *st = NULL;
	struct barge_run *run = NULL;
	struct barge_ep dst;
	struct barge_conn *dc = NULL;
	char *tables = NULL, *save = NULL, *token = NULL;
	double t0 = barge_monotonic();
	int err;

	memset(&dst, 0, sizeof dst);
	if (!o->state_path)
		return barge_error_set(BARGE_EUSAGE, "--against-state needs --state");
	if ((err = barge_state_open(&st, o->state_path, 0)) < 0 ||
	    (err = latest_copy_run(st, &run)) < 0)
		goto out;
	if ((err = barge_ep_init(&dst, o->target ? o->target : run->target)) < 0 ||
	    (err = barge_drv_open(&dst, &dc, BARGE_OPEN_READ)) < 0 ||
	    (err = barge_drv_snapshot_begin(&dst, dc, &token)) < 0)
		goto out;
	tables = strdup(run->tables);
	if (!tables) {
		err = barge_error_set(BARGE_ENOMEM, "out of memory");
		goto out;
	}
	size_t n = 1;
	for (const char *p = tables; *p; p++)
		n += *p == ',';
	res->tables = calloc(n, sizeof *res->tables);
	if (!res->tables) {
		err = barge_error_set(BARGE_ENOMEM, "out of memory");
		goto out;
	}
	res->equal = 1;
	for (char *t = strtok_r(tables, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		int listed = o->ntables == 0;
		const char *tname = NULL;
		for (size_t i = 0; i < o->ntables; i++)
			if (strcmp(o->tables[i].name, t) == 0) {
				listed = 1;
				tname = o->tables[i].target;
			}
		if (!listed)
			continue;
		char *target = tname ? strdup(tname) : config_target(run->config, t);
		struct barge_verify_table *r = &res->tables[res->ntables++];
		double t1 = barge_monotonic();
		err = target ? astate_table(st, &dst, dc, run->id, t, target, r,
					    o->max_diffs > 0 ? o->max_diffs : 1000)
			     : barge_error_set(BARGE_ENOMEM, "out of memory");
		free(target);
		r->seconds = barge_monotonic() - t1;
		if (err < 0)
			goto out;
		if (!r->equal)
			res->equal = 0;
	}
	res->seconds = barge_monotonic() - t0;
	barge_state_close(st);
	st = NULL;
	err = verify_store_results(o, run->source, barge_url_redacted(dst.url), res);
out:
	if (dc && token)
		barge_drv_snapshot_end(&dst, dc);
	free(token);
	barge_drv_close(&dst, dc);
	barge_ep_dispose(&dst);
	barge_run_free(run);
	barge_state_close(st);
	free(tables);
	return err;
}
