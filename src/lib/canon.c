#include "canon.h"
#include "md5.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

/* barge_buf_add with the common case inline: the encoder appends a few
 * bytes at a time, millions of times (a call and a memmove each cost more
 * than the copy). Errors stay sticky in the buffer, as with barge_buf_add. */
static inline int put(struct barge_buf *b, const void *p, size_t n)
{
	if (!b->err && b->len + n < b->alloc) {
		const unsigned char *s = p;
		char *d = b->p + b->len;
		if (n == 1)
			*d = (char)*s;
		else if (n)
			memcpy(d, s, n);
		b->len += n;
		b->p[b->len] = '\0';
		return 0;
	}
	return barge_buf_add(b, p, n);
}

static inline int put1(struct barge_buf *b, char c)
{
	if (!b->err && b->len + 1 < b->alloc) {
		b->p[b->len++] = c;
		b->p[b->len] = '\0';
		return 0;
	}
	return barge_buf_add(b, &c, 1);
}

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
	unsigned char be[16];
	for (int i = 0; i < 8; i++) {
		be[i] = (unsigned char)(d->hi >> (56 - 8 * i));
		be[8 + i] = (unsigned char)(d->lo >> (56 - 8 * i));
	}
	barge_hex_encode(out, be, sizeof be);
	out[32] = '\0';
}

/* n bytes of v, little-endian (the canonical encoding) or big-endian (the
 * fast-path encoding, which PostgreSQL's int8send() and friends write). */
static void put_int(unsigned char *p, uint64_t v, int n, int be)
{
	for (int i = 0; i < n; i++)
		p[be ? n - 1 - i : i] = (unsigned char)(v >> (8 * i));
}

static int frame_x(struct barge_buf *out, int tag, int null, const void *p,
		   size_t n, int be)
{
	unsigned char h[6];
	h[0] = (unsigned char)tag;
	h[1] = (unsigned char)null;
	put_int(h + 2, n, 4, be);
	put(out, h, sizeof h);
	return put(out, p, n);
}

/* The encoder's byte order for this thread's current call: the canonical
 * encoding and the fast-path one share every function below. */
static _Thread_local int enc_be;

