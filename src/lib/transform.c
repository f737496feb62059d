/*
 * The transform stage: compile a table's mapping from the plan's column
 * options (kept by plan.c as YAML flow text), then map rows. See
 * transform.h for the order of operations and docs/mapping.md for users.
 */
#include "transform.h"
#include "tz.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define US_PER_S INT64_C(1000000)

enum step_kind { ST_TRIM, ST_LOWER, ST_UPPER, ST_STRIP_NUL, ST_MAP, ST_ROUND, ST_TZ,
		 ST_ENCODING };
enum rule_kind { R_REQUIRED, R_MIN, R_MAX, R_REGEX, R_IN, R_MAXLEN };
enum col_kind { K_COPY, K_MAPPED, K_CONST, K_UUID5, K_SEQ };

struct step {
	int kind;
	int places;                 /* round */
	struct barge_tz *from, *to; /* timezone */
	int enc;                    /* encoding: 1 latin1, 2 cp1252 */
	size_t nmap;
	char **map_from, **map_to;  /* map_to[i] NULL = to NULL */
};

struct rule {
	int kind;
	char *text;      /* min/max bound as text */
	int64_t ibound;  /* min/max bound of a temporal column */
	int temporal;
	int64_t maxlen;
	pcre2_code *re;
	size_t nin;
	char **in;
};

struct xcol {
	int kind;
	int src;             /* source column, -1 for a constant */
	int in_type;
	struct barge_column_def def; /* the target column */
	int via_text;        /* the value goes through its text form */
	char *deflt;         /* `default`, or NULL */
	char *const_text;    /* K_CONST: the value (NULL = NULL) */
	unsigned char ns[16];/* K_UUID5 */
	int64_t seq_start;   /* K_SEQ: the first number */
	size_t nsteps, nrules;
	struct step *steps;
	struct rule *rules;
	int required;
	char *references;    /* "table.column" or NULL */
	/* remapped through a parent's new key: the value (cast to pre_type)
	 * becomes uuid_v5 of its text form in remap_ns (remap 1,
	 * barge_xf_remap) or the new key the engine fed from barge_keymap
	 * (remap 2, barge_xf_remap_fed) */
	int remap, pre_type, pre_prec, pre_scale;
	unsigned char remap_ns[16];
	char *desc;          /* transforms and rules, for --dry-run */
};

struct barge_xf {
	char *table;
	size_t ncols;
	struct xcol *cols;
};

/* A value fed by the engine for one column of the next row. */
struct feed {
	int set;       /* 0: none (NULL), 1: fed */
	const char *p; /* NULL: looked up and not found */
	size_t n;
};

struct barge_xf_run {
	struct barge_buf a, b, cast, txt;
	pcre2_match_data *md;
	size_t nfeeds;
	struct feed *feeds;
};

/* ---- small helpers --------------------------------------------------------- */

static void step_dispose(struct step *s)
{
	barge_tz_free(s->from);
	barge_tz_free(s->to);
	for (size_t i = 0; i < s->nmap; i++) {
		free(s->map_from[i]);
		free(s->map_to[i]);
	}
	free(s->map_from);
	free(s->map_to);
}

static void rule_dispose(struct rule *r)
{
	free(r->text);
	if (r->re)
		pcre2_code_free(r->re);
	for (size_t i = 0; i < r->nin; i++)
		free(r->in[i]);
	free(r->in);
}

void barge_xf_free(struct barge_xf *xf)
{
	if (!xf)
		return;
	for (size_t i = 0; i < xf->ncols; i++) {
		struct xcol *c = &xf->cols[i];
		for (size_t j = 0; j < c->nsteps; j++)
			step_dispose(&c->steps[j]);
		for (size_t j = 0; j < c->nrules; j++)
			rule_dispose(&c->rules[j]);
		free(c->steps);
		free(c->rules);
		free(c->def.name);
		free(c->def.engine_type);
		free(c->deflt);
		free(c->const_text);
		free(c->references);
		free(c->desc);
	}
	free(xf->cols);
	free(xf->table);
	free(xf);
}

size_t barge_xf_ncols(const struct barge_xf *xf)
{
	return xf->ncols;
}

const struct barge_column_def *barge_xf_col(const struct barge_xf *xf, size_t i)
{
	return &xf->cols[i].def;
}

int barge_xf_source(const struct barge_xf *xf, size_t i)
{
	return xf->cols[i].kind == K_CONST ? -1 : xf->cols[i].src;
}

const char *barge_xf_references(const struct barge_xf *xf, size_t i)
{
	return xf->cols[i].references;
}

static void desc(struct xcol *c, const char *fmt, const char *arg);

int barge_xf_uuid_v5(const struct barge_xf *xf, size_t i, unsigned char ns[16])
{
	if (xf->cols[i].kind != K_UUID5)
		return 0;
	memcpy(ns, xf->cols[i].ns, 16);
	return 1;
}

int barge_xf_uuid_key(const struct barge_xf *xf, const struct barge_table_def *src,
		      size_t *legacy, size_t *newcol, unsigned char ns[16])
{
	long copied = -1;
	if (src->nkey != 1)
		return 0;
	for (size_t i = 0; i < xf->ncols && copied < 0; i++)
		if ((xf->cols[i].kind == K_COPY || xf->cols[i].kind == K_MAPPED) &&
		    xf->cols[i].src == (int)src->key[0])
			copied = (long)i;
	for (size_t j = 0; copied >= 0 && j < xf->ncols; j++)
		if (xf->cols[j].kind == K_UUID5 && xf->cols[j].src == (int)src->key[0]) {
			*legacy = (size_t)copied;
			*newcol = j;
			memcpy(ns, xf->cols[j].ns, 16);
			return 1;
		}
	return 0;
}

int barge_xf_sequence(const struct barge_xf *xf, size_t i, int64_t *start)
{
	if (xf->cols[i].kind != K_SEQ)
		return 0;
	*start = xf->cols[i].seq_start;
	return 1;
}

static int remap_to(struct barge_xf *xf, size_t i, int how, int type)
{
	struct xcol *c = &xf->cols[i];
	if (c->kind == K_CONST || c->kind == K_UUID5 || c->kind == K_SEQ)
		return barge_error_set(BARGE_EUSAGE, "table '%s': column '%s' cannot "
				       "be remapped", xf->table, c->def.name);
	c->remap = how;
	c->pre_type = c->def.type;
	c->pre_prec = c->def.precision;
	c->pre_scale = c->def.scale;
	c->def.type = type;
	c->def.precision = 0;
	c->def.scale = -1;
	free(c->def.engine_type);
	c->def.engine_type = NULL;
	if (c->kind == K_COPY) {
		c->kind = K_MAPPED;
		c->in_type = c->pre_type;
	}
	return 0;
}

int barge_xf_remap(struct barge_xf *xf, size_t i, const unsigned char ns[16],
		   const char *why)
{
	int err = remap_to(xf, i, 1, BARGE_T_UUID);
	if (err == 0) {
		memcpy(xf->cols[i].remap_ns, ns, 16);
		desc(&xf->cols[i], "remapped to %s", why);
	}
	return err;
}

