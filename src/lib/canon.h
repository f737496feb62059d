/*
 * The canonical row encoding and chunk digests (DESIGN.md "Proof").
 *
 * Each row is encoded as, per column: a type tag byte, a NULL flag byte,
 * then a 4-byte little-endian length and that many bytes:
 *   int64-slot types: 8 bytes little-endian;
 *   float64: IEEE bits little-endian, -0 as 0 and every NaN as one NaN;
 *   decimal: normalized text (no leading/trailing zeros, no "-0");
 *   json: canonical text (barge_canon_json); text that is not JSON is
 *         framed as it is with NULL flag 2;
 *   text, bytes, uuid: the bytes as they are (text never collated; a uuid
 *         is its 16 bytes, dates are days, timestamps UTC microseconds:
 *         the drivers deliver them so).
 * docs/verify.md spells the encoding out; tests/unit/test_canon.c pins it
 * with golden vectors.
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
/* Append the frame of column `col` of row `row` (a row's encoding is its
 * columns' frames in order). */
int barge_canon_encode_col(struct barge_buf *out, const struct barge_batch *b,
			   size_t col, size_t row);
/* Append the frame of one value (of its own type, ANY resolved): the
 * canonical frame, or with `fast` the fast-path one (below). For encoders
 * that do not hold a batch (the SQLite driver's registered digest). */
int barge_canon_encode_value(struct barge_buf *out,
			     const struct barge_value *v, int fast);
/* The 128-bit row hash of an encoded row. */
void barge_canon_hash(const struct barge_buf *enc, uint64_t *lo, uint64_t *hi);
/*
 * Canonical JSON text of p[0..n) into `out` (cleared first): 0 done, 1 the
 * text is not JSON (or nests deeper than 256), or a negative code when
 * `out` hit its cap.
 */
int barge_canon_json(struct barge_buf *out, const char *p, size_t n);
/* Add every row of `b` (its first `ncols` columns) to the digest. */
int barge_canon_digest_batch(struct barge_digest *d, struct barge_buf *scratch,
			     const struct barge_batch *b, size_t ncols);

/*
 * The fast-path digest (docs/verify.md, "The in-database digest"): the
 * same frames with the lengths and 8-byte values big-endian, and MD5 as
 * the row hash (hi = its first 8 bytes, big-endian), because that is what
 * PostgreSQL can compute in SQL (int8send, md5). Used to compare a chunk
 * against a side whose driver digests in the database; recorded digests
 * (barge run, --against-state) stay canonical (XXH3).
 */
int barge_canon_fast_encode_row(struct barge_buf *out,
				const struct barge_batch *b, size_t ncols,
				size_t row);
void barge_canon_fast_hash(const struct barge_buf *enc, uint64_t *lo,
			   uint64_t *hi);
int barge_canon_fast_digest_batch(struct barge_digest *d,
				  struct barge_buf *scratch,
				  const struct barge_batch *b, size_t ncols);

#endif
