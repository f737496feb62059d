#include "barge/barge.h"
#include "harness.h"

#include <math.h>

static void test_fill_and_read(void)
{
	int types[] = {BARGE_T_INT64, BARGE_T_TEXT, BARGE_T_FLOAT64, BARGE_T_ANY};
	struct barge_batch *b = NULL;
	CHECK_OK(barge_batch_new(&b, 4, types, 3));
	if (!b)
		return;
	for (int round = 0; round < 2; round++) {
		barge_batch_reset(b);
		CHECK(b->nrows == 0);
		/* row 0: values; row 1: NULLs; row 2: empty text, -0.0, blob */
		barge_batch_put_i64(b, 0, INT64_MIN);
		barge_batch_put_bytes(b, 1, "h\0i", 3);
		barge_batch_put_f64(b, 2, 5e-324);
		struct barge_value v = {.type = BARGE_T_INT64, .i = 7};
		CHECK_OK(barge_batch_put_tagged(b, 3, &v));
		barge_batch_end_row(b);
		for (size_t c = 0; c < 4; c++)
			barge_batch_put_null(b, c);
		barge_batch_end_row(b);
		barge_batch_put_i64(b, 0, INT64_MAX);
		barge_batch_put_bytes(b, 1, "", 0);
		barge_batch_put_f64(b, 2, -0.0);
		struct barge_value blob = {.type = BARGE_T_BYTES, .p = "\x00\xff", .n = 2};
		CHECK_OK(barge_batch_put_tagged(b, 3, &blob));
		barge_batch_end_row(b);
		CHECK(barge_batch_full(b));

		size_t n;
		const char *p;
		CHECK(barge_batch_i64(b, 0, 0) == INT64_MIN);
		p = barge_batch_bytes_at(b, 1, 0, &n);
		CHECK(n == 3 && memcmp(p, "h\0i", 3) == 0);
		CHECK(barge_batch_f64(b, 2, 0) == 5e-324);
		struct barge_value g;
		barge_batch_get(b, 3, 0, &g);
		CHECK(g.type == BARGE_T_INT64 && g.i == 7 && !g.null);
		for (size_t c = 0; c < 4; c++)
			CHECK(barge_batch_is_null(b, c, 1));
		CHECK(!barge_batch_is_null(b, 1, 2));
		p = barge_batch_bytes_at(b, 1, 2, &n);
		CHECK(n == 0);
		double z = barge_batch_f64(b, 2, 2);
		CHECK(z == 0 && signbit(z));
		barge_batch_get(b, 3, 2, &g);
		CHECK(g.type == BARGE_T_BYTES && g.n == 2 && memcmp(g.p, "\x00\xff", 2) == 0);
	}
	barge_batch_free(b);
}

static void test_abandon_and_caps(void)
{
	int types[] = {BARGE_T_TEXT};
	struct barge_batch *b = NULL;
	CHECK_OK(barge_batch_new(&b, 1, types, 10));
	if (!b)
		return;
	barge_batch_put_bytes(b, 0, "keep", 4);
	barge_batch_end_row(b);
	barge_batch_put_bytes(b, 0, "drop", 4);
	barge_batch_abandon_row(b);
	CHECK(b->nrows == 1);
	CHECK(b->cols[0].data_len == 4);
	b->hard_bytes = 16;
	char big[32] = {0};
	CHECK(barge_batch_put_bytes(b, 0, big, sizeof big) == BARGE_ENOMEM);
	CHECK(strstr(barge_error_last(), "does not fit") != NULL);
	b->soft_bytes = 4;
	CHECK(barge_batch_full(b));
	CHECK(barge_batch_bytes(b) == 4);
	/* a type mismatch is a data error, not a silent change */
	struct barge_value v = {.type = BARGE_T_INT64, .i = 1};
	CHECK(barge_batch_put_value(b, 0, &v) == BARGE_EDATA);
	barge_batch_free(b);
	barge_batch_free(NULL);
}

int main(void)
{
	test_fill_and_read();
	test_abandon_and_caps();
	return harness_done();
}
