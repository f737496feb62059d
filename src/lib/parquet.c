/*
 * The Parquet writer (parquet.h, docs/parquet.md). Rows come in as barge
 * values; each column builds data pages (v1) of PLAIN values or
 * dictionary indices, with RLE definition levels when it is nullable,
 * compresses each page as it is finished and keeps the column chunk's
 * pages in memory until the row group is full (by rows or bytes). The
 * row group then goes to the sink column by column, a dictionary page
 * first where the chunk used one, and its metadata is kept for the footer
 * that close writes. Memory is about one row group's compressed pages,
 * whatever the file's size.
 *
 * A row is converted in full before any column takes it, so a value the
 * file cannot hold exactly refuses the row and leaves the file as it was.
 */
#include "parquet_int.h"

#include <errno.h>
#include <math.h>
#include <snappy-c.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#define PQ_RG_ROWS 131072
#define PQ_RG_BYTES (32u << 20)
#define PQ_PAGE_BYTES (1u << 20)
#define PQ_DICT_BYTES (1u << 20)
#define PQ_BUF_CAP ((size_t)1 << 30) /* a page's i32 sizes: stay far below */
#define PQ_STAT_MAX 64 /* longer byte-array min/max are left out */

/* A growable array of 32-bit values (levels, dictionary indices). */
struct u32vec {
	uint32_t *v;
	size_t n, cap;
};

static int u32_push(struct u32vec *a, uint32_t x)
{
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 1024;
		uint32_t *v = realloc(a->v, cap * sizeof *v);
		if (!v)
			return barge_error_set(BARGE_ENOMEM, "parquet: out of memory");
		a->v = v;
		a->cap = cap;
	}
	a->v[a->n++] = x;
	return 0;
}

/* One value, converted for its column: PLAIN bytes (without the length
 * of a BYTE_ARRAY) and the number the statistics compare. */
struct pq_cell {
	int null;
	const uint8_t *p;
	size_t n;
	int64_t i;
	double f;
	uint8_t le[8];
};

/* A column: its page being built, its chunk's pages and statistics. */
struct pq_col {
	struct parquet_col c; /* c.name owned */
	int phys;
	size_t type_len;      /* FIXED_LEN_BYTE_ARRAY width */
	int order;            /* enum pq_order */
	uint8_t *scratch;     /* a FIXED decimal's bytes (type_len) */

	/* the page being built */
	struct u32vec defs;   /* definition levels (nullable columns) */
	struct u32vec idx;    /* dictionary indices (dictionary pages) */
	struct barge_buf vals; /* PLAIN values (plain pages) */
	size_t page_values;   /* nulls included */
	int bool_bits;        /* BOOLEAN: bits used in vals' last byte */

	/* the column chunk (this row group) */
	struct pq_dict dict;
	int dict_mode;        /* values go to the dictionary */
	int dict_used, plain_used;
	int64_t dict_values;  /* non-null values written through it */
	struct barge_buf pages; /* finished pages with their headers */
	int64_t unc_size;
	int64_t num_values;

	/* statistics of the chunk */
	int64_t nulls, nans;
	int has_minmax;
	int64_t imin, imax;
	double fmin, fmax;
	struct barge_buf bmin, bmax;
};

struct parquet_writer {
	struct parquet_opts o;
	parquet_sink_fn sink;
	void *ctx;
	FILE *file; /* the sinks of parquet_writer_new_file / _fd */
	int fd;
	size_t ncols;
	struct pq_col *cols;
	struct pq_cell *cells;
	int64_t offset;       /* bytes handed to the sink */
	int64_t rows;         /* rows added */
	int64_t rg_rows;      /* rows in the row group being built */
	struct barge_buf rgs; /* the written row groups' RowGroup structs */
	size_t nrgs;
	struct barge_buf body, head; /* a page's body, a page's header */
	uint8_t *z;           /* compressed bytes */
	size_t zcap;
	ZSTD_CCtx *zstd;
	int failed;           /* sticky: the first failure's code */
	char errmsg[256];
	int closed;
};

int parquet_codec_parse(int *out, const char *name)
{
	static const struct {
		const char *name;
		int codec;
	} codecs[] = {{"none", PARQUET_CODEC_NONE},
		      {"snappy", PARQUET_CODEC_SNAPPY},
		      {"gzip", PARQUET_CODEC_GZIP},
		      {"zstd", PARQUET_CODEC_ZSTD}};
	for (size_t i = 0; i < sizeof codecs / sizeof codecs[0]; i++) {
		if (strcmp(name, codecs[i].name) == 0) {
			*out = codecs[i].codec;
			return 0;
		}
	}
	return barge_error_set(BARGE_EUSAGE,
			       "parquet: unknown compression \"%s\" (none, snappy, gzip or zstd)",
			       name);
}

void parquet_col_from_def(struct parquet_col *out,
			  const struct barge_column_def *d)
{
	memset(out, 0, sizeof *out);
	out->name = d->name;
	out->type = d->type;
	out->nullable = !d->notnull;
	if (d->type == BARGE_T_DECIMAL) {
		out->precision = d->precision;
		out->scale = d->scale < 0 ? 0 : d->scale;
	}
}

/* ---- The schema ---------------------------------------------------------- */

