/*
 * PostgreSQL binary wire formats <-> barge's logical values, with no libpq
 * in sight (so that tests/unit/test_pg_codec.c can drive them alone).
 *
 * Epochs: PostgreSQL counts dates in days and timestamps in microseconds
 * since 2000-01-01; barge since 1970-01-01. Infinite dates and timestamps
 * (PostgreSQL's INT32/INT64 min and max) are carried as INT64_MIN and
 * INT64_MAX in barge's slot, in both directions (docs/postgres.md).
 */
#ifndef BARGE_PG_CODEC_H
#define BARGE_PG_CODEC_H

#include "barge/barge.h"
#include "util.h"

#include <stddef.h>
#include <stdint.h>

#define PGC_EPOCH_DAYS INT64_C(10957)            /* 1970-01-01 -> 2000-01-01 */
#define PGC_EPOCH_USEC INT64_C(946684800000000)  /* the same in µs */

static inline uint16_t pgc_get16(const unsigned char *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t pgc_get32(const unsigned char *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	       ((uint32_t)p[2] << 8) | p[3];
}

static inline uint64_t pgc_get64(const unsigned char *p)
{
	return ((uint64_t)pgc_get32(p) << 32) | pgc_get32(p + 4);
}

static inline void pgc_put16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

static inline void pgc_put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static inline void pgc_put64(unsigned char *p, uint64_t v)
{
	pgc_put32(p, (uint32_t)(v >> 32));
	pgc_put32(p + 4, (uint32_t)v);
}

/*
 * Binary numeric -> barge's decimal text (PostgreSQL's own text form: the
 * value's display scale kept, "NaN", "Infinity", "-Infinity"), appended to
 * `out`. A malformed value is BARGE_EDATA with *why set, no error set.
 */
int pgc_numeric_to_text(struct barge_buf *out, const unsigned char *p,
			size_t n, const char **why);

/*
 * Decimal text -> binary numeric, appended to `out`. `precision`/`scale`
 * are the target's typmod (precision 0 = unconstrained): a value that
 * numeric(p,s) would round or refuse is BARGE_EDATA with *why set.
 */
int pgc_numeric_from_text(struct barge_buf *out, const char *p, size_t n,
			  int precision, int scale, const char **why);

/* Wire -> logical and back for dates (int32 days) and timestamps (int64
 * µs); EDATA with *why when the value has no place on the other side. */
int pgc_date_from_pg(int32_t pg, int64_t *out, const char **why);
int pgc_date_to_pg(int64_t v, int32_t *out, const char **why);
int pgc_ts_from_pg(int64_t pg, int64_t *out, const char **why);
int pgc_ts_to_pg(int64_t v, int64_t *out, const char **why);

/*
 * A logical value as a PostgreSQL SQL literal with its type, for chunk
 * bounds in COPY (SELECT ...), which takes no parameters: 42, 'it''s',
 * '\x00ff'::bytea, '2024-01-02 03:04:05.000006'::timestamp, ...
 * Relies on standard_conforming_strings = on (set by the driver). Text,
 * JSON or a decimal holding a NUL byte is BARGE_EDATA (PostgreSQL cannot
 * hold it; the literal would end at it).
 */
int pgc_literal(struct barge_buf *out, const struct barge_value *v);

#endif
