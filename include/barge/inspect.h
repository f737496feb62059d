/*
 * Inspection of a source: its tables (columns with engine type -> logical
 * type, keys, foreign keys, indexes, row counts, problems found in the
 * data) in foreign-key load order, and the driver's type mapping. What
 * `barge inspect` reports and `barge init` builds a plan from.
 *
 * Ownership: struct barge_inspection is the caller's struct, filled by
 * barge_inspect; the tables, source and cycles it points to belong to it
 * and are released by barge_inspection_dispose. `driver` and `typemap`
 * are the driver's static data: never freed.
 */
#ifndef BARGE_INSPECT_H
#define BARGE_INSPECT_H

#include "barge/driver.h" /* struct barge_table_def, struct barge_typemap */

#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

enum barge_inspect_flags {
	BARGE_INSPECT_COUNT = 1, /* count each table's rows */
	BARGE_INSPECT_AUDIT = 2, /* scan the data for problems (the driver's
				  * audit slot, when it has one) */
};

/* What a source holds, tables in foreign-key load order. */
struct barge_inspection {
	const char *driver;             /* the driver's name (static) */
	char *source;                   /* the redacted URL */
	size_t ntables;
	struct barge_table_def **tables;
	char *cycles;                   /* tables in a foreign-key cycle, as
					 * "cycle: a -> b -> a; cycle: ...",
					 * or NULL when there is none */
	const struct barge_typemap *typemap; /* the driver's type mapping
					      * (static), NULL when it has none */
	size_t ntypemap;
};

/*
 * Open `src` read-only, in one snapshot, and describe its tables (all, or
 * the comma-separated names in `only`; an unknown name is BARGE_ENOTFOUND).
 * `flags`: enum barge_inspect_flags. Returns 0, or a negative code with the
 * error slot set. The caller disposes `out` with barge_inspection_dispose,
 * also after a failure.
 */
int barge_inspect(struct barge_inspection *out, const char *src,
		  const char *only, unsigned flags);
void barge_inspection_dispose(struct barge_inspection *in);

/* The report `barge inspect` prints: as text on `f`, or as one JSON
 * document (with a final newline) malloc'd in *out, which the caller
 * free()s. */
void barge_inspection_print_text(FILE *f, const struct barge_inspection *in);
int barge_inspection_report_json(char **out, const struct barge_inspection *in);

#ifdef __cplusplus
}
#endif

#endif
