#include "barge/barge.h"
#include "harness.h"

#include <stdlib.h>

static void roundtrip(size_t n, const struct barge_value *vals, const int *types,
		      const char *want)
{
	struct barge_key *k = NULL, *back = NULL;
	char *json = NULL;
	CHECK_OK(barge_key_new(&k, n, vals));
	CHECK_OK(barge_key_to_json(&json, k));
	if (want)
		CHECK_STR(json, want);
	CHECK_OK(barge_key_from_json(&back, json, n, types));
	if (k && back)
		CHECK(barge_key_cmp(k, back) == 0);
	for (size_t i = 0; back && i < n; i++)
		CHECK(back->v[i].type == vals[i].type || types[i] != BARGE_T_ANY);
	free(json);
	barge_key_free(k);
	barge_key_free(back);
}

int main(void)
{
	int t1[] = {BARGE_T_INT64};
	struct barge_value v1[] = {{.type = BARGE_T_INT64, .i = INT64_MIN}};
	roundtrip(1, v1, t1, "[-9223372036854775808]");

	int t2[] = {BARGE_T_TEXT, BARGE_T_INT64};
	struct barge_value v2[] = {{.type = BARGE_T_TEXT, .p = "a|b", .n = 3},
				   {.type = BARGE_T_INT64, .i = 3}};
	roundtrip(2, v2, t2, "[\"a|b\",3]");

	/* text with a quote, a NUL and invalid UTF-8 goes as hex */
	int t3[] = {BARGE_T_TEXT, BARGE_T_BYTES, BARGE_T_FLOAT64};
	struct barge_value v3[] = {{.type = BARGE_T_TEXT, .p = "\"\0\xff", .n = 3},
				   {.type = BARGE_T_BYTES, .p = "\x01", .n = 1},
				   {.type = BARGE_T_FLOAT64, .f = 0.1}};
	roundtrip(3, v3, t3, "[{\"x\":\"2200ff\"},{\"b\":\"01\"},0.10000000000000001]");

	/* ANY columns recover each value's own type */
	int t4[] = {BARGE_T_ANY, BARGE_T_ANY, BARGE_T_ANY, BARGE_T_ANY};
	struct barge_value v4[] = {{.type = BARGE_T_INT64, .i = 5},
				   {.type = BARGE_T_FLOAT64, .f = 2.5},
				   {.type = BARGE_T_TEXT, .p = "x", .n = 1},
				   {.type = BARGE_T_BYTES, .p = "x", .n = 1}};
	roundtrip(4, v4, t4, NULL);

	/* NULL sorts first; binary order of text */
	struct barge_key *a = NULL, *b = NULL;
	struct barge_value na = {.type = BARGE_T_TEXT, .null = 1};
	struct barge_value tb = {.type = BARGE_T_TEXT, .p = "B", .n = 1};
	struct barge_value ta = {.type = BARGE_T_TEXT, .p = "a", .n = 1};
	barge_key_new(&a, 1, &na);
	barge_key_new(&b, 1, &tb);
	CHECK(barge_key_cmp(a, b) < 0);
	barge_key_free(a);
	barge_key_new(&a, 1, &ta);
	CHECK(barge_key_cmp(b, a) < 0); /* 'B' < 'a' in binary order */
	barge_key_free(a);
	barge_key_free(b);

	struct barge_key *bad = NULL;
	CHECK(barge_key_from_json(&bad, "[1,", 2, t2) == BARGE_EDATA);
	CHECK(bad == NULL);
	return harness_done();
}
