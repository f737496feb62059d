#include "barge/barge.h"
#include "plan.h"
#include "harness.h"

#include <limits.h>

static int parse(struct barge_plan **p, const char *yaml)
{
	*p = NULL;
	return barge_plan_parse(p, yaml, strlen(yaml), "plan.yaml");
}

/* The plan must be refused with `code` and a message containing `want`. */
static void check_refused(const char *yaml, int code, const char *want)
{
	struct barge_plan *p = NULL;
	int rc = parse(&p, yaml);
	CHECK(rc == code);
	CHECK(p == NULL);
	if (!strstr(barge_error_last(), want)) {
		harness_fail++;
		fprintf(stderr, "message '%s' lacks '%s'\n", barge_error_last(),
			want);
	} else {
		harness_pass++;
	}
	barge_plan_free(p);
}

static const struct barge_plan_column *find_col(const struct barge_plan_table *t,
						 const char *name)
{
	for (size_t i = 0; i < t->ncolumns; i++)
		if (strcmp(t->columns[i].name, name) == 0)
			return &t->columns[i];
	return NULL;
}

static void test_full_plan(void)
{
	const char *yaml =
		"source: \"postgresql://u@h:5432/db?sslmode=require&x=1\"\n"
		"target: sqlite:new.db\n"
		"state: s.db\n"
		"defaults:\n"
		"  chunk_rows: 10\n"
		"  batch_rows: 20\n"
		"  jobs: 3\n"
		"  mode: replace\n"
		"  retries: 0\n"
		"  max_failures: 7\n"
		"  queue_depth: 8\n"
		"tables:\n"
		"  - name: a\n"
		"    target: b\n"
		"    key: [k1, k2]\n"
		"    where: \"x > 1\"\n"
		"    mode: truncate\n"
		"    chunk_rows: 11\n"
		"    batch_rows: 21\n"
		"    jobs: 4\n"
		"    retries: 2\n"
		"    max_failures: 9\n"
		"    queue_depth: 2\n"
		"    max_rejects: 0\n"
		"    columns:\n"
		"      c1: {to: d1, type: int64}\n"
		"      c2: {skip: yes}\n"
		"  - name: single\n"
		"    key: id\n"
		"  - plain\n";
	struct barge_plan *p = NULL;
	CHECK_OK(parse(&p, yaml));
	if (!p)
		return;
	CHECK_STR(p->source, "postgresql://u@h:5432/db?sslmode=require&x=1");
	CHECK_STR(p->target, "sqlite:new.db");
	CHECK_STR(p->state, "s.db");
	CHECK(p->path == NULL);
	CHECK(p->defaults.chunk_rows == 10 && p->defaults.batch_rows == 20);
	CHECK(p->defaults.jobs == 3 && p->defaults.mode == BARGE_MODE_REPLACE);
	CHECK(p->defaults.retries == 0 && p->defaults.max_failures == 7);
	CHECK(p->defaults.queue_depth == 8);
	CHECK(p->ntables == 3);
	if (p->ntables != 3)
		goto out;
	const struct barge_plan_table *a = &p->tables[0];
	CHECK_STR(a->name, "a");
	CHECK_STR(a->target, "b");
	CHECK(a->nkey == 2);
	if (a->nkey == 2) {
		CHECK_STR(a->key[0], "k1");
		CHECK_STR(a->key[1], "k2");
	}
	CHECK_STR(a->where, "x > 1");
	CHECK(a->settings.mode == BARGE_MODE_TRUNCATE);
	CHECK(a->settings.chunk_rows == 11 && a->settings.batch_rows == 21);
	CHECK(a->settings.jobs == 4 && a->settings.retries == 2);
	CHECK(a->settings.max_failures == 9 && a->settings.queue_depth == 2);
	CHECK_STR(a->max_rejects, "0");
	CHECK(a->max_reject_ratio == NULL && a->add == NULL);
	CHECK(a->ncolumns == 2);
	const struct barge_plan_column *c1 = find_col(a, "c1");
	const struct barge_plan_column *c2 = find_col(a, "c2");
	CHECK(c1 && c2);
	if (c1 && c2) {
		CHECK_STR(c1->to, "d1");
		CHECK_STR(c1->type, "int64");
		CHECK(!c1->skip);
		CHECK_STR(c1->options, "{to: d1, type: int64}");
		CHECK(c2->skip && c2->to == NULL && c2->type == NULL);
	}
	const struct barge_plan_table *s = &p->tables[1];
	CHECK_STR(s->name, "single");
	CHECK(s->nkey == 1 && s->key && strcmp(s->key[0], "id") == 0);
	CHECK(s->target == NULL && s->where == NULL && s->ncolumns == 0);
	CHECK(s->settings.chunk_rows == -1 && s->settings.mode == -1);
	CHECK_STR(p->tables[2].name, "plain");
out:
	barge_plan_free(p);
	barge_plan_free(NULL);
}