int barge_xf_remap_fed(struct barge_xf *xf, size_t i, int type, const char *why)
{
	int err = remap_to(xf, i, 2, type);
	if (err == 0)
		desc(&xf->cols[i], "remapped to %s", why);
	return err;
}

int barge_xf_run_feed(struct barge_xf_run *r, size_t col, const char *p,
		      size_t n)
{
	if (col >= r->nfeeds) {
		struct feed *f = realloc(r->feeds, (col + 1) * sizeof *f);
		if (!f)
			return barge_error_set(BARGE_ENOMEM, "out of memory");
		memset(f + r->nfeeds, 0, (col + 1 - r->nfeeds) * sizeof *f);
		r->feeds = f;
		r->nfeeds = col + 1;
	}
	r->feeds[col].set = 1;
	r->feeds[col].p = p;
	r->feeds[col].n = n;
	return 0;
}

void barge_xf_run_unfeed(struct barge_xf_run *r)
{
	for (size_t i = 0; i < r->nfeeds; i++)
		r->feeds[i].set = 0;
}

static const struct feed *fed(const struct barge_xf_run *r, size_t col)
{
	return col < r->nfeeds && r->feeds[col].set ? &r->feeds[col] : NULL;
}

/* ---- YAML of the options ----------------------------------------------------- */

struct yctx {
	yaml_document_t doc;
	int loaded;
	char where[300]; /* "table 'x', column 'y'" */
};

static yaml_node_t *ynode(struct yctx *y, int id)
{
	return yaml_document_get_node(&y->doc, id);
}

static int yload(struct yctx *y, const char *text)
{
	yaml_parser_t p;
	if (!yaml_parser_initialize(&p))
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	yaml_parser_set_input_string(&p, (const unsigned char *)text, strlen(text));
	int ok = yaml_parser_load(&p, &y->doc);
	yaml_parser_delete(&p);
	if (!ok)
		return barge_error_set(BARGE_EUSAGE, "%s: options do not parse", y->where);
	y->loaded = 1;
	return 0;
}

static void yfree(struct yctx *y)
{
	if (y->loaded)
		yaml_document_delete(&y->doc);
	y->loaded = 0;
}

static const char *yscalar(yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value
						: NULL;
}

static int yis_null(yaml_node_t *n)
{
	const char *s = yscalar(n);
	return s && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	       (!*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") ||
		!strcmp(s, "NULL"));
}

static int ybool(struct yctx *y, yaml_node_t *n, const char *what, int *out)
{
	const char *s = yscalar(n);
	if (s && (!strcmp(s, "true") || !strcmp(s, "yes")))
		*out = 1;
	else if (s && (!strcmp(s, "false") || !strcmp(s, "no")))
		*out = 0;
	else
		return barge_error_set(BARGE_EUSAGE, "%s: %s must be true or false",
				       y->where, what);
	return 0;
}

static int yint(struct yctx *y, yaml_node_t *n, const char *what, int64_t *out)
{
	const char *s = yscalar(n);
	if (!s || barge_parse_i64(out, s, what) < 0 || *out < 0)
		return barge_error_set(BARGE_EUSAGE, "%s: %s must be a whole number >= 0",
				       y->where, what);
	return 0;
}

static int sdup(char **out, const char *s)
{
	*out = s ? strdup(s) : NULL;
	if (s && !*out)
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	return 0;
}

/* "decimal(14,2)", "text(60)", "varchar(60)", "int64"... */
static int parse_type(struct barge_column_def *def, const char *s,
		      const char *where)
{
	char name[32];
	int p = 0, sc = -1;
	size_t n = strcspn(s, "(");
	if (n >= sizeof name)
		goto bad;
	memcpy(name, s, n);
	name[n] = '\0';
	while (n && name[n - 1] == ' ')
		name[--n] = '\0';
	if (s[n] == '(' || strchr(s, '(')) {
		const char *a = strchr(s, '(') + 1;
		char *e;
		p = (int)strtol(a, &e, 10);
		if (e == a || p < 1 || p > 1000)
			goto bad;
		while (*e == ' ')
			e++;
		if (*e == ',') {
			a = e + 1;
			sc = (int)strtol(a, &e, 10);
			if (e == a || sc < 0 || sc > p)
				goto bad;
		}
		while (*e == ' ')
			e++;
		if (strcmp(e, ")") != 0)
			goto bad;
	}
	static const char *const alias[][2] = {
		{"varchar", "text"}, {"string", "text"}, {"numeric", "decimal"},
		{"integer", "int64"}, {"int", "int64"}, {"bigint", "int64"},
		{"double", "float64"}, {"float", "float64"}, {"boolean", "bool"},
	};
	for (size_t i = 0; i < sizeof alias / sizeof alias[0]; i++)
		if (!strcmp(name, alias[i][0]))
			snprintf(name, sizeof name, "%s", alias[i][1]);
	enum barge_type t;
	if (barge_type_parse(&t, name) < 0 || t == BARGE_T_ANY)
		goto bad;
	if ((p && t != BARGE_T_DECIMAL && t != BARGE_T_TEXT) ||
	    (sc >= 0 && t != BARGE_T_DECIMAL))
		goto bad;
	def->type = t;
	def->precision = p;
	def->scale = t == BARGE_T_DECIMAL ? sc : 0;
	if (t == BARGE_T_DECIMAL && p && sc < 0)
		def->scale = 0;
	return 0;
bad:
	return barge_error_set(BARGE_EUSAGE,
			       "%s: unknown type '%s' (bool, int64, float64, "
			       "decimal(p,s), text, text(n), bytes, date, time, "
			       "timestamp, timestamptz, uuid, json)", where, s);
}

/* ---- compiling ---------------------------------------------------------------- */

static int add_step(struct xcol *c, struct step **out)
{
	struct step *s = realloc(c->steps, (c->nsteps + 1) * sizeof *s);
	if (!s)
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	c->steps = s;
	*out = &s[c->nsteps++];
	memset(*out, 0, sizeof **out);
	return 0;
}

static int add_rule(struct xcol *c, int kind, struct rule **out)
{
	struct rule *r = realloc(c->rules, (c->nrules + 1) * sizeof *r);
	if (!r)
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	c->rules = r;
	*out = &r[c->nrules++];
	memset(*out, 0, sizeof **out);
	(*out)->kind = kind;
	return 0;
}

static void desc(struct xcol *c, const char *fmt, const char *arg)
{
	struct barge_buf b;
	barge_buf_init(&b, 1 << 16);
	if (c->desc)
		barge_buf_printf(&b, "%s, ", c->desc);
	barge_buf_printf(&b, fmt, arg);
	char *s = NULL;
	if (barge_buf_detach(&b, &s) == 0) {
		free(c->desc);
		c->desc = s;
	}
	barge_buf_dispose(&b);
}

/* One step: a scalar (trim, lower, upper, strip_nul) or
 * {map|round|timezone|encoding: x}. */
