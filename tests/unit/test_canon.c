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

	barge_batch_free(bt);
	barge_buf_dispose(&s1);
	barge_buf_dispose(&s2);
	return harness_done();
}