/* Physical type, width and order of a column; BARGE_EUSAGE for a column
 * the format cannot hold. */
static int col_layout(struct pq_col *k)
{
	const struct parquet_col *c = &k->c;
	int bits = c->int_bits ? c->int_bits : 64;
	switch (c->type) {
	case BARGE_T_BOOL:
		k->phys = PQ_BOOLEAN;
		k->order = PQ_ORD_BOOL;
		return 0;
	case BARGE_T_INT64:
		if (bits != 8 && bits != 16 && bits != 32 && bits != 64)
			break;
		k->phys = bits == 64 ? PQ_INT64 : PQ_INT32;
		k->order = bits == 64 ? (c->is_unsigned ? PQ_ORD_U64 : PQ_ORD_I64)
				      : (c->is_unsigned ? PQ_ORD_U32 : PQ_ORD_I32);
		return 0;
	case BARGE_T_FLOAT64:
		k->phys = c->float32 ? PQ_FLOAT : PQ_DOUBLE;
		k->order = c->float32 ? PQ_ORD_FLOAT : PQ_ORD_DOUBLE;
		return 0;
	case BARGE_T_DECIMAL:
		if (c->precision == 0) {
			k->phys = PQ_BYTE_ARRAY;
			k->order = PQ_ORD_BYTES;
			return 0;
		}
		if (c->precision < 0 || c->scale < 0 || c->scale > c->precision)
			break;
		if (c->precision <= 9) {
			k->phys = PQ_INT32;
			k->order = PQ_ORD_I32;
		} else if (c->precision <= 18) {
			k->phys = PQ_INT64;
			k->order = PQ_ORD_I64;
		} else {
			k->phys = PQ_FIXED;
			k->type_len = pq_decimal_len(c->precision);
			k->order = PQ_ORD_DECIMAL_BE;
			k->scratch = malloc(k->type_len);
			if (!k->scratch)
				return barge_error_set(BARGE_ENOMEM, "parquet: out of memory");
		}
		return 0;
	case BARGE_T_TEXT:
	case BARGE_T_BYTES:
	case BARGE_T_JSON:
		k->phys = PQ_BYTE_ARRAY;
		k->order = PQ_ORD_BYTES;
		return 0;
	case BARGE_T_DATE:
		k->phys = PQ_INT32;
		k->order = PQ_ORD_I32;
		return 0;
	case BARGE_T_TIME:
	case BARGE_T_TIMESTAMP:
	case BARGE_T_TIMESTAMPTZ:
		k->phys = PQ_INT64;
		k->order = PQ_ORD_I64;
		return 0;
	case BARGE_T_UUID:
		k->phys = PQ_FIXED;
		k->type_len = 16;
		k->order = PQ_ORD_BYTES;
		return 0;
	case BARGE_T_ANY:
		return barge_error_set(BARGE_EUSAGE,
				       "parquet: column \"%s\" has no single type (its values carry their own); "
				       "map it to one type first",
				       c->name);
	}
	return barge_error_set(BARGE_EUSAGE,
			       "parquet: column \"%s\": %s%s cannot be written (bad width, precision or scale)",
			       c->name, barge_type_name((enum barge_type)c->type),
			       c->type == BARGE_T_INT64 ? " of that width" : "");
}

/* ---- Statistics ---------------------------------------------------------- */

static int cmp_i(int order, int64_t a, int64_t b)
{
	switch (order) {
	case PQ_ORD_U32:
		return (uint32_t)a < (uint32_t)b ? -1 : (uint32_t)a > (uint32_t)b;
	case PQ_ORD_U64:
		return (uint64_t)a < (uint64_t)b ? -1 : (uint64_t)a > (uint64_t)b;
	default:
		return a < b ? -1 : a > b;
	}
}

/* Byte strings: unsigned byte-wise; a two's complement big-endian
 * decimal compares its first byte signed. */
static int cmp_bytes(int order, const void *a, size_t an, const void *b,
		     size_t bn)
{
	if (order == PQ_ORD_DECIMAL_BE && an && bn) {
		int8_t x = (int8_t)((const uint8_t *)a)[0];
		int8_t y = (int8_t)((const uint8_t *)b)[0];
		if (x != y)
			return x < y ? -1 : 1;
	}
	int c = memcmp(a, b, an < bn ? an : bn);
	if (c)
		return c;
	return an < bn ? -1 : an > bn;
}

static int set_bytes(struct barge_buf *b, const void *p, size_t n)
{
	barge_buf_clear(b);
	return barge_buf_add(b, p, n);
}

