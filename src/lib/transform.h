/*
 * The transform stage (docs/mapping.md): a table's mapping compiled from
 * its plan entry, applied row by row on the writer side of the pipeline.
 *
 *   source batch (every source column) --barge_xf_row--> target batch
 *                                      \--> a reject (rule + message)
 *
 * Per target column, in this order: the source value (or an `add:`
 * constant / uuid_v5); `default` for NULL; encoding repair; the column's
 * steps in the order the plan writes them (transform: trim/lower/upper,
 * map, round, timezone); the cast to the column's type; the rules. A value
 * that cannot be carried exactly is a reject, never a silent change.
 *
 * A compiled mapping (struct barge_xf) is read-only: workers share it. Each
 * worker has its own scratch (struct barge_xf_run).
 */
#ifndef BARGE_TRANSFORM_H
#define BARGE_TRANSFORM_H

#include "barge/barge.h"
#include "util.h"

#include <stddef.h>
#include <stdint.h>

struct barge_xf;
struct barge_xf_run;

/* What the engine resolved for a table, and the plan's text for the rest. */
struct barge_xf_spec {
	const char *table;            /* source table, for messages */
	size_t ncols;                 /* copied columns */
	const size_t *src_cols;       /* their source column indices */
	const char *const *dst_names; /* their target names */
	const char *const *types;     /* declared `type` per copied column, or NULL */
	const char *const *options;   /* YAML flow text per copied column, or NULL */
	const char *add;              /* YAML flow text of `add:`, or NULL */
};

/*
 * Does this spec need the transform stage? (Anything beyond renames and
 * skips: a type, default, step, rule or added column.) Without it the
 * engine copies batches as they are read.
 */
int barge_xf_needed(const struct barge_xf_spec *spec);

/*
 * Compile a table's mapping against its source definition. Every problem
 * of the plan (unknown option, column, time zone, bad regex, type) is
 * BARGE_EUSAGE with a one-line message. The caller frees *out.
 */
int barge_xf_new(struct barge_xf **out, const struct barge_table_def *src,
		 const struct barge_xf_spec *spec);
void barge_xf_free(struct barge_xf *xf);

/* The target columns (name, type, precision, scale, notnull; key_pos 0).
 * Owned by the mapping. */
size_t barge_xf_ncols(const struct barge_xf *xf);
const struct barge_column_def *barge_xf_col(const struct barge_xf *xf, size_t i);
/* The source column a target column comes from, or -1 (added columns). */
int barge_xf_source(const struct barge_xf *xf, size_t i);
/* `references: table.column` of target column i, or NULL. */
const char *barge_xf_references(const struct barge_xf *xf, size_t i);
/* Is target column i an added uuid_v5 column? Then 1 with its namespace. */
int barge_xf_uuid_v5(const struct barge_xf *xf, size_t i, unsigned char ns[16]);
/*
 * Key remapping of a foreign key (docs/mapping.md): column i's value, after
 * its steps, cast and rules, becomes the uuid_v5 of its text form in `ns`
 * (the parent's new key), and the column's type uuid. `why` names the
 * parent for --dry-run ("clients.id"). Call before the mapping is shared.
 */
int barge_xf_remap(struct barge_xf *xf, size_t i, const unsigned char ns[16],
		   const char *why);
/* Does the mapping give the table a uuid_v5 new key (docs/mapping.md, key
 * remapping): its one-column key copied (target column *legacy) and an
 * added uuid_v5 of it (*newcol, namespace ns)? 1 or 0. */
int barge_xf_uuid_key(const struct barge_xf *xf, const struct barge_table_def *src,
		      size_t *legacy, size_t *newcol, unsigned char ns[16]);
/* Is target column i an added `sequence` key? Then 1 with its start. */
int barge_xf_sequence(const struct barge_xf *xf, size_t i, int64_t *start);
/*
 * Key remapping through barge_keymap (a parent keyed by a sequence):
 * column i's value, after its steps, cast and rules, is replaced by the
 * text the engine fed for it (barge_xf_run_feed) cast to `type`; fed as
 * not found, the row is a `references` reject; not fed (a dry run), NULL.
 */
int barge_xf_remap_fed(struct barge_xf *xf, size_t i, int type, const char *why);
/* Print the mapping, one line per target column, for --dry-run. */
int barge_xf_describe(const struct barge_xf *xf,
		      const struct barge_table_def *src, struct barge_buf *out);

struct barge_xf_reject {
	char rule[64];     /* "type", "required", "regex", "timezone", ... */
	char column[128];  /* the target column */
	char message[512]; /* one line */
};

int barge_xf_run_new(struct barge_xf_run **out);
void barge_xf_run_free(struct barge_xf_run *r);
/*
 * Values the engine looked up for target column `col` of the next row:
 * the new key of a `sequence` column or of a barge_xf_remap_fed column
 * (p NULL: looked up, not found). `p` must stay valid until the row is
 * mapped. barge_xf_run_unfeed forgets them all (a column not fed maps to
 * NULL).
 */
int barge_xf_run_feed(struct barge_xf_run *r, size_t col, const char *p,
		      size_t n);
void barge_xf_run_unfeed(struct barge_xf_run *r);

/*
 * Map row `row` of `in` (the source columns in table order, then the row
 * address if any) onto a new row of `out` (the target columns, then the
 * row address). Returns 0 (row added), 1 (rejected: `rej` says why, `out`
 * unchanged) or a negative code (out of memory).
 */
int barge_xf_row(struct barge_xf_run *r, const struct barge_xf *xf,
		 const struct barge_batch *in, size_t row,
		 struct barge_batch *out, struct barge_xf_reject *rej);

/* ---- value functions (xvalue.c), exposed for tests ---------------------- */

/* Round decimal text half away from zero to `places` (>= 0) fractional
 * digits, on the digits (never through a double). BARGE_EDATA if `p` is not
 * a decimal number. */
int barge_decimal_round(struct barge_buf *out, const char *p, size_t n,
			int places);
/* Compare two decimal texts numerically: <0, 0, >0; BARGE_EDATA (as *cmp
 * untouched and a return of -1) if either is not a number. */
int barge_decimal_cmp(int *cmp, const char *a, size_t an, const char *b,
		      size_t bn);
/* RFC 4122 version 5 (SHA-1) UUID of `name` in namespace `ns`. */
void barge_uuid_v5(unsigned char out[16], const unsigned char ns[16],
		   const char *name, size_t n);
/* barge_uuid_parse and barge_uuid_format are in util.h */
/* The value's text form: what casts and text steps work on. */
int barge_value_text(struct barge_buf *out, const struct barge_value *v);
/*
 * Cast text to logical type `type` (precision/scale as in a column def)
 * into *v, bytes in `scratch`. 0, or BARGE_EDATA with `why` (a phrase such
 * as "not an integer") and no error set.
 */
int barge_cast_text(struct barge_value *v, struct barge_buf *scratch,
		    const char *p, size_t n, int type, int precision, int scale,
		    const char **why);
/* Naive timestamp text (no offset mark, not even Z) <-> µs (for the
 * timezone step, which reads wall time in a named zone). */
int barge_timestamp_parse(int64_t *us, const char *p, size_t n);
int barge_timestamp_format(struct barge_buf *out, int type, int64_t v);
/* latin1 (enc 1) or cp1252 (enc 2) bytes to UTF-8; BARGE_EDATA on a byte
 * cp1252 leaves undefined. */
int barge_recode_utf8(struct barge_buf *out, const char *p, size_t n, int enc);

#endif
