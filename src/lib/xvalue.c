/*
 * Value functions of the transform stage: text forms, exact casts, decimal
 * rounding and comparison on the digits, timestamps, UUID v5 (SHA-1) and
 * encoding repair. Everything is exact or BARGE_EDATA with a reason.
 */
#include "transform.h"
#include "civil.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define US_PER_DAY INT64_C(86400000000)
#define DEC_DIGITS 1200 /* longest decimal handled (digits incl. exponent shift) */

/* ---- decimals ------------------------------------------------------------ */

struct dec {
	int neg;
	size_t nip, nfp;
	char ip[DEC_DIGITS]; /* integer digits, no leading zeros */
	char fp[DEC_DIGITS]; /* fraction digits, as written */
};

/* [+-]digits[.digits][e[+-]digits]; -1 if not a decimal number. */
static int dec_parse(struct dec *d, const char *p, size_t n)
{
	const char *end = p + n;
	char dg[DEC_DIGITS];
	size_t nd = 0;
	long point, e = 0;

	d->neg = 0;
	if (p < end && (*p == '+' || *p == '-'))
		d->neg = *p++ == '-';
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		if (nd == DEC_DIGITS)
			return -1;
		dg[nd++] = *p;
	}
	point = (long)nd;
	if (p < end && *p == '.')
		for (p++; p < end && *p >= '0' && *p <= '9'; p++) {
			if (nd == DEC_DIGITS)
				return -1;
			dg[nd++] = *p;
		}
	if (nd == 0)
		return -1;
	if (p < end && (*p == 'e' || *p == 'E')) {
		int eneg = 0, ed = 0;
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			eneg = *p++ == '-';
		for (; p < end && *p >= '0' && *p <= '9'; p++, ed++)
			if (e < 100000)
				e = e * 10 + (*p - '0');
		if (!ed)
			return -1;
		if (eneg)
			e = -e;
	}
	if (p != end || e > DEC_DIGITS / 2 || e < -DEC_DIGITS / 2)
		return -1;
	point += e;
	d->nip = d->nfp = 0;
	for (long i = point < 0 ? point : 0; i < (long)nd || i < point; i++) {
		char c = i >= 0 && i < (long)nd ? dg[i] : '0';
		if (i < point) {
			if (c == '0' && d->nip == 0)
				continue; /* leading zero */
			if (d->nip == DEC_DIGITS)
				return -1;
			d->ip[d->nip++] = c;
		} else {
			if (d->nfp == DEC_DIGITS)
				return -1;
			d->fp[d->nfp++] = c;
		}
	}
	return 0;
}

static int dec_zero(const struct dec *d)
{
	if (d->nip)
		return 0;
	for (size_t i = 0; i < d->nfp; i++)
		if (d->fp[i] != '0')
			return 0;
	return 1;
}

static int dec_format(struct barge_buf *out, const struct dec *d)
{
	if (d->neg && !dec_zero(d))
		barge_buf_add(out, "-", 1);
	if (d->nip)
		barge_buf_add(out, d->ip, d->nip);
	else
		barge_buf_add(out, "0", 1);
	if (d->nfp) {
		barge_buf_add(out, ".", 1);
		barge_buf_add(out, d->fp, d->nfp);
	}
	return out->err;
}

static void dec_round(struct dec *d, size_t places)
{
	if (d->nfp <= places)
		return;
	int up = d->fp[places] >= '5'; /* half away from zero: on the magnitude */
	d->nfp = places;
	for (size_t i = d->nfp; up && i-- > 0;) {
		if (d->fp[i] == '9') {
			d->fp[i] = '0';
		} else {
			d->fp[i]++;
			up = 0;
		}
	}
	for (size_t i = d->nip; up && i-- > 0;) {
		if (d->ip[i] == '9') {
			d->ip[i] = '0';
		} else {
			d->ip[i]++;
			up = 0;
		}
	}
	if (up && d->nip < DEC_DIGITS) {
		memmove(d->ip + 1, d->ip, d->nip);
		d->ip[0] = '1';
		d->nip++;
	}
}