static int compile_step(struct yctx *y, struct xcol *c, const char *key,
			yaml_node_t *v)
{
	struct step *s = NULL;
	int err;
	if ((err = add_step(c, &s)) < 0)
		return err;
	if (!strcmp(key, "trim") || !strcmp(key, "lower") || !strcmp(key, "upper")) {
		s->kind = key[0] == 't' ? ST_TRIM : key[0] == 'l' ? ST_LOWER : ST_UPPER;
		desc(c, "%s", key);
		return 0;
	}
	if (!strcmp(key, "strip_nul")) {
		s->kind = ST_STRIP_NUL;
		desc(c, "%s", key);
		return 0;
	}
	if (!strcmp(key, "round")) {
		int64_t n;
		if ((err = yint(y, v, "round", &n)) < 0)
			return err;
		if (n > 1000)
			return barge_error_set(BARGE_EUSAGE, "%s: round: at most 1000 places",
					       y->where);
		s->kind = ST_ROUND;
		s->places = (int)n;
		desc(c, "round %s", yscalar(v));
		return 0;
	}
	if (!strcmp(key, "encoding")) {
		const char *e = yscalar(v);
		s->kind = ST_ENCODING;
		if (e && (!strcmp(e, "latin1") || !strcmp(e, "iso-8859-1")))
			s->enc = 1;
		else if (e && (!strcmp(e, "cp1252") || !strcmp(e, "windows-1252")))
			s->enc = 2;
		else
			return barge_error_set(BARGE_EUSAGE, "%s: encoding must be latin1 "
					       "or cp1252", y->where);
		desc(c, "repair encoding from %s", e);
		return 0;
	}
	if (!strcmp(key, "map")) {
		if (!v || v->type != YAML_MAPPING_NODE)
			return barge_error_set(BARGE_EUSAGE, "%s: map must be a mapping "
					       "such as {'Y': true, 'N': false}", y->where);
		size_t n = (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);
		s->kind = ST_MAP;
		s->map_from = calloc(n + 1, sizeof *s->map_from);
		s->map_to = calloc(n + 1, sizeof *s->map_to);
		if (!s->map_from || !s->map_to)
			return barge_error_set(BARGE_ENOMEM, "out of memory");
		for (size_t i = 0; i < n; i++) {
			yaml_node_pair_t *q = &v->data.mapping.pairs.start[i];
			yaml_node_t *k = ynode(y, q->key), *t = ynode(y, q->value);
			if (!yscalar(k) || !yscalar(t))
				return barge_error_set(BARGE_EUSAGE, "%s: map keys and values "
						       "must be single values", y->where);
			s->nmap++;
			if ((err = sdup(&s->map_from[i], yscalar(k))) < 0 ||
			    (err = sdup(&s->map_to[i], yis_null(t) ? NULL : yscalar(t))) < 0)
				return err;
		}
		desc(c, "%s", "map");
		return 0;
	}
	if (!strcmp(key, "timezone")) {
		yaml_node_t *from = NULL, *to = NULL;
		if (!v || v->type != YAML_MAPPING_NODE)
			return barge_error_set(BARGE_EUSAGE, "%s: timezone must be "
					       "{from: ZONE, to: ZONE}", y->where);
		for (yaml_node_pair_t *q = v->data.mapping.pairs.start;
		     q < v->data.mapping.pairs.top; q++) {
			const char *k = yscalar(ynode(y, q->key));
			if (k && !strcmp(k, "from"))
				from = ynode(y, q->value);
			else if (k && !strcmp(k, "to"))
				to = ynode(y, q->value);
			else
				return barge_error_set(BARGE_EUSAGE, "%s: timezone: unknown "
						       "key '%s' (from, to)", y->where,
						       k ? k : "?");
		}
		if (!yscalar(from))
			return barge_error_set(BARGE_EUSAGE, "%s: timezone needs from: ZONE",
					       y->where);
		s->kind = ST_TZ;
		if ((err = barge_tz_load(&s->from, yscalar(from))) < 0 ||
		    (err = barge_tz_load(&s->to, yscalar(to) ? yscalar(to) : "UTC")) < 0)
			return barge_error_wrap(err, "%s", y->where);
		char d[300];
		snprintf(d, sizeof d, "timezone %s -> %s", barge_tz_name(s->from),
			 barge_tz_name(s->to));
		desc(c, "%s", d);
		return 0;
	}
	c->nsteps--;
	return barge_error_set(BARGE_EUSAGE, "%s: unknown transform '%s' (trim, "
			       "lower, upper, strip_nul, map, round, timezone, "
			       "encoding)",
			       y->where, key);
}

static int compile_transform(struct yctx *y, struct xcol *c, yaml_node_t *v)
{
	if (yscalar(v))
		return compile_step(y, c, yscalar(v), NULL);
	if (!v || v->type != YAML_SEQUENCE_NODE)
		return barge_error_set(BARGE_EUSAGE, "%s: transform must be a name or "
				       "a list [trim, lower, ...]", y->where);
	for (yaml_node_item_t *i = v->data.sequence.items.start;
	     i < v->data.sequence.items.top; i++) {
		yaml_node_t *n = ynode(y, *i);
		int err;
		if (yscalar(n))
			err = compile_step(y, c, yscalar(n), NULL);
		else if (n->type == YAML_MAPPING_NODE &&
			 n->data.mapping.pairs.top - n->data.mapping.pairs.start == 1)
			err = compile_step(y, c,
					   yscalar(ynode(y, n->data.mapping.pairs.start->key)),
					   ynode(y, n->data.mapping.pairs.start->value));
		else
			err = barge_error_set(BARGE_EUSAGE, "%s: a transform list item is "
					      "a name or {name: argument}", y->where);
		if (err < 0)
			return err;
	}
	return 0;
}

static int is_numeric(int t)
{
	return t == BARGE_T_INT64 || t == BARGE_T_FLOAT64 || t == BARGE_T_DECIMAL ||
	       t == BARGE_T_ANY;
}

static int is_temporal(int t)
{
	return t == BARGE_T_DATE || t == BARGE_T_TIME || t == BARGE_T_TIMESTAMP ||
	       t == BARGE_T_TIMESTAMPTZ;
}

