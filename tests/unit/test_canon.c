#include "canon.h"
#include "harness.h"

#include <math.h>

/* Digest of one row holding one value of a column type. */
static void one(char hex[33], int type, const struct barge_value *v)
{
	struct barge_batch *b = NULL;
	struct barge_digest d;
	struct barge_buf s;
	barge_buf_init(&s, 1 << 20);
	barge_digest_init(&d);
	barge_batch_new(&b, 1, &type, 1);
	barge_batch_put_value(b, 0, v);
	barge_batch_end_row(b);
	CHECK_OK(barge_canon_digest_batch(&d, &s, b, 1));
	barge_digest_hex(&d, hex);
	barge_batch_free(b);
	barge_buf_dispose(&s);
}


/* Golden vectors: the encoded bytes and the row hash (hi then lo) of one
 * value each. A change here changes every digest barge ever recorded. */
static void golden(const char *name, int type, struct barge_value v,
		   const char *want_enc, const char *want_hash)
{
	struct barge_batch *b = NULL;
	struct barge_buf s;
	char enc[512], hash[33];
	uint64_t lo, hi;
	barge_buf_init(&s, 1 << 20);
	barge_batch_new(&b, 1, &type, 1);
	if (v.null)
		barge_batch_put_null(b, 0);
	else if (type == BARGE_T_ANY)
		barge_batch_put_tagged(b, 0, &v);
	else
		barge_batch_put_value(b, 0, &v);
	barge_batch_end_row(b);
	CHECK_OK(barge_canon_encode_row(&s, b, 1, 0));
	for (size_t i = 0; i < s.len && 2 * i + 2 < sizeof enc; i++)
		snprintf(enc + 2 * i, 3, "%02x", (unsigned char)s.p[i]);
	enc[s.len ? 2 * s.len : 0] = '\0';
	barge_canon_hash(&s, &lo, &hi);
	snprintf(hash, sizeof hash, "%016llx%016llx", (unsigned long long)hi,
		 (unsigned long long)lo);
	if (strcmp(enc, want_enc) || strcmp(hash, want_hash))
		fprintf(stderr, "golden %s: got %s %s\n", name, enc, hash);
	CHECK_STR(enc, want_enc);
	CHECK_STR(hash, want_hash);
	barge_batch_free(b);
	barge_buf_dispose(&s);
}

static void check_json(const char *in, const char *want)
{
	struct barge_buf b;
	barge_buf_init(&b, 1 << 20);
	int r = barge_canon_json(&b, in, strlen(in));
	if (!want) {
		CHECK(r == 1);
	} else {
		CHECK(r == 0);
		CHECK_STR(r == 0 ? b.p : "(invalid)", want);
	}
	barge_buf_dispose(&b);
}