/* Verbatim from issue 5. */
static const char issue5[] =
	"source: sqlite:legacy.db\n"
	"target: sqlite:new.db\n"
	"state: migrate-state.db\n"
	"defaults: {chunk_rows: 10000, jobs: 2, mode: upsert}\n"
	"tables:\n"
	"  - name: customers              # source table\n"
	"    target: clients              # target table\n"
	"    key: [id]\n"
	"    where: \"signup >= '2015-01-01'\"\n"
	"    max_rejects: 1000            # or max_reject_ratio: 0.01\n"
	"    columns:\n"
	"      id:      {to: legacy_id}\n"
	"      name:    {to: full_name, transform: trim, rules: {required: true, max_length: 60}}\n"
	"      email:   {transform: lower, rules: {regex: '^[^@ ]+@[^@ ]+\\.[a-z]+$'}}\n"
	"      country: {default: 'US', rules: {in: [US, DE, FR, JP, BR]}}\n"
	"      signup:  {type: timestamp, timezone: {from: America/New_York, to: UTC}}\n"
	"      balance: {type: decimal(14,2), round: 2, rules: {min: 0}}\n"
	"      active:  {map: {'Y': true, 'N': false}, type: bool}\n"
	"      fax:     {skip: true}\n"
	"    add:\n"
	"      id:      {uuid_v5: {namespace: 6ba7b811-9dad-11d1-80b4-00c04fd430c8, from: id}}\n"
	"  - name: orders\n"
	"    columns:\n"
	"      customer_id: {references: customers.id}\n";

static void test_issue5(void)
{
	struct barge_plan *p = NULL;
	CHECK_OK(parse(&p, issue5));
	if (!p)
		return;
	CHECK(p->defaults.chunk_rows == 10000 && p->defaults.jobs == 2);
	CHECK(p->defaults.mode == BARGE_MODE_UPSERT);
	CHECK(p->defaults.batch_rows == -1);
	CHECK_STR(p->state, "migrate-state.db");
	CHECK(p->ntables == 2);
	if (p->ntables != 2)
		goto out;
	const struct barge_plan_table *t = &p->tables[0];
	CHECK_STR(t->where, "signup >= '2015-01-01'");
	CHECK_STR(t->max_rejects, "1000");
	CHECK_STR(t->add, "{id: {uuid_v5: {namespace: 6ba7b811-9dad-11d1-80b4-00c04fd430c8, from: id}}}");
	CHECK(t->ncolumns == 8);
	const struct barge_plan_column *c;
	if ((c = find_col(t, "name"))) {
		CHECK_STR(c->to, "full_name");
		CHECK_STR(c->options, "{to: full_name, transform: trim, rules: {required: true, max_length: 60}}");
	} else
		CHECK(!"column name");
	if ((c = find_col(t, "email")))
		CHECK_STR(c->options, "{transform: lower, rules: {regex: '^[^@ ]+@[^@ ]+\\.[a-z]+$'}}");
	else
		CHECK(!"column email");
	if ((c = find_col(t, "country")))
		CHECK_STR(c->options, "{default: 'US', rules: {in: [US, DE, FR, JP, BR]}}");
	else
		CHECK(!"column country");
	if ((c = find_col(t, "balance"))) {
		CHECK_STR(c->type, "decimal(14,2)");
		/* decimal(14,2) has a comma: it must be quoted in flow text */
		CHECK_STR(c->options, "{type: 'decimal(14,2)', round: 2, rules: {min: 0}}");
	} else
		CHECK(!"column balance");
	if ((c = find_col(t, "active"))) {
		CHECK_STR(c->type, "bool");
		CHECK_STR(c->options, "{map: {'Y': true, 'N': false}, type: bool}");
	} else
		CHECK(!"column active");
	if ((c = find_col(t, "fax")))
		CHECK(c->skip && c->to == NULL);
	else
		CHECK(!"column fax");
	t = &p->tables[1];
	CHECK_STR(t->name, "orders");
	if ((c = find_col(t, "customer_id")))
		CHECK_STR(c->options, "{references: customers.id}");
	else
		CHECK(!"column customer_id");

	/* the options text is itself a plan fragment libyaml reads back */
	char again[4096];
	snprintf(again, sizeof again,
		 "source: a\ntarget: b\ntables:\n  - name: t\n    columns:\n      x: %s\n",
		 find_col(&p->tables[0], "email")->options);
	struct barge_plan *q = NULL;
	CHECK_OK(parse(&q, again));
	if (q && q->ntables == 1 && q->tables[0].ncolumns == 1)
		CHECK_STR(q->tables[0].columns[0].options,
			  find_col(&p->tables[0], "email")->options);
	else
		CHECK(!"options re-parse");
	barge_plan_free(q);
out:
	barge_plan_free(p);
}

