/*
 * Inspection of a source, shared by `barge inspect` and `barge init`.
 */
#ifndef BARGE_CLI_INSPECT_H
#define BARGE_CLI_INSPECT_H

#include <stddef.h>

struct barge_table_def;
struct barge_driver;

enum inspect_flags {
	INSPECT_COUNT = 1, /* count each table's rows */
	INSPECT_AUDIT = 2, /* run the driver's audit slot, when it has one */
};

/* What a source holds, tables in foreign-key load order. */
struct inspection {
	const struct barge_driver *driver;
	char *source;                   /* the redacted URL */
	size_t ntables;
	struct barge_table_def **tables;
	char *cycles;                   /* barge_fk_order's description, or NULL */
};

/*
 * Open `src` read-only and describe its tables (all, or the comma-separated
 * names in `only`; an unknown name is BARGE_ENOTFOUND). The error slot is
 * set on failure. The caller disposes `out` with inspection_dispose, also
 * after a failure.
 */
int inspection_run(struct inspection *out, const char *src, const char *only,
		   unsigned flags);
void inspection_dispose(struct inspection *in);

#endif
