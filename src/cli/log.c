/*
 * What the command says on stderr besides progress lines: with --verbose a
 * line per chunk, with --log-format json a JSON object per line for each
 * chunk, the run's end and an error, so a log collector reads stderr
 * without parsing prose. stdout stays for results.
 */
#include "cli.h"
#include "util.h"
#include "barge/barge.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int cli_log_json;
int cli_log_verbose;

/* {"ts":"2026-12-04T14:30:00.123Z","event":EVENT, : the line's start. */
static void json_start(struct barge_buf *b, const char *event)
{
	struct timespec ts;
	struct tm tm;
	char when[32];
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
	barge_buf_printf(b, "{\"ts\":\"%s.%03ldZ\",\"event\":\"%s\"", when,
			 ts.tv_nsec / 1000000, event);
}

/* The line out in one write: workers log at the same time. */
static void json_end(struct barge_buf *b)
{
	barge_buf_adds(b, "}\n");
	if (!b->err)
		fputs(b->p, stderr);
	barge_buf_dispose(b);
}

static void json_field(struct barge_buf *b, const char *name, const char *s)
{
	if (!s)
		return;
	barge_buf_printf(b, ",\"%s\":", name);
	barge_buf_json_str(b, s, strlen(s));
}

void cli_log_chunk(const struct barge_chunk_event *ev, void *arg)
{
	struct barge_buf b;
	(void)arg;
	if (!cli_log_json && !cli_log_verbose)
		return;
	barge_buf_init(&b, 1 << 16);
	if (cli_log_json) {
		json_start(&b, "chunk");
		barge_buf_printf(&b, ",\"run\":%lld", (long long)ev->run_id);
		json_field(&b, "table", ev->table);
		barge_buf_printf(&b, ",\"chunk\":%lld", (long long)ev->chunk);
		json_field(&b, "outcome", ev->outcome);
		barge_buf_printf(&b, ",\"attempt\":%d,\"rows\":%lld,\"rows_read\":%lld,"
				 "\"rejected\":%lld",
				 ev->attempt, (long long)ev->rows_written,
				 (long long)ev->rows_read, (long long)ev->rows_rejected);
		json_field(&b, "digest", ev->digest);
		barge_buf_printf(&b, ",\"seconds\":%.3f", ev->seconds);
		json_field(&b, "message", ev->message);
		json_end(&b);
		return;
	}
	barge_buf_printf(&b, "barge: %s chunk %lld: %s", ev->table,
			 (long long)ev->chunk, ev->outcome);
	if (ev->attempt)
		barge_buf_printf(&b, " (attempt %d)", ev->attempt + 1);
	if (ev->digest)
		barge_buf_printf(&b, ", %lld rows, %lld rejected, digest %s",
				 (long long)ev->rows_written,
				 (long long)ev->rows_rejected, ev->digest);
	barge_buf_printf(&b, ", %.3f s", ev->seconds);
	if (ev->message)
		barge_buf_printf(&b, ": %s", ev->message);
	barge_buf_adds(&b, "\n");
	if (!b.err)
		fputs(b.p, stderr);
	barge_buf_dispose(&b);
}

void cli_log_run(const struct barge_job_result *res)
{
	struct barge_buf b;
	int64_t rows = 0, rejected = 0, failed = 0;
	if (!cli_log_json)
		return;
	for (size_t i = 0; i < res->ntables; i++) {
		rows += res->tables[i].rows_written;
		rejected += res->tables[i].rows_rejected;
		failed += res->tables[i].chunks_failed;
	}
	barge_buf_init(&b, 1 << 16);
	json_start(&b, "run");
	barge_buf_printf(&b, ",\"run\":%lld", (long long)res->run_id);
	json_field(&b, "status", res->status);
	barge_buf_printf(&b, ",\"resumed\":%s,\"rows\":%lld,\"rejected\":%lld,"
			 "\"chunks_failed\":%lld,\"seconds\":%.3f",
			 res->resumed ? "true" : "false", (long long)rows,
			 (long long)rejected, (long long)failed, res->seconds);
	json_field(&b, "message", res->message);
	json_end(&b);
}

void cli_log_error(const char *msg)
{
	struct barge_buf b;
	if (!cli_log_json) {
		fprintf(stderr, "barge: %s\n", msg);
		return;
	}
	barge_buf_init(&b, 1 << 16);
	json_start(&b, "error");
	json_field(&b, "message", msg);
	json_end(&b);
}
