/*
 * The file driver's encoders and writer stack (src/drivers/file/): CSV
 * and JSON Lines texts of the edge values of every logical type, NULL
 * against the empty string, quoting, exact numbers, and the sink's gzip
 * and zstd output read back by zlib and libzstd with its SHA-256 checked
 * against libsodium's one-shot hash.
 */
#include "harness.h"
#include "drivers/file/file_int.h"

#include <fcntl.h>
#include <math.h>
#include <unistd.h>

static struct barge_column_def cols[] = {
	{.name = "b", .type = BARGE_T_BOOL},   {.name = "i", .type = BARGE_T_INT64},
	{.name = "f", .type = BARGE_T_FLOAT64}, {.name = "d", .type = BARGE_T_DECIMAL},
	{.name = "t", .type = BARGE_T_TEXT},   {.name = "y", .type = BARGE_T_BYTES},
	{.name = "da", .type = BARGE_T_DATE},   {.name = "ti", .type = BARGE_T_TIME},
	{.name = "ts", .type = BARGE_T_TIMESTAMP},
	{.name = "tz", .type = BARGE_T_TIMESTAMPTZ},
	{.name = "u", .type = BARGE_T_UUID},   {.name = "j", .type = BARGE_T_JSON},
};
#define NC (sizeof cols / sizeof cols[0])
static struct barge_table_def tdef = {.name = "t", .ncols = NC, .cols = cols};

static const unsigned char uuid[16] = {0x12, 0x3e, 0x45, 0x67, 0xe8, 0x9b, 0x12, 0xd3,
				       0xa4, 0x56, 0x42, 0x66, 0x14, 0x17, 0x40, 0x00};

/* A row of edge values (k selects which). */
static void row(struct barge_value *v, int k)
{
	memset(v, 0, NC * sizeof *v);
	for (size_t i = 0; i < NC; i++)
		v[i].type = cols[i].type;
	if (k == 0) { /* extremes */
		v[0].i = 1;
		v[1].i = INT64_MIN;
		v[2].f = 5e-324;
		v[3].p = "-12345678901234567890.000000000000000001";
		v[3].n = strlen(v[3].p);
		v[4].p = "a,\"b\"\r\nc\xc3\xa9\xf0\x9f\x98\x80";
		v[4].n = strlen(v[4].p);
		v[5].p = "\x00\xff\x10";
		v[5].n = 3;
		v[6].i = -719528; /* 0000-01-01 */
		v[7].i = 86399999999;
		v[8].i = 253402300799999999; /* 9999-12-31T23:59:59.999999 */
		v[9].i = -1;                  /* 1969-12-31T23:59:59.999999Z */
		v[10].p = (const char *)uuid;
		v[10].n = 16;
		v[11].p = "{ \"b\" : [1, 2.50],\n \"a\" : \"x\" }";
		v[11].n = strlen(v[11].p);
	} else if (k == 1) { /* empties, zeros, NaN */
		v[1].i = INT64_MAX;
		v[2].f = NAN;
		v[3].p = "0";
		v[3].n = 1;
		v[4].p = "";
		v[5].p = "";
		v[10].p = "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0";
		v[10].n = 16;
		v[11].p = "not json";
		v[11].n = 8;
	} else { /* all NULL */
		for (size_t i = 0; i < NC; i++)
			v[i].null = 1;
	}
}

static void encode(struct barge_buf *out, const struct file_opts *o)
{
	struct file_enc e;
	struct barge_value v[NC];
	file_enc_init(&e, o, &tdef);
	barge_buf_clear(out);
	CHECK_OK(o->format->begin ? o->format->begin(&e, out) : 0);
	for (int k = 0; k < 3; k++) {
		row(v, k);
		CHECK_OK(file_enc_row(&e, v, out));
	}
	file_enc_dispose(&e);
}

static void opts(struct file_opts *o, const char *query)
{
	struct barge_url *u = NULL;
	char url[256];
	snprintf(url, sizeof url, "file:/tmp/x%s", query);
	CHECK_OK(barge_url_parse(&u, url));
	CHECK_OK(file_opts_parse(o, u));
	barge_url_free(u);
}

