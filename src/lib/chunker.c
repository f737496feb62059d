#include "chunker.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

const char *barge_chunking_name(int how)
{
	switch (how) {
	case BARGE_CHUNK_INT: return "integer key ranges";
	case BARGE_CHUNK_KEYSET: return "keyset walking";
	case BARGE_CHUNK_ROWID: return "rowid ranges";
	default: return "one chunk";
	}
}

int barge_chunking_for(const struct barge_table_def *t, unsigned target_caps)
{
	int key_ok = t->nkey > 0;
	for (size_t i = 0; i < t->nkey; i++)
		if (!t->cols[t->key[i]].notnull)
			key_ok = 0; /* NULLs fall outside every range */
	if (key_ok && t->nkey == 1 && t->cols[t->key[0]].type == BARGE_T_INT64)
		return BARGE_CHUNK_INT;
	if (key_ok)
		return BARGE_CHUNK_KEYSET;
	if (t->has_rowid && (target_caps & BARGE_CAP_ROWID))
		return BARGE_CHUNK_ROWID;
	return BARGE_CHUNK_ONE;
}

void barge_chunk_key_types(int *types, const struct barge_table_def *t,
			   int by_rowid)
{
	if (by_rowid) {
		types[0] = BARGE_T_INT64;
		return;
	}
	for (size_t i = 0; i < t->nkey; i++)
		types[i] = t->cols[t->key[i]].type;
}

int barge_chunk_from_json(struct barge_chunk *ch, const struct barge_table_def *t,
			  int by_rowid, const char *lo, const char *hi)
{
	int types[64];
	size_t nk = by_rowid ? 1 : t->nkey;
	int err;

	memset(ch, 0, sizeof *ch);
	if (nk > 64)
		return barge_error_set(BARGE_EUSAGE, "a key of more than 64 columns");
	barge_chunk_key_types(types, t, by_rowid);
	ch->by_rowid = by_rowid;
	if ((lo && (err = barge_key_from_json(&ch->lo, lo, nk, types)) < 0) ||
	    (hi && (err = barge_key_from_json(&ch->hi, hi, nk, types)) < 0)) {
		barge_key_free(ch->lo);
		ch->lo = NULL;
		return err;
	}
	/* planned boundaries only grow, so lo == hi is a one-row unit */
	ch->hi_incl = ch->lo && ch->hi && barge_key_cmp(ch->lo, ch->hi) == 0;
	return 0;
}

void barge_chunk_list_dispose(struct barge_chunk_list *l)
{
	for (size_t i = 0; l->units && i < l->n; i++) {
		free((char *)l->units[i].lo);
		free((char *)l->units[i].hi);
	}
	free(l->units);
	memset(l, 0, sizeof *l);
}

static int add_unit(struct barge_chunk_list *l, size_t *cap,
		    const struct barge_key *lo, const struct barge_key *hi,
		    int by_rowid)
{
	char *ljson = NULL, *hjson = NULL;
	int err = 0;
	struct barge_unit_plan *u = barge_grow(l->units, cap, l->n, sizeof *u, 16);
	if (!u)
		return BARGE_ENOMEM;
	l->units = u;
	if ((lo && (err = barge_key_to_json(&ljson, lo)) < 0) ||
	    (hi && (err = barge_key_to_json(&hjson, hi)) < 0)) {
		free(ljson);
		return err;
	}
	l->units[l->n].lo = ljson;
	l->units[l->n].hi = hjson;
	l->units[l->n].by_rowid = by_rowid;
	l->n++;
	return 0;
}

static int int_key(struct barge_key **out, int64_t v)
{
	struct barge_value val = {.type = BARGE_T_INT64, .i = v};
	return barge_key_new(out, 1, &val);
}

/* Split [min, max] into ceil(count / chunk_rows) ranges of equal width. */
static int plan_int(struct barge_chunk_list *l, const struct barge_ep *ep,
		    struct barge_conn *c, const struct barge_table_def *t,
		    int by_rowid, int64_t chunk_rows, int jobs)
{
	int64_t min, max, count;
	size_t cap = 0;
	struct barge_key *lo = NULL, *hi = NULL;
	int err = barge_drv_key_range(ep, c, t, by_rowid, &min, &max, &count);

	if (err == BARGE_ENOTFOUND)
		return add_unit(l, &cap, NULL, NULL, by_rowid); /* empty */
	if (err < 0)
		return err;
	l->rows = count;
	if (chunk_rows == 0)
		chunk_rows = barge_chunk_rows_auto(count, jobs);
	uint64_t nchunks = (uint64_t)((count + chunk_rows - 1) / chunk_rows);
	unsigned __int128 span = (unsigned __int128)((__int128)max - min) + 1;
	uint64_t width = (uint64_t)((span + nchunks - 1) / nchunks);
	if (nchunks <= 1 || width == 0)
		return add_unit(l, &cap, NULL, NULL, by_rowid);
	for (uint64_t i = 0; i < nchunks; i++) {
		__int128 b = (__int128)min + (__int128)width * (i + 1);
		if (i + 1 < nchunks && b <= max) {
			if ((err = int_key(&hi, (int64_t)b)) < 0)
				break;
		}
		/* first range open below, last open above: rows outside
		 * [min, max] (none in a snapshot) are never lost */
		err = add_unit(l, &cap, i ? lo : NULL, hi, by_rowid);
		barge_key_free(lo);
		lo = hi;
		hi = NULL;
		if (err < 0 || !lo)
			break;
	}
	barge_key_free(lo);
	barge_key_free(hi);
	return err;
}

