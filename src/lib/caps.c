/*
 * The driver contract, checked in one place before any data moves: each
 * thing a job asks (a SQL filter, invariants, lookups, a merge on key,
 * several workers, idempotent chunks) against the capability flags and
 * optional slots of the endpoint that must do it. The engine either does
 * the work itself (a target without transactions gets parts, pipeline.c)
 * or refuses here, with one line, exit 2. docs/architecture.md, "The
 * driver contract", lists each case.
 */
#include "caps.h"
#include "plan.h"

#include <stdlib.h>

/* A driver that claims transactions must have their slots. */
static int txn_slots(const struct barge_driver *d)
{
	return d->begin && d->commit && d->rollback && d->delete_range;
}

static int part_slots(const struct barge_driver *d)
{
	return d->part_begin && d->part_commit && d->part_abort;
}

/* The target side of a copy. */
static int check_target(const struct barge_ep *dst, const struct barge_caps_use *u)
{
	const struct barge_driver *d = dst->drv;
	const char *tn = u->jt->name;
	int txn = (d->caps & BARGE_CAP_TXN) != 0;

	if (txn && !txn_slots(d))
		return barge_error_set(BARGE_EUSAGE, "table '%s': the %s target declares "
				       "transactions (BARGE_CAP_TXN) without begin, "
				       "commit, rollback and delete_range", tn, d->name);
	if (!txn && !part_slots(d))
		return barge_error_set(BARGE_EUSAGE, "table '%s': the %s target has neither "
				       "transactions (BARGE_CAP_TXN) nor parts (part_begin, "
				       "part_commit, part_abort), so its chunks cannot be "
				       "written idempotently", tn, d->name);
	if (u->jt->settings.mode == BARGE_MODE_UPSERT && !(d->caps & BARGE_CAP_UPSERT))
		return barge_error_set(BARGE_EUSAGE, "table '%s': mode upsert needs a merge "
				       "on the key, which the %s target cannot do (no "
				       "BARGE_CAP_UPSERT); use replace or truncate", tn,
				       d->name);
	if (u->jt->settings.mode == BARGE_MODE_TRUNCATE && !d->truncate)
		return barge_error_set(BARGE_EUSAGE, "table '%s': mode truncate needs a "
				       "target that can empty a table, which the %s target "
				       "cannot (no truncate slot)", tn, d->name);
	if (u->refs && !d->lookup)
		return barge_error_set(BARGE_EUSAGE, "table '%s': references rules need "
				       "lookups in the target, which the %s target cannot "
				       "do (no lookup slot)", tn, d->name);
	if (u->keymap && (!d->lookup || !txn))
		return barge_error_set(BARGE_EUSAGE, "table '%s': a new key is recorded in "
				       "barge_keymap with the chunk's rows, which the %s "
				       "target cannot do (it needs BARGE_CAP_TXN and the "
				       "lookup slot)", tn, d->name);
	if (u->row_run && !txn)
		return barge_error_set(BARGE_EUSAGE, "table '%s': a one-row run rewrites one "
				       "row, but the %s target writes whole chunks as parts "
				       "(no BARGE_CAP_TXN); run the row's chunk again with "
				       "--chunk", tn, d->name);
	return 0;
}

/* An invariant of verify: aggregates on both sides, a filter in SQL. */
static int check_invariant(const struct barge_ep *src, const struct barge_ep *dst,
			   const char *tn, const char *text)
{
	const struct barge_ep *side[2] = {src, dst};
	const char *role[2] = {"source", "target"};
	const char *agg;
	char *col = NULL, *where = NULL;
	int distinct, err;

	if ((err = barge_invariant_parse(text, &agg, &distinct, &col, &where)) < 0)
		return err;
	for (int i = 0; i < 2 && err == 0; i++) {
		const struct barge_driver *d = side[i]->drv;
		if (!d->aggregate)
			err = barge_error_set(BARGE_EUSAGE, "table '%s': invariant '%s' "
					      "needs aggregates, which the %s %s cannot "
					      "compute (no aggregate slot)", tn, text,
					      d->name, role[i]);
		else if (where && !(d->caps & BARGE_CAP_SQL))
			err = barge_error_set(BARGE_EUSAGE, "table '%s': invariant '%s' "
					      "filters in SQL, which the %s %s cannot "
					      "run (no BARGE_CAP_SQL)", tn, text, d->name,
					      role[i]);
	}
	free(col);
	free(where);
	return err;
}

int barge_caps_check(const struct barge_ep *src, const struct barge_ep *dst,
		     const struct barge_caps_use *u)
{
	const struct barge_driver *s = src->drv, *d = dst->drv;
	const char *tn = u->jt->name;
	int err;

	if (u->jt->where && !(s->caps & BARGE_CAP_SQL))
		return barge_error_set(BARGE_EUSAGE, "table '%s': where: is a SQL filter, "
				       "which the %s source cannot run (no BARGE_CAP_SQL)",
				       tn, s->name);
	/* one snapshot for all workers, or chunks read at different moments */
	for (int i = 0; i < (u->writes ? 1 : 2) && u->jobs > 1; i++) {
		const struct barge_driver *x = i ? d : s;
		if (!(x->caps & BARGE_CAP_SNAPSHOT))
			return barge_error_set(BARGE_EUSAGE, "table '%s': --jobs %d reads "
					       "in one snapshot shared by the workers, which "
					       "the %s %s cannot give (no BARGE_CAP_SNAPSHOT); "
					       "use --jobs 1", tn, u->jobs, x->name,
					       i ? "target" : "source");
	}
	if (u->writes && (err = check_target(dst, u)) < 0)
		return err;
	for (size_t k = 0; u->invariants && k < u->jt->ninvariants; k++)
		if ((err = check_invariant(src, dst, tn, u->jt->invariants[k])) < 0)
			return err;
	return 0;
}
