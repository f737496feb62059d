/*
 * Parquet parts (docs/files.md, docs/parquet.md): each part is one
 * Parquet file written by barge's encoder (src/lib/parquet.c), one
 * column per table column with the table's types, NOT NULL columns
 * REQUIRED. The encoder's bytes go straight to the part's sink, so the
 * sink's SHA-256 and byte count are of the file as written. The URL's
 * compression is the Parquet codec of every page (none, snappy, gzip,
 * zstd), never a wrapper around the file: the part is part-000042.parquet
 * whatever the codec. A column the encoder cannot hold (a SQLite column
 * of no declared type) is refused when the table's schema is written,
 * before any part.
 */
#include "file_int.h"
#include "parquet.h"

#include <stdlib.h>

static int pq_codec(int comp)
{
	switch (comp) {
	case FILE_COMP_GZIP: return PARQUET_CODEC_GZIP;
	case FILE_COMP_ZSTD: return PARQUET_CODEC_ZSTD;
	case FILE_COMP_SNAPPY: return PARQUET_CODEC_SNAPPY;
	default: return PARQUET_CODEC_NONE;
	}
}

static int pq_sink(void *ctx, const void *p, size_t n)
{
	return file_sink_write(ctx, p, n);
}

static int pq_discard(void *ctx, const void *p, size_t n)
{
	(void)ctx, (void)p, (void)n;
	return 0;
}

/* A writer of the table's columns into `sink` (ctx). */
static int pq_open(struct parquet_writer **out, const struct file_opts *o,
		   const struct barge_table_def *t, parquet_sink_fn sink, void *ctx)
{
	struct parquet_opts po = {.codec = pq_codec(o->comp), .level = o->level};
	struct parquet_col *cols = calloc(t->ncols ? t->ncols : 1, sizeof *cols);
	int err;
	if (!cols)
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	for (size_t i = 0; i < t->ncols; i++)
		parquet_col_from_def(&cols[i], &t->cols[i]);
	err = parquet_writer_new(out, cols, t->ncols, &po, sink, ctx);
	free(cols);
	if (err < 0)
		return barge_error_wrap(err, "file: table '%s'", t->name);
	return 0;
}

static int pq_check(const struct file_opts *o, const struct barge_table_def *t)
{
	struct parquet_writer *w = NULL;
	int err = pq_open(&w, o, t, pq_discard, NULL);
	parquet_writer_free(w);
	return err;
}

static int pq_begin(struct file_enc *e, struct barge_buf *out)
{
	(void)out;
	return pq_open((struct parquet_writer **)&e->priv, e->o, e->t, pq_sink,
		       e->sink);
}

static int pq_row(struct file_enc *e, const struct barge_value *vals,
		  struct barge_buf *out)
{
	(void)out;
	return parquet_writer_add_row(e->priv, vals);
}

static int pq_end(struct file_enc *e, struct barge_buf *out)
{
	(void)out;
	return parquet_writer_close(e->priv);
}

static void pq_dispose(struct file_enc *e)
{
	parquet_writer_free(e->priv);
}

const struct file_format file_parquet_format = {
	.name = "parquet",
	.ext = "parquet",
	.own_codec = 1,
	.check = pq_check,
	.begin = pq_begin,
	.row = pq_row,
	.end = pq_end,
	.dispose = pq_dispose,
};
