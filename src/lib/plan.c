/*
 * The plan file: settings, parsing with libyaml's document loader, and the
 * commented plan `barge init` writes. The format is docs/plan.md.
 *
 * Parsing loads the whole document into libyaml's node tree first (a plan
 * is small), then walks it; every node keeps its line, so each message can
 * say "file:line: what is wrong" without threading positions around.
 */
#include "plan.h"
#include "util.h"
#include "barge/barge.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#define PLAN_MAX_BYTES (16u << 20)  /* a plan is hand-edited text */
#define FLOW_MAX_BYTES (1u << 20)   /* one column's options */
#define FLOW_MAX_DEPTH 64           /* nesting of a column's options */
#define EMIT_MAX_BYTES (256u << 20) /* thousands of tables still fit */

/* ---- Settings ----------------------------------------------------------- */

void barge_settings_unset(struct barge_settings *s)
{
	s->chunk_rows = -1;
	s->batch_rows = -1;
	s->jobs = -1;
	s->mode = -1;
	s->retries = -1;
	s->max_failures = -1;
	s->queue_depth = -1;
}

void barge_settings_inherit(struct barge_settings *s,
			    const struct barge_settings *from)
{
	if (s->chunk_rows < 0)
		s->chunk_rows = from->chunk_rows;
	if (s->batch_rows < 0)
		s->batch_rows = from->batch_rows;
	if (s->jobs < 0)
		s->jobs = from->jobs;
	if (s->mode < 0)
		s->mode = from->mode;
	if (s->retries < 0)
		s->retries = from->retries;
	if (s->max_failures < 0)
		s->max_failures = from->max_failures;
	if (s->queue_depth < 0)
		s->queue_depth = from->queue_depth;
}

void barge_settings_builtin(struct barge_settings *s)
{
	s->chunk_rows = 0; /* auto */
	s->batch_rows = 2000;
	s->jobs = 1;
	s->mode = BARGE_MODE_INSERT;
	s->retries = 5;
	s->max_failures = 5;
	s->queue_depth = 4;
}

static const char *const mode_names[] = {
	[BARGE_MODE_INSERT] = "insert",
	[BARGE_MODE_UPSERT] = "upsert",
	[BARGE_MODE_REPLACE] = "replace",
	[BARGE_MODE_TRUNCATE] = "truncate",
};
#define NMODES (sizeof mode_names / sizeof mode_names[0])

int barge_mode_parse(int *out, const char *name)
{
	for (size_t i = 0; i < NMODES; i++) {
		if (strcmp(name, mode_names[i]) == 0) {
			*out = (int)i;
			return 0;
		}
	}
	return barge_error_set(BARGE_EUSAGE,
			       "unknown mode '%s' (use insert, upsert, replace or truncate)",
			       name);
}

const char *barge_mode_name(int mode)
{
	if (mode < 0 || (size_t)mode >= NMODES)
		return "?";
	return mode_names[mode];
}

/* ---- Freeing ------------------------------------------------------------ */

static void table_dispose(struct barge_plan_table *t)
{
	free(t->name);
	free(t->target);
	for (size_t i = 0; i < t->nkey; i++)
		free(t->key[i]);
	free(t->key);
	free(t->where);
	for (size_t i = 0; i < t->ncolumns; i++) {
		struct barge_plan_column *c = &t->columns[i];
		free(c->name);
		free(c->to);
		free(c->type);
		free(c->options);
	}
	free(t->columns);
	free(t->max_rejects);
	free(t->max_reject_ratio);
	free(t->add);
	for (size_t i = 0; i < t->ninvariants; i++)
		free(t->invariants[i]);
	free(t->invariants);
}

void barge_plan_free(struct barge_plan *p)
{
	if (!p)
		return;
	free(p->source);
	free(p->target);
	free(p->state);
	for (size_t i = 0; i < p->ntables; i++)
		table_dispose(&p->tables[i]);
	free(p->tables);
	free(p->path);
	free(p);
}

/* ---- Parsing ------------------------------------------------------------ */

struct pctx {
	yaml_document_t *doc;
	const char *name; /* file name for messages */
};

/* Set a usage error located at node `n`: "name:line: message". */
__attribute__((format(printf, 3, 4)))
static int perr(struct pctx *c, const yaml_node_t *n, const char *fmt, ...)
{
	char msg[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return barge_error_set(BARGE_EUSAGE, "%s:%zu: %s", c->name,
			       (size_t)n->start_mark.line + 1, msg);
}

static yaml_node_t *node_at(struct pctx *c, int index)
{
	return yaml_document_get_node(c->doc, index);
}

static const char *node_kind(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_SCALAR_NODE: return "a single value";
	case YAML_SEQUENCE_NODE: return "a list";
	case YAML_MAPPING_NODE: return "a mapping";
	default: return "nothing";
	}
}

/*
 * The text of a scalar node, or an error naming `what` (e.g. "'where' in
 * table 'orders'") when the node is not a scalar or holds a NUL byte.
 * Borrowed from the document.
 */
static int scalar_text(const char **out, struct pctx *c, yaml_node_t *n,
		       const char *what)
{
	if (n->type != YAML_SCALAR_NODE)
		return perr(c, n, "%s must be a single value, not %s", what,
			    node_kind(n));
	const char *s = (const char *)n->data.scalar.value;
	if (strlen(s) != n->data.scalar.length)
		return perr(c, n, "%s contains a NUL character", what);
	*out = s;
	return 0;
}