/* A rule, with the column's final type known. */
static int compile_rule(struct yctx *y, struct xcol *c, const char *key,
			yaml_node_t *v)
{
	struct rule *r = NULL;
	int err;
	if (!strcmp(key, "required")) {
		int on;
		if ((err = ybool(y, v, "required", &on)) < 0)
			return err;
		c->required = on;
		if (on)
			desc(c, "%s", "required");
		return 0;
	}
	if (!strcmp(key, "references")) {
		const char *s = yscalar(v);
		if (!s || !strchr(s, '.') || s[0] == '.' || strchr(s, '.')[1] == '\0')
			return barge_error_set(BARGE_EUSAGE, "%s: references must be "
					       "TABLE.COLUMN", y->where);
		desc(c, "references %s", s);
		return sdup(&c->references, s);
	}
	if (!strcmp(key, "min") || !strcmp(key, "max")) {
		const char *s = yscalar(v);
		if ((err = add_rule(c, key[1] == 'i' ? R_MIN : R_MAX, &r)) < 0)
			return err;
		if (!s)
			return barge_error_set(BARGE_EUSAGE, "%s: %s must be a number or a "
					       "date", y->where, key);
		if (is_temporal(c->def.type)) {
			r->temporal = 1;
			struct barge_value bv;
			struct barge_buf tmp;
			const char *why;
			barge_buf_init(&tmp, 1024);
			err = barge_cast_text(&bv, &tmp, s, strlen(s), c->def.type, 0, 0, &why);
			barge_buf_dispose(&tmp);
			if (err)
				return barge_error_set(BARGE_EUSAGE, "%s: %s: '%s' is %s", y->where,
						       key, s, why ? why : "not a date");
			r->ibound = bv.i;
		} else if (is_numeric(c->def.type) || c->def.type == BARGE_T_BOOL) {
			int cmp;
			if (barge_decimal_cmp(&cmp, s, strlen(s), "0", 1) < 0)
				return barge_error_set(BARGE_EUSAGE, "%s: %s: '%s' is not a number",
						       y->where, key, s);
		} else {
			return barge_error_set(BARGE_EUSAGE, "%s: %s applies to numbers and "
					       "dates, not %s (use max_length or in)",
					       y->where, key, barge_type_name(c->def.type));
		}
		char d[128];
		snprintf(d, sizeof d, "%s %s", key, s);
		desc(c, "%s", d);
		return sdup(&r->text, s);
	}
	if (!strcmp(key, "max_length")) {
		if ((err = add_rule(c, R_MAXLEN, &r)) < 0 ||
		    (err = yint(y, v, "max_length", &r->maxlen)) < 0)
			return err;
		desc(c, "max_length %s", yscalar(v));
		return 0;
	}
	if (!strcmp(key, "regex")) {
		const char *s = yscalar(v);
		int code;
		PCRE2_SIZE off;
		if ((err = add_rule(c, R_REGEX, &r)) < 0)
			return err;
		if (!s)
			return barge_error_set(BARGE_EUSAGE, "%s: regex must be a string",
					       y->where);
		r->re = pcre2_compile((PCRE2_SPTR)s, PCRE2_ZERO_TERMINATED, PCRE2_UTF,
				      &code, &off, NULL);
		if (!r->re) {
			PCRE2_UCHAR m[200];
			pcre2_get_error_message(code, m, sizeof m);
			return barge_error_set(BARGE_EUSAGE, "%s: bad regex '%s' at offset "
					       "%zu: %s", y->where, s, (size_t)off, (char *)m);
		}
		desc(c, "regex %s", s);
		return sdup(&r->text, s);
	}
	if (!strcmp(key, "in")) {
		if ((err = add_rule(c, R_IN, &r)) < 0)
			return err;
		if (!v || v->type != YAML_SEQUENCE_NODE)
			return barge_error_set(BARGE_EUSAGE, "%s: in must be a list [a, b]",
					       y->where);
		size_t n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
		r->in = calloc(n + 1, sizeof *r->in);
		if (!r->in)
			return barge_error_set(BARGE_ENOMEM, "out of memory");
		for (size_t i = 0; i < n; i++) {
			const char *s = yscalar(ynode(y, v->data.sequence.items.start[i]));
			if (!s)
				return barge_error_set(BARGE_EUSAGE, "%s: in: list single values",
						       y->where);
			r->nin++;
			if ((err = sdup(&r->in[i], s)) < 0)
				return err;
		}
		desc(c, "%s", "in [...]");
		return 0;
	}
	return barge_error_set(BARGE_EUSAGE, "%s: unknown rule '%s' (required, min, "
			       "max, regex, in, max_length, references)", y->where, key);
}

static int is_rule(const char *k)
{
	static const char *const names[] = {"required", "min", "max", "regex", "in",
					    "max_length", "references", NULL};
	for (size_t i = 0; names[i]; i++)
		if (!strcmp(k, names[i]))
			return 1;
	return 0;
}

/* A copied column's options. Steps keep the order they are written in. */
static int compile_column(struct xcol *c, const char *opts, const char *type,
			  struct yctx *y)
{
	yaml_node_t *root, *rules = NULL;
	int err = 0;
	if (type && (err = parse_type(&c->def, type, y->where)) < 0)
		return err;
	if (!opts)
		return 0;
	if ((err = yload(y, opts)) < 0)
		return err;
	root = yaml_document_get_root_node(&y->doc);
	if (!root || root->type != YAML_MAPPING_NODE) {
		err = barge_error_set(BARGE_EUSAGE, "%s: options must be a mapping", y->where);
		goto out;
	}
	for (yaml_node_pair_t *q = root->data.mapping.pairs.start;
	     q < root->data.mapping.pairs.top && !err; q++) {
		const char *k = yscalar(ynode(y, q->key));
		yaml_node_t *v = ynode(y, q->value);
		if (!k)
			err = barge_error_set(BARGE_EUSAGE, "%s: option names are words",
					      y->where);
		else if (!strcmp(k, "to") || !strcmp(k, "skip") || !strcmp(k, "type"))
			continue; /* read by the plan reader and the engine */
		else if (!strcmp(k, "default")) {
			if (!yscalar(v) || yis_null(v))
				err = barge_error_set(BARGE_EUSAGE, "%s: default must be a "
						      "single value", y->where);
			else
				err = sdup(&c->deflt, yscalar(v));
			if (!err)
				desc(c, "default %s", yscalar(v));
		} else if (!strcmp(k, "transform"))
			err = compile_transform(y, c, v);
		else if (!strcmp(k, "map") || !strcmp(k, "round") ||
			 !strcmp(k, "timezone") || !strcmp(k, "encoding"))
			err = compile_step(y, c, k, v);
		else if (!strcmp(k, "rules")) {
			if (!v || v->type != YAML_MAPPING_NODE)
				err = barge_error_set(BARGE_EUSAGE, "%s: rules must be a "
						      "mapping", y->where);
			rules = v;
		} else if (is_rule(k))
			err = compile_rule(y, c, k, v);
		else
			err = barge_error_set(BARGE_EUSAGE, "%s: unknown option '%s' (to, "
					      "skip, type, default, transform, map, "
					      "round, timezone, encoding, rules)",
					      y->where, k);
	}
	for (yaml_node_pair_t *q = rules ? rules->data.mapping.pairs.start : NULL;
	     rules && q < rules->data.mapping.pairs.top && !err; q++) {
		const char *k = yscalar(ynode(y, q->key));
		err = compile_rule(y, c, k ? k : "?", ynode(y, q->value));
	}
out:
	yfree(y);
	return err;
}

/* {sequence: {from: column, start: N}}: a new int64 key numbered by the
 * engine through barge_keymap (docs/mapping.md). */
