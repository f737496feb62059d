/*
 * verify's tables without a usable key, compared as multisets of row
 * hashes held in memory (docs/verify.md, step 5): apart because nothing
 * else in verify holds a table's rows in memory, and it has its own cap.
 */
#include "verify_int.h"

#include <stdlib.h>
#include <string.h>

/* Keyless tables are compared as sorted arrays of row hashes (16 bytes a
 * row on each side); past this many rows that is refused, not swapped. */
#define KEYLESS_MAX_ROWS ((int64_t)50 * 1000 * 1000)

/* ---- Keyless tables: multisets of row hashes ------------------------------------ */

struct h128 {
	uint64_t hi, lo;
};

static int h128_cmp(const void *a, const void *b)
{
	const struct h128 *x = a, *y = b;
	if (x->hi != y->hi)
		return x->hi < y->hi ? -1 : 1;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Every row hash of one side, sorted. */
static int side_hashes(const struct side *s, size_t ncols, struct h128 **out,
		       size_t *n)
{
	struct cursor c;
	size_t cap = 0;
	int err;

	*out = NULL;
	*n = 0;
	if ((err = verify_cursor_open(&c, s, ncols, NULL, 0)) < 0)
		goto out;
	while (!c.done) {
		if (*n == cap) {
			size_t nc = cap ? cap * 2 : 1024;
			if ((int64_t)nc > KEYLESS_MAX_ROWS)
				nc = (size_t)KEYLESS_MAX_ROWS;
			if (*n == nc) {
				err = barge_error_set(BARGE_ENOMEM,
						      "table '%s' has no key and more than "
						      "%lld rows: too many to compare",
						      s->def->name, (long long)KEYLESS_MAX_ROWS);
				goto out;
			}
			struct h128 *g = realloc(*out, nc * sizeof *g);
			if (!g) {
				err = barge_error_set(BARGE_ENOMEM, "out of memory");
				goto out;
			}
			*out = g;
			cap = nc;
		}
		(*out)[*n].hi = c.hhi;
		(*out)[*n].lo = c.hlo;
		(*n)++;
		if ((err = verify_cursor_next(&c, ncols)) < 0)
			goto out;
	}
	qsort(*out, *n, sizeof **out, h128_cmp);
out:
	verify_cursor_close(&c);
	return err;
}

/* Rows of one side whose hash is in `want` (sorted, with multiplicity):
 * each is listed as a difference of `kind`, once per surplus copy. */
static int list_rows(struct vctx *cx, struct vt *t, const struct side *s,
		     const struct h128 *want, size_t nwant, int kind)
{
	struct cursor c;
	unsigned char *used = NULL;
	int err;
	memset(&c, 0, sizeof c);
	if (nwant == 0)
		return 0;
	used = calloc(nwant, 1);
	if (!used)
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	if ((err = verify_cursor_open(&c, s, t->ncols, NULL, 0)) < 0)
		goto out;
	while (!c.done) {
		struct h128 h = {c.hhi, c.hlo};
		const struct h128 *f = bsearch(&h, want, nwant, sizeof *want, h128_cmp);
		if (f) {
			size_t i = (size_t)(f - want);
			while (i > 0 && h128_cmp(&want[i - 1], &h) == 0)
				i--;
			while (i < nwant && h128_cmp(&want[i], &h) == 0 && used[i])
				i++;
			if (i < nwant && h128_cmp(&want[i], &h) == 0) {
				used[i] = 1;
				if ((err = verify_add_diff(cx, t, kind, c.b, c.row, NULL)) < 0)
					goto out;
			}
		}
		if ((err = verify_cursor_next(&c, t->ncols)) < 0)
			goto out;
	}
out:
	free(used);
	verify_cursor_close(&c);
	return err;
}

int verify_compare_keyless(struct vctx *cx, struct vt *t, const struct side *ss,
			   const struct side *ds)
{
	struct h128 *a = NULL, *b = NULL, *only_a = NULL, *only_b = NULL;
	size_t na = 0, nb = 0, noa = 0, nob = 0, i = 0, j = 0;
	int err;

	/* equal whole-table digests: equal, with no hashes held in memory */
	struct barge_digest x, y;
	if ((err = verify_side_digest(ss, t->ncols, NULL, &x)) < 0 ||
	    (err = verify_side_digest(ds, t->ncols, NULL, &y)) < 0)
		goto out;
	atomic_fetch_add(&t->rows_read, (long long)(x.rows + y.rows));
	if (x.rows == y.rows && x.lo == y.lo && x.hi == y.hi) {
		pthread_mutex_lock(&t->lock);
		t->res->source_rows = x.rows;
		t->res->target_rows = y.rows;
		t->res->chunks = 1;
		pthread_mutex_unlock(&t->lock);
		goto out;
	}
	if ((err = side_hashes(ss, t->ncols, &a, &na)) < 0 ||
	    (err = side_hashes(ds, t->ncols, &b, &nb)) < 0)
		goto out;
	pthread_mutex_lock(&t->lock);
	t->res->source_rows = (int64_t)na;
	t->res->target_rows = (int64_t)nb;
	t->res->chunks = 1;
	pthread_mutex_unlock(&t->lock);
	only_a = malloc((na ? na : 1) * sizeof *only_a);
	only_b = malloc((nb ? nb : 1) * sizeof *only_b);
	if (!only_a || !only_b) {
		err = barge_error_set(BARGE_ENOMEM, "out of memory");
		goto out;
	}
	while (i < na || j < nb) {
		int c = i == na ? 1 : j == nb ? -1 : h128_cmp(&a[i], &b[j]);
		if (c < 0)
			only_a[noa++] = a[i++];
		else if (c > 0)
			only_b[nob++] = b[j++];
		else {
			i++;
			j++;
		}
	}
	if (noa || nob) {
		pthread_mutex_lock(&t->lock);
		t->res->chunks_differing = 1;
		pthread_mutex_unlock(&t->lock);
	}
	free(a);
	free(b);
	a = b = NULL;
	if ((err = list_rows(cx, t, ss, only_a, noa, BARGE_DIFF_MISSING)) < 0 ||
	    (err = list_rows(cx, t, ds, only_b, nob, BARGE_DIFF_EXTRA)) < 0)
		goto out;
out:
	free(a);
	free(b);
	free(only_a);
	free(only_b);
	return err;
}
