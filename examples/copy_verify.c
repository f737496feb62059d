/*
 * copy_verify SRC DST [--state FILE] [--verify-only]
 *
 * The public API in one page: copy every table of SRC to DST with the
 * built-in settings, print the rows copied per table, then verify the pair
 * and print whether it is equal. Exit 0 only when the copy is done and the
 * verify found the two sides equal; 1 when either is not; 2 when one of
 * them could not run (the library's one-line error goes to stderr).
 *
 * It includes <barge/barge.h> and the standard headers only, and is built
 * with include/ as its only include path (CMakeLists.txt), to show the
 * public headers are enough.
 */
#include <barge/barge.h>

#include <stdio.h>
#include <string.h>

static int usage(void)
{
	fputs("usage: copy_verify SRC DST [--state FILE] [--verify-only]\n", stderr);
	return 2;
}

/* The copy: 1 when it finished ("done"), 0 when not, -1 when it could not run. */
static int copy(const char *src, const char *dst, const char *state)
{
	struct barge_job job;
	struct barge_job_result res;
	int done;

	memset(&job, 0, sizeof job); /* ntables 0: every table of the source */
	job.source = src;
	job.target = dst;
	job.state_path = state;
	barge_settings_builtin(&job.defaults);
	if (barge_job_run(&job, &res) < 0) {
		fprintf(stderr, "copy_verify: copy: %s\n", barge_error_last());
		return -1;
	}
	for (size_t i = 0; i < res.ntables; i++)
		printf("copied %s: %lld rows\n", res.tables[i].table,
		       (long long)res.tables[i].rows_written);
	printf("copy: %s\n", res.status);
	done = strcmp(res.status, "done") == 0;
	barge_job_result_dispose(&res); /* the strings it holds are the library's */
	return done;
}

/* The verify: 1 when equal, 0 when not, -1 when it could not run. */
static int verify(const char *src, const char *dst)
{
	struct barge_verify_opts o;
	struct barge_verify_result res;
	int rc;

	memset(&o, 0, sizeof o); /* zero: the defaults, results stored nowhere */
	o.source = src;
	o.target = dst;
	if (barge_verify(&o, &res) < 0) {
		fprintf(stderr, "copy_verify: verify: %s\n", barge_error_last());
		rc = -1;
	} else {
		for (size_t i = 0; i < res.ntables; i++) {
			const struct barge_verify_table *t = &res.tables[i];
			printf("verified %s: %s (missing %lld, extra %lld, changed %lld)\n",
			       t->table, t->equal ? "equal" : "different",
			       (long long)t->missing, (long long)t->extra,
			       (long long)t->changed);
		}
		printf("verify: %s\n", res.equal ? "equal" : "not equal");
		rc = res.equal ? 1 : 0;
	}
	barge_verify_result_dispose(&res); /* either way (barge/verify.h) */
	return rc;
}

int main(int argc, char **argv)
{
	const char *src = NULL, *dst = NULL, *state = "copy_verify-state.db";
	int verify_only = 0, copied = 1, equal;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--verify-only") == 0)
			verify_only = 1;
		else if (strcmp(argv[i], "--state") == 0 && i + 1 < argc)
			state = argv[++i];
		else if (argv[i][0] == '-')
			return usage();
		else if (!src)
			src = argv[i];
		else if (!dst)
			dst = argv[i];
		else
			return usage();
	}
	if (!src || !dst)
		return usage();
	if (!verify_only && (copied = copy(src, dst, state)) < 0)
		return 2;
	if ((equal = verify(src, dst)) < 0)
		return 2;
	return copied && equal ? 0 : 1;
}
