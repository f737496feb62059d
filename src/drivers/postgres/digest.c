/*
 * The verify fast path (driver.h digest_able/digest_range, docs/verify.md
 * "The in-database digest"): one query per range builds each row's
 * fast-path encoding in SQL (src/lib/canon.h: the canonical frames with
 * big-endian lengths and values), hashes it with md5() and sums the four
 * 32-bit words of the hashes; only the count and four sums travel.
 *
 * Per logical type, the SQL that writes exactly what the C encoder writes
 * for the value the reader (read.c) would have delivered:
 *   bool       8 bytes 0/1           int64     int8send
 *   float64    float8send, -0 -> 0, every NaN -> the one NaN
 *   decimal    trim_scale()::text (numeric_out never writes "-0"); texts of
 *              128 bytes or more as numeric_out wrote them
 *   text       the bytes (bpchar with its padding, as the reader sends it)
 *   bytes      as they are           uuid      uuid_send
 *   date       days since 1970, infinities as INT64_MAX / INT64_MIN
 *   time       time_send (µs since midnight)
 *   timestamp[tz]  µs since 1970 (UTC), infinities as INT64_MAX / MIN
 *   json       no exact canonical form in SQL (member order, numbers):
 *              only `native` (PostgreSQL on both sides), as md5 of the
 *              engine's text with NULL flag 3: equal texts are equal
 *              documents; different texts of one document only send the
 *              range to the row-by-row check.
 */
#include "pg_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The bpchar forms, whose padding the reader keeps (read.c raw_text). */
static int is_bpchar(const char *e)
{
	return strcmp(e, "bpchar") == 0 || strcmp(e, "character") == 0 ||
	       strncmp(e, "character(", 10) == 0;
}

/* The raw-text types the reader sends without a cast. */
static int is_raw_text(const char *e)
{
	return strcmp(e, "text") == 0 || strcmp(e, "name") == 0 ||
	       is_bpchar(e) || strncmp(e, "character", 9) == 0;
}

int pg_digest_able(struct barge_conn *c, const struct barge_table_def *t,
		   size_t ncols, const size_t *cols, int native)
{
	/* text bytes are compared as the reader receives them: UTF-8 */
	const char *enc = PQparameterStatus(c->pg, "server_encoding");
	if (!enc || strcmp(enc, "UTF8") != 0)
		return 0;
	if (PQserverVersion(c->pg) < 130000) /* trim_scale() */
		return 0;
	for (size_t i = 0; i < ncols; i++) {
		switch (t->cols[cols[i]].type) {
		case BARGE_T_BOOL: case BARGE_T_INT64: case BARGE_T_FLOAT64:
		case BARGE_T_DECIMAL: case BARGE_T_TEXT: case BARGE_T_BYTES:
		case BARGE_T_DATE: case BARGE_T_TIME: case BARGE_T_TIMESTAMP:
		case BARGE_T_TIMESTAMPTZ: case BARGE_T_UUID:
			break;
		case BARGE_T_JSON:
			if (!native)
				return 0;
			break;
		default:
			return 0;
		}
	}
	return 1;
}

/* '\xTTFF'::bytea: a frame's tag and flag, with a fixed length `len` (or
 * none when len < 0). */
static void head(struct barge_buf *b, int tag, int flag, int len)
{
	barge_buf_printf(b, "'\\x%02x%02x", tag, flag);
	if (len >= 0)
		barge_buf_printf(b, "%08x", len);
	barge_buf_adds(b, "'::bytea");
}

/* Micro- or day counts since 1970 with the reader's infinities (isfinite
 * is false for both: `pos` tells them apart). */
static void epoch_int(struct barge_buf *b, const char *x, const char *finite,
		      const char *pos)
{
	barge_buf_printf(b, "int8send(CASE WHEN isfinite(%s) THEN (%s)::int8 "
			    "WHEN %s THEN 9223372036854775807 "
			    "ELSE -9223372036854775807 - 1 END)", x, finite, pos);
}

