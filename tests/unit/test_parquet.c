/*
 * The Parquet writer (src/lib/parquet*.c).
 *
 * With no argument: the encoder's pieces against bytes worked out by hand
 * from the spec (Thrift compact integers and headers, Encodings.md's
 * RLE/bit-packing hybrid, decimals as two's complement), and the writer's
 * refusals, dictionary fallback and file framing.
 *
 * With `write DIR`: writes DIR/<codec>.parquet files of every logical
 * type's edge values and DIR/expected.json, the values as the test fed
 * them; tests/node/parquet_readers.sh then has DuckDB and hyparquet read
 * the files and compare every value (tests/node/parquet_check.mjs).
 */
#include "barge/barge.h"
#include "harness.h"
#include "parquet_int.h"

#include <fcntl.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <unistd.h>

static int hex_is(const struct barge_buf *b, const char *want)
{
	char got[512];
	size_t n = b->len < 250 ? b->len : 250;
	barge_hex_encode(got, b->p, n);
	got[2 * n] = '\0';
	if (strcmp(got, want) == 0)
		return 1;
	fprintf(stderr, "  got  %s\n  want %s\n", got, want);
	return 0;
}

static void test_varints(void)
{
	CHECK(pq_zigzag(0) == 0);
	CHECK(pq_zigzag(-1) == 1);
	CHECK(pq_zigzag(1) == 2);
	CHECK(pq_zigzag(-2) == 3);
	CHECK(pq_zigzag(INT64_MAX) == UINT64_MAX - 1);
	CHECK(pq_zigzag(INT64_MIN) == UINT64_MAX);
	uint8_t b[10];
	CHECK(pq_uvarint(b, 0) == 1 && b[0] == 0);
	CHECK(pq_uvarint(b, 127) == 1 && b[0] == 0x7f);
	CHECK(pq_uvarint(b, 128) == 2 && b[0] == 0x80 && b[1] == 0x01);
	CHECK(pq_uvarint(b, 300) == 2 && b[0] == 0xac && b[1] == 0x02);
	CHECK(pq_uvarint(b, UINT64_MAX) == 10 && b[0] == 0xff && b[8] == 0xff &&
	      b[9] == 0x01);
	CHECK(pq_bit_width(0) == 0);
	CHECK(pq_bit_width(1) == 1);
	CHECK(pq_bit_width(7) == 3);
	CHECK(pq_bit_width(8) == 4);
}

static void rle_is(const uint32_t *v, size_t n, int bw, const char *want)
{
	struct barge_buf b;
	barge_buf_init(&b, 1 << 20);
	CHECK_OK(pq_rle_encode(&b, v, n, bw));
	CHECK(hex_is(&b, want));
	barge_buf_dispose(&b);
}

/* Encodings.md: "bit-packing 0..7 with bit width 3" is 10001000 11000110
 * 11111010; a bit-packed run's header is (groups << 1) | 1, an RLE run's
 * (count << 1) and then the value in ceil(bw / 8) bytes, little-endian. */
static void test_rle(void)
{
	uint32_t seq[8] = {0, 1, 2, 3, 4, 5, 6, 7};
	rle_is(seq, 8, 3, "0388c6fa");
	uint32_t ones[10] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
	rle_is(ones, 10, 1, "1401");
	/* a run of 8, then a literal group: 0,1,0,1,... LSB first = 0xaa */
	uint32_t mixed[16] = {1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 0, 1, 0, 1};
	rle_is(mixed, 16, 1, "100103aa");
	/* three values: one group padded with zeros */
	uint32_t three[3] = {1, 0, 1};
	rle_is(three, 3, 1, "0305");
	/* a 9-bit value takes two bytes in a run: 300 x 300 */
	uint32_t big[300];
	for (int i = 0; i < 300; i++)
		big[i] = 300;
	rle_is(big, 300, 9, "d8042c01");
	/* literal, then a run starting on a group boundary, then literal */
	uint32_t lr[20] = {0, 1, 2, 3, 0, 1, 2, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 1};
	rle_is(lr, 20, 2, "03e4e4" "1402" "030700");
	rle_is(NULL, 0, 1, "");
}

static void dec_is(const char *text, int p, int s, size_t len, const char *want)
{
	uint8_t out[32];
	const char *why = NULL;
	struct barge_buf b;
	barge_buf_init(&b, 1024);
	int rc = pq_decimal_to_be(out, len, text, strlen(text), p, s, &why);
	if (want) {
		CHECK(rc == 0);
		barge_buf_add(&b, out, len);
		CHECK(hex_is(&b, want));
	} else {
		CHECK(rc == 1 && why != NULL);
	}
	barge_buf_dispose(&b);
}