static void test_settings(void)
{
	struct barge_settings b, d, t;
	barge_settings_builtin(&b);
	CHECK(b.chunk_rows == 0 && b.batch_rows == 2000 && b.jobs == 1); /* 0 = auto */
	CHECK(b.mode == BARGE_MODE_INSERT && b.retries == 5);
	CHECK(b.max_failures == 5 && b.queue_depth == 4);
	barge_settings_unset(&t);
	CHECK(t.chunk_rows == -1 && t.batch_rows == -1 && t.jobs == -1);
	CHECK(t.mode == -1 && t.retries == -1 && t.max_failures == -1);
	CHECK(t.queue_depth == -1);

	/* table -> defaults -> built-in: the nearest set value wins */
	struct barge_plan *p = NULL;
	CHECK_OK(parse(&p, "source: a\ntarget: b\n"
			   "defaults: {chunk_rows: 100, mode: upsert, retries: 0}\n"
			   "tables:\n  - {name: t, chunk_rows: 7, jobs: 3}\n"));
	if (!p || p->ntables != 1) {
		CHECK(!"inheritance plan");
		barge_plan_free(p);
		return;
	}
	d = p->defaults;
	t = p->tables[0].settings;
	barge_settings_inherit(&d, &b);
	barge_settings_inherit(&t, &d);
	CHECK(t.chunk_rows == 7 && t.jobs == 3);
	CHECK(t.mode == BARGE_MODE_UPSERT && t.retries == 0);
	CHECK(t.batch_rows == 2000 && t.max_failures == 5 && t.queue_depth == 4);
	CHECK(d.chunk_rows == 100 && d.jobs == 1);
	barge_plan_free(p);

	/* chunk_rows: auto (0) overrides a number below it */
	CHECK_OK(parse(&p, "source: a\ntarget: b\n"
			   "defaults: {chunk_rows: 100}\n"
			   "tables:\n  - {name: t, chunk_rows: auto}\n"));
	if (p && p->ntables == 1) {
		t = p->tables[0].settings;
		barge_settings_inherit(&t, &p->defaults);
		CHECK(t.chunk_rows == 0);
	} else {
		CHECK(!"auto plan");
	}
	barge_plan_free(p);

	int m = -1;
	CHECK_OK(barge_mode_parse(&m, "truncate"));
	CHECK(m == BARGE_MODE_TRUNCATE);
	CHECK(barge_mode_parse(&m, "Insert") == BARGE_EUSAGE);
	CHECK_STR(barge_mode_name(BARGE_MODE_UPSERT), "upsert");
	CHECK_STR(barge_mode_name(99), "?");
}