static void test_csv(void)
{
	struct barge_buf out;
	struct file_opts o;
	barge_buf_init(&out, 1 << 20);
	opts(&o, "?format=csv");
	encode(&out, &o);
	CHECK_STR(out.p,
		  "b,i,f,d,t,y,da,ti,ts,tz,u,j\n"
		  "true,-9223372036854775808,5e-324,"
		  "-12345678901234567890.000000000000000001,"
		  "\"a,\"\"b\"\"\r\nc\xc3\xa9\xf0\x9f\x98\x80\",\\x00ff10,0000-01-01,"
		  "23:59:59.999999,9999-12-31T23:59:59.999999,"
		  "1969-12-31T23:59:59.999999+00:00,123e4567-e89b-12d3-a456-426614174000,"
		  "\"{ \"\"b\"\" : [1, 2.50],\n \"\"a\"\" : \"\"x\"\" }\"\n"
		  "false,9223372036854775807,NaN,0,\"\",\\x,1970-01-01,00:00:00,"
		  "1970-01-01T00:00:00,1970-01-01T00:00:00+00:00,"
		  "00000000-0000-0000-0000-000000000000,not json\n"
		  ",,,,,,,,,,,\n");

	/* another dialect: ; and ', NULL as \N (so the empty string is bare) */
	opts(&o, "?format=csv&delimiter=;&quote='&null=%5CN&header=false&bytes=base64");
	encode(&out, &o);
	CHECK(strncmp(out.p, "true;-9223372036854775808;", 26) == 0);
	CHECK(strstr(out.p, ";'a,\"b\"\r\nc") != NULL);
	CHECK(strstr(out.p, ";AP8Q;") != NULL);
	CHECK(strstr(out.p, "NaN;0;;;1970") != NULL); /* empty text and bytes unquoted */
	CHECK(strstr(out.p, "\n\\N;\\N;\\N;\\N;\\N;\\N;\\N;\\N;\\N;\\N;\\N;\\N\n") != NULL);
	barge_buf_dispose(&out);
}

static void test_jsonl(void)
{
	struct barge_buf out;
	struct file_opts o;
	barge_buf_init(&out, 1 << 20);
	opts(&o, "?format=jsonl");
	encode(&out, &o);
	CHECK_STR(out.p,
		  "{\"b\":true,\"i\":-9223372036854775808,\"f\":5e-324,"
		  "\"d\":-12345678901234567890.000000000000000001,"
		  "\"t\":\"a,\\\"b\\\"\\r\\nc\xc3\xa9\xf0\x9f\x98\x80\",\"y\":\"AP8Q\","
		  "\"da\":\"0000-01-01\",\"ti\":\"23:59:59.999999\","
		  "\"ts\":\"9999-12-31T23:59:59.999999\","
		  "\"tz\":\"1969-12-31T23:59:59.999999+00:00\","
		  "\"u\":\"123e4567-e89b-12d3-a456-426614174000\","
		  "\"j\":{\"a\":\"x\",\"b\":[1,2.5]}}\n"
		  "{\"b\":false,\"i\":9223372036854775807,\"f\":\"NaN\",\"d\":0,\"t\":\"\","
		  "\"y\":\"\",\"da\":\"1970-01-01\",\"ti\":\"00:00:00\","
		  "\"ts\":\"1970-01-01T00:00:00\",\"tz\":\"1970-01-01T00:00:00+00:00\","
		  "\"u\":\"00000000-0000-0000-0000-000000000000\",\"j\":\"not json\"}\n"
		  "{\"b\":null,\"i\":null,\"f\":null,\"d\":null,\"t\":null,\"y\":null,"
		  "\"da\":null,\"ti\":null,\"ts\":null,\"tz\":null,\"u\":null,\"j\":null}\n");

	/* numbers=string: decimals and integers past 2^53 as strings */
	opts(&o, "?format=jsonl&numbers=string");
	encode(&out, &o);
	CHECK(strstr(out.p, "\"i\":\"-9223372036854775808\"") != NULL);
	CHECK(strstr(out.p, "\"d\":\"-12345678901234567890.000000000000000001\"") != NULL);
	CHECK(strstr(out.p, "\"d\":\"0\"") != NULL);
	barge_buf_dispose(&out);
}

