/*
 * The driver contract checked before any data moves (caps.c): what a job
 * asks of its endpoints against their capability flags and optional slots
 * (include/barge/driver.h). Shared by the engine's validation
 * (engine_bind.c) and verify's (verify_table.c). Not API.
 */
#ifndef BARGE_CAPS_H
#define BARGE_CAPS_H

#include "drv.h"
#include "engine.h"

/* What one table of a job needs from the endpoints. */
struct barge_caps_use {
	const struct barge_job_table *jt; /* name, where, mode, invariants */
	int jobs;       /* worker threads, each with its own connections */
	int writes;     /* a copy: the target is written (0: verify reads it) */
	int row_run;    /* a one-row run (barge fix): rewrites one row */
	int refs;       /* `references` rules: lookups in the target */
	int keymap;     /* a new key: barge_keymap / barge_keyseq rows written
			 * with the chunk's rows */
	int invariants; /* verify: the table's invariants are computed */
};

/*
 * 0 when both endpoints can do what `u` asks, else BARGE_EUSAGE with one
 * line naming the table, the driver and what it lacks (or the error of an
 * invariant that does not parse). No side effects.
 */
int barge_caps_check(const struct barge_ep *src, const struct barge_ep *dst,
		     const struct barge_caps_use *u);

#endif
