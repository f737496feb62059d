/*
 * The driver conformance suite's small harness (docs/conformance.md).
 *
 * A case is a function that records failures with EXPECT and may end
 * early with SKIP (the driver lacks a capability) or add a NOTE (what the
 * driver refused, for the log). run_case prints one line per case:
 * "NAME ok", "NAME FAIL" or "NAME skip (reason)"; the details of a failure
 * go on indented lines before it. conf_done prints "N passed, M failed".
 */
#ifndef BARGE_CONFORMANCE_H
#define BARGE_CONFORMANCE_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct conf_case {
	int fails;          /* EXPECTs that failed in this case */
	char skip[256];     /* set: the case was skipped, for this reason */
	char note[1024];    /* appended to an "ok" line */
};

static struct conf_case conf_cur;
static int conf_passed, conf_failed, conf_skipped;

static inline void conf_detail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static inline void conf_detail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	printf("    %s:%d: ", file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* Record a failure of `cond` with a formatted detail line. */
#define EXPECT(cond, ...)                                                      \
	do {                                                                   \
		if (!(cond)) {                                                 \
			conf_cur.fails++;                                      \
			conf_detail(__FILE__, __LINE__, __VA_ARGS__);          \
		}                                                              \
	} while (0)

/* A driver call that must succeed; evaluates to its return code. */
#define EXPECT_OK(expr)                                                        \
	conf_expect_ok((expr), #expr, __FILE__, __LINE__)

static inline int conf_expect_ok(int rc, const char *what, const char *file,
				 int line)
{
	if (rc != 0) {
		conf_cur.fails++;
		conf_detail(file, line, "%s returned %d: %s", what, rc,
			    barge_error_last());
	}
	return rc;
}

static inline void conf_skip(const char *why)
{
	snprintf(conf_cur.skip, sizeof conf_cur.skip, "%s", why);
}

static inline void conf_note(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static inline void conf_note(const char *fmt, ...)
{
	size_t off = strlen(conf_cur.note);
	va_list ap;
	if (off && off + 2 < sizeof conf_cur.note) {
		memcpy(conf_cur.note + off, "; ", 3);
		off += 2;
	}
	va_start(ap, fmt);
	vsnprintf(conf_cur.note + off, sizeof conf_cur.note - off, fmt, ap);
	va_end(ap);
}

static inline void run_case(const char *name, void (*fn)(void))
{
	memset(&conf_cur, 0, sizeof conf_cur);
	barge_error_clear();
	printf("%s ...\n", name);
	fflush(stdout);
	fn();
	if (conf_cur.fails) {
		conf_failed++;
		printf("%s FAIL (%d checks)\n", name, conf_cur.fails);
	} else if (conf_cur.skip[0]) {
		conf_skipped++;
		printf("%s skip (%s)\n", name, conf_cur.skip);
	} else {
		conf_passed++;
		printf("%s ok%s%s%s\n", name, conf_cur.note[0] ? " (" : "",
		       conf_cur.note, conf_cur.note[0] ? ")" : "");
	}
	fflush(stdout);
}

static inline int conf_done(void)
{
	if (conf_skipped)
		printf("%d skipped\n", conf_skipped);
	printf("%d passed, %d failed\n", conf_passed, conf_failed);
	return conf_failed ? 1 : 0;
}

#endif
