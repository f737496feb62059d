/*
 * Endpoint URL parsing (include/barge/url.h). The password is held apart
 * and the redacted form is built here once, so nothing else needs to know
 * where a password may hide. The schemes are the drivers' own (the
 * registry, drivers.c): a scheme no compiled-in driver has is refused here.
 */
#include "barge/barge.h"
#include "drv.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>


/* A percent-decoded copy of s[0..n). */
static char *decode(const char *s, size_t n)
{
	char *d = malloc(n + 1), *w = d;
	if (!d)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n + 1 && barge_hex_digit(s[i + 1]) >= 0 &&
		    i + 2 < n && barge_hex_digit(s[i + 2]) >= 0) {
			*w++ = (char)(barge_hex_digit(s[i + 1]) << 4 |
				      barge_hex_digit(s[i + 2]));
			i += 2;
		} else
			*w++ = s[i];
	}
	*w = '\0';
	return d;
}

void barge_url_free(struct barge_url *u)
{
	if (!u)
		return;
	free(u->scheme);
	free(u->user);
	if (u->password) {
		memset(u->password, 0, strlen(u->password));
		free(u->password);
	}
	free(u->host);
	free(u->port);
	free(u->path);
	for (size_t i = 0; i < u->nparams; i++) {
		free(u->params[i].key);
		free(u->params[i].value);
	}
	free(u->params);
	free(u->redacted);
	free(u);
}

static int parse_query(struct barge_url *u, const char *q)
{
	while (*q) {
		const char *amp = strchr(q, '&');
		size_t len = amp ? (size_t)(amp - q) : strlen(q);
		const char *eq = memchr(q, '=', len);
		if (len) {
			struct barge_url_param *p =
				realloc(u->params, (u->nparams + 1) * sizeof *p);
			if (!p)
				return BARGE_ENOMEM;
			u->params = p;
			p = &u->params[u->nparams++];
			size_t klen = eq ? (size_t)(eq - q) : len;
			p->key = decode(q, klen);
			p->value = eq ? decode(eq + 1, len - klen - 1) : strdup("");
			if (!p->key || !p->value)
				return BARGE_ENOMEM;
		}
		q += len + (amp ? 1 : 0);
	}
	return 0;
}

/* user[:password]@host[:port] */
static int parse_authority(struct barge_url *u, const char *a, size_t n)
{
	const char *at = NULL;
	for (size_t i = n; i > 0; i--)
		if (a[i - 1] == '@') {
			at = a + i - 1;
			break;
		}
	if (at) {
		const char *colon = memchr(a, ':', (size_t)(at - a));
		size_t ulen = colon ? (size_t)(colon - a) : (size_t)(at - a);
		u->user = decode(a, ulen);
		if (colon)
			u->password = decode(colon + 1, (size_t)(at - colon - 1));
		n -= (size_t)(at + 1 - a);
		a = at + 1;
	}
	const char *pc = NULL;
	if (n && a[0] == '[') { /* [::1]:5432 */
		const char *rb = memchr(a, ']', n);
		if (!rb)
			return BARGE_EUSAGE;
		u->host = decode(a + 1, (size_t)(rb - a - 1));
		if ((size_t)(rb + 1 - a) < n && rb[1] == ':')
			pc = rb + 1;
	} else {
		pc = memchr(a, ':', n);
		u->host = decode(a, pc ? (size_t)(pc - a) : n);
	}
	if (pc) {
		u->port = decode(pc + 1, n - (size_t)(pc + 1 - a));
		for (const char *p = u->port; p && *p; p++)
			if (*p < '0' || *p > '9')
				return BARGE_EUSAGE;
	}
	return 0;
}

