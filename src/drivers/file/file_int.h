/*
 * The file driver's private header (docs/files.md). A target URL names a
 * folder; each table is a sub-folder of parts, one part per chunk, and a
 * manifest.json at the top lists every part. Its pieces:
 *   file.c      the driver table, URL options, connections, schema files
 *   part.c      parts: temporary name, fsync, rename, the part's record
 *   sink.c      the writer stack under an encoder: compress -> file,
 *               with the SHA-256 and size of the bytes that reach the file
 *   format.c    the formats' table and the value texts they share
 *               (ISO 8601 times, hex and base64 bytes)
 *   csv.c       CSV (RFC 4180)
 *   jsonl.c     JSON Lines
 *   manifest.c  manifest.json, from the parts' records
 * A format is a small vtable (struct file_format): begin, row and end
 * of a part for writing; Parquet and Avro join by adding one.
 */
#ifndef BARGE_FILE_INT_H
#define BARGE_FILE_INT_H

#include "barge/barge.h"
#include "canon.h"
#include "util.h"

#include <sodium.h>
#include <stdint.h>
#include <zlib.h>
#include <zstd.h>

enum file_comp { FILE_COMP_NONE = 0, FILE_COMP_GZIP, FILE_COMP_ZSTD };
enum file_bytes { FILE_BYTES_HEX = 0, FILE_BYTES_BASE64 };

/* What the URL's query says (file.c, file_opts_parse). Read-only once a
 * connection is open. */
struct file_opts {
	const struct file_format *format;
	int comp;           /* enum file_comp */
	int level;          /* compression level, 0 = the library's default */
	char delimiter;     /* CSV */
	char quote;         /* CSV */
	char null_text[32]; /* CSV: NULL's spelling ("" = an unquoted empty field) */
	int header;         /* CSV: a header line */
	int bytes;          /* enum file_bytes (CSV; JSON Lines is always base64) */
	int exact_strings;  /* JSON Lines: decimals and big integers as strings */
};

/*
 * One part being encoded: the columns in table order and a scratch
 * buffer for a value's text. A format keeps its own state in `priv`
 * (freed by its `dispose`).
 */
struct file_enc {
	const struct file_opts *o;
	const struct barge_table_def *t; /* the columns, in output order */
	struct barge_buf tmp;
	void *priv;
};

/*
 * A format. begin: the part's first bytes (CSV's header line); row: one
 * row, `vals` one value per column of enc->t in table order (a NULL for
 * a column the write does not carry); end: the part's last bytes. Each
 * appends to `out`. A value the format cannot write exactly is
 * BARGE_EDATA with the column named. Reading (open, next row) comes with
 * import (issue 13). NULL slots mean "nothing to add".
 */
struct file_format {
	const char *name; /* "csv", as in ?format= */
	const char *ext;  /* the part's extension before any compression's */
	int (*begin)(struct file_enc *e, struct barge_buf *out);
	int (*row)(struct file_enc *e, const struct barge_value *vals,
		   struct barge_buf *out);
	int (*end)(struct file_enc *e, struct barge_buf *out);
	void (*dispose)(struct file_enc *e);
};

extern const struct file_format file_csv_format;
extern const struct file_format file_jsonl_format;

/* ---- format.c ---- */

/* The format named `name`, or NULL. */
const struct file_format *file_format_find(const char *name);
void file_enc_init(struct file_enc *e, const struct file_opts *o,
		   const struct barge_table_def *t);
void file_enc_dispose(struct file_enc *e);
/* The format's row, or nothing of it in `out` when it fails. */
int file_enc_row(struct file_enc *e, const struct barge_value *vals,
		 struct barge_buf *out);
/* n bytes as base64 (RFC 4648, padded) / as \x and lowercase hex. */
int file_base64(struct barge_buf *out, const void *p, size_t n);
int file_hex(struct barge_buf *out, const void *p, size_t n);
/*
 * The text of a value as the formats write it (no quoting): ISO 8601
 * dates, times and timestamps (a 'T' between date and time; +00:00 on a
 * timestamptz), bool true/false, the shortest float that reads back
 * exactly (NaN, Infinity, -Infinity), decimals as their exact text, UUIDs
 * 8-4-4-4-12, bytes per `bytes` (enum file_bytes). BARGE_EDATA (message
 * set, naming `col`) for a value with no such text (a year past 9999).
 */