static void test_errors(void)
{
	check_refused("source: a\ntarget: b\ntables:\n"
		      "  - name: orders\n"
		      "    key: [id]\n"
		      "    chunkrows: 5\n",
		      BARGE_EUSAGE, "plan.yaml:6: unknown key 'chunkrows' in table 'orders'");
	check_refused("source: a\ntarget: b\nsorce: c\n", BARGE_EUSAGE,
		      "plan.yaml:3: unknown key 'sorce'");
	check_refused("source: a\ntarget: b\ndefaults:\n  mode: merge\n",
		      BARGE_EUSAGE, "plan.yaml:4: unknown mode 'merge' in defaults");
	check_refused("source: a\ntarget: b\ntables:\n  - name: t\n    chunk_rows: -5\n",
		      BARGE_EUSAGE,
		      "plan.yaml:5: chunk_rows in table 't' must be a whole number of at least 1, not '-5'");
	check_refused("source: a\ntarget: b\ndefaults: {jobs: 0}\n", BARGE_EUSAGE,
		      "plan.yaml:3: jobs in defaults must be a whole number");
	check_refused("source: a\ntarget: b\ndefaults: {batch_rows: 1.5}\n",
		      BARGE_EUSAGE, "batch_rows in defaults must be a whole number");
	check_refused("source: a\ntarget: b\ndefaults: {jobs: 99999999999}\n",
		      BARGE_EUSAGE, "jobs in defaults must be a whole number");
	check_refused("source: a\ntables: []\n", BARGE_EUSAGE,
		      "plan.yaml:1: the plan has no 'target'");
	check_refused("target: a\n", BARGE_EUSAGE, "has no 'source'");
	check_refused("source: a\ntarget: [b\n", BARGE_EUSAGE,
		      "plan.yaml:3: malformed YAML");
	check_refused("source: a\n  target: b\n", BARGE_EUSAGE,
		      "plan.yaml:2: malformed YAML");
	check_refused("", BARGE_EUSAGE, "plan.yaml: the plan is empty");
	check_refused("- a\n- b\n", BARGE_EUSAGE, "the plan must be a mapping");
	check_refused("source: a\ntarget: b\nsource: c\n", BARGE_EUSAGE,
		      "plan.yaml:3: duplicate key 'source'");
	check_refused("source: a\ntarget: b\ntables:\n  - key: [id]\n",
		      BARGE_EUSAGE, "plan.yaml:4: table entry has no 'name'");
	check_refused("source: a\ntarget: b\ntables:\n  - name: t\n  - name: t\n",
		      BARGE_EUSAGE, "plan.yaml:5: table 't' is listed twice");
	check_refused("source: a\ntarget: b\ntables:\n  - name: t\n    columns:\n      x: y\n",
		      BARGE_EUSAGE, "plan.yaml:6: column 'x' in table 't' must be a mapping");
	check_refused("source: a\ntarget: b\ntables:\n  - name: t\n    columns: {x: {skip: maybe}}\n",
		      BARGE_EUSAGE, "'skip' of column 'x' in table 't' must be true or false");
	check_refused("source: a\ntarget: b\ntables:\n  - name: t\n    max_reject_ratio: 2\n",
		      BARGE_EUSAGE, "max_reject_ratio in table 't' must be a number from 0 to 1");
	check_refused("source: a\ntarget: b\ntables:\n  - name: t\n    key: []\n",
		      BARGE_EUSAGE, "key in table 't' names no column");
	check_refused("source: a\ntarget: b\n---\nsource: c\n", BARGE_EUSAGE,
		      "plan.yaml:3: a second YAML document");

	char path[1024];
	harness_path(path, sizeof path, "no-such-plan.yaml");
	struct barge_plan *p = NULL;
	CHECK(barge_plan_load(&p, path) == BARGE_ENOTFOUND);
	CHECK(p == NULL);
	CHECK(strstr(barge_error_last(), "no-such-plan.yaml") != NULL);
}

