/*
 * The words of every --help and man page, in one place (help.h says who
 * reads them). An option added to a command is added here, or neither
 * --help nor the man page shows it; tests/integration/man_pages.sh checks
 * the two agree.
 */
#include "help.h"

#include <stddef.h>

/* ---- Options shared by copy and run (src/cli/jobopts.c) ---------------- */

static const struct cli_item job_items[] = {
	{"--state", "FILE", "the state store (default ./barge-state.db)"},
	{"--tables", "a,b", "only these tables"},
	{"--mode", "insert|upsert|replace|truncate", "how a chunk is written "
						     "(default insert)"},
	{"--chunk-rows", "N", "rows per chunk, or auto (default: 50000 to 500000 "
			      "by the table's size and --jobs)"},
	{"--batch-rows", "N", "rows per batch in memory (default 2000)"},
	{"--jobs", "N", "parallel workers (default 1)"},
	{"--queue-depth", "N", "batches in flight per worker (default 4)"},
	{"--retries", "N", "retries of a transient failure per chunk (default 5)"},
	{"--max-failures", "K", "stop after K chunks failed in a row (default 5)"},
	{"--restart", NULL, "start over instead of resuming"},
	{"--dry-run", NULL, "read and check everything, write nothing"},
	{"--sample", "N", "with --dry-run: read only N rows per table"},
	{"--report", "FILE", "write the figures as JSON"},
	{"--progress", NULL, "progress lines even when stderr is not a terminal, "
			     "or with --quiet or --verbose (by default they are "
			     "drawn on a terminal only)"},
	{"--no-progress", NULL, "no progress lines"},
	{"--quiet", NULL, "no summary table and no progress lines: only errors "
			  "on stderr"},
	{"--verbose", NULL, "a line on stderr for each chunk: done (rows, "
			    "rejects, digest, seconds), retried or failed (why)"},
	{"--log-format", "text|json", "json: stderr is JSON lines, one object "
				      "per chunk (ts, event, run, table, chunk, "
				      "outcome, rows, rejected, digest, "
				      "seconds, message), one at the run's end "
				      "and one per error; no progress lines"},
	{NULL, NULL, NULL},
};
static const struct cli_section job_options = {"OPTIONS", NULL, job_items};

/* ---- barge(1) ------------------------------------------------------------ */

static const struct cli_item main_items[] = {
	{"--version", NULL, "the version, the git revision it was built from and "
			    "the versions of the libraries it runs with"},
	{"--help", NULL, "the commands; barge COMMAND --help for a command's options"},
	{NULL, NULL, NULL},
};
static const struct cli_section main_options = {"OPTIONS", NULL, main_items};

static const struct cli_item exit_items[] = {
	{"0", NULL, "done"},
	{"1", NULL, "a chunk failed or the run was aborted; verify: differences"},
	{"2", NULL, "usage or configuration error"},
	{"3", NULL, "done, with rejected rows"},
	{NULL, NULL, NULL},
};
static const struct cli_section exit_status = {"EXIT STATUS", NULL, exit_items};

static const struct cli_item env_items[] = {
	{"NO_COLOR", NULL, "no colour in the output (barge writes none when "
			   "stderr is not a terminal either)"},
	{"PGPASSWORD", NULL, "and the other libpq variables and ~/.pgpass: "
			     "PostgreSQL passwords, never printed or logged"},
	{"MYSQL_PWD", NULL, "the MySQL password"},
	{"BARGE_STATE_BUSY_TIMEOUT", NULL, "seconds a write keeps retrying a "
					   "locked state store (default 60)"},
	{NULL, NULL, NULL},
};
static const struct cli_section environment = {"ENVIRONMENT", NULL, env_items};

static const struct cli_page page_barge = {
	"barge", 1, "move data between databases and files in verified chunks",
	"barge COMMAND [ARGS]\nbarge --version\nbarge --help",
	"barge moves data between databases and files in checkpointed, "
	"idempotent, verified chunks. A table is split into key ranges planned "
	"up front and recorded in a state store; each chunk is read, checked "
	"and written in one target transaction and its row count and digest "
	"are recorded. Running the same command again resumes where it stopped."
	"\n\n"
	"Endpoints are URLs: sqlite:PATH or sqlite:///ABS/PATH, "
	"postgresql://USER@HOST:PORT/DB, mysql://USER@HOST/DB (when built with "
	"libmariadb), file:///DIR?format=csv|jsonl (a folder of files, as a "
	"target). The commands are barge-inspect(1), "
	"barge-init(1), barge-copy(1), barge-run(1), barge-status(1), "
	"barge-verify(1), barge-fix(1) and barge-rejects(1); plan files are "
	"described in barge-plan(5).",
	{&main_options, &exit_status, &environment, NULL},
};

/* ---- The subcommands ----------------------------------------------------- */

