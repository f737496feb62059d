/*
 * Per-run settings: rows per chunk, workers, write mode, retries. A plan
 * has them under `defaults:` and per table; a program using the library
 * fills them with barge_settings_builtin and changes what it wants.
 *
 * A struct barge_settings is plain data owned by the caller: nothing in it
 * is allocated, nothing needs freeing.
 */
#ifndef BARGE_SETTINGS_H
#define BARGE_SETTINGS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* -1 in a field = not set (inherit from the level above). */
struct barge_settings {
	int64_t chunk_rows;  /* rows per chunk (planned by key), 0 = auto */
	int64_t batch_rows;  /* rows per batch in memory */
	int jobs;            /* worker threads */
	int mode;            /* enum barge_mode, -1 = unset */
	int retries;         /* retries of a transient failure per chunk */
	int max_failures;    /* circuit breaker: consecutive failed chunks */
	int queue_depth;     /* batches in flight between reader and writer */
};

/* Settings with every field "unset". */
void barge_settings_unset(struct barge_settings *s);
/* Fill unset fields of `s` from `from`. */
void barge_settings_inherit(struct barge_settings *s,
			    const struct barge_settings *from);
/* The built-in defaults (chunk_rows auto, batch_rows 2000, jobs 1, ...):
 * what struct barge_job's `defaults` holds when nothing else is chosen. */
void barge_settings_builtin(struct barge_settings *s);
/* "insert" -> BARGE_MODE_INSERT ...; BARGE_EUSAGE on an unknown name. */
int barge_mode_parse(int *out, const char *name);
/* "insert", ... (a constant; never freed). */
const char *barge_mode_name(int mode);

#ifdef __cplusplus
}
#endif

#endif