int file_value_text(struct barge_buf *out, const struct barge_value *v,
		    int bytes, const char *col);

/* ---- sink.c ---- */

/*
 * Bytes on their way to a part's file: compressed (or not), counted and
 * hashed (SHA-256 of what reaches the file). _init takes the open file
 * descriptor (not closed by the sink); _finish flushes the compressor's
 * tail; _dispose frees the compressor.
 */
struct file_sink {
	int fd;
	int comp;
	const char *path; /* for messages */
	z_stream z;
	int z_live;
	ZSTD_CCtx *zc;
	crypto_hash_sha256_state sha;
	uint64_t bytes;   /* bytes written to the file */
	unsigned char *obuf;
	size_t ocap;
};

int file_sink_init(struct file_sink *s, int fd, int comp, int level,
		   const char *path);
int file_sink_write(struct file_sink *s, const void *p, size_t n);
/* Flush the compressor; *sha256 gets 64 hex digits and a NUL. */
int file_sink_finish(struct file_sink *s, char sha256[65]);
void file_sink_dispose(struct file_sink *s);

/*
 * A connection: the folder and its options, and the one part it may
 * have open (driver.h: one part at a time on a connection). Used by one
 * thread at a time, like every connection.
 */
struct barge_conn {
	char *root;
	struct file_opts o;
	unsigned flags; /* enum barge_open_flags */
	/* the open part: fd >= 0 from part_begin to part_commit/abort */
	int fd;
	char tmp[4096], final[4096], meta[4096];
	char table[256];
	int64_t seq;
	struct barge_table_def *t; /* the part's columns (a copy) */
	struct file_sink sink;
	int sink_live;
	struct file_enc enc;
	int begun;                 /* the format's begin is written */
	struct barge_buf out;      /* encoded bytes not yet in the sink */
	struct barge_buf scratch;  /* the canonical encoder's */
	struct barge_digest digest;
};

/* ---- part.c ---- */

int file_part_begin(struct barge_conn *c, const struct barge_table_def *t,
		    const struct barge_chunk *chunk);
int file_part_commit(struct barge_conn *c);
int file_part_abort(struct barge_conn *c);
int file_write_open(struct barge_writer **out, struct barge_conn *c,
		    const struct barge_write_req *req);
int file_write_batch(struct barge_writer *w, const struct barge_batch *b);
void file_write_close(struct barge_writer *w);
/* Remove a table's parts, records and temporary files. */
int file_parts_remove(const char *dir);

/* The record of one committed part, kept beside it (.part-NNNNNN.meta). */
struct file_part_rec {
	int64_t seq;
	char file[128];  /* the part's name in its table's folder */
	int64_t rows;
	uint64_t bytes;
	char sha256[65];
	char digest[33]; /* barge's canonical digest of its rows (canon.h) */
};

/* "table/.part-000001.meta" etc.: the names, in one place. */
void file_part_name(char *buf, size_t n, const struct file_opts *o, int64_t seq);
int file_part_rec_read(struct file_part_rec *r, const char *path);

/* ---- manifest.c ---- */

/* The names in `dir` that start with `prefix` (and, if given, end with
 * `suffix`), sorted, NULL-terminated; free with file_names_free. */
int file_names_in(char ***out, size_t *nout, const char *dir,
		  const char *prefix, const char *suffix);
void file_names_free(char **v, size_t n);

/* Write root/manifest.json (atomically) from every table's schema file and
 * part records. */
int file_manifest_write(const char *root, const struct file_opts *o);

/* ---- file.c ---- */

/* Parse the URL's options into *o; BARGE_EUSAGE with one line otherwise. */
int file_opts_parse(struct file_opts *o, const struct barge_url *url);
/* root/table, refusing a table name that is not a plain folder name. */
int file_table_dir(char *buf, size_t n, const char *root, const char *table);
/* Read a table's schema file (root/table/.barge-schema). */
int file_schema_read(const char *root, const char *table,
		     struct barge_table_def **out);
/* fsync a folder (after a rename in it). */
int file_fsync_dir(const char *dir);
/* Write `p` to `path` through a temporary name, fsync'd, mode 0600. */
int file_write_atomic(const char *path, const char *p, size_t n);

#endif