/* A malloc'd copy of a non-empty scalar. */
static int scalar_dup(char **out, struct pctx *c, yaml_node_t *n,
		      const char *what)
{
	const char *s = NULL;
	int err = scalar_text(&s, c, n, what);
	if (err)
		return err;
	if (!*s)
		return perr(c, n, "%s is empty", what);
	free(*out);
	*out = strdup(s);
	if (!*out)
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	return 0;
}

/* A whole number in [min, max], digits only: no sign, no exponent. */
static int scalar_count(int64_t *out, struct pctx *c, yaml_node_t *n,
			int64_t min, int64_t max, const char *key,
			const char *ctx)
{
	const char *s = NULL;
	int err = scalar_text(&s, c, n, key);
	if (err)
		return err;
	int ok = *s != '\0';
	for (const char *p = s; *p && ok; p++)
		ok = *p >= '0' && *p <= '9';
	int64_t v = 0;
	if (ok) {
		errno = 0;
		char *e = NULL;
		long long ll = strtoll(s, &e, 10);
		ok = errno == 0 && *e == '\0' && ll >= min && ll <= max;
		v = ll;
	}
	if (!ok)
		return perr(c, n, "%s%s must be a whole number%s, not '%s'",
			    key, ctx, min > 0 ? " of at least 1" : "", s);
	*out = v;
	return 0;
}

static int scalar_bool(int *out, struct pctx *c, yaml_node_t *n,
		       const char *what)
{
	const char *s = NULL;
	int err = scalar_text(&s, c, n, what);
	if (err)
		return err;
	if (!strcasecmp(s, "true") || !strcasecmp(s, "yes"))
		*out = 1;
	else if (!strcasecmp(s, "false") || !strcasecmp(s, "no"))
		*out = 0;
	else
		return perr(c, n, "%s must be true or false, not '%s'", what, s);
	return 0;
}

/*
 * Check that `n` is a mapping whose keys are distinct scalars; `what`
 * names it in messages.
 */
static int check_mapping(struct pctx *c, yaml_node_t *n, const char *what)
{
	if (n->type != YAML_MAPPING_NODE)
		return perr(c, n, "%s must be a mapping, not %s", what,
			    node_kind(n));
	yaml_node_pair_t *start = n->data.mapping.pairs.start;
	for (yaml_node_pair_t *p = start; p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node_at(c, p->key);
		const char *ks = NULL;
		int err = scalar_text(&ks, c, k, "a key");
		if (err)
			return err;
		for (yaml_node_pair_t *q = start; q < p; q++) {
			yaml_node_t *k2 = node_at(c, q->key);
			if (strcmp((const char *)k2->data.scalar.value, ks) == 0)
				return perr(c, k, "duplicate key '%s' in %s",
					    ks, what);
		}
	}
	return 0;
}

/* ---- Flow text of a node, for column options ---------------------------- */

static int is_flow_indicator(int ch)
{
	return ch == ',' || ch == '[' || ch == ']' || ch == '{' || ch == '}';
}

/*
 * May a scalar that was plain in the source be written plain inside a
 * flow collection and read back as the same text? Conservative: anything
 * doubtful is quoted instead.
 */
static int flow_plain_ok(const char *s, size_t n)
{
	if (n == 0 || s[0] == ' ' || s[n - 1] == ' ')
		return 0;
	if (strchr("?:,[]{}#&*!|>'\"%@`", s[0]))
		return 0;
	if (s[0] == '-' && (n == 1 || s[1] == ' ' || is_flow_indicator(s[1])))
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch < 0x20 || ch == 0x7f || is_flow_indicator(ch) || ch == '#')
			return 0;
		if (ch == ':' && (i + 1 == n || s[i + 1] == ' '))
			return 0;
	}
	return 1;
}

/* Append a YAML double-quoted scalar; escapes what YAML cannot carry raw.
 * `s` must be valid UTF-8. */
static void put_dquoted(struct barge_buf *b, const char *s, size_t n)
{
	barge_buf_add(b, "\"", 1);
	const unsigned char *p = (const unsigned char *)s, *e = p + n;
	while (p < e) {
		unsigned cp = *p;
		size_t len = 1;
		if (cp >= 0xf0) {
			len = 4;
			cp = (cp & 0x07u) << 18 | (p[1] & 0x3fu) << 12 |
			     (p[2] & 0x3fu) << 6 | (p[3] & 0x3fu);
		} else if (cp >= 0xe0) {
			len = 3;
			cp = (cp & 0x0fu) << 12 | (p[1] & 0x3fu) << 6 |
			     (p[2] & 0x3fu);
		} else if (cp >= 0xc0) {
			len = 2;
			cp = (cp & 0x1fu) << 6 | (p[1] & 0x3fu);
		}
		if (cp == '"' || cp == '\\') {
			char esc[2] = {'\\', (char)cp};
			barge_buf_add(b, esc, 2);
		} else if (cp == '\n') {
			barge_buf_adds(b, "\\n");
		} else if (cp == '\t') {
			barge_buf_adds(b, "\\t");
		} else if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) {
			/* YAML rejects C0/C1 controls even inside quotes */
			barge_buf_printf(b, "\\x%02x", cp);
		} else if (cp == 0xfeff || cp == 0xfffe || cp == 0xffff) {
			barge_buf_printf(b, "\\u%04x", cp);
		} else {
			barge_buf_add(b, p, len);
		}
		p += len;
	}
	barge_buf_add(b, "\"", 1);
}

/* Append a single-quoted scalar if it has no line breaks or controls,
 * else a double-quoted one. */
