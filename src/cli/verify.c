/*
 * barge verify SRC DST | PLAN.yaml [options]: prove a copy exact, or name
 * every differing row. Exit codes as diff(1): 0 equal, 1 differences,
 * 2 trouble. `barge fix` (fix.c) shares the options and the printing.
 */
#include "cli.h"
#include "help.h"
#include "util.h"
#include "verify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct vopts {
	const char *pos[2];
	int npos;
	const char *tables, *state, *report;
	int64_t jobs, chunk_rows, leaf_rows, max_diffs;
	int against_state, quiet, in_database, progress;
};

static int num_opt(int64_t *out, const char *opt, const char *v)
{
	if (!v)
		return cli_usage_error("%s needs a value", opt);
	if (barge_parse_i64(out, v, opt) < 0 || *out < 1)
		return cli_usage_error("%s takes a whole number of at least 1, not '%s'",
				       opt, v);
	return 0;
}

static int parse(struct vopts *o, int argc, char **argv, int fix)
{
	memset(o, 0, sizeof *o);
	o->progress = isatty(2);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		int rc = 0;
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			cli_help_print(stdout, fix ? "fix" : "verify");
			return -1;
		} else if (strcmp(a, "--against-state") == 0 && !fix) {
			o->against_state = 1;
			continue;
		} else if (strcmp(a, "--quiet") == 0) {
			o->quiet = 1;
			continue;
		} else if (strcmp(a, "--progress") == 0 ||
			   strcmp(a, "--no-progress") == 0) {
			o->progress = a[2] == 'p';
			continue;
		} else if (strcmp(a, "--in-database") == 0) {
			o->in_database = 1;
			continue;
		} else if (strcmp(a, "--tables") == 0 || strcmp(a, "--state") == 0 ||
			   strcmp(a, "--report") == 0) {
			if (!v)
				return cli_usage_error("%s needs a value", a);
			if (a[2] == 't')
				o->tables = v;
			else if (a[2] == 's')
				o->state = v;
			else
				o->report = v;
		} else if (strcmp(a, "--jobs") == 0) {
			rc = num_opt(&o->jobs, a, v);
		} else if (strcmp(a, "--chunk-rows") == 0) {
			rc = num_opt(&o->chunk_rows, a, v);
		} else if (strcmp(a, "--leaf-rows") == 0) {
			rc = num_opt(&o->leaf_rows, a, v);
		} else if (strcmp(a, "--max-diffs") == 0) {
			rc = num_opt(&o->max_diffs, a, v);
		} else if (a[0] == '-' && a[1]) {
			return cli_usage_error("%s: unknown option '%s'",
					       fix ? "fix" : "verify", a);
		} else {
			if (o->npos == 2)
				return cli_usage_error("too many arguments ('%s')", a);
			o->pos[o->npos++] = a;
			continue;
		}
		if (rc)
			return rc;
		i++; /* the option's value */
	}
	return 0;
}

static int is_plan(const char *arg)
{
	size_t n = strlen(arg);
	return (n > 5 && strcmp(arg + n - 5, ".yaml") == 0) ||
	       (n > 4 && strcmp(arg + n - 4, ".yml") == 0);
}

/*
 * Put the tables named in `list` (comma-separated; each must exist) first,
 * in the list's order, and return how many: the rest stay in the array to
 * be freed with it.
 */
