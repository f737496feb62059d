/*
 * The Parquet writer's encoders (parquet_int.h): ULEB128 varints and
 * zigzag (the Thrift compact protocol's integers), the RLE/bit-packing
 * hybrid of Encodings.md (definition levels and dictionary indices),
 * decimal text to big-endian two's complement, and a column chunk's
 * dictionary. Pure functions of their inputs, so tests/unit/test_parquet.c
 * pins them against bytes worked out by hand from the spec.
 */
#include "parquet_int.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

uint64_t pq_zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

size_t pq_uvarint(uint8_t *out, uint64_t v)
{
	size_t n = 0;
	while (v >= 0x80) {
		out[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	out[n++] = (uint8_t)v;
	return n;
}

int pq_bit_width(uint64_t max)
{
	int bw = 0;
	while (max) {
		bw++;
		max >>= 1;
	}
	return bw;
}

/* Values equal to v[i] from i on, counting at most `limit`. */
static size_t run_at(const uint32_t *v, size_t i, size_t n, size_t limit)
{
	size_t j = i + 1;
	while (j < n && j - i < limit && v[j] == v[i])
		j++;
	return j - i;
}

static int add_varint(struct barge_buf *out, uint64_t v)
{
	uint8_t tmp[10];
	return barge_buf_add(out, tmp, pq_uvarint(tmp, v));
}

/* Bit-pack v[0..n) (n <= groups * 8) as `groups` groups of 8 values,
 * LSB first, padding with zeros. */
static int bitpack(struct barge_buf *out, const uint32_t *v, size_t n,
		   size_t groups, int bw)
{
	uint8_t byte = 0;
	int nbits = 0;
	for (size_t i = 0; i < groups * 8; i++) {
		uint32_t x = i < n ? v[i] : 0;
		for (int k = 0; k < bw; k++) {
			byte |= (uint8_t)(((x >> k) & 1u) << nbits);
			if (++nbits == 8) {
				if (barge_buf_add(out, &byte, 1))
					return out->err;
				byte = 0;
				nbits = 0;
			}
		}
	}
	return 0; /* groups * 8 * bw bits: always whole bytes */
}

int pq_rle_encode(struct barge_buf *out, const uint32_t *v, size_t n, int bw)
{
	size_t vbytes = ((size_t)bw + 7) / 8;
	size_t i = 0;
	while (i < n) {
		size_t r = run_at(v, i, n, SIZE_MAX);
		if (r >= 8) {
			uint8_t val[4] = {(uint8_t)v[i], (uint8_t)(v[i] >> 8),
					  (uint8_t)(v[i] >> 16),
					  (uint8_t)(v[i] >> 24)};
			if (add_varint(out, (uint64_t)r << 1) ||
			    barge_buf_add(out, val, vbytes))
				return out->err;
			i += r;
			continue;
		}
		/* Literal groups of 8 until a run of 8 starts on a group
		 * boundary, or the values end. */
		size_t j = i;
		do
			j += 8;
		while (j < n && run_at(v, j, n, 8) < 8);
		size_t groups = (j - i) / 8;
		size_t take = (j < n ? j : n) - i;
		if (add_varint(out, ((uint64_t)groups << 1) | 1) ||
		    bitpack(out, v + i, take, groups, bw))
			return out->err;
		i += take;
	}
	return out->err;
}

size_t pq_decimal_len(int precision)
{
	/* the fewest bytes whose signed range holds 10^p - 1 */
	size_t n = 1;
	while ((double)(8 * n - 1) < precision * 3.321928094887362)
		n++;
	return n;
}

int pq_decimal_to_be(uint8_t *out, size_t len, const char *p, size_t n,
		     int precision, int scale, const char **why)
{
	size_t i = 0, int_at, int_n, frac_at = 0, frac_n = 0;
	int neg = 0;
	if (i < n && p[i] == '-') {
		neg = 1;
		i++;
	}
	int_at = i;
	while (i < n && p[i] >= '0' && p[i] <= '9')
		i++;
	int_n = i - int_at;
	if (i < n && p[i] == '.') {
		frac_at = ++i;
		while (i < n && p[i] >= '0' && p[i] <= '9')
			i++;
		frac_n = i - frac_at;
	}
	if (i != n || int_n + frac_n == 0) {
		*why = "is not a finite decimal number";
		return 1;
	}
	for (size_t k = (size_t)scale; k < frac_n; k++) {
		if (p[frac_at + k] != '0') {
			*why = "has more fractional digits than the column's scale";
			return 1;
		}
	}
	memset(out, 0, len);
	int digits = 0;
	uint64_t acc = 0; /* the value while it fits 8 bytes (INT32, INT64) */
	for (size_t k = 0; k < int_n + (size_t)scale; k++) {
		int d = 0;
		if (k < int_n)
			d = p[int_at + k] - '0';
		else if (k - int_n < frac_n)
			d = p[frac_at + k - int_n] - '0';
		if (digits == 0 && d == 0)
			continue; /* leading zeros count for nothing */
		if (++digits > precision) {
			*why = "has more digits than the column's precision";
			return 1;
		}
		if (len <= 8 && digits <= 18) {
			acc = acc * 10 + (unsigned)d;
			continue;
		}
		if (len <= 8) {
			*why = "does not fit the column's width";
			return 1;
		}
		unsigned carry = (unsigned)d;
		for (size_t b = len; b-- > 0;) {
			carry += out[b] * 10u;
			out[b] = (uint8_t)carry;
			carry >>= 8;
		}
		if (carry || (out[0] & 0x80)) {
			*why = "does not fit the column's width";
			return 1;
		}
	}
	if (len <= 8) {
		if (acc >> (8 * len - 1)) {
			*why = "does not fit the column's width";
			return 1;
		}
		if (neg)
			acc = ~acc + 1;
		for (size_t b = 0; b < len; b++)
			out[b] = (uint8_t)(acc >> (8 * (len - 1 - b)));
		return 0;
	}
	if (neg) { /* two's complement: invert and add one */
		unsigned carry = 1;
		for (size_t b = len; b-- > 0;) {
			carry += (uint8_t)~out[b];
			out[b] = (uint8_t)carry;
			carry >>= 8;
		}
	}
	return 0;
}

/* ---- The dictionary ------------------------------------------------------ */

void pq_dict_init(struct pq_dict *d, size_t fixed)
{
	memset(d, 0, sizeof *d);
	d->fixed = fixed;
	barge_buf_init(&d->plain, SIZE_MAX);
}

void pq_dict_dispose(struct pq_dict *d)
{
	barge_buf_dispose(&d->plain);
	free(d->off);
	free(d->len);
	free(d->slots);
	memset(d, 0, sizeof *d);
}

void pq_dict_clear(struct pq_dict *d)
{
	barge_buf_clear(&d->plain);
	if (d->slots)
		memset(d->slots, 0, d->nslots * sizeof *d->slots);
	d->n = 0;
}

static size_t slot_of(const struct pq_dict *d, const void *p, size_t n)
{
	return (size_t)XXH3_64bits(p, n) & (d->nslots - 1);
}

/* Double the hash table (it is kept at most half full). */
static int rehash(struct pq_dict *d)
{
	size_t ns = d->nslots ? d->nslots * 2 : 1024;
	uint32_t *s = calloc(ns, sizeof *s);
	if (!s)
		return barge_error_set(BARGE_ENOMEM, "parquet: out of memory for a dictionary");
	free(d->slots);
	d->slots = s;
	d->nslots = ns;
	for (uint32_t k = 0; k < d->n; k++) {
		size_t h = slot_of(d, d->plain.p + d->off[k], d->len[k]);
		while (s[h])
			h = (h + 1) & (ns - 1);
		s[h] = k + 1;
	}
	return 0;
}

int pq_dict_put(struct pq_dict *d, const void *p, size_t n, uint32_t *idx)
{
	if (2 * ((size_t)d->n + 1) > d->nslots && rehash(d))
		return BARGE_ENOMEM;
	size_t h = slot_of(d, p, n);
	for (uint32_t s; (s = d->slots[h]) != 0; h = (h + 1) & (d->nslots - 1)) {
		if (d->len[s - 1] == n &&
		    memcmp(d->plain.p + d->off[s - 1], p, n) == 0) {
			*idx = s - 1;
			return 0;
		}
	}
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 256;
		size_t *off = realloc(d->off, cap * sizeof *off);
		if (off)
			d->off = off;
		uint32_t *len = off ? realloc(d->len, cap * sizeof *len) : NULL;
		if (!len)
			return barge_error_set(BARGE_ENOMEM, "parquet: out of memory for a dictionary");
		d->len = len;
		d->cap = cap;
	}
	if (!d->fixed) {
		uint8_t le[4] = {(uint8_t)n, (uint8_t)(n >> 8),
				 (uint8_t)(n >> 16), (uint8_t)(n >> 24)};
		if (barge_buf_add(&d->plain, le, 4))
			return d->plain.err;
	}
	d->off[d->n] = d->plain.len;
	d->len[d->n] = (uint32_t)n;
	if (barge_buf_add(&d->plain, p, n))
		return d->plain.err;
	d->slots[h] = d->n + 1;
	*idx = d->n++;
	return 0;
}
