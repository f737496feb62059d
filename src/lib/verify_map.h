/*
 * What `barge verify PLAN.yaml` takes from the run besides the mapping
 * (docs/verify.md, "Through the mapping"): the source rows the run
 * rejected, expected absent from the target, and the foreign keys the run
 * rewrote to a parent's uuid_v5 key (barge_keymap), rewritten the same way
 * on the source side. Kept apart from verify.c, which only calls these.
 */
#ifndef BARGE_VERIFY_MAP_H
#define BARGE_VERIFY_MAP_H

#include "barge/barge.h"
#include "transform.h"

#include <stddef.h>

/* The rejected source keys of one table in the state store's newest
 * whole-copy run, as canonical key JSON, sorted. */
struct barge_rejected;

/*
 * Load them for source table `src` (its key = the chunking key). No state
 * file, no run or no rejects: *out is NULL (nothing to skip). Memory grows
 * with the table's rejects. The caller frees *out.
 */
int barge_rejected_load(struct barge_rejected **out, const char *state_path,
			const struct barge_table_def *src);
void barge_rejected_free(struct barge_rejected *r);
/* Is row `row` of `b` (every source column, in order) a rejected one?
 * NULL `r` rejects nothing. */
int barge_rejected_has(const struct barge_rejected *r,
		       const struct barge_table_def *src,
		       const struct barge_batch *b, size_t row);

/*
 * Key remapping as `barge run` does it, for uuid_v5 keys: each column of
 * xfs[i] with `references: P.c`, P one of the n tables (source names
 * names[i], definitions defs[i], mappings xfs[i] or NULL, target names
 * targets[i]) with a uuid_v5 new key made from c, is rewritten to that
 * key. A parent keyed by a `sequence` has no such rule: its children's
 * columns are left as they are (and differ). *nremapped counts the
 * columns rewritten.
 */
int barge_verify_remap(size_t n, struct barge_xf *const *xfs,
		       const struct barge_table_def *const *defs,
		       const char *const *targets, size_t *nremapped);

/*
 * `barge fix` on a mapped table: each listed difference of `r` (a keyed
 * table) is migrated again by `barge run`'s one-row run (`run --table T
 * --key K`, the plan's tables, T in replace mode: the key's range is
 * emptied, then the source row mapped, checked and written, key map and
 * all). A difference whose key cannot be written as --key text counts in
 * *unfixable.
 */
struct barge_verify_opts;
struct barge_verify_table;
int barge_verify_fix_mapped(const struct barge_verify_opts *o, const char *table,
			    const struct barge_verify_table *r, int64_t *fixed,
			    int64_t *unfixable);

#endif