static void test_load(void)
{
	char path[1024];
	harness_path(path, sizeof path, "issue5.yaml");
	FILE *f = fopen(path, "w");
	CHECK(f != NULL);
	if (!f)
		return;
	fputs(issue5, f);
	fclose(f);
	struct barge_plan *p = NULL;
	CHECK_OK(barge_plan_load(&p, path));
	if (p) {
		CHECK_STR(p->path, path);
		CHECK(p->ntables == 2);
	}
	barge_plan_free(p);

	/* messages name the file they came from */
	f = fopen(path, "w");
	if (!f)
		return;
	fputs("source: a\ntarget: b\nbogus: 1\n", f);
	fclose(f);
	p = NULL;
	CHECK(barge_plan_load(&p, path) == BARGE_EUSAGE);
	char want[1100];
	snprintf(want, sizeof want, "%s:3: unknown key 'bogus'", path);
	CHECK(strstr(barge_error_last(), want) != NULL);
}

/* ---- Table definitions for emit and fk order ---------------------------- */

static struct barge_table_def *mk_table(const char *name, const char *cols,
					const char *key)
{
	struct barge_table_def *t = calloc(1, sizeof *t);
	t->name = strdup(name);
	t->rows = -1;
	t->has_rowid = 1;
	/* cols: '|'-separated names */
	char buf[512];
	snprintf(buf, sizeof buf, "%s", cols);
	size_t n = 1;
	for (char *p = buf; *p; p++)
		n += *p == '|';
	t->cols = calloc(n, sizeof *t->cols);
	char *save = NULL;
	for (char *s = strtok_r(buf, "|", &save); s; s = strtok_r(NULL, "|", &save)) {
		struct barge_column_def *c = &t->cols[t->ncols++];
		c->name = strdup(s);
		c->engine_type = strdup("TEXT");
		c->type = BARGE_T_TEXT;
		c->scale = -1;
	}
	if (key) {
		int k = barge_table_def_find(t, key);
		t->key = malloc(sizeof *t->key);
		t->key[0] = (size_t)k;
		t->nkey = 1;
		t->cols[k].key_pos = 1;
		t->cols[k].notnull = 1;
		t->cols[k].engine_type[0] = 'I'; /* any text will do */
	}
	return t;
}

static void add_fk(struct barge_table_def *t, const char *ref)
{
	t->fks = realloc(t->fks, (t->nfks + 1) * sizeof *t->fks);
	struct barge_fk_def *f = &t->fks[t->nfks++];
	f->ncols = 1;
	f->cols = malloc(sizeof *f->cols);
	f->cols[0] = strdup("ref");
	f->ref_cols = malloc(sizeof *f->ref_cols);
	f->ref_cols[0] = strdup("id");
	f->ref_table = strdup(ref);
}

