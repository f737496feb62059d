/*
 * Endpoint URLs:
 *   sqlite:///abs/path.db   sqlite:rel/path.db
 *   postgresql://user:pw@host:port/db?sslmode=require   (also postgres://)
 *   mysql://user@host/db
 *   file:///dir?format=csv|jsonl|parquet|avro&compression=zstd|gzip|none
 * The password is kept apart so that nothing prints it: barge_url_redacted
 * is the only form that goes to logs, reports and the state store.
 */
#ifndef BARGE_URL_H
#define BARGE_URL_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

struct barge_url_param {
	char *key;
	char *value;
};

struct barge_url {
	char *scheme;   /* "sqlite", "postgresql", "mysql", "file" */
	char *user;     /* NULL when absent; percent-decoded */
	char *password; /* NULL when absent; never printed */
	char *host;
	char *port;
	char *path;     /* sqlite/file: the file path; servers: the database */
	size_t nparams;
	struct barge_url_param *params;
	char *redacted; /* the URL with any password replaced by "***" */
};

/*
 * Parse `text` into a new URL; free with barge_url_free. An unknown scheme
 * or a malformed URL is BARGE_EUSAGE with a one-line message (which never
 * includes the password).
 */
int barge_url_parse(struct barge_url **out, const char *text);
void barge_url_free(struct barge_url *u);
/* A query parameter's value, or NULL; owned by `u`. (In C++ the function
 * hides struct barge_url_param's name, which g++'s -Wshadow reports; the
 * struct is still reachable as `struct barge_url_param`.) */
#if defined(__cplusplus) && defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wshadow"
#endif
const char *barge_url_param(const struct barge_url *u, const char *key);
#if defined(__cplusplus) && defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
/* The URL with any password hidden; owned by `u`. */
const char *barge_url_redacted(const struct barge_url *u);

#ifdef __cplusplus
}
#endif

#endif