static int stats_add(struct pq_col *k, const struct pq_cell *v)
{
	if (k->order == PQ_ORD_FLOAT || k->order == PQ_ORD_DOUBLE) {
		if (isnan(v->f)) {
			k->nans++;
			return 0;
		}
		if (!k->has_minmax || v->f < k->fmin)
			k->fmin = v->f;
		if (!k->has_minmax || v->f > k->fmax)
			k->fmax = v->f;
	} else if (k->order == PQ_ORD_BYTES || k->order == PQ_ORD_DECIMAL_BE) {
		if ((!k->has_minmax ||
		     cmp_bytes(k->order, v->p, v->n, k->bmin.p, k->bmin.len) < 0) &&
		    set_bytes(&k->bmin, v->p, v->n))
			return k->bmin.err;
		if ((!k->has_minmax ||
		     cmp_bytes(k->order, v->p, v->n, k->bmax.p, k->bmax.len) > 0) &&
		    set_bytes(&k->bmax, v->p, v->n))
			return k->bmax.err;
	} else {
		if (!k->has_minmax || cmp_i(k->order, v->i, k->imin) < 0)
			k->imin = v->i;
		if (!k->has_minmax || cmp_i(k->order, v->i, k->imax) > 0)
			k->imax = v->i;
	}
	k->has_minmax = 1;
	return 0;
}

/* PLAIN bytes of a number statistic into out (4 or 8 bytes, or 1 for a
 * boolean). */
static size_t stat_plain(const struct pq_col *k, int64_t i, double f,
			 uint8_t out[8])
{
	uint64_t u = (uint64_t)i;
	size_t n = 8;
	if (k->phys == PQ_FLOAT) {
		float g = (float)f;
		uint32_t x;
		memcpy(&x, &g, 4);
		u = x;
		n = 4;
	} else if (k->phys == PQ_DOUBLE) {
		memcpy(&u, &f, 8);
	} else if (k->phys == PQ_INT32) {
		n = 4;
	} else if (k->phys == PQ_BOOLEAN) {
		n = 1;
	}
	for (size_t b = 0; b < n; b++)
		out[b] = (uint8_t)(u >> (8 * b));
	return n;
}

/* The chunk's statistics for its metadata; min/max buffers in mm. A
 * float zero is written as -0.0 for a min and +0.0 for a max, NaNs are
 * left out and counted (parquet.thrift, ColumnOrder). */
static void stats_out(const struct pq_col *k, struct pq_stats_out *st,
		      uint8_t mm[2][8])
{
	memset(st, 0, sizeof *st);
	st->null_count = k->nulls;
	if (k->order == PQ_ORD_FLOAT || k->order == PQ_ORD_DOUBLE) {
		st->has_nan_count = 1;
		st->nan_count = k->nans;
	}
	if (!k->has_minmax)
		return;
	if (k->order == PQ_ORD_BYTES || k->order == PQ_ORD_DECIMAL_BE) {
		if (k->bmin.len > PQ_STAT_MAX || k->bmax.len > PQ_STAT_MAX)
			return;
		st->min = k->bmin.len ? (const void *)k->bmin.p : "";
		st->min_len = k->bmin.len;
		st->max = k->bmax.len ? (const void *)k->bmax.p : "";
		st->max_len = k->bmax.len;
		return;
	}
	double fmin = k->fmin == 0 ? -0.0 : k->fmin;
	double fmax = k->fmax == 0 ? 0.0 : k->fmax;
	st->min_len = stat_plain(k, k->imin, fmin, mm[0]);
	st->max_len = stat_plain(k, k->imax, fmax, mm[1]);
	st->min = mm[0];
	st->max = mm[1];
	st->legacy = k->order != PQ_ORD_U32 && k->order != PQ_ORD_U64;
}

static void stats_reset(struct pq_col *k)
{
	k->nulls = k->nans = 0;
	k->has_minmax = 0;
	barge_buf_clear(&k->bmin);
	barge_buf_clear(&k->bmax);
}

/* ---- Pages --------------------------------------------------------------- */

static int fail(struct parquet_writer *w, int rc)
{
	if (!w->failed) {
		w->failed = rc ? rc : BARGE_ERROR;
		snprintf(w->errmsg, sizeof w->errmsg, "%s", barge_error_last());
	}
	return w->failed;
}

static int zreserve(struct parquet_writer *w, size_t n)
{
	if (n <= w->zcap)
		return 0;
	uint8_t *z = realloc(w->z, n);
	if (!z)
		return barge_error_set(BARGE_ENOMEM, "parquet: out of memory for compression");
	w->z = z;
	w->zcap = n;
	return 0;
}

static int gzip_page(struct parquet_writer *w, const void *in, size_t n,
		     size_t *out_n)
{
	z_stream zs;
	memset(&zs, 0, sizeof zs);
	int level = w->o.level ? w->o.level : Z_DEFAULT_COMPRESSION;
	if (deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8,
			 Z_DEFAULT_STRATEGY) != Z_OK)
		return barge_error_set(BARGE_ERROR, "parquet: gzip: cannot start (level %d)",
				       w->o.level);
	int rc = zreserve(w, deflateBound(&zs, (uLong)n));
	if (rc == 0) {
		zs.next_in = (Bytef *)(uintptr_t)in;
		zs.avail_in = (uInt)n;
		zs.next_out = w->z;
		zs.avail_out = (uInt)w->zcap;
		if (deflate(&zs, Z_FINISH) != Z_STREAM_END)
			rc = barge_error_set(BARGE_ERROR, "parquet: gzip: %s",
					     zs.msg ? zs.msg : "deflate failed");
		*out_n = zs.total_out;
	}
	deflateEnd(&zs);
	return rc;
}

/* Compress n bytes at `in` with the writer's codec: *out points at the
 * result (`in` itself when uncompressed). */