static int compile_sequence(struct xcol *c, const struct barge_table_def *src,
			    struct yctx *y, yaml_node_t *u)
{
	const char *from = NULL;
	int64_t start = 1;
	int err;
	if (!u || u->type != YAML_MAPPING_NODE)
		return barge_error_set(BARGE_EUSAGE, "%s: sequence needs {from: "
				       "column} (and start: N)", y->where);
	for (yaml_node_pair_t *q = u->data.mapping.pairs.start;
	     q < u->data.mapping.pairs.top; q++) {
		const char *k = yscalar(ynode(y, q->key));
		if (k && !strcmp(k, "from"))
			from = yscalar(ynode(y, q->value));
		else if (k && !strcmp(k, "start")) {
			if ((err = yint(y, ynode(y, q->value), "sequence start", &start)) < 0)
				return err;
		} else
			return barge_error_set(BARGE_EUSAGE, "%s: sequence: unknown key "
					       "'%s' (from, start)", y->where, k ? k : "?");
	}
	if (!from || (c->src = barge_table_def_find(src, from)) < 0)
		return barge_error_set(BARGE_EUSAGE, "%s: sequence: table '%s' has no "
				       "column '%s'", y->where, src->name,
				       from ? from : "(from: missing)");
	c->kind = K_SEQ;
	c->seq_start = start;
	c->in_type = src->cols[c->src].type;
	c->def.type = BARGE_T_INT64;
	c->def.scale = -1;
	desc(c, "sequence numbered from %s through barge_keymap", from);
	return 0;
}

/* One `add:` column: a constant, {value: x, type: t}, {uuid_v5: {...}} or
 * {sequence: {...}}. */
static int compile_add(struct xcol *c, const struct barge_table_def *src,
		       struct yctx *y, yaml_node_t *v)
{
	int err;
	c->src = -1;
	c->kind = K_CONST;
	c->def.type = BARGE_T_TEXT;
	c->def.scale = -1;
	if (yscalar(v)) {
		desc(c, "constant %s", yscalar(v));
		return sdup(&c->const_text, yis_null(v) ? NULL : yscalar(v));
	}
	if (v->type != YAML_MAPPING_NODE)
		return barge_error_set(BARGE_EUSAGE, "%s: an added column is a value, "
				       "{value: x, type: t} or {uuid_v5: {namespace: "
				       "UUID, from: column}}", y->where);
	const char *type = NULL;
	yaml_node_t *u = NULL, *val = NULL;
	for (yaml_node_pair_t *q = v->data.mapping.pairs.start;
	     q < v->data.mapping.pairs.top; q++) {
		const char *k = yscalar(ynode(y, q->key));
		if (k && !strcmp(k, "sequence") &&
		    v->data.mapping.pairs.top - v->data.mapping.pairs.start == 1)
			return compile_sequence(c, src, y, ynode(y, q->value));
		if (k && !strcmp(k, "uuid_v5"))
			u = ynode(y, q->value);
		else if (k && !strcmp(k, "value"))
			val = ynode(y, q->value);
		else if (k && !strcmp(k, "type"))
			type = yscalar(ynode(y, q->value));
		else
			return barge_error_set(BARGE_EUSAGE, "%s: unknown key '%s' (value, "
					       "type, uuid_v5, sequence)", y->where,
					       k ? k : "?");
	}
	if (type && (err = parse_type(&c->def, type, y->where)) < 0)
		return err;
	if (val) {
		if (!yscalar(val))
			return barge_error_set(BARGE_EUSAGE, "%s: value must be a single "
					       "value", y->where);
		desc(c, "constant %s", yscalar(val));
		return sdup(&c->const_text, yis_null(val) ? NULL : yscalar(val));
	}
	if (!u || u->type != YAML_MAPPING_NODE)
		return barge_error_set(BARGE_EUSAGE, "%s: needs value: or uuid_v5: "
				       "{namespace: UUID, from: column}", y->where);
	const char *ns = NULL, *from = NULL;
	for (yaml_node_pair_t *q = u->data.mapping.pairs.start;
	     q < u->data.mapping.pairs.top; q++) {
		const char *k = yscalar(ynode(y, q->key));
		if (k && !strcmp(k, "namespace"))
			ns = yscalar(ynode(y, q->value));
		else if (k && !strcmp(k, "from"))
			from = yscalar(ynode(y, q->value));
		else
			return barge_error_set(BARGE_EUSAGE, "%s: uuid_v5: unknown key '%s' "
					       "(namespace, from)", y->where, k ? k : "?");
	}
	if (!ns || barge_uuid_parse(c->ns, ns, strlen(ns)) < 0)
		return barge_error_set(BARGE_EUSAGE, "%s: uuid_v5 needs namespace: a UUID "
				       "such as 6ba7b811-9dad-11d1-80b4-00c04fd430c8",
				       y->where);
	if (!from || (c->src = barge_table_def_find(src, from)) < 0)
		return barge_error_set(BARGE_EUSAGE, "%s: uuid_v5: table '%s' has no "
				       "column '%s'", y->where, src->name,
				       from ? from : "(from: missing)");
	c->kind = K_UUID5;
	c->in_type = src->cols[c->src].type;
	c->def.type = BARGE_T_UUID;
	desc(c, "uuid_v5 of %s", from);
	return 0;
}

static int has_work_opts(const char *opts)
{
	struct yctx y;
	int work = 0;
	memset(&y, 0, sizeof y);
	if (!opts || yload(&y, opts) < 0) {
		barge_error_clear();
		return opts != NULL; /* let compile report it */
	}
	yaml_node_t *root = yaml_document_get_root_node(&y.doc);
	if (root && root->type == YAML_MAPPING_NODE) {
		for (yaml_node_pair_t *q = root->data.mapping.pairs.start;
		     q < root->data.mapping.pairs.top; q++) {
			const char *k = yscalar(ynode(&y, q->key));
			if (!k || (strcmp(k, "to") && strcmp(k, "skip")))
				work = 1;
		}
	} else {
		work = 1;
	}
	yfree(&y);
	return work;
}

int barge_xf_needed(const struct barge_xf_spec *spec)
{
	if (spec->add)
		return 1;
	for (size_t i = 0; i < spec->ncols; i++)
		if ((spec->types && spec->types[i]) ||
		    (spec->options && has_work_opts(spec->options[i])))
			return 1;
	return 0;
}