static int frame(struct barge_buf *out, int tag, int null, const void *p,
		 size_t n)
{
	return frame_x(out, tag, null, p, n, enc_be);
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

/* ---- JSON ------------------------------------------------------------------
 *
 * JSON is re-serialized canonically so that two engines' spellings of one
 * document hash alike: no insignificant white space, object members sorted
 * by their canonical key text (bytewise; duplicates kept, in their order),
 * strings with the shortest escapes (only '"', '\\' and control characters
 * escaped, \u00xx in lower case, everything else as UTF-8), numbers exact:
 * the decimal value D x 10^E (D without leading or trailing zeros) written
 * plainly when short, else as d.ddde+N. No double rounding is involved, so
 * 1, 1.0, 10e-1 and 1E0 are one number and 0.1 and 0.10000000000000001 are
 * two. Text that is not valid JSON (or nests deeper than JSON_MAX_DEPTH) is
 * framed as its raw bytes with NULL flag 2, so it still compares exactly.
 */

#define JSON_MAX_DEPTH 256

struct jp {
	const char *p, *end;
	struct barge_buf *out;
	int depth;
};

static void j_ws(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' ||
				 *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static int hex4(const char *p, unsigned *out)
{
	unsigned v = 0;
	for (int i = 0; i < 4; i++) {
		int d = barge_hex_digit((unsigned char)p[i]);
		if (d < 0)
			return -1;
		v = v * 16 + (unsigned)d;
	}
	*out = v;
	return 0;
}

static void put_cp(struct barge_buf *o, unsigned cp)
{
	unsigned char u[4];
	size_t n;
	if (cp == '"' || cp == '\\') {
		u[0] = '\\';
		u[1] = (unsigned char)cp;
		n = 2;
	} else if (cp < 0x20) {
		const char *sh = NULL;
		switch (cp) {
		case '\b': sh = "\\b"; break;
		case '\f': sh = "\\f"; break;
		case '\n': sh = "\\n"; break;
		case '\r': sh = "\\r"; break;
		case '\t': sh = "\\t"; break;
		}
		if (sh) {
			put(o, sh, 2);
			return;
		}
		unsigned char byte = (unsigned char)cp;
		char e[6] = {'\\', 'u', '0', '0'};
		barge_hex_encode(e + 4, &byte, 1);
		put(o, e, 6);
		return;
	} else if (cp < 0x80) {
		u[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (unsigned char)(0xc0 | (cp >> 6));
		u[1] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (unsigned char)(0xe0 | (cp >> 12));
		u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (unsigned char)(0xf0 | (cp >> 18));
		u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	put(o, u, n);
}

/* A string (the text is valid UTF-8, checked up front). */
static int j_string(struct jp *j)
{
	if (j->p >= j->end || *j->p != '"')
		return -1;
	j->p++;
	put(j->out, "\"", 1);
	while (j->p < j->end) {
		unsigned char c = (unsigned char)*j->p;
		if (c == '"') {
			j->p++;
			return put(j->out, "\"", 1) < 0 ? -1 : 0;
		}
		if (c < 0x20)
			return -1;
		if (c != '\\') {
			/* a run of bytes written as they are: everything but '"',
			 * '\\' and control characters (the text is valid UTF-8, so
			 * a run never ends inside a sequence) */
			const char *q = j->p + 1;
			while (q < j->end && (unsigned char)*q >= 0x20 && *q != '"' &&
			       *q != '\\')
				q++;
			put(j->out, j->p, (size_t)(q - j->p));
			j->p = q;
			continue;
		}
		if (j->end - j->p < 2)
			return -1;
		char e = j->p[1];
		j->p += 2;
		unsigned cp;
		switch (e) {
		case '"': cp = '"'; break;
		case '\\': cp = '\\'; break;
		case '/': cp = '/'; break;
		case 'b': cp = '\b'; break;
		case 'f': cp = '\f'; break;
		case 'n': cp = '\n'; break;
		case 'r': cp = '\r'; break;
		case 't': cp = '\t'; break;
		case 'u':
			if (j->end - j->p < 4 || hex4(j->p, &cp) < 0)
				return -1;
			j->p += 4;
			if (cp >= 0xdc00 && cp <= 0xdfff)
				return -1; /* a lone low surrogate */
			if (cp >= 0xd800 && cp <= 0xdbff) {
				unsigned lo;
				if (j->end - j->p < 6 || j->p[0] != '\\' ||
				    j->p[1] != 'u' || hex4(j->p + 2, &lo) < 0 ||
				    lo < 0xdc00 || lo > 0xdfff)
					return -1;
				j->p += 6;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			}
			break;
		default:
			return -1;
		}
		put_cp(j->out, cp);
	}
	return -1;
}

/* A number, written exactly in its canonical form (see above). */
static int j_number(struct jp *j)
{
	char digits[512];
	size_t nd = 0;
	int64_t exp = 0;
	int neg = 0, any = 0;

	if (j->p < j->end && *j->p == '-') {
		neg = 1;
		j->p++;
	}
	if (j->p >= j->end || !(*j->p >= '0' && *j->p <= '9'))
		return -1;
	if (*j->p == '0') {
		j->p++;
		any = 1;
	} else {
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9') {
			if (nd || *j->p != '0') {
				if (nd == sizeof digits)
					return -1;
				digits[nd++] = *j->p;
			}
			j->p++;
			any = 1;
		}
	}
	if (j->p < j->end && *j->p == '.') {
		j->p++;
		if (j->p >= j->end || !(*j->p >= '0' && *j->p <= '9'))
			return -1;
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9') {
			if (nd || *j->p != '0') {
				if (nd == sizeof digits)
					return -1;
				digits[nd++] = *j->p;
			}
			exp--;
			j->p++;
		}
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		int eneg = 0;
		int64_t e = 0;
		j->p++;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			eneg = *j->p++ == '-';
		if (j->p >= j->end || !(*j->p >= '0' && *j->p <= '9'))
			return -1;
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9') {
			if (e > 100000000)
				return -1; /* an exponent no engine holds */
			e = e * 10 + (*j->p++ - '0');
		}
		exp += eneg ? -e : e;
	}
	(void)any;
	while (nd && digits[nd - 1] == '0') {
		nd--;
		exp++;
	}
	if (nd == 0)
		return put(j->out, "0", 1) < 0 ? -1 : 0;
	if (neg)
		put(j->out, "-", 1);
	int64_t k = (int64_t)nd;
	if (exp >= 0 && k + exp <= 21) {
		put(j->out, digits, nd);
		for (int64_t i = 0; i < exp; i++)
			put(j->out, "0", 1);
	} else if (exp < 0 && -exp < k) {
		put(j->out, digits, (size_t)(k + exp));
		put(j->out, ".", 1);
		put(j->out, digits + k + exp, (size_t)-exp);
	} else if (exp < 0 && -exp - k <= 6) {
		put(j->out, "0.", 2);
		for (int64_t i = 0; i < -exp - k; i++)
			put(j->out, "0", 1);
		put(j->out, digits, nd);
	} else {
		put(j->out, digits, 1);
		if (nd > 1) {
			put(j->out, ".", 1);
			put(j->out, digits + 1, nd - 1);
		}
		barge_buf_printf(j->out, "e%+lld", (long long)(k - 1 + exp));
	}
	return j->out->err ? -1 : 0;
}

static int j_value(struct jp *j);

struct jmember {
	size_t ks, ke; /* the canonical key text, quotes included */
	size_t ve;     /* end of the member (after the value) */
	size_t ord;
};

/* The member texts being sorted; per thread, as readers digest in parallel
 * (an inner object is sorted before its outer one starts sorting). */
static _Thread_local const char *jsort_base;

static int jmember_cmp(const void *a, const void *b)
{
	const struct jmember *x = a, *y = b;
	size_t nx = x->ke - x->ks, ny = y->ke - y->ks;
	int c = memcmp(jsort_base + x->ks, jsort_base + y->ks, nx < ny ? nx : ny);
	if (c)
		return c;
	if (nx != ny)
		return nx < ny ? -1 : 1;
	return x->ord < y->ord ? -1 : x->ord > y->ord;
}

/* An object: members are written as they come, then put in order. */
static int j_object(struct jp *j)
{
	/* small objects (the common case) sort in stack storage */
	struct jmember small_m[16], *m = small_m;
	char small_tmp[512], *tmp = NULL;
	size_t n = 0, cap = 16, base;
	int err = -1;

	j->p++; /* '{' */
	put(j->out, "{", 1);
	base = j->out->len;
	j_ws(j);
	if (j->p < j->end && *j->p == '}') {
		j->p++;
		return put(j->out, "}", 1) < 0 ? -1 : 0;
	}
	for (;;) {
		if (n == cap) {
			size_t nc = cap * 2;
			struct jmember *g = realloc(m == small_m ? NULL : m,
						    nc * sizeof *g);
			if (!g)
				goto out;
			if (m == small_m)
				memcpy(g, small_m, sizeof small_m);
			m = g;
			cap = nc;
		}
		j_ws(j);
		m[n].ks = j->out->len;
		if (j_string(j) < 0)
			goto out;
		m[n].ke = j->out->len;
		j_ws(j);
		if (j->p >= j->end || *j->p != ':')
			goto out;
		j->p++;
		put(j->out, ":", 1);
		if (j_value(j) < 0)
			goto out;
		m[n].ve = j->out->len;
		m[n].ord = n;
		n++;
		j_ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			continue;
		}
		if (j->p < j->end && *j->p == '}') {
			j->p++;
			break;
		}
		goto out;
	}
	if (j->out->err)
		goto out;
	/* the members as written, then back in key order */
	size_t len = j->out->len - base;
	if (n == 1) { /* nothing to sort */
		err = put1(j->out, '}') < 0 ? -1 : 0;
		goto out;
	}
	tmp = len <= sizeof small_tmp ? small_tmp : malloc(len);
	if (!tmp)
		goto out;
	memcpy(tmp, j->out->p + base, len);
	for (size_t i = 0; i < n; i++) {
		m[i].ks -= base;
		m[i].ke -= base;
		m[i].ve -= base;
	}
	jsort_base = tmp;
	if (n <= 16) { /* insertion sort: cheaper than qsort for a few */
		for (size_t i = 1; i < n; i++) {
			struct jmember x = m[i];
			size_t k = i;
			for (; k > 0 && jmember_cmp(&m[k - 1], &x) > 0; k--)
				m[k] = m[k - 1];
			m[k] = x;
		}
	} else {
		qsort(m, n, sizeof *m, jmember_cmp);
	}
	j->out->len = base;
	for (size_t i = 0; i < n; i++) {
		if (i)
			put(j->out, ",", 1);
		put(j->out, tmp + m[i].ks, m[i].ve - m[i].ks);
	}
	put(j->out, "}", 1);
	err = j->out->err ? -1 : 0;
out:
	if (m != small_m)
		free(m);
	if (tmp != small_tmp)
		free(tmp);
	return err;
}

