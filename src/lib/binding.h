/*
 * A plan's table bound to its source, as both `barge run` (engine_bind.c,
 * engine_refs.c) and `barge verify` (verify_table.c, verify_map.c) need
 * it: the columns copied and their target names, the mapping compiled
 * from the plan, and the key maps (docs/mapping.md, "Key remapping") with
 * the `references` rules through them. One copy, so that verify compares
 * what the run wrote and refuses what the run refuses.
 *
 * Not API. Single-threaded: called before any worker runs.
 */
#ifndef BARGE_BINDING_H
#define BARGE_BINDING_H

#include "barge/barge.h"
#include "drv.h"
#include "engine.h"
#include "transform.h"

#include <stddef.h>
#include <stdint.h>

/* The target table mapping legacy keys to new ones (table_name,
 * legacy_key, new_key; all text). */
#define KEYMAP_TABLE "barge_keymap"

/* Index of `s` in list[0..n), or -1. */
int barge_bind_in_list(char *const *list, size_t n, const char *s);

/* Source column `name`'s target name: renamed by jt, or `name`. */
const char *barge_bind_renamed(const struct barge_job_table *jt, const char *name);

/*
 * The columns a job table copies: d's columns in order minus the skipped
 * ones, into src_cols (d->ncols entries at least), with their target
 * names after renames into dst_names (borrowed from d and jt). *n may be
 * 0: the caller says what that means. Skips and renames are checked
 * against d by barge_job_table_apply, which the caller calls first.
 */
void barge_bind_columns(size_t *src_cols, const char **dst_names, size_t *n,
			const struct barge_table_def *d,
			const struct barge_job_table *jt);

/*
 * The table's mapping when its plan entry asks for more than renames and
 * skips (barge_xf_needed), compiled over the n copied columns: *out, or
 * NULL for a plain copy. Every column the plan names must exist, and a
 * key column cannot change its type (chunks and re-run deletes are
 * ranges of its values): both BARGE_EUSAGE. The caller frees *out.
 */
int barge_bind_mapping(struct barge_xf **out, const struct barge_table_def *d,
		       const struct barge_job_table *jt, size_t n,
		       const size_t *src_cols, const char *const *dst_names);

/* One bound table of a job, what barge_bind_keymaps reads. */
struct barge_bind_table {
	const struct barge_table_def *src; /* key = the chunking key */
	const char *target;                /* the target table's name */
	struct barge_xf *xf;               /* the mapping, or NULL */
	/* without a mapping: the copied columns and their target names */
	size_t ncols;
	const size_t *src_cols;
	const char *const *dst_names;
};

/* A table's new key (docs/mapping.md): its one-column key copied to
 * mapped column `legacy`, and an added uuid_v5 or sequence of it in
 * mapped column `col`. */
struct barge_newkey {
	int on;        /* the table has one: its rows go to KEYMAP_TABLE */
	int seq;       /* ... a sequence from `start` (else a uuid_v5) */
	int64_t start;
	size_t legacy, col;
};

/* A `references: table.column` rule of a mapped column, resolved. */
struct barge_bind_ref {
	size_t table;        /* the child: its index in the job */
	size_t xcol;         /* the mapped column */
	size_t scol;         /* the source column it is read from */
	const char *spec;    /* "customers.id" (the mapping's) */
	long parent;         /* the parent's index in the job, or -1 */
	char *look_table;    /* where the value is looked up in the target */
	char *look_column;
	int fed;             /* rewritten to the parent's sequence key, looked
			      * up in KEYMAP_TABLE (table_name = look_table) */
	int self;            /* the parent is the child */
	int to_key;          /* ... and the column its one-column key */
};

struct barge_bind_keys {
	struct barge_newkey *keys; /* one per table */
	size_t nrefs;
	struct barge_bind_ref *refs; /* by table, then by mapped column */
};

/*
 * Resolve the key maps of a job's n tables and the references through
 * them: which tables have a new key, and for each `references` rule of a
 * mapped column, where it looks and whether it is rewritten to the
 * parent's new key. Rewritten columns are remapped in their (non-const)
 * mapping here: a uuid_v5 computed, a sequence fed (barge_xf_remap_fed).
 * A plan the run cannot follow is BARGE_EUSAGE. *out is filled also on
 * failure; barge_bind_keys_dispose frees it.
 */
int barge_bind_keymaps(struct barge_bind_keys *out, size_t n,
		       const struct barge_bind_table *tabs);
void barge_bind_keys_dispose(struct barge_bind_keys *k);

/* The lookup of new keys in KEYMAP_TABLE for table `table_name`. */
void barge_keymap_query(struct barge_lookup *q, const char *table_name);

#endif
