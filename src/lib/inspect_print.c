/*
 * The inspection's report, as text and as JSON (include/barge/inspect.h).
 * It lives in the library, not the CLI, for the same reason as verify's
 * JSON report: the JSON is a contract other programs read, so any program
 * using libbarge gets exactly the document `barge inspect --format json`
 * prints; the text form comes along so the two stay side by side.
 */
#include "barge/barge.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON_MAX_BYTES (512u << 20)

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

void barge_inspection_print_text(FILE *f, const struct barge_inspection *in)
{
	fputs("source: ", f);
	put_text(f, in->source, 0);
	fprintf(f, " (%s, %zu table%s)\n", in->driver, in->ntables,
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
	if (!in->typemap)
		return;
	size_t n = in->ntypemap;
	const struct barge_typemap *m = in->typemap;
	int w = 11;
	for (size_t i = 0; i < n; i++)
		if (text_width(m[i].engine) > w)
			w = text_width(m[i].engine);
	fprintf(f, "\ntype mapping (%s):\n", in->driver);
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

int barge_inspection_report_json(char **out, const struct barge_inspection *in)
{
	struct barge_buf b;
	barge_buf_init(&b, JSON_MAX_BYTES);
	barge_buf_adds(&b, "{\"source\":");
	json_str(&b, in->source);
	barge_buf_adds(&b, ",\"driver\":");
	json_str(&b, in->driver);
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
	size_t n = in->ntypemap;
	const struct barge_typemap *m = in->typemap;
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
	return barge_buf_detach(&b, out);
}
