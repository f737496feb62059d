/*
 * The plan: what `barge run PLAN.yaml` does, and what `barge init` prints.
 * Parsed with libyaml. The format is documented in docs/plan.md.
 *
 *   source: sqlite:legacy.db
 *   target: sqlite:new.db
 *   state: migrate-state.db
 *   defaults: {chunk_rows: 10000, jobs: 2, mode: upsert, retries: 5}
 *   tables:
 *     - name: customers        # source table
 *       target: clients        # target table (default: the same name)
 *       key: [id]
 *       mode: replace
 *       chunk_rows: 5000
 *       where: "signup >= '2015-01-01'"
 *       columns:
 *         fax: {skip: true}
 *         id:  {to: legacy_id}
 *
 * Column options other than `to`, `skip` and `type` are kept as raw YAML
 * text per column so later features (transforms, rules) can read them; an
 * unknown top-level or table key is an error (a typo must not be ignored).
 */
#ifndef BARGE_PLAN_H
#define BARGE_PLAN_H

#include "barge/settings.h" /* struct barge_settings, barge_mode_parse */

#include <stddef.h>
#include <stdint.h>

struct barge_table_def;

struct barge_plan_column {
	char *name;   /* source column */
	char *to;     /* target column name, or NULL = same */
	char *type;   /* declared logical type, or NULL */
	int skip;
	char *options;/* the column's whole YAML mapping as flow text, or NULL */
};

struct barge_plan_table {
	char *name;        /* source table */
	char *target;      /* target table, or NULL = same */
	size_t nkey;
	char **key;        /* key columns, or NULL = the table's primary key */
	char *where;       /* extra filter, source SQL, or NULL */
	struct barge_settings settings;
	size_t ncolumns;
	struct barge_plan_column *columns;
	/* Issue 5, kept as text for the features that will read them:
	 * the error budget (checked: a whole number / a number in [0, 1]) and
	 * the `add:` mapping of new columns as YAML flow text. NULL = absent. */
	char *max_rejects;
	char *max_reject_ratio;
	char *add;
	/* `invariants:` (docs/plan.md): aggregates compared by verify, each
	 * checked by barge_invariant_parse. */
	size_t ninvariants;
	char **invariants;
};

/*
 * One invariant, "AGG(COL)", "AGG(DISTINCT COL)" or "count(*)", then
 * optionally " where PREDICATE" (SQL, as written, on both sides). AGG is
 * count, sum, min, max or avg (any case). On success *agg is a constant
 * ("sum", ...), *col and *where malloc'd (NULL for "*" / no where).
 */
int barge_invariant_parse(const char *text, const char **agg, int *distinct,
			  char **col, char **where);

struct barge_plan {
	char *source;   /* URL */
	char *target;   /* URL */
	char *state;    /* state file path, or NULL = default */
	struct barge_settings defaults;
	size_t ntables;
	struct barge_plan_table *tables;
	char *path;     /* the file it was read from, or NULL */
};

/*
 * Read a plan from a YAML file / from memory. Errors are BARGE_EUSAGE (or
 * BARGE_ENOTFOUND for a missing file) with a one-line message that names
 * the file, line and key.
 */
int barge_plan_load(struct barge_plan **out, const char *path);
int barge_plan_parse(struct barge_plan **out, const char *yaml, size_t len,
		     const char *name);
void barge_plan_free(struct barge_plan *p);

/*
 * Write a plan for `barge init`: source, target, defaults and one entry per
 * table (in the given order, which should be FK dependency order) with its
 * key and a commented list of its columns and types, ready to edit.
 * Returns a malloc'd NUL-terminated YAML text in *out.
 */
int barge_plan_emit(char **out, const char *source, const char *target,
		    const struct barge_table_def *const *tables, size_t n);

/*
 * Foreign-key dependency order: parents before children. `order` receives
 * n indices into `tables`. Tables in a cycle are appended in name order and
 * reported through `cycles` (a malloc'd one-line description, or NULL when
 * there is none). References to tables outside the set are ignored.
 */
int barge_fk_order(size_t *order, const struct barge_table_def *const *tables,
		   size_t n, char **cycles);

#endif
