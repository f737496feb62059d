#include "util.h"
#include "barge/barge.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void barge_buf_init(struct barge_buf *b, size_t cap)
{
	memset(b, 0, sizeof *b);
	b->cap = cap;
}

void barge_buf_dispose(struct barge_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof *b);
}

void barge_buf_clear(struct barge_buf *b)
{
	b->len = 0;
	b->err = 0;
	if (b->p)
		b->p[0] = '\0';
}

static int grow(struct barge_buf *b, size_t need)
{
	if (b->err)
		return b->err;
	if (need + 1 > b->cap) {
		b->err = barge_error_set(BARGE_ENOMEM,
					 "buffer would grow past its cap of %zu bytes",
					 b->cap);
		return b->err;
	}
	if (need + 1 <= b->alloc)
		return 0;
	size_t a = b->alloc ? b->alloc : 64;
	while (a < need + 1)
		a *= 2;
	if (a > b->cap)
		a = b->cap;
	char *p = realloc(b->p, a);
	if (!p) {
		b->err = barge_error_set(BARGE_ENOMEM, "out of memory");
		return b->err;
	}
	b->p = p;
	b->alloc = a;
	return 0;
}

void *barge_grow(void *p, size_t *cap, size_t n, size_t size, size_t first)
{
	size_t nc = *cap ? *cap : first;
	void *np;

	if (n < *cap)
		return p;
	while (nc <= n && nc <= SIZE_MAX / 2)
		nc *= 2;
	if (nc <= n || nc > SIZE_MAX / size || !(np = realloc(p, nc * size))) {
		barge_error_set(BARGE_ENOMEM, "out of memory");
		return NULL;
	}
	*cap = nc;
	return np;
}

int barge_buf_add_slow(struct barge_buf *b, const void *p, size_t n)
{
	int err = grow(b, b->len + n);
	if (err)
		return err;
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

int barge_buf_adds(struct barge_buf *b, const char *s)
{
	return barge_buf_add(b, s, strlen(s));
}

int barge_buf_printf(struct barge_buf *b, const char *fmt, ...)
{
	va_list ap;
	char small[256];
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0)
		return b->err = barge_error_set(BARGE_ERROR, "format failed");
	if ((size_t)n < sizeof small)
		return barge_buf_add(b, small, (size_t)n);
	int err = grow(b, b->len + (size_t)n);
	if (err)
		return err;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

int barge_buf_json_str(struct barge_buf *b, const char *s, size_t n)
{
	barge_buf_add(b, "\"", 1);
	size_t run = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f)
			continue;
		barge_buf_add(b, s + run, i - run);
		run = i + 1;
		switch (c) {
		case '"': barge_buf_add(b, "\\\"", 2); break;
		case '\\': barge_buf_add(b, "\\\\", 2); break;
		case '\n': barge_buf_add(b, "\\n", 2); break;
		case '\t': barge_buf_add(b, "\\t", 2); break;
		case '\r': barge_buf_add(b, "\\r", 2); break;
		default: {
			char u[6] = {'\\', 'u', '0', '0'};
			barge_hex_encode(u + 4, &c, 1);
			barge_buf_add(b, u, 6);
		}
		}
	}
	barge_buf_add(b, s + run, n - run);
	return barge_buf_add(b, "\"", 1);
}

int barge_buf_detach(struct barge_buf *b, char **out)
{
	*out = NULL;
	if (b->err) {
		int err = b->err;
		barge_buf_dispose(b);
		return err;
	}
	if (!b->p && barge_buf_add(b, "", 0) < 0)
		return b->err;
	*out = b->p;
	b->p = NULL;
	b->len = b->alloc = 0;
	return 0;
}

/* ---- hex digits and UUID text ---- */

int barge_hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void barge_hex_encode(char *out, const void *p, size_t n)
{
	static const char hexd[] = "0123456789abcdef";
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++) {
		*out++ = hexd[b[i] >> 4];
		*out++ = hexd[b[i] & 15];
	}
}

int barge_uuid_parse(unsigned char out[16], const char *p, size_t n)
{
	if (n != 36)
		return BARGE_EDATA;
	for (size_t i = 0, o = 0; i < 36;) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (p[i++] != '-')
				return BARGE_EDATA;
			continue;
		}
		int hi = barge_hex_digit(p[i]), lo = barge_hex_digit(p[i + 1]);
		if (hi < 0 || lo < 0)
			return BARGE_EDATA;
		out[o++] = (unsigned char)(hi << 4 | lo);
		i += 2;
	}
	return 0;
}

void barge_uuid_format(char out[37], const unsigned char u[16])
{
	size_t o = 0;
	for (size_t i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		barge_hex_encode(out + o, u + i, 1);
		o += 2;
	}
	out[o] = '\0';
}

int barge_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *e = p + n;
	while (p < e) {
		/* ASCII runs eight bytes at a time */
		while (e - p >= 8) {
			uint64_t w;
			memcpy(&w, p, 8);
			if (w & UINT64_C(0x8080808080808080))
				break;
			p += 8;
		}
		if (p == e)
			break;
		unsigned c = *p;
		if (c < 0x80) {
			p++;
			continue;
		}
		size_t len;
		unsigned min;
		if ((c & 0xe0) == 0xc0) {
			len = 2;
			min = 0x80;
			c &= 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			len = 3;
			min = 0x800;
			c &= 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			len = 4;
			min = 0x10000;
			c &= 0x07;
		} else
			return 0;
		if ((size_t)(e - p) < len)
			return 0;
		for (size_t i = 1; i < len; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return 0;
			c = c << 6 | (p[i] & 0x3f);
		}
		if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
			return 0;
		p += len;
	}
	return 1;
}

double barge_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

double barge_monotonic(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void barge_sleep(double seconds)
{
	if (seconds <= 0)
		return;
	struct timespec ts;
	ts.tv_sec = (time_t)seconds;
	ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

void barge_test_pause(const char *point)
{
	const char *env = getenv("BARGE_TEST_PAUSE");
	size_t n = strlen(point);
	if (!env || strncmp(env, point, n) != 0 || env[n] != ':' || !env[n + 1])
		return;
	const char *path = env + n + 1;
	FILE *f = fopen(path, "w");
	if (!f)
		return;
	fclose(f);
	for (int i = 0; i < 6000 && access(path, F_OK) == 0; i++)
		barge_sleep(0.01);
}

int barge_parse_i64(int64_t *out, const char *s, const char *what)
{
	char *e;
	errno = 0;
	long long v = strtoll(s, &e, 10);
	if (errno || e == s || *e)
		return barge_error_set(BARGE_EUSAGE, "%s: '%s' is not a whole number",
				       what, s);
	*out = v;
	return 0;
}