static void test_decimals(void)
{
	dec_is("123.45", 5, 2, 4, "00003039");
	dec_is("123.4", 5, 2, 4, "00003034");      /* 12340 */
	dec_is("123.450", 5, 2, 4, "00003039");    /* a zero past the scale */
	dec_is("-1", 3, 0, 4, "ffffffff");
	dec_is("-0", 3, 0, 4, "00000000");
	dec_is("0.01", 9, 2, 4, "00000001");
	dec_is("9999999999999999999999999999.9999999999", 38, 10, 16,
	       "4b3b4ca85a86c47a098a223fffffffff");
	dec_is("-9999999999999999999999999999.9999999999", 38, 10, 16,
	       "b4c4b357a5793b85f675ddc000000001");
	dec_is("-0.0000000001", 38, 10, 16, "ffffffffffffffffffffffffffffffff");
	dec_is("-9999999.99", 9, 2, 4, "c4653601");
	dec_is("99999999999999.9999", 18, 4, 8, "0de0b6b3a763ffff");
	dec_is("-99999999999999.9999", 18, 4, 8, "f21f494c589c0001");
	dec_is("1234567890123456789", 19, 0, 9, "00112210f47de98115");
	dec_is("-1234567890123456789", 19, 0, 9, "ffeeddef0b82167eeb");
	dec_is("1.5", 5, 0, 4, NULL);             /* a digit past the scale */
	dec_is("100000", 5, 0, 4, NULL);          /* six digits, precision 5 */
	dec_is("NaN", 5, 0, 4, NULL);
	dec_is("Infinity", 5, 0, 4, NULL);
	dec_is("", 5, 0, 4, NULL);
	dec_is("1e5", 5, 0, 4, NULL);
	CHECK(pq_decimal_len(1) == 1);
	CHECK(pq_decimal_len(2) == 1);
	CHECK(pq_decimal_len(3) == 2);
	CHECK(pq_decimal_len(9) == 4);
	CHECK(pq_decimal_len(10) == 5);
	CHECK(pq_decimal_len(18) == 8);
	CHECK(pq_decimal_len(19) == 9);
	CHECK(pq_decimal_len(38) == 16);
}

/* The compact protocol by hand: a field header is (delta << 4) | type
 * when the id grows by 1..15, else the type and the id as a zigzag
 * varint; i32 is a zigzag varint; a struct ends with a 0. */
static void test_thrift(void)
{
	struct barge_buf b;
	barge_buf_init(&b, 1024);
	struct pq_page_info pi = {.type = PQ_PAGE_DATA, .uncompressed = 10,
				  .compressed = 10, .crc = 0, .num_values = 3,
				  .encoding = PQ_ENC_PLAIN};
	CHECK_OK(pq_page_header(&b, &pi));
	CHECK(hex_is(&b, "1500" "1514" "1514" "1500"
			 "1c" "1506" "1500" "1506" "1506" "00" "00"));

	barge_buf_clear(&b);
	struct pqt t;
	pqt_init(&t, &b);
	pqt_i32(&t, 1, -1);      /* 15 01 */
	pqt_i64(&t, 20, 150);    /* long form: 06, zigzag(20) = 28, 300 = ac02 */
	pqt_bool(&t, 21, 1);     /* 11 */
	pqt_bool(&t, 22, 0);     /* 12 */
	pqt_string(&t, 23, "ab"); /* 18 02 6162 */
	pqt_list(&t, 24, PQT_I32, 16); /* 19 f5 10, then 16 x 02 */
	for (int i = 0; i < 16; i++)
		pqt_elem_i32(&t, 1);
	pqt_struct_begin(&t, 25); /* 1c, inside ids restart from 0 */
	pqt_i32(&t, 2, 0);        /* 25 00 */
	pqt_struct_end(&t);       /* 00 */
	pqt_i32(&t, 26, 5);       /* back outside: delta 1 from 25: 15 0a */
	CHECK(hex_is(&b, "1501" "0628ac02" "11" "12" "18026162" "19f510"
			 "02020202020202020202020202020202" "1c" "2500" "00"
			 "150a"));
	barge_buf_dispose(&b);
}

/* ---- The writer ----------------------------------------------------------- */

struct mem {
	struct barge_buf b;
};