static void goldens(void)
{
	golden("int64 -1", BARGE_T_INT64, (struct barge_value){.type=BARGE_T_INT64,.i=-1},
	       "020008000000ffffffffffffffff",
	       "de6054d5187ecc2ac6fcda40a9acd110");
	golden("float -0", BARGE_T_FLOAT64, (struct barge_value){.type=BARGE_T_FLOAT64,.f=-0.0},
	       "0300080000000000000000000000",
	       "39fac6fca734dd30277631a04ae72761");
	golden("float 0.1", BARGE_T_FLOAT64, (struct barge_value){.type=BARGE_T_FLOAT64,.f=0.1},
	       "0300080000009a9999999999b93f",
	       "cdfad0f9d92fedad23ef72e7de8dd747");
	golden("float nan", BARGE_T_FLOAT64, (struct barge_value){.type=BARGE_T_FLOAT64,.f=-NAN},
	       "030008000000000000000000f87f",
	       "f801d6a660f89af1cdbbf612b2d9d6a8");
	golden("text null", BARGE_T_TEXT, (struct barge_value){.type=BARGE_T_TEXT,.null=1},
	       "050100000000",
	       "737a837dc7a75b2162f5d1515eb07dcb");
	golden("text empty", BARGE_T_TEXT, (struct barge_value){.type=BARGE_T_TEXT,.p="",.n=0},
	       "050000000000",
	       "fec1882bbdd91a59a208bcb2674c7583");
	golden("text 'a '", BARGE_T_TEXT, (struct barge_value){.type=BARGE_T_TEXT,.p="a ",.n=2},
	       "0500020000006120",
	       "00d51621de06fabdea8662b93df5968e");
	golden("decimal -001.50", BARGE_T_DECIMAL, (struct barge_value){.type=BARGE_T_DECIMAL,.p="-001.50",.n=7},
	       "0400040000002d312e35",
	       "637be01677daf64f8685db441db1d06b");
	golden("date 1970-01-02", BARGE_T_DATE, (struct barge_value){.type=BARGE_T_DATE,.i=1},
	       "0700080000000100000000000000",
	       "bd9e5fed7b91b4b5f7c248f635271f00");
	golden("timestamptz 1us", BARGE_T_TIMESTAMPTZ, (struct barge_value){.type=BARGE_T_TIMESTAMPTZ,.i=1},
	       "0a00080000000100000000000000",
	       "7aa1f7f51349f3a1c82e12d86c9bdd7b");
	golden("uuid", BARGE_T_UUID, (struct barge_value){.type=BARGE_T_UUID,.p="\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\xcc\xdd\xee\xff",.n=16},
	       "0b001000000000112233445566778899aabbccddeeff",
	       "7a835a9ec7d6d819dfce4161110f3874");
	golden("json", BARGE_T_JSON, (struct barge_value){.type=BARGE_T_JSON,.p="{ \"b\": 1.0, \"a\": [] }",.n=21},
	       "0c000e0000007b2261223a5b5d2c2262223a317d",
	       "8ffe461f54930047b0cfeeb506e6f404");
	golden("json invalid", BARGE_T_JSON, (struct barge_value){.type=BARGE_T_JSON,.p="{x",.n=2},
	       "0c02020000007b78",
	       "a67489805c9ecb3189891046490ff2d2");
	golden("bool true", BARGE_T_BOOL, (struct barge_value){.type=BARGE_T_BOOL,.i=1},
	       "0100080000000100000000000000",
	       "c0f76043cd3c69068036f1747f2ffaaa");
	golden("any int 0", BARGE_T_ANY, (struct barge_value){.type=BARGE_T_INT64,.i=0},
	       "0200080000000000000000000000",
	       "1da4d2538b99a3f058689360433d811f");
	golden("bytes 00ff", BARGE_T_BYTES, (struct barge_value){.type=BARGE_T_BYTES,.p="\x00\xff",.n=2},
	       "06000200000000ff",
	       "0c1da37c7637214029f3daa1d3b74c6b");
}