static void put_quoted(struct barge_buf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch < 0x20 || ch == 0x7f || ch == 0xc2) {
			/* 0xc2 leads U+0080..U+00BF, which holds the C1 controls */
			put_dquoted(b, s, n);
			return;
		}
	}
	barge_buf_add(b, "'", 1);
	size_t run = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '\'')
			continue;
		barge_buf_add(b, s + run, i + 1 - run);
		barge_buf_add(b, "'", 1); /* '' is a quote inside '...' */
		run = i + 1;
	}
	barge_buf_add(b, s + run, n - run);
	barge_buf_add(b, "'", 1);
}

/*
 * Write node `n` as YAML flow text. Plain scalars stay plain where that is
 * safe, so `true` and `60` keep their meaning; quoted ones stay quoted, so
 * 'Y' stays a string. Tags are not kept.
 */
static int flow_node(struct barge_buf *b, struct pctx *c, yaml_node_t *n,
		     int depth)
{
	if (depth > FLOW_MAX_DEPTH)
		return perr(c, n, "column options nested more than %d deep",
			    FLOW_MAX_DEPTH);
	switch (n->type) {
	case YAML_SCALAR_NODE: {
		const char *s = (const char *)n->data.scalar.value;
		size_t len = n->data.scalar.length;
		if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && len == 0)
			barge_buf_adds(b, "null");
		else if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
			 flow_plain_ok(s, len))
			barge_buf_add(b, s, len);
		else
			put_quoted(b, s, len);
		break;
	}
	case YAML_SEQUENCE_NODE: {
		barge_buf_add(b, "[", 1);
		for (yaml_node_item_t *i = n->data.sequence.items.start;
		     i < n->data.sequence.items.top; i++) {
			if (i != n->data.sequence.items.start)
				barge_buf_adds(b, ", ");
			int err = flow_node(b, c, node_at(c, *i), depth + 1);
			if (err)
				return err;
		}
		barge_buf_add(b, "]", 1);
		break;
	}
	case YAML_MAPPING_NODE: {
		barge_buf_add(b, "{", 1);
		for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
		     p < n->data.mapping.pairs.top; p++) {
			if (p != n->data.mapping.pairs.start)
				barge_buf_adds(b, ", ");
			int err = flow_node(b, c, node_at(c, p->key), depth + 1);
			if (!err) {
				barge_buf_adds(b, ": ");
				err = flow_node(b, c, node_at(c, p->value),
						depth + 1);
			}
			if (err)
				return err;
		}
		barge_buf_add(b, "}", 1);
		break;
	}
	default:
		barge_buf_adds(b, "null");
	}
	return b->err;
}

static int flow_text(char **out, struct pctx *c, yaml_node_t *n)
{
	struct barge_buf b;
	barge_buf_init(&b, FLOW_MAX_BYTES);
	int err = flow_node(&b, c, n, 0);
	if (err) {
		barge_buf_dispose(&b);
		return err;
	}
	return barge_buf_detach(&b, out);
}

/* ---- Plan sections ------------------------------------------------------ */

/*
 * One settings key (chunk_rows, mode, ...) into `s`. Returns 1 when `key`
 * is a settings key and was parsed, 0 when it is not one, <0 on error.
 * `ctx` ends messages: " in table 'orders'", " in defaults".
 */
static int parse_setting(struct barge_settings *s, struct pctx *c,
			 const char *key, yaml_node_t *v, const char *ctx)
{
	int64_t x = 0;
	int err = 0;

	if (strcmp(key, "mode") == 0) {
		const char *name = NULL;
		err = scalar_text(&name, c, v, "mode");
		if (err)
			return err;
		if (barge_mode_parse(&s->mode, name) < 0)
			return perr(c, v, "unknown mode '%s'%s (use insert, upsert, replace or truncate)",
				    name, ctx);
		return 1;
	}
	if (strcmp(key, "chunk_rows") == 0 && v->type == YAML_SCALAR_NODE &&
	    strcmp((const char *)v->data.scalar.value, "auto") == 0) {
		s->chunk_rows = 0; /* sized per table (chunker.h) */
		return 1;
	}
	if (strcmp(key, "chunk_rows") == 0 || strcmp(key, "batch_rows") == 0) {
		err = scalar_count(&x, c, v, 1, INT64_MAX, key, ctx);
		if (err)
			return err;
		if (key[0] == 'c')
			s->chunk_rows = x;
		else
			s->batch_rows = x;
		return 1;
	}
	int *field = NULL;
	int64_t min = 1;
	if (strcmp(key, "jobs") == 0)
		field = &s->jobs;
	else if (strcmp(key, "retries") == 0) {
		field = &s->retries;
		min = 0; /* 0 = fail a chunk on its first transient fault */
	} else if (strcmp(key, "max_failures") == 0)
		field = &s->max_failures;
	else if (strcmp(key, "queue_depth") == 0)
		field = &s->queue_depth;
	if (!field)
		return 0;
	err = scalar_count(&x, c, v, min, INT_MAX, key, ctx);
	if (err)
		return err;
	*field = (int)x;
	return 1;
}

static int parse_defaults(struct barge_plan *p, struct pctx *c,
			  yaml_node_t *n)
{
	int err = check_mapping(c, n, "defaults");
	if (err)
		return err;
	for (yaml_node_pair_t *q = n->data.mapping.pairs.start;
	     q < n->data.mapping.pairs.top; q++) {
		yaml_node_t *k = node_at(c, q->key);
		const char *key = (const char *)k->data.scalar.value;
		int r = parse_setting(&p->defaults, c, key, node_at(c, q->value),
				      " in defaults");
		if (r < 0)
			return r;
		if (r == 0)
			return perr(c, k, "unknown key '%s' in defaults (expected chunk_rows, batch_rows, jobs, mode, retries, max_failures, queue_depth)",
				    key);
	}
	return 0;
}

