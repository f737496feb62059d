/*
 * barge copy SRC DST [options]: the quick path, no plan file.
 */
#include "cli.h"
#include "help.h"
#include "jobopts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cmd_copy(int argc, char **argv)
{
	struct jobopts o;
	struct barge_job job;
	struct barge_job_result res;
	struct barge_job_table *tables = NULL;
	size_t ntables = 0;
	const char *pos[2] = {NULL, NULL};
	int npos = 0, rc;
	char *command = NULL;

	jobopts_init(&o);
	if ((rc = jobopts_args(&o, argc, argv, "copy", pos, 2, &npos,
			       "too many arguments")) >= 0)
		return rc;
	if (npos != 2)
		return cli_usage_error("usage: barge copy SRC DST [options] (--help)");
	if (o.only_table || o.only_key || o.only_chunk >= 0)
		return cli_usage_error("copy: --table, --key and --chunk go with 'barge run'");

	memset(&job, 0, sizeof job);
	if (jobopts_apply(&o, &job) != 0)
		return EXIT_USAGE;
	barge_settings_builtin(&job.defaults);
	struct barge_settings set = o.set;
	barge_settings_inherit(&set, &job.defaults);
	job.defaults = set;
	if (o.tables) {
		char *copy = strdup(o.tables), *save = NULL;
		for (char *p = strtok_r(copy, ",", &save); p; p = strtok_r(NULL, ",", &save))
			ntables++;
		free(copy);
		tables = calloc(ntables ? ntables : 1, sizeof *tables);
		copy = strdup(o.tables);
		ntables = 0;
		for (char *p = strtok_r(copy, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
			tables[ntables].name = strdup(p);
			tables[ntables++].settings = set;
		}
		free(copy);
		if (ntables == 0)
			return cli_usage_error("--tables names no table");
	}
	command = jobopts_command(argc, argv);
	jobopts_job(&o, &job, tables, ntables, command);
	job.source = pos[0];
	job.target = pos[1];

	if (barge_job_run(&job, &res) < 0) {
		rc = cli_fail();
	} else {
		rc = jobopts_finish(&o, &job, &res);
		barge_job_result_dispose(&res);
	}
	barge_job_tables_free(tables, ntables);
	free(command);
	return rc;
}