/* The frame of one column, NULL included. */
static int frame_sql(struct barge_buf *b, const struct barge_column_def *cd,
		     int native)
{
	struct barge_buf x;
	char tmp[512];
	int tag = cd->type, err;
	const char *e = cd->engine_type ? cd->engine_type : "";

	barge_buf_init(&x, 1 << 16);
	pg_quote(&x, cd->name);
	if ((err = x.err))
		goto out;
	const char *q = x.p;
	barge_buf_printf(b, "CASE WHEN %s IS NULL THEN ", q);
	head(b, tag, 1, 0);
	barge_buf_adds(b, " ELSE ");
	switch (cd->type) {
	case BARGE_T_BOOL:
		barge_buf_printf(b, "CASE WHEN %s THEN '\\x%02x00000000080000000000000001'::bytea "
				    "ELSE '\\x%02x00000000080000000000000000'::bytea END",
				 q, tag, tag);
		break;
	case BARGE_T_INT64:
		head(b, tag, 0, 8);
		barge_buf_printf(b, " || int8send(%s::int8)", q);
		break;
	case BARGE_T_FLOAT64:
		head(b, tag, 0, 8);
		barge_buf_printf(b, " || float8send(CASE WHEN %s::float8 = 0 THEN 0::float8 "
				    "WHEN %s::float8 = 'NaN' THEN 'NaN'::float8 "
				    "ELSE %s::float8 END)", q, q, q);
		break;
	case BARGE_T_DECIMAL:
		/* numeric(p,s) with p < 100 always writes less than 128 bytes */
		if (cd->precision > 0 && cd->precision < 100)
			snprintf(tmp, sizeof tmp, "convert_to(trim_scale(%s::numeric)::text, 'UTF8')", q);
		else
			snprintf(tmp, sizeof tmp,
				 "convert_to(CASE WHEN length(%s::numeric::text) >= 128 "
				 "THEN %s::numeric::text ELSE trim_scale(%s::numeric)::text END, 'UTF8')",
				 q, q, q);
		head(b, tag, 0, -1);
		barge_buf_printf(b, " || int4send(length(%s)) || %s", tmp, tmp);
		break;
	case BARGE_T_TEXT:
		if (is_bpchar(e))
			snprintf(tmp, sizeof tmp, "bpcharsend(%s)", q);
		else if (is_raw_text(e) && strcmp(e, "name") != 0)
			snprintf(tmp, sizeof tmp, "textsend(%s)", q);
		else
			snprintf(tmp, sizeof tmp, "textsend(%s::text)", q);
		head(b, tag, 0, -1);
		barge_buf_printf(b, " || int4send(length(%s)) || %s", tmp, tmp);
		break;
	case BARGE_T_BYTES:
		head(b, tag, 0, -1);
		barge_buf_printf(b, " || int4send(length(%s::bytea)) || %s::bytea", q, q);
		break;
	case BARGE_T_DATE: {
		char pos[256];
		head(b, tag, 0, 8);
		barge_buf_adds(b, " || ");
		snprintf(tmp, sizeof tmp, "%s - date '1970-01-01'", q);
		snprintf(pos, sizeof pos, "%s > date '1970-01-01'", q);
		epoch_int(b, q, tmp, pos);
		break;
	}
	case BARGE_T_TIME:
		head(b, tag, 0, 8);
		barge_buf_printf(b, " || time_send(%s::time)", q);
		break;
	case BARGE_T_TIMESTAMP:
	case BARGE_T_TIMESTAMPTZ: {
		char pos[256];
		head(b, tag, 0, 8);
		barge_buf_adds(b, " || ");
		snprintf(tmp, sizeof tmp, "extract(epoch FROM %s) * 1000000", q);
		snprintf(pos, sizeof pos, "%s > 'epoch'", q);
		epoch_int(b, q, tmp, pos);
		break;
	}
	case BARGE_T_UUID:
		head(b, tag, 0, 16);
		barge_buf_printf(b, " || uuid_send(%s::uuid)", q);
		break;
	case BARGE_T_JSON:
		if (!native) {
			err = barge_error_set(BARGE_EUSAGE, "postgres: column %s: no "
							    "in-database digest of JSON",
					      cd->name);
			goto out;
		}
		head(b, tag, 3, 16);
		barge_buf_printf(b, " || decode(md5(%s::text), 'hex')", q);
		break;
	default:
		err = barge_error_set(BARGE_EUSAGE, "postgres: column %s: no "
						    "in-database digest of %s",
				      cd->name, barge_type_name(cd->type));
		goto out;
	}
	barge_buf_adds(b, " END");
	err = b->err;
out:
	barge_buf_dispose(&x);
	return err;
}

