/*
 * The canonical row encoding and chunk digests (DESIGN.md "Proof").
 *
 * Each row is encoded as, per column: a type tag byte, a NULL flag byte,
 * then a 4-byte little-endian length and that many bytes:
 *   int64-slot types: 8 bytes little-endian;
 *   float64: IEEE bits little-endian, -0 as 0 and every NaN as one NaN;
 *   decimal: normalized text (no leading/trailing zeros, no "-0");
 *   text, bytes, json, uuid: the bytes as they are.
 * The row is hashed with XXH3-128 and a chunk's digest is the count of rows
 * and the sum of the row hashes mod 2^128, so it does not depend on order.
 */
#ifndef BARGE_CANON_H
#define BARGE_CANON_H

#include "barge/barge.h"
#include "util.h"

#include <stdint.h>

struct barge_digest {
	uint64_t lo, hi; /* the 128-bit sum */
	int64_t rows;
};

void barge_digest_init(struct barge_digest *d);
void barge_digest_add(struct barge_digest *d, uint64_t lo, uint64_t hi);
/* 32 lowercase hex digits, high half first, NUL-terminated. */
void barge_digest_hex(const struct barge_digest *d, char out[33]);

/* Encode row `row` of the first `ncols` columns of `b` into `out`
 * (cleared first). */
int barge_canon_encode_row(struct barge_buf *out, const struct barge_batch *b,
			   size_t ncols, size_t row);
/* Add every row of `b` (its first `ncols` columns) to the digest. */
int barge_canon_digest_batch(struct barge_digest *d, struct barge_buf *scratch,
			     const struct barge_batch *b, size_t ncols);

#endif
