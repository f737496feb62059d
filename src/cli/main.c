/*
 * barge: the command. Dispatches to one file per subcommand.
 */
#include "barge/barge.h"
#include "cli.h"
#include "help.h"
#include "engine.h"

#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* What each does is its page's summary (help_text.c). */
static const struct {
	const char *name;
	int (*fn)(int, char **);
} commands[] = {
	{"inspect", cmd_inspect},
	{"init", cmd_init},
	{"copy", cmd_copy},
	{"run", cmd_run},
	{"status", cmd_status},
	{"verify", cmd_verify},
	{"fix", cmd_fix},
	{"rejects", cmd_rejects},
	/* hidden: the build writes the man pages with it */
	{"man-pages", cmd_man_pages},
};

int cli_fail(void)
{
	int code = barge_error_code();
	const char *msg = barge_error_last();
	cli_log_error(msg[0] ? msg : "failed");
	return code == BARGE_EUSAGE || code == BARGE_ENOTFOUND ? EXIT_USAGE
							       : EXIT_FAILED;
}

int cli_usage_error(const char *fmt, ...)
{
	va_list ap;
	char msg[1024];
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	cli_log_error(msg);
	return EXIT_USAGE;
}

static void on_signal(int sig)
{
	(void)sig;
	barge_job_request_stop();
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		cli_help_main(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
		return cli_version();
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		cli_help_main(stdout);
		return EXIT_DONE;
	}
	/* SQLite's memory statistics take one process-wide mutex on every
	 * allocation: with a reader and a writer thread on different handles
	 * that lock serialized them. barge never reads the statistics. Must
	 * come before SQLite is first used. */
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	return cli_usage_error("unknown command '%s' (barge --help lists them)",
			       argv[1]);
}