static const struct cli_item inspect_items[] = {
	{"--format", "text|json", "report format (default text)"},
	{"--tables", "a,b", "only these tables"},
	{"--no-audit", NULL, "skip the scan of the data for problems"},
	{NULL, NULL, NULL},
};
static const struct cli_section inspect_options = {"OPTIONS", NULL, inspect_items};

static const struct cli_page page_inspect = {
	"inspect", 1, "audit a source: tables, types, keys, FKs, counts, problems",
	"barge inspect SRC [--format text|json] [--tables a,b] [--no-audit]",
	"Describe a source: tables, columns (engine type -> logical type), keys, "
	"foreign keys, row counts and problems found in the data, then the load "
	"order (parents first) and the driver's type mapping.",
	{&inspect_options, NULL},
};

static const struct cli_item init_items[] = {
	{"--tables", "a,b", "only these tables"},
	{NULL, NULL, NULL},
};
static const struct cli_section init_options = {"OPTIONS", NULL, init_items};

static const struct cli_page page_init = {
	"init", 1, "print an editable plan built from inspecting a source",
	"barge init SRC DST [--tables a,b] > plan.yaml",
	"Print a plan for copying SRC to DST: tables parents first, their keys "
	"and columns with types, as commented YAML to edit before "
	"`barge run plan.yaml`. The format is described in barge-plan(5).",
	{&init_options, NULL},
};

static const struct cli_page page_copy = {
	"copy", 1, "copy tables from SRC to DST (no plan file)",
	"barge copy SRC DST [options]",
	"Copy tables from SRC to DST in chunks, each one transaction, "
	"checkpointed in the state store. Run the same command again to "
	"resume after a failure or a crash.",
	{&job_options, NULL},
};

static const struct cli_item run_items[] = {
	{"--table", "T", "with --key or --chunk: the one table to work on"},
	{"--key", "K", "migrate the one row of --table with key K (a composite "
		       "key as comma-separated values)"},
	{"--chunk", "N", "re-run chunk N of --table"},
	{NULL, NULL, NULL},
};
static const struct cli_section run_options = {"ONE ROW OR CHUNK", NULL, run_items};

static const struct cli_page page_run = {
	"run", 1, "run a plan file",
	"barge run PLAN.yaml [options]\n"
	"barge run PLAN.yaml --table T --key K\n"
	"barge run PLAN.yaml --table T --chunk N",
	"Run the plan (see barge-plan(5)): resume where an earlier run of the "
	"same plan stopped, or start one.",
	{&job_options, &run_options, NULL},
};

static const struct cli_item status_items[] = {
	{"--state", "FILE", "the state store (default ./barge-state.db)"},
	{"--run", "ID", "this run instead of the newest"},
	{"--format", "text|json", "output format (default text)"},
	{NULL, NULL, NULL},
};
static const struct cli_section status_options = {"OPTIONS", NULL, status_items};

static const struct cli_page page_status = {
	"status", 1, "progress, throughput and failures of a run",
	"barge status [--state FILE] [--run ID] [--format text|json]",
	"Per table: chunks done, failed and running, rows, throughput and the "
	"newest error, of the newest run in the state file (or run ID).",
	{&status_options, NULL},
};

/* verify's options; fix takes the same but --against-state. */
#define VERIFY_ITEMS                                                             \
	{"--tables", "a,b", "only these (source) tables"},                       \
	{"--state", "FILE", "state store: results are recorded there (default "  \
			    "./barge-state.db when it exists)"},                 \
	{"--report", "FILE", "write the result as JSON"},                        \
	{"--jobs", "N", "parallel workers (default 1)"},                         \
	{"--chunk-rows", "N", "rows per compared chunk (default 10000)"},        \
	{"--leaf-rows", "N", "split differing chunks down to N rows (default "   \
			     "1000)"},                                            \
	{"--max-diffs", "N", "differences listed per table (default 1000; all "  \
			     "are counted)"},                                     \
	{"--in-database", NULL, "make chunk digests in the databases that can "  \
				"(PostgreSQL); streamed and hashed by barge "    \
				"otherwise, which measured faster here"},        \
	{"--quiet", NULL, "no per-difference lines"},                           \
	{"--progress", NULL, "progress lines (rows read per table) even when "   \
			     "stderr is not a terminal"},                         \
	{"--no-progress", NULL, "no progress lines"}

static const struct cli_item verify_items[] = {
	VERIFY_ITEMS,
	{"--against-state", NULL, "check the target against the digests the last "
				  "run recorded, without reading the source"},
	{NULL, NULL, NULL},
};
static const struct cli_section verify_options = {"OPTIONS", NULL, verify_items};

static const struct cli_page page_verify = {
	"verify", 1, "prove SRC and DST equal, or name every differing row",
	"barge verify SRC DST | PLAN.yaml [options]\n"
	"barge verify --against-state [--state F] [DST | PLAN.yaml]",
	"Compare the tables of SRC and DST by chunk counts and digests, then "
	"find every differing row: missing (in SRC only), extra (in DST only) "
	"or changed (with its columns). Exit 0 equal, 1 differences, 2 trouble.",
	{&verify_options, NULL},
};

