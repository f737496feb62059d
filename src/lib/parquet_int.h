/*
 * The Parquet writer's private header, shared by its pieces:
 *   parquet.c         the writer: schema, rows, pages, row groups, footer
 *   parquet_enc.c     encoders: varints, zigzag, the RLE/bit-packing
 *                     hybrid, decimal text to unscaled integers, the
 *                     dictionary
 *   parquet_thrift.c  the Thrift compact protocol, and the format's
 *                     structs built with it (page headers, column
 *                     metadata, statistics, the schema)
 * Names follow parquet.thrift where they stand for its fields. Nothing
 * here is shared between threads.
 */
#ifndef BARGE_PARQUET_INT_H
#define BARGE_PARQUET_INT_H

#include "parquet.h"
#include "util.h"

#include <stddef.h>
#include <stdint.h>

/* parquet.thrift's Type */
enum pq_phys {
	PQ_BOOLEAN = 0,
	PQ_INT32 = 1,
	PQ_INT64 = 2,
	PQ_FLOAT = 4,
	PQ_DOUBLE = 5,
	PQ_BYTE_ARRAY = 6,
	PQ_FIXED = 7,
};

/* parquet.thrift's Encoding and PageType */
enum { PQ_ENC_PLAIN = 0, PQ_ENC_RLE = 3, PQ_ENC_RLE_DICTIONARY = 8 };
enum { PQ_PAGE_DATA = 0, PQ_PAGE_DICTIONARY = 2 };

/* How a column's statistics order its values (parquet.thrift's
 * ColumnOrder, TYPE_ORDER, spelled out per physical representation). */
enum pq_order {
	PQ_ORD_BOOL,      /* false < true */
	PQ_ORD_I32,       /* signed */
	PQ_ORD_U32,       /* unsigned: UINT_8/16/32 */
	PQ_ORD_I64,
	PQ_ORD_U64,
	PQ_ORD_FLOAT,     /* by value; NaN left out, counted */
	PQ_ORD_DOUBLE,
	PQ_ORD_BYTES,     /* unsigned byte-wise, then shorter first */
	PQ_ORD_DECIMAL_BE /* two's complement big-endian: signed value */
};

/* ---- parquet_enc.c ------------------------------------------------------ */

uint64_t pq_zigzag(int64_t v);
/* ULEB128 of v into out (at most 10 bytes); returns its length. */
size_t pq_uvarint(uint8_t *out, uint64_t v);
/* Bits needed for `max` (0 for 0). */
int pq_bit_width(uint64_t max);
/*
 * The RLE/bit-packing hybrid (Encodings.md) of n values of `bw` bits
 * (1..32), appended to `out` without a length prefix. Runs of 8 or more
 * equal values become RLE runs; the rest bit-packed groups of 8, the last
 * one padded with zeros (the reader knows the count).
 */
int pq_rle_encode(struct barge_buf *out, const uint32_t *v, size_t n, int bw);

/*
 * A decimal's text ("-?digits[.digits]") at `scale`: the unscaled integer
 * as big-endian two's complement in `len` bytes (len 4 and 8 are also what
 * INT32/INT64 decimals hold). 0, or 1 with `why` set when the value is not
 * a number, has more digits than `precision`, or has non-zero digits past
 * `scale`. No error is set: the caller names the column.
 */
int pq_decimal_to_be(uint8_t *out, size_t len, const char *p, size_t n,
		     int precision, int scale, const char **why);
/* Bytes of a FIXED_LEN_BYTE_ARRAY for a decimal of `precision` digits. */
size_t pq_decimal_len(int precision);

/*
 * A column chunk's dictionary: distinct values in PLAIN encoding (the
 * dictionary page's body) and an open-addressing hash from value to
 * index. `fixed` is the width of a fixed-size value, 0 for BYTE_ARRAY
 * (entries then carry their 4-byte length).
 */
