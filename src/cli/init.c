/*
 * barge init SRC DST [--tables a,b]
 *
 * Print a plan to edit: the source inspected (without the data audit), its
 * tables in foreign-key load order, each with its key and its columns'
 * types. Nothing is opened on the target side: DST is only checked.
 */
#include "cli.h"
#include "help.h"
#include "plan.h"
#include "barge/barge.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * The URL as it goes into the plan: a password never does (plans are
 * shared and committed); the redacted form has ":***@", which is dropped.
 */
static char *plan_url(const char *text, int *had_password)
{
	struct barge_url *u = NULL;
	char *s = NULL;
	*had_password = 0;
	if (barge_url_parse(&u, text) < 0)
		return NULL;
	if (!u->password) {
		s = strdup(text);
	} else {
		*had_password = 1;
		s = strdup(barge_url_redacted(u));
		char *star = s ? strstr(s, ":***@") : NULL;
		if (star)
			memmove(star, star + 4, strlen(star + 4) + 1);
	}
	if (!s)
		barge_error_set(BARGE_ENOMEM, "out of memory");
	barge_url_free(u);
	return s;
}

int cmd_init(int argc, char **argv)
{
	const char *src = NULL, *dst = NULL, *only = NULL;
	struct barge_inspection in;
	char *src_url = NULL, *dst_url = NULL, *yaml = NULL;
	int rc = EXIT_DONE;

	memset(&in, 0, sizeof in);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			cli_help_print(stdout, "init");
			return EXIT_DONE;
		} else if (strncmp(argv[i], "--tables=", 9) == 0) {
			only = argv[i] + 9;
		} else if (strcmp(argv[i], "--tables") == 0) {
			if (i + 1 >= argc)
				return cli_usage_error("init: --tables needs a value");
			only = argv[++i];
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			return cli_usage_error("init: unknown option '%s' (see barge init --help)",
					       argv[i]);
		} else if (!src) {
			src = argv[i];
		} else if (!dst) {
			dst = argv[i];
		} else {
			return cli_usage_error("init: '%s' is one argument too many (barge init SRC DST)",
					       argv[i]);
		}
	}
	if (!src || !dst)
		return cli_usage_error("init: usage: barge init SRC DST [--tables a,b] > plan.yaml");

	/* a plan for a target this build cannot write would only fail later:
	 * parsing DST refuses a scheme no compiled-in driver has */
	int src_pw = 0, dst_pw = 0;
	src_url = plan_url(src, &src_pw);
	dst_url = src_url ? plan_url(dst, &dst_pw) : NULL;
	if (!dst_url) {
		rc = cli_fail();
		goto out;
	}

	if (barge_inspect(&in, src, only, BARGE_INSPECT_COUNT) < 0 ||
	    barge_plan_emit(&yaml, src_url, dst_url,
			    (const struct barge_table_def *const *)in.tables,
			    in.ntables) < 0) {
		rc = cli_fail();
		goto out;
	}
	/* the whole plan or nothing: a failed init must not leave half a file */
	if (in.cycles) {
		fputs("# Foreign keys form a cycle; its tables are listed in name order and\n"
		      "# need deferred constraints or a second pass. ", stdout);
		for (const char *p = in.cycles; *p; p++) /* stay in the comment */
			putchar((unsigned char)*p < 0x20 ? ' ' : *p);
		putchar('\n');
	}
	fputs(yaml, stdout);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fputs("barge: init: cannot write the plan to stdout\n", stderr);
		rc = EXIT_FAILED;
		goto out;
	}
	if (src_pw || dst_pw)
		fputs("barge: init: passwords are not written into the plan; give them with the\n"
		      "       engine's variables (PGPASSWORD, MYSQL_PWD) or env:NAME\n", stderr);
out:
	barge_inspection_dispose(&in);
	free(src_url);
	free(dst_url);
	free(yaml);
	return rc;
}
