/*
 * A tiny test harness: CHECK records a failure and goes on; a test file's
 * main returns harness_done(), which prints "N passed, N failed".
 */
#ifndef BARGE_TEST_HARNESS_H
#define BARGE_TEST_HARNESS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int harness_pass, harness_fail;

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (cond) {                                                    \
			harness_pass++;                                        \
		} else {                                                       \
			harness_fail++;                                        \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, \
				__LINE__, #cond);                              \
		}                                                              \
	} while (0)

#define CHECK_OK(expr)                                                         \
	do {                                                                   \
		int rc_ = (expr);                                              \
		if (rc_ == 0) {                                                \
			harness_pass++;                                        \
		} else {                                                       \
			harness_fail++;                                        \
			fprintf(stderr, "%s:%d: %s returned %d: %s\n",         \
				__FILE__, __LINE__, #expr, rc_,                \
				barge_error_last());                           \
		}                                                              \
	} while (0)

#define CHECK_STR(a, b)                                                        \
	do {                                                                   \
		const char *a_ = (a), *b_ = (b);                               \
		if (a_ && b_ && strcmp(a_, b_) == 0) {                         \
			harness_pass++;                                        \
		} else {                                                       \
			harness_fail++;                                        \
			fprintf(stderr, "%s:%d: '%s' != '%s' (%s vs %s)\n",    \
				__FILE__, __LINE__, a_ ? a_ : "(null)",        \
				b_ ? b_ : "(null)", #a, #b);                   \
		}                                                              \
	} while (0)

/* A fresh scratch path under $BARGE_TEST_TMP (or /tmp): dir/name, removed
 * first if it exists. */
static inline const char *harness_path(char *buf, size_t n, const char *name)
{
	const char *dir = getenv("BARGE_TEST_TMP");
	if (!dir)
		dir = "/tmp";
	mkdir(dir, 0777);
	snprintf(buf, n, "%s/%s", dir, name);
	remove(buf);
	char side[1100];
	snprintf(side, sizeof side, "%s-wal", buf);
	remove(side);
	snprintf(side, sizeof side, "%s-shm", buf);
	remove(side);
	return buf;
}

static inline int harness_done(void)
{
	printf("%d passed, %d failed\n", harness_pass, harness_fail);
	return harness_fail ? 1 : 0;
}

#endif