/* Values with no text: one clear error naming the column. */
static void test_refused(void)
{
	struct barge_buf out;
	struct file_opts o;
	struct file_enc e;
	struct barge_value v[NC];
	barge_buf_init(&out, 1 << 20);
	opts(&o, "?format=jsonl");
	file_enc_init(&e, &o, &tdef);
	CHECK_OK(o.format->begin(&e, &out));
	row(v, 1);
	v[8].i = 253402300800000000; /* 10000-01-01 */
	size_t before = out.len;
	CHECK(file_enc_row(&e, v, &out) == BARGE_EDATA);
	CHECK(strstr(barge_error_last(), "column 'ts'") != NULL);
	CHECK(out.len == before); /* nothing of the refused row is left */
	row(v, 1);
	v[4].p = "\xc3(";
	v[4].n = 2;
	CHECK(file_enc_row(&e, v, &out) == BARGE_EDATA);
	CHECK(strstr(barge_error_last(), "column 't': text that is not valid UTF-8") != NULL);
	file_enc_dispose(&e);
	barge_buf_dispose(&out);

	struct barge_url *u = NULL;
	CHECK_OK(barge_url_parse(&u, "file:/tmp/x?format=parquet"));
	CHECK(file_opts_parse(&o, u) == BARGE_EUSAGE);
	barge_url_free(u);
	CHECK_OK(barge_url_parse(&u, "file:/tmp/x?delimiter=%22"));
	CHECK(file_opts_parse(&o, u) == BARGE_EUSAGE); /* the quote */
	barge_url_free(u);
}

/* Write `n` bytes through a sink, read the file back, decompress. */
static void sink_round(int comp)
{
	char path[1100], sha[65], want_hex[65];
	unsigned char want[crypto_hash_sha256_BYTES];
	struct file_sink s;
	size_t n = 3u << 20;
	char *data = malloc(n), *file = malloc(n + 1024), *back = malloc(n);
	for (size_t i = 0; i < n; i++)
		data[i] = (char)("barge,"[i % 6] + (i / 4096) % 3);
	harness_path(path, sizeof path, "sink.part");
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK_OK(file_sink_init(&s, fd, comp, 0, path));
	for (size_t at = 0; at < n; at += 100000)
		CHECK_OK(file_sink_write(&s, data + at, n - at < 100000 ? n - at : 100000));
	CHECK_OK(file_sink_finish(&s, sha));
	file_sink_dispose(&s);
	close(fd);

	fd = open(path, O_RDONLY);
	ssize_t got = read(fd, file, n + 1024);
	close(fd);
	CHECK(got > 0 && (uint64_t)got == s.bytes);
	crypto_hash_sha256(want, (unsigned char *)file, (size_t)got);
	barge_hex_encode(want_hex, want, sizeof want);
	want_hex[64] = '\0';
	CHECK_STR(sha, want_hex);
	size_t out_n = 0;
	if (comp == FILE_COMP_NONE) {
		memcpy(back, file, (size_t)got);
		out_n = (size_t)got;
	} else if (comp == FILE_COMP_GZIP) {
		CHECK(file[0] == '\x1f' && file[1] == (char)0x8b);
		z_stream z;
		memset(&z, 0, sizeof z);
		inflateInit2(&z, 15 + 16);
		z.next_in = (Bytef *)file;
		z.avail_in = (uInt)got;
		z.next_out = (Bytef *)back;
		z.avail_out = (uInt)n;
		CHECK(inflate(&z, Z_FINISH) == Z_STREAM_END);
		out_n = n - z.avail_out;
		inflateEnd(&z);
	} else {
		size_t r = ZSTD_decompress(back, n, file, (size_t)got);
		CHECK(!ZSTD_isError(r));
		out_n = ZSTD_isError(r) ? 0 : r;
	}
	CHECK(out_n == n && memcmp(back, data, n) == 0);
	if (comp != FILE_COMP_NONE)
		CHECK((size_t)got < n / 10);
	free(data);
	free(file);
	free(back);
}

int main(void)
{
	CHECK(sodium_init() >= 0);
	test_csv();
	test_jsonl();
	test_refused();
	sink_round(FILE_COMP_NONE);
	sink_round(FILE_COMP_GZIP);
	sink_round(FILE_COMP_ZSTD);
	return harness_done();
}