struct pq_dict {
	size_t fixed;
	struct barge_buf plain;
	size_t *off;       /* each entry's value bytes in `plain` */
	uint32_t *len;
	uint32_t *slots;   /* index + 1; 0 = empty */
	size_t nslots;
	uint32_t n;
	size_t cap;
};

void pq_dict_init(struct pq_dict *d, size_t fixed);
void pq_dict_dispose(struct pq_dict *d);
void pq_dict_clear(struct pq_dict *d);
/* The index of p[0..n), added when new. */
int pq_dict_put(struct pq_dict *d, const void *p, size_t n, uint32_t *idx);

/* ---- parquet_thrift.c --------------------------------------------------- */

/* The compact protocol's field types. */
enum {
	PQT_TRUE = 1, PQT_FALSE = 2, PQT_BYTE = 3, PQT_I16 = 4, PQT_I32 = 5,
	PQT_I64 = 6, PQT_DOUBLE = 7, PQT_BINARY = 8, PQT_LIST = 9,
	PQT_STRUCT = 12
};

/* A compact-protocol writer into a buffer: the last field id of each
 * open struct (deltas are taken against it). */
struct pqt {
	struct barge_buf *b;
	int16_t last[16];
	int depth;
};

void pqt_init(struct pqt *t, struct barge_buf *b);
void pqt_i32(struct pqt *t, int16_t id, int32_t v);
void pqt_i64(struct pqt *t, int16_t id, int64_t v);
void pqt_bool(struct pqt *t, int16_t id, int v);
void pqt_binary(struct pqt *t, int16_t id, const void *p, size_t n);
void pqt_string(struct pqt *t, int16_t id, const char *s);
/* A struct field (id > 0) or a struct list element (id 0); every begin
 * has its end. An empty struct is a begin and an end. */
void pqt_struct_begin(struct pqt *t, int16_t id);
void pqt_struct_end(struct pqt *t);
/* A list field's header; its n elements follow (pqt_elem_* or structs
 * with id 0). */
void pqt_list(struct pqt *t, int16_t id, int elem_type, size_t n);
void pqt_elem_i32(struct pqt *t, int32_t v);
void pqt_elem_binary(struct pqt *t, const void *p, size_t n);

/* What a page header says (DataPageHeader or DictionaryPageHeader). */
struct pq_page_info {
	int type;            /* PQ_PAGE_DATA or PQ_PAGE_DICTIONARY */
	size_t uncompressed; /* body bytes before compression */
	size_t compressed;
	uint32_t crc;        /* CRC-32 of the body as written */
	int32_t num_values;  /* nulls included */
	int encoding;
};
int pq_page_header(struct barge_buf *out, const struct pq_page_info *pi);

/* A column's statistics, as a column chunk's metadata carries them. */
struct pq_stats_out {
	int64_t null_count;
	int64_t nan_count;  /* FLOAT/DOUBLE only (has_nan_count) */
	int has_nan_count;
	const void *min, *max; /* PLAIN bytes (no length), NULL = none */
	size_t min_len, max_len;
	int legacy; /* also the deprecated min/max: the order is signed */
};

/* One column chunk's ColumnMetaData inputs. */
struct pq_chunk_info {
	int phys;
	const char *name;
	int codec;
	int64_t num_values;
	int64_t unc_size, comp_size;   /* pages with their headers */
	int64_t data_page_offset;
	int64_t dict_page_offset;      /* -1: none */
	int plain_used, dict_used;     /* which data page encodings occur */
	int levels_used;               /* RLE definition levels */
	struct pq_stats_out st;
};
/* A ColumnChunk struct (a list element) into `t`. */
void pq_column_chunk(struct pqt *t, const struct pq_chunk_info *ci);

/* The schema element of a leaf column, as a list element. */
void pq_schema_leaf(struct pqt *t, const struct parquet_col *c, int phys,
		    size_t type_len);

#endif