int barge_decimal_round(struct barge_buf *out, const char *p, size_t n,
			int places)
{
	struct dec *d = malloc(sizeof *d);
	int err;
	if (!d)
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	if (places < 0 || dec_parse(d, p, n) < 0) {
		free(d);
		return BARGE_EDATA;
	}
	dec_round(d, (size_t)places);
	err = dec_format(out, d);
	free(d);
	return err;
}

static int dec_cmp_mag(const struct dec *a, const struct dec *b)
{
	if (a->nip != b->nip)
		return a->nip < b->nip ? -1 : 1;
	int c = memcmp(a->ip, b->ip, a->nip);
	if (c)
		return c < 0 ? -1 : 1;
	size_t n = a->nfp > b->nfp ? a->nfp : b->nfp;
	for (size_t i = 0; i < n; i++) {
		char x = i < a->nfp ? a->fp[i] : '0', y = i < b->nfp ? b->fp[i] : '0';
		if (x != y)
			return x < y ? -1 : 1;
	}
	return 0;
}

int barge_decimal_cmp(int *cmp, const char *a, size_t an, const char *b,
		      size_t bn)
{
	struct dec *x = malloc(2 * sizeof *x);
	int err = 0;
	if (!x)
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	if (dec_parse(&x[0], a, an) < 0 || dec_parse(&x[1], b, bn) < 0) {
		free(x);
		return BARGE_EDATA;
	}
	int na = x[0].neg && !dec_zero(&x[0]), nb = x[1].neg && !dec_zero(&x[1]);
	if (na != nb)
		*cmp = na ? -1 : 1;
	else
		*cmp = na ? -dec_cmp_mag(&x[0], &x[1]) : dec_cmp_mag(&x[0], &x[1]);
	free(x);
	return err;
}

/* ---- SHA-1 and UUID v5 ---------------------------------------------------- */

struct sha1 {
	uint32_t h[5];
	uint64_t len;
	unsigned char blk[64];
	size_t nblk;
};

static uint32_t rol(uint32_t x, int n)
{
	return x << n | x >> (32 - n);
}

static void sha1_block(struct sha1 *s, const unsigned char *p)
{
	uint32_t w[80], a = s->h[0], b = s->h[1], c = s->h[2], d = s->h[3],
			e = s->h[4];
	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (int i = 16; i < 80; i++)
		w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	for (int i = 0; i < 80; i++) {
		uint32_t f, k;
		if (i < 20) {
			f = (b & c) | (~b & d);
			k = 0x5A827999;
		} else if (i < 40) {
			f = b ^ c ^ d;
			k = 0x6ED9EBA1;
		} else if (i < 60) {
			f = (b & c) | (b & d) | (c & d);
			k = 0x8F1BBCDC;
		} else {
			f = b ^ c ^ d;
			k = 0xCA62C1D6;
		}
		uint32_t t = rol(a, 5) + f + e + k + w[i];
		e = d;
		d = c;
		c = rol(b, 30);
		b = a;
		a = t;
	}
	s->h[0] += a;
	s->h[1] += b;
	s->h[2] += c;
	s->h[3] += d;
	s->h[4] += e;
}

static void sha1_add(struct sha1 *s, const void *data, size_t n)
{
	const unsigned char *p = data;
	s->len += n;
	while (n) {
		size_t k = 64 - s->nblk < n ? 64 - s->nblk : n;
		memcpy(s->blk + s->nblk, p, k);
		s->nblk += k;
		p += k;
		n -= k;
		if (s->nblk == 64) {
			sha1_block(s, s->blk);
			s->nblk = 0;
		}
	}
}

