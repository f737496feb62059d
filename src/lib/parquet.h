/*
 * A Parquet file writer (docs/parquet.md). Debian packages no C Parquet
 * library, so barge writes the format itself, from apache/parquet-format's
 * parquet.thrift, Encodings.md and LogicalTypes.md: flat schemas of barge's
 * logical types, data pages v1, PLAIN and dictionary (RLE_DICTIONARY)
 * encodings, RLE definition levels, column statistics, and the codecs
 * none, snappy, gzip and zstd.
 *
 * A writer takes rows of barge values (the views the drivers' writers
 * receive), buffers one row group at a time (bounded by rows and bytes)
 * and hands its bytes to a sink as each row group completes; close writes
 * the footer. Pieces: parquet.c (schema, rows, pages, row groups, footer),
 * parquet_enc.c (varints, RLE hybrid, values, dictionary, decimals),
 * parquet_thrift.c (the compact protocol and the format's structs),
 * sharing parquet_int.h. A writer is single-threaded.
 */
#ifndef BARGE_PARQUET_H
#define BARGE_PARQUET_H

#include "barge/barge.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The codecs (the numbers are parquet.thrift's CompressionCodec). */
enum parquet_codec {
	PARQUET_CODEC_NONE = 0,
	PARQUET_CODEC_SNAPPY = 1,
	PARQUET_CODEC_GZIP = 2,
	PARQUET_CODEC_ZSTD = 6,
};

/* "none", "snappy", "gzip", "zstd" -> the codec; BARGE_EUSAGE otherwise. */
int parquet_codec_parse(int *out, const char *name);

/*
 * One column. `type` is a barge logical type (ANY is refused: Parquet
 * needs one type a column). The narrowing fields refine INT64 and
 * FLOAT64 columns; a value that does not fit them is BARGE_EDATA.
 */
struct parquet_col {
	const char *name;  /* UTF-8; copied */
	int type;          /* enum barge_type */
	int nullable;      /* OPTIONAL (definition levels) or REQUIRED */
	int precision;     /* DECIMAL: 1..; 0 = unconstrained: exact text */
	int scale;         /* DECIMAL: 0..precision */
	int int_bits;      /* INT64: 8, 16, 32 or 64 (0 = 64) */
	int is_unsigned;   /* INT64: an unsigned INTEGER annotation */
	int float32;       /* FLOAT64: written as FLOAT (values must be exact) */
};

/* A column from a driver's column definition: type, nullability,
 * decimal precision and scale (a scale of -1 with a precision is 0). */
void parquet_col_from_def(struct parquet_col *out,
			  const struct barge_column_def *d);

/* Options; zero means the default. */
struct parquet_opts {
	int codec;              /* enum parquet_codec */
	int level;              /* gzip 1..9, zstd 1..22; 0 = the codec's default */
	size_t row_group_rows;  /* default 131072 */
	size_t row_group_bytes; /* buffered bytes before a row group is
				 * written; default 32 MiB */
	size_t page_bytes;      /* a data page's values; default 1 MiB */
	size_t dict_bytes;      /* a column chunk's dictionary; past it the
				 * chunk falls back to PLAIN; default 1 MiB */
	int no_dict;            /* never dictionary-encode */
	const char *created_by; /* default "barge version <v>" */
};

/* Where the bytes go: 0, or a negative code with the error set. */
typedef int (*parquet_sink_fn)(void *ctx, const void *p, size_t n);

struct parquet_writer;

/*
 * A writer of `ncols` columns into `sink`. Writes the leading magic at
 * once. The caller frees it with parquet_writer_free (after close, or
 * instead of it to abandon the file: the sink then holds a file without
 * a footer, which no reader accepts).
 */
int parquet_writer_new(struct parquet_writer **out,
		       const struct parquet_col *cols, size_t ncols,
		       const struct parquet_opts *opts, parquet_sink_fn sink,
		       void *ctx);
/* The same, writing to a stdio stream or a file descriptor (the caller
 * keeps either open until parquet_writer_free, and closes it). */
int parquet_writer_new_file(struct parquet_writer **out,
			    const struct parquet_col *cols, size_t ncols,
			    const struct parquet_opts *opts, FILE *f);
int parquet_writer_new_fd(struct parquet_writer **out,
			  const struct parquet_col *cols, size_t ncols,
			  const struct parquet_opts *opts, int fd);

/*
 * Add one row: vals[i] for column i (vals[i].null for NULL). A value the
 * column cannot hold exactly is BARGE_EDATA naming the column, and the
 * row is not added (the writer goes on). Any other failure (the sink,
 * a codec, a buffer cap) leaves the writer failed: every later call
 * returns that failure.
 */
int parquet_writer_add_row(struct parquet_writer *w,
			   const struct barge_value *vals);
/* Write the last row group and the footer. */
int parquet_writer_close(struct parquet_writer *w);
void parquet_writer_free(struct parquet_writer *w); /* accepts NULL */

/* Rows added, bytes handed to the sink so far. */
int64_t parquet_writer_rows(const struct parquet_writer *w);
int64_t parquet_writer_bytes(const struct parquet_writer *w);

#endif