int barge_xf_new(struct barge_xf **out, const struct barge_table_def *src,
		 const struct barge_xf_spec *spec)
{
	struct barge_xf *xf = calloc(1, sizeof *xf);
	struct yctx y;
	size_t nadd = 0;
	int err = 0;

	memset(&y, 0, sizeof y);
	*out = NULL;
	if (!xf)
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	if ((err = sdup(&xf->table, spec->table)) < 0)
		goto out;
	yaml_node_t *addroot = NULL;
	struct yctx ya;
	memset(&ya, 0, sizeof ya);
	snprintf(ya.where, sizeof ya.where, "table '%s', add", spec->table);
	if (spec->add) {
		if ((err = yload(&ya, spec->add)) < 0)
			goto out;
		addroot = yaml_document_get_root_node(&ya.doc);
		if (!addroot || addroot->type != YAML_MAPPING_NODE) {
			err = barge_error_set(BARGE_EUSAGE, "%s: must be a mapping of new "
					      "columns", ya.where);
			goto out_add;
		}
		nadd = (size_t)(addroot->data.mapping.pairs.top -
				addroot->data.mapping.pairs.start);
	}
	xf->cols = calloc(spec->ncols + nadd + 1, sizeof *xf->cols);
	if (!xf->cols) {
		err = barge_error_set(BARGE_ENOMEM, "out of memory");
		goto out_add;
	}
	for (size_t i = 0; i < spec->ncols && !err; i++) {
		struct xcol *c = &xf->cols[xf->ncols++];
		const struct barge_column_def *sc = &src->cols[spec->src_cols[i]];
		c->src = (int)spec->src_cols[i];
		c->in_type = sc->type;
		c->def = *sc;
		c->def.name = NULL;
		c->def.engine_type = NULL;
		c->def.key_pos = 0;
		if ((err = sdup(&c->def.name, spec->dst_names[i])) < 0)
			break;
		snprintf(y.where, sizeof y.where, "table '%s', column '%s'",
			 spec->table, sc->name);
		err = compile_column(c, spec->options ? spec->options[i] : NULL,
				     spec->types ? spec->types[i] : NULL, &y);
		if (err)
			break;
		/* the source's declared type when the logical type is unchanged */
		if (c->def.type == sc->type && c->def.precision == sc->precision &&
		    c->def.scale == sc->scale && (err = sdup(&c->def.engine_type,
							      sc->engine_type)) < 0)
			break;
		int text_out = c->def.type == BARGE_T_TEXT || c->def.type == BARGE_T_JSON;
		c->kind = c->nsteps || c->nrules || c->required || c->deflt ||
				  c->def.type != c->in_type || text_out
			  ? K_MAPPED : K_COPY;
		c->via_text = c->nsteps || c->def.type != c->in_type || text_out;
		if (c->in_type == BARGE_T_ANY && !c->nsteps)
			c->via_text = 0; /* values keep their own class */
		if (c->def.type == BARGE_T_ANY && c->nsteps)
			c->def.type = BARGE_T_TEXT;
	}
	for (size_t i = 0; i < nadd && !err; i++) {
		yaml_node_pair_t *q = &addroot->data.mapping.pairs.start[i];
		const char *name = yscalar(ynode(&ya, q->key));
		struct xcol *c = &xf->cols[xf->ncols++];
		if (!name) {
			err = barge_error_set(BARGE_EUSAGE, "%s: column names are words",
					      ya.where);
			break;
		}
		snprintf(ya.where, sizeof ya.where, "table '%s', added column '%s'",
			 spec->table, name);
		if ((err = sdup(&c->def.name, name)) < 0 ||
		    (err = compile_add(c, src, &ya, ynode(&ya, q->value))) < 0)
			break;
		c->via_text = 1;
	}
	/* target names are unique */
	for (size_t i = 0; i < xf->ncols && !err; i++)
		for (size_t j = 0; j < i; j++)
			if (!strcmp(xf->cols[i].def.name, xf->cols[j].def.name)) {
				err = barge_error_set(BARGE_EUSAGE, "table '%s': two target "
						      "columns named '%s' (rename one "
						      "with to:)", spec->table,
						      xf->cols[i].def.name);
				break;
			}
out_add:
	yfree(&ya);
out:
	if (err < 0) {
		barge_xf_free(xf);
		return err;
	}
	*out = xf;
	return 0;
}

int barge_xf_describe(const struct barge_xf *xf,
		      const struct barge_table_def *src, struct barge_buf *out)
{
	for (size_t i = 0; i < xf->ncols; i++) {
		const struct xcol *c = &xf->cols[i];
		char ty[64];
		if (c->def.type == BARGE_T_DECIMAL && c->def.precision)
			snprintf(ty, sizeof ty, "decimal(%d,%d)", c->def.precision,
				 c->def.scale);
		else if (c->def.type == BARGE_T_TEXT && c->def.precision)
			snprintf(ty, sizeof ty, "text(%d)", c->def.precision);
		else
			snprintf(ty, sizeof ty, "%s", barge_type_name(c->def.type));
		if (c->kind == K_CONST)
			barge_buf_printf(out, "  %-28s -> %s %s", "(added)", c->def.name, ty);
		else
			barge_buf_printf(out, "  %-28s -> %s %s",
					 src->cols[c->src].name, c->def.name, ty);
		if (c->kind != K_CONST && c->kind != K_UUID5 && c->kind != K_SEQ)
			barge_buf_printf(out, "   (from %s)",
					 barge_type_name(src->cols[c->src].type));
		if (c->desc)
			barge_buf_printf(out, ": %s", c->desc);
		barge_buf_adds(out, "\n");
	}
	return out->err;
}

/* ---- mapping rows ---------------------------------------------------------------- */

int barge_xf_run_new(struct barge_xf_run **out)
{
	struct barge_xf_run *r = calloc(1, sizeof *r);
	*out = NULL;
	if (!r)
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	barge_buf_init(&r->a, 1u << 30);
	barge_buf_init(&r->b, 1u << 30);
	barge_buf_init(&r->cast, 1u << 30);
	barge_buf_init(&r->txt, 1u << 30);
	r->md = pcre2_match_data_create(1, NULL);
	if (!r->md) {
		free(r);
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	}
	*out = r;
	return 0;
}

void barge_xf_run_free(struct barge_xf_run *r)
{
	if (!r)
		return;
	barge_buf_dispose(&r->a);
	barge_buf_dispose(&r->b);
	barge_buf_dispose(&r->cast);
	barge_buf_dispose(&r->txt);
	pcre2_match_data_free(r->md);
	free(r->feeds);
	free(r);
}

/* Quote up to 40 bytes of a value for a message. */
static void shown(char *out, size_t n, const char *p, size_t len)
{
	size_t o = 0;
	if (n < 8)
		return;
	out[o++] = '\'';
	for (size_t i = 0; i < len && i < 40 && o + 6 < n; i++) {
		unsigned char ch = (unsigned char)p[i];
		if (ch >= 0x20 && ch != 0x7f && ch != '\'')
			out[o++] = (char)ch;
		else
			o += (size_t)snprintf(out + o, n - o, "\\x%02x", ch);
	}
	if (len > 40 && o + 4 < n) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o++] = '\'';
	out[o] = '\0';
}

