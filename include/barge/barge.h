/*
 * barge: move data between databases and files in checkpointed,
 * idempotent, verified batches.
 *
 * The public API: error codes and the per-thread error slot, the logical
 * types, and the value view. The batch, the driver interface, the URL
 * parser, run settings, jobs (copy), verify and inspect have their own
 * headers, all included from here: a program includes <barge/barge.h>
 * only. docs/api.md describes the API and who frees what.
 */
#ifndef BARGE_BARGE_H
#define BARGE_BARGE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

const char *barge_version(void); /* "0.1.0" (static) */

/*
 * Return codes. 0 is success, negative a failure. Callers act on a few:
 * BARGE_ERETRY is a transient fault (retry the unit), BARGE_EDATA a value
 * that cannot be carried exactly, BARGE_EUSAGE a bad argument, URL or plan.
 */
enum barge_errcode {
	BARGE_OK = 0,
	BARGE_ERROR = -1,     /* generic failure */
	BARGE_ENOTFOUND = -2, /* no such table, file, unit, ... */
	BARGE_ERETRY = -3,    /* transient: busy, lost connection; retry */
	BARGE_EDATA = -4,     /* a value cannot be mapped exactly */
	BARGE_EUSAGE = -5,    /* bad argument, URL, option or plan */
	BARGE_ENOMEM = -6,    /* allocation failed or a buffer cap was hit */
	BARGE_ECONFLICT = -7, /* a key already exists (insert mode) */
	BARGE_EABORT = -8,    /* stopped on purpose (signal, circuit breaker) */
};

/*
 * The per-thread error slot. The message is set once, where the failure is
 * detected; callers only return the code. barge_error_set returns `code`
 * so it can be used as `return barge_error_set(BARGE_EDATA, "...")`.
 */
int barge_error_set(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Prefix the current message with more context: "ctx: old message". */
int barge_error_wrap(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
const char *barge_error_last(void); /* "" when none; owned by the slot */
int barge_error_code(void);         /* code of the last error, 0 when none */
void barge_error_clear(void);

/*
 * Logical types (DESIGN.md "The value model"). Every driver maps its engine
 * types to these and back. Physical storage in a batch column:
 *   one int64 slot a row:  BOOL (0/1), INT64, DATE (days since 1970-01-01),
 *                          TIME (µs since midnight), TIMESTAMP (µs since the
 *                          epoch, naive), TIMESTAMPTZ (µs since the epoch, UTC)
 *   one double a row:      FLOAT64 (bits kept exactly)
 *   bytes in the arena:    DECIMAL (canonical decimal text: -?digits[.digits],
 *                          or NaN/Infinity/-Infinity), TEXT (UTF-8), BYTES,
 *                          UUID (16 raw bytes), JSON (UTF-8 text, as written)
 *   ANY:                   a column whose values carry their own type (a
 *                          SQLite column with no declared type): each row has
 *                          a tag, one of INT64, FLOAT64, TEXT, BYTES.
 */
enum barge_type {
	BARGE_T_NULL = 0, /* no type (only as a tag of a NULL value) */
	BARGE_T_BOOL,
	BARGE_T_INT64,
	BARGE_T_FLOAT64,
	BARGE_T_DECIMAL,
	BARGE_T_TEXT,
	BARGE_T_BYTES,
	BARGE_T_DATE,
	BARGE_T_TIME,
	BARGE_T_TIMESTAMP,
	BARGE_T_TIMESTAMPTZ,
	BARGE_T_UUID,
	BARGE_T_JSON,
	BARGE_T_ANY,
	BARGE_T__COUNT
};

const char *barge_type_name(enum barge_type t); /* "int64", "text", ... */
/* Parse a logical type name; 0, or BARGE_EUSAGE with the error set. */
int barge_type_parse(enum barge_type *out, const char *name);
int barge_type_is_varlen(enum barge_type t); /* stored in the arena */
int barge_type_is_fixed(enum barge_type t);  /* one int64 slot */

/*
 * A borrowed view of one value. For arena types `p`/`n` point into the
 * batch (or key) that owns the bytes and stay valid until it changes.
 */
struct barge_value {
	enum barge_type type; /* the value's own type (resolved for ANY) */
	int null;
	int64_t i;
	double f;
	const char *p;
	size_t n;
};

/* Compare two values of the same type in barge's binary order. */
int barge_value_cmp(const struct barge_value *a, const struct barge_value *b);

#ifdef __cplusplus
}
#endif

#include "barge/batch.h"
#include "barge/url.h"
#include "barge/driver.h"
#include "barge/settings.h"
#include "barge/job.h"
#include "barge/verify.h"
#include "barge/inspect.h"

#endif
