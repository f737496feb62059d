/*
 * The Thrift compact protocol, written by hand (it is small), and the
 * structs of parquet.thrift the writer needs built with it: PageHeader,
 * ColumnChunk with its ColumnMetaData and Statistics, and SchemaElement.
 * Field ids are parquet.thrift's; each struct's comment names the
 * fields written. A buffer failure is sticky in the buffer: the caller
 * checks it once the struct is complete.
 */
#include "parquet_int.h"

#include <string.h>

void pqt_init(struct pqt *t, struct barge_buf *b)
{
	memset(t, 0, sizeof *t);
	t->b = b;
}

static void put_byte(struct pqt *t, uint8_t c)
{
	barge_buf_add(t->b, &c, 1);
}

static void put_varint(struct pqt *t, uint64_t v)
{
	uint8_t tmp[10];
	barge_buf_add(t->b, tmp, pq_uvarint(tmp, v));
}

/* A field header: the id as a delta from the struct's last one when it
 * is 1..15, else the type alone and the id as a zigzag varint. */
static void field(struct pqt *t, int16_t id, int type)
{
	int delta = id - t->last[t->depth];
	if (delta > 0 && delta <= 15) {
		put_byte(t, (uint8_t)(delta << 4 | type));
	} else {
		put_byte(t, (uint8_t)type);
		put_varint(t, pq_zigzag(id));
	}
	t->last[t->depth] = id;
}

void pqt_i32(struct pqt *t, int16_t id, int32_t v)
{
	field(t, id, PQT_I32);
	put_varint(t, pq_zigzag(v));
}

void pqt_i64(struct pqt *t, int16_t id, int64_t v)
{
	field(t, id, PQT_I64);
	put_varint(t, pq_zigzag(v));
}

/* A bool field carries its value in the header's type. */
void pqt_bool(struct pqt *t, int16_t id, int v)
{
	field(t, id, v ? PQT_TRUE : PQT_FALSE);
}

static void pqt_byte(struct pqt *t, int16_t id, int8_t v)
{
	field(t, id, PQT_BYTE);
	put_byte(t, (uint8_t)v);
}

void pqt_binary(struct pqt *t, int16_t id, const void *p, size_t n)
{
	field(t, id, PQT_BINARY);
	pqt_elem_binary(t, p, n);
}

void pqt_string(struct pqt *t, int16_t id, const char *s)
{
	pqt_binary(t, id, s, strlen(s));
}

void pqt_struct_begin(struct pqt *t, int16_t id)
{
	if (id)
		field(t, id, PQT_STRUCT);
	/* the depth is bounded by this file's structs, 16 is ample */
	t->last[++t->depth] = 0;
}

void pqt_struct_end(struct pqt *t)
{
	put_byte(t, 0); /* stop */
	t->depth--;
}

void pqt_list(struct pqt *t, int16_t id, int elem_type, size_t n)
{
	field(t, id, PQT_LIST);
	if (n < 15) {
		put_byte(t, (uint8_t)(n << 4 | (size_t)elem_type));
	} else {
		put_byte(t, (uint8_t)(0xf0 | elem_type));
		put_varint(t, n);
	}
}

void pqt_elem_i32(struct pqt *t, int32_t v)
{
	put_varint(t, pq_zigzag(v));
}

void pqt_elem_binary(struct pqt *t, const void *p, size_t n)
{
	put_varint(t, n);
	barge_buf_add(t->b, p, n);
}

/* PageHeader: 1 type, 2 uncompressed_page_size, 3 compressed_page_size,
 * 4 crc, then 5 data_page_header (1 num_values, 2 encoding,
 * 3 definition_level_encoding, 4 repetition_level_encoding) or
 * 7 dictionary_page_header (1 num_values, 2 encoding). */
