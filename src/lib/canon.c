#include "canon.h"

#include <math.h>
#include <string.h>
#include <xxhash.h>

void barge_digest_init(struct barge_digest *d)
{
	memset(d, 0, sizeof *d);
}

void barge_digest_add(struct barge_digest *d, uint64_t lo, uint64_t hi)
{
	uint64_t s = d->lo + lo;
	d->hi += hi + (s < d->lo);
	d->lo = s;
	d->rows++;
}

void barge_digest_hex(const struct barge_digest *d, char out[33])
{
	static const char hexd[] = "0123456789abcdef";
	for (int i = 0; i < 16; i++) {
		out[i] = hexd[(d->hi >> (60 - 4 * i)) & 15];
		out[16 + i] = hexd[(d->lo >> (60 - 4 * i)) & 15];
	}
	out[32] = '\0';
}

static void put_le(unsigned char *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static int frame(struct barge_buf *out, int tag, int null, const void *p,
		 size_t n)
{
	unsigned char h[6];
	h[0] = (unsigned char)tag;
	h[1] = (unsigned char)null;
	put_le(h + 2, n, 4);
	barge_buf_add(out, h, sizeof h);
	return barge_buf_add(out, p, n);
}

/* Decimal text without insignificant zeros: "-001.50" -> "-1.5", "-0" -> "0". */
static int put_decimal(struct barge_buf *out, const char *p, size_t n)
{
	char tmp[128];
	size_t i = 0, w = 0;
	int neg = 0;

	if (n >= sizeof tmp)
		return frame(out, BARGE_T_DECIMAL, 0, p, n);
	if (i < n && (p[i] == '-' || p[i] == '+'))
		neg = p[i++] == '-';
	if (i < n && !(p[i] >= '0' && p[i] <= '9') && p[i] != '.')
		return frame(out, BARGE_T_DECIMAL, 0, p, n); /* NaN, Infinity */
	while (i + 1 < n && p[i] == '0' && p[i + 1] != '.')
		i++;
	const char *dot = memchr(p + i, '.', n - i);
	size_t end = n;
	if (dot) {
		while (end > (size_t)(dot - p) + 1 && p[end - 1] == '0')
			end--;
		if (end == (size_t)(dot - p) + 1)
			end--;
	}
	int zero = 1;
	for (size_t j = i; j < end; j++)
		if (p[j] >= '1' && p[j] <= '9')
			zero = 0;
	if (neg && !zero)
		tmp[w++] = '-';
	if (i < end && p[i] == '.')
		tmp[w++] = '0';
	memcpy(tmp + w, p + i, end - i);
	w += end - i;
	if (w == 0)
		tmp[w++] = '0';
	return frame(out, BARGE_T_DECIMAL, 0, tmp, w);
}

int barge_canon_encode_row(struct barge_buf *out, const struct barge_batch *b,
			   size_t ncols, size_t row)
{
	unsigned char le[8];
	barge_buf_clear(out);
	for (size_t c = 0; c < ncols; c++) {
		struct barge_value v;
		barge_batch_get(b, c, row, &v);
		if (v.null) {
			frame(out, v.type, 1, NULL, 0);
			continue;
		}
		switch (v.type) {
		case BARGE_T_FLOAT64: {
			double f = v.f;
			uint64_t bits;
			if (f == 0)
				f = 0; /* -0 and 0 are one value */
			memcpy(&bits, &f, 8);
			if (isnan(f))
				bits = 0x7ff8000000000000ull;
			put_le(le, bits, 8);
			frame(out, v.type, 0, le, 8);
			break;
		}
		case BARGE_T_DECIMAL:
			put_decimal(out, v.p, v.n);
			break;
		default:
			if (barge_type_is_varlen(v.type)) {
				frame(out, v.type, 0, v.p, v.n);
			} else {
				put_le(le, (uint64_t)v.i, 8);
				frame(out, v.type, 0, le, 8);
			}
		}
	}
	return out->err;
}

int barge_canon_digest_batch(struct barge_digest *d, struct barge_buf *scratch,
			     const struct barge_batch *b, size_t ncols)
{
	for (size_t r = 0; r < b->nrows; r++) {
		int err = barge_canon_encode_row(scratch, b, ncols, r);
		if (err)
			return err;
		XXH128_hash_t h = XXH3_128bits(scratch->p, scratch->len);
		barge_digest_add(d, h.low64, h.high64);
	}
	return 0;
}