static int mem_sink(void *ctx, const void *p, size_t n)
{
	struct mem *m = ctx;
	return barge_buf_add(&m->b, p, n);
}

static int framed(const struct barge_buf *b)
{
	if (b->len < 12 || memcmp(b->p, "PAR1", 4) ||
	    memcmp(b->p + b->len - 4, "PAR1", 4))
		return 0;
	const uint8_t *t = (const uint8_t *)b->p + b->len - 8;
	uint32_t flen = t[0] | t[1] << 8 | t[2] << 16 | (uint32_t)t[3] << 24;
	return flen > 0 && flen <= b->len - 12;
}

static struct barge_value val_text(const char *s)
{
	struct barge_value v = {.type = BARGE_T_TEXT, .p = s, .n = strlen(s)};
	return v;
}

static void test_refusals(void)
{
	struct parquet_col cols[4] = {
		{.name = "d", .type = BARGE_T_DECIMAL, .precision = 5, .scale = 2},
		{.name = "i8", .type = BARGE_T_INT64, .int_bits = 8, .nullable = 1},
		{.name = "f", .type = BARGE_T_FLOAT64, .float32 = 1, .nullable = 1},
		{.name = "s", .type = BARGE_T_TEXT, .nullable = 1},
	};
	struct mem m;
	barge_buf_init(&m.b, 1 << 20);
	struct parquet_writer *w = NULL;
	CHECK_OK(parquet_writer_new(&w, cols, 4, NULL, mem_sink, &m));
	struct barge_value v[4] = {
		{.type = BARGE_T_DECIMAL, .p = "123.45", .n = 6},
		{.type = BARGE_T_INT64, .i = -128},
		{.type = BARGE_T_FLOAT64, .f = 0.5},
		val_text("x"),
	};
	CHECK_OK(parquet_writer_add_row(w, v));
	v[0].p = "1234.5"; /* four integer digits at scale 2: 7 digits */
	v[0].n = 6;
	CHECK(parquet_writer_add_row(w, v) == BARGE_EDATA);
	CHECK(strstr(barge_error_last(), "\"d\"") != NULL);
	v[0].p = "1.234";
	v[0].n = 5;
	CHECK(parquet_writer_add_row(w, v) == BARGE_EDATA);
	v[0].p = "1.23";
	v[0].n = 4;
	v[1].i = 128;
	CHECK(parquet_writer_add_row(w, v) == BARGE_EDATA);
	v[1].i = 127;
	v[2].f = 0.1; /* not a float */
	CHECK(parquet_writer_add_row(w, v) == BARGE_EDATA);
	v[2].f = INFINITY;
	v[0].null = 1; /* a NULL in a REQUIRED column */
	CHECK(parquet_writer_add_row(w, v) == BARGE_EDATA);
	v[0].null = 0;
	v[3].type = BARGE_T_INT64; /* a value of another type */
	CHECK(parquet_writer_add_row(w, v) == BARGE_EDATA);
	v[3] = val_text("\xff\xfe not UTF-8");
	CHECK(parquet_writer_add_row(w, v) == BARGE_EDATA);
	CHECK(strstr(barge_error_last(), "UTF-8") != NULL);
	v[3] = val_text("y");
	CHECK_OK(parquet_writer_add_row(w, v));
	CHECK(parquet_writer_rows(w) == 2);
	CHECK_OK(parquet_writer_close(w));
	CHECK(parquet_writer_add_row(w, v) == BARGE_EUSAGE);
	CHECK(framed(&m.b));
	CHECK(parquet_writer_bytes(w) == (int64_t)m.b.len);
	parquet_writer_free(w);
	barge_buf_dispose(&m.b);

	struct parquet_col any = {.name = "a", .type = BARGE_T_ANY};
	CHECK(parquet_writer_new(&w, &any, 1, NULL, mem_sink, &m) == BARGE_EUSAGE);
	CHECK(w == NULL);
	struct parquet_col bad = {.name = "d", .type = BARGE_T_DECIMAL,
				  .precision = 4, .scale = 5};
	CHECK(parquet_writer_new(&w, &bad, 1, NULL, mem_sink, &m) == BARGE_EUSAGE);
	int codec = -1;
	CHECK(parquet_codec_parse(&codec, "zstd") == 0 && codec == PARQUET_CODEC_ZSTD);
	CHECK(parquet_codec_parse(&codec, "lz4") == BARGE_EUSAGE);
}