static int compress_page(struct parquet_writer *w, const void *in, size_t n,
			 const void **out, size_t *out_n)
{
	int rc = 0;
	switch (w->o.codec) {
	case PARQUET_CODEC_NONE:
		*out = in;
		*out_n = n;
		return 0;
	case PARQUET_CODEC_SNAPPY: {
		size_t cap = snappy_max_compressed_length(n);
		if ((rc = zreserve(w, cap)))
			return rc;
		if (snappy_compress(in, n, (char *)w->z, &cap) != SNAPPY_OK)
			return barge_error_set(BARGE_ERROR, "parquet: snappy compression failed");
		*out_n = cap;
		break;
	}
	case PARQUET_CODEC_GZIP:
		if ((rc = gzip_page(w, in, n, out_n)))
			return rc;
		break;
	case PARQUET_CODEC_ZSTD: {
		if ((rc = zreserve(w, ZSTD_compressBound(n))))
			return rc;
		size_t z = ZSTD_compressCCtx(w->zstd, w->z, w->zcap, in, n,
					     w->o.level ? w->o.level : 3);
		if (ZSTD_isError(z))
			return barge_error_set(BARGE_ERROR, "parquet: zstd: %s",
					       ZSTD_getErrorName(z));
		*out_n = z;
		break;
	}
	}
	*out = w->z;
	return 0;
}

/* Compress a page body and append its header and bytes to `dst`; the
 * uncompressed size (header included) is added to *unc. */
static int emit_page(struct parquet_writer *w, struct barge_buf *dst,
		     struct pq_page_info *pi, const void *body, size_t n,
		     int64_t *unc)
{
	const void *z = NULL;
	size_t zn = 0;
	int rc = compress_page(w, body, n, &z, &zn);
	if (rc)
		return rc;
	if (n > INT32_MAX || zn > INT32_MAX)
		return barge_error_set(BARGE_ENOMEM, "parquet: a page passed 2 GiB");
	pi->uncompressed = n;
	pi->compressed = zn;
	pi->crc = (uint32_t)crc32(0L, z, (uInt)zn);
	barge_buf_clear(&w->head);
	if ((rc = pq_page_header(&w->head, pi)) ||
	    barge_buf_add(dst, w->head.p, w->head.len) ||
	    barge_buf_add(dst, z, zn))
		return rc ? rc : dst->err;
	*unc += (int64_t)(w->head.len + n);
	return 0;
}

/* Finish the column's page: levels, then values or dictionary indices. */
static int flush_page(struct parquet_writer *w, struct pq_col *k)
{
	if (!k->page_values)
		return 0;
	struct barge_buf *b = &w->body;
	barge_buf_clear(b);
	int rc = 0;
	if (k->c.nullable) {
		uint8_t len[4] = {0};
		if (barge_buf_add(b, len, 4) ||
		    (rc = pq_rle_encode(b, k->defs.v, k->defs.n, 1)))
			return rc ? rc : b->err;
		size_t n = b->len - 4;
		for (int i = 0; i < 4; i++)
			b->p[i] = (char)(n >> (8 * i));
	}
	struct pq_page_info pi = {.type = PQ_PAGE_DATA,
				  .num_values = (int32_t)k->page_values};
	if (k->dict_mode && k->idx.n) {
		int bw = pq_bit_width(k->dict.n - 1);
		uint8_t bwb = (uint8_t)(bw ? bw : 1);
		if (barge_buf_add(b, &bwb, 1) ||
		    (rc = pq_rle_encode(b, k->idx.v, k->idx.n, bwb)))
			return rc ? rc : b->err;
		pi.encoding = PQ_ENC_RLE_DICTIONARY;
		k->dict_used = 1;
	} else {
		if (barge_buf_add(b, k->vals.p, k->vals.len))
			return b->err;
		pi.encoding = PQ_ENC_PLAIN;
		k->plain_used = 1;
	}
	if ((rc = emit_page(w, &k->pages, &pi, b->p, b->len, &k->unc_size)))
		return rc;
	k->num_values += (int64_t)k->page_values;
	k->page_values = 0;
	k->defs.n = k->idx.n = 0;
	barge_buf_clear(&k->vals);
	k->bool_bits = 0;
	/* A dictionary that grew past its bound, or holds more than half of
	 * the values it encoded, is not paying: PLAIN for the rest of the
	 * chunk (its earlier pages keep the dictionary). */
	if (k->dict_mode && (k->dict.plain.len > w->o.dict_bytes ||
			     2 * (int64_t)k->dict.n > k->dict_values))
		k->dict_mode = 0;
	return 0;
}

/* Bytes a column holds for the row group being built. */
static size_t col_buffered(const struct pq_col *k)
{
	return k->pages.len + k->vals.len + k->dict.plain.len +
	       (k->idx.n + k->defs.n) / 2;
}

/* A non-NULL value into the page: its statistics, then a bit, a
 * dictionary index or PLAIN bytes. */
