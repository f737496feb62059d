/*
 * Options shared by `copy` and `run`, the summary table and the JSON
 * report (src/cli/jobopts.c).
 */
#ifndef BARGE_CLI_JOBOPTS_H
#define BARGE_CLI_JOBOPTS_H

#include "engine.h"

struct jobopts {
	struct barge_settings set; /* from the command line; unset = -1 */
	const char *state;
	const char *report;
	const char *tables;        /* comma list, or NULL */
	int restart, dry_run, quiet, verbose, log_json;
	int progress;              /* 1 --progress, 0 --no-progress, -1 neither */
	int64_t sample;
	const char *only_table, *only_key;
	int64_t only_chunk;        /* -1 = none */
};

void jobopts_init(struct jobopts *o);
/*
 * Try to consume option argv[*i] (and its value). Returns 1 when taken,
 * 0 when not one of ours, or EXIT_USAGE (negated: -2) after printing an
 * error.
 */
int jobopts_take(struct jobopts *o, int argc, char **argv, int *i);
/* Their help text is in help_text.c (job_items). */

/* Set the job's progress and chunk logging from the options: 0, or
 * EXIT_USAGE after printing why they do not go together. */
int jobopts_apply(const struct jobopts *o, struct barge_job *job);

/* The command line as one string (for the run's record). */
char *jobopts_command(int argc, char **argv);

/* Print the summary, write the report, and return the exit code. */
int jobopts_finish(const struct jobopts *o, const struct barge_job *job,
		   const struct barge_job_result *res);

#endif
