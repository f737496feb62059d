/*
 * What `barge verify PLAN.yaml` takes from the run besides the mapping
 * (docs/verify.md, "Through the mapping"): the source rows the run
 * rejected, expected absent from the target, and the foreign keys the run
 * rewrote to a parent's uuid_v5 key (barge_keymap), rewritten the same way
 * on the source side. Kept apart from the rest of verify, which only calls
 * these.
 */
#ifndef BARGE_VERIFY_MAP_H
#define BARGE_VERIFY_MAP_H

#include "barge/barge.h"
#include "drv.h"
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

/* The new keys one table's mapping takes from the target's barge_keymap
 * (sequence keys, its own and its parents'): built by barge_verify_remap. */
struct barge_vfeeds;
void barge_vfeeds_free(struct barge_vfeeds *f);

/*
 * Key remapping as `barge run` does it, resolved by the run's own
 * barge_bind_keymaps over the n tables (tabs): each column with
 * `references: P.c` to a table P with a new key made from c is rewritten
 * to that key: a uuid_v5 one here, a sequence one looked up in
 * barge_keymap when the rows are read (feeds[i], as the table's own
 * sequence key; NULL when none). A plan the run refuses is refused here
 * too (BARGE_EUSAGE). feeds has n entries, each freed by the caller with
 * barge_vfeeds_free, also on failure.
 */
struct barge_bind_table;
int barge_verify_remap(size_t n, const struct barge_bind_table *tabs,
		       struct barge_vfeeds **feeds);

/* Reading one chunk of a table with feeds: its own target connection for
 * the lookups (the source side's is busy reading). */
struct barge_vfeed;
int barge_vfeed_open(struct barge_vfeed **out, const struct barge_ep *dst,
		     const struct barge_vfeeds *spec, size_t batch_rows);
/* Look the new keys of a source batch up (every source column, in order). */
int barge_vfeed_batch(struct barge_vfeed *f, const struct barge_batch *raw);
/* Feed row `row`'s new keys to the mapping run before barge_xf_row. */
int barge_vfeed_row(struct barge_vfeed *f, struct barge_xf_run *xr, size_t row);
void barge_vfeed_close(struct barge_vfeed *f);

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