static int col_add_value(struct parquet_writer *w, struct pq_col *k,
			 const struct pq_cell *v)
{
	int rc;
	if ((rc = stats_add(k, v)))
		return rc;
	if (k->phys == PQ_BOOLEAN) {
		if (k->bool_bits == 0 && barge_buf_add(&k->vals, "", 1))
			return k->vals.err;
		if (v->i)
			k->vals.p[k->vals.len - 1] |= (char)(1u << k->bool_bits);
		k->bool_bits = (k->bool_bits + 1) & 7;
	} else if (k->dict_mode) {
		uint32_t ix;
		if ((rc = pq_dict_put(&k->dict, v->p, v->n, &ix)) ||
		    (rc = u32_push(&k->idx, ix)))
			return rc;
		k->dict_values++;
		/* and fall back to PLAIN (flush_page decides) when the
		 * dictionary passed its bound, or is not paying after the
		 * first few thousand values */
		if (k->dict.plain.len > w->o.dict_bytes ||
		    (k->dict_values % 8192 == 0 &&
		     2 * (int64_t)k->dict.n > k->dict_values))
			return flush_page(w, k);
	} else {
		if (k->phys == PQ_BYTE_ARRAY) {
			uint8_t le[4] = {(uint8_t)v->n, (uint8_t)(v->n >> 8),
					 (uint8_t)(v->n >> 16),
					 (uint8_t)(v->n >> 24)};
			if (barge_buf_add(&k->vals, le, 4))
				return k->vals.err;
		}
		if (barge_buf_add(&k->vals, v->p, v->n))
			return k->vals.err;
	}
	return 0;
}

/* One value (converted) into its column's page; the page is finished
 * once its values and levels pass the page size. */
static int col_add(struct parquet_writer *w, struct pq_col *k,
		   const struct pq_cell *v)
{
	int rc;
	if (k->c.nullable && (rc = u32_push(&k->defs, v->null ? 0 : 1)))
		return rc;
	k->page_values++;
	if (v->null)
		k->nulls++;
	else if ((rc = col_add_value(w, k, v)))
		return rc;
	size_t est = k->vals.len + k->idx.n * 2 + k->defs.n / 4;
	if (est >= w->o.page_bytes)
		return flush_page(w, k);
	return 0;
}

/* ---- Row groups and the footer -------------------------------------------- */

static int sink_write(struct parquet_writer *w, const void *p, size_t n)
{
	int rc = w->sink(w->ctx, p, n);
	if (rc)
		return rc;
	w->offset += (int64_t)n;
	return 0;
}

static void col_chunk_reset(struct parquet_writer *w, struct pq_col *k)
{
	barge_buf_clear(&k->pages);
	pq_dict_clear(&k->dict);
	k->dict_mode = !w->o.no_dict && k->phys != PQ_BOOLEAN;
	k->dict_used = k->plain_used = 0;
	k->dict_values = 0;
	k->unc_size = k->num_values = 0;
	stats_reset(k);
}

/* Write one column chunk to the sink and its ColumnChunk into `t`. */
static int write_chunk(struct parquet_writer *w, struct pq_col *k,
		       struct pqt *t, int64_t *unc, int64_t *comp)
{
	int rc;
	int64_t start = w->offset;
	struct pq_chunk_info ci = {.phys = k->phys, .name = k->c.name,
				   .codec = w->o.codec, .dict_page_offset = -1};
	if (k->dict_used) {
		struct pq_page_info pi = {.type = PQ_PAGE_DICTIONARY,
					  .num_values = (int32_t)k->dict.n,
					  .encoding = PQ_ENC_PLAIN};
		barge_buf_clear(&w->body);
		if ((rc = emit_page(w, &w->body, &pi, k->dict.plain.p,
				    k->dict.plain.len, &k->unc_size)) ||
		    (rc = sink_write(w, w->body.p, w->body.len)))
			return rc;
		ci.dict_page_offset = start;
	}
	ci.data_page_offset = w->offset;
	if ((rc = sink_write(w, k->pages.p, k->pages.len)))
		return rc;
	ci.num_values = k->num_values;
	ci.unc_size = k->unc_size;
	ci.comp_size = w->offset - start;
	ci.plain_used = k->plain_used;
	ci.dict_used = k->dict_used;
	ci.levels_used = k->c.nullable;
	uint8_t mm[2][8];
	stats_out(k, &ci.st, mm);
	pq_column_chunk(t, &ci);
	*unc += ci.unc_size;
	*comp += ci.comp_size;
	return 0;
}

/*
 * The row group being built, to the sink. RowGroup: 1 columns,
 * 2 total_byte_size, 3 num_rows, 5 file_offset, 6 total_compressed_size;
 * kept in w->rgs (a list element each) for the footer.
 */
static int flush_row_group(struct parquet_writer *w)
{
	int rc;
	if (!w->rg_rows)
		return 0;
	for (size_t i = 0; i < w->ncols; i++)
		if ((rc = flush_page(w, &w->cols[i])))
			return rc;
	int64_t start = w->offset, unc = 0, comp = 0;
	struct pqt t;
	pqt_init(&t, &w->rgs);
	pqt_struct_begin(&t, 0);
	pqt_list(&t, 1, PQT_STRUCT, w->ncols);
	for (size_t i = 0; i < w->ncols; i++) {
		if ((rc = write_chunk(w, &w->cols[i], &t, &unc, &comp)))
			return rc;
		col_chunk_reset(w, &w->cols[i]);
	}
	pqt_i64(&t, 2, unc);
	pqt_i64(&t, 3, w->rg_rows);
	pqt_i64(&t, 5, start);
	pqt_i64(&t, 6, comp);
	pqt_struct_end(&t);
	if (w->rgs.err)
		return w->rgs.err;
	w->nrgs++;
	w->rg_rows = 0;
	return 0;
}