static const struct cli_item fix_items[] = {
	VERIFY_ITEMS,
	{NULL, NULL, NULL},
};
static const struct cli_section fix_options = {"OPTIONS", NULL, fix_items};

static const struct cli_page page_fix = {
	"fix", 1, "re-copy exactly the rows verify finds different",
	"barge fix SRC DST | PLAN.yaml [options]",
	"Verify, re-copy exactly the keys that differ (insert the missing, "
	"update the changed, delete the extra), then verify again. Exit 0 when "
	"the target is then equal, 1 when not, 2 on trouble.",
	{&fix_options, NULL},
};

static const struct cli_item rejects_items[] = {
	{"--state", "FILE", "the state store (default ./barge-state.db)"},
	{"--run", "ID", "this run instead of the newest"},
	{"--table", "T", "only this table's rejects"},
	{"--format", "text|json|csv", "json is one object per line; csv has a "
				      "header line (default text)"},
	{NULL, NULL, NULL},
};
static const struct cli_section rejects_options = {"OPTIONS", NULL, rejects_items};

static const struct cli_page page_rejects = {
	"rejects", 1, "the rows a run rejected, and why",
	"barge rejects [--state FILE] [--run ID] [--table T] [--format text|json|csv]",
	"The rejected rows of the newest run in the state file (or run ID): "
	"table, source key, rule, message and the source row as JSON.",
	{&rejects_options, NULL},
};

/* ---- barge-plan(5) ------------------------------------------------------- */

static const struct cli_item plan_top[] = {
	{"source", "URL", "the endpoint to read from (required)"},
	{"target", "URL", "the endpoint to write to (required)"},
	{"state", "FILE", "the state store; default ./barge-state.db"},
	{"defaults", "{...}", "settings every table inherits (SETTINGS)"},
	{"tables", "[...]", "the tables, each a mapping (TABLES) or just a "
			    "name; run loads parents first whatever the order"},
	{NULL, NULL, NULL},
};
static const struct cli_item plan_settings[] = {
	{"chunk_rows", "N|auto", "rows per chunk; one chunk is one target "
				 "transaction (default auto)"},
	{"batch_rows", "N", "rows per batch in memory (default 2000)"},
	{"jobs", "N", "worker threads (default 1)"},
	{"mode", "M", "insert, upsert, replace or truncate (default insert)"},
	{"retries", "N", "retries of a transient failure per chunk (default 5)"},
	{"max_failures", "N", "stop after this many failed chunks in a row "
			      "(default 5)"},
	{"queue_depth", "N", "batches in flight between a reader and its "
			     "writer (default 4)"},
	{NULL, NULL, NULL},
};
static const struct cli_item plan_tables[] = {
	{"name", "T", "the source table (required)"},
	{"target", "T", "the target table (default the same name)"},
	{"key", "[a, b]", "the columns that order and split the table into "
			  "chunks (default the primary key)"},
	{"where", "SQL", "a filter in the source's SQL; quote it"},
	{"columns", "{...}", "per source column: to, skip, type, default, "
			     "transform, map, round, timezone, encoding, rules"},
	{"add", "{...}", "new target columns: a constant, uuid_v5 or sequence"},
	{"max_rejects", "N", "stop the table when more rows are rejected"},
	{"max_reject_ratio", "F", "the same as a fraction of the rows read"},
	{"invariants", "[...]", "aggregates verify compares on both sides, "
				"e.g. sum(amount) where paid"},
	{NULL, NULL, NULL},
};
static const struct cli_section plan_top_s = {"TOP LEVEL", NULL, plan_top};
static const struct cli_section plan_settings_s = {
	"SETTINGS", "Under defaults: and in each table; the table's own value "
		    "wins, then defaults:, then the built-in one.", plan_settings};
static const struct cli_section plan_tables_s = {
	"TABLES", "Each table also takes any key of SETTINGS.", plan_tables};

static const struct cli_page page_plan = {
	"plan", 5, "the plan file of barge run",
	"barge init SRC DST > plan.yaml\nbarge run plan.yaml",
	"A plan says what barge run moves: from where, to where, which tables, "
	"how, and with which mapping. It is one YAML document. An unknown key "
	"or a key given twice is an error naming the file, the line and the "
	"key, and nothing moves. Passwords do not belong in a plan: use the "
	"engines' variables or env:NAME. The full reference, with the mapping "
	"options, is docs/plan.md and docs/mapping.md.",
	{&plan_top_s, &plan_settings_s, &plan_tables_s, NULL},
};

const struct cli_page *const cli_pages[] = {
	&page_barge, &page_inspect, &page_init, &page_copy, &page_run,
	&page_status, &page_verify, &page_fix, &page_rejects, &page_plan, NULL,
};
