/*
 * The per-thread error slot (libgit2's git_error_last): set once where a
 * failure is found, read by whoever reports it.
 */
#include "barge/barge.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define ERR_MAX 1024

static _Thread_local char err_msg[ERR_MAX];
static _Thread_local int err_code;

static void set_msg(const char *prefix, const char *fmt, va_list ap)
{
	char buf[ERR_MAX];
	vsnprintf(buf, sizeof buf, fmt, ap);
	/* one line: a message must not break a log or a report */
	for (char *p = buf; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	if (prefix)
		snprintf(err_msg, sizeof err_msg, "%s: %s", buf, prefix);
	else
		snprintf(err_msg, sizeof err_msg, "%s", buf);
}

int barge_error_set(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	set_msg(NULL, fmt, ap);
	va_end(ap);
	err_code = code;
	return code;
}

int barge_error_wrap(int code, const char *fmt, ...)
{
	char old[ERR_MAX];
	va_list ap;
	snprintf(old, sizeof old, "%s", err_msg);
	va_start(ap, fmt);
	set_msg(old[0] ? old : NULL, fmt, ap);
	va_end(ap);
	err_code = code;
	return code;
}

const char *barge_error_last(void)
{
	return err_msg;
}

int barge_error_code(void)
{
	return err_code;
}

void barge_error_clear(void)
{
	err_msg[0] = '\0';
	err_code = 0;
}

const char *barge_version(void)
{
#ifdef BARGE_VERSION_STRING
	return BARGE_VERSION_STRING;
#else
	return "0.0.0";
#endif
}
