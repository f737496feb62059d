/*
 * barge inspect SRC [--format text|json] [--tables a,b] [--no-audit]
 *
 * What a source holds and what may go wrong moving it: tables, columns with
 * engine type -> logical type, keys, foreign keys, row counts, the driver's
 * audit warnings, the foreign-key load order and the type mapping table.
 * The inspection and its report are the library's (barge_inspect,
 * src/lib/inspect.c and inspect_print.c); this file is the command line.
 */
#include "cli.h"
#include "help.h"
#include "barge/barge.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * An option's value: "--opt VALUE" or "--opt=VALUE". Returns the value (and
 * moves *i past it) or NULL when argv[*i] is not this option.
 */
static const char *opt_value(int argc, char **argv, int *i, const char *opt,
			     int *missing)
{
	size_t n = strlen(opt);
	if (strncmp(argv[*i], opt, n) != 0)
		return NULL;
	if (argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (argv[*i][n] != '\0')
		return NULL;
	if (*i + 1 >= argc) {
		*missing = 1;
		return NULL;
	}
	return argv[++*i];
}

int cmd_inspect(int argc, char **argv)
{
	const char *src = NULL, *only = NULL, *format = "text";
	unsigned flags = BARGE_INSPECT_COUNT | BARGE_INSPECT_AUDIT;
	struct barge_inspection in;
	char *json = NULL;
	int rc = EXIT_DONE;

	memset(&in, 0, sizeof in);
	for (int i = 1; i < argc; i++) {
		const char *v;
		int missing = 0;
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			cli_help_print(stdout, "inspect");
			return EXIT_DONE;
		} else if ((v = opt_value(argc, argv, &i, "--format", &missing))) {
			format = v;
		} else if ((v = opt_value(argc, argv, &i, "--tables", &missing))) {
			only = v;
		} else if (missing) {
			return cli_usage_error("inspect: %s needs a value", argv[i]);
		} else if (strcmp(argv[i], "--no-audit") == 0) {
			flags &= ~(unsigned)BARGE_INSPECT_AUDIT;
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			return cli_usage_error("inspect: unknown option '%s' (see barge inspect --help)",
					       argv[i]);
		} else if (src) {
			return cli_usage_error("inspect: one source only; '%s' is one too many",
					       argv[i]);
		} else {
			src = argv[i];
		}
	}
	if (!src)
		return cli_usage_error("inspect: which source? usage: barge inspect SRC [--format text|json]");
	if (strcmp(format, "text") != 0 && strcmp(format, "json") != 0)
		return cli_usage_error("inspect: unknown format '%s' (use text or json)",
				       format);

	if (barge_inspect(&in, src, only, flags) < 0) {
		rc = cli_fail();
		goto out;
	}
	if (strcmp(format, "json") == 0) {
		if (barge_inspection_report_json(&json, &in) < 0) {
			rc = cli_fail();
			goto out;
		}
		fputs(json, stdout);
	} else {
		barge_inspection_print_text(stdout, &in);
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fputs("barge: inspect: cannot write the report to stdout\n", stderr);
		rc = EXIT_FAILED;
	}
out:
	free(json);
	barge_inspection_dispose(&in);
	return rc;
}
