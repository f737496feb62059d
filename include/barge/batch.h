/*
 * A batch: N rows x M typed columns, columnar, in the Arrow layout: per
 * column a validity bitmap, one int64 slot a row for fixed-width types and,
 * for variable-length ones, an offsets array into one data arena.
 *
 * A reader fills a batch row by row (put each column of row `nrows`, then
 * barge_batch_end_row), a consumer reads it, the reader resets and reuses
 * it. Batches are single-threaded; a queue hands one from thread to thread.
 */
#ifndef BARGE_BATCH_H
#define BARGE_BATCH_H

#include "barge/barge.h" /* the value view and the logical types */

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

struct barge_value;

struct barge_column {
	int type;          /* enum barge_type */
	uint8_t *valid;    /* bitmap, bit set = not NULL */
	int64_t *fixed;    /* one slot a row (FLOAT64 stored by its bits) */
	uint8_t *tags;     /* ANY only: each row's own type */
	size_t *offsets;   /* arena types and ANY: nrows + 1 offsets */
	char *data;        /* the arena */
	size_t data_len;
	size_t data_cap;
};

struct barge_batch {
	size_t ncols;
	struct barge_column *cols;
	size_t nrows;      /* rows complete */
	size_t cap;        /* rows the batch holds */
	size_t soft_bytes; /* full once the arenas hold this much */
	size_t hard_bytes; /* one arena never grows past this (cap on a value) */
};

/* Default soft limit on arena bytes per batch and hard cap per arena. */
#define BARGE_BATCH_SOFT_BYTES (8u << 20)
#define BARGE_BATCH_HARD_BYTES (1024u << 20)

/*
 * Create a batch of `ncols` columns of the given logical types, holding up
 * to `cap_rows` rows. The caller frees it with barge_batch_free.
 */
int barge_batch_new(struct barge_batch **out, size_t ncols, const int *types,
		    size_t cap_rows);
void barge_batch_free(struct barge_batch *b);
void barge_batch_reset(struct barge_batch *b);

/* Put a value into column `col` of the row being built (row b->nrows). */
int barge_batch_put_null(struct barge_batch *b, size_t col);
int barge_batch_put_i64(struct barge_batch *b, size_t col, int64_t v);
int barge_batch_put_f64(struct barge_batch *b, size_t col, double v);
int barge_batch_put_bytes(struct barge_batch *b, size_t col, const void *p,
			  size_t n);
/* ANY columns: put with an explicit tag (INT64, FLOAT64, TEXT or BYTES). */
int barge_batch_put_tagged(struct barge_batch *b, size_t col,
			   const struct barge_value *v);
/* Put any value view (type checked against the column). */
int barge_batch_put_value(struct barge_batch *b, size_t col,
			  const struct barge_value *v);
/* Finish the row being built. */
void barge_batch_end_row(struct barge_batch *b);
/* Drop a partly built row (its puts are undone). */
void barge_batch_abandon_row(struct barge_batch *b);

/* Full: no more rows fit, or the arenas passed the soft limit. */
int barge_batch_full(const struct barge_batch *b);
/* Bytes held by the values of the complete rows (for metrics). */
size_t barge_batch_bytes(const struct barge_batch *b);

static inline int barge_batch_is_null(const struct barge_batch *b, size_t col,
				      size_t row)
{
	return !(b->cols[col].valid[row >> 3] & (1u << (row & 7)));
}

static inline int64_t barge_batch_i64(const struct barge_batch *b, size_t col,
				      size_t row)
{
	return b->cols[col].fixed[row];
}

static inline double barge_batch_f64(const struct barge_batch *b, size_t col,
				     size_t row)
{
	double d;
	memcpy(&d, &b->cols[col].fixed[row], sizeof d);
	return d;
}

static inline const char *barge_batch_bytes_at(const struct barge_batch *b,
					       size_t col, size_t row,
					       size_t *n)
{
	const struct barge_column *c = &b->cols[col];
	*n = c->offsets[row + 1] - c->offsets[row];
	return c->data + c->offsets[row];
}

/* A view of one value (ANY resolved to the row's tag). Inline: it is on
 * every hot path (binding, hashing). */
static inline void barge_batch_get(const struct barge_batch *b, size_t col,
				   size_t row, struct barge_value *out)
{
	const struct barge_column *c = &b->cols[col];
	memset(out, 0, sizeof *out);
	out->type = (enum barge_type)(c->tags ? c->tags[row] : c->type);
	if (barge_batch_is_null(b, col, row)) {
		out->null = 1;
		return;
	}
	if (out->type == BARGE_T_FLOAT64)
		out->f = barge_batch_f64(b, col, row);
	else if (c->offsets && out->type != BARGE_T_INT64)
		out->p = barge_batch_bytes_at(b, col, row, &out->n);
	else
		out->i = c->fixed[row];
}

#ifdef __cplusplus
}
#endif

#endif
