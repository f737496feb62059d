/*
 * barge run PLAN.yaml [options]: run a plan file. Options on the command
 * line override the plan's defaults. --table T --key K migrates one row;
 * --chunk N (with --table T) re-runs one chunk.
 */
#include "cli.h"
#include "help.h"
#include "jobopts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Keep only the plan tables named in the comma list `names`. */
static int filter_tables(struct barge_job_table *t, size_t *n, const char *names)
{
	size_t w = 0;
	char *copy = strdup(names), *save = NULL;
	if (!copy)
		return cli_usage_error("out of memory");
	for (char *p = strtok_r(copy, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
		size_t i;
		for (i = 0; i < *n; i++)
			if (strcmp(t[i].name, p) == 0)
				break;
		if (i == *n) {
			int rc = cli_usage_error("--tables: the plan has no table '%s'", p);
			free(copy); /* p points into copy */
			return rc;
		}
	}
	for (size_t i = 0; i < *n; i++) {
		int keep = 0;
		size_t len = strlen(t[i].name);
		for (const char *p = names; (p = strstr(p, t[i].name)); p += len)
			if ((p == names || p[-1] == ',') && (p[len] == ',' || !p[len]))
				keep = 1;
		if (keep) {
			struct barge_job_table tmp = t[w];
			t[w++] = t[i];
			t[i] = tmp;
		}
	}
	/* the dropped tables stay after w, freed with the full count */
	free(copy);
	*n = w;
	return 0;
}

int cmd_run(int argc, char **argv)
{
	struct jobopts o;
	struct barge_plan *plan = NULL;
	struct barge_job job;
	struct barge_job_result res;
	struct barge_job_table *tables = NULL;
	size_t ntables = 0, nall = 0;
	const char *path = NULL;
	char *command = NULL;
	int rc = EXIT_USAGE, r, npath = 0;

	jobopts_init(&o);
	if ((r = jobopts_args(&o, argc, argv, "run", &path, 1, &npath,
			      "one plan file at a time")) >= 0)
		return r;
	if (!path)
		return cli_usage_error("usage: barge run PLAN.yaml [options] (--help)");
	if (o.only_key && !o.only_table)
		return cli_usage_error("--key needs --table");
	if (o.only_key && o.only_chunk >= 0)
		return cli_usage_error("--key and --chunk do not go together");
	memset(&job, 0, sizeof job);
	if (jobopts_apply(&o, &job) != 0)
		return EXIT_USAGE;
	if (barge_plan_load(&plan, path) < 0)
		return cli_fail();

	struct barge_settings builtin;
	barge_settings_builtin(&builtin);
	job.defaults = o.set;
	barge_settings_inherit(&job.defaults, &plan->defaults);
	barge_settings_inherit(&job.defaults, &builtin);
	if (barge_job_tables_from_plan(&tables, &ntables, plan) < 0) {
		rc = cli_fail();
		goto out;
	}
	nall = ntables;
	for (size_t i = 0; i < ntables; i++) {
		/* the command line wins over the plan, table by table too */
		struct barge_settings s = o.set;
		barge_settings_inherit(&s, &tables[i].settings);
		tables[i].settings = s;
	}
	if (o.tables && (rc = filter_tables(tables, &ntables, o.tables)) != 0)
		goto out;
	command = jobopts_command(argc, argv);
	jobopts_job(&o, &job, tables, ntables, command);
	job.source = plan->source;
	job.target = plan->target;
	if (plan->state && strcmp(o.state, "barge-state.db") == 0)
		job.state_path = plan->state;
	if (o.only_key) {
		job.action = BARGE_JOB_ROW;
		job.only_table = o.only_table;
		job.only_key = o.only_key;
	} else if (o.only_chunk >= 0) {
		job.action = BARGE_JOB_CHUNK;
		job.only_table = o.only_table;
		job.only_chunk = o.only_chunk;
	} else if (o.only_table) {
		rc = cli_usage_error("--table goes with --key or --chunk (use --tables to pick tables)");
		goto out;
	}
	if (barge_job_run(&job, &res) < 0) {
		rc = cli_fail();
	} else {
		rc = jobopts_finish(&o, &job, &res);
		barge_job_result_dispose(&res);
	}
out:
	barge_job_tables_free(tables, nall);
	barge_plan_free(plan);
	free(command);
	return rc;
}