static int build_redacted(struct barge_url *u, const char *text)
{
	struct barge_buf b;
	barge_buf_init(&b, 1 << 16);
	const char *pw_start = NULL, *pw_end = NULL;
	const char *auth = strstr(text, "://");
	if (u->password && auth) {
		auth += 3;
		const char *end = auth + strcspn(auth, "/?");
		const char *at = NULL;
		for (const char *p = auth; p < end; p++)
			if (*p == '@')
				at = p;
		const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
		if (colon) {
			pw_start = colon + 1;
			pw_end = at;
		}
	}
	if (pw_start) {
		barge_buf_add(&b, text, (size_t)(pw_start - text));
		barge_buf_adds(&b, "***");
		barge_buf_adds(&b, pw_end);
	} else {
		barge_buf_adds(&b, text);
	}
	return barge_buf_detach(&b, &u->redacted);
}

int barge_url_parse(struct barge_url **out, const char *text)
{
	struct barge_url *u = NULL;
	const char *colon, *rest, *q;
	int err = BARGE_ENOMEM;
	size_t slen;

	*out = NULL;
	colon = strchr(text, ':');
	slen = colon ? (size_t)(colon - text) : 0;
	for (size_t i = 0; i < slen; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789+-.", text[i] | 0x20))
			slen = 0;
	if (!slen) {
		char known[256];
		barge_driver_schemes(known, sizeof known);
		return barge_error_set(BARGE_EUSAGE,
				       "'%s' is not an endpoint URL (expected one of %s)",
				       strchr(text, '@') ? "(hidden)" : text, known);
	}

	u = calloc(1, sizeof *u);
	if (!u)
		goto out;
	if (!(u->scheme = decode(text, slen)))
		goto out;
	/* the registry knows the scheme; its first is the canonical name */
	const struct barge_driver *drv = NULL;
	if ((err = barge_driver_find(&drv, u->scheme)) < 0)
		goto out;
	err = BARGE_ENOMEM;
	free(u->scheme);
	if (!(u->scheme = strdup(drv->schemes[0])))
		goto out;
	rest = colon + 1;
	q = strchr(rest, '?');
	size_t rlen = q ? (size_t)(q - rest) : strlen(rest);

	if (drv->caps & BARGE_CAP_PATH) {
		if (rlen >= 2 && rest[0] == '/' && rest[1] == '/') {
			rest += 2;
			rlen -= 2;
			/* file://localhost/dir: drop an authority */
			if (rlen && rest[0] != '/') {
				const char *sl = memchr(rest, '/', rlen);
				if (strcmp(u->scheme, "file") == 0 && sl) {
					rlen -= (size_t)(sl - rest);
					rest = sl;
				}
			}
		}
		if (!(u->path = decode(rest, rlen)))
			goto out;
		if (!u->path[0]) {
			err = barge_error_set(BARGE_EUSAGE, "URL '%s' names no file",
					      text);
			goto out;
		}
	} else {
		if (rlen < 2 || rest[0] != '/' || rest[1] != '/') {
			err = barge_error_set(BARGE_EUSAGE,
					      "%s URL must look like %s://user@host:port/db",
					      u->scheme, u->scheme);
			goto out;
		}
		rest += 2;
		rlen -= 2;
		const char *sl = memchr(rest, '/', rlen);
		size_t alen = sl ? (size_t)(sl - rest) : rlen;
		if ((err = parse_authority(u, rest, alen)) < 0) {
			err = barge_error_set(BARGE_EUSAGE,
					      "malformed host or port in a %s URL",
					      u->scheme);
			goto out;
		}
		err = BARGE_ENOMEM;
		if (sl && !(u->path = decode(sl + 1, rlen - alen - 1)))
			goto out;
	}
	if (q && parse_query(u, q + 1) < 0)
		goto out;
	if (build_redacted(u, text) < 0)
		goto out;
	*out = u;
	u = NULL;
	err = 0;
out:
	if (err == BARGE_ENOMEM)
		barge_error_set(err, "out of memory parsing a URL");
	barge_url_free(u);
	return err;
}

const char *barge_url_param(const struct barge_url *u, const char *key)
{
	for (size_t i = 0; i < u->nparams; i++)
		if (strcmp(u->params[i].key, key) == 0)
			return u->params[i].value;
	return NULL;
}

const char *barge_url_redacted(const struct barge_url *u)
{
	return u->redacted;
}
