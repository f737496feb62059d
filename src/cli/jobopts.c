#include "jobopts.h"
#include "cli.h"
#include "help.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void jobopts_init(struct jobopts *o)
{
	memset(o, 0, sizeof *o);
	barge_settings_unset(&o->set);
	o->state = "barge-state.db";
	o->progress = -1; /* by the terminal (jobopts_apply) */
	o->only_chunk = -1;
}

static int num(int64_t *out, const char *opt, const char *v, int64_t min)
{
	if (barge_parse_i64(out, v, opt) < 0 || *out < min) {
		cli_usage_error("%s takes a whole number of at least %lld, not '%s'",
				opt, (long long)min, v);
		return -EXIT_USAGE;
	}
	return 1;
}

int jobopts_args(struct jobopts *o, int argc, char **argv, const char *cmd,
		 const char **pos, int max, int *npos, const char *too_many)
{
	*npos = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			cli_help_print(stdout, cmd);
			return EXIT_DONE;
		}
		int r = jobopts_take(o, argc, argv, &i);
		if (r < 0)
			return -r;
		if (r)
			continue;
		if (argv[i][0] == '-' && argv[i][1])
			return cli_usage_error("%s: unknown option '%s'", cmd, argv[i]);
		if (*npos == max)
			return cli_usage_error("%s: %s ('%s')", cmd, too_many, argv[i]);
		pos[(*npos)++] = argv[i];
	}
	return -1;
}

int jobopts_take(struct jobopts *o, int argc, char **argv, int *i)
{
	const char *a = argv[*i];
	int64_t v;
	int r;
	static const char *const valued[] = {
		"--state", "--tables", "--mode", "--chunk-rows", "--batch-rows",
		"--jobs", "--queue-depth", "--retries", "--max-failures",
		"--sample", "--report", "--table", "--key", "--chunk",
		"--log-format", NULL,
	};
	const char *val = NULL;
	for (size_t k = 0; valued[k]; k++) {
		size_t n = strlen(valued[k]);
		if (strncmp(a, valued[k], n) == 0 && (a[n] == '\0' || a[n] == '=')) {
			if (a[n] == '=')
				val = a + n + 1;
			else if (*i + 1 < argc)
				val = argv[++*i];
			else {
				cli_usage_error("%s needs a value", valued[k]);
				return -EXIT_USAGE;
			}
			a = valued[k];
			break;
		}
	}
	if (strcmp(a, "--state") == 0) o->state = val;
	else if (strcmp(a, "--tables") == 0) o->tables = val;
	else if (strcmp(a, "--report") == 0) o->report = val;
	else if (strcmp(a, "--table") == 0) o->only_table = val;
	else if (strcmp(a, "--key") == 0) o->only_key = val;
	else if (strcmp(a, "--mode") == 0) {
		if (barge_mode_parse(&o->set.mode, val) < 0) {
			cli_usage_error("--mode: '%s' is not insert, upsert, replace or truncate", val);
			return -EXIT_USAGE;
		}
	} else if (strcmp(a, "--chunk-rows") == 0) {
		if (strcmp(val, "auto") == 0)
			o->set.chunk_rows = 0;
		else if ((r = num(&o->set.chunk_rows, a, val, 1)) < 0)
			return r;
	} else if (strcmp(a, "--batch-rows") == 0) {
		if ((r = num(&o->set.batch_rows, a, val, 1)) < 0) return r;
	} else if (strcmp(a, "--jobs") == 0) {
		if ((r = num(&v, a, val, 1)) < 0) return r;
		o->set.jobs = (int)(v > 256 ? 256 : v);
	} else if (strcmp(a, "--queue-depth") == 0) {
		if ((r = num(&v, a, val, 1)) < 0) return r;
		o->set.queue_depth = (int)(v > 1024 ? 1024 : v);
	} else if (strcmp(a, "--retries") == 0) {
		if ((r = num(&v, a, val, 0)) < 0) return r;
		o->set.retries = (int)(v > 1000 ? 1000 : v);
	} else if (strcmp(a, "--max-failures") == 0) {
		if ((r = num(&v, a, val, 0)) < 0) return r;
		o->set.max_failures = (int)(v > 1000000 ? 1000000 : v);
	} else if (strcmp(a, "--sample") == 0) {
		if ((r = num(&o->sample, a, val, 1)) < 0) return r;
	} else if (strcmp(a, "--chunk") == 0) {
		if ((r = num(&o->only_chunk, a, val, 0)) < 0) return r;
	} else if (strcmp(a, "--restart") == 0) o->restart = 1;
	else if (strcmp(a, "--dry-run") == 0) o->dry_run = 1;
	else if (strcmp(a, "--progress") == 0) o->progress = 1;
	else if (strcmp(a, "--no-progress") == 0) o->progress = 0;
	else if (strcmp(a, "--quiet") == 0) o->quiet = 1;
	else if (strcmp(a, "--verbose") == 0) o->verbose = 1;
	else if (strcmp(a, "--log-format") == 0) {
		if (strcmp(val, "json") != 0 && strcmp(val, "text") != 0) {
			cli_usage_error("--log-format is text or json, not '%s'", val);
			return -EXIT_USAGE;
		}
		o->log_json = strcmp(val, "json") == 0;
		cli_log_json = o->log_json;
	} else
		return 0;
	return 1;
}