static int parse_key_list(struct barge_plan_table *t, struct pctx *c,
			  yaml_node_t *n, const char *ctx)
{
	char what[600];
	snprintf(what, sizeof what, "key%s", ctx);
	if (n->type == YAML_SCALAR_NODE) {
		t->key = calloc(1, sizeof *t->key);
		if (!t->key)
			return barge_error_set(BARGE_ENOMEM, "out of memory");
		t->nkey = 1;
		return scalar_dup(&t->key[0], c, n, what);
	}
	if (n->type != YAML_SEQUENCE_NODE)
		return perr(c, n, "%s must be a column or a list of columns",
			    what);
	size_t count = (size_t)(n->data.sequence.items.top -
				n->data.sequence.items.start);
	if (count == 0)
		return perr(c, n, "%s names no column", what);
	t->key = calloc(count, sizeof *t->key);
	if (!t->key)
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	for (size_t i = 0; i < count; i++) {
		t->nkey = i + 1;
		int err = scalar_dup(&t->key[i], c,
				     node_at(c, n->data.sequence.items.start[i]),
				     what);
		if (err)
			return err;
		for (size_t j = 0; j < i; j++)
			if (strcmp(t->key[j], t->key[i]) == 0)
				return perr(c, n, "%s names column '%s' twice",
					    what, t->key[i]);
	}
	return 0;
}

/* Does `s` open more '(' than it closes? */
static int parens_open(const char *s)
{
	int depth = 0;
	for (; *s; s++)
		depth += (*s == '(') - (*s == ')');
	return depth > 0;
}

