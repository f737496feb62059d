/*
 * barge status [--state F] [--run ID] [--format text|json]: the progress,
 * throughput and failures of a run, while it runs (from another process)
 * or after it ended.
 */
#include "barge/barge.h"
#include "cli.h"
#include "help.h"
#include "state.h"
#include "util.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int alive(int pid)
{
	return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

static const char *run_state(const struct barge_run *r)
{
	if (strcmp(r->status, "running") == 0 && !alive(r->pid))
		return "interrupted";
	return r->status;
}

static void print_text(const struct barge_run *r,
		       const struct barge_table_progress *p, size_t n)
{
	double now = barge_now();
	const char *st = run_state(r);
	printf("run %lld: %s\n  from %s\n  to   %s\n", (long long)r->id, st,
	       r->source, r->target);
	if (strcmp(st, "interrupted") == 0)
		printf("  (process %d is gone: run the same command again to resume)\n",
		       r->pid);
	double el = (r->finished > 0 ? r->finished : now) - r->started;
	printf("  started %.0f s ago, %s %.1f s\n", now - r->started,
	       r->finished > 0 ? "ran" : "running for", el);
	printf("\n%-24s %8s %7s %7s %7s %12s %12s %11s\n", "table", "chunks", "done",
	       "running", "failed", "read", "written", "rows/s");
	for (size_t i = 0; i < n; i++) {
		const struct barge_table_progress *t = &p[i];
		double span = (t->last_end > t->first_start ? t->last_end : now) -
			      t->first_start;
		printf("%-24s %8lld %7lld %7lld %7lld %12lld %12lld %11.0f\n", t->table,
		       (long long)t->chunks, (long long)t->chunks_done,
		       (long long)t->chunks_running, (long long)t->chunks_failed,
		       (long long)t->rows_read, (long long)t->rows_written,
		       t->first_start > 0 && span > 0 ? (double)t->rows_written / span : 0);
	}
	for (size_t i = 0; i < n; i++)
		if (p[i].last_error)
			printf("%s: %s\n", p[i].table, p[i].last_error);
}

static void print_json(const struct barge_run *r,
		       const struct barge_table_progress *p, size_t n)
{
	struct barge_buf b;
	char *out = NULL;
	barge_buf_init(&b, 64u << 20);
	barge_buf_printf(&b, "{\"run\":%lld,\"status\":\"%s\",\"pid\":%d,"
			 "\"started\":%.3f,\"finished\":%.3f,\"source\":",
			 (long long)r->id, run_state(r), r->pid, r->started,
			 r->finished);
	barge_buf_json_str(&b, r->source, strlen(r->source));
	barge_buf_adds(&b, ",\"target\":");
	barge_buf_json_str(&b, r->target, strlen(r->target));
	barge_buf_adds(&b, ",\"tables\":[");
	for (size_t i = 0; i < n; i++) {
		const struct barge_table_progress *t = &p[i];
		barge_buf_adds(&b, i ? ",{\"table\":" : "{\"table\":");
		barge_buf_json_str(&b, t->table, strlen(t->table));
		barge_buf_printf(&b,
				 ",\"chunks\":%lld,\"chunks_done\":%lld,\"chunks_running\":%lld,"
				 "\"chunks_failed\":%lld,\"rows_read\":%lld,\"rows_written\":%lld,"
				 "\"rows_rejected\":%lld,\"bytes\":%lld,\"seconds\":%.3f,"
				 "\"last_error\":",
				 (long long)t->chunks, (long long)t->chunks_done,
				 (long long)t->chunks_running, (long long)t->chunks_failed,
				 (long long)t->rows_read, (long long)t->rows_written,
				 (long long)t->rows_rejected, (long long)t->bytes,
				 t->seconds);
		if (t->last_error)
			barge_buf_json_str(&b, t->last_error, strlen(t->last_error));
		else
			barge_buf_adds(&b, "null");
		barge_buf_adds(&b, "}");
	}
	barge_buf_adds(&b, "]}\n");
	if (barge_buf_detach(&b, &out) == 0)
		fputs(out, stdout);
	free(out);
}

int cmd_status(int argc, char **argv)
{
	const char *state = "barge-state.db", *format = "text";
	int64_t run_id = 0;
	struct barge_state *st = NULL;
	struct barge_run *r = NULL;
	struct barge_table_progress *p = NULL;
	size_t n = 0;
	int rc = EXIT_DONE;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			cli_help_print(stdout, "status");
			return EXIT_DONE;
		}
		if ((strcmp(a, "--state") == 0 || strcmp(a, "--format") == 0 ||
		     strcmp(a, "--run") == 0) && i + 1 >= argc)
			return cli_usage_error("%s needs a value", a);
		if (strcmp(a, "--state") == 0)
			state = argv[++i];
		else if (strcmp(a, "--format") == 0)
			format = argv[++i];
		else if (strcmp(a, "--run") == 0) {
			if (barge_parse_i64(&run_id, argv[++i], "--run") < 0)
				return cli_fail();
		} else
			return cli_usage_error("status: unknown argument '%s'", a);
	}
	if (strcmp(format, "text") != 0 && strcmp(format, "json") != 0)
		return cli_usage_error("--format is text or json, not '%s'", format);
	if (barge_state_open(&st, state, 0) < 0)
		return cli_fail();
	int err = run_id ? barge_state_run_get(st, run_id, &r)
			 : barge_state_run_latest(st, &r);
	if (err == BARGE_ENOTFOUND) {
		rc = cli_usage_error("no run%s in the state file %s",
				     run_id ? " with that id" : "", state);
		goto out;
	}
	if (err < 0 || barge_state_progress(st, r->id, &p, &n) < 0) {
		rc = cli_fail();
		goto out;
	}
	if (strcmp(format, "json") == 0)
		print_json(r, p, n);
	else
		print_text(r, p, n);
	/* like the run itself: 1 when it did not end done (and is not running) */
	const char *st_name = run_state(r);
	if (strcmp(st_name, "failed") == 0 || strcmp(st_name, "aborted") == 0 ||
	    strcmp(st_name, "interrupted") == 0)
		rc = EXIT_FAILED;
out:
	barge_table_progress_free(p, n);
	barge_run_free(r);
	barge_state_close(st);
	return rc;
}
