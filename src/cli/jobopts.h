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
/*
 * Walk the whole command line of `cmd`: -h/--help prints its help
 * (help_text.c), the shared options go into o, and up to `max` other
 * arguments into pos[] (*npos of them; one more is refused with
 * "cmd: too_many ('arg')"). Returns -1 when the command goes on, or the exit
 * code it returns: EXIT_DONE after the help, EXIT_USAGE after printing an
 * error.
 */
int jobopts_args(struct jobopts *o, int argc, char **argv, const char *cmd,
		 const char **pos, int max, int *npos, const char *too_many);
/* Their help text is in help_text.c (job_items). */

/* Set the job's progress and chunk logging from the options: 0, or
 * EXIT_USAGE after printing why they do not go together. */
int jobopts_apply(const struct jobopts *o, struct barge_job *job);

/* The command line as one string (for the run's record). */
char *jobopts_command(int argc, char **argv);
/* Set what the shared options say of a job (state file, restart, dry
 * run, sample; progress is jobopts_apply's) and its tables and command line (borrowed). */
void jobopts_job(const struct jobopts *o, struct barge_job *job,
		 struct barge_job_table *tables, size_t ntables,
		 const char *command);

/* Print the summary, write the report, and return the exit code. */
int jobopts_finish(const struct jobopts *o, const struct barge_job *job,
		   const struct barge_job_result *res);

#endif