/*
 * FileMetaData: 1 version, 2 schema (the root, then a leaf a column),
 * 3 num_rows, 4 row_groups, 6 created_by, 7 column_orders (TYPE_ORDER
 * each); then its length and the magic.
 */
static int write_footer(struct parquet_writer *w)
{
	struct barge_buf *b = &w->body;
	struct pqt t;
	barge_buf_clear(b);
	pqt_init(&t, b);
	pqt_i32(&t, 1, 1);
	pqt_list(&t, 2, PQT_STRUCT, w->ncols + 1);
	pqt_struct_begin(&t, 0);
	pqt_string(&t, 4, "schema");
	pqt_i32(&t, 5, (int32_t)w->ncols);
	pqt_struct_end(&t);
	for (size_t i = 0; i < w->ncols; i++)
		pq_schema_leaf(&t, &w->cols[i].c, w->cols[i].phys,
			       w->cols[i].type_len);
	pqt_i64(&t, 3, w->rows);
	pqt_list(&t, 4, PQT_STRUCT, w->nrgs);
	barge_buf_add(b, w->rgs.p, w->rgs.len);
	char by[64];
	snprintf(by, sizeof by, "barge version %s", barge_version());
	pqt_string(&t, 6, w->o.created_by ? w->o.created_by : by);
	pqt_list(&t, 7, PQT_STRUCT, w->ncols);
	for (size_t i = 0; i < w->ncols; i++) {
		pqt_struct_begin(&t, 0);
		pqt_struct_begin(&t, 1); /* TYPE_ORDER, an empty struct */
		pqt_struct_end(&t);
		pqt_struct_end(&t);
	}
	uint8_t stop = 0;
	barge_buf_add(b, &stop, 1);
	if (b->err)
		return b->err;
	uint8_t tail[8] = {(uint8_t)b->len, (uint8_t)(b->len >> 8),
			   (uint8_t)(b->len >> 16), (uint8_t)(b->len >> 24),
			   'P', 'A', 'R', '1'};
	int rc = sink_write(w, b->p, b->len);
	return rc ? rc : sink_write(w, tail, sizeof tail);
}

/* ---- Values --------------------------------------------------------------- */

static void put_le(struct pq_cell *v, uint64_t u, size_t n)
{
	for (size_t b = 0; b < n; b++)
		v->le[b] = (uint8_t)(u >> (8 * b));
	v->p = v->le;
	v->n = n;
}

static int refuse(const struct pq_col *k, const char *why)
{
	return barge_error_set(BARGE_EDATA, "parquet: column \"%s\" (%s): a value %s",
			       k->c.name, barge_type_name((enum barge_type)k->c.type),
			       why);
}

/* An integer into a column of `bits` (8..64), signed or not. */
static int conv_int(const struct pq_col *k, struct pq_cell *v, int64_t x)
{
	int bits = k->c.int_bits ? k->c.int_bits : 64;
	if (bits < 64) {
		int64_t lo = k->c.is_unsigned ? 0 : -((int64_t)1 << (bits - 1));
		int64_t hi = k->c.is_unsigned ? ((int64_t)1 << bits) - 1
					      : ((int64_t)1 << (bits - 1)) - 1;
		if (x < lo || x > hi)
			return refuse(k, "is out of the column's integer range");
	} else if (k->c.is_unsigned && x < 0) {
		return refuse(k, "is negative in an unsigned column");
	}
	v->i = k->phys == PQ_INT32 ? (int64_t)(int32_t)(uint32_t)x : x;
	put_le(v, (uint64_t)x, k->phys == PQ_INT32 ? 4 : 8);
	return 0;
}

static int conv_decimal(const struct pq_col *k, struct pq_cell *v,
			const struct barge_value *x)
{
	const char *why = NULL;
	if (k->phys == PQ_BYTE_ARRAY) { /* unconstrained: the exact text */
		v->p = (const uint8_t *)x->p;
		v->n = x->n;
		return 0;
	}
	if (k->phys == PQ_FIXED) {
		if (pq_decimal_to_be(k->scratch, k->type_len, x->p, x->n,
				     k->c.precision, k->c.scale, &why))
			return refuse(k, why);
		v->p = k->scratch;
		v->n = k->type_len;
		return 0;
	}
	uint8_t be[8];
	size_t len = k->phys == PQ_INT32 ? 4 : 8;
	if (pq_decimal_to_be(be, len, x->p, x->n, k->c.precision, k->c.scale,
			     &why))
		return refuse(k, why);
	uint64_t u = 0;
	for (size_t b = 0; b < len; b++)
		u = u << 8 | be[b];
	v->i = len == 4 ? (int64_t)(int32_t)(uint32_t)u : (int64_t)u;
	put_le(v, u, len);
	return 0;
}