static int j_array(struct jp *j)
{
	j->p++; /* '[' */
	put(j->out, "[", 1);
	j_ws(j);
	if (j->p < j->end && *j->p == ']') {
		j->p++;
		return put(j->out, "]", 1) < 0 ? -1 : 0;
	}
	for (int first = 1;; first = 0) {
		if (!first)
			put(j->out, ",", 1);
		if (j_value(j) < 0)
			return -1;
		j_ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			continue;
		}
		if (j->p < j->end && *j->p == ']') {
			j->p++;
			return put(j->out, "]", 1) < 0 ? -1 : 0;
		}
		return -1;
	}
}

static int j_lit(struct jp *j, const char *w)
{
	size_t n = strlen(w);
	if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n) != 0)
		return -1;
	j->p += n;
	return put(j->out, w, n) < 0 ? -1 : 0;
}

static int j_value(struct jp *j)
{
	int err;
	j_ws(j);
	if (j->p >= j->end)
		return -1;
	if (++j->depth > JSON_MAX_DEPTH)
		return -1;
	switch (*j->p) {
	case '{': err = j_object(j); break;
	case '[': err = j_array(j); break;
	case '"': err = j_string(j); break;
	case 't': err = j_lit(j, "true"); break;
	case 'f': err = j_lit(j, "false"); break;
	case 'n': err = j_lit(j, "null"); break;
	default: err = j_number(j);
	}
	j->depth--;
	return err;
}

