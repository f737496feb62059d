/*
 * verify's bucketed tables (one integer key, streamed; docs/verify.md,
 * step 1): the key span cut into buckets, each side read in parts with
 * every row summed into its key's bucket, then the differing buckets
 * localized like differing chunks.
 */
#include "verify_int.h"

#include <stdlib.h>
#include <string.h>

/* ---- Bucketed tables ----------------------------------------------------------- */

/* Past this many buckets a table's buckets hold more rows each (memory:
 * 2 x 24 bytes a bucket); localization splits the big ones. */
#define BUCKETS_MAX ((size_t)1 << 18)

/* Buckets suit a table compared by one integer key, streamed. */
int verify_bucket_able(const struct vt *t)
{
	return t->keyed && !t->fast && t->nkey == 1 &&
	       barge_chunking_for(t->sdef, 0) == BARGE_CHUNK_INT &&
	       t->stypes[t->kpos[0]] == BARGE_T_INT64 &&
	       t->dtypes[t->kpos[0]] == BARGE_T_INT64;
}

/*
 * Cut the source's key span [min, max] into buckets of about leaf_rows / 2
 * rows (dense keys), so a differing bucket is merged row by row at once,
 * and the key space into one part per two workers (each side of a part
 * is one read: with --jobs 2 the whole table, a sequential scan).
 */
int verify_plan_buckets(struct vctx *cx, struct vt *t, int jobs)
{
	int64_t min = 0, max = 0, count = 0;
	int err = barge_drv_key_range(&cx->src, cx->slead, t->sdef, 0, &min, &max,
				      &count);
	if (err == BARGE_ENOTFOUND) { /* empty: one bucket takes everything */
		barge_error_clear();
		err = 0;
	}
	if (err < 0)
		return err;
	int64_t per = cx->leaf_rows / 2 > 0 ? cx->leaf_rows / 2 : 1;
	uint64_t nb = (uint64_t)((count + per - 1) / per);
	if (nb < 1)
		nb = 1;
	if (nb > BUCKETS_MAX)
		nb = BUCKETS_MAX;
	unsigned __int128 span = (unsigned __int128)((__int128)max - min) + 1;
	unsigned __int128 w = (span + nb - 1) / nb;
	t->kmin = min;
	t->kw = (uint64_t)w;
	/* every bucket starts at or below max */
	t->nb = (size_t)((span + w - 1) / w);
	t->nparts = (size_t)(jobs / 2 > 1 ? jobs / 2 : 1);
	if (t->nparts > t->nb)
		t->nparts = t->nb;
	t->bd[0] = calloc(t->nb, sizeof *t->bd[0]);
	t->bd[1] = calloc(t->nb, sizeof *t->bd[1]);
	if (!t->bd[0] || !t->bd[1])
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	t->bucketed = 1;
	t->est_rows = 2 * count;
	t->res->chunks = (int64_t)t->nb;
	return 0;
}

static size_t bucket_of(const struct vt *t, int64_t k)
{
	if (k <= t->kmin)
		return 0;
	uint64_t i = (uint64_t)((unsigned __int128)((__int128)k - t->kmin) / t->kw);
	return i < t->nb ? (size_t)i : t->nb - 1;
}

/* The key range of buckets [b0, b1): open below from bucket 0, open above
 * to the last. The caller frees ch->lo and ch->hi. */
static int bucket_range(struct barge_chunk *ch, const struct vt *t, size_t b0,
			size_t b1)
{
	memset(ch, 0, sizeof *ch);
	int err = 0;
	if (b0 > 0) {
		struct barge_value v = {.type = BARGE_T_INT64,
					.i = (int64_t)((__int128)t->kmin + (__int128)t->kw * b0)};
		err = barge_key_new(&ch->lo, 1, &v);
	}
	if (err == 0 && b1 < t->nb) {
		struct barge_value v = {.type = BARGE_T_INT64,
					.i = (int64_t)((__int128)t->kmin + (__int128)t->kw * b1)};
		err = barge_key_new(&ch->hi, 1, &v);
	}
	ch->seq = (int64_t)b0;
	return err;
}

/* One side of one part: every row hashed into its key's bucket. Parts
 * cover disjoint buckets, so no two workers add to one bucket. A NULL key
 * (only a target can hold one) is an extra row outright. */
int verify_do_pass(struct vworker *w, struct vt *t, size_t part, int target)
{
	struct vctx *cx = w->cx;
	struct barge_digest *bd = t->bd[target];
	size_t b0 = part * t->nb / t->nparts, b1 = (part + 1) * t->nb / t->nparts;
	struct side s;
	struct sread rd;
	struct barge_batch *b = NULL;
	struct barge_buf enc;
	struct barge_chunk ch;
	int64_t rows = 0;
	int err;

	memset(&rd, 0, sizeof rd);
	barge_buf_init(&enc, ENC_CAP);
	verify_side_of(&s, cx, t, target, target ? w->dconn : w->sconn);
	if ((err = bucket_range(&ch, t, b0, b1)) < 0 ||
	    (err = barge_batch_new(&b, t->ncols, s.types, BATCH_ROWS)) < 0 ||
	    (err = verify_sread_open(&rd, &s, t->ncols, &ch, 0)) < 0)
		goto out;
	for (;;) {
		if ((err = verify_sread_next(&rd, b)) < 0 || b->nrows == 0)
			break;
		atomic_fetch_add(&t->rows_read, (long long)b->nrows);
		for (size_t r = 0; r < b->nrows; r++) {
			uint64_t lo, hi;
			if (barge_batch_is_null(b, t->kpos[0], r)) {
				if ((err = verify_add_diff(cx, t, BARGE_DIFF_EXTRA, b, r,
							   NULL)) < 0)
					goto out;
				continue;
			}
			size_t i = bucket_of(t, barge_batch_i64(b, t->kpos[0], r));
			i = i < b0 ? b0 : i >= b1 ? b1 - 1 : i;
			if ((err = barge_canon_encode_row(&enc, b, t->ncols, r)) < 0)
				goto out;
			barge_canon_hash(&enc, &lo, &hi);
			barge_digest_add(&bd[i], lo, hi);
			rows++;
		}
	}
	pthread_mutex_lock(&t->lock);
	if (target)
		t->res->target_rows += rows;
	else
		t->res->source_rows += rows;
	pthread_mutex_unlock(&t->lock);
out:
	barge_key_free(ch.lo);
	barge_key_free(ch.hi);
	verify_sread_close(&rd);
	barge_batch_free(b);
	barge_buf_dispose(&enc);
	return err;
}

/* A bucket whose digests differ: localized like a differing chunk. */
int verify_do_bucket(struct vworker *w, struct vt *t, size_t i)
{
	struct side ss, ds;
	struct barge_chunk ch;
	int err;

	verify_side_of(&ss, w->cx, t, 0, w->sconn);
	verify_side_of(&ds, w->cx, t, 1, w->dconn);
	if ((err = bucket_range(&ch, t, i, i + 1)) == 0)
		err = verify_localize(w->cx, t, &ss, &ds, &ch, t->bd[0][i].rows, 0);
	barge_key_free(ch.lo);
	barge_key_free(ch.hi);
	return err;
}