/* Bytes of a file of n rows of one text column, value i -> text(i). */
static size_t text_file(size_t n, int no_dict, int distinct)
{
	struct parquet_col c = {.name = "t", .type = BARGE_T_TEXT};
	struct parquet_opts o = {.no_dict = no_dict};
	struct mem m;
	barge_buf_init(&m.b, 64u << 20);
	struct parquet_writer *w = NULL;
	CHECK_OK(parquet_writer_new(&w, &c, 1, &o, mem_sink, &m));
	char s[64];
	for (size_t i = 0; w && i < n; i++) {
		snprintf(s, sizeof s, "a fairly long value, number %08zu",
			 distinct ? i : i % 3);
		struct barge_value v = val_text(s);
		CHECK_OK(parquet_writer_add_row(w, &v));
	}
	CHECK_OK(parquet_writer_close(w));
	CHECK(framed(&m.b));
	size_t len = m.b.len;
	parquet_writer_free(w);
	barge_buf_dispose(&m.b);
	return len;
}

/* The dictionary pays for few distinct values, and unique values fall
 * back to PLAIN instead of doubling up. */
static void test_dictionary(void)
{
	size_t few_dict = text_file(20000, 0, 0);
	size_t few_plain = text_file(20000, 1, 0);
	CHECK(few_dict * 20 < few_plain);
	size_t uniq_dict = text_file(20000, 0, 1);
	size_t uniq_plain = text_file(20000, 1, 1);
	CHECK(uniq_dict < uniq_plain + uniq_plain / 10);

	struct pq_dict d;
	pq_dict_init(&d, 0);
	uint32_t a, b, c;
	CHECK_OK(pq_dict_put(&d, "x", 1, &a));
	CHECK_OK(pq_dict_put(&d, "", 0, &b));
	CHECK_OK(pq_dict_put(&d, "x", 1, &c));
	CHECK(a == 0 && b == 1 && c == 0 && d.n == 2);
	/* PLAIN BYTE_ARRAY: 4-byte little-endian length, then the bytes */
	CHECK(d.plain.len == 9 && memcmp(d.plain.p, "\1\0\0\0x\0\0\0\0", 9) == 0);
	for (uint32_t i = 0; i < 5000; i++) /* through several rehashes */
		CHECK_OK(pq_dict_put(&d, &i, sizeof i, &a));
	CHECK(d.n == 5002);
	uint32_t k = 4321;
	CHECK_OK(pq_dict_put(&d, &k, sizeof k, &a));
	CHECK(a == 4323);
	pq_dict_dispose(&d);
}

