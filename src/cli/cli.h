/*
 * The barge command: one file per subcommand, each `int cmd_NAME(int argc,
 * char **argv)` with argv[0] the subcommand's name, returning the exit code.
 */
#ifndef BARGE_CLI_H
#define BARGE_CLI_H

enum barge_exit {
	EXIT_DONE = 0,     /* done */
	EXIT_FAILED = 1,   /* a chunk failed or the run was aborted */
	EXIT_USAGE = 2,    /* usage or configuration error */
	EXIT_REJECTS = 3,  /* done, with rejected rows */
};

int cmd_copy(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_init(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_fix(int argc, char **argv);
/* verify and fix share their options and output (verify.c). */
int verify_cli(int argc, char **argv, int fix);
int cmd_rejects(int argc, char **argv);
/* barge --version (version.c) */
int cli_version(void);

/* stderr's logging (log.c): --log-format json sets cli_log_json (JSON
 * lines), --verbose cli_log_verbose (a line per chunk). */
struct barge_chunk_event;
struct barge_job_result;
extern int cli_log_json, cli_log_verbose;
/* A barge_job.on_chunk: a line per chunk outcome when either is set. */
void cli_log_chunk(const struct barge_chunk_event *ev, void *arg);
/* The run's end as a JSON line (only with cli_log_json). */
void cli_log_run(const struct barge_job_result *res);
/* An error line: "barge: MSG", or a JSON "error" event. */
void cli_log_error(const char *msg);

/* Print "barge: <message>" for the last library error to stderr and map its
 * code to an exit code (usage/not-found errors -> 2, others -> 1). */
int cli_fail(void);
/* Print "barge: <formatted>" to stderr and return EXIT_USAGE. */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