int pq_page_header(struct barge_buf *out, const struct pq_page_info *pi)
{
	struct pqt t;
	pqt_init(&t, out);
	pqt_i32(&t, 1, pi->type);
	pqt_i32(&t, 2, (int32_t)pi->uncompressed);
	pqt_i32(&t, 3, (int32_t)pi->compressed);
	pqt_i32(&t, 4, (int32_t)pi->crc);
	if (pi->type == PQ_PAGE_DATA) {
		pqt_struct_begin(&t, 5);
		pqt_i32(&t, 1, pi->num_values);
		pqt_i32(&t, 2, pi->encoding);
		pqt_i32(&t, 3, PQ_ENC_RLE);
		pqt_i32(&t, 4, PQ_ENC_RLE);
		pqt_struct_end(&t);
	} else {
		pqt_struct_begin(&t, 7);
		pqt_i32(&t, 1, pi->num_values);
		pqt_i32(&t, 2, pi->encoding);
		pqt_struct_end(&t);
	}
	put_byte(&t, 0);
	return out->err;
}

/* Statistics: 1 max and 2 min (deprecated, signed orders only: older
 * readers know no other), 3 null_count, 5 max_value, 6 min_value,
 * 9 nan_count. */
static void statistics(struct pqt *t, const struct pq_stats_out *st)
{
	pqt_struct_begin(t, 12);
	if (st->legacy && st->min && st->max) {
		pqt_binary(t, 1, st->max, st->max_len);
		pqt_binary(t, 2, st->min, st->min_len);
	}
	pqt_i64(t, 3, st->null_count);
	if (st->min && st->max) {
		pqt_binary(t, 5, st->max, st->max_len);
		pqt_binary(t, 6, st->min, st->min_len);
	}
	if (st->has_nan_count)
		pqt_i64(t, 9, st->nan_count);
	pqt_struct_end(t);
}

/* ColumnChunk: 2 file_offset (0: no metadata outside the footer),
 * 3 meta_data, a ColumnMetaData: 1 type, 2 encodings, 3 path_in_schema,
 * 4 codec, 5 num_values, 6 total_uncompressed_size,
 * 7 total_compressed_size, 9 data_page_offset, 11 dictionary_page_offset,
 * 12 statistics. */
void pq_column_chunk(struct pqt *t, const struct pq_chunk_info *ci)
{
	int enc[3], nenc = 0;
	if (ci->plain_used || ci->dict_used)
		enc[nenc++] = PQ_ENC_PLAIN; /* a dictionary page is PLAIN */
	enc[nenc++] = PQ_ENC_RLE;           /* the levels' encoding */
	if (ci->dict_used)
		enc[nenc++] = PQ_ENC_RLE_DICTIONARY;

	pqt_struct_begin(t, 0);
	pqt_i64(t, 2, 0);
	pqt_struct_begin(t, 3);
	pqt_i32(t, 1, ci->phys);
	pqt_list(t, 2, PQT_I32, (size_t)nenc);
	for (int i = 0; i < nenc; i++)
		pqt_elem_i32(t, enc[i]);
	pqt_list(t, 3, PQT_BINARY, 1);
	pqt_elem_binary(t, ci->name, strlen(ci->name));
	pqt_i32(t, 4, ci->codec);
	pqt_i64(t, 5, ci->num_values);
	pqt_i64(t, 6, ci->unc_size);
	pqt_i64(t, 7, ci->comp_size);
	pqt_i64(t, 9, ci->data_page_offset);
	if (ci->dict_page_offset >= 0)
		pqt_i64(t, 11, ci->dict_page_offset);
	statistics(t, &ci->st);
	pqt_struct_end(t);
	pqt_struct_end(t);
}

/* parquet.thrift's ConvertedType values the writer uses */
enum {
	CT_UTF8 = 0, CT_DECIMAL = 5, CT_DATE = 6, CT_TIME_MICROS = 8,
	CT_TIMESTAMP_MICROS = 10, CT_UINT_8 = 11, CT_INT_8 = 15, CT_JSON = 19
};

/* LogicalType's TIME (7) or TIMESTAMP (8): 1 isAdjustedToUTC, 2 unit,
 * a TimeUnit union whose 2 is MICROS. */