static int is_plain(const yaml_node_t *n)
{
	return n->type == YAML_SCALAR_NODE &&
	       n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

/*
 * `{type: decimal(14,2)}` is, to YAML, `{type: "decimal(14", "2)": null}`:
 * a flow mapping splits plain text at commas. Users write it that way (the
 * issue 5 example does), so when a plain `type` value leaves a '(' open
 * and the next keys are plain with no value, join them back. Returns how
 * many following pairs were absorbed (0 = nothing to join); the joined
 * text goes to *joined (malloc'd).
 */
static int join_type_args(char **joined, struct pctx *c, yaml_node_pair_t *p,
			  yaml_node_pair_t *top)
{
	yaml_node_t *v = node_at(c, p->value);
	*joined = NULL;
	if (!is_plain(v) || !parens_open((const char *)v->data.scalar.value))
		return 0;
	struct barge_buf b;
	barge_buf_init(&b, FLOW_MAX_BYTES);
	barge_buf_adds(&b, (const char *)v->data.scalar.value);
	int used = 0;
	for (yaml_node_pair_t *q = p + 1; q < top && parens_open(b.p); q++) {
		yaml_node_t *k = node_at(c, q->key), *kv = node_at(c, q->value);
		if (!is_plain(k) || !is_plain(kv) || kv->data.scalar.length)
			break;
		barge_buf_adds(&b, ",");
		barge_buf_adds(&b, (const char *)k->data.scalar.value);
		used++;
	}
	if (!used || parens_open(b.p) || b.err) {
		barge_buf_dispose(&b);
		return 0;
	}
	if (barge_buf_detach(&b, joined))
		return 0;
	return used;
}

/*
 * One column's options. `to`, `type` and `skip` are read here; the whole
 * mapping is also kept as flow text for the features that read the rest
 * (transform, rules, default, map, ...).
 */
static int parse_column(struct barge_plan_column *col, struct pctx *c,
			yaml_node_t *n, const char *ctx)
{
	char what[700];
	struct barge_buf flow;
	char *joined = NULL;
	int err = 0;

	snprintf(what, sizeof what, "column '%s'%s", col->name, ctx);
	barge_buf_init(&flow, FLOW_MAX_BYTES);
	if (n->type != YAML_MAPPING_NODE) {
		err = perr(c, n, "%s must be a mapping such as {to: new_name} or {skip: true}",
			   what);
		goto out;
	}
	err = check_mapping(c, n, what);
	if (err)
		goto out;
	yaml_node_pair_t *top = n->data.mapping.pairs.top;
	for (yaml_node_pair_t *q = n->data.mapping.pairs.start; q < top; q++) {
		yaml_node_t *k = node_at(c, q->key);
		const char *key = (const char *)k->data.scalar.value;
		yaml_node_t *v = node_at(c, q->value);
		char kwhat[760];
		snprintf(kwhat, sizeof kwhat, "'%s' of %s", key, what);
		barge_buf_adds(&flow, flow.len ? ", " : "{");
		err = flow_node(&flow, c, k, 0);
		if (err)
			goto out;
		barge_buf_adds(&flow, ": ");
		if (strcmp(key, "type") == 0) {
			int used = join_type_args(&joined, c, q, top);
			if (used) {
				free(col->type);
				col->type = joined;
				joined = NULL;
				put_quoted(&flow, col->type, strlen(col->type));
				q += used;
				continue;
			}
			err = scalar_dup(&col->type, c, v, kwhat);
		} else if (strcmp(key, "to") == 0) {
			err = scalar_dup(&col->to, c, v, kwhat);
		} else if (strcmp(key, "skip") == 0) {
			err = scalar_bool(&col->skip, c, v, kwhat);
		}
		/* other options belong to later features: kept in `options` */
		if (!err)
			err = flow_node(&flow, c, v, 1);
		if (err)
			goto out;
	}
	if (flow.len) {
		barge_buf_adds(&flow, "}");
		err = barge_buf_detach(&flow, &col->options);
	}
out:
	free(joined);
	barge_buf_dispose(&flow);
	return err;
}

static int parse_columns(struct barge_plan_table *t, struct pctx *c,
			 yaml_node_t *n, const char *ctx)
{
	char what[600];
	snprintf(what, sizeof what, "columns%s", ctx);
	if (n->type == YAML_SCALAR_NODE && n->data.scalar.length == 0 &&
	    n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
		return 0; /* "columns:" with nothing under it */
	int err = check_mapping(c, n, what);
	if (err)
		return err;
	size_t count = (size_t)(n->data.mapping.pairs.top -
				n->data.mapping.pairs.start);
	if (count == 0)
		return 0;
	t->columns = calloc(count, sizeof *t->columns);
	if (!t->columns)
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	for (size_t i = 0; i < count; i++) {
		yaml_node_pair_t *q = &n->data.mapping.pairs.start[i];
		struct barge_plan_column *col = &t->columns[i];
		t->ncolumns = i + 1;
		err = scalar_dup(&col->name, c, node_at(c, q->key),
				 "a column name");
		if (!err)
			err = parse_column(col, c, node_at(c, q->value), ctx);
		if (err)
			return err;
	}
	return 0;
}

/* max_rejects / max_reject_ratio: checked here, kept as text for the
 * rejects feature (issue 5). */
static int parse_budget(char **out, struct pctx *c, yaml_node_t *v,
			const char *key, const char *ctx)
{
	if (strcmp(key, "max_rejects") == 0) {
		int64_t x;
		int err = scalar_count(&x, c, v, 0, INT64_MAX, key, ctx);
		if (err)
			return err;
		return scalar_dup(out, c, v, key);
	}
	const char *s = NULL;
	int err = scalar_text(&s, c, v, key);
	if (err)
		return err;
	char *e = NULL;
	errno = 0;
	double r = *s ? strtod(s, &e) : -1;
	if (errno || !e || *e || !(r >= 0 && r <= 1))
		return perr(c, v, "%s%s must be a number from 0 to 1, not '%s'",
			    key, ctx, s);
	return scalar_dup(out, c, v, key);
}

int barge_invariant_parse(const char *text, const char **agg, int *distinct,
			  char **col, char **where)
{
	static const char *const aggs[] = {"count", "sum", "min", "max", "avg"};
	const char *p = text, *open = strchr(text, '('), *close;
	*agg = NULL;
	*distinct = 0;
	*col = *where = NULL;
	while (*p == ' ')
		p++;
	if (!open)
		goto bad;
	size_t an = (size_t)(open - p);
	while (an && p[an - 1] == ' ')
		an--;
	for (size_t i = 0; i < sizeof aggs / sizeof *aggs; i++)
		if (an == strlen(aggs[i]) && strncasecmp(p, aggs[i], an) == 0)
			*agg = aggs[i];
	if (!*agg || !(close = strchr(open, ')')))
		goto bad;
	const char *a = open + 1, *e = close;
	while (a < e && *a == ' ')
		a++;
	while (e > a && e[-1] == ' ')
		e--;
	if (e - a > 9 && strncasecmp(a, "distinct ", 9) == 0) {
		*distinct = 1;
		for (a += 9; a < e && *a == ' '; a++)
			;
	}
	if (a == e)
		goto bad;
	if (e - a == 1 && *a == '*') {
		if (*distinct || strcmp(*agg, "count") != 0)
			goto bad;
	} else {
		for (const char *q = a; q < e; q++)
			if (!(*q == '_' || (*q >= '0' && *q <= '9') ||
			      ((*q | 32) >= 'a' && (*q | 32) <= 'z')))
				goto bad;
		if (!(*col = strndup(a, (size_t)(e - a))))
			return barge_error_set(BARGE_ENOMEM, "out of memory");
	}
	p = close + 1;
	while (*p == ' ')
		p++;
	if (*p) {
		if (strncasecmp(p, "where ", 6) != 0)
			goto bad;
		for (p += 6; *p == ' '; p++)
			;
		if (!*p)
			goto bad;
		if (!(*where = strdup(p)))
			return barge_error_set(BARGE_ENOMEM, "out of memory");
	}
	return 0;
bad:
	free(*col);
	*col = NULL;
	return barge_error_set(BARGE_EUSAGE,
			       "invariant '%s': write AGG(column), AGG(distinct "
			       "column) or count(*), AGG one of count, sum, min, "
			       "max, avg, then optionally 'where PREDICATE'", text);
}

/* invariants: a list of aggregate texts, each checked now. */
static int parse_invariants(struct barge_plan_table *t, struct pctx *c,
			    yaml_node_t *n, const char *ctx)
{
	if (n->type != YAML_SEQUENCE_NODE)
		return perr(c, n, "invariants%s must be a list such as [\"sum(amount)\"]",
			    ctx);
	size_t count = (size_t)(n->data.sequence.items.top -
				n->data.sequence.items.start);
	t->invariants = calloc(count + 1, sizeof *t->invariants);
	if (!t->invariants)
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	for (size_t i = 0; i < count; i++) {
		yaml_node_t *in = node_at(c, n->data.sequence.items.start[i]);
		char what[600], *col = NULL, *where = NULL;
		const char *agg;
		int distinct;
		snprintf(what, sizeof what, "an invariant%s", ctx);
		t->ninvariants = i + 1;
		int err = scalar_dup(&t->invariants[i], c, in, what);
		if (err)
			return err;
		err = barge_invariant_parse(t->invariants[i], &agg, &distinct, &col, &where);
		free(col);
		free(where);
		if (err)
			return perr(c, in, "%s%s", barge_error_last(), ctx);
	}
	return 0;
}

static int parse_table(struct barge_plan_table *t, struct pctx *c,
		       yaml_node_t *n)
{
	barge_settings_unset(&t->settings);
	if (n->type == YAML_SCALAR_NODE) /* "- customers": a name alone */
		return scalar_dup(&t->name, c, n, "a table name");
	int err = check_mapping(c, n, "a table entry");
	if (err)
		return err;

	/* the name first, so that every other message can say which table */
	for (yaml_node_pair_t *q = n->data.mapping.pairs.start;
	     q < n->data.mapping.pairs.top; q++)
		if (strcmp((const char *)node_at(c, q->key)->data.scalar.value,
			   "name") == 0)
			err = scalar_dup(&t->name, c, node_at(c, q->value),
					 "name of a table");
	if (err)
		return err;
	if (!t->name)
		return perr(c, n, "table entry has no 'name'");

	char ctx[520];
	snprintf(ctx, sizeof ctx, " in table '%s'", t->name);
	for (yaml_node_pair_t *q = n->data.mapping.pairs.start;
	     q < n->data.mapping.pairs.top; q++) {
		yaml_node_t *k = node_at(c, q->key);
		yaml_node_t *v = node_at(c, q->value);
		const char *key = (const char *)k->data.scalar.value;
		char what[600];
		snprintf(what, sizeof what, "%s%s", key, ctx);
		if (strcmp(key, "name") == 0)
			continue;
		else if (strcmp(key, "target") == 0)
			err = scalar_dup(&t->target, c, v, what);
		else if (strcmp(key, "key") == 0)
			err = parse_key_list(t, c, v, ctx);
		else if (strcmp(key, "where") == 0)
			err = scalar_dup(&t->where, c, v, what);
		else if (strcmp(key, "columns") == 0)
			err = parse_columns(t, c, v, ctx);
		else if (strcmp(key, "max_rejects") == 0)
			err = parse_budget(&t->max_rejects, c, v, key, ctx);
		else if (strcmp(key, "max_reject_ratio") == 0)
			err = parse_budget(&t->max_reject_ratio, c, v, key, ctx);
		else if (strcmp(key, "invariants") == 0)
			err = parse_invariants(t, c, v, ctx);
		else if (strcmp(key, "add") == 0) {
			err = check_mapping(c, v, what);
			if (!err)
				err = flow_text(&t->add, c, v);
		} else {
			int r = parse_setting(&t->settings, c, key, v, ctx);
			if (r == 0)
				return perr(c, k, "unknown key '%s'%s", key, ctx);
			err = r < 0 ? r : 0;
		}
		if (err)
			return err;
	}
	return 0;
}

static int parse_tables(struct barge_plan *p, struct pctx *c, yaml_node_t *n)
{
	if (n->type == YAML_SCALAR_NODE && n->data.scalar.length == 0 &&
	    n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
		return 0; /* "tables:" with nothing under it */
	if (n->type != YAML_SEQUENCE_NODE)
		return perr(c, n, "tables must be a list (each entry starts with '- name: ...'), not %s",
			    node_kind(n));
	size_t count = (size_t)(n->data.sequence.items.top -
				n->data.sequence.items.start);
	if (count == 0)
		return 0;
	p->tables = calloc(count, sizeof *p->tables);
	if (!p->tables)
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	for (size_t i = 0; i < count; i++) {
		yaml_node_t *tn = node_at(c, n->data.sequence.items.start[i]);
		p->ntables = i + 1;
		int err = parse_table(&p->tables[i], c, tn);
		if (err)
			return err;
		/* the state store keeps a table's chunks by its name */
		for (size_t j = 0; j < i; j++)
			if (strcmp(p->tables[j].name, p->tables[i].name) == 0)
				return perr(c, tn, "table '%s' is listed twice",
					    p->tables[i].name);
	}
	return 0;
}

static int parse_root(struct barge_plan *p, struct pctx *c, yaml_node_t *root)
{
	int err = check_mapping(c, root, "the plan");
	if (err)
		return err;
	for (yaml_node_pair_t *q = root->data.mapping.pairs.start;
	     q < root->data.mapping.pairs.top; q++) {
		yaml_node_t *k = node_at(c, q->key);
		yaml_node_t *v = node_at(c, q->value);
		const char *key = (const char *)k->data.scalar.value;
		if (strcmp(key, "source") == 0)
			err = scalar_dup(&p->source, c, v, "source");
		else if (strcmp(key, "target") == 0)
			err = scalar_dup(&p->target, c, v, "target");
		else if (strcmp(key, "state") == 0)
			err = scalar_dup(&p->state, c, v, "state");
		else if (strcmp(key, "defaults") == 0)
			err = parse_defaults(p, c, v);
		else if (strcmp(key, "tables") == 0)
			err = parse_tables(p, c, v);
		else
			err = perr(c, k, "unknown key '%s' (expected source, target, state, defaults, tables)",
				   key);
		if (err)
			return err;
	}
	if (!p->source)
		return perr(c, root, "the plan has no 'source' (the URL to read from)");
	if (!p->target)
		return perr(c, root, "the plan has no 'target' (the URL to write to)");
	return 0;
}

int barge_plan_parse(struct barge_plan **out, const char *yaml, size_t len,
		     const char *name)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	int have_parser = 0, have_doc = 0;
	struct barge_plan *p = NULL;
	struct pctx c = {.doc = &doc, .name = name ? name : "plan"};
	int err = 0;

	*out = NULL;
	p = calloc(1, sizeof *p);
	if (!p || !yaml_parser_initialize(&parser)) {
		err = barge_error_set(BARGE_ENOMEM, "out of memory");
		goto out;
	}
	have_parser = 1;
	barge_settings_unset(&p->defaults);
	yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, len);
	if (!yaml_parser_load(&parser, &doc)) {
		err = barge_error_set(BARGE_EUSAGE, "%s:%zu: malformed YAML: %s%s%s",
				      c.name,
				      (size_t)parser.problem_mark.line + 1,
				      parser.problem ? parser.problem : "error",
				      parser.context ? " " : "",
				      parser.context ? parser.context : "");
		goto out;
	}
	have_doc = 1;
	yaml_node_t *root = yaml_document_get_root_node(&doc);
	if (!root) {
		err = barge_error_set(BARGE_EUSAGE,
				      "%s: the plan is empty; it needs at least source and target",
				      c.name);
		goto out;
	}
	err = parse_root(p, &c, root);
	if (err)
		goto out;

	/* a second document would be silently ignored: refuse it */
	yaml_document_t next;
	if (!yaml_parser_load(&parser, &next)) {
		err = barge_error_set(BARGE_EUSAGE, "%s:%zu: malformed YAML: %s",
				      c.name,
				      (size_t)parser.problem_mark.line + 1,
				      parser.problem ? parser.problem : "error");
		goto out;
	}
	int extra = yaml_document_get_root_node(&next) != NULL;
	size_t line = (size_t)next.start_mark.line + 1;
	yaml_document_delete(&next);
	if (extra) {
		err = barge_error_set(BARGE_EUSAGE,
				      "%s:%zu: a second YAML document; a plan is one document",
				      c.name, line);
		goto out;
	}
	*out = p;
	p = NULL;
out:
	if (have_doc)
		yaml_document_delete(&doc);
	if (have_parser)
		yaml_parser_delete(&parser);
	barge_plan_free(p);
	return err;
}

int barge_plan_load(struct barge_plan **out, const char *path)
{
	FILE *f = NULL;
	char *text = NULL;
	size_t len = 0, alloc = 0;
	int err = 0;

	*out = NULL;
	f = fopen(path, "rb");
	if (!f) {
		if (errno == ENOENT)
			err = barge_error_set(BARGE_ENOTFOUND,
					      "%s: no such plan file", path);
		else
			err = barge_error_set(BARGE_EUSAGE, "cannot read plan %s: %s",
					      path, strerror(errno));
		goto out;
	}
	for (;;) {
		if (len == alloc) {
			if (alloc >= PLAN_MAX_BYTES) {
				err = barge_error_set(BARGE_EUSAGE,
						      "%s: larger than %u MB; is it a plan?",
						      path, PLAN_MAX_BYTES >> 20);
				goto out;
			}
			alloc = alloc ? alloc * 2 : 8192;
			char *grown = realloc(text, alloc);
			if (!grown) {
				err = barge_error_set(BARGE_ENOMEM, "out of memory");
				goto out;
			}
			text = grown;
		}
		size_t got = fread(text + len, 1, alloc - len, f);
		len += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		err = barge_error_set(BARGE_EUSAGE, "cannot read plan %s: %s",
				      path, strerror(errno));
		goto out;
	}
	err = barge_plan_parse(out, text, len, path);
	if (err)
		goto out;
	(*out)->path = strdup(path);
	if (!(*out)->path) {
		barge_plan_free(*out);
		*out = NULL;
		err = barge_error_set(BARGE_ENOMEM, "out of memory");
	}
out:
	if (f)
		fclose(f);
	free(text);
	return err;
}

/* ---- Emitting a plan for `barge init` ----------------------------------- */

/*
 * May `s` be written as a plain scalar that every YAML reader takes as this
 * same string? Only a conservative set of characters, not starting like a
 * number, and not one of YAML 1.1's booleans or null.
 */
static int emit_plain_ok(const char *s)
{
	static const char *const reserved[] = {
		"true", "false", "yes", "no", "on", "off", "y", "n", "null", NULL,
	};
	if (!isalpha((unsigned char)s[0]) && s[0] != '_' && s[0] != '/')
		return 0;
	for (const char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("_./:@+=-", *p))
			return 0;
	size_t n = strlen(s);
	if (s[n - 1] == ':')
		return 0;
	for (size_t i = 0; reserved[i]; i++)
		if (strcasecmp(s, reserved[i]) == 0)
			return 0;
	return 1;
}

static int emit_scalar(struct barge_buf *b, const char *s)
{
	if (!*s)
		return b->err = barge_error_set(BARGE_EDATA,
						"a table or column has an empty name; a plan cannot name it");
	if (!barge_utf8_valid(s, strlen(s)))
		return b->err = barge_error_set(BARGE_EDATA,
						"a table or column name is not valid UTF-8; a plan cannot hold it");
	if (emit_plain_ok(s))
		barge_buf_adds(b, s);
	else
		put_dquoted(b, s, strlen(s));
	return b->err;
}

/* Text inside a '#' comment: one line, no control characters. */
static void emit_comment_text(struct barge_buf *b, const char *s)
{
	for (const char *p = s; *p; p++) {
		unsigned char ch = (unsigned char)*p;
		barge_buf_add(b, ch < 0x20 || ch == 0x7f ? " " : p, 1);
	}
}

/* Start a comment at column `col` of the current line (or one space after
 * its text, when that is further). */
#define COMMENT_COL 28
static void emit_comment_start(struct barge_buf *b)
{
	if (b->err)
		return;
	size_t line = b->len;
	while (line > 0 && b->p[line - 1] != '\n')
		line--;
	size_t at = b->len - line;
	do
		barge_buf_add(b, " ", 1);
	while (++at < COMMENT_COL);
	barge_buf_adds(b, "# ");
}

static void emit_table(struct barge_buf *b, const struct barge_table_def *t)
{
	barge_buf_adds(b, "\n  - name: ");
	emit_scalar(b, t->name);
	if (t->rows >= 0) {
		emit_comment_start(b);
		barge_buf_printf(b, "%lld row%s", (long long)t->rows,
				 t->rows == 1 ? "" : "s");
	}
	barge_buf_adds(b, "\n");
	for (size_t i = 0; i < t->nwarnings; i++) {
		barge_buf_adds(b, "    # warning: ");
		emit_comment_text(b, t->warnings[i]);
		barge_buf_adds(b, "\n");
	}
	if (t->nkey) {
		barge_buf_adds(b, "    key: [");
		for (size_t i = 0; i < t->nkey; i++) {
			if (i)
				barge_buf_adds(b, ", ");
			emit_scalar(b, t->cols[t->key[i]].name);
		}
		barge_buf_adds(b, "]\n");
	} else if (t->has_rowid) {
		barge_buf_adds(b, "    # no primary key: chunked by rowid; add key: [column, ...] to choose one\n");
	} else {
		barge_buf_adds(b, "    # no primary key and no row address: copied as one chunk; add key: [column, ...]\n");
	}
	barge_buf_adds(b, "    # target: ");
	emit_scalar(b, t->name);
	emit_comment_start(b);
	barge_buf_adds(b, "to rename the table in the target\n");
	barge_buf_adds(b, "    # mode: upsert");
	emit_comment_start(b);
	barge_buf_adds(b, "insert, upsert, replace or truncate\n");
	barge_buf_adds(b, "    # where: \"...\"");
	emit_comment_start(b);
	barge_buf_adds(b, "a filter, in the source's SQL\n");
	if (t->ncols == 0) {
		barge_buf_adds(b, "    columns: {}\n");
		return;
	}
	barge_buf_adds(b, "    columns:");
	emit_comment_start(b);
	barge_buf_adds(b, "engine type -> logical type; {to: new_name}, {skip: true}, {type: t}\n");
	for (size_t i = 0; i < t->ncols && !b->err; i++) {
		const struct barge_column_def *col = &t->cols[i];
		barge_buf_adds(b, "      ");
		emit_scalar(b, col->name);
		barge_buf_adds(b, ": {}");
		emit_comment_start(b);
		emit_comment_text(b, col->engine_type && *col->engine_type
					     ? col->engine_type : "(no type)");
		barge_buf_printf(b, " -> %s", barge_type_name(col->type));
		if (col->notnull)
			barge_buf_adds(b, ", not null");
		if (col->key_pos)
			barge_buf_printf(b, ", key %d", col->key_pos);
		barge_buf_adds(b, "\n");
	}
}

/* "  key: value" padded, then "# comment". */
static void emit_setting(struct barge_buf *b, const char *key,
			 long long value, const char *text, const char *comment)
{
	if (text)
		barge_buf_printf(b, "  %s: %s", key, text);
	else
		barge_buf_printf(b, "  %s: %lld", key, value);
	emit_comment_start(b);
	barge_buf_adds(b, comment);
	barge_buf_adds(b, "\n");
}

int barge_plan_emit(char **out, const char *source, const char *target,
		    const struct barge_table_def *const *tables, size_t n)
{
	struct barge_buf b;
	struct barge_settings d;

	*out = NULL;
	barge_settings_builtin(&d);
	barge_buf_init(&b, EMIT_MAX_BYTES);
	barge_buf_adds(&b, "# A barge plan, written by `barge init`: edit it, then `barge run PLAN.yaml`.\n"
			   "# The format is described in docs/plan.md. Tables are listed parents first.\n"
			   "source: ");
	emit_scalar(&b, source);
	barge_buf_adds(&b, "\ntarget: ");
	emit_scalar(&b, target);
	barge_buf_adds(&b, "\nstate: barge-state.db");
	emit_comment_start(&b);
	barge_buf_adds(&b, "progress of the run, for resuming\ndefaults:");
	emit_comment_start(&b);
	barge_buf_adds(&b, "every table inherits these\n");
	emit_setting(&b, "chunk_rows", 0, "auto",
		     "rows per chunk (one target transaction); auto: 50000 "
		     "to 500000 by the table's size");
	emit_setting(&b, "batch_rows", d.batch_rows, NULL, "rows per batch in memory");
	emit_setting(&b, "jobs", d.jobs, NULL, "worker threads");
	emit_setting(&b, "mode", 0, barge_mode_name(d.mode),
		     "insert, upsert, replace or truncate");
	emit_setting(&b, "retries", d.retries, NULL,
		     "retries of a transient failure, per chunk");
	emit_setting(&b, "max_failures", d.max_failures, NULL,
		     "stop after this many failed chunks in a row");
	emit_setting(&b, "queue_depth", d.queue_depth, NULL,
		     "batches in flight between reader and writer");
	if (n == 0) {
		barge_buf_adds(&b, "tables: []");
		emit_comment_start(&b);
		barge_buf_adds(&b, "the source has no tables\n");
	} else {
		barge_buf_adds(&b, "tables:\n");
	}
	for (size_t i = 0; i < n && !b.err; i++)
		emit_table(&b, tables[i]);
	return barge_buf_detach(&b, out);
}
