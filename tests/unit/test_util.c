#include "barge/barge.h"
#include "harness.h"
#include "util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* UTF-8 validation, including bad bytes at every offset around the
 * eight-byte ASCII runs the validator skips a word at a time. */
static void test_utf8(void)
{
	CHECK(barge_utf8_valid("", 0));
	CHECK(barge_utf8_valid("plain ascii text, longer than a word", 36));
	CHECK(barge_utf8_valid("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 15));
	CHECK(!barge_utf8_valid("\xc0\xaf", 2));         /* overlong */
	CHECK(!barge_utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
	CHECK(!barge_utf8_valid("\xf4\x90\x80\x80", 4)); /* past U+10FFFF */
	CHECK(!barge_utf8_valid("\xe2\x82", 2));         /* cut short */

	char s[40];
	for (size_t at = 0; at < 24; at++) {
		memset(s, 'a', sizeof s);
		s[at] = (char)0xff; /* never valid */
		CHECK(!barge_utf8_valid(s, 24));
		CHECK(barge_utf8_valid(s, at)); /* the part before it is */
		/* a valid two-byte sequence there instead, then ASCII again */
		s[at] = (char)0xc3;
		s[at + 1] = (char)0xa9;
		CHECK(barge_utf8_valid(s, 24 + 1));
		/* a continuation byte cut off by the end of the text */
		CHECK(!barge_utf8_valid(s, at + 1));
	}
}

/* The inline append and its slow path: growth, the cap, the sticky error. */
static void test_buf(void)
{
	struct barge_buf b;
	barge_buf_init(&b, 100);
	for (int i = 0; i < 9; i++)
		CHECK_OK(barge_buf_add(&b, "0123456789", 10));
	CHECK(b.len == 90);
	CHECK(b.p[90] == '\0');
	CHECK(memcmp(b.p + 80, "0123456789", 10) == 0);
	CHECK_OK(barge_buf_add(&b, "abcdefghi", 9)); /* 99 + NUL = the cap */
	CHECK(b.len == 99);
	CHECK(barge_buf_add(&b, "x", 1) < 0); /* past the cap */
	CHECK(b.len == 99);
	CHECK(barge_buf_add(&b, "", 0) < 0); /* the error is sticky */
	CHECK(strcmp(b.p + 90, "abcdefghi") == 0);
	barge_buf_dispose(&b);
}

/* One hex digit, and the encoder. */
/* Arrays that double: room kept, doubled from `first`, past several
 * doublings at once, and an impossible size refused with the array kept. */
static void test_grow(void)
{
	size_t cap = 0, *v = NULL, *g;

	CHECK((g = barge_grow(v, &cap, 0, sizeof *v, 4)) != NULL && cap == 4);
	v = g;
	for (size_t i = 0; i < 4; i++)
		v[i] = i;
	CHECK(barge_grow(v, &cap, 3, sizeof *v, 4) == v && cap == 4);
	CHECK((g = barge_grow(v, &cap, 4, sizeof *v, 4)) != NULL && cap == 8);
	v = g;
	CHECK(v[3] == 3);
	CHECK((g = barge_grow(v, &cap, 100, sizeof *v, 4)) != NULL && cap == 128);
	v = g;
	CHECK(v[2] == 2);
	CHECK(barge_grow(v, &cap, SIZE_MAX / 4, sizeof *v, 4) == NULL && cap == 128);
	CHECK(v[1] == 1);
	barge_error_clear();
	free(v);
}

static void test_hex(void)
{
	static const char digits[] = "0123456789abcdefABCDEF";
	for (int i = 0; digits[i]; i++)
		CHECK(barge_hex_digit(digits[i]) == (i < 16 ? i : i - 6));
	CHECK(barge_hex_digit('g') == -1 && barge_hex_digit('G') == -1);
	CHECK(barge_hex_digit('/') == -1 && barge_hex_digit(':') == -1);
	CHECK(barge_hex_digit('@') == -1 && barge_hex_digit('`') == -1);
	CHECK(barge_hex_digit(0) == -1 && barge_hex_digit((char)0xe1) == -1);
	char out[9] = "xxxxxxxx";
	barge_hex_encode(out, "\x00\x9f\xff\x0a", 4);
	CHECK_STR(out, "009fff0a");
	barge_hex_encode(out, "", 0);
	CHECK_STR(out, "009fff0a");
}

/*
 * The one UUID parser (the SQLite reader and the plan's cast had a copy
 * each; they took the same forms, which stay): 8-4-4-4-12, either case.
 */
static void test_uuid(void)
{
	static const char *const ok[] = {
		"abcdef00-0000-4000-8000-0000000000ff",
		"ABCDEF00-0000-4000-8000-0000000000FF",
		"AbCdEf00-0000-4000-8000-0000000000fF",
	};
	static const char *const refused[] = {
		"{abcdef00-0000-4000-8000-0000000000ff}",
		"abcdef000000400080000000000000ff", /* 32 digits, no hyphens */
		"urn:uuid:abcdef00-0000-4000-8000-0000000000ff",
		"abcdef00-0000-4000-8000-0000000000f",
		"abcdef00-0000-4000-8000-0000000000fff",
		"abcdef000-000-4000-8000-0000000000ff",
		"abcdef00-0000-4000-8000-0000000000fg",
		"abcdef00 0000 4000 8000 0000000000ff",
		" abcdef00-0000-4000-8000-0000000000f",
	};
	unsigned char u[16];
	char back[37];
	for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
		CHECK_OK(barge_uuid_parse(u, ok[i], strlen(ok[i])));
		CHECK(u[0] == 0xab && u[6] == 0x40 && u[15] == 0xff);
		barge_uuid_format(back, u);
		CHECK_STR(back, ok[0]);
	}
	for (size_t i = 0; i < sizeof refused / sizeof *refused; i++)
		CHECK(barge_uuid_parse(u, refused[i], strlen(refused[i])) == BARGE_EDATA);
}

int main(void)
{
	test_utf8();
	test_buf();
	test_grow();
	test_hex();
	test_uuid();
	return harness_done();
}
