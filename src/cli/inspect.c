/*
 * barge inspect SRC [--format text|json] [--tables a,b] [--no-audit]
 *
 * What a source holds and what may go wrong moving it: tables, columns with
 * engine type -> logical type, keys, foreign keys, row counts, the driver's
 * audit warnings, the foreign-key load order and the type mapping table.
 * Also the inspection that `barge init` builds its plan from.
 */
#include "cli.h"
#include "inspect.h"
#include "plan.h"
#include "util.h"
#include "barge/barge.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON_MAX_BYTES (512u << 20)

/* ---- The inspection ----------------------------------------------------- */

void inspection_dispose(struct inspection *in)
{
	for (size_t i = 0; i < in->ntables; i++)
		barge_table_def_free(in->tables[i]);
	free(in->tables);
	free(in->source);
	free(in->cycles);
	memset(in, 0, sizeof *in);
}

/*
 * The names to inspect: all of `all`, or those of the comma-separated
 * `only`, each checked to exist. *out is a NULL-terminated array of
 * pointers borrowed from `all` (the caller frees the array only).
 */
static int select_tables(const char ***out, char **all, const char *only,
			 const char *source)
{
	size_t nall = 0, n = 0;
	const char **sel = NULL;
	char *copy = NULL;
	int err = 0;

	*out = NULL;
	while (all[nall])
		nall++;
	sel = calloc(nall + 1, sizeof *sel);
	if (!sel) {
		err = barge_error_set(BARGE_ENOMEM, "out of memory");
		goto out;
	}
	if (!only) {
		for (size_t i = 0; i < nall; i++)
			sel[n++] = all[i];
		goto done;
	}
	copy = strdup(only);
	if (!copy) {
		err = barge_error_set(BARGE_ENOMEM, "out of memory");
		goto out;
	}
	char *save = NULL;
	for (char *name = strtok_r(copy, ",", &save); name;
	     name = strtok_r(NULL, ",", &save)) {
		const char *found = NULL;
		for (size_t i = 0; i < nall && !found; i++)
			if (strcmp(all[i], name) == 0)
				found = all[i];
		if (!found) {
			err = barge_error_set(BARGE_ENOTFOUND, "no table '%s' in %s",
					      name, source);
			goto out;
		}
		int dup = 0;
		for (size_t i = 0; i < n; i++)
			dup |= sel[i] == found;
		if (!dup && n < nall)
			sel[n++] = found;
	}
	if (n == 0) {
		err = barge_error_set(BARGE_EUSAGE, "--tables names no table");
		goto out;
	}
done:
	*out = sel;
	sel = NULL;
out:
	free(sel);
	free(copy);
	return err;
}