int main(void)
{
	char a[33], b[33];
	struct barge_value v = {.type = BARGE_T_FLOAT64, .f = 0.0};
	struct barge_value w = {.type = BARGE_T_FLOAT64, .f = -0.0};
	one(a, BARGE_T_FLOAT64, &v);
	one(b, BARGE_T_FLOAT64, &w);
	CHECK_STR(a, b); /* -0 equals 0 */
	w.f = nextafter(0.0, 1.0);
	one(b, BARGE_T_FLOAT64, &w);
	CHECK(strcmp(a, b) != 0); /* the last bit counts */
	v.f = NAN;
	w.f = -NAN;
	one(a, BARGE_T_FLOAT64, &v);
	one(b, BARGE_T_FLOAT64, &w);
	CHECK_STR(a, b); /* one NaN */

	struct barge_value d1 = {.type = BARGE_T_DECIMAL, .p = "001.500", .n = 7};
	struct barge_value d2 = {.type = BARGE_T_DECIMAL, .p = "1.5", .n = 3};
	struct barge_value d3 = {.type = BARGE_T_DECIMAL, .p = "-0.00", .n = 5};
	struct barge_value d4 = {.type = BARGE_T_DECIMAL, .p = "0", .n = 1};
	struct barge_value d5 = {.type = BARGE_T_DECIMAL, .p = "15", .n = 2};
	one(a, BARGE_T_DECIMAL, &d1);
	one(b, BARGE_T_DECIMAL, &d2);
	CHECK_STR(a, b);
	one(a, BARGE_T_DECIMAL, &d3);
	one(b, BARGE_T_DECIMAL, &d4);
	CHECK_STR(a, b);
	one(a, BARGE_T_DECIMAL, &d5);
	CHECK(strcmp(a, b) != 0);

	/* NULL differs from empty text; framing keeps ('a|b','c') != ('a','b|c') */
	struct barge_value n = {.type = BARGE_T_TEXT, .null = 1};
	struct barge_value e = {.type = BARGE_T_TEXT, .p = "", .n = 0};
	one(a, BARGE_T_TEXT, &n);
	one(b, BARGE_T_TEXT, &e);
	CHECK(strcmp(a, b) != 0);

	int types[2] = {BARGE_T_TEXT, BARGE_T_TEXT};
	struct barge_batch *bt = NULL;
	barge_batch_new(&bt, 2, types, 2);
	barge_batch_put_bytes(bt, 0, "a|b", 3);
	barge_batch_put_bytes(bt, 1, "c", 1);
	barge_batch_end_row(bt);
	barge_batch_put_bytes(bt, 0, "a", 1);
	barge_batch_put_bytes(bt, 1, "b|c", 3);
	barge_batch_end_row(bt);
	struct barge_buf s1, s2;
	barge_buf_init(&s1, 1 << 10);
	barge_buf_init(&s2, 1 << 10);
	barge_canon_encode_row(&s1, bt, 2, 0);
	barge_canon_encode_row(&s2, bt, 2, 1);
	CHECK(s1.len != s2.len || memcmp(s1.p, s2.p, s1.len) != 0);

	/* order independence: the sum of two rows either way round */
	struct barge_digest x, y;
	barge_digest_init(&x);
	barge_digest_init(&y);
	barge_canon_digest_batch(&x, &s1, bt, 2);
	barge_batch_reset(bt);
	barge_batch_put_bytes(bt, 0, "a", 1);
	barge_batch_put_bytes(bt, 1, "b|c", 3);
	barge_batch_end_row(bt);
	barge_batch_put_bytes(bt, 0, "a|b", 3);
	barge_batch_put_bytes(bt, 1, "c", 1);
	barge_batch_end_row(bt);
	barge_canon_digest_batch(&y, &s1, bt, 2);
	barge_digest_hex(&x, a);
	barge_digest_hex(&y, b);
	CHECK_STR(a, b);
	CHECK(x.rows == 2);

	/* carry across the low half */
	struct barge_digest c;
	barge_digest_init(&c);
	barge_digest_add(&c, UINT64_MAX, 0);
	barge_digest_add(&c, 1, 0);
	CHECK(c.lo == 0 && c.hi == 1);
	c.hi = UINT64_C(0x0123456789abcdef);
	c.lo = UINT64_C(0xfedcba9876543210);
	barge_digest_hex(&c, a);
	CHECK_STR(a, "0123456789abcdeffedcba9876543210");

	/* canonical JSON */
	check_json(" { \"b\" : [1.0, 10e-1, 1E0, -0, 0.000], \"a\" : 2 } ",
		   "{\"a\":2,\"b\":[1,1,1,0,0]}");
	check_json("{\"k\":1,\"k\":2}", "{\"k\":1,\"k\":2}"); /* kept */
	check_json("\"\\u00e9\\/\\u0001\\n\"", "\"\xc3\xa9/\\u0001\\n\"");
	check_json("\"\\ud83d\\ude00\"", "\"\xf0\x9f\x98\x80\"");
	check_json("123.4500", "123.45");
	check_json("-0.5e1", "-5");
	check_json("0.1", "0.1");
	check_json("0.10000000000000001", "0.10000000000000001"); /* exact */
	check_json("1e400", "1e+400");
	check_json("1e-7", "0.0000001");
	check_json("1e-8", "1e-8");
	check_json("12345678901234567890123", "1.2345678901234567890123e+22");
	check_json("[true,false,null]", "[true,false,null]");
	check_json("[1,]", NULL);
	check_json("{\"a\":1}x", NULL);
	check_json("\"\\udc00\"", NULL); /* lone surrogate */
	check_json("01", NULL);
	check_json("nul", NULL);
	check_json("\"\xff\"", NULL); /* not UTF-8 */
	{
		char deep[600];
		memset(deep, '[', 300);
		memset(deep + 300, ']', 300);
		deep[600 - 1] = '\0';
		deep[599] = '\0';
		struct barge_buf jb;
		barge_buf_init(&jb, 1 << 20);
		CHECK(barge_canon_json(&jb, deep, 600 - 1) == 1); /* too deep */
		barge_buf_dispose(&jb);
	}
	/* two spellings of one document digest alike, in a JSON column */
	struct barge_value j1 = {.type = BARGE_T_JSON, .p = "{\"x\": 1.50, \"a\": null}"};
	struct barge_value j2 = {.type = BARGE_T_JSON, .p = "{\"a\":null,\"x\":15e-1}"};
	j1.n = strlen(j1.p);
	j2.n = strlen(j2.p);
	one(a, BARGE_T_JSON, &j1);
	one(b, BARGE_T_JSON, &j2);
	CHECK_STR(a, b);

	goldens();

	barge_batch_free(bt);
	barge_buf_dispose(&s1);
	barge_buf_dispose(&s2);
	return harness_done();
}