static void sha1_end(struct sha1 *s, unsigned char out[20])
{
	uint64_t bits = s->len * 8;
	unsigned char pad = 0x80, z = 0, lenb[8];
	sha1_add(s, &pad, 1);
	while (s->nblk != 56)
		sha1_add(s, &z, 1);
	for (int i = 0; i < 8; i++)
		lenb[i] = (unsigned char)(bits >> (56 - 8 * i));
	sha1_add(s, lenb, 8);
	for (int i = 0; i < 5; i++)
		for (int j = 0; j < 4; j++)
			out[4 * i + j] = (unsigned char)(s->h[i] >> (24 - 8 * j));
}

void barge_uuid_v5(unsigned char out[16], const unsigned char ns[16],
		   const char *name, size_t n)
{
	struct sha1 s = {.h = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476,
			       0xC3D2E1F0}};
	unsigned char h[20];
	sha1_add(&s, ns, 16);
	sha1_add(&s, name, n);
	sha1_end(&s, h);
	memcpy(out, h, 16);
	out[6] = (unsigned char)((out[6] & 0x0f) | 0x50); /* version 5 */
	out[8] = (unsigned char)((out[8] & 0x3f) | 0x80); /* RFC 4122 variant */
}

/* ---- dates and times ------------------------------------------------------ */

int barge_timestamp_parse(int64_t *us, const char *p, size_t n)
{
	return barge_iso_temporal(us, BARGE_T_TIMESTAMP, p, n, BARGE_ISO_NAIVE);
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

int barge_timestamp_format(struct barge_buf *out, int type, int64_t v)
{
	int64_t days = v, us = 0, y;
	int m, d;
	char frac[16] = "";

	if (type == BARGE_T_TIME) {
		if (v < 0 || v >= US_PER_DAY)
			return BARGE_EDATA;
		us = v;
	} else if (type != BARGE_T_DATE) {
		if (v < INT64_MIN / 2 || v > INT64_MAX / 2)
			return BARGE_EDATA;
		days = floor_div(v, US_PER_DAY);
		us = v - days * US_PER_DAY;
	}
	if (us % 1000000) {
		if (us % 1000 == 0)
			snprintf(frac, sizeof frac, ".%03d", (int)(us % 1000000 / 1000));
		else
			snprintf(frac, sizeof frac, ".%06d", (int)(us % 1000000));
	}
	us /= 1000000;
	if (type == BARGE_T_TIME)
		return barge_buf_printf(out, "%02d:%02d:%02d%s", (int)(us / 3600),
					(int)(us / 60 % 60), (int)(us % 60), frac);
	if (days < -800000 || days > 3000000)
		return BARGE_EDATA;
	barge_civil_from_days(days, &y, &m, &d);
	if (y < 0 || y > 9999)
		return BARGE_EDATA;
	if (type == BARGE_T_DATE)
		return barge_buf_printf(out, "%04d-%02d-%02d", (int)y, m, d);
	return barge_buf_printf(out, "%04d-%02d-%02d %02d:%02d:%02d%s%s", (int)y,
				m, d, (int)(us / 3600), (int)(us / 60 % 60),
				(int)(us % 60), frac,
				type == BARGE_T_TIMESTAMPTZ ? "+00:00" : "");
}

/* ---- text forms and casts ------------------------------------------------- */

int barge_value_text(struct barge_buf *out, const struct barge_value *v)
{
	char tmp[64];
	switch (v->type) {
	case BARGE_T_BOOL: return barge_buf_adds(out, v->i ? "true" : "false");
	case BARGE_T_INT64: return barge_buf_printf(out, "%lld", (long long)v->i);
	case BARGE_T_FLOAT64:
		if (isnan(v->f))
			return barge_buf_adds(out, "NaN");
		if (isinf(v->f))
			return barge_buf_adds(out, v->f < 0 ? "-Infinity" : "Infinity");
		for (int prec = 1; prec <= 17; prec++) {
			snprintf(tmp, sizeof tmp, "%.*g", prec, v->f);
			if (strtod(tmp, NULL) == v->f)
				break;
		}
		return barge_buf_adds(out, tmp);
	case BARGE_T_DATE:
	case BARGE_T_TIME:
	case BARGE_T_TIMESTAMP:
	case BARGE_T_TIMESTAMPTZ:
		return barge_timestamp_format(out, v->type, v->i);
	case BARGE_T_UUID:
		if (v->n != 16)
			return BARGE_EDATA;
		barge_uuid_format(tmp, (const unsigned char *)v->p);
		return barge_buf_adds(out, tmp);
	default:
		return barge_buf_add(out, v->p ? v->p : "", v->n);
	}
}

static size_t utf8_chars(const char *p, size_t n)
{
	size_t c = 0;
	for (size_t i = 0; i < n; i++)
		c += ((unsigned char)p[i] & 0xc0) != 0x80;
	return c;
}

static int ieq(const char *p, size_t n, const char *word)
{
	size_t k = strlen(word);
	if (n != k)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != word[i])
			return 0;
	}
	return 1;
}

