/*
 * The engine: a job copies tables from a source endpoint to a target in
 * chunks, each one target transaction, checkpointed in the state store.
 *
 *   job_run: validate everything (no side effects) -> open the state store
 *   and target -> create or resume the run -> plan chunks -> N workers,
 *   each a writer with its own reader thread joined by a bounded queue.
 */
#ifndef BARGE_ENGINE_H
#define BARGE_ENGINE_H

#include "barge/barge.h"
#include "barge/job.h" /* the public part: struct barge_job, barge_job_run */
#include "plan.h"

#include <stdint.h>
#include <stdio.h>

struct barge_progress;

/* The job table list from a plan. */
int barge_job_tables_from_plan(struct barge_job_table **out, size_t *n,
			       const struct barge_plan *plan);
void barge_job_tables_free(struct barge_job_table *t, size_t n);

/* Check a table's skips and renames against its source definition and set
 * the job's chunking key on it; BARGE_EUSAGE naming the column. */
int barge_job_table_apply(struct barge_table_def *d,
			  const struct barge_job_table *jt);

#endif