static void test_emit_round_trip(void)
{
	const char *names[] = {"plain", "with space", "it's \"quoted\"",
			       "colon: hash #x", "- dash", "yes", "123",
			       "ünïcødé", "tab\there", "new\nline"};
	size_t n = sizeof names / sizeof names[0];
	struct barge_table_def *t[16] = {0};
	for (size_t i = 0; i < n; i++) {
		char cols[256];
		snprintf(cols, sizeof cols, "id|%s|[odd]", names[i]);
		t[i] = mk_table(names[i], cols, i % 3 == 2 ? NULL : "id");
		t[i]->rows = (int64_t)i * 10;
	}
	barge_table_def_warn(t[0], "no key\nsecond line: not a comment break");
	t[2]->has_rowid = 0;

	const char *src = "sqlite:///tmp/a b.db?mode=ro&cache=shared";
	const char *dst = "postgresql://u@h:5432/db";
	char *yaml = NULL;
	CHECK_OK(barge_plan_emit(&yaml, src, dst,
				 (const struct barge_table_def *const *)t, n));
	struct barge_plan *p = NULL;
	if (yaml) {
		CHECK(strstr(yaml, "# warning: no key second line") != NULL);
		CHECK(strstr(yaml, "chunked by rowid") != NULL);
		CHECK(strstr(yaml, "copied as one chunk") != NULL);
		CHECK(strstr(yaml, "# 20 rows") != NULL);
		CHECK(strstr(yaml, "# target: \"with space\"") != NULL);
		CHECK_OK(parse(&p, yaml));
	}
	if (!p) {
		fprintf(stderr, "%s\n", yaml ? yaml : "(no yaml)");
		free(yaml);
		for (size_t i = 0; i < n; i++)
			barge_table_def_free(t[i]);
		return;
	}
	CHECK_STR(p->source, src);
	CHECK_STR(p->target, dst);
	CHECK_STR(p->state, "barge-state.db");
	struct barge_settings b;
	barge_settings_builtin(&b);
	CHECK(memcmp(&b, &p->defaults, sizeof b) == 0);
	CHECK(p->ntables == n);
	for (size_t i = 0; i < n && i < p->ntables; i++) {
		const struct barge_plan_table *pt = &p->tables[i];
		CHECK_STR(pt->name, names[i]);
		CHECK(pt->target == NULL);
		if (i % 3 == 2) {
			CHECK(pt->nkey == 0);
		} else {
			CHECK(pt->nkey == 1 && strcmp(pt->key[0], "id") == 0);
		}
		CHECK(pt->ncolumns == 3);
		if (pt->ncolumns == 3) {
			CHECK_STR(pt->columns[1].name, names[i]);
			CHECK_STR(pt->columns[2].name, "[odd]");
			CHECK(pt->columns[1].options == NULL);
		}
		CHECK(pt->settings.mode == -1);
	}
	barge_plan_free(p);
	free(yaml);

	/* no tables at all still parses */
	CHECK_OK(barge_plan_emit(&yaml, "sqlite:a.db", "sqlite:b.db", NULL, 0));
	p = NULL;
	if (yaml)
		CHECK_OK(parse(&p, yaml));
	CHECK(p && p->ntables == 0);
	barge_plan_free(p);
	free(yaml);

	/* a name YAML cannot carry is refused, not mangled */
	char bad[] = {'b', (char)0xff, 'd', 0};
	free(t[0]->name);
	t[0]->name = strdup(bad);
	yaml = NULL;
	CHECK(barge_plan_emit(&yaml, "sqlite:a.db", "sqlite:b.db",
			      (const struct barge_table_def *const *)t, 1) == BARGE_EDATA);
	CHECK(yaml == NULL);
	t[0]->name[0] = '\0';
	CHECK(barge_plan_emit(&yaml, "sqlite:a.db", "sqlite:b.db",
			      (const struct barge_table_def *const *)t, 1) == BARGE_EDATA);
	CHECK(strstr(barge_error_last(), "empty name") != NULL);
	for (size_t i = 0; i < n; i++)
		barge_table_def_free(t[i]);
}

static size_t pos_of(const size_t *order, size_t n, size_t idx)
{
	for (size_t i = 0; i < n; i++)
		if (order[i] == idx)
			return i;
	return (size_t)-1;
}