void jobopts_job(const struct jobopts *o, struct barge_job *job,
		 struct barge_job_table *tables, size_t ntables,
		 const char *command)
{
	job->state_path = o->state;
	job->tables = tables;
	job->ntables = ntables;
	job->restart = o->restart;
	job->dry_run = o->dry_run;
	job->sample = o->sample;
	job->command = command;
}

int jobopts_apply(const struct jobopts *o, struct barge_job *job)
{
	if (o->log_json && o->progress == 1)
		return cli_usage_error("--progress and --log-format json do not go "
				       "together: stderr is JSON lines");
	if (o->quiet && o->verbose)
		return cli_usage_error("--quiet and --verbose do not go together");
	/* progress lines are drawn only on a terminal, and not over the
	 * lines of --verbose or --log-format json, unless asked for */
	job->progress = o->progress >= 0 ? o->progress
		: isatty(2) && !o->quiet && !o->verbose && !o->log_json;
	cli_log_verbose = o->verbose;
	cli_log_json = o->log_json;
	if (o->verbose || o->log_json)
		job->on_chunk = cli_log_chunk;
	return 0;
}

char *jobopts_command(int argc, char **argv)
{
	struct barge_buf b;
	char *out = NULL;
	barge_buf_init(&b, 1 << 16);
	barge_buf_adds(&b, "barge");
	for (int i = 0; i < argc; i++) {
		barge_buf_add(&b, " ", 1);
		/* URLs are recorded redacted: a password never reaches the store */
		struct barge_url *u = NULL;
		if (strstr(argv[i], "://") && barge_url_parse(&u, argv[i]) == 0) {
			barge_buf_adds(&b, barge_url_redacted(u));
			barge_url_free(u);
		} else {
			barge_buf_adds(&b, argv[i]);
		}
	}
	barge_error_clear();
	barge_buf_detach(&b, &out);
	return out;
}

static void human_bytes(char *buf, size_t n, int64_t v)
{
	const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double d = (double)v;
	int i = 0;
	while (d >= 1024 && i < 4) {
		d /= 1024;
		i++;
	}
	snprintf(buf, n, i ? "%.1f %s" : "%.0f %s", d, u[i]);
}

static void print_summary(const struct barge_job *job,
			  const struct barge_job_result *res)
{
	FILE *o = stdout;
	int64_t tr = 0, tw = 0, tj = 0, tb = 0, tc = 0, td = 0;
	if (res->notes)
		fputs(res->notes, o);
	if (res->snapshot_renewals)
		fprintf(o, "warning: the source's snapshot was lost %d time%s and a new "
			"one taken: each chunk is consistent, the run as a whole is "
			"not; check it with barge verify\n", res->snapshot_renewals,
			res->snapshot_renewals == 1 ? "" : "s");
	fprintf(o, "\n%-24s %9s %12s %12s %9s %10s %9s %11s\n", "table", "chunks",
		"read", "written", "rejected", "bytes", "time", "rows/s");
	for (size_t i = 0; i < res->ntables; i++) {
		const struct barge_job_table_result *t = &res->tables[i];
		char chunks[32], bytes[32];
		snprintf(chunks, sizeof chunks, "%lld/%lld", (long long)t->chunks_done,
			 (long long)t->chunks);
		human_bytes(bytes, sizeof bytes, t->bytes);
		fprintf(o, "%-24s %9s %12lld %12lld %9lld %10s %8.2fs %11.0f\n",
			t->table, chunks, (long long)t->rows_read,
			(long long)t->rows_written, (long long)t->rows_rejected, bytes,
			t->seconds,
			t->seconds > 0 ? (double)t->rows_written / t->seconds : 0);
		tr += t->rows_read;
		tw += t->rows_written;
		tj += t->rows_rejected;
		tb += t->bytes;
		tc += t->chunks;
		td += t->chunks_done;
	}
	char chunks[32], bytes[32];
	snprintf(chunks, sizeof chunks, "%lld/%lld", (long long)td, (long long)tc);
	human_bytes(bytes, sizeof bytes, tb);
	fprintf(o, "%-24s %9s %12lld %12lld %9lld %10s %8.2fs %11.0f\n", "total",
		chunks, (long long)tr, (long long)tw, (long long)tj, bytes,
		res->seconds, res->seconds > 0 ? (double)tw / res->seconds : 0);
	for (size_t i = 0; i < res->ntables; i++)
		if (res->tables[i].last_error)
			fprintf(o, "%s: %lld chunk(s) failed: %s\n", res->tables[i].table,
				(long long)res->tables[i].chunks_failed,
				res->tables[i].last_error);
	if (job->dry_run) {
		fprintf(o, "dry run: nothing was written.");
		for (size_t i = 0; i < res->ntables; i++)
			if (res->tables[i].created)
				fprintf(o, " %s would be created.", res->tables[i].table);
		fputc('\n', o);
	}
	fprintf(o, "status: %s", res->status);
	if (res->run_id)
		fprintf(o, " (run %lld%s)", (long long)res->run_id,
			res->resumed ? ", resumed" : "");
	if (res->message)
		fprintf(o, ": %s", res->message);
	fputc('\n', o);
}