/* Append the canonical text of p[0..n) to `out`: 0, 1 not JSON (the
 * appended part is then undefined), or the buffer's error. */
static int canon_json_append(struct barge_buf *out, const char *p, size_t n)
{
	struct jp j = {.p = p, .end = p + n, .out = out};
	if (!barge_utf8_valid(p, n))
		return 1;
	if (j_value(&j) < 0) {
		if (out->err)
			return out->err;
		return 1;
	}
	j_ws(&j);
	if (j.p != j.end)
		return 1;
	return out->err;
}

int barge_canon_json(struct barge_buf *out, const char *p, size_t n)
{
	barge_buf_clear(out);
	return canon_json_append(out, p, n);
}

/* A JSON value: its canonical text, written in place after the frame's
 * head (the length patched in after), or the raw bytes (flag 2) when the
 * text is not JSON. */
static int put_json(struct barge_buf *out, const char *p, size_t n)
{
	static const unsigned char head[6] = {BARGE_T_JSON, 0, 0, 0, 0, 0};
	size_t at = out->len;
	if (put(out, head, sizeof head) < 0)
		return out->err;
	int r = canon_json_append(out, p, n);
	if (r < 0)
		return r;
	if (r > 0) {
		out->len = at;
		return frame(out, BARGE_T_JSON, 2, p, n);
	}
	put_int((unsigned char *)out->p + at + 2, out->len - at - 6, 4, enc_be);
	return 0;
}