/* A non-negative decimal (a sum of 32-bit words) mod 2^128. */
static unsigned __int128 parse_u128(const char *s)
{
	unsigned __int128 v = 0;
	for (; *s >= '0' && *s <= '9'; s++)
		v = v * 10 + (unsigned)(*s - '0');
	return v;
}

int pg_digest_range(struct barge_conn *c, const struct barge_table_def *t,
		    const struct barge_chunk *chunk, const char *where,
		    size_t ncols, const size_t *cols, int native,
		    int64_t *count, uint64_t *lo, uint64_t *hi)
{
	struct barge_buf sql;
	PGresult *res = NULL;
	int err;

	*count = 0;
	*lo = *hi = 0;
	barge_buf_init(&sql, PG_SQL_CAP);
	/* OFFSET 0 keeps the subquery whole, so md5() runs once a row and not
	 * once per word taken from it */
	barge_buf_adds(&sql, "SELECT count(*)");
	for (int w = 0; w < 4; w++)
		barge_buf_printf(&sql, ", sum(('x' || substr(h, %d, 8))::bit(32)::int8)",
				 1 + 8 * w);
	barge_buf_adds(&sql, " FROM (SELECT md5(");
	for (size_t i = 0; i < ncols; i++) {
		if (i)
			barge_buf_adds(&sql, " || ");
		if ((err = frame_sql(&sql, &t->cols[cols[i]], native)))
			goto out;
	}
	barge_buf_adds(&sql, ") AS h FROM ");
	pg_table(&sql, c, t->name);
	barge_buf_adds(&sql, " WHERE ");
	if ((err = pg_range_sql(&sql, t, chunk)))
		goto out;
	if (where)
		barge_buf_printf(&sql, " AND (%s)", where);
	barge_buf_adds(&sql, " OFFSET 0) s");
	if ((err = sql.err) ||
	    (err = pg_query(c, sql.p, 0, NULL, 0, t->name, &res)))
		goto out;
	*count = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	unsigned __int128 d = 0;
	for (int w = 0; w < 4; w++)
		d += parse_u128(PQgetvalue(res, 0, 1 + w)) << (96 - 32 * w);
	*lo = (uint64_t)d;
	*hi = (uint64_t)(d >> 64);
out:
	PQclear(res);
	barge_buf_dispose(&sql);
	return err;
}

int pg_aggregate(struct barge_conn *c, const struct barge_table_def *t,
		 const char *agg, int distinct, const char *column,
		 const char *where, char **out)
{
	struct barge_buf sql;
	PGresult *res = NULL;
	int err;

	*out = NULL;
	barge_buf_init(&sql, PG_SQL_CAP);
	if ((err = barge_sql_aggregate(&sql, PG_SQL, c->schema, t->name, agg,
				       distinct, column, where)) ||
	    (err = pg_query(c, sql.p, 0, NULL, 0, t->name, &res)))
		goto out;
	if (!PQgetisnull(res, 0, 0) && !(*out = strdup(PQgetvalue(res, 0, 0))))
		err = barge_error_set(BARGE_ENOMEM, "out of memory");
out:
	PQclear(res);
	barge_buf_dispose(&sql);
	return err;
}