static int reject(struct barge_xf_reject *rej, const struct xcol *c,
		  const char *rule, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int reject(struct barge_xf_reject *rej, const struct xcol *c,
		  const char *rule, const char *fmt, ...)
{
	va_list ap;
	char m[sizeof rej->message];
	snprintf(rej->rule, sizeof rej->rule, "%s", rule);
	snprintf(rej->column, sizeof rej->column, "%s", c->def.name);
	va_start(ap, fmt);
	vsnprintf(m, sizeof m, fmt, ap);
	va_end(ap);
	snprintf(rej->message, sizeof rej->message, "column %s: %s", c->def.name, m);
	return 1;
}

/* Apply one step to text (p, n); the result is in *p, *n (NULL = NULL). */
static int apply_step(struct barge_xf_run *r, const struct xcol *c,
		      const struct step *s, const char **p, size_t *n,
		      struct barge_buf *dst, struct barge_xf_reject *rej)
{
	char v[200];
	const char *q = *p;
	size_t len = *n;
	barge_buf_clear(dst);
	switch (s->kind) {
	case ST_TRIM:
		while (len && strchr(" \t\r\n\f\v", q[0]))
			q++, len--;
		while (len && strchr(" \t\r\n\f\v", q[len - 1]))
			len--;
		*p = q;
		*n = len;
		return 0;
	case ST_STRIP_NUL: /* PostgreSQL text cannot hold NUL bytes */
		for (const char *e = q + len, *z; q < e; q = z + 1) {
			z = memchr(q, '\0', (size_t)(e - q));
			barge_buf_add(dst, q, (size_t)((z ? z : e) - q));
			if (!z)
				break;
		}
		if (dst->err)
			return dst->err;
		break;
	case ST_LOWER:
	case ST_UPPER:
		if (barge_buf_add(dst, q, len) < 0)
			return dst->err;
		for (size_t i = 0; i < len; i++) {
			char ch = dst->p[i];
			if (s->kind == ST_LOWER && ch >= 'A' && ch <= 'Z')
				dst->p[i] = (char)(ch - 'A' + 'a');
			else if (s->kind == ST_UPPER && ch >= 'a' && ch <= 'z')
				dst->p[i] = (char)(ch - 'a' + 'A');
		}
		break;
	case ST_MAP:
		for (size_t i = 0; i < s->nmap; i++)
			if (strlen(s->map_from[i]) == len && !memcmp(s->map_from[i], q, len)) {
				*p = s->map_to[i];
				*n = s->map_to[i] ? strlen(s->map_to[i]) : 0;
				return 0;
			}
		return 0; /* values not in the map stay as they are */
	case ST_ROUND: {
		int err = barge_decimal_round(dst, q, len, s->places);
		if (err == BARGE_EDATA) {
			shown(v, sizeof v, q, len);
			return reject(rej, c, "round", "%s is not a decimal number", v);
		}
		if (err < 0)
			return err;
		break;
	}
	case ST_ENCODING: {
		if (barge_utf8_valid(q, len))
			return 0; /* already UTF-8: mixed legacy data */
		int err = barge_recode_utf8(dst, q, len, s->enc);
		if (err == BARGE_EDATA) {
			shown(v, sizeof v, q, len);
			return reject(rej, c, "encoding", "%s has a byte cp1252 does not "
				      "define", v);
		}
		if (err < 0)
			return err;
		break;
	}
	case ST_TZ: {
		int64_t us, utc, rep;
		int repeated;
		shown(v, sizeof v, q, len);
		if (barge_timestamp_parse(&us, q, len) < 0)
			return reject(rej, c, "timezone", "%s is not a timestamp "
				      "(YYYY-MM-DD HH:MM:SS)", v);
		int64_t frac = ((us % US_PER_S) + US_PER_S) % US_PER_S;
		int64_t secs = (us - frac) / US_PER_S;
		if (barge_tz_to_utc(s->from, secs, &utc, &repeated) < 0)
			return reject(rej, c, "timezone", "%s does not exist in %s (the "
				      "clocks skipped it)", v, barge_tz_name(s->from));
		rep = utc + barge_tz_offset(s->to, utc);
		int err = barge_timestamp_format(dst, BARGE_T_TIMESTAMP,
						 rep * US_PER_S + frac);
		if (err == BARGE_EDATA)
			return reject(rej, c, "timezone", "%s is out of range in %s", v,
				      barge_tz_name(s->to));
		if (err < 0)
			return err;
		break;
	}
	}
	if (dst->err)
		return dst->err;
	*p = dst->p ? dst->p : "";
	*n = dst->len;
	return 0;
}

static int check_rules(struct barge_xf_run *r, const struct xcol *c,
		       const struct barge_value *v, struct barge_xf_reject *rej)
{
	const char *tp = NULL;
	size_t tn = 0;
	char show[200];
	int err;

	if (!c->nrules)
		return 0;
	if (v->type == BARGE_T_TEXT || v->type == BARGE_T_JSON ||
	    v->type == BARGE_T_DECIMAL) {
		tp = v->p;
		tn = v->n;
	} else {
		barge_buf_clear(&r->txt);
		if ((err = barge_value_text(&r->txt, v)) < 0 && err != BARGE_EDATA)
			return err;
		tp = r->txt.p ? r->txt.p : "";
		tn = r->txt.len;
	}
	shown(show, sizeof show, tp, tn);
	for (size_t i = 0; i < c->nrules; i++) {
		const struct rule *u = &c->rules[i];
		switch (u->kind) {
		case R_MIN:
		case R_MAX: {
			int cmp;
			if (u->temporal) {
				cmp = v->i < u->ibound ? -1 : v->i > u->ibound;
			} else if (barge_decimal_cmp(&cmp, tp, tn, u->text,
						     strlen(u->text)) < 0) {
				return reject(rej, c, u->kind == R_MIN ? "min" : "max",
					      "%s is not a number", show);
			}
			if (u->kind == R_MIN && cmp < 0)
				return reject(rej, c, "min", "%s is below the minimum %s",
					      show, u->text);
			if (u->kind == R_MAX && cmp > 0)
				return reject(rej, c, "max", "%s is above the maximum %s",
					      show, u->text);
			break;
		}
		case R_MAXLEN: {
			size_t chars = 0;
			for (size_t k = 0; k < tn; k++)
				chars += ((unsigned char)tp[k] & 0xc0) != 0x80;
			if ((int64_t)chars > u->maxlen)
				return reject(rej, c, "max_length", "%s is %zu characters, "
					      "more than %lld", show, chars,
					      (long long)u->maxlen);
			break;
		}
		case R_REGEX: {
			int rc = pcre2_match(u->re, (PCRE2_SPTR)tp, tn, 0, 0, r->md, NULL);
			if (rc == PCRE2_ERROR_NOMATCH)
				return reject(rej, c, "regex", "%s does not match %s", show,
					      u->text);
			if (rc < 0)
				return reject(rej, c, "regex", "%s cannot be matched (PCRE2 "
					      "error %d)", show, rc);
			break;
		}
		case R_IN: {
			int found = 0;
			for (size_t k = 0; k < u->nin && !found; k++)
				found = strlen(u->in[k]) == tn && !memcmp(u->in[k], tp, tn);
			if (!found)
				return reject(rej, c, "in", "%s is not one of the allowed values",
					      show);
			break;
		}
		}
	}
	return 0;
}

/* One target column of the row being built. 0, 1 (rejected) or < 0. */
static int map_col(struct barge_xf_run *r, const struct xcol *c,
		   const struct barge_batch *in, size_t row,
		   struct barge_batch *out, size_t j, struct barge_xf_reject *rej)
{
	struct barge_value v, fin;
	const char *tp = NULL, *why = NULL;
	size_t tn = 0;
	int have_text = 0, err;
	char show[200];

	memset(&v, 0, sizeof v);
	if (c->kind == K_SEQ) {
		/* the number the engine found in barge_keymap or handed out */
		const struct feed *f = fed(r, j);
		if (!f || !f->p)
			return barge_batch_put_null(out, j);
		barge_buf_clear(&r->cast);
		if (barge_cast_text(&fin, &r->cast, f->p, f->n, BARGE_T_INT64, 0, -1,
				    &why) < 0)
			return barge_error_set(BARGE_ERROR, "column %s: barge_keymap "
					       "holds '%.*s', which is not a number; "
					       "repair or drop that row", c->def.name,
					       (int)(f->n > 40 ? 40 : f->n), f->p);
		return barge_batch_put_value(out, j, &fin);
	}
	if (c->kind == K_CONST) {
		v.null = c->const_text == NULL;
		tp = c->const_text;
		tn = tp ? strlen(tp) : 0;
		have_text = 1;
	} else {
		barge_batch_get(in, (size_t)c->src, row, &v);
	}
	if (v.null && c->deflt) {
		v.null = 0;
		tp = c->deflt;
		tn = strlen(tp);
		have_text = 1;
	}
	if (v.null)
		goto null;
	if (c->kind == K_UUID5) {
		unsigned char u[16];
		barge_buf_clear(&r->a);
		if ((err = barge_value_text(&r->a, &v)) < 0) {
			if (err != BARGE_EDATA)
				return err;
			return reject(rej, c, "uuid_v5", "the source value has no text form");
		}
		barge_uuid_v5(u, c->ns, r->a.p ? r->a.p : "", r->a.len);
		return barge_batch_put_bytes(out, j, u, 16);
	}
	if (!have_text && !c->via_text) {
		fin = v;
		goto rules;
	}
	if (!have_text) {
		barge_buf_clear(&r->a);
		if ((err = barge_value_text(&r->a, &v)) < 0) {
			if (err != BARGE_EDATA)
				return err;
			return reject(rej, c, "type", "a %s value out of range",
				      barge_type_name(v.type));
		}
		tp = r->a.p ? r->a.p : "";
		tn = r->a.len;
	}
	/* steps ping-pong between two buffers; `cur` says which one holds the
	 * text (-1: neither, it lives in the batch or the plan) */
	struct barge_buf *bufs[2] = {&r->a, &r->b};
	int cur = have_text ? -1 : 0;
	for (size_t i = 0; i < c->nsteps; i++) {
		int d = cur == 0 ? 1 : 0;
		const char *before = tp;
		if ((err = apply_step(r, c, &c->steps[i], &tp, &tn, bufs[d], rej)) != 0)
			return err;
		if (!tp)
			goto null;
		if (tp != before && tp == bufs[d]->p)
			cur = d;
		else if (tp != before && !(cur >= 0 && tp >= bufs[cur]->p &&
					  tp <= bufs[cur]->p + bufs[cur]->len))
			cur = -1;
	}
	barge_buf_clear(&r->cast);
	if (c->remap)
		err = barge_cast_text(&fin, &r->cast, tp, tn, c->pre_type, c->pre_prec,
				      c->pre_scale, &why);
	else
		err = barge_cast_text(&fin, &r->cast, tp, tn, c->def.type,
				      c->def.precision, c->def.scale, &why);
	if (err == BARGE_EDATA) {
		shown(show, sizeof show, tp, tn);
		if (why && !strcmp(why, "not valid UTF-8"))
			return reject(rej, c, "encoding", "%s is not valid UTF-8 (add "
				      "encoding: latin1 or cp1252 to repair it)", show);
		if (why && !strncmp(why, "longer", 6))
			return reject(rej, c, "max_length", "%s is %s", show, why);
		return reject(rej, c, "type", "%s is %s (%s)", show, why ? why : "invalid",
			      barge_type_name(c->remap ? c->pre_type : c->def.type));
	}
	if (err < 0)
		return err;
rules:
	if (c->required && fin.null)
		goto null;
	if ((err = check_rules(r, c, &fin, rej)) != 0)
		return err;
	if (c->remap == 2 && !fin.null) {
		/* the parent's new key, looked up by the engine in barge_keymap
		 * (not fed: a dry run or verify, which write nothing) */
		const struct feed *f = fed(r, j);
		if (!f)
			return barge_batch_put_null(out, j);
		barge_buf_clear(&r->b);
		if ((err = barge_value_text(&r->b, &fin)) < 0 && err != BARGE_EDATA)
			return err;
		shown(show, sizeof show, r->b.p ? r->b.p : "", r->b.len);
		if (!f->p)
			return reject(rej, c, "references", "%s is not in barge_keymap",
				      show);
		barge_buf_clear(&r->cast);
		if (barge_cast_text(&fin, &r->cast, f->p, f->n, c->def.type, 0, -1,
				    &why) < 0)
			return reject(rej, c, "references", "barge_keymap holds a "
				      "value of another type for %s", show);
		return barge_batch_put_value(out, j, &fin);
	}
	if (c->remap && !fin.null) {
		/* the parent's new key: the same uuid_v5 its `add:` column made
		 * (and its barge_keymap holds) from the same text form */
		unsigned char u[16];
		barge_buf_clear(&r->b);
		if ((err = barge_value_text(&r->b, &fin)) < 0) {
			if (err != BARGE_EDATA)
				return err;
			return reject(rej, c, "references", "the value has no text form");
		}
		barge_uuid_v5(u, c->remap_ns, r->b.p ? r->b.p : "", r->b.len);
		return barge_batch_put_bytes(out, j, u, 16);
	}
	return barge_batch_put_value(out, j, &fin);
null:
	if (c->required)
		return reject(rej, c, "required", "is NULL");
	return barge_batch_put_null(out, j);
}

int barge_xf_row(struct barge_xf_run *r, const struct barge_xf *xf,
		 const struct barge_batch *in, size_t row,
		 struct barge_batch *out, struct barge_xf_reject *rej)
{
	int err = 0;
	for (size_t j = 0; j < xf->ncols; j++) {
		const struct xcol *c = &xf->cols[j];
		if (c->kind == K_COPY) {
			struct barge_value v;
			barge_batch_get(in, (size_t)c->src, row, &v);
			err = barge_batch_put_value(out, j, &v);
		} else {
			err = map_col(r, c, in, row, out, j, rej);
		}
		if (err)
			break;
	}
	/* the row address rides along as the last column of both batches */
	if (!err && out->ncols > xf->ncols) {
		struct barge_value v;
		barge_batch_get(in, in->ncols - 1, row, &v);
		err = barge_batch_put_value(out, xf->ncols, &v);
	}
	if (err) {
		barge_batch_abandon_row(out);
		return err;
	}
	barge_batch_end_row(out);
	return 0;
}