static int select_tables(struct barge_job_table *t, size_t n, const char *list,
			 size_t *kept)
{
	char *copy = strdup(list), *save = NULL;
	size_t w = 0;
	if (!copy)
		return cli_usage_error("out of memory");
	for (char *p = strtok_r(copy, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
		size_t i = 0;
		while (i < n && strcmp(t[i].name, p) != 0)
			i++;
		if (i == n) {
			free(copy);
			return cli_usage_error("--tables: no table '%s' in the plan", p);
		}
		if (i < w)
			continue; /* listed twice */
		struct barge_job_table tmp = t[w];
		t[w] = t[i];
		t[i] = tmp;
		w++;
	}
	free(copy);
	if (w == 0)
		return cli_usage_error("--tables names no table");
	*kept = w;
	return 0;
}

/* Tables named on the command line, with no mapping. */
static int tables_from_list(struct barge_job_table **out, size_t *n,
			    const char *list)
{
	char *copy = strdup(list), *save = NULL;
	size_t cap = 1;
	*out = NULL;
	*n = 0;
	if (!copy)
		return cli_usage_error("out of memory");
	for (const char *p = list; *p; p++)
		cap += *p == ',';
	*out = calloc(cap, sizeof **out);
	if (!*out) {
		free(copy);
		return cli_usage_error("out of memory");
	}
	for (char *p = strtok_r(copy, ",", &save); p; p = strtok_r(NULL, ",", &save))
		(*out)[(*n)++].name = strdup(p);
	free(copy);
	if (*n == 0)
		return cli_usage_error("--tables names no table");
	return 0;
}

static void print_key(FILE *o, const struct barge_verify_table *r,
		      const struct barge_verify_diff *d)
{
	for (size_t i = 0; d->key && i < d->key->n && i < r->nfields; i++) {
		struct barge_key one = {.n = 1, .v = &d->key->v[i]};
		char *j = NULL;
		if (barge_key_to_json(&j, &one) < 0) {
			barge_error_clear();
			continue;
		}
		fprintf(o, "%s%s=%.*s", i ? " " : "", r->fields[i],
			(int)(strlen(j) - 2), j + 1);
		free(j);
	}
}

static void print_result(const struct barge_verify_result *res, int quiet)
{
	printf("%-24s %12s %12s %7s %9s %8s %8s %8s  %-9s %8s\n", "table",
	       "source rows", "target rows", "chunks", "differing", "missing",
	       "extra", "changed", "result", "time");
	for (size_t i = 0; i < res->ntables; i++) {
		const struct barge_verify_table *r = &res->tables[i];
		printf("%-24s %12lld %12lld %7lld %9lld %8lld %8lld %8lld  %-9s %7.2fs\n",
		       r->table, (long long)r->source_rows, (long long)r->target_rows,
		       (long long)r->chunks, (long long)r->chunks_differing,
		       (long long)r->missing, (long long)r->extra,
		       (long long)r->changed, r->equal ? "equal" : "DIFFERENT",
		       r->seconds);
	}
	for (size_t i = 0; i < res->ntables; i++) {
		const struct barge_verify_table *r = &res->tables[i];
		size_t same = 0;
		for (size_t j = 0; j < r->ninvariants; j++)
			same += (size_t)r->invariants[j].equal;
		if (r->ninvariants)
			printf("%-24s invariants: %zu of %zu hold\n", r->table, same,
			       r->ninvariants);
	}
	for (size_t i = 0; !quiet && i < res->ntables; i++) {
		const struct barge_verify_table *r = &res->tables[i];
		for (size_t j = 0; j < r->ndiffs; j++) {
			const struct barge_verify_diff *d = &r->diffs[j];
			printf("  %-8s %s ", barge_diff_kind_name(d->kind), r->table);
			if (d->kind == BARGE_DIFF_CHUNK)
				printf("chunk %lld [%s, %s)", (long long)d->seq,
				       d->lo ? d->lo : "-inf", d->hi ? d->hi : "+inf");
			else
				print_key(stdout, r, d);
			if (d->columns)
				printf(" columns %s", d->columns);
			printf("\n");
		}
		for (size_t j = 0; j < r->ninvariants; j++) {
			const struct barge_verify_invariant *v = &r->invariants[j];
			if (!v->equal)
				printf("  invariant %s %s: source %s, target %s\n", r->table,
				       v->text, v->source ? v->source : "NULL",
				       v->target ? v->target : "NULL");
		}
		int64_t all = r->missing + r->extra + r->changed;
		if (all > (int64_t)r->ndiffs && r->ndiffs)
			printf("  ... %lld more in %s (--max-diffs)\n",
			       (long long)(all - (int64_t)r->ndiffs), r->table);
	}
	printf("%s in %.2fs\n", res->equal ? "equal" : "DIFFERENT", res->seconds);
}

static int write_report(const char *path, const struct barge_verify_result *res)
{
	char *json = NULL;
	if (barge_verify_report_json(&json, res) < 0)
		return -1;
	FILE *f = fopen(path, "w");
	if (!f) {
		free(json);
		barge_error_set(BARGE_EUSAGE, "cannot write the report '%s'", path);
		return -1;
	}
	int bad = fputs(json, f) < 0;
	bad |= fclose(f) != 0;
	free(json);
	if (bad) {
		barge_error_set(BARGE_ERROR, "cannot write the report '%s'", path);
		return -1;
	}
	return 0;
}

static int trouble(void)
{
	const char *msg = barge_error_last();
	fprintf(stderr, "barge: %s\n", msg[0] ? msg : "failed");
	return 2;
}

int verify_cli(int argc, char **argv, int fix)
{
	struct vopts vo;
	struct barge_plan *plan = NULL;
	struct barge_job_table *tables = NULL;
	struct barge_verify_opts o;
	struct barge_verify_result res;
	size_t ntables = 0, nkept = 0;
	struct stat sb;
	int rc;

	memset(&res, 0, sizeof res);
	memset(&o, 0, sizeof o);
	if ((rc = parse(&vo, argc, argv, fix)) != 0)
		return rc < 0 ? EXIT_DONE : rc;
	const char *what = fix ? "fix" : "verify";
	if (vo.npos == 1 && is_plan(vo.pos[0])) {
		if (barge_plan_load(&plan, vo.pos[0]) < 0 ||
		    barge_job_tables_from_plan(&tables, &ntables, plan) < 0) {
			rc = trouble();
			goto out;
		}
		nkept = ntables;
		if (vo.tables && (rc = select_tables(tables, ntables, vo.tables, &nkept)))
			goto out;
		o.source = plan->source;
		o.target = plan->target;
		if (!vo.state)
			vo.state = plan->state;
	} else if (vo.npos == 2 && !vo.against_state) {
		o.source = vo.pos[0];
		o.target = vo.pos[1];
		if (vo.tables && (rc = tables_from_list(&tables, &ntables, vo.tables)))
			goto out;
		nkept = ntables;
	} else if (vo.against_state && vo.npos <= 1) {
		o.target = vo.npos ? vo.pos[0] : NULL;
		if (vo.tables && (rc = tables_from_list(&tables, &ntables, vo.tables)))
			goto out;
		nkept = ntables;
	} else {
		rc = cli_usage_error("usage: barge %s SRC DST | PLAN.yaml [options] (--help)",
				     what);
		goto out;
	}
	/* Results go to the state store when one is named or already here;
	 * verify never creates ./barge-state.db on its own. */
	if (!vo.state && (vo.against_state || stat("barge-state.db", &sb) == 0))
		vo.state = "barge-state.db";
	o.tables = tables;
	o.ntables = nkept;
	o.state_path = vo.state;
	o.against_state = vo.against_state;
	o.jobs = (int)vo.jobs;
	o.in_database = vo.in_database;
	o.progress = vo.progress;
	o.chunk_rows = vo.chunk_rows;
	o.leaf_rows = vo.leaf_rows;
	o.max_diffs = vo.max_diffs;

	if (barge_verify(&o, &res) < 0) {
		rc = trouble();
		goto out;
	}
	if (fix && !res.equal) {
		/* a few rounds: each fixes what the last listed (--max-diffs) */
		for (int round = 0; round < 20 && !res.equal; round++) {
			int64_t fixed = 0, unfixable = 0;
			if (barge_verify_fix(&o, &res, &fixed, &unfixable) < 0) {
				rc = trouble();
				goto out;
			}
			fprintf(stderr, "barge: fixed %lld differences%s\n",
				(long long)fixed,
				unfixable ? " (some extra rows of keyless tables cannot "
					    "be deleted)" : "");
			barge_verify_result_dispose(&res);
			if (barge_verify(&o, &res) < 0) {
				rc = trouble();
				goto out;
			}
			if (fixed == 0 || unfixable)
				break;
		}
	}
	print_result(&res, vo.quiet);
	if (vo.report && write_report(vo.report, &res) < 0) {
		rc = trouble();
		goto out;
	}
	rc = res.equal ? 0 : 1;
out:
	barge_verify_result_dispose(&res);
	barge_job_tables_free(tables, ntables);
	barge_plan_free(plan);
	return rc;
}

int cmd_verify(int argc, char **argv)
{
	return verify_cli(argc, argv, 0);
}