/* A value into the column's PLAIN bytes and statistics number. */
static int conv(const struct pq_col *k, struct pq_cell *v,
		const struct barge_value *x)
{
	memset(v, 0, sizeof *v);
	if (x->null) {
		if (!k->c.nullable)
			return refuse(k, "is NULL in a column that is not nullable");
		v->null = 1;
		return 0;
	}
	if ((int)x->type != k->c.type)
		return barge_error_set(BARGE_EDATA,
				       "parquet: column \"%s\" (%s): a value of type %s",
				       k->c.name, barge_type_name((enum barge_type)k->c.type),
				       barge_type_name(x->type));
	switch (k->c.type) {
	case BARGE_T_BOOL:
		v->i = x->i != 0;
		return 0;
	case BARGE_T_INT64:
		return conv_int(k, v, x->i);
	case BARGE_T_FLOAT64:
		v->f = x->f;
		if (k->phys == PQ_FLOAT) {
			float g = (float)x->f;
			if (!isnan(x->f) && (double)g != x->f)
				return refuse(k, "does not fit a 32-bit float exactly");
			uint32_t u;
			memcpy(&u, &g, 4);
			put_le(v, u, 4);
		} else {
			uint64_t u;
			memcpy(&u, &x->f, 8);
			put_le(v, u, 8);
		}
		return 0;
	case BARGE_T_DECIMAL:
		return conv_decimal(k, v, x);
	case BARGE_T_DATE:
		if (x->i < INT32_MIN || x->i > INT32_MAX)
			return refuse(k, "is out of Parquet's DATE range");
		v->i = x->i;
		put_le(v, (uint64_t)x->i, 4);
		return 0;
	case BARGE_T_TIME:
	case BARGE_T_TIMESTAMP:
	case BARGE_T_TIMESTAMPTZ:
		v->i = x->i;
		put_le(v, (uint64_t)x->i, 8);
		return 0;
	case BARGE_T_UUID:
		if (x->n != 16)
			return refuse(k, "is not 16 bytes");
		/* fall through */
	default: /* TEXT, BYTES, JSON */
		if (x->n > UINT32_MAX)
			return refuse(k, "is longer than 4 GiB");
		if ((k->c.type == BARGE_T_TEXT || k->c.type == BARGE_T_JSON) &&
		    !barge_utf8_valid(x->p, x->n))
			return refuse(k, "is not valid UTF-8 (Parquet strings are UTF-8)");
		v->p = (const uint8_t *)x->p;
		v->n = x->n;
		return 0;
	}
}

/* ---- The writer ------------------------------------------------------------ */

static int file_sink(void *ctx, const void *p, size_t n)
{
	struct parquet_writer *w = ctx;
	if (fwrite(p, 1, n, w->file) != n)
		return barge_error_set(BARGE_ERROR, "parquet: write failed: %s",
				       strerror(errno));
	return 0;
}

static int fd_sink(void *ctx, const void *p, size_t n)
{
	struct parquet_writer *w = ctx;
	const char *c = p;
	while (n) {
		ssize_t k = write(w->fd, c, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return barge_error_set(BARGE_ERROR, "parquet: write failed: %s",
					       strerror(errno));
		c += k;
		n -= (size_t)k;
	}
	return 0;
}

static void col_dispose(struct pq_col *k)
{
	free((char *)k->c.name);
	free(k->scratch);
	free(k->defs.v);
	free(k->idx.v);
	barge_buf_dispose(&k->vals);
	pq_dict_dispose(&k->dict);
	barge_buf_dispose(&k->pages);
	barge_buf_dispose(&k->bmin);
	barge_buf_dispose(&k->bmax);
}

void parquet_writer_free(struct parquet_writer *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < w->ncols; i++)
		col_dispose(&w->cols[i]);
	free(w->cols);
	free(w->cells);
	barge_buf_dispose(&w->rgs);
	barge_buf_dispose(&w->body);
	barge_buf_dispose(&w->head);
	free(w->z);
	ZSTD_freeCCtx(w->zstd);
	free(w);
}

static int col_init(struct parquet_writer *w, struct pq_col *k,
		    const struct parquet_col *c)
{
	k->c = *c;
	k->c.name = strdup(c->name ? c->name : "");
	if (!k->c.name)
		return barge_error_set(BARGE_ENOMEM, "parquet: out of memory");
	barge_buf_init(&k->vals, PQ_BUF_CAP);
	barge_buf_init(&k->pages, SIZE_MAX);
	barge_buf_init(&k->bmin, PQ_BUF_CAP);
	barge_buf_init(&k->bmax, PQ_BUF_CAP);
	int rc = col_layout(k);
	if (rc)
		return rc;
	pq_dict_init(&k->dict, k->phys == PQ_BYTE_ARRAY ? 0
			       : k->phys == PQ_FIXED	? k->type_len
			       : k->phys == PQ_INT32 || k->phys == PQ_FLOAT ? 4
									      : 8);
	col_chunk_reset(w, k);
	return 0;
}

