/*
 * Columnar batches (include/barge/batch.h). Fixed-size arrays are sized
 * once for `cap` rows; arenas grow by doubling up to hard_bytes.
 */
#include "barge/barge.h"

#include <stdlib.h>
#include <string.h>

static int column_init(struct barge_column *c, int type, size_t cap)
{
	c->type = type;
	c->valid = calloc((cap + 7) / 8 + 1, 1);
	c->fixed = calloc(cap + 1, sizeof *c->fixed);
	if (!c->valid || !c->fixed)
		return BARGE_ENOMEM;
	if (type == BARGE_T_ANY) {
		c->tags = calloc(cap + 1, 1);
		if (!c->tags)
			return BARGE_ENOMEM;
	}
	if (barge_type_is_varlen(type)) {
		c->offsets = calloc(cap + 1, sizeof *c->offsets);
		c->data_cap = 256;
		c->data = malloc(c->data_cap);
		if (!c->offsets || !c->data)
			return BARGE_ENOMEM;
	}
	return 0;
}

int barge_batch_new(struct barge_batch **out, size_t ncols, const int *types,
		    size_t cap_rows)
{
	struct barge_batch *b = NULL;
	int err = BARGE_ENOMEM;

	*out = NULL;
	if (cap_rows == 0)
		cap_rows = 1;
	b = calloc(1, sizeof *b);
	if (!b)
		goto out;
	b->ncols = ncols;
	b->cap = cap_rows;
	b->soft_bytes = BARGE_BATCH_SOFT_BYTES;
	b->hard_bytes = BARGE_BATCH_HARD_BYTES;
	b->cols = calloc(ncols ? ncols : 1, sizeof *b->cols);
	if (!b->cols)
		goto out;
	for (size_t i = 0; i < ncols; i++) {
		if (types[i] <= BARGE_T_NULL || types[i] >= BARGE_T__COUNT) {
			err = barge_error_set(BARGE_EUSAGE,
					      "batch column %zu has no type", i);
			goto out;
		}
		if (column_init(&b->cols[i], types[i], cap_rows) < 0)
			goto out;
	}
	*out = b;
	b = NULL;
	err = 0;
out:
	if (err == BARGE_ENOMEM)
		barge_error_set(err, "out of memory allocating a batch");
	barge_batch_free(b);
	return err;
}

void barge_batch_free(struct barge_batch *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->ncols && b->cols; i++) {
		struct barge_column *c = &b->cols[i];
		free(c->valid);
		free(c->fixed);
		free(c->tags);
		free(c->offsets);
		free(c->data);
	}
	free(b->cols);
	free(b);
}

void barge_batch_reset(struct barge_batch *b)
{
	for (size_t i = 0; i < b->ncols; i++) {
		struct barge_column *c = &b->cols[i];
		memset(c->valid, 0, (b->nrows + 7) / 8 + 1);
		c->data_len = 0;
	}
	b->nrows = 0;
}

static inline void set_valid(struct barge_column *c, size_t row, int valid)
{
	if (valid)
		c->valid[row >> 3] |= (uint8_t)(1u << (row & 7));
	else
		c->valid[row >> 3] &= (uint8_t)~(1u << (row & 7));
}

/* Arena columns keep offsets[row + 1] current for every put. */
static inline void close_offset(struct barge_column *c, size_t row)
{
	if (c->offsets)
		c->offsets[row + 1] = c->data_len;
}

/* The row being built gets a value in its fixed slot (FLOAT64 by its
 * bits), or NULL, and its tag when the column keeps them. */
static inline int put_fixed(struct barge_batch *b, size_t col, int valid,
			    int64_t bits, int tag)
{
	struct barge_column *c = &b->cols[col];
	size_t row = b->nrows;
	set_valid(c, row, valid);
	c->fixed[row] = bits;
	if (c->tags)
		c->tags[row] = (uint8_t)tag;
	close_offset(c, row);
	return 0;
}

int barge_batch_put_null(struct barge_batch *b, size_t col)
{
	return put_fixed(b, col, 0, 0, BARGE_T_NULL);
}

int barge_batch_put_i64(struct barge_batch *b, size_t col, int64_t v)
{
	return put_fixed(b, col, 1, v, BARGE_T_INT64);
}

int barge_batch_put_f64(struct barge_batch *b, size_t col, double v)
{
	int64_t bits;
	memcpy(&bits, &v, sizeof bits);
	return put_fixed(b, col, 1, bits, BARGE_T_FLOAT64);
}