int barge_cast_text(struct barge_value *v, struct barge_buf *scratch,
		    const char *p, size_t n, int type, int precision, int scale,
		    const char **why)
{
	struct dec *d = NULL;
	int err = 0;
	static __thread char msg[96];

	memset(v, 0, sizeof *v);
	v->type = type;
	*why = NULL;
	switch (type) {
	case BARGE_T_ANY:
	case BARGE_T_TEXT:
	case BARGE_T_JSON:
		if (!barge_utf8_valid(p, n)) {
			*why = "not valid UTF-8";
			return BARGE_EDATA;
		}
		if (type == BARGE_T_TEXT && precision > 0 &&
		    utf8_chars(p, n) > (size_t)precision) {
			snprintf(msg, sizeof msg, "longer than %d characters", precision);
			*why = msg;
			return BARGE_EDATA;
		}
		v->type = type == BARGE_T_ANY ? BARGE_T_TEXT : type;
		v->p = p;
		v->n = n;
		return 0;
	case BARGE_T_BYTES:
		v->p = p;
		v->n = n;
		return 0;
	case BARGE_T_BOOL:
		if (ieq(p, n, "true") || (n == 1 && p[0] == '1'))
			v->i = 1;
		else if (ieq(p, n, "false") || (n == 1 && p[0] == '0'))
			v->i = 0;
		else {
			*why = "not a bool (true, false, 1 or 0)";
			return BARGE_EDATA;
		}
		return 0;
	case BARGE_T_UUID: {
		unsigned char u[16];
		if (barge_uuid_parse(u, p, n) < 0) {
			*why = "not a UUID";
			return BARGE_EDATA;
		}
		size_t at = scratch->len;
		if (barge_buf_add(scratch, u, 16) < 0)
			return scratch->err;
		v->p = scratch->p + at;
		v->n = 16;
		return 0;
	}
	case BARGE_T_DATE:
	case BARGE_T_TIME:
	case BARGE_T_TIMESTAMP:
	case BARGE_T_TIMESTAMPTZ:
		if (barge_iso_temporal(&v->i, type, p, n, 0) < 0) {
			*why = type == BARGE_T_DATE ? "not a valid date (YYYY-MM-DD)"
			       : type == BARGE_T_TIME ? "not a valid time (HH:MM:SS)"
			       : "not a valid timestamp (YYYY-MM-DD HH:MM:SS)";
			return BARGE_EDATA;
		}
		return 0;
	case BARGE_T_FLOAT64: {
		char tmp[400];
		if (n == 3 && memcmp(p, "NaN", 3) == 0) {
			v->f = NAN;
			return 0;
		}
		if (ieq(p, n, "infinity") || ieq(p, n, "-infinity")) {
			v->f = p[0] == '-' ? -INFINITY : INFINITY;
			return 0;
		}
		if (!(d = malloc(sizeof *d)))
			return barge_error_set(BARGE_ENOMEM, "out of memory");
		if (n >= sizeof tmp || dec_parse(d, p, n) < 0) {
			*why = "not a number";
			err = BARGE_EDATA;
			break;
		}
		memcpy(tmp, p, n);
		tmp[n] = '\0';
		errno = 0;
		v->f = strtod(tmp, NULL);
		if (isinf(v->f)) {
			*why = "out of range for float64";
			err = BARGE_EDATA;
		}
		break;
	}
	case BARGE_T_INT64: {
		if (!(d = malloc(sizeof *d)))
			return barge_error_set(BARGE_ENOMEM, "out of memory");
		if (dec_parse(d, p, n) < 0) {
			*why = "not an integer";
			err = BARGE_EDATA;
			break;
		}
		for (size_t i = 0; i < d->nfp; i++)
			if (d->fp[i] != '0') {
				*why = "not an integer (it has a fraction)";
				err = BARGE_EDATA;
				break;
			}
		if (err)
			break;
		uint64_t u = 0;
		int over = d->nip > 19;
		for (size_t i = 0; !over && i < d->nip; i++) {
			unsigned dg = (unsigned)(d->ip[i] - '0');
			if (u > (UINT64_MAX - dg) / 10)
				over = 1;
			else
				u = u * 10 + dg;
		}
		if (over || u > (uint64_t)INT64_MAX + (d->neg ? 1 : 0)) {
			*why = "out of range for int64";
			err = BARGE_EDATA;
			break;
		}
		v->i = d->neg ? (int64_t)(0 - u) : (int64_t)u;
		break;
	}
	case BARGE_T_DECIMAL: {
		if (!(d = malloc(sizeof *d)))
			return barge_error_set(BARGE_ENOMEM, "out of memory");
		if (dec_parse(d, p, n) < 0) {
			*why = "not a decimal number";
			err = BARGE_EDATA;
			break;
		}
		if (scale >= 0) {
			while (d->nfp > (size_t)scale && d->fp[d->nfp - 1] == '0')
				d->nfp--;
			if (d->nfp > (size_t)scale) {
				snprintf(msg, sizeof msg, "has more than %d decimal places "
					 "(add round: %d)", scale, scale);
				*why = msg;
				err = BARGE_EDATA;
				break;
			}
			while (d->nfp < (size_t)scale)
				d->fp[d->nfp++] = '0';
		}
		if (precision > 0 && d->nip > (size_t)(precision - (scale > 0 ? scale : 0))) {
			snprintf(msg, sizeof msg, "out of range for decimal(%d,%d)",
				 precision, scale > 0 ? scale : 0);
			*why = msg;
			err = BARGE_EDATA;
			break;
		}
		size_t at = scratch->len;
		if ((err = dec_format(scratch, d)) < 0)
			break;
		v->p = scratch->p + at;
		v->n = scratch->len - at;
		break;
	}
	default:
		*why = "a type barge cannot cast to";
		err = BARGE_EDATA;
	}
	free(d);
	return err;
}

/* ---- encoding repair ------------------------------------------------------- */

static const uint16_t cp1252_80[32] = {
	0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
	0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D, 0,
	0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
	0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
};

int barge_recode_utf8(struct barge_buf *out, const char *p, size_t n, int enc)
{
	for (size_t i = 0; i < n; i++) {
		unsigned c = (unsigned char)p[i];
		if (enc == 2 && c >= 0x80 && c < 0xa0) {
			c = cp1252_80[c - 0x80];
			if (!c)
				return BARGE_EDATA;
		}
		char u[3];
		if (c < 0x80) {
			u[0] = (char)c;
			barge_buf_add(out, u, 1);
		} else if (c < 0x800) {
			u[0] = (char)(0xc0 | c >> 6);
			u[1] = (char)(0x80 | (c & 0x3f));
			barge_buf_add(out, u, 2);
		} else {
			u[0] = (char)(0xe0 | c >> 12);
			u[1] = (char)(0x80 | (c >> 6 & 0x3f));
			u[2] = (char)(0x80 | (c & 0x3f));
			barge_buf_add(out, u, 3);
		}
	}
	return out->err;
}