static int writer_open(struct parquet_writer *w, const struct parquet_col *cols,
		       size_t ncols, const struct parquet_opts *opts)
{
	if (opts)
		w->o = *opts;
	if (!w->o.row_group_rows)
		w->o.row_group_rows = PQ_RG_ROWS;
	if (!w->o.row_group_bytes)
		w->o.row_group_bytes = PQ_RG_BYTES;
	if (!w->o.page_bytes)
		w->o.page_bytes = PQ_PAGE_BYTES;
	if (!w->o.dict_bytes)
		w->o.dict_bytes = PQ_DICT_BYTES;
	if (w->o.codec != PARQUET_CODEC_NONE && w->o.codec != PARQUET_CODEC_SNAPPY &&
	    w->o.codec != PARQUET_CODEC_GZIP && w->o.codec != PARQUET_CODEC_ZSTD)
		return barge_error_set(BARGE_EUSAGE, "parquet: unknown codec %d",
				       w->o.codec);
	if (w->o.codec == PARQUET_CODEC_ZSTD && !(w->zstd = ZSTD_createCCtx()))
		return barge_error_set(BARGE_ENOMEM, "parquet: out of memory for zstd");
	if (!ncols)
		return barge_error_set(BARGE_EUSAGE, "parquet: a file needs at least one column");
	barge_buf_init(&w->rgs, SIZE_MAX);
	barge_buf_init(&w->body, PQ_BUF_CAP * 2);
	barge_buf_init(&w->head, 1024);
	w->cols = calloc(ncols, sizeof *w->cols);
	w->cells = calloc(ncols, sizeof *w->cells);
	if (!w->cols || !w->cells)
		return barge_error_set(BARGE_ENOMEM, "parquet: out of memory");
	for (size_t i = 0; i < ncols; i++) {
		w->ncols = i + 1;
		int rc = col_init(w, &w->cols[i], &cols[i]);
		if (rc)
			return rc;
	}
	return sink_write(w, "PAR1", 4);
}

/* A writer into `sink` (or, when `file` or `fd` is set, into them). */
static int writer_new(struct parquet_writer **out,
		      const struct parquet_col *cols, size_t ncols,
		      const struct parquet_opts *opts, parquet_sink_fn sink,
		      void *ctx, FILE *file, int fd)
{
	*out = NULL;
	struct parquet_writer *w = calloc(1, sizeof *w);
	if (!w)
		return barge_error_set(BARGE_ENOMEM, "parquet: out of memory");
	w->sink = file ? file_sink : fd >= 0 ? fd_sink : sink;
	w->ctx = file || fd >= 0 ? w : ctx;
	w->file = file;
	w->fd = fd;
	int rc = writer_open(w, cols, ncols, opts);
	if (rc) {
		parquet_writer_free(w);
		return rc;
	}
	*out = w;
	return 0;
}

int parquet_writer_new(struct parquet_writer **out,
		       const struct parquet_col *cols, size_t ncols,
		       const struct parquet_opts *opts, parquet_sink_fn sink,
		       void *ctx)
{
	return writer_new(out, cols, ncols, opts, sink, ctx, NULL, -1);
}

int parquet_writer_new_file(struct parquet_writer **out,
			    const struct parquet_col *cols, size_t ncols,
			    const struct parquet_opts *opts, FILE *f)
{
	return writer_new(out, cols, ncols, opts, NULL, NULL, f, -1);
}

int parquet_writer_new_fd(struct parquet_writer **out,
			  const struct parquet_col *cols, size_t ncols,
			  const struct parquet_opts *opts, int fd)
{
	return writer_new(out, cols, ncols, opts, NULL, NULL, NULL, fd);
}

static int failed_again(const struct parquet_writer *w)
{
	if (w->closed && !w->failed)
		return barge_error_set(BARGE_EUSAGE, "parquet: the writer is closed");
	return barge_error_set(w->failed, "%s", w->errmsg);
}

int parquet_writer_add_row(struct parquet_writer *w,
			   const struct barge_value *vals)
{
	if (w->failed || w->closed)
		return failed_again(w);
	for (size_t i = 0; i < w->ncols; i++) {
		int rc = conv(&w->cols[i], &w->cells[i], &vals[i]);
		if (rc)
			return rc; /* the row is refused, the file unchanged */
	}
	size_t buffered = 0;
	for (size_t i = 0; i < w->ncols; i++) {
		int rc = col_add(w, &w->cols[i], &w->cells[i]);
		if (rc)
			return fail(w, rc);
		buffered += col_buffered(&w->cols[i]);
	}
	w->rows++;
	w->rg_rows++;
	if (w->rg_rows >= (int64_t)w->o.row_group_rows ||
	    buffered >= w->o.row_group_bytes) {
		int rc = flush_row_group(w);
		if (rc)
			return fail(w, rc);
	}
	return 0;
}

int parquet_writer_close(struct parquet_writer *w)
{
	if (w->failed || w->closed)
		return failed_again(w);
	int rc = flush_row_group(w);
	if (!rc)
		rc = write_footer(w);
	if (!rc && w->file && fflush(w->file) != 0)
		rc = barge_error_set(BARGE_ERROR, "parquet: write failed: %s",
				     strerror(errno));
	w->closed = 1;
	return rc ? fail(w, rc) : 0;
}

int64_t parquet_writer_rows(const struct parquet_writer *w)
{
	return w->rows;
}

int64_t parquet_writer_bytes(const struct parquet_writer *w)
{
	return w->offset;
}