static void time_type(struct pqt *t, int16_t id, int utc)
{
	pqt_struct_begin(t, id);
	pqt_bool(t, 1, utc);
	pqt_struct_begin(t, 2);
	pqt_struct_begin(t, 2);
	pqt_struct_end(t);
	pqt_struct_end(t);
	pqt_struct_end(t);
}

/* An empty annotation struct (StringType, DateType, JsonType, UUIDType). */
static void empty_type(struct pqt *t, int16_t id)
{
	pqt_struct_begin(t, id);
	pqt_struct_end(t);
}

/*
 * SchemaElement of a leaf: 1 type, 2 type_length (FIXED), 3
 * repetition_type, 4 name, 6 converted_type where one means the same,
 * 7 scale and 8 precision (DECIMAL), 10 logicalType (a LogicalType
 * union: 1 STRING, 5 DECIMAL, 6 DATE, 7 TIME, 8 TIMESTAMP, 10 INTEGER,
 * 12 JSON, 14 UUID). A naive TIMESTAMP or TIME gets no converted type:
 * TIMESTAMP_MICROS and TIME_MICROS mean adjusted to UTC (LogicalTypes.md).
 */
void pq_schema_leaf(struct pqt *t, const struct parquet_col *c, int phys,
		    size_t type_len)
{
	int ct = -1, logical = 0;
	switch (c->type) {
	case BARGE_T_INT64:
		if ((c->int_bits && c->int_bits != 64) || c->is_unsigned) {
			int bits = c->int_bits ? c->int_bits : 64;
			int k = bits == 8 ? 0 : bits == 16 ? 1 : bits == 32 ? 2 : 3;
			ct = (c->is_unsigned ? CT_UINT_8 : CT_INT_8) + k;
			logical = 10;
		}
		break;
	case BARGE_T_DECIMAL:
		if (c->precision > 0) {
			ct = CT_DECIMAL;
			logical = 5;
		} else {
			ct = CT_UTF8; /* unconstrained: the exact text */
			logical = 1;
		}
		break;
	case BARGE_T_TEXT:
		ct = CT_UTF8;
		logical = 1;
		break;
	case BARGE_T_JSON:
		ct = CT_JSON;
		logical = 12;
		break;
	case BARGE_T_DATE:
		ct = CT_DATE;
		logical = 6;
		break;
	case BARGE_T_TIME:
		logical = 7;
		break;
	case BARGE_T_TIMESTAMP:
		logical = 8;
		break;
	case BARGE_T_TIMESTAMPTZ:
		ct = CT_TIMESTAMP_MICROS;
		logical = 8;
		break;
	case BARGE_T_UUID:
		logical = 14;
		break;
	}

	pqt_struct_begin(t, 0);
	pqt_i32(t, 1, phys);
	if (phys == PQ_FIXED)
		pqt_i32(t, 2, (int32_t)type_len);
	pqt_i32(t, 3, c->nullable ? 1 : 0);
	pqt_string(t, 4, c->name);
	if (ct >= 0)
		pqt_i32(t, 6, ct);
	if (logical == 5) {
		pqt_i32(t, 7, c->scale);
		pqt_i32(t, 8, c->precision);
	}
	if (logical) {
		pqt_struct_begin(t, 10);
		switch (logical) {
		case 5:
			pqt_struct_begin(t, 5);
			pqt_i32(t, 1, c->scale);
			pqt_i32(t, 2, c->precision);
			pqt_struct_end(t);
			break;
		case 7:
			time_type(t, 7, 0);
			break;
		case 8:
			time_type(t, 8, c->type == BARGE_T_TIMESTAMPTZ);
			break;
		case 10:
			pqt_struct_begin(t, 10);
			pqt_byte(t, 1, (int8_t)(c->int_bits ? c->int_bits : 64));
			pqt_bool(t, 2, !c->is_unsigned);
			pqt_struct_end(t);
			break;
		default:
			empty_type(t, (int16_t)logical);
		}
		pqt_struct_end(t);
	}
	pqt_struct_end(t);
}