static void test_fk_order(void)
{
	/* 3 levels, given children first: items -> orders -> customers;
	 * items also refers to products; customers refers to itself and to
	 * a table outside the set. */
	struct barge_table_def *t[8] = {0};
	t[0] = mk_table("order_items", "id|ref", "id");
	t[1] = mk_table("orders", "id|ref", "id");
	t[2] = mk_table("customers", "id|ref", "id");
	t[3] = mk_table("products", "id", "id");
	t[4] = mk_table("audit", "id", NULL);
	add_fk(t[0], "orders");
	add_fk(t[0], "products");
	add_fk(t[1], "customers");
	add_fk(t[2], "customers");       /* self-reference */
	add_fk(t[2], "elsewhere");       /* outside the set */
	add_fk(t[1], "CUSTOMERS");       /* SQLite matches names without case */
	size_t order[8];
	char *cycles = (char *)"untouched";
	CHECK_OK(barge_fk_order(order, (const struct barge_table_def *const *)t,
				5, &cycles));
	CHECK(cycles == NULL);
	/* ready ones by name: audit, customers, orders, products, order_items */
	size_t want[] = {4, 2, 1, 3, 0};
	CHECK(memcmp(order, want, sizeof want) == 0);
	CHECK(pos_of(order, 5, 2) < pos_of(order, 5, 1));
	CHECK(pos_of(order, 5, 1) < pos_of(order, 5, 0));

	/* a cycle a -> b -> a, a child of the cycle, and an independent z */
	struct barge_table_def *u[4] = {0};
	u[0] = mk_table("z", "id", "id");
	u[1] = mk_table("b", "id|ref", "id");
	u[2] = mk_table("child", "id|ref", "id");
	u[3] = mk_table("a", "id|ref", "id");
	add_fk(u[3], "b");
	add_fk(u[1], "a");
	add_fk(u[2], "b");
	CHECK_OK(barge_fk_order(order, (const struct barge_table_def *const *)u,
				4, &cycles));
	/* the cycle's tables together in name order, then its child, then z */
	size_t want2[] = {3, 1, 2, 0};
	CHECK(memcmp(order, want2, sizeof want2) == 0);
	CHECK_STR(cycles, "cycle: a -> b -> a");
	free(cycles);

	/* two cycles, one of three tables */
	struct barge_table_def *v[5] = {0};
	v[0] = mk_table("p", "id|ref", "id");
	v[1] = mk_table("q", "id|ref", "id");
	v[2] = mk_table("r", "id|ref", "id");
	v[3] = mk_table("x", "id|ref", "id");
	v[4] = mk_table("y", "id|ref", "id");
	add_fk(v[0], "r");
	add_fk(v[2], "q");
	add_fk(v[1], "p");
	add_fk(v[3], "y");
	add_fk(v[4], "x");
	CHECK_OK(barge_fk_order(order, (const struct barge_table_def *const *)v,
				5, &cycles));
	size_t want3[] = {0, 1, 2, 3, 4};
	CHECK(memcmp(order, want3, sizeof want3) == 0);
	CHECK_STR(cycles, "cycle: p -> r -> q -> p; cycle: x -> y -> x");
	free(cycles);

	cycles = (char *)"untouched";
	CHECK_OK(barge_fk_order(order, NULL, 0, &cycles));
	CHECK(cycles == NULL);

	for (size_t i = 0; i < 8; i++)
		barge_table_def_free(t[i]);
	for (size_t i = 0; i < 4; i++)
		barge_table_def_free(u[i]);
	for (size_t i = 0; i < 5; i++)
		barge_table_def_free(v[i]);
}

/* Every prefix and single-byte corruption of a good plan is parsed or
 * refused with a message: never a crash, never a half-built plan. */
static void test_garbage(void)
{
	size_t n = strlen(issue5);
	char *buf = malloc(n + 1);
	int refused = 0, parsed = 0, bad = 0;
	for (size_t cut = 0; cut <= n; cut++) {
		for (int flip = 0; flip < 2; flip++) {
			memcpy(buf, issue5, n + 1);
			if (flip && cut < n)
				buf[cut] = "{:[-,'\"&*!#\t"[cut % 13];
			struct barge_plan *p = NULL;
			int rc = barge_plan_parse(&p, buf, flip ? n : cut, "g.yaml");
			if (rc == 0 && p)
				parsed++;
			else if (rc == BARGE_EUSAGE && !p &&
				 strncmp(barge_error_last(), "g.yaml", 6) == 0)
				refused++;
			else
				bad++;
			barge_plan_free(p);
		}
	}
	free(buf);
	CHECK(bad == 0);
	CHECK(parsed > 0 && refused > 0);

	/* aliases, tags and a self-referencing anchor */
	struct barge_plan *p = NULL;
	CHECK_OK(parse(&p, "source: &s sqlite:a.db\ntarget: *s\n"
			   "tables:\n  - name: !!str t\n    columns: {c: &o {to: d}, e: *o}\n"));
	if (p && p->ntables == 1 && p->tables[0].ncolumns == 2) {
		CHECK_STR(p->target, "sqlite:a.db");
		CHECK_STR(p->tables[0].columns[1].to, "d");
	} else
		CHECK(!"alias plan");
	barge_plan_free(p);
	p = NULL;
	int rc = parse(&p, "source: a\ntarget: b\ntables:\n  - name: t\n"
			   "    columns: {c: &x {to: d, more: *x}}\n");
	CHECK(rc == 0 || rc == BARGE_EUSAGE);
	barge_plan_free(p);
}

int main(void)
{
	test_full_plan();
	test_issue5();
	test_settings();
	test_errors();
	test_load();
	test_emit_round_trip();
	test_fk_order();
	test_garbage();
	return harness_done();
}