static int encode_value(struct barge_buf *out, const struct barge_value *vp)
{
	unsigned char le[8];
	struct barge_value v = *vp;
	if (v.null)
		return frame(out, v.type, 1, NULL, 0);
	switch (v.type) {
	case BARGE_T_FLOAT64: {
		double f = v.f;
		uint64_t bits;
		if (f == 0)
			f = 0; /* -0 and 0 are one value */
		memcpy(&bits, &f, 8);
		if (isnan(f))
			bits = 0x7ff8000000000000ull;
		put_int(le, bits, 8, enc_be);
		return frame(out, v.type, 0, le, 8);
	}
	case BARGE_T_DECIMAL:
		return put_decimal(out, v.p, v.n);
	case BARGE_T_JSON:
		return put_json(out, v.p, v.n);
	default:
		if (barge_type_is_varlen(v.type))
			return frame(out, v.type, 0, v.p, v.n);
		put_int(le, (uint64_t)v.i, 8, enc_be);
		return frame(out, v.type, 0, le, 8);
	}
}

static int encode_col(struct barge_buf *out, const struct barge_batch *b,
		      size_t col, size_t row)
{
	struct barge_value v;
	barge_batch_get(b, col, row, &v);
	return encode_value(out, &v);
}

int barge_canon_encode_value(struct barge_buf *out,
			     const struct barge_value *v, int fast)
{
	enc_be = fast;
	return encode_value(out, v);
}

int barge_canon_encode_col(struct barge_buf *out, const struct barge_batch *b,
			   size_t col, size_t row)
{
	enc_be = 0;
	return encode_col(out, b, col, row);
}

static int encode_row(struct barge_buf *out, const struct barge_batch *b,
		      size_t ncols, size_t row, int be)
{
	enc_be = be;
	barge_buf_clear(out);
	for (size_t c = 0; c < ncols; c++) {
		int err = encode_col(out, b, c, row);
		if (err < 0)
			return err;
	}
	return out->err;
}

int barge_canon_encode_row(struct barge_buf *out, const struct barge_batch *b,
			   size_t ncols, size_t row)
{
	return encode_row(out, b, ncols, row, 0);
}

int barge_canon_fast_encode_row(struct barge_buf *out,
				const struct barge_batch *b, size_t ncols,
				size_t row)
{
	return encode_row(out, b, ncols, row, 1);
}

void barge_canon_fast_hash(const struct barge_buf *enc, uint64_t *lo,
			   uint64_t *hi)
{
	unsigned char h[16];
	barge_md5(enc->p ? enc->p : "", enc->len, h);
	*hi = *lo = 0;
	for (int i = 0; i < 8; i++) {
		*hi = *hi << 8 | h[i];
		*lo = *lo << 8 | h[8 + i];
	}
}

int barge_canon_fast_digest_batch(struct barge_digest *d,
				  struct barge_buf *scratch,
				  const struct barge_batch *b, size_t ncols)
{
	for (size_t r = 0; r < b->nrows; r++) {
		int err = barge_canon_fast_encode_row(scratch, b, ncols, r);
		if (err)
			return err;
		uint64_t lo, hi;
		barge_canon_fast_hash(scratch, &lo, &hi);
		barge_digest_add(d, lo, hi);
	}
	return 0;
}

void barge_canon_hash(const struct barge_buf *enc, uint64_t *lo, uint64_t *hi)
{
	XXH128_hash_t h = XXH3_128bits(enc->p, enc->len);
	*lo = h.low64;
	*hi = h.high64;
}

int barge_canon_digest_batch(struct barge_digest *d, struct barge_buf *scratch,
			     const struct barge_batch *b, size_t ncols)
{
	for (size_t r = 0; r < b->nrows; r++) {
		int err = barge_canon_encode_row(scratch, b, ncols, r);
		if (err)
			return err;
		uint64_t lo, hi;
		barge_canon_hash(scratch, &lo, &hi);
		barge_digest_add(d, lo, hi);
	}
	return 0;
}
