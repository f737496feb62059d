/*
 * barge rejects [--state F] [--run ID] [--table T] [--format text|json|csv]:
 * the rows the mapping rejected (docs/mapping.md), with their source key,
 * the rule that failed, the message and the source row as JSON.
 */
#include "barge/barge.h"
#include "cli.h"
#include "help.h"
#include "state.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum fmt { F_TEXT, F_JSON, F_CSV };

struct out {
	int fmt;
	long long n;
};

static void csv_field(const char *s)
{
	putchar('"');
	for (; s && *s; s++) {
		if (*s == '"')
			putchar('"');
		putchar(*s);
	}
	putchar('"');
}

static void json_field(const char *name, const char *s, int raw)
{
	struct barge_buf b;
	barge_buf_init(&b, 64u << 20);
	barge_buf_json_str(&b, name, strlen(name));
	barge_buf_adds(&b, ":");
	if (!s)
		barge_buf_adds(&b, "null");
	else if (raw)
		barge_buf_adds(&b, s);
	else
		barge_buf_json_str(&b, s, strlen(s));
	fputs(b.p ? b.p : "", stdout);
	barge_buf_dispose(&b);
}

static int print_one(const struct barge_reject_row *r, void *arg)
{
	struct out *o = arg;
	o->n++;
	switch (o->fmt) {
	case F_TEXT:
		printf("%s %s  %s: %s\n    row %s\n", r->table, r->key ? r->key : "[]",
		       r->rule ? r->rule : "?", r->message ? r->message : "",
		       r->row ? r->row : "{}");
		break;
	case F_JSON:
		printf("{\"run\":%lld,\"unit\":%lld,", (long long)r->run, (long long)r->unit);
		json_field("table", r->table, 0);
		putchar(',');
		json_field("key", r->key, 1);
		putchar(',');
		json_field("rule", r->rule, 0);
		putchar(',');
		json_field("message", r->message, 0);
		putchar(',');
		json_field("row", r->row, 1);
		printf("}\n");
		break;
	case F_CSV:
		printf("%lld,", (long long)r->run);
		csv_field(r->table);
		putchar(',');
		csv_field(r->key);
		putchar(',');
		csv_field(r->rule);
		putchar(',');
		csv_field(r->message);
		putchar(',');
		csv_field(r->row);
		putchar('\n');
		break;
	}
	return 0;
}

int cmd_rejects(int argc, char **argv)
{
	const char *state = "barge-state.db", *table = NULL;
	struct barge_state *st = NULL;
	struct out o = {F_TEXT, 0};
	int64_t run = 0;
	int rc;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			cli_help_print(stdout, "rejects");
			return EXIT_DONE;
		}
		if (i + 1 >= argc)
			return cli_usage_error("rejects: unknown or incomplete option '%s' "
					       "(--help)", a);
		if (!strcmp(a, "--state"))
			state = argv[++i];
		else if (!strcmp(a, "--table"))
			table = argv[++i];
		else if (!strcmp(a, "--run")) {
			if (barge_parse_i64(&run, argv[++i], "--run") < 0 || run < 1)
				return cli_usage_error("--run needs a run number");
		} else if (!strcmp(a, "--format")) {
			const char *f = argv[++i];
			if (!strcmp(f, "text"))
				o.fmt = F_TEXT;
			else if (!strcmp(f, "json"))
				o.fmt = F_JSON;
			else if (!strcmp(f, "csv"))
				o.fmt = F_CSV;
			else
				return cli_usage_error("--format is text, json or csv");
		} else
			return cli_usage_error("rejects: unknown option '%s' (--help)", a);
	}
	if (barge_state_open(&st, state, 0) < 0)
		return cli_fail();
	if (o.fmt == F_CSV)
		printf("run,table,key,rule,message,row\n");
	rc = barge_state_rejects(st, run, table, print_one, &o);
	barge_state_close(st);
	if (rc < 0)
		return cli_fail();
	if (o.fmt == F_TEXT)
		fprintf(stderr, "%lld rejected row%s\n", o.n, o.n == 1 ? "" : "s");
	return EXIT_DONE;
}
