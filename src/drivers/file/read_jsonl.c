/*
 * Reading JSON Lines records: one object a line. Each member becomes a
 * field with its key: a string unescaped to UTF-8 (\uXXXX pairs joined),
 * a number kept as its text (exact: never through a double), true/false
 * as their words, null as NULL, an object or array as its raw text. A
 * line that is not one JSON object is taken whole with rec->why set (a
 * reject); a line never ends inside a JSON value, so lines are the
 * records' boundaries.
 */
#include "file_int.h"

#include <string.h>

struct jp {
	const char *p, *end;
	struct barge_buf *out;
	const char *why;
};

static void ws(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\r'))
		j->p++;
}

static int fail(struct jp *j, const char *why)
{
	if (!j->why)
		j->why = why;
	return -1;
}

static int hex4(const char *p, unsigned *u)
{
	*u = 0;
	for (int k = 0; k < 4; k++) {
		int h = barge_hex_digit((unsigned char)p[k]);
		if (h < 0)
			return -1;
		*u = *u << 4 | (unsigned)h;
	}
	return 0;
}

static void utf8_put(struct barge_buf *b, unsigned c)
{
	char u[4];
	size_t n;
	if (c < 0x80) {
		u[0] = (char)c;
		n = 1;
	} else if (c < 0x800) {
		u[0] = (char)(0xc0 | c >> 6);
		u[1] = (char)(0x80 | (c & 0x3f));
		n = 2;
	} else if (c < 0x10000) {
		u[0] = (char)(0xe0 | c >> 12);
		u[1] = (char)(0x80 | (c >> 6 & 0x3f));
		u[2] = (char)(0x80 | (c & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | c >> 18);
		u[1] = (char)(0x80 | (c >> 12 & 0x3f));
		u[2] = (char)(0x80 | (c >> 6 & 0x3f));
		u[3] = (char)(0x80 | (c & 0x3f));
		n = 4;
	}
	barge_buf_add(b, u, n);
}

/* A string at j->p (the opening quote), unescaped into j->out. */
static int str(struct jp *j)
{
	j->p++;
	for (;;) {
		const char *run = j->p;
		while (j->p < j->end && *j->p != '"' && *j->p != '\\' &&
		       (unsigned char)*j->p >= 0x20)
			j->p++;
		barge_buf_add(j->out, run, (size_t)(j->p - run));
		if (j->p >= j->end)
			return fail(j, "an unterminated string");
		if (*j->p == '"') {
			j->p++;
			return 0;
		}
		if (*j->p != '\\')
			return fail(j, "a control character in a string");
		if (j->p + 1 >= j->end)
			return fail(j, "an unterminated string");
		char c = j->p[1];
		j->p += 2;
		const char *m = strchr("\"\\/bfnrt", c);
		if (c && m) {
			static const char to[] = "\"\\/\b\f\n\r\t";
			barge_buf_add(j->out, &to[m - "\"\\/bfnrt"], 1);
			continue;
		}
		unsigned u, lo;
		if (c != 'u' || j->end - j->p < 4 || hex4(j->p, &u) < 0)
			return fail(j, "a bad escape in a string");
		j->p += 4;
		if (u >= 0xd800 && u < 0xdc00) { /* a surrogate pair */
			if (j->end - j->p < 6 || j->p[0] != '\\' || j->p[1] != 'u' ||
			    hex4(j->p + 2, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
				return fail(j, "a lone surrogate in a string");
			j->p += 6;
			u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
		} else if (u >= 0xdc00 && u < 0xe000)
			return fail(j, "a lone surrogate in a string");
		utf8_put(j->out, u);
	}
}

/* Skip a value (for objects and arrays kept raw); depth-limited. */
static int skip(struct jp *j, int depth)
{
	struct barge_buf *keep = j->out, sink;
	int err = 0;
	ws(j);
	if (j->p >= j->end)
		return fail(j, "a missing value");
	if (depth > 64)
		return fail(j, "JSON nested deeper than 64");
	char c = *j->p;
	if (c == '"') {
		barge_buf_init(&sink, FILE_RECORD_MAX);
		j->out = &sink;
		err = str(j);
		j->out = keep;
		barge_buf_dispose(&sink);
		return err;
	}
	if (c == '{' || c == '[') {
		char close = c == '{' ? '}' : ']';
		j->p++;
		ws(j);
		if (j->p < j->end && *j->p == close) {
			j->p++;
			return 0;
		}
		for (;;) {
			if (c == '{') {
				ws(j);
				if (j->p >= j->end || *j->p != '"' || skip(j, depth + 1) < 0)
					return fail(j, "an object key that is not a string");
				ws(j);
				if (j->p >= j->end || *j->p != ':')
					return fail(j, "a missing ':'");
				j->p++;
			}
			if (skip(j, depth + 1) < 0)
				return -1;
			ws(j);
			if (j->p < j->end && *j->p == ',') {
				j->p++;
				continue;
			}
			if (j->p < j->end && *j->p == close) {
				j->p++;
				return 0;
			}
			return fail(j, "a missing ',' or closing bracket");
		}
	}
	const char *s = j->p;
	while (j->p < j->end && strchr("+-0123456789.eE", *j->p))
		j->p++;
	if (j->p > s) {
		/* a JSON number: -?(0|[1-9]d*)(.d+)?([eE][+-]?d+)? */
		const char *q = s;
		if (*q == '-')
			q++;
		if (q >= j->p || !(*q >= '0' && *q <= '9'))
			return fail(j, "a malformed number");
		if (*q == '0' && q + 1 < j->p && q[1] >= '0' && q[1] <= '9')
			return fail(j, "a number with a leading zero");
		while (q < j->p && *q >= '0' && *q <= '9')
			q++;
		if (q < j->p && *q == '.') {
			const char *f = ++q;
			while (q < j->p && *q >= '0' && *q <= '9')
				q++;
			if (q == f)
				return fail(j, "a malformed number");
		}
		if (q < j->p && (*q == 'e' || *q == 'E')) {
			q++;
			if (q < j->p && (*q == '+' || *q == '-'))
				q++;
			const char *x = q;
			while (q < j->p && *q >= '0' && *q <= '9')
				q++;
			if (q == x)
				return fail(j, "a malformed number");
		}
		return q == j->p ? 0 : fail(j, "a malformed number");
	}
	static const char *const words[] = {"true", "false", "null"};
	for (int k = 0; k < 3; k++) {
		size_t wl = strlen(words[k]);
		if ((size_t)(j->end - j->p) >= wl && memcmp(j->p, words[k], wl) == 0) {
			j->p += wl;
			return 0;
		}
	}
	return fail(j, "not a JSON value");
}

/* One member's value into field f. */
static int value(struct jp *j, struct file_field *f)
{
	ws(j);
	if (j->p >= j->end)
		return fail(j, "a missing value");
	f->off = j->out->len;
	if (*j->p == '"') {
		f->kind = FF_STR;
		if (str(j) < 0)
			return -1;
	} else {
		const char *s = j->p;
		if (skip(j, 0) < 0)
			return -1;
		f->kind = *s == '{' || *s == '[' ? FF_RAW : FF_BARE;
		if (*s == 'n')
			f->kind = FF_NULL;
		barge_buf_add(j->out, s, (size_t)(j->p - s));
	}
	f->len = j->out->len - f->off;
	return 0;
}

static int object(struct jp *j, struct file_rec *r)
{
	ws(j);
	if (j->p >= j->end || *j->p != '{')
		return fail(j, "not a JSON object");
	j->p++;
	ws(j);
	if (j->p < j->end && *j->p == '}') {
		j->p++;
		goto end;
	}
	for (;;) {
		struct file_field *f;
		if (r->nf == r->cap) {
			size_t cap = r->cap ? r->cap * 2 : 16;
			struct file_field *nf = realloc(r->f, cap * sizeof *nf);
			if (!nf)
				return barge_error_set(BARGE_ENOMEM, "out of memory");
			r->f = nf;
			r->cap = cap;
		}
		f = &r->f[r->nf++];
		memset(f, 0, sizeof *f);
		ws(j);
		if (j->p >= j->end || *j->p != '"')
			return fail(j, "an object key that is not a string");
		f->koff = j->out->len;
		if (str(j) < 0)
			return -1;
		f->klen = j->out->len - f->koff;
		ws(j);
		if (j->p >= j->end || *j->p != ':')
			return fail(j, "a missing ':'");
		j->p++;
		if (value(j, f) < 0)
			return -1;
		ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			continue;
		}
		if (j->p < j->end && *j->p == '}') {
			j->p++;
			break;
		}
		return fail(j, "a missing ',' or '}'");
	}
end:
	ws(j);
	return j->p == j->end ? 0 : fail(j, "text after the object");
}

int file_jsonl_parse(const char *p, size_t n, int eof, struct file_rec *r,
		     size_t *used)
{
	const char *nl = memchr(p, '\n', n);
	struct jp j;

	r->nf = 0;
	r->nl = 0;
	r->why = NULL;
	barge_buf_clear(&r->data);
	*used = 0;
	if (n == 0 || (!nl && !eof))
		return 0;
	size_t len = nl ? (size_t)(nl - p) : n;
	*used = nl ? len + 1 : n;
	j.p = p;
	j.end = p + len;
	j.out = &r->data;
	j.why = NULL;
	const char *s = p;
	while (s < j.end && (*s == ' ' || *s == '\t' || *s == '\r'))
		s++;
	if (s == j.end)
		return 1; /* a blank line: no fields, no reject */
	if (memchr(p, '\0', len))
		j.why = "a raw NUL byte (JSON writes it \\u0000)";
	else if (object(&j, r) < 0 && !j.why)
		return BARGE_ENOMEM;
	if (r->data.err)
		return barge_error_set(r->data.err, "a JSON line too large");
	r->why = j.why;
	return 1;
}