static int arena_append(struct barge_batch *b, struct barge_column *c,
			const void *p, size_t n)
{
	if (n > b->hard_bytes - c->data_len)
		return barge_error_set(BARGE_ENOMEM,
				       "a value of %zu bytes does not fit in a batch "
				       "(cap %zu bytes)", n, b->hard_bytes);
	if (c->data_len + n > c->data_cap) {
		size_t cap = c->data_cap;
		while (cap < c->data_len + n)
			cap = cap * 2 > b->hard_bytes ? b->hard_bytes : cap * 2;
		char *d = realloc(c->data, cap);
		if (!d)
			return barge_error_set(BARGE_ENOMEM,
					       "out of memory growing a batch to %zu bytes",
					       cap);
		c->data = d;
		c->data_cap = cap;
	}
	if (n)
		memcpy(c->data + c->data_len, p, n);
	c->data_len += n;
	return 0;
}

int barge_batch_put_bytes(struct barge_batch *b, size_t col, const void *p,
			  size_t n)
{
	struct barge_column *c = &b->cols[col];
	int err;

	if (!c->offsets)
		return barge_error_set(BARGE_EUSAGE,
				       "column %zu of type %s holds no bytes", col,
				       barge_type_name(c->type));
	if ((err = arena_append(b, c, p, n)) < 0)
		return err;
	return put_fixed(b, col, 1, 0, BARGE_T_TEXT);
}

int barge_batch_put_tagged(struct barge_batch *b, size_t col,
			   const struct barge_value *v)
{
	struct barge_column *c = &b->cols[col];
	int err = 0;

	if (v->null)
		return barge_batch_put_null(b, col);
	switch (v->type) {
	case BARGE_T_INT64:
		err = barge_batch_put_i64(b, col, v->i);
		break;
	case BARGE_T_FLOAT64:
		err = barge_batch_put_f64(b, col, v->f);
		break;
	case BARGE_T_TEXT:
	case BARGE_T_BYTES:
		err = barge_batch_put_bytes(b, col, v->p, v->n);
		break;
	default:
		return barge_error_set(BARGE_EUSAGE, "an 'any' column cannot hold %s",
				       barge_type_name(v->type));
	}
	if (err == 0 && c->tags)
		c->tags[b->nrows] = (uint8_t)v->type;
	return err;
}

int barge_batch_put_value(struct barge_batch *b, size_t col,
			  const struct barge_value *v)
{
	struct barge_column *c = &b->cols[col];

	if (v->null)
		return barge_batch_put_null(b, col);
	if (c->type == BARGE_T_ANY)
		return barge_batch_put_tagged(b, col, v);
	if ((int)v->type != c->type)
		return barge_error_set(BARGE_EDATA, "a %s value in a %s column",
				       barge_type_name(v->type),
				       barge_type_name(c->type));
	if (c->type == BARGE_T_FLOAT64)
		return barge_batch_put_f64(b, col, v->f);
	if (barge_type_is_varlen(c->type))
		return barge_batch_put_bytes(b, col, v->p, v->n);
	return barge_batch_put_i64(b, col, v->i);
}

void barge_batch_end_row(struct barge_batch *b)
{
	b->nrows++;
}

void barge_batch_abandon_row(struct barge_batch *b)
{
	size_t row = b->nrows;
	for (size_t i = 0; i < b->ncols; i++) {
		struct barge_column *c = &b->cols[i];
		set_valid(c, row, 0);
		if (c->offsets) {
			c->data_len = c->offsets[row];
			c->offsets[row + 1] = c->data_len;
		}
	}
}

int barge_batch_full(const struct barge_batch *b)
{
	if (b->nrows >= b->cap)
		return 1;
	size_t bytes = 0;
	for (size_t i = 0; i < b->ncols; i++)
		bytes += b->cols[i].data_len;
	return bytes >= b->soft_bytes;
}

size_t barge_batch_bytes(const struct barge_batch *b)
{
	size_t bytes = 0;
	for (size_t i = 0; i < b->ncols; i++) {
		const struct barge_column *c = &b->cols[i];
		if (c->offsets && b->nrows)
			bytes += c->offsets[b->nrows];
		if (barge_type_is_fixed(c->type))
			bytes += b->nrows * 8;
	}
	return bytes;
}