/* Row groups close by their byte bound, and a file descriptor sink. */
static void test_fd_and_row_groups(void)
{
	char path[1024];
	harness_path(path, sizeof path, "test_parquet_fd.parquet");
	int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
	CHECK(fd >= 0);
	struct parquet_col c = {.name = "i", .type = BARGE_T_INT64};
	struct parquet_opts o = {.row_group_bytes = 4096, .page_bytes = 512,
				 .codec = PARQUET_CODEC_SNAPPY};
	struct parquet_writer *w = NULL;
	CHECK_OK(parquet_writer_new_fd(&w, &c, 1, &o, fd));
	for (int64_t i = 0; w && i < 10000; i++) {
		struct barge_value v = {.type = BARGE_T_INT64, .i = i * 7919};
		CHECK_OK(parquet_writer_add_row(w, &v));
	}
	CHECK_OK(parquet_writer_close(w));
	parquet_writer_free(w);
	close(fd);
	FILE *f = fopen(path, "rb");
	struct barge_buf b;
	barge_buf_init(&b, 1 << 22);
	char chunk[4096];
	size_t n;
	while (f && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
		barge_buf_add(&b, chunk, n);
	if (f)
		fclose(f);
	CHECK(framed(&b));
	/* 10000 int64 rows in row groups of about 4 KiB: many of them */
	CHECK(b.len > 20000);
	barge_buf_dispose(&b);
}

/* ---- The readers' files (write DIR) ---------------------------------------- */

/* Columns of every logical type and width; `kind` and `duckdb` tell the
 * checker how to read each back. */
static const struct {
	struct parquet_col c;
	const char *kind, *duckdb;
} COLS[] = {
	{{"id", BARGE_T_INT64, 0, 0, 0, 0, 0, 0}, "int", "BIGINT"},
	{{"b", BARGE_T_BOOL, 1, 0, 0, 0, 0, 0}, "bool", "BOOLEAN"},
	{{"i8", BARGE_T_INT64, 1, 0, 0, 8, 0, 0}, "int", "TINYINT"},
	{{"u8", BARGE_T_INT64, 1, 0, 0, 8, 1, 0}, "int", "UTINYINT"},
	{{"i16", BARGE_T_INT64, 1, 0, 0, 16, 0, 0}, "int", "SMALLINT"},
	{{"u16", BARGE_T_INT64, 1, 0, 0, 16, 1, 0}, "int", "USMALLINT"},
	{{"i32", BARGE_T_INT64, 1, 0, 0, 32, 0, 0}, "int", "INTEGER"},
	{{"u32", BARGE_T_INT64, 1, 0, 0, 32, 1, 0}, "int", "UINTEGER"},
	{{"i64", BARGE_T_INT64, 1, 0, 0, 0, 0, 0}, "int", "BIGINT"},
	{{"u64", BARGE_T_INT64, 1, 0, 0, 64, 1, 0}, "int", "UBIGINT"},
	{{"f64", BARGE_T_FLOAT64, 1, 0, 0, 0, 0, 0}, "float", "DOUBLE"},
	{{"f32", BARGE_T_FLOAT64, 1, 0, 0, 0, 0, 1}, "float", "FLOAT"},
	{{"d9", BARGE_T_DECIMAL, 1, 9, 2, 0, 0, 0}, "decimal", "DECIMAL(9,2)"},
	{{"d18", BARGE_T_DECIMAL, 1, 18, 4, 0, 0, 0}, "decimal", "DECIMAL(18,4)"},
	{{"d38", BARGE_T_DECIMAL, 1, 38, 10, 0, 0, 0}, "decimal", "DECIMAL(38,10)"},
	{{"dnum", BARGE_T_DECIMAL, 1, 0, 0, 0, 0, 0}, "text", "VARCHAR"},
	{{"txt", BARGE_T_TEXT, 1, 0, 0, 0, 0, 0}, "text", "VARCHAR"},
	{{"cat", BARGE_T_TEXT, 1, 0, 0, 0, 0, 0}, "text", "VARCHAR"},
	{{"bin", BARGE_T_BYTES, 1, 0, 0, 0, 0, 0}, "bytes", "BLOB"},
	{{"js", BARGE_T_JSON, 1, 0, 0, 0, 0, 0}, "json", "JSON"},
	{{"dt", BARGE_T_DATE, 1, 0, 0, 0, 0, 0}, "date", "DATE"},
	{{"tm", BARGE_T_TIME, 1, 0, 0, 0, 0, 0}, "time", "TIME"},
	{{"ts", BARGE_T_TIMESTAMP, 1, 0, 0, 0, 0, 0}, "ts", "TIMESTAMP"},
	{{"tstz", BARGE_T_TIMESTAMPTZ, 1, 0, 0, 0, 0, 0}, "ts", "TIMESTAMP WITH TIME ZONE"},
	{{"uid", BARGE_T_UUID, 1, 0, 0, 0, 0, 0}, "uuid", "UUID"},
	{{"rtxt", BARGE_T_TEXT, 0, 0, 0, 0, 0, 0}, "text", "VARCHAR"},
};
#define NCOLS (sizeof COLS / sizeof COLS[0])
#define NROWS 3000
#define NEDGE 10 /* rows 0..9: edge values; row 10: every NULL */

static uint64_t mix(uint64_t x)
{
	x += UINT64_C(0x9e3779b97f4a7c15);
	x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static const char *const D9[] = {"-9999999.99", "9999999.99", "0.01", "-0.01", "0", "12.5"};
static const char *const D18[] = {"-99999999999999.9999", "99999999999999.9999", "0.0001", "-1"};
static const char *const D38[] = {"-9999999999999999999999999999.9999999999",
				  "9999999999999999999999999999.9999999999",
				  "-0.0000000001", "0", "0.0000000001"};
static const char *const DNUM[] = {"123456789012345678901234567890.123456789012345",
				   "-1", "NaN", "Infinity", "-Infinity", "0"};
static const char *const TXT[] = {"", "héllo wörld", "日本語のテキスト", "emoji 😀 and more",
				  "tab\tnewline\nquote\"backslash\\",
				  "a long text past the statistics bound: "
				  "0123456789012345678901234567890123456789"};
static const char *const CAT[] = {"alpha", "beta", "gamma", "delta", ""};
static const char *const JS[] = {"{\"a\":1}", "[]", "null", "\"x\"", "{\"k\": [1, 2.5, true]}"};

#define PICK(arr, i) (arr[(i) % (sizeof arr / sizeof arr[0])])

/* Row r's value of column c into v, its bytes in buf (64+ bytes). */
static void make_value(size_t r, size_t c, struct barge_value *v, char *buf,
		       size_t cap)
{
	static const double F64[] = {NAN, INFINITY, -INFINITY, -0.0, 0.0, DBL_MAX,
				     -DBL_MAX, DBL_MIN, 4.9406564584124654e-324, 1.0 / 3};
	static const double F32[] = {NAN, INFINITY, -INFINITY, -0.0, FLT_MAX,
				     1.5, 1.401298464324817e-45, -FLT_MAX};
	static const int64_t DT[] = {-719162, -1, 0, 2932896, 19000};
	static const int64_t TM[] = {0, 86399999999, 1, 43200000000};
	static const int64_t TS[] = {-62135596800000000, -1, 0, 253402300799999999,
				     -2208988800000000, 1700000000123456};
	uint64_t h = mix(r * 131 + c), h2 = mix(h);
	int edge = r < NEDGE;
	memset(v, 0, sizeof *v);
	v->type = (enum barge_type)COLS[c].c.type;
	if (COLS[c].c.nullable && (r == NEDGE || (!edge && (r + c) % 9 == 0))) {
		v->null = 1;
		return;
	}
	switch (c) {
	case 0: v->i = (int64_t)r; return;
	case 1: v->i = edge ? (int64_t)(r & 1) : (int64_t)(h & 1); return;
	case 2: v->i = edge ? (r & 1 ? 127 : -128) : (int8_t)h; return;
	case 3: v->i = edge ? (r & 1 ? 255 : 0) : (uint8_t)h; return;
	case 4: v->i = edge ? (r & 1 ? 32767 : -32768) : (int16_t)h; return;
	case 5: v->i = edge ? (r & 1 ? 65535 : 0) : (uint16_t)h; return;
	case 6: v->i = edge ? (r & 1 ? INT32_MAX : INT32_MIN) : (int32_t)h; return;
	case 7: v->i = edge ? (r & 1 ? (int64_t)UINT32_MAX : 0) : (int64_t)(uint32_t)h; return;
	case 8: v->i = edge ? (r & 1 ? INT64_MAX : INT64_MIN) : (int64_t)h; return;
	case 9: v->i = edge ? (r & 1 ? INT64_MAX : 0) : (int64_t)(h >> 1); return;
	case 10:
		if (edge) {
			v->f = PICK(F64, r);
		} else {
			memcpy(&v->f, &h, 8);
			if (isnan(v->f))
				v->f = (double)(int64_t)h;
		}
		return;
	case 11: v->f = edge ? PICK(F32, r) : (double)((float)(int32_t)h / 1024.0f); return;
	case 12:
		if (edge)
			snprintf(buf, cap, "%s", PICK(D9, r));
		else
			snprintf(buf, cap, "%s%" PRIu64 ".%02" PRIu64, h & 1 ? "-" : "",
				 (h >> 8) % 10000000, h2 % 100);
		break;
	case 13:
		if (edge)
			snprintf(buf, cap, "%s", PICK(D18, r));
		else
			snprintf(buf, cap, "%s%" PRIu64 ".%04" PRIu64, h & 1 ? "-" : "",
				 (h >> 8) % UINT64_C(100000000000000), h2 % 10000);
		break;
	case 14:
		if (edge)
			snprintf(buf, cap, "%s", PICK(D38, r));
		else /* up to 28 integer digits and 10 fractional ones */
			snprintf(buf, cap, "%s%" PRIu64 "%018" PRIu64 ".%010" PRIu64,
				 h & 1 ? "-" : "", (h >> 8) % UINT64_C(10000000000),
				 h2 % UINT64_C(1000000000000000000), mix(h2) % UINT64_C(10000000000));
		break;
	case 15:
		if (edge)
			snprintf(buf, cap, "%s", PICK(DNUM, r));
		else
			snprintf(buf, cap, "%" PRId64 ".%" PRIu64, (int64_t)h % 100000, h2 % 1000);
		break;
	case 16:
		if (edge)
			snprintf(buf, cap, "%s", PICK(TXT, r));
		else
			snprintf(buf, cap, "row %zu text %016" PRIx64 "%s", r, h,
				 r % 50 == 0 ? " and a tail that takes it past sixty-four bytes" : "");
		break;
	case 17: snprintf(buf, cap, "%s", PICK(CAT, edge ? r : h)); break;
	case 18: {
		size_t n = edge ? (r % 4) * 3 : h % 21;
		for (size_t k = 0; k < n; k++)
			buf[k] = edge ? (char)(k % 3 ? 0xff - k : 0) : (char)mix(h + k);
		v->p = buf;
		v->n = n;
		return;
	}
	case 19: snprintf(buf, cap, "%s", edge ? PICK(JS, r) : "{\"r\": 1}"); break;
	case 20: v->i = edge ? PICK(DT, r) : -719162 + (int64_t)(h % 3652059); return;
	case 21: v->i = edge ? PICK(TM, r) : (int64_t)(h % UINT64_C(86400000000)); return;
	case 22:
	case 23:
		v->i = edge ? PICK(TS, r + c)
			    : -62135596800000000 + (int64_t)(h % UINT64_C(315537897599999999));
		return;
	case 24:
		for (int k = 0; k < 16; k++)
			buf[k] = edge ? (char)(r & 1 ? 0xff : 0) : (char)((k < 8 ? h : h2) >> (8 * (k & 7)));
		v->p = buf;
		v->n = 16;
		return;
	case 25: snprintf(buf, cap, "k%zu", r % 3); break;
	}
	v->p = buf;
	v->n = strlen(buf);
}

/* The value as the checker compares it: decimals as their unscaled
 * integer, floats as their IEEE bits (NaN as "NaN"), bytes in hex, times
 * as integers of their unit, uuids as text. */
static void expect(struct barge_buf *out, size_t c, const struct barge_value *v)
{
	char tmp[128];
	if (v->null) {
		barge_buf_adds(out, "null");
		return;
	}
	const struct parquet_col *col = &COLS[c].c;
	switch (col->type) {
	case BARGE_T_BOOL:
		barge_buf_adds(out, v->i ? "\"true\"" : "\"false\"");
		return;
	case BARGE_T_FLOAT64: {
		uint64_t u;
		memcpy(&u, &v->f, 8);
		if (isnan(v->f))
			barge_buf_adds(out, "\"NaN\"");
		else
			barge_buf_printf(out, "\"%016" PRIx64 "\"", u);
		return;
	}
	case BARGE_T_DECIMAL:
		if (col->precision) {
			const char *dot = memchr(v->p, '.', v->n);
			size_t in = dot ? (size_t)(dot - v->p) : v->n;
			size_t fn = dot ? v->n - in - 1 : 0, k = 0, start;
			int neg = v->p[0] == '-';
			for (size_t i = neg; i < in; i++)
				tmp[k++] = v->p[i];
			for (int i = 0; i < col->scale; i++)
				tmp[k++] = (size_t)i < fn ? dot[1 + i] : '0';
			for (start = 0; start + 1 < k && tmp[start] == '0'; start++)
				;
			tmp[k] = '\0';
			int zero = k == 0 || strspn(tmp, "0") == k;
			barge_buf_printf(out, "\"%s%s\"", neg && !zero ? "-" : "",
					 k ? tmp + start : "0");
			return;
		}
		/* unconstrained decimals are their text */
		/* fall through */
	case BARGE_T_TEXT:
	case BARGE_T_JSON:
		barge_buf_json_str(out, v->p, v->n);
		return;
	case BARGE_T_BYTES:
		barge_buf_adds(out, "\"");
		for (size_t i = 0; i < v->n; i++)
			barge_buf_printf(out, "%02x", (unsigned char)v->p[i]);
		barge_buf_adds(out, "\"");
		return;
	case BARGE_T_UUID:
		barge_uuid_format(tmp, (const unsigned char *)v->p);
		barge_buf_printf(out, "\"%s\"", tmp);
		return;
	default:
		barge_buf_printf(out, "\"%" PRId64 "\"", v->i);
	}
}

static int write_files(const char *dir)
{
	static const struct {
		const char *name;
		int codec, small;
	} FILES[] = {{"none", PARQUET_CODEC_NONE, 1},
		     {"snappy", PARQUET_CODEC_SNAPPY, 1},
		     {"gzip", PARQUET_CODEC_GZIP, 1},
		     {"zstd", PARQUET_CODEC_ZSTD, 1},
		     {"zstd_defaults", PARQUET_CODEC_ZSTD, 0},
		     {"snappy_bytes", PARQUET_CODEC_SNAPPY, 2}};
#define NFILES (sizeof FILES / sizeof FILES[0])
	struct parquet_col cols[NCOLS];
	for (size_t c = 0; c < NCOLS; c++)
		cols[c] = COLS[c].c;
	char path[1024];
	struct barge_buf exp;
	barge_buf_init(&exp, 64u << 20);
	barge_buf_adds(&exp, "{\"rows_per_group\": 1000, \"columns\": [");
	for (size_t c = 0; c < NCOLS; c++)
		barge_buf_printf(&exp, "%s{\"name\": \"%s\", \"kind\": \"%s\", \"duckdb\": \"%s\"}",
				 c ? ", " : "", COLS[c].c.name, COLS[c].kind, COLS[c].duckdb);
	barge_buf_adds(&exp, "],\n\"files\": [");
	for (size_t f = 0; f < NFILES; f++)
		barge_buf_printf(&exp, "%s{\"name\": \"%s.parquet\", \"codec\": \"%s\", \"small\": %d}",
				 f ? ", " : "", FILES[f].name,
				 FILES[f].codec == PARQUET_CODEC_NONE ? "UNCOMPRESSED"
				 : FILES[f].codec == PARQUET_CODEC_SNAPPY ? "SNAPPY"
				 : FILES[f].codec == PARQUET_CODEC_GZIP ? "GZIP" : "ZSTD",
				 FILES[f].small);
	barge_buf_adds(&exp, "],\n\"rows\": [\n");

	struct parquet_writer *w[NFILES] = {0};
	FILE *fps[NFILES] = {0};
	int rc = 0;
	for (size_t f = 0; f < NFILES && !rc; f++) {
		struct parquet_opts o = {.codec = FILES[f].codec};
		if (FILES[f].small == 1) { /* many row groups and pages,
					    * and a dictionary that falls back */
			o.row_group_rows = 1000;
			o.page_bytes = 2048;
			o.dict_bytes = 600;
		} else if (FILES[f].small == 2) { /* row groups by bytes */
			o.row_group_bytes = 64 << 10;
		}
		snprintf(path, sizeof path, "%s/%s.parquet", dir, FILES[f].name);
		int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
		if (fd < 0) {
			fprintf(stderr, "cannot create %s\n", path);
			return 1;
		}
		/* the stream stays open until its writer is freed */
		fps[f] = fdopen(fd, "wb");
		rc = parquet_writer_new_file(&w[f], cols, NCOLS, &o, fps[f]);
	}
	static char bufs[NCOLS][256];
	struct barge_value v[NCOLS];
	for (size_t r = 0; r < NROWS && !rc; r++) {
		barge_buf_adds(&exp, r ? ",\n[" : "[");
		for (size_t c = 0; c < NCOLS; c++) {
			make_value(r, c, &v[c], bufs[c], sizeof bufs[c]);
			if (c)
				barge_buf_adds(&exp, ", ");
			expect(&exp, c, &v[c]);
		}
		barge_buf_adds(&exp, "]");
		for (size_t f = 0; f < NFILES && !rc; f++)
			rc = parquet_writer_add_row(w[f], v);
	}
	barge_buf_adds(&exp, "\n]}\n");
	for (size_t f = 0; f < NFILES; f++) {
		if (!rc && w[f])
			rc = parquet_writer_close(w[f]);
		parquet_writer_free(w[f]);
		if (fps[f])
			fclose(fps[f]);
	}
	if (rc) {
		fprintf(stderr, "write: %s\n", barge_error_last());
		barge_buf_dispose(&exp);
		return 1;
	}
	/* a file of no rows: a footer with no row groups */
	snprintf(path, sizeof path, "%s/empty.parquet", dir);
	FILE *ef = fopen(path, "wb");
	struct parquet_writer *ew = NULL;
	if (!ef || parquet_writer_new_file(&ew, cols, NCOLS, NULL, ef) ||
	    parquet_writer_close(ew)) {
		fprintf(stderr, "empty.parquet: %s\n", barge_error_last());
		rc = 1;
	}
	parquet_writer_free(ew);
	if (ef)
		fclose(ef);
	snprintf(path, sizeof path, "%s/expected.json", dir);
	FILE *e = fopen(path, "wb");
	if (!e || fwrite(exp.p, 1, exp.len, e) != exp.len || exp.err) {
		fprintf(stderr, "cannot write %s\n", path);
		rc = 1;
	}
	if (e)
		fclose(e);
	barge_buf_dispose(&exp);
	return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "write") == 0)
		return write_files(argv[2]);
	test_varints();
	test_rle();
	test_decimals();
	test_thrift();
	test_refusals();
	test_dictionary();
	test_fd_and_row_groups();
	return harness_done();
}