/* The source's own bounds (files: files and byte ranges). */
static int plan_splits(struct barge_chunk_list *l, const struct barge_ep *ep,
		       struct barge_conn *c, const struct barge_table_def *t,
		       int64_t chunk_rows, int jobs)
{
	int64_t *b = NULL;
	size_t n = 0, cap = 0;
	struct barge_key *lo = NULL, *hi = NULL;
	int err = barge_drv_rowid_splits(ep, c, t, chunk_rows, jobs, &b, &n,
					 &l->rows);
	for (size_t i = 0; err == 0 && i <= n; i++) {
		if (i < n && (err = int_key(&hi, b[i])) < 0)
			break;
		err = add_unit(l, &cap, lo, i < n ? hi : NULL, 1);
		barge_key_free(lo);
		lo = hi;
		hi = NULL;
	}
	barge_key_free(lo);
	free(b);
	return err;
}

/* Walk the key in binary order, a boundary every chunk_rows rows. */
static int plan_keyset(struct barge_chunk_list *l, const struct barge_ep *ep,
		       struct barge_conn *c, const struct barge_table_def *t,
		       int64_t chunk_rows, int jobs)
{
	struct barge_key *lo = NULL, *hi = NULL;
	size_t cap = 0;
	int err, counted = 0;

	if (chunk_rows == 0) { /* auto: the count first */
		if ((err = barge_drv_count_rows(ep, c, t, NULL, &l->rows)) < 0)
			return err;
		counted = 1;
		chunk_rows = barge_chunk_rows_auto(l->rows, jobs);
	}
	for (;;) {
		err = barge_drv_key_after(ep, c, t, lo, chunk_rows, &hi);
		if (err == BARGE_ENOTFOUND) {
			err = add_unit(l, &cap, lo, NULL, 0);
			break;
		}
		if (err < 0)
			break;
		if ((err = add_unit(l, &cap, lo, hi, 0)) < 0)
			break;
		barge_key_free(lo);
		lo = hi;
		hi = NULL;
	}
	barge_key_free(lo);
	barge_key_free(hi);
	if (err == 0 && !counted && barge_drv_count_rows(ep, c, t, NULL, &l->rows) < 0)
		l->rows = -1;
	return err;
}

int64_t barge_chunk_rows_auto(int64_t rows, int jobs)
{
	int64_t per = jobs > 0 ? (int64_t)jobs * BARGE_CHUNKS_PER_JOB : BARGE_CHUNKS_PER_JOB;
	int64_t n = rows > 0 ? (rows + per - 1) / per : 0;
	if (n < BARGE_CHUNK_ROWS_MIN)
		return BARGE_CHUNK_ROWS_MIN;
	return n > BARGE_CHUNK_ROWS_MAX ? BARGE_CHUNK_ROWS_MAX : n;
}

int barge_chunk_plan(struct barge_chunk_list *out, const struct barge_ep *ep,
		     struct barge_conn *c, const struct barge_table_def *t,
		     int how, int64_t chunk_rows, int jobs)
{
	int err;
	size_t cap = 0;

	memset(out, 0, sizeof *out);
	out->rows = -1;
	if (chunk_rows < 0)
		chunk_rows = 1;
	switch (how) {
	case BARGE_CHUNK_INT:
		err = plan_int(out, ep, c, t, 0, chunk_rows, jobs);
		break;
	case BARGE_CHUNK_ROWID:
		err = ep->drv->rowid_splits ? plan_splits(out, ep, c, t, chunk_rows, jobs)
					    : plan_int(out, ep, c, t, 1, chunk_rows, jobs);
		break;
	case BARGE_CHUNK_KEYSET:
		err = plan_keyset(out, ep, c, t, chunk_rows, jobs);
		break;
	default:
		err = add_unit(out, &cap, NULL, NULL, 0);
		if (err == 0 && barge_drv_count_rows(ep, c, t, NULL, &out->rows) < 0)
			out->rows = -1;
	}
	if (err < 0)
		barge_chunk_list_dispose(out);
	return err;
}