static int write_report(const char *path, const struct barge_job *job,
			const struct barge_job_result *res)
{
	struct barge_buf b;
	char *text = NULL;
	struct barge_url *su = NULL, *tu = NULL;
	barge_buf_init(&b, 64u << 20);
	barge_url_parse(&su, job->source);
	barge_url_parse(&tu, job->target);
	barge_buf_printf(&b, "{\"run\":%lld,\"status\":\"%s\",\"resumed\":%s,",
			 (long long)res->run_id, res->status,
			 res->resumed ? "true" : "false");
	barge_buf_adds(&b, "\"source\":");
	const char *s = su ? barge_url_redacted(su) : "";
	barge_buf_json_str(&b, s, strlen(s));
	barge_buf_adds(&b, ",\"target\":");
	s = tu ? barge_url_redacted(tu) : "";
	barge_buf_json_str(&b, s, strlen(s));
	barge_buf_printf(&b, ",\"seconds\":%.3f,\"snapshot_renewals\":%d,\"tables\":[",
			 res->seconds, res->snapshot_renewals);
	for (size_t i = 0; i < res->ntables; i++) {
		const struct barge_job_table_result *t = &res->tables[i];
		barge_buf_adds(&b, i ? ",{\"table\":" : "{\"table\":");
		barge_buf_json_str(&b, t->table, strlen(t->table));
		barge_buf_printf(&b,
				 ",\"chunks\":%lld,\"chunks_done\":%lld,\"chunks_failed\":%lld,"
				 "\"rows_read\":%lld,\"rows_written\":%lld,\"rows_rejected\":%lld,"
				 "\"bytes\":%lld,\"seconds\":%.3f,\"rows_per_second\":%.0f,"
				 "\"created\":%s,\"error\":",
				 (long long)t->chunks, (long long)t->chunks_done,
				 (long long)t->chunks_failed, (long long)t->rows_read,
				 (long long)t->rows_written, (long long)t->rows_rejected,
				 (long long)t->bytes, t->seconds,
				 t->seconds > 0 ? (double)t->rows_written / t->seconds : 0,
				 t->created ? "true" : "false");
		if (t->last_error)
			barge_buf_json_str(&b, t->last_error, strlen(t->last_error));
		else
			barge_buf_adds(&b, "null");
		barge_buf_adds(&b, "}");
	}
	barge_buf_adds(&b, "]");
	if (res->message) {
		barge_buf_adds(&b, ",\"message\":");
		barge_buf_json_str(&b, res->message, strlen(res->message));
	}
	barge_buf_adds(&b, "}\n");
	barge_url_free(su);
	barge_url_free(tu);
	if (barge_buf_detach(&b, &text) < 0)
		return cli_fail();
	FILE *f = fopen(path, "w");
	if (!f || fputs(text, f) == EOF || fclose(f) != 0) {
		free(text);
		fprintf(stderr, "barge: cannot write the report %s\n", path);
		return EXIT_FAILED;
	}
	free(text);
	return 0;
}

int jobopts_finish(const struct jobopts *o, const struct barge_job *job,
		   const struct barge_job_result *res)
{
	int64_t rejected = 0, failed = 0;
	if (!o->quiet)
		print_summary(job, res);
	cli_log_run(res);
	if (o->report && write_report(o->report, job, res) != 0)
		return EXIT_FAILED;
	for (size_t i = 0; i < res->ntables; i++) {
		rejected += res->tables[i].rows_rejected;
		failed += res->tables[i].chunks_failed;
	}
	if (strcmp(res->status, "done") != 0 && strcmp(res->status, "dry-run") != 0)
		return EXIT_FAILED;
	if (job->dry_run && failed)
		return EXIT_FAILED;
	return rejected ? EXIT_REJECTS : EXIT_DONE;
}