int inspection_run(struct inspection *in, const char *src, const char *only,
		   unsigned flags)
{
	struct barge_url *url = NULL;
	struct barge_conn *conn = NULL;
	const struct barge_driver *drv = NULL;
	char **names = NULL;
	const char **sel = NULL;
	struct barge_table_def **described = NULL;
	size_t *order = NULL;
	int in_snapshot = 0;
	int err = 0;

	memset(in, 0, sizeof *in);
	err = barge_url_parse(&url, src);
	if (err)
		goto out;
	in->source = strdup(barge_url_redacted(url));
	if (!in->source) {
		err = barge_error_set(BARGE_ENOMEM, "out of memory");
		goto out;
	}
	drv = barge_driver_for_scheme(url->scheme);
	if (!drv) {
		err = barge_error_set(BARGE_EUSAGE,
				      "%s: this build has no driver for '%s' URLs",
				      in->source, url->scheme);
		goto out;
	}
	in->driver = drv;
	if (!drv->open || !drv->list_tables || !drv->describe) {
		err = barge_error_set(BARGE_EUSAGE,
				      "%s: the %s driver cannot describe a source yet",
				      in->source, drv->name);
		goto out;
	}
	err = drv->open(&conn, url, BARGE_OPEN_READ);
	if (err)
		goto out;
	/* one snapshot, so that counts and descriptions agree */
	if (drv->snapshot_begin) {
		char *token = NULL;
		err = drv->snapshot_begin(conn, &token);
		free(token);
		if (err)
			goto out;
		in_snapshot = 1;
	}
	err = drv->list_tables(conn, &names);
	if (err)
		goto out;
	err = select_tables(&sel, names, only, in->source);
	if (err)
		goto out;
	size_t n = 0;
	while (sel[n])
		n++;
	described = calloc(n ? n : 1, sizeof *described);
	order = calloc(n ? n : 1, sizeof *order);
	if (!described || !order) {
		err = barge_error_set(BARGE_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct barge_table_def *t = NULL;
		err = drv->describe(conn, sel[i], &t);
		if (err)
			goto out;
		described[i] = t;
		if ((flags & INSPECT_COUNT) && drv->count_rows) {
			err = drv->count_rows(conn, t, NULL, &t->rows);
			if (err)
				goto out;
		}
		if ((flags & INSPECT_AUDIT) && drv->audit) {
			err = drv->audit(conn, t);
			if (err)
				goto out;
		}
	}
	err = barge_fk_order(order, (const struct barge_table_def *const *)described,
			     n, &in->cycles);
	if (err)
		goto out;
	in->tables = calloc(n ? n : 1, sizeof *in->tables);
	if (!in->tables) {
		err = barge_error_set(BARGE_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		in->tables[i] = described[order[i]];
		described[order[i]] = NULL;
	}
	in->ntables = n;
out:
	if (described) {
		for (size_t i = 0; sel && sel[i]; i++)
			barge_table_def_free(described[i]);
		free(described);
	}
	free(order);
	free(sel);
	for (size_t i = 0; names && names[i]; i++)
		free(names[i]);
	free(names);
	if (in_snapshot && drv->snapshot_end)
		drv->snapshot_end(conn); /* read-only: nothing to lose */
	if (conn)
		drv->close(conn);
	barge_url_free(url);
	return err;
}

/* ---- Text report -------------------------------------------------------- */

/* A name or type as text on a terminal: control characters shown as '?'. */
static void put_text(FILE *f, const char *s, int width)
{
	int n = 0;
	for (const char *p = s ? s : ""; *p; p++, n++)
		fputc((unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p, f);
	for (; n < width; n++)
		fputc(' ', f);
}

static int text_width(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	return n > 40 ? 40 : (int)n;
}

static void put_names(FILE *f, char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i)
			fputs(", ", f);
		put_text(f, names[i], 0);
	}
}

static void print_table(FILE *f, const struct barge_table_def *t)
{
	int wname = 6, wengine = 11, wtype = 4; /* header widths */
	fputc('\n', f);
	put_text(f, t->name, 0);
	if (t->rows >= 0)
		fprintf(f, ": %lld row%s\n", (long long)t->rows,
			t->rows == 1 ? "" : "s");
	else
		fputs(": rows not counted\n", f);
	for (size_t i = 0; i < t->ncols; i++) {
		const struct barge_column_def *c = &t->cols[i];
		if (text_width(c->name) > wname)
			wname = text_width(c->name);
		if (text_width(c->engine_type) > wengine)
			wengine = text_width(c->engine_type);
		if (text_width(barge_type_name(c->type)) > wtype)
			wtype = text_width(barge_type_name(c->type));
	}
	fputs("  ", f);
	put_text(f, "column", wname);
	fputs("  ", f);
	put_text(f, "engine type", wengine);
	fputs("    ", f);
	put_text(f, "type", wtype);
	fputs("  null      key\n", f);
	for (size_t i = 0; i < t->ncols; i++) {
		const struct barge_column_def *c = &t->cols[i];
		fputs("  ", f);
		put_text(f, c->name, wname);
		fputs("  ", f);
		put_text(f, c->engine_type && *c->engine_type
				    ? c->engine_type : "(none)", wengine);
		fputs(" -> ", f);
		put_text(f, barge_type_name(c->type),
			 c->notnull || c->key_pos ? wtype : 0);
		if (c->notnull || c->key_pos)
			fputs(c->notnull ? "  NOT NULL" : "          ", f);
		if (c->key_pos)
			fprintf(f, "  %d", c->key_pos);
		fputc('\n', f);
	}
	fputs("  primary key: ", f);
	if (t->nkey) {
		fputc('(', f);
		for (size_t i = 0; i < t->nkey; i++) {
			if (i)
				fputs(", ", f);
			put_text(f, t->cols[t->key[i]].name, 0);
		}
		fputs(")\n", f);
	} else {
		fputs(t->has_rowid ? "none (chunked by rowid)\n"
				   : "none (copied as one chunk)\n", f);
	}
	fputs("  foreign keys:", f);
	if (!t->nfks)
		fputs(" none", f);
	fputc('\n', f);
	for (size_t i = 0; i < t->nfks; i++) {
		const struct barge_fk_def *k = &t->fks[i];
		fputs("    (", f);
		put_names(f, k->cols, k->ncols);
		fputs(") -> ", f);
		put_text(f, k->ref_table, 0);
		fputs(" (", f);
		put_names(f, k->ref_cols, k->ncols);
		fputs(")\n", f);
	}
	fputs("  indexes:", f);
	if (!t->nindexes)
		fputs(" none", f);
	fputc('\n', f);
	for (size_t i = 0; i < t->nindexes; i++) {
		const struct barge_index_def *x = &t->indexes[i];
		fputs("    ", f);
		put_text(f, x->name, 0);
		fputs(x->unique ? " unique (" : " (", f);
		put_names(f, x->cols, x->ncols);
		fputs(")\n", f);
	}
	fputs("  warnings:", f);
	if (!t->nwarnings)
		fputs(" none", f);
	fputc('\n', f);
	for (size_t i = 0; i < t->nwarnings; i++) {
		fputs("    - ", f);
		put_text(f, t->warnings[i], 0);
		fputc('\n', f);
	}
}

static void print_text(FILE *f, const struct inspection *in)
{
	fputs("source: ", f);
	put_text(f, in->source, 0);
	fprintf(f, " (%s, %zu table%s)\n", in->driver->name, in->ntables,
		in->ntables == 1 ? "" : "s");
	for (size_t i = 0; i < in->ntables; i++)
		print_table(f, in->tables[i]);
	fputs("\nload order (parents first): ", f);
	for (size_t i = 0; i < in->ntables; i++) {
		if (i)
			fputs(", ", f);
		put_text(f, in->tables[i]->name, 0);
	}
	fputs(in->ntables ? "\n" : "(no tables)\n", f);
	fputs("cycles: ", f);
	put_text(f, in->cycles ? in->cycles : "none", 0);
	fputc('\n', f);
	if (!in->driver->typemap)
		return;
	size_t n = 0;
	const struct barge_typemap *m = in->driver->typemap(&n);
	int w = 11;
	for (size_t i = 0; i < n; i++)
		if (text_width(m[i].engine) > w)
			w = text_width(m[i].engine);
	fprintf(f, "\ntype mapping (%s):\n", in->driver->name);
	for (size_t i = 0; i < n; i++) {
		fputs("  ", f);
		put_text(f, m[i].engine, w);
		fputs(" -> ", f);
		put_text(f, barge_type_name(m[i].type), 0);
		if (m[i].note) {
			/* "timestamptz" is the longest logical type name */
			put_text(f, "", 13 - text_width(barge_type_name(m[i].type)));
			put_text(f, m[i].note, 0);
		}
		fputc('\n', f);
	}
}

/* ---- JSON report -------------------------------------------------------- */

static void json_str(struct barge_buf *b, const char *s)
{
	if (s)
		barge_buf_json_str(b, s, strlen(s));
	else
		barge_buf_adds(b, "null");
}

static void json_names(struct barge_buf *b, char *const *names, size_t n)
{
	barge_buf_adds(b, "[");
	for (size_t i = 0; i < n; i++) {
		if (i)
			barge_buf_adds(b, ",");
		json_str(b, names[i]);
	}
	barge_buf_adds(b, "]");
}

static void json_table(struct barge_buf *b, const struct barge_table_def *t)
{
	barge_buf_adds(b, "{\"name\":");
	json_str(b, t->name);
	if (t->rows >= 0)
		barge_buf_printf(b, ",\"rows\":%lld", (long long)t->rows);
	else
		barge_buf_adds(b, ",\"rows\":null");
	barge_buf_adds(b, ",\"key\":[");
	for (size_t i = 0; i < t->nkey; i++) {
		if (i)
			barge_buf_adds(b, ",");
		json_str(b, t->cols[t->key[i]].name);
	}
	barge_buf_printf(b, "],\"has_rowid\":%s,\"columns\":[",
			 t->has_rowid ? "true" : "false");
	for (size_t i = 0; i < t->ncols; i++) {
		const struct barge_column_def *c = &t->cols[i];
		barge_buf_adds(b, i ? ",{\"name\":" : "{\"name\":");
		json_str(b, c->name);
		barge_buf_adds(b, ",\"engine_type\":");
		json_str(b, c->engine_type);
		barge_buf_adds(b, ",\"type\":");
		json_str(b, barge_type_name(c->type));
		barge_buf_printf(b, ",\"notnull\":%s,\"key_pos\":%d}",
				 c->notnull ? "true" : "false", c->key_pos);
	}
	barge_buf_adds(b, "],\"foreign_keys\":[");
	for (size_t i = 0; i < t->nfks; i++) {
		const struct barge_fk_def *k = &t->fks[i];
		barge_buf_adds(b, i ? ",{\"columns\":" : "{\"columns\":");
		json_names(b, k->cols, k->ncols);
		barge_buf_adds(b, ",\"ref_table\":");
		json_str(b, k->ref_table);
		barge_buf_adds(b, ",\"ref_columns\":");
		json_names(b, k->ref_cols, k->ncols);
		barge_buf_adds(b, "}");
	}
	barge_buf_adds(b, "],\"indexes\":[");
	for (size_t i = 0; i < t->nindexes; i++) {
		const struct barge_index_def *x = &t->indexes[i];
		barge_buf_adds(b, i ? ",{\"name\":" : "{\"name\":");
		json_str(b, x->name);
		barge_buf_printf(b, ",\"unique\":%s,\"columns\":",
				 x->unique ? "true" : "false");
		json_names(b, x->cols, x->ncols);
		barge_buf_adds(b, "}");
	}
	barge_buf_adds(b, "],\"warnings\":");
	json_names(b, t->warnings, t->nwarnings);
	barge_buf_adds(b, "}");
}

/* barge_fk_order's "cycle: a -> b -> a; cycle: ..." as a list of paths. */
static void json_cycles(struct barge_buf *b, const char *cycles)
{
	static const char sep[] = "; cycle: ";
	barge_buf_adds(b, "[");
	if (cycles && strncmp(cycles, "cycle: ", 7) == 0) {
		const char *p = cycles + 7;
		for (int first = 1;; first = 0) {
			const char *end = strstr(p, sep);
			size_t len = end ? (size_t)(end - p) : strlen(p);
			if (!first)
				barge_buf_adds(b, ",");
			barge_buf_json_str(b, p, len);
			if (!end)
				break;
			p = end + sizeof sep - 1;
		}
	}
	barge_buf_adds(b, "]");
}

static int print_json(FILE *f, const struct inspection *in)
{
	struct barge_buf b;
	char *text = NULL;
	barge_buf_init(&b, JSON_MAX_BYTES);
	barge_buf_adds(&b, "{\"source\":");
	json_str(&b, in->source);
	barge_buf_adds(&b, ",\"driver\":");
	json_str(&b, in->driver->name);
	barge_buf_adds(&b, ",\"tables\":[");
	for (size_t i = 0; i < in->ntables; i++) {
		if (i)
			barge_buf_adds(&b, ",");
		json_table(&b, in->tables[i]);
	}
	barge_buf_adds(&b, "],\"load_order\":[");
	for (size_t i = 0; i < in->ntables; i++) {
		if (i)
			barge_buf_adds(&b, ",");
		json_str(&b, in->tables[i]->name);
	}
	barge_buf_adds(&b, "],\"cycles\":");
	json_cycles(&b, in->cycles);
	barge_buf_adds(&b, ",\"type_map\":[");
	size_t n = 0;
	const struct barge_typemap *m =
		in->driver->typemap ? in->driver->typemap(&n) : NULL;
	for (size_t i = 0; i < n; i++) {
		barge_buf_adds(&b, i ? ",{\"engine\":" : "{\"engine\":");
		json_str(&b, m[i].engine);
		barge_buf_adds(&b, ",\"type\":");
		json_str(&b, barge_type_name(m[i].type));
		barge_buf_adds(&b, ",\"note\":");
		json_str(&b, m[i].note);
		barge_buf_adds(&b, "}");
	}
	barge_buf_adds(&b, "]}\n");
	int err = barge_buf_detach(&b, &text);
	if (!err)
		fputs(text, f);
	free(text);
	return err;
}

/* ---- The command -------------------------------------------------------- */

static void usage(FILE *f)
{
	fputs("usage: barge inspect SRC [--format text|json] [--tables a,b] [--no-audit]\n"
	      "\n"
	      "Describe a source: tables, columns (engine type -> logical type), keys,\n"
	      "foreign keys, row counts and problems found in the data, then the load\n"
	      "order (parents first) and the driver's type mapping.\n"
	      "\n"
	      "  --format text|json  report format (default text)\n"
	      "  --tables a,b        only these tables\n"
	      "  --no-audit          skip the scan of the data for problems\n", f);
}

/*
 * An option's value: "--opt VALUE" or "--opt=VALUE". Returns the value (and
 * moves *i past it) or NULL when argv[*i] is not this option.
 */
static const char *opt_value(int argc, char **argv, int *i, const char *opt,
			     int *missing)
{
	size_t n = strlen(opt);
	if (strncmp(argv[*i], opt, n) != 0)
		return NULL;
	if (argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (argv[*i][n] != '\0')
		return NULL;
	if (*i + 1 >= argc) {
		*missing = 1;
		return NULL;
	}
	return argv[++*i];
}

int cmd_inspect(int argc, char **argv)
{
	const char *src = NULL, *only = NULL, *format = "text";
	unsigned flags = INSPECT_COUNT | INSPECT_AUDIT;
	struct inspection in;
	int rc = EXIT_DONE;

	memset(&in, 0, sizeof in);
	for (int i = 1; i < argc; i++) {
		const char *v;
		int missing = 0;
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return EXIT_DONE;
		} else if ((v = opt_value(argc, argv, &i, "--format", &missing))) {
			format = v;
		} else if ((v = opt_value(argc, argv, &i, "--tables", &missing))) {
			only = v;
		} else if (missing) {
			return cli_usage_error("inspect: %s needs a value", argv[i]);
		} else if (strcmp(argv[i], "--no-audit") == 0) {
			flags &= ~(unsigned)INSPECT_AUDIT;
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			return cli_usage_error("inspect: unknown option '%s' (see barge inspect --help)",
					       argv[i]);
		} else if (src) {
			return cli_usage_error("inspect: one source only; '%s' is one too many",
					       argv[i]);
		} else {
			src = argv[i];
		}
	}
	if (!src)
		return cli_usage_error("inspect: which source? usage: barge inspect SRC [--format text|json]");
	if (strcmp(format, "text") != 0 && strcmp(format, "json") != 0)
		return cli_usage_error("inspect: unknown format '%s' (use text or json)",
				       format);

	if (inspection_run(&in, src, only, flags) < 0) {
		rc = cli_fail();
		goto out;
	}
	if (strcmp(format, "json") == 0) {
		if (print_json(stdout, &in) < 0) {
			rc = cli_fail();
			goto out;
		}
	} else {
		print_text(stdout, &in);
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fputs("barge: inspect: cannot write the report to stdout\n", stderr);
		rc = EXIT_FAILED;
	}
out:
	inspection_dispose(&in);
	return rc;
}
