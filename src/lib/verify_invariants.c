/*
 * verify's invariants (docs/plan.md): a plan's aggregates computed on each
 * side, through the renames, and compared as numbers where they are.
 */
#include "verify_int.h"
#include "plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Invariants ---------------------------------------------------------------------- */

/* A decimal number's text without insignificant zeros or sign ("+1.50"
 * -> "1.5", "-0.0" -> "0"), into buf; 0 when the text is no plain number. */
static int num_norm(char *buf, size_t cap, const char *s)
{
	size_t n = strlen(s), i = 0, w = 0;
	int neg = 0, dot = 0, digits = 0;
	if (n + 2 > cap)
		return 0;
	if (s[i] == '+' || s[i] == '-')
		neg = s[i++] == '-';
	while (s[i] == '0' && s[i + 1] >= '0' && s[i + 1] <= '9')
		i++;
	if (neg)
		buf[w++] = '-';
	for (; i < n; i++) {
		if (s[i] == '.' && !dot)
			dot = 1;
		else if (s[i] < '0' || s[i] > '9')
			return 0;
		else
			digits = 1;
		buf[w++] = s[i];
	}
	if (!digits)
		return 0;
	if (dot) {
		while (buf[w - 1] == '0')
			w--;
		if (buf[w - 1] == '.')
			w--;
	}
	buf[w] = '\0';
	if (strcmp(buf, "-0") == 0 || w == 0 || strcmp(buf, "-") == 0)
		memcpy(buf, "0", 2);
	return 1;
}

static int values_equal(const char *a, const char *b)
{
	char x[128], y[128];
	if (!a || !b)
		return !a && !b;
	if (strcmp(a, b) == 0)
		return 1;
	return num_norm(x, sizeof x, a) && num_norm(y, sizeof y, b) &&
	       strcmp(x, y) == 0;
}

/* An invariant's where for the target: every unquoted identifier that is
 * a renamed source column becomes the target's name (string literals and
 * quoted names are left as written). */
static int where_renamed(char **out, const char *w,
			 const struct barge_job_table *jt)
{
	struct barge_buf b;
	barge_buf_init(&b, 1 << 20);
	for (const char *p = w; *p;) {
		if (*p == '\'' || *p == '"') { /* a literal or a quoted name */
			const char *e = p + 1;
			while (*e && !(*e == *p && e[1] != *p))
				e += *e == *p ? 2 : 1;
			if (*e)
				e++;
			barge_buf_add(&b, p, (size_t)(e - p));
			p = e;
		} else if (*p == '_' || ((*p | 32) >= 'a' && (*p | 32) <= 'z')) {
			const char *e = p;
			while (*e == '_' || (*e >= '0' && *e <= '9') ||
			       ((*e | 32) >= 'a' && (*e | 32) <= 'z'))
				e++;
			const char *to = NULL;
			for (size_t i = 0; i < jt->nrename; i++)
				if (strlen(jt->rename_from[i]) == (size_t)(e - p) &&
				    strncmp(jt->rename_from[i], p, (size_t)(e - p)) == 0)
					to = jt->rename_to[i];
			if (to) {
				barge_buf_adds(&b, "\"");
				barge_buf_adds(&b, to);
				barge_buf_adds(&b, "\"");
			} else {
				barge_buf_add(&b, p, (size_t)(e - p));
			}
			p = e;
		} else {
			barge_buf_add(&b, p++, 1);
		}
	}
	return barge_buf_detach(&b, out);
}

/* One invariant of a table on both sides (the source with the plan's
 * where too, the target through the column renames). */
static int invariant_one(struct vctx *cx, struct vt *t, const char *text,
			 struct barge_verify_invariant *out)
{
	const struct barge_job_table *jt = t->jt;
	const char *agg, *dcol = NULL;
	char *col = NULL, *where = NULL, *swhere = NULL, *dwhere = NULL;
	int distinct, err;

	if (!(out->text = strdup(text)))
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	if ((err = barge_invariant_parse(text, &agg, &distinct, &col, &where)) < 0)
		goto out;
	if (col && barge_table_def_find(t->sdef, col) < 0) {
		err = barge_error_set(BARGE_EUSAGE, "invariant '%s': table '%s' has "
				      "no column '%s'", text, jt->name, col);
		goto out;
	}
	dcol = col ? barge_bind_renamed(jt, col) : NULL;
	if (where && (err = where_renamed(&dwhere, where, jt)) < 0)
		goto out;
	if (jt->where && where) {
		size_t n = strlen(jt->where) + strlen(where) + 16;
		if (!(swhere = malloc(n))) {
			err = barge_error_set(BARGE_ENOMEM, "out of memory");
			goto out;
		}
		snprintf(swhere, n, "(%s) AND (%s)", jt->where, where);
	}
	if ((err = barge_drv_aggregate(&cx->src, cx->slead, t->sdef, agg, distinct, col,
				       swhere ? swhere : jt->where ? jt->where : where,
				       &out->source)) < 0 ||
	    (err = barge_drv_aggregate(&cx->dst, cx->dlead, t->ddef, agg, distinct, dcol,
				       dwhere, &out->target)) < 0) {
		barge_error_wrap(err, "invariant '%s' of table '%s'", text, jt->name);
		goto out;
	}
	out->equal = values_equal(out->source, out->target);
out:
	free(col);
	free(where);
	free(swhere);
	free(dwhere);
	return err;
}

/* Every table's invariants; a differing one makes the table differ. */
int verify_check_invariants(struct vctx *cx)
{
	for (size_t i = 0; i < cx->nvts; i++) {
		struct vt *t = &cx->vts[i];
		struct barge_verify_table *r = t->res;
		size_t n = t->jt->ninvariants;
		if (!n)
			continue;
		if (!(r->invariants = calloc(n, sizeof *r->invariants)))
			return barge_error_set(BARGE_ENOMEM, "out of memory");
		for (size_t k = 0; k < n; k++) {
			r->ninvariants = k + 1;
			int err = invariant_one(cx, t, t->jt->invariants[k], &r->invariants[k]);
			if (err < 0)
				return err;
			if (!r->invariants[k].equal)
				r->equal = 0;
		}
	}
	return 0;
}
